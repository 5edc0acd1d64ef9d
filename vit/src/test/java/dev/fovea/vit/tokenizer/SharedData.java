package dev.fovea.vit.tokenizer;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The shared test data folder ({@code ../shared/data}, from the system property {@code
 * fovea.shared} that the parent pom sets, else {@code ../shared} next to the repository). Tests that
 * need it skip, saying so, when it is absent.
 */
public final class SharedData {
  private SharedData() {}

  /** {@code <shared>/data/tokenizers/<relative>}; skips the calling test if it does not exist. */
  public static Path tokenizerFile(String relative) {
    Path base = root();
    assumeTrue(base != null, "../shared/data absent: set -Dfovea.shared=<folder holding data/> to run the real-vocabulary tests");
    Path p = base.resolve("data/tokenizers").resolve(relative);
    assumeTrue(Files.exists(p), "../shared/data absent: " + p + " not found");
    return p;
  }

  /** {@code <shared>/data/images/<name>}; skips the calling test if it does not exist. */
  public static Path imageFile(String name) {
    Path base = root();
    assumeTrue(base != null, "../shared/data absent: set -Dfovea.shared=<folder holding data/> to run the tests on real images");
    Path p = base.resolve("data/images").resolve(name);
    assumeTrue(Files.exists(p), "../shared/data absent: " + p + " not found");
    return p;
  }

  static Path root() {
    String prop = System.getProperty("fovea.shared");
    List<Path> candidates = new ArrayList<>();
    if (prop != null && !prop.isBlank()) {
      candidates.add(Path.of(prop));
    }
    candidates.add(Path.of("../shared")); // run from the repository root
    candidates.add(Path.of("../../shared")); // run from a module folder
    for (Path c : candidates) {
      if (Files.isDirectory(c.resolve("data"))) {
        return c.toAbsolutePath().normalize();
      }
    }
    return null;
  }

  /** One llama.cpp vocabulary case: input text and expected ids. */
  public record Case(String text, int[] ids) {
    @Override
    public String toString() {
      return "\"" + text.replace("\n", "\\n").replace("\t", "\\t") + "\" -> " + Arrays.toString(ids);
    }
  }

  /**
   * llama.cpp's {@code test-tokenizer-0} case files: {@code .inp} holds the cases, each followed by
   * {@code \n__ggml_vocab_test__\n}; {@code .out} one line of space-preceded ids per case.
   */
  public static List<Case> llamaCppCases(Path inp, Path out) {
    try {
      String in = Files.readString(inp, StandardCharsets.UTF_8);
      String sep = "\n__ggml_vocab_test__\n";
      List<String> texts = new ArrayList<>(Arrays.asList(in.split(sep, -1)));
      if (!texts.isEmpty() && texts.getLast().isEmpty()) {
        texts.removeLast();
      }
      List<String> lines = Files.readAllLines(out, StandardCharsets.UTF_8);
      if (texts.size() != lines.size()) {
        throw new IllegalStateException(inp + " has " + texts.size() + " cases but " + out + " has " + lines.size() + " lines");
      }
      List<Case> cases = new ArrayList<>();
      for (int i = 0; i < texts.size(); i++) {
        String l = lines.get(i).trim();
        int[] ids = l.isEmpty() ? new int[0] : Arrays.stream(l.split(" +")).mapToInt(Integer::parseInt).toArray();
        cases.add(new Case(texts.get(i), ids));
      }
      return cases;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
