package dev.fovea.jmh.fuzz;

import static dev.fovea.jmh.fuzz.Target.bytes;
import static dev.fovea.jmh.fuzz.Target.fields;

import dev.fovea.jmh.fuzz.Target.Input;
import dev.fovea.tensor.io.Mutations;
import dev.fovea.vit.image.Exif;
import dev.fovea.vit.image.ImageDecoder;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * PNG and JPEG through {@link ImageDecoder#read} (header checks, then ImageIO's decoders), and for
 * JPEG also {@link Exif#orientation}, our own reader of the APP1 block. Seeds are the small fixtures
 * of vit's image tests: every colour type and bit depth of PNG, baseline, progressive, 4:2:2 and
 * EXIF-tagged JPEG.
 */
final class ImageTargets {
  private ImageTargets() {}

  static final String FIXTURES = "vit/src/test/resources/image-reference/fixtures/";

  /** Widths and heights for hostile headers: zero, one, the 100,000 limit and either side of it, sizes whose product passes 2^31 or the pixel limit. */
  static final int[] SIDES = {0, 1, 2, 13_000, 20_000, 65_535, 99_999, 100_000, 100_001, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF};

  static Target png(Seeds s) {
    List<byte[]> seeds = new ArrayList<>();
    for (String n : List.of("bit1_19x13", "gray2_8x5", "gray4_10x7", "i16_23x19", "l_41x27", "l_trns_17x11", "la_29x40", "p_37x23", "p_trns_37x23",
        "rgb16_13x9", "rgb_33x17", "rgb_trns_21x14", "rgba_45x31")) {
      seeds.add(s.read(FIXTURES + n + ".png"));
    }
    String f = "image.png";
    return new Target("png", Map.of(), r -> {
      byte[] orig = seeds.get(r.nextInt(seeds.size()));
      byte[] donor = seeds.get(r.nextInt(seeds.size()));
      return switch (r.nextInt(10)) {
        case 0, 1, 2 -> bytes(r, f, orig, orig.length, donor);
        case 3, 4, 5 -> { // fields set, and the CRCs made right four times in five so the change reaches the decoder
          Input in = fields(r, f, orig, FieldMaps.png(orig));
          yield r.nextInt(5) == 0 ? in : Input.of(f, FieldMaps.fixPngCrcs(in.files().get(f)), in.how() + " crc fixed");
        }
        case 6, 7 -> Input.of(f, FieldMaps.fixPngCrcs(pngChunkEdit(r, orig)), "chunk edit");
        default -> { // a hostile IHDR size with a right CRC
          byte[] b = orig.clone();
          ByteBuffer.wrap(b).putInt(16, SIDES[r.nextInt(SIDES.length)]).putInt(20, SIDES[r.nextInt(SIDES.length)]);
          yield Input.of(f, FieldMaps.fixPngCrcs(b), "IHDR size");
        }
      };
    }, dir -> ImageDecoder.read(dir.resolve(f)));
  }

  /** A chunk dropped, repeated, moved, or an early IEND or an empty IDAT inserted. */
  static byte[] pngChunkEdit(Random r, byte[] b) {
    List<int[]> cs = FieldMaps.pngChunks(b);
    List<byte[]> chunks = new ArrayList<>();
    for (int[] c : cs) {
      chunks.add(Arrays.copyOfRange(b, c[0], Math.min(b.length, c[0] + 12 + Math.max(0, c[1]))));
    }
    int i = r.nextInt(chunks.size());
    switch (r.nextInt(5)) {
      case 0 -> chunks.remove(i);
      case 1 -> {
        for (int k = 0, n = r.nextInt(4) == 0 ? 50 : 1; k < n; k++) {
          chunks.add(i, chunks.get(i));
        }
      }
      case 2 -> java.util.Collections.swap(chunks, i, r.nextInt(chunks.size()));
      case 3 -> chunks.add(1 + r.nextInt(chunks.size()), new byte[] {0, 0, 0, 0, 'I', 'E', 'N', 'D', 0, 0, 0, 0});
      default -> chunks.add(1 + r.nextInt(chunks.size()), new byte[] {0, 0, 0, 0, 'I', 'D', 'A', 'T', 0, 0, 0, 0});
    }
    byte[] out = Arrays.copyOf(b, 8);
    for (byte[] c : chunks) {
      out = Mutations.concat(out, c);
    }
    return out;
  }

  static Target jpeg(Seeds s) {
    List<byte[]> seeds = new ArrayList<>();
    for (String n : List.of("exif6_24x16", "smooth_80x60", "smooth_l_64x48", "smooth_prog_444_75x45", "smooth_422_90x70")) {
      seeds.add(s.read(FIXTURES + n + ".jpg"));
    }
    String f = "image.jpg";
    return new Target("jpeg", Map.of(), r -> {
      byte[] orig = seeds.get(r.nextInt(seeds.size()));
      byte[] donor = seeds.get(r.nextInt(seeds.size()));
      return switch (r.nextInt(10)) {
        case 0, 1, 2 -> bytes(r, f, orig, orig.length, donor);
        case 3, 4, 5, 6 -> fields(r, f, orig, FieldMaps.jpeg(orig));
        case 7, 8 -> Input.of(f, jpegSegmentEdit(r, orig), "segment edit");
        default -> { // a hostile SOF size
          byte[] b = orig.clone();
          for (int[] seg : FieldMaps.jpegSegments(b)) {
            if (seg[1] >= 0xC0 && seg[1] <= 0xC2) {
              ByteBuffer.wrap(b).putShort(seg[0] + 5, (short) SIDES[r.nextInt(SIDES.length)]).putShort(seg[0] + 7, (short) SIDES[r.nextInt(SIDES.length)]);
            }
          }
          yield Input.of(f, b, "SOF size");
        }
      };
    }, dir -> {
      Exif.orientation(dir.resolve(f));
      ImageDecoder.read(dir.resolve(f));
    });
  }

  /** A header segment dropped, repeated or moved, or the scan data cut, or a restart or end marker put in it. */
  static byte[] jpegSegmentEdit(Random r, byte[] b) {
    List<int[]> segs = FieldMaps.jpegSegments(b);
    int[] s = segs.get(r.nextInt(segs.size()));
    int end = Math.min(b.length, s[0] + 2 + s[2]);
    byte[] seg = Arrays.copyOfRange(b, s[0], end);
    return switch (r.nextInt(5)) {
      case 0 -> Mutations.concat(Arrays.copyOf(b, s[0]), Arrays.copyOfRange(b, end, b.length));
      case 1 -> Mutations.concat(Arrays.copyOf(b, end), seg, Arrays.copyOfRange(b, end, b.length));
      case 2 -> { // moved to right after SOI
        byte[] rest = Mutations.concat(Arrays.copyOfRange(b, 2, s[0]), Arrays.copyOfRange(b, end, b.length));
        yield Mutations.concat(Arrays.copyOf(b, 2), seg, rest);
      }
      case 3 -> Arrays.copyOf(b, end + r.nextInt(Math.max(1, b.length - end)));
      default -> {
        int at = end + r.nextInt(Math.max(1, b.length - end));
        byte[] marker = {(byte) 0xFF, (byte) List.of(0xD0, 0xD7, 0xD9, 0xD8, 0xC4, 0xDA).get(r.nextInt(6)).intValue()};
        yield Mutations.concat(Arrays.copyOf(b, Math.min(at, b.length)), marker, Arrays.copyOfRange(b, Math.min(at, b.length), b.length));
      }
    };
  }
}
