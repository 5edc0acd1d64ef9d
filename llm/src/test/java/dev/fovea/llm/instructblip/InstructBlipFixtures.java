package dev.fovea.llm.instructblip;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fovea.llm.llama.LlamaFixtures;
import dev.fovea.tensor.WeightSource;
import dev.fovea.tensor.io.WeightFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Path;

/** The checked-in tiny InstructBLIP of tools/reference/instructblip/make_instructblip_reference.py and its reference outputs. */
final class InstructBlipFixtures {
  private InstructBlipFixtures() {}

  static Path dir() {
    try {
      return Path.of(InstructBlipFixtures.class.getResource("/instructblip-reference/tiny/config.json").toURI()).getParent();
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  static WeightSource reference() {
    return WeightFiles.open(dir().resolve("reference.safetensors"));
  }

  static JsonNode meta() {
    try {
      return new ObjectMapper().readTree(dir().resolve("reference.json").toFile());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static int[] ints(WeightSource ref, String name) {
    return LlamaFixtures.ints(ref, name);
  }

  /** max |a - b| / max(1, |b|) elementwise. */
  static double maxRelErr(float[] a, float[] b) {
    return LlamaFixtures.maxRelErr(a, b);
  }

  static double maxAbsErr(float[] a, float[] b) {
    return LlamaFixtures.maxAbsErr(a, b);
  }
}
