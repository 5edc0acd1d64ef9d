package dev.fovea.tensor.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fovea.tensor.DType;
import dev.fovea.tensor.Shapes;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.TensorException;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.Arena;
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

  /**
   * A tensor known by its dtype and shape whose bytes {@code fill} produces in order, a chunk at a
   * time ({@link #writeGenerated}): a file far larger than memory is written without holding it.
   */
  public record Generated(String name, DType dtype, int[] shape, Fill fill) {}

  /** Writes the next {@code chunk.byteSize()} bytes of a tensor, starting at byte {@code offset} of its data. */
  @FunctionalInterface
  public interface Fill {
    void fill(MemorySegment chunk, long offset);
  }

  /** Bytes a {@link Fill} is handed at a time (the last chunk of a tensor may be shorter). */
  public static final int CHUNK = 1 << 20;

  public static void write(Path path, List<Item> items, Map<String, String> metadata) {
    try (OutputStream out = Files.newOutputStream(path)) {
      out.write(frame(header(root(metadata, items.stream().map(it -> entry(it.name(), it.tensor().dtype(), it.tensor().shape())).toList())), new byte[0]));
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

  /**
   * Writes the tensors of {@code items} in order, each one's bytes produced by its {@link Fill} in
   * chunks of {@link #CHUNK} bytes (one buffer for the whole file): the same file {@link #write}
   * gives for tensors holding those bytes.
   */
  public static void writeGenerated(Path path, List<Generated> items, Map<String, String> metadata) {
    try (OutputStream out = Files.newOutputStream(path); Arena arena = Arena.ofConfined()) {
      out.write(frame(header(root(metadata, items.stream().map(it -> entry(it.name(), it.dtype(), it.shape())).toList())), new byte[0]));
      MemorySegment chunk = arena.allocate(CHUNK, 64);
      byte[] buf = new byte[CHUNK];
      for (Generated it : items) {
        long bytes = it.dtype().byteSize(Shapes.numel(it.shape()));
        for (long p = 0; p < bytes; p += CHUNK) {
          int n = (int) Math.min(CHUNK, bytes - p);
          it.fill().fill(chunk.asSlice(0, n), p);
          MemorySegment.copy(chunk, ValueLayout.JAVA_BYTE, 0, buf, 0, n);
          out.write(buf, 0, n);
        }
      }
    } catch (IOException e) {
      throw new TensorException("cannot write " + path + ": " + e, e);
    }
  }

  /** Name, dtype and shape of one tensor of a header. */
  private record Entry(String name, DType dtype, int[] shape) {}

  private static Entry entry(String name, DType dtype, int[] shape) {
    if (dtype.isQuantized()) {
      throw new TensorException("safetensors has no " + dtype + " dtype (tensor '" + name + "')");
    }
    return new Entry(name, dtype, shape);
  }

  /** The header's JSON: the metadata, then each tensor's dtype, shape and byte range, in order. */
  private static ObjectNode root(Map<String, String> metadata, List<Entry> entries) {
    ObjectNode root = SafetensorsSource.JSON.createObjectNode();
    if (metadata != null && !metadata.isEmpty()) {
      ObjectNode m = root.putObject("__metadata__");
      metadata.forEach(m::put);
    }
    long off = 0;
    for (Entry it : entries) {
      long bytes = it.dtype().byteSize(Shapes.numel(it.shape()));
      ObjectNode e = root.putObject(it.name());
      e.put("dtype", it.dtype().name());
      ArrayNode shape = e.putArray("shape");
      for (int s : it.shape()) {
        shape.add(s);
      }
      e.putArray("data_offsets").add(off).add(off + bytes);
      off += bytes;
    }
    return root;
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
