package dev.fovea.llm.llava;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fovea.tensor.WeightSource;
import dev.fovea.tensor.io.WeightFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The checked-in tiny LLaVA of tools/reference/llava/make_llava_reference.py and its reference outputs. */
final class LlavaFixtures {
  private LlavaFixtures() {}

  static Path dir() {
    try {
      return Path.of(LlavaFixtures.class.getResource("/llava-reference/tiny/config.json").toURI()).getParent();
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

  static byte[] configJson() {
    try {
      return Files.readAllBytes(dir().resolve("config.json"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static int[] ints(WeightSource ref, String name) {
    long[] v = ref.get(name).toLongArray();
    int[] r = new int[v.length];
    for (int i = 0; i < v.length; i++) {
      r[i] = (int) v[i];
    }
    return r;
  }

  /** max |a - b| / max(1, |b|) elementwise. */
  static double maxRelErr(float[] a, float[] b) {
    if (a.length != b.length) {
      throw new AssertionError("lengths differ: " + a.length + " vs " + b.length);
    }
    double m = 0;
    for (int i = 0; i < a.length; i++) {
      m = Math.max(m, Math.abs(a[i] - b[i]) / Math.max(1.0, Math.abs(b[i])));
    }
    return m;
  }

  static double maxAbsErr(float[] a, float[] b) {
    if (a.length != b.length) {
      throw new AssertionError("lengths differ: " + a.length + " vs " + b.length);
    }
    double m = 0;
    for (int i = 0; i < a.length; i++) {
      m = Math.max(m, Math.abs(a[i] - b[i]));
    }
    return m;
  }

  static double maxAbs(float[] a) {
    double m = 0;
    for (float x : a) {
      m = Math.max(m, Math.abs(x));
    }
    return m;
  }
}
