package dev.fovea.methods.eval;

/**
 * What the evaluation appends to a benchmark question before the conversation template (methods spec
 * 4.1, 4.6). The variant changes the numbers: fix one per experiment.
 */
public enum PromptVariant {
  /** VCD's and AGLA's POPE prompt. */
  VCD("vcd", " Please answer this question with one word."),
  /** The question as the benchmark has it (AvisC's POPE; MME's questions already ask for yes or no). */
  RAW("raw", ""),
  /** LLaVA-1.5's short-answer prompt (ViCrop's POPE, LLaVA's own evaluations). */
  LLAVA("llava", " Answer the question using a single word or phrase.");

  /** The option name: {@code vcd}, {@code raw}, {@code llava}. */
  public final String cliName;

  /** The text appended to the question. */
  public final String suffix;

  PromptVariant(String cliName, String suffix) {
    this.cliName = cliName;
    this.suffix = suffix;
  }

  /** The question with this variant's suffix. */
  public String apply(String question) {
    return question + suffix;
  }

  /** By option name, case-insensitive. */
  public static PromptVariant named(String name) {
    for (PromptVariant p : values()) {
      if (p.cliName.equalsIgnoreCase(name)) {
        return p;
      }
    }
    throw new IllegalArgumentException("unknown prompt variant \"" + name + "\"; known: vcd, raw, llava");
  }
}
