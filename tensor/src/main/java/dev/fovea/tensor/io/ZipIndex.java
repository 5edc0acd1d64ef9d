package dev.fovea.tensor.io;

import java.lang.foreign.MemorySegment;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The central directory of a ZIP file (PKWARE APPNOTE 4.3), ZIP64 included, read from a mapped
 * file with every offset and count checked. For each entry it finds where the data starts from the
 * local header, so STORED entries (torch.save writes only those) are used in place.
 */
final class ZipIndex {
  static final int EOCD = 0x06054b50;
  static final int EOCD64 = 0x06064b50;
  static final int LOCATOR64 = 0x07064b50;
  static final int CENTRAL = 0x02014b50;
  static final int LOCAL = 0x04034b50;
  static final long MAX_ENTRIES = 1 << 20;

  /** One entry: compression method (0 stored, 8 deflated), sizes, and the file offset of its data. */
  record Entry(String name, int method, long compressedSize, long size, long dataOffset) {}

  final Map<String, Entry> entries = new LinkedHashMap<>();

  ZipIndex(MemorySegment seg, String f) {
    long size = seg.byteSize();
    long eocd = -1;
    for (long p = size - 22; p >= Math.max(0, size - 22 - 65535); p--) {
      if (new Cursor(seg, f, p).i32("zip end of central directory") == EOCD) {
        eocd = p;
        break;
      }
    }
    if (eocd < 0) {
      throw new FormatException(f, "zip end of central directory", "not found (not a zip file, or truncated)");
    }
    Cursor c = new Cursor(seg, f, eocd + 10);
    long count = c.i16("zip entry count") & 0xFFFF;
    long cdSize = c.u32("zip central directory size");
    long cdOffset = c.u32("zip central directory offset");
    if ((count == 0xFFFF || cdSize == 0xFFFFFFFFL || cdOffset == 0xFFFFFFFFL) && eocd >= 20) {
      Cursor l = new Cursor(seg, f, eocd - 20);
      if (l.i32("zip64 locator") == LOCATOR64) {
        l.i32("zip64 locator disk");
        long at = l.count("zip64 end of central directory offset", size);
        Cursor z = new Cursor(seg, f, at);
        if (z.i32("zip64 end of central directory") != EOCD64) {
          throw new FormatException(f, "zip64 end of central directory", "bad signature at offset " + at);
        }
        z.pos += 8 + 2 + 2 + 4 + 4 + 8;
        count = z.count("zip64 entry count", MAX_ENTRIES);
        cdSize = z.count("zip64 central directory size", size);
        cdOffset = z.count("zip64 central directory offset", size);
      }
    }
    if (cdOffset > size || cdSize > size - cdOffset || count > cdSize / 46 || count > MAX_ENTRIES) {
      throw new FormatException(
          f, "zip central directory", "offset " + cdOffset + ", size " + cdSize + ", " + count + " entries do not fit a file of " + size + " bytes");
    }
    Cursor cd = new Cursor(seg.asSlice(0, cdOffset + cdSize), f, cdOffset);
    for (long i = 0; i < count; i++) {
      String field = "zip central directory entry #" + i;
      if (cd.i32(field) != CENTRAL) {
        throw new FormatException(f, field, "bad signature");
      }
      cd.pos += 6;
      int method = cd.i16(field + " method") & 0xFFFF;
      cd.pos += 8;
      long csize = cd.u32(field + " compressed size");
      long usize = cd.u32(field + " size");
      int nameLen = cd.i16(field + " name length") & 0xFFFF;
      int extraLen = cd.i16(field + " extra length") & 0xFFFF;
      int commentLen = cd.i16(field + " comment length") & 0xFFFF;
      cd.pos += 8;
      long local = cd.u32(field + " local header offset");
      String name = cd.utf8(nameLen, field + " name");
      long extraEnd = cd.pos + extraLen;
      cd.need(extraLen, field + " extra");
      while (cd.pos + 4 <= extraEnd) {
        int id = cd.i16(field + " extra id") & 0xFFFF;
        int len = cd.i16(field + " extra length") & 0xFFFF;
        long end = cd.pos + len;
        if (end > extraEnd) {
          throw new FormatException(f, "zip entry '" + name + "'", "extra field runs past its end");
        }
        if (id == 0x0001) {
          if (usize == 0xFFFFFFFFL && cd.pos + 8 <= end) {
            usize = cd.count(field + " zip64 size", size * 1032);
          }
          if (csize == 0xFFFFFFFFL && cd.pos + 8 <= end) {
            csize = cd.count(field + " zip64 compressed size", size);
          }
          if (local == 0xFFFFFFFFL && cd.pos + 8 <= end) {
            local = cd.count(field + " zip64 local header offset", size);
          }
        }
        cd.pos = end;
      }
      cd.pos = extraEnd;
      cd.need(commentLen, field + " comment");
      cd.pos += commentLen;

      String ef = "zip entry '" + name + "'";
      Cursor lh = new Cursor(seg, f, local);
      if (local > size || lh.i32(ef + " local header") != LOCAL) {
        throw new FormatException(f, ef, "no local header at offset " + local);
      }
      lh.pos = local + 26;
      int ln = lh.i16(ef + " local name length") & 0xFFFF;
      int le = lh.i16(ef + " local extra length") & 0xFFFF;
      long data = local + 30 + ln + le;
      if (data > size || csize > size - data) {
        throw new FormatException(f, ef, "data [" + data + ", +" + csize + ") runs past the end of the file (" + size + " bytes)");
      }
      if (method == 0 && csize != usize) {
        throw new FormatException(f, ef, "stored entry with compressed size " + csize + " != size " + usize);
      }
      if (entries.put(name, new Entry(name, method, csize, usize, data)) != null) {
        throw new FormatException(f, ef, "duplicate entry");
      }
    }
  }
}
