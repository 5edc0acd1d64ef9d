package dev.fovea.tensor.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.WeightSource;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Map;

/**
 * The fixtures of {@code src/test/resources/formats/}, written by
 * {@code tools/reference/formats/make_fixtures.py}, and their {@code .expected.json} files.
 */
final class Fixtures {
  private Fixtures() {}

  static Path path(String name) {
    try {
      return Path.of(Fixtures.class.getResource("/formats/" + name).toURI());
    } catch (URISyntaxException | NullPointerException e) {
      throw new AssertionError("missing fixture " + name + "; run tools/reference/formats/make_fixtures.py", e);
    }
  }

  static JsonNode expected(String name) {
    try {
      return new ObjectMapper().readTree(path(name).toFile());
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

  /** Checks one tensor against its expected entry: shape, dtype and values bit for bit. */
  static void check(String label, Tensor t, JsonNode want) {
    int[] shape = new int[want.get("shape").size()];
    for (int i = 0; i < shape.length; i++) {
      shape[i] = want.get("shape").get(i).intValue();
    }
    assertArrayEquals(shape, t.shape(), label + ": shape");
    assertEquals(want.get("dtype").textValue(), t.dtype().name(), label + ": dtype");
    if (want.has("bits")) {
      float[] got = t.toFloatArray();
      JsonNode bits = want.get("bits");
      assertEquals(bits.size(), got.length, label + ": numel");
      for (int i = 0; i < got.length; i++) {
        int g = Float.floatToRawIntBits(got[i]);
        int w = (int) bits.get(i).longValue();
        if (g != w) {
          throw new AssertionError(
              label + ": element " + i + " is " + got[i] + " (0x" + Integer.toHexString(g) + "), expected " + Float.intBitsToFloat(w)
                  + " (0x" + Integer.toHexString(w) + ")");
        }
      }
    } else {
      long[] got = t.toLongArray();
      JsonNode ints = want.get("ints");
      assertEquals(ints.size(), got.length, label + ": numel");
      for (int i = 0; i < got.length; i++) {
        assertEquals(ints.get(i).longValue(), got[i], label + ": element " + i);
      }
    }
  }

  /** Every tensor of {@code expected.tensors} is in the source, with the expected info and values. */
  static void checkAll(WeightSource src, JsonNode tensors) {
    assertEquals(tensors.size(), src.names().size(), src.origin() + ": tensor count " + src.names());
    for (Map.Entry<String, JsonNode> e : tensors.properties()) {
      String name = e.getKey();
      WeightSource.TensorInfo info = src.info(name);
      assertNotNull(info, src.origin() + ": missing " + name);
      assertEquals(e.getValue().get("dtype").textValue(), info.dtype().name(), name + ": info dtype");
      check(src.origin() + " " + name, src.get(name), e.getValue());
      assertArrayEquals(src.get(name).shape(), info.shape(), name + ": info shape");
    }
  }
}
