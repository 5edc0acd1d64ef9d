package dev.fovea.methods.scenes;

import java.util.Arrays;

/**
 * A small deflate encoder (RFC 1951), written here so that a PNG's bytes do not depend on the zlib a
 * JDK happens to link: {@code java.util.zip.Deflater} gives whatever the platform's zlib (or zlib-ng,
 * or a hardware-assisted one) produces, which differs between systems for the same input.
 *
 * <p>The stream is one final block with dynamic Huffman codes. LZ77 looks, at each position, for the
 * longest match at a few fixed distances the caller names (for PNG rows: the previous byte, the
 * previous pixel and the previous row) and takes it greedily when it is at least 3 bytes long. Code
 * lengths are Huffman's, built with a fixed tie order; when a code comes out longer than deflate allows
 * (15 bits, 7 for the code-length code), the frequencies are halved and the code rebuilt.
 */
final class Deflate {
  private static final int MIN_MATCH = 3;
  private static final int MAX_MATCH = 258;
  private static final int MAX_DISTANCE = 32768;
  private static final int END_OF_BLOCK = 256;

  // RFC 1951 section 3.2.5: length codes 257..285 and distance codes 0..29, with their extra bits
  private static final int[] LENGTH_BASE = {3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99,
      115, 131, 163, 195, 227, 258};
  private static final int[] LENGTH_EXTRA = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
  private static final int[] DISTANCE_BASE = {1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025,
      1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577};
  private static final int[] DISTANCE_EXTRA = {0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12,
      12, 13, 13};
  // section 3.2.7: the order in which the code-length code's lengths are sent
  private static final int[] CODE_LENGTH_ORDER = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15};

  /** The length code (0 for 257) of each match length 3..258. */
  private static final byte[] LENGTH_CODE = new byte[MAX_MATCH + 1];

  static {
    for (int c = 0; c < LENGTH_BASE.length; c++) {
      int last = c + 1 < LENGTH_BASE.length ? LENGTH_BASE[c + 1] - 1 : MAX_MATCH;
      for (int len = LENGTH_BASE[c]; len <= Math.min(last, MAX_MATCH); len++) {
        LENGTH_CODE[len] = (byte) c;
      }
    }
  }

  private Deflate() {}

  /**
   * The raw deflate stream of {@code data}.
   *
   * @param distances the match distances tried at each position, each in [1, 32768]
   */
  static byte[] compress(byte[] data, int[] distances) {
    for (int d : distances) {
      if (d < 1 || d > MAX_DISTANCE) {
        throw new IllegalArgumentException("match distance " + d + " is not in [1, " + MAX_DISTANCE + "]");
      }
    }
    // LZ77, greedy: a token is a literal byte (< 256) or length << 16 | distance
    int[] tokens = new int[data.length];
    int count = 0;
    int[] litFreq = new int[286];
    int[] distFreq = new int[30];
    for (int i = 0; i < data.length; ) {
      int bestLen = 0;
      int bestDist = 0;
      int max = Math.min(MAX_MATCH, data.length - i);
      for (int d : distances) {
        if (d > i) {
          continue;
        }
        int len = 0;
        while (len < max && data[i + len] == data[i + len - d]) {
          len++;
        }
        if (len > bestLen) {
          bestLen = len;
          bestDist = d;
        }
      }
      if (bestLen >= MIN_MATCH) {
        tokens[count++] = bestLen << 16 | bestDist;
        litFreq[257 + LENGTH_CODE[bestLen]]++;
        distFreq[distanceCode(bestDist)]++;
        i += bestLen;
      } else {
        tokens[count++] = data[i] & 255;
        litFreq[data[i] & 255]++;
        i++;
      }
    }
    litFreq[END_OF_BLOCK]++;

    int[] litLen = codeLengths(litFreq, 15);
    int[] distLen = codeLengths(distFreq, 15);
    int[] litCode = canonicalCodes(litLen);
    int[] distCode = canonicalCodes(distLen);
    int hlit = 286;
    while (hlit > 257 && litLen[hlit - 1] == 0) {
      hlit--;
    }
    int hdist = 30;
    while (hdist > 1 && distLen[hdist - 1] == 0) {
      hdist--;
    }
    int[] lengths = new int[hlit + hdist];
    System.arraycopy(litLen, 0, lengths, 0, hlit);
    System.arraycopy(distLen, 0, lengths, hlit, hdist);
    int[] runs = runLengths(lengths); // symbol | extra << 8
    int[] clFreq = new int[19];
    for (int r : runs) {
      clFreq[r & 255]++;
    }
    int[] clLen = codeLengths(clFreq, 7);
    int[] clCode = canonicalCodes(clLen);
    int hclen = 19;
    while (hclen > 4 && clLen[CODE_LENGTH_ORDER[hclen - 1]] == 0) {
      hclen--;
    }

    BitWriter out = new BitWriter(data.length / 4 + 64);
    out.write(1, 1); // BFINAL: the last block
    out.write(2, 2); // BTYPE 10: dynamic Huffman codes
    out.write(hlit - 257, 5);
    out.write(hdist - 1, 5);
    out.write(hclen - 4, 4);
    for (int i = 0; i < hclen; i++) {
      out.write(clLen[CODE_LENGTH_ORDER[i]], 3);
    }
    for (int r : runs) {
      int sym = r & 255;
      out.write(clCode[sym], clLen[sym]);
      switch (sym) {
        case 16 -> out.write(r >>> 8, 2);
        case 17 -> out.write(r >>> 8, 3);
        case 18 -> out.write(r >>> 8, 7);
        default -> { }
      }
    }
    for (int k = 0; k < count; k++) {
      int t = tokens[k];
      if (t < 256) {
        out.write(litCode[t], litLen[t]);
        continue;
      }
      int len = t >>> 16;
      int dist = t & 0xFFFF;
      int lc = LENGTH_CODE[len];
      out.write(litCode[257 + lc], litLen[257 + lc]);
      out.write(len - LENGTH_BASE[lc], LENGTH_EXTRA[lc]);
      int dc = distanceCode(dist);
      out.write(distCode[dc], distLen[dc]);
      out.write(dist - DISTANCE_BASE[dc], DISTANCE_EXTRA[dc]);
    }
    out.write(litCode[END_OF_BLOCK], litLen[END_OF_BLOCK]);
    return out.finish();
  }

  private static int distanceCode(int distance) {
    int c = DISTANCE_BASE.length - 1;
    while (DISTANCE_BASE[c] > distance) {
      c--;
    }
    return c;
  }

  /**
   * Section 3.2.7's run-length coding of the code lengths: 16 repeats the previous length 3-6 times, 17
   * and 18 give 3-10 and 11-138 zeros. Each entry is {@code symbol | extraBitsValue << 8}.
   */
  private static int[] runLengths(int[] lengths) {
    int[] out = new int[lengths.length];
    int n = 0;
    for (int i = 0; i < lengths.length; ) {
      int v = lengths[i];
      int run = 1;
      while (i + run < lengths.length && lengths[i + run] == v) {
        run++;
      }
      i += run;
      if (v == 0) {
        while (run >= 11) {
          int r = Math.min(run, 138);
          out[n++] = 18 | (r - 11) << 8;
          run -= r;
        }
        if (run >= 3) {
          out[n++] = 17 | (run - 3) << 8;
          run = 0;
        }
      } else {
        out[n++] = v;
        run--;
        while (run >= 3) {
          int r = Math.min(run, 6);
          out[n++] = 16 | (r - 3) << 8;
          run -= r;
        }
      }
      while (run-- > 0) {
        out[n++] = v;
      }
    }
    return Arrays.copyOf(out, n);
  }

  /**
   * Huffman code lengths of {@code freq}, none above {@code limit}. At least two symbols always get a
   * code (zlib's inflate refuses an incomplete code-length code): unused symbols 0 and 1 are counted
   * once when fewer than two are used.
   */
  static int[] codeLengths(int[] freq, int limit) {
    int[] f = freq.clone();
    int used = 0;
    for (int v : f) {
      used += v > 0 ? 1 : 0;
    }
    for (int s = 0; used < 2; s++) {
      if (f[s] == 0) {
        f[s] = 1;
        used++;
      }
    }
    while (true) {
      int[] len = huffmanLengths(f);
      if (Arrays.stream(len).max().orElse(0) <= limit) {
        return len;
      }
      for (int i = 0; i < f.length; i++) {
        if (f[i] > 0) {
          f[i] = Math.max(1, f[i] >> 1);
        }
      }
    }
  }

  /** Huffman's construction by two queues (leaves by frequency then symbol; merged nodes in creation order, leaves first on a tie). */
  private static int[] huffmanLengths(int[] freq) {
    int m = 0;
    for (int v : freq) {
      m += v > 0 ? 1 : 0;
    }
    Integer[] order = new Integer[m];
    for (int s = 0, k = 0; s < freq.length; s++) {
      if (freq[s] > 0) {
        order[k++] = s;
      }
    }
    Arrays.sort(order, (a, b) -> freq[a] != freq[b] ? Integer.compare(freq[a], freq[b]) : Integer.compare(a, b));
    // nodes 0..m-1 are the sorted leaves, m..2m-2 the merged ones
    long[] weight = new long[2 * m - 1];
    int[] parent = new int[2 * m - 1];
    for (int k = 0; k < m; k++) {
      weight[k] = freq[order[k]];
    }
    int leaf = 0;
    int merged = m;
    for (int next = m; next < 2 * m - 1; next++) {
      int a = (leaf < m && (merged >= next || weight[leaf] <= weight[merged])) ? leaf++ : merged++;
      int b = (leaf < m && (merged >= next || weight[leaf] <= weight[merged])) ? leaf++ : merged++;
      weight[next] = weight[a] + weight[b];
      parent[a] = next;
      parent[b] = next;
    }
    int[] depth = new int[2 * m - 1];
    for (int k = 2 * m - 3; k >= 0; k--) {
      depth[k] = depth[parent[k]] + 1;
    }
    int[] len = new int[freq.length];
    for (int k = 0; k < m; k++) {
      len[order[k]] = depth[k];
    }
    return len;
  }

  /** Section 3.2.2's canonical codes of these lengths, bit-reversed for writing least significant bit first. */
  static int[] canonicalCodes(int[] len) {
    int max = Arrays.stream(len).max().orElse(0);
    int[] blCount = new int[max + 1];
    for (int l : len) {
      if (l > 0) {
        blCount[l]++;
      }
    }
    int[] next = new int[max + 1];
    int code = 0;
    for (int bits = 1; bits <= max; bits++) {
      code = (code + blCount[bits - 1]) << 1;
      next[bits] = code;
    }
    int[] codes = new int[len.length];
    for (int s = 0; s < len.length; s++) {
      if (len[s] > 0) {
        codes[s] = Integer.reverse(next[len[s]]++) >>> (32 - len[s]);
      }
    }
    return codes;
  }

  /** Bits packed least significant first, as deflate wants them. */
  private static final class BitWriter {
    private byte[] buf;
    private int size;
    private long bits;
    private int count;

    BitWriter(int capacity) {
      buf = new byte[capacity];
    }

    /** The low {@code n} bits of {@code value} (n <= 16). */
    void write(int value, int n) {
      bits |= (long) value << count;
      count += n;
      while (count >= 8) {
        put((byte) bits);
        bits >>>= 8;
        count -= 8;
      }
    }

    private void put(byte b) {
      if (size == buf.length) {
        buf = Arrays.copyOf(buf, buf.length * 2);
      }
      buf[size++] = b;
    }

    /** The bytes, the last one padded with zero bits. */
    byte[] finish() {
      if (count > 0) {
        put((byte) bits);
        bits = 0;
        count = 0;
      }
      return Arrays.copyOf(buf, size);
    }
  }
}
