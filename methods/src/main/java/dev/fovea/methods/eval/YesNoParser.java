package dev.fovea.methods.eval;

import java.util.Locale;
import java.util.Set;

/**
 * The ways the reference scripts turn a free answer into yes or no (methods spec 4.1 and 4.4). They
 * differ on real answers ("NO", "isn't", "nothing", "Yes. There is no dog."), so the published numbers
 * are only comparable under the same parser. Each works on the answer as given; the evaluation strips
 * white space around it first, as every reference script does.
 */
public enum YesNoParser {
  /**
   * POPE's own, as LLaVA's {@code eval_pope.py} has it: keep the text before the first {@code .}, drop
   * {@code ,}, split on single spaces; no when a word is exactly {@code No}, {@code not} or {@code no}
   * (case matters: {@code NO} and {@code Nothing} read yes), else yes.
   */
  POPE("pope") {
    @Override
    public YesNo parse(String answer, YesNo label) {
      int dot = answer.indexOf('.');
      String text = dot >= 0 ? answer.substring(0, dot) : answer;
      return anyWord(text.replace(",", ""), POPE_NO, false) ? YesNo.NO : YesNo.YES;
    }
  },
  /**
   * VCD's {@code eval_pope.py}: lowercase; for a yes label the answer is yes when it contains the
   * substring {@code yes}, else no; for a no label it is no when it contains {@code no}, else yes. So
   * "not", "nothing", "know" and "none" all read no when the label is no, and "yes, no" reads right
   * either way. Needs the label.
   */
  VCD("vcd") {
    @Override
    public YesNo parse(String answer, YesNo label) {
      if (label == null || label == YesNo.OTHER) {
        throw new IllegalArgumentException("the vcd parser needs the yes/no label");
      }
      String a = answer.toLowerCase(Locale.ROOT).strip();
      if (label == YesNo.YES) {
        return a.contains("yes") ? YesNo.YES : YesNo.NO;
      }
      return a.contains("no") ? YesNo.NO : YesNo.YES;
    }
  },
  /**
   * AvisC's {@code recorder}: drop every {@code .} and {@code ,} (no first-sentence cut), split on
   * single spaces; no when a word is {@code No}, {@code not}, {@code no} or {@code NO}, or ends with
   * {@code n't} (ASCII apostrophe), else yes.
   */
  AVISC("avisc") {
    @Override
    public YesNo parse(String answer, YesNo label) {
      return anyWord(answer.replace(".", "").replace(",", ""), AVISC_NO, true) ? YesNo.NO : YesNo.YES;
    }
  },
  /**
   * MME's {@code calculation.py} (spec 4.4): lowercase; exactly {@code yes} or {@code no} is kept;
   * otherwise the first four characters decide: containing {@code yes}, yes; else containing {@code no},
   * no; else {@link YesNo#OTHER}, which counts as wrong.
   */
  MME("mme") {
    @Override
    public YesNo parse(String answer, YesNo label) {
      String a = answer.toLowerCase(Locale.ROOT);
      if (a.equals("yes")) {
        return YesNo.YES;
      }
      if (a.equals("no")) {
        return YesNo.NO;
      }
      String prefix = a.substring(0, a.offsetByCodePoints(0, Math.min(4, a.codePointCount(0, a.length()))));
      return prefix.contains("yes") ? YesNo.YES : prefix.contains("no") ? YesNo.NO : YesNo.OTHER;
    }
  };

  private static final Set<String> POPE_NO = Set.of("No", "not", "no");
  private static final Set<String> AVISC_NO = Set.of("No", "not", "no", "NO");

  /** The option name: {@code pope}, {@code vcd}, {@code avisc}, {@code mme}. */
  public final String cliName;

  YesNoParser(String cliName) {
    this.cliName = cliName;
  }

  /**
   * Yes or no for {@code answer} (MME's parser may also say {@link YesNo#OTHER}).
   *
   * @param label the ground truth; only {@link #VCD} reads it (it may be null for the others)
   */
  public abstract YesNo parse(String answer, YesNo label);

  /** By option name, case-insensitive. */
  public static YesNoParser named(String name) {
    for (YesNoParser p : values()) {
      if (p.cliName.equalsIgnoreCase(name)) {
        return p;
      }
    }
    throw new IllegalArgumentException("unknown parser \"" + name + "\"; known: pope, vcd, avisc, mme");
  }

  /** Python's {@code any(w in words for w in text.split(' '))}, optionally with words ending in n't. */
  private static boolean anyWord(String text, Set<String> no, boolean nt) {
    for (String w : text.split(" ", -1)) {
      if (no.contains(w) || (nt && w.endsWith("n't"))) {
        return true;
      }
    }
    return false;
  }
}
