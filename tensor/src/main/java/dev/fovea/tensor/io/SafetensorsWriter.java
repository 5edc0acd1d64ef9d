package dev.fovea.tensor.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.TensorException;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Writes safetensors files: tensors in the given order (F32, F16, BF16, I32, I64; views are written
 * contiguous), header padded with spaces to a multiple of 8 as the reference writer does.
 */
public final class SafetensorsWriter {
  private SafetensorsWriter() {}

  /** A named tensor to write. */
  public record Item(String name, Tensor tensor) {}

  public static void write(Path path, List<Item> items, Map<String, String> metadata) {
    ObjectNode root = SafetensorsSource.JSON.createObjectNode();
    if (metadata != null && !metadata.isEmpty()) {
      ObjectNode m = root.putObject("__metadata__");
      metadata.forEach(m::put);
    }
    long off = 0;
    for (Item it : items) {
      Tensor t = it.tensor();
      if (t.dtype().isQuantized()) {
        throw new TensorException("safetensors has no " + t.dtype() + " dtype (tensor '" + it.name() + "')");
      }
      long bytes = t.dtype().byteSize(t.numel());
      ObjectNode e = root.putObject(it.name());
      e.put("dtype", t.dtype().name());
      ArrayNode shape = e.putArray("shape");
      for (int s : t.shape()) {
        shape.add(s);
      }
      e.putArray("data_offsets").add(off).add(off + bytes);
      off += bytes;
    }
    try (OutputStream out = Files.newOutputStream(path)) {
      out.write(frame(header(root), new byte[0]));
      for (Item it : items) {
        Tensor t = it.tensor().contiguous();
        MemorySegment seg = t.storage().segment();
        long start = t.dtype().byteOffset(t.offset());
        long bytes = t.dtype().byteSize(t.numel());
        byte[] buf = new byte[(int) Math.min(bytes, 1 << 20)];
        for (long p = 0; p < bytes; p += buf.length) {
          int n = (int) Math.min(buf.length, bytes - p);
          MemorySegment.copy(seg, ValueLayout.JAVA_BYTE, start + p, buf, 0, n);
          out.write(buf, 0, n);
        }
      }
    } catch (IOException e) {
      throw new TensorException("cannot write " + path + ": " + e, e);
    }
  }

  /** The JSON header bytes, padded with spaces to a multiple of 8. */
  static byte[] header(ObjectNode root) {
    try {
      byte[] h = SafetensorsSource.JSON.writeValueAsBytes(root);
      int pad = (8 - h.length % 8) % 8;
      byte[] out = java.util.Arrays.copyOf(h, h.length + pad);
      java.util.Arrays.fill(out, h.length, out.length, (byte) ' ');
      return out;
    } catch (JsonProcessingException e) {
      throw new TensorException("cannot encode safetensors header: " + e.getMessage(), e);
    }
  }

  /** Length prefix + header + data, as one array (for small files and tests). */
  static byte[] frame(byte[] header, byte[] data) {
    ByteBuffer b = ByteBuffer.allocate(8 + header.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(header.length).put(header).put(data);
    return b.array();
  }

  static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
