package dev.fovea.vit.image;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Assumptions;

/**
 * The outputs of {@code tools/reference/image/make_reference.py} (Pillow 9.4) in
 * {@code src/test/resources/image-reference}: {@code index.json}, fixtures and arrays.
 */
final class Reference {
  static final Path ROOT = resourceDir("image-reference");
  private static JsonNode index;

  private Reference() {}

  static synchronized JsonNode index() {
    if (index == null) {
      try {
        index = new ObjectMapper().readTree(ROOT.resolve("index.json").toFile());
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return index;
  }

  static Path resourceDir(String name) {
    try {
      return Path.of(Reference.class.getClassLoader().getResource(name).toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  /** ../shared/data/images, from the system property fovea.shared that the parent pom sets. */
  static Path sharedImages() {
    String shared = System.getProperty("fovea.shared");
    Path dir = shared == null ? null : Path.of(shared, "data", "images").toAbsolutePath().normalize();
    Assumptions.assumeTrue(dir != null && Files.isDirectory(dir),
        "SKIPPED: the shared images are absent (system property fovea.shared = " + shared
            + "; expected <shared>/data/images with the real test pictures)");
    return dir;
  }

  /** The file an index entry describes: a fixture here or a real image in the shared folder. */
  static Path imagePath(JsonNode entry) {
    String name = entry.get("name").asText();
    return entry.get("source").asText().equals("fixture")
        ? ROOT.resolve("fixtures").resolve(name)
        : sharedImages().resolve(name);
  }

  static byte[] u8(String relative) {
    try (InputStream in = new GZIPInputStream(Files.newInputStream(ROOT.resolve(relative)))) {
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static float[] f32(String relative) {
    try {
      ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(ROOT.resolve(relative))).order(ByteOrder.LITTLE_ENDIAN);
      float[] out = new float[b.remaining() / 4];
      b.asFloatBuffer().get(out);
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static String sha256(byte[] data) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Differences between two equally long uint8 arrays. */
  record Diff(int max, double mean, long count, int firstIndex) {
    static Diff of(byte[] a, byte[] b) {
      if (a.length != b.length) {
        throw new AssertionError("lengths differ: " + a.length + " vs " + b.length);
      }
      int max = 0;
      long sum = 0;
      long count = 0;
      int first = -1;
      for (int i = 0; i < a.length; i++) {
        int d = Math.abs((a[i] & 0xFF) - (b[i] & 0xFF));
        if (d != 0) {
          count++;
          sum += d;
          max = Math.max(max, d);
          if (first < 0) {
            first = i;
          }
        }
      }
      return new Diff(max, a.length == 0 ? 0 : (double) sum / a.length, count, first);
    }

    @Override
    public String toString() {
      return String.format("max %d, mean %.4f, %d of the values differ (first at %d)", max, mean, count, firstIndex);
    }
  }

  /** Every {@code stride}-th row and column of an image, as make_reference.py's {@code a[::s, ::s]}. */
  static byte[] subsample(RgbImage img, int stride) {
    int w = (img.width() + stride - 1) / stride;
    int h = (img.height() + stride - 1) / stride;
    byte[] out = new byte[3 * w * h];
    byte[] px = img.raw();
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        System.arraycopy(px, 3 * (y * stride * img.width() + x * stride), out, 3 * (y * w + x), 3);
      }
    }
    return out;
  }
}
