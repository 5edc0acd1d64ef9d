package dev.fovea.tensor.archive;

import dev.fovea.tensor.archive.fb.Archive;
import dev.fovea.tensor.archive.fb.KeyValue;
import dev.fovea.tensor.archive.fb.NamedBlob;
import dev.fovea.tensor.archive.fb.TensorEntry;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Structural check of an archive header before any FlatBuffers accessor touches it. FlatBuffers'
 * Java runtime has no verifier and follows whatever offsets the bytes hold (into other fields,
 * past the end, into a negative index), so every table, vtable, field, string and vector the
 * accessors in {@code archive.fb} will read is checked here against the buffer bounds first.
 * Semantic checks (dtypes, shapes, offsets into the data section) are {@link ArchiveReader}'s.
 *
 * <p>FlatBuffers layout recalled: the buffer starts with a uoffset (uint32) to the root table and
 * the 4-byte file identifier. A table starts with an soffset (int32) such that {@code vtable =
 * table - soffset}; a vtable is uint16 vtable size, uint16 table size, then one uint16 per field
 * (0 = absent) giving the field's offset inside the table. Strings and vectors are reached through
 * a uoffset stored in the field ({@code target = field + uoffset}) and start with a uint32 length;
 * strings end with a zero byte. Vectors of tables hold one uoffset per element.
 */
final class HeaderVerifier {
  /** Caps on entry counts, far above real models (LLaVA-7B has ~700 tensors), so a crafted header cannot exhaust the heap. */
  static final int MAX_TENSORS = 1 << 20;
  static final int MAX_FILES = 1 << 12;
  static final int MAX_METADATA = 1 << 20;

  private final ByteBuffer bb;
  private final int size;
  private final String file;

  private HeaderVerifier(ByteBuffer bb, String file) {
    this.bb = bb.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    this.size = bb.limit();
    this.file = file;
  }

  /** Checks the whole header; throws an {@link ArchiveException} naming the first bad field. */
  static void verify(ByteBuffer header, String file) {
    new HeaderVerifier(header, file).verifyArchive();
  }

  private void verifyArchive() {
    if (size < 8) {
      throw fail("header", "is " + size + " bytes, too short for a FlatBuffer (root offset and identifier)");
    }
    for (int i = 0; i < 4; i++) {
      if (bb.get(4 + i) != Archive.FILE_IDENTIFIER.charAt(i)) {
        throw fail("header", "file identifier is not \"" + Archive.FILE_IDENTIFIER + "\"");
      }
    }
    int root = target(0, "root table offset");
    table(root, "root table");
    scalar(root, Archive.VT_FORMAT_VERSION, 4, "format_version");
    scalar(root, Archive.VT_DATA_LENGTH, 8, "data_length");
    scalar(root, Archive.VT_ALIGNMENT, 4, "alignment");
    int n = cap(tableVector(root, Archive.VT_TENSORS, "tensors"), MAX_TENSORS, "tensors");
    for (int i = 0; i < n; i++) {
      int t = element(root, Archive.VT_TENSORS, i, "tensors[" + i + "]");
      String what = "tensors[" + i + "]";
      string(t, TensorEntry.VT_NAME, true, what + ".name");
      scalar(t, TensorEntry.VT_DTYPE, 1, what + ".dtype");
      vector(t, TensorEntry.VT_SHAPE, 8, false, what + ".shape");
      scalar(t, TensorEntry.VT_OFFSET, 8, what + ".offset");
      scalar(t, TensorEntry.VT_LENGTH, 8, what + ".length");
      scalar(t, TensorEntry.VT_QUANTIZATION, 1, what + ".quantization");
      string(t, TensorEntry.VT_SOURCE_DTYPE, false, what + ".source_dtype");
    }
    n = cap(tableVector(root, Archive.VT_FILES, "files"), MAX_FILES, "files");
    for (int i = 0; i < n; i++) {
      int t = element(root, Archive.VT_FILES, i, "files[" + i + "]");
      string(t, NamedBlob.VT_NAME, true, "files[" + i + "].name");
      vector(t, NamedBlob.VT_DATA, 1, true, "files[" + i + "].data");
    }
    n = cap(tableVector(root, Archive.VT_METADATA, "metadata"), MAX_METADATA, "metadata");
    for (int i = 0; i < n; i++) {
      int t = element(root, Archive.VT_METADATA, i, "metadata[" + i + "]");
      string(t, KeyValue.VT_KEY, true, "metadata[" + i + "].key");
      string(t, KeyValue.VT_VALUE, true, "metadata[" + i + "].value");
    }
  }

  private int cap(int n, int max, String what) {
    if (n > max) {
      throw fail(what, n + " entries exceed the limit of " + max);
    }
    return n;
  }

  // ---------------------------------------------------------------- primitives

  private int u16(int pos) {
    return bb.getShort(pos) & 0xFFFF;
  }

  private long u32(int pos) {
    return bb.getInt(pos) & 0xFFFFFFFFL;
  }

  /** Follows the uoffset stored at {@code pos} (itself checked to lie inside); returns the 4-aligned target. */
  private int target(int pos, String what) {
    if (pos < 0 || pos > size - 4) {
      throw fail(what, "offset field at " + pos + " lies outside the " + size + "-byte header");
    }
    long t = pos + u32(pos);
    if (t > size - 4) {
      throw fail(what, "points to " + t + ", outside the " + size + "-byte header");
    }
    if ((t & 3) != 0) {
      throw fail(what, "points to " + t + ", not 4-byte aligned");
    }
    return (int) t;
  }

  /** Checks the table at {@code t} and its vtable. */
  private void table(int t, String what) {
    long vt = t - (long) bb.getInt(t);
    if (vt < 0 || vt > size - 4 || (vt & 1) != 0) {
      throw fail(what, "vtable at " + vt + " lies outside the " + size + "-byte header or is misaligned");
    }
    int vsize = u16((int) vt);
    int tsize = u16((int) vt + 2);
    if (vsize < 4 || (vsize & 1) != 0 || vsize >= 0x8000 || vt + vsize > size) {
      throw fail(what, "vtable size " + vsize + " at " + vt + " is invalid");
    }
    if (tsize < 4 || tsize >= 0x8000 || (long) t + tsize > size) {
      throw fail(what, "table size " + tsize + " at " + t + " runs past the " + size + "-byte header");
    }
  }

  /** Position of field {@code slot} of the (checked) table at {@code t}, or 0 when absent; checks its width fits. */
  private int field(int t, int slot, int width, String what) {
    int vt = t - bb.getInt(t);
    int vsize = u16(vt);
    if (slot >= vsize) {
      return 0;
    }
    int off = u16(vt + slot);
    if (off == 0) {
      return 0;
    }
    int tsize = u16(vt + 2);
    if (off < 4 || off + width > tsize) {
      throw fail(what, "field offset " + off + " (+" + width + " bytes) lies outside its " + tsize + "-byte table");
    }
    return t + off;
  }

  private void scalar(int t, int slot, int width, String what) {
    field(t, slot, width, what);
  }

  /** Checks a vector field; returns its length (0 when absent). */
  private int vector(int t, int slot, int elemSize, boolean required, String what) {
    int f = field(t, slot, 4, what);
    if (f == 0) {
      if (required) {
        throw fail(what, "required field is missing");
      }
      return 0;
    }
    int v = target(f, what);
    long len = u32(v);
    if (v + 4 + len * elemSize > size) {
      throw fail(what, "vector of " + len + " elements at " + v + " runs past the " + size + "-byte header");
    }
    return (int) len;
  }

  private void string(int t, int slot, boolean required, String what) {
    int len = vector(t, slot, 1, required, what);
    int f = field(t, slot, 4, what);
    if (f == 0) {
      return;
    }
    int s = f + bb.getInt(f);
    if ((long) s + 4 + len >= size || bb.get(s + 4 + len) != 0) {
      throw fail(what, "string of " + len + " bytes at " + s + " lacks its terminating zero");
    }
    // The accessors decode strictly and throw IllegalArgumentException on bad UTF-8: check first.
    try {
      StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(bb.slice(s + 4, len));
    } catch (CharacterCodingException e) {
      throw fail(what, "string of " + len + " bytes at " + s + " is not valid UTF-8");
    }
  }

  /** Checks a vector of tables; returns its length. */
  private int tableVector(int t, int slot, String what) {
    return vector(t, slot, 4, false, what);
  }

  /** Checks element {@code i} of a (checked) vector of tables and the table it points to. */
  private int element(int t, int slot, int i, String what) {
    int f = field(t, slot, 4, what);
    int v = f + bb.getInt(f);
    int e = target(v + 4 + i * 4, what);
    table(e, what);
    return e;
  }

  private ArchiveException fail(String what, String why) {
    return new ArchiveException(file, "malformed header: " + what + ": " + why);
  }
}
