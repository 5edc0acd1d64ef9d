package dev.fovea.llm.generate;

import java.util.List;

/**
 * @param maxNewTokens the most tokens generated (EOS and stop strings end earlier)
 * @param stopStrings generation ends when the decoded text contains one; the text is cut before it
 * @param stopAtEos end at the model's EOS ids (not part of the text)
 */
public record GenerationConfig(int maxNewTokens, List<String> stopStrings, boolean stopAtEos) {
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
    return new GenerationConfig(n, List.of(), true);
  }

  public GenerationConfig withStopStrings(List<String> s) {
    return new GenerationConfig(maxNewTokens, s, stopAtEos);
  }

  public GenerationConfig withStopAtEos(boolean on) {
    return new GenerationConfig(maxNewTokens, stopStrings, on);
  }
}
