package dev.fovea.vit.clip;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.WeightSource;
import dev.fovea.tensor.io.WeightFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Assumptions;

/**
 * The outputs of {@code tools/reference/clip/make_clip_reference.py} (python3-torch 1.13, plain-torch
 * CLIP forward) in {@code src/test/resources/clip-reference}: model folders, {@code <model>.ref.json}
 * (inputs) and {@code <model>.ref.safetensors} (recorded tensors, named {@code case/record}).
 */
final class ClipReference implements AutoCloseable {
  static final Path ROOT = resourceDir("clip-reference");

  final String model;
  final JsonNode meta;
  final WeightSource tensors;

  ClipReference(String model) {
    this.model = model;
    try {
      this.meta = new ObjectMapper().readTree(ROOT.resolve(model + ".ref.json").toFile());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    this.tensors = WeightFiles.open(ROOT.resolve(model + ".ref.safetensors"));
  }

  Path folder() {
    return ROOT.resolve(model);
  }

  Tensor get(String caseName, String record) {
    return tensors.get(caseName + "/" + record);
  }

  boolean has(String caseName, String record) {
    return tensors.contains(caseName + "/" + record);
  }

  int[][] ints(String key) {
    JsonNode a = meta.get(key);
    int[][] out = new int[a.size()][];
    for (int i = 0; i < a.size(); i++) {
      out[i] = new int[a.get(i).size()];
      for (int j = 0; j < out[i].length; j++) {
        out[i][j] = a.get(i).get(j).asInt();
      }
    }
    return out;
  }

  @Override
  public void close() {
    tensors.close();
  }

  static Path resourceDir(String name) {
    try {
      return Path.of(ClipReference.class.getClassLoader().getResource(name).toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  /** ../shared/data/images, from the system property fovea.shared that the parent pom sets; skips when absent. */
  static Path sharedImages() {
    String shared = System.getProperty("fovea.shared");
    Path dir = shared == null ? null : Path.of(shared, "data", "images").toAbsolutePath().normalize();
    Assumptions.assumeTrue(dir != null && Files.isDirectory(dir),
        "SKIPPED: the shared images are absent (system property fovea.shared = " + shared + "; expected <shared>/data/images)");
    return dir;
  }

  /**
   * Asserts max|a - b| &lt;= atol + rtol * |b| elementwise; returns the largest |a - b| and prints
   * it with the largest |b| (the figures the report quotes).
   */
  static double assertClose(String what, Tensor actual, Tensor expected, double rtol, double atol) {
    assertArrayEquals(expected.shape(), actual.shape(), what + ": shape");
    float[] a = actual.contiguous().toFloatArray();
    float[] b = expected.contiguous().toFloatArray();
    double maxErr = 0;
    double maxRef = 0;
    int worst = -1;
    double worstExcess = 0;
    for (int i = 0; i < a.length; i++) {
      double e = Math.abs((double) a[i] - b[i]);
      maxErr = Math.max(maxErr, e);
      maxRef = Math.max(maxRef, Math.abs(b[i]));
      double excess = e - (atol + rtol * Math.abs(b[i]));
      if (!(excess <= 0) && (worst < 0 || excess > worstExcess)) {
        worst = i;
        worstExcess = excess;
      }
    }
    System.out.printf("%-58s %-14s max|a-b| %.3g  max|b| %.3g  (rtol %.0e, atol %.0e)%n", what, Arrays.toString(expected.shape()), maxErr, maxRef, rtol, atol);
    int w = worst;
    assertTrue(w < 0, () -> what + " " + Arrays.toString(expected.shape()) + ": element " + w + " is " + a[w] + ", reference " + b[w]
        + " (|a-b| " + Math.abs(a[w] - b[w]) + " > atol " + atol + " + rtol " + rtol + " * |b|); max |a-b| over the tensor " + maxErrOf(a, b));
    return maxErr;
  }

  private static double maxErrOf(float[] a, float[] b) {
    double m = 0;
    for (int i = 0; i < a.length; i++) {
      m = Math.max(m, Math.abs((double) a[i] - b[i]));
    }
    return m;
  }
}
