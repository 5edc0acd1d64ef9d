package dev.fovea.vit.blip;

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
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The outputs of {@code tools/reference/agla/make_blip_reference.py} (python3-torch 1.13, plain
 * torch / numpy BLIP and AGLA) in {@code src/test/resources/blip-reference}: the model folders
 * {@code tiny} (HF names) and {@code tiny-lavis} (LAVIS names), {@code blip.ref.safetensors}
 * (float32 records), {@code blip.stages.f64} (float64 map stages) and {@code blip.ref.json}.
 */
final class BlipReference implements AutoCloseable {
  static final Path ROOT = resourceDir("blip-reference");
  static final String[] CASES = {"cats", "chelsea", "coffee"};

  final JsonNode meta;
  final JsonNode stageIndex;
  final ByteBuffer stages;
  final WeightSource tensors;

  BlipReference() {
    try {
      ObjectMapper om = new ObjectMapper();
      this.meta = om.readTree(ROOT.resolve("blip.ref.json").toFile());
      this.stageIndex = om.readTree(ROOT.resolve("blip.stages.f64.json").toFile());
      this.stages = ByteBuffer.wrap(Files.readAllBytes(ROOT.resolve("blip.stages.f64"))).order(ByteOrder.LITTLE_ENDIAN);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    this.tensors = WeightFiles.open(ROOT.resolve("blip.ref.safetensors"));
  }

  Tensor get(String c, String record) {
    return tensors.get(c + "." + record);
  }

  JsonNode caseMeta(String c) {
    return meta.get("cases").get(c);
  }

  /** A float64 stage, row-major, with its shape. */
  double[] stage(String name) {
    JsonNode e = stageIndex.get(name);
    int n = 1;
    for (JsonNode s : e.get("shape")) {
      n *= s.asInt();
    }
    double[] out = new double[n];
    int off = e.get("offset").asInt();
    for (int i = 0; i < n; i++) {
      out[i] = stages.getDouble((off + i) * 8);
    }
    return out;
  }

  int[] stageShape(String name) {
    JsonNode s = stageIndex.get(name).get("shape");
    int[] out = new int[s.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = s.get(i).asInt();
    }
    return out;
  }

  @Override
  public void close() {
    tensors.close();
  }

  static Path resourceDir(String name) {
    try {
      return Path.of(BlipReference.class.getClassLoader().getResource(name).toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Asserts |a - b| &lt;= atol + rtol * |b| elementwise; prints and returns the largest |a - b|. */
  static double assertClose(String what, Tensor actual, Tensor expected, double rtol, double atol) {
    assertArrayEquals(expected.shape(), actual.shape(), what + ": shape");
    float[] a = actual.contiguous().toFloatArray();
    float[] b = expected.contiguous().toFloatArray();
    double[] ad = new double[a.length];
    double[] bd = new double[b.length];
    for (int i = 0; i < a.length; i++) {
      ad[i] = a[i];
      bd[i] = b[i];
    }
    return assertClose(what + " " + Arrays.toString(expected.shape()), ad, bd, rtol, atol);
  }

  static double assertClose(String what, double[] a, double[] b, double rtol, double atol) {
    assertTrue(a.length == b.length, what + ": " + a.length + " values, reference " + b.length);
    double maxErr = 0;
    double maxRef = 0;
    int worst = -1;
    for (int i = 0; i < a.length; i++) {
      double e = Math.abs(a[i] - b[i]);
      maxRef = Math.max(maxRef, Math.abs(b[i]));
      if (!(e <= atol + rtol * Math.abs(b[i])) && (worst < 0 || e > Math.abs(a[worst] - b[worst]))) {
        worst = i;
      }
      maxErr = Math.max(maxErr, e);
    }
    System.out.printf("%-60s max|a-b| %.3g  max|b| %.3g  (rtol %.0e, atol %.0e)%n", what, maxErr, maxRef, rtol, atol);
    int w = worst;
    assertTrue(w < 0, () -> what + ": element " + w + " is " + a[w] + ", reference " + b[w] + " (|a-b| " + Math.abs(a[w] - b[w]) + " > atol "
        + atol + " + rtol " + rtol + " * |b|)");
    return maxErr;
  }
}
