package dev.fovea.llm.generate;

import java.util.List;

/**
 * @param maxNewTokens the most tokens generated (EOS and stop strings end earlier)
 * @param stopStrings generation ends when the decoded text contains one; the text is cut before it
 * @param stopAtEos end at the model's EOS ids (not part of the text)
 * @param batchBranches run several branches of one model and one prompt length as one batch (one
 *     forward per step for all of them, see {@link Lockstep}); off: one after the other
 */
public record GenerationConfig(int maxNewTokens, List<String> stopStrings, boolean stopAtEos, boolean batchBranches) {
  public GenerationConfig {
    if (maxNewTokens < 1) {
      throw new IllegalArgumentException("--max-new-tokens must be >= 1, got " + maxNewTokens);
    }
    stopStrings = List.copyOf(stopStrings);
    for (String s : stopStrings) {
      if (s.isEmpty()) {
        throw new IllegalArgumentException("stop strings must not be empty");
      }
    }
  }

  public static GenerationConfig maxNewTokens(int n) {
    return new GenerationConfig(n, List.of(), true, true);
  }

  public GenerationConfig withStopStrings(List<String> s) {
    return new GenerationConfig(maxNewTokens, s, stopAtEos, batchBranches);
  }

  public GenerationConfig withStopAtEos(boolean on) {
    return new GenerationConfig(maxNewTokens, stopStrings, on, batchBranches);
  }

  public GenerationConfig withBatchBranches(boolean on) {
    return new GenerationConfig(maxNewTokens, stopStrings, stopAtEos, on);
  }
}
