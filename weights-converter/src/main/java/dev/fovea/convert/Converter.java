package dev.fovea.convert;

import dev.fovea.tensor.DType;
import dev.fovea.tensor.Ops;
import dev.fovea.tensor.Shapes;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.WeightSource;
import dev.fovea.tensor.WeightSource.TensorInfo;
import dev.fovea.tensor.archive.ArchiveWriter;
import dev.fovea.tensor.cpu.Elements;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.reflect.Array;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Converts a checkpoint ({@link WeightSource} plus its folder's side files) into a fovea archive,
 * choosing each tensor's dtype by {@link DTypeRules} and streaming one tensor at a time through
 * {@link ArchiveWriter} (atomic: the output name holds a complete archive or nothing new).
 *
 * <p>Memory: each tensor is produced inside its own scope (the converted output, plus one chunk of
 * 2^20 elements of conversion work), written, and then {@link WeightSource#release}d,
 * so a source that had to make a copy (GGUF K-quants dequantized on get, widened .bin/safetensors
 * dtypes, the LLaMA view's permuted q/k) frees it before the next tensor. Mapped inputs (sharded
 * or not) are read through the page cache, never copied.
 *
 * <p>Quantization uses ggml's reference rounding ({@code Elements.quantizeBlock}). Per element of a
 * 32-element block with scale {@code d} stored as f16 ({@code d16}), the reconstruction error is
 * bounded as follows (x = input, m = max|x| of the block):
 *
 * <pre>
 * Q8_0: d = m/127, q = round(x/d) in [-127, 127], x' = d16*q
 *       |x' - x| <= d/2 + 127*|d16 - d| <= d/2 + 127 * d * 2^-11  (f16 rounding, relative 2^-11)
 *                                       ~ m * (1/254 + 1/2048)
 * Q4_0: d = -s/8 with s the signed value of largest magnitude, q = min(15, floor(x/d + 8.5)),
 *       x' = d16*(q - 8). q - 8 covers x/d in [-7.5, 7.5) by rounding (error <= |d|/2); the value
 *       -s itself maps to x/d = 8, clamped to q - 8 = 7, error |d|. So
 *       |x' - x| <= |d| + 8*|d16 - d| <= |d| * (1 + 8 * 2^-11) = m/8 * (1 + 2^-8)
 * F16 : |x' - x| <= 2^-11 |x| for normal values (|x| in [2^-14, 65504]); absolute 2^-25 below.
 * BF16: |x' - x| <= 2^-8 |x| (round to nearest even on the top 16 bits).
 * </pre>
 *
 * (The float arithmetic of {@code x * (1/d)} adds a few ulps to these; tests allow 1e-6 relative.)
 * The bounds need a normal f16 scale: block maxima below about 2e-3 get a subnormal d16 (absolute
 * error 2^-25 per unit of q), and maxima above 127 * 65520 (Q8_0) or 8 * 65520 (Q4_0) overflow
 * the f16 scale to infinity, exactly as in ggml; no trained weight comes near that.
 */
public final class Converter {
  /** Conversion settings. */
  public record Options(DType dtype, boolean quantizeEmbeddings, boolean reportError) {
    public static Options of(DType dtype) {
      return new Options(dtype, false, false);
    }

    public Options withReportError(boolean on) {
      return new Options(dtype, quantizeEmbeddings, on);
    }

    public Options withQuantizeEmbeddings(boolean on) {
      return new Options(dtype, on, reportError);
    }
  }

  /** Progress, called after each tensor is on disk; {@code bytes*} count input bytes. */
  @FunctionalInterface
  public interface Progress {
    void update(int done, int total, String name, long bytesDone, long bytesTotal);

    Progress NONE = (d, t, n, b, bt) -> {};
  }

  /**
   * One tensor's outcome. {@code maxAbsError} = max |dequant(out) - in| and {@code maxRelError} =
   * that divided by max |in| of the tensor; both NaN unless error reporting was asked for.
   */
  public record TensorReport(String name, DType from, DType to, int[] shape, long bytesIn, long bytesOut, String rule, double maxAbsError, double maxRelError) {}

  /** What a conversion did. {@code dtypeCounts} counts output dtypes. */
  public record Summary(Path output, int tensors, long bytesIn, long bytesOut, long fileBytes, Map<DType, Integer> dtypeCounts, List<String> files, List<TensorReport> reports, double seconds) {}

  /** Elements converted per step, so that quantizing a 500 MB embedding never holds it twice on the heap. */
  private static final long CHUNK = 1L << 20;

  private Converter() {}

  /** Parses f32, f16, bf16, q8_0, q4_0 (any case). */
  public static DType parseDType(String s) {
    return switch (s.toLowerCase(Locale.ROOT)) {
      case "f32" -> DType.F32;
      case "f16" -> DType.F16;
      case "bf16" -> DType.BF16;
      case "q8_0" -> DType.Q8_0;
      case "q4_0" -> DType.Q4_0;
      default -> throw new ConvertException("unknown --dtype '" + s + "'; use f32, f16, bf16, q8_0 or q4_0");
    };
  }

  /** Converts an opened input (its side files and metadata travel along). */
  public static Summary convert(ModelInput in, Path out, Options options, Progress progress) throws IOException {
    Map<String, String> md = new LinkedHashMap<>();
    md.put("fovea.source", String.valueOf(in.path().getFileName()));
    md.put("fovea.source_format", in.format().name());
    return convert(in.weights(), in.files(), md, out, options, progress);
  }

  /**
   * Converts {@code weights} into the archive {@code out}. {@code files} are embedded verbatim;
   * metadata = the source's metadata (stringified), then {@code extraMetadata}, then the
   * converter's own {@code fovea.*} keys.
   */
  public static Summary convert(WeightSource weights, Map<String, byte[]> files, Map<String, String> extraMetadata, Path out, Options options, Progress progress) throws IOException {
    long start = System.nanoTime();
    ArchiveWriter w = ArchiveWriter.to(out);
    files.forEach(w::file);
    weights.metadata().forEach((k, v) -> w.metadata(k, stringify(v)));
    extraMetadata.forEach(w::metadata);
    w.metadata("fovea.converter", "fovea weights-converter 0.1.0");
    w.metadata("fovea.dtype", options.dtype().name().toLowerCase(Locale.ROOT));
    w.metadata("fovea.quantize_embeddings", String.valueOf(options.quantizeEmbeddings()));

    List<String> names = List.copyOf(weights.names());
    Map<String, TensorReport> reports = new ConcurrentHashMap<>();
    long totalIn = 0;
    long[] bytesIn = new long[names.size()];
    for (int i = 0; i < names.size(); i++) {
      String name = names.get(i);
      int index = i;
      TensorInfo info = weights.info(name);
      DTypeRules.Decision d = DTypeRules.decide(info, options.dtype(), options.quantizeEmbeddings());
      long numel = Shapes.numel(info.shape());
      bytesIn[i] = info.dtype().byteSize(numel);
      totalIn += bytesIn[i];
      long bytesOut = d.dtype().byteSize(numel);
      w.tensor(name, d.dtype(), info.shape(), info.dtype().name(), () -> {
        Tensor src = weights.get(name);
        Tensor dst = convertTensor(src, d.dtype());
        double[] err = options.reportError() ? maxError(src, dst) : new double[] {Double.NaN, Double.NaN};
        reports.put(name, new TensorReport(name, info.dtype(), d.dtype(), info.shape(), bytesIn[index], bytesOut, d.rule(), err[0], err[1]));
        return dst;
      });
    }
    long total = totalIn;
    long[] done = {0};
    w.listener((index, count, entry) -> {
      // The tensor is on disk: let the source free any copy it made (dequantized K-quants, widened
      // dtypes, permuted q/k rows), so that at most one tensor's copy is alive at a time.
      weights.release(names.get(index));
      done[0] += bytesIn[index];
      progress.update(index + 1, count, entry.name(), done[0], total);
    });
    ArchiveWriter.Result res = w.write();

    List<TensorReport> ordered = new ArrayList<>();
    Map<DType, Integer> counts = new EnumMap<>(DType.class);
    long outBytes = 0;
    for (String n : names) {
      TensorReport r = reports.get(n);
      ordered.add(r);
      counts.merge(r.to(), 1, Integer::sum);
      outBytes += r.bytesOut();
    }
    return new Summary(res.path(), names.size(), totalIn, outBytes, res.fileBytes(), counts, List.copyOf(files.keySet()), ordered, (System.nanoTime() - start) / 1e9);
  }

  /** {@code src} as {@code dtype}: the source itself when equal, else converted along dim 0 in chunks. */
  static Tensor convertTensor(Tensor src, DType dtype) {
    if (src.dtype() == dtype) {
      return src;
    }
    if (src.dim() == 0 || src.numel() == 0) {
      return Ops.to(src, dtype);
    }
    Tensor dst = Tensor.empty(dtype, src.shape());
    int rows = src.size(0);
    long rowNumel = src.numel() / rows;
    int step = (int) Math.max(1, Math.min(rows, CHUNK / Math.max(1, rowNumel)));
    for (int r = 0; r < rows; r += step) {
      int n = Math.min(step, rows - r);
      Ops.copyInto(src.narrow(0, r, n), dst.narrow(0, r, n));
    }
    return dst;
  }

  /** {max |out - in|, that / max |in|}, streamed element by element (no float[] of the tensor). */
  static double[] maxError(Tensor in, Tensor out) {
    Tensor a = in.isContiguous() ? in : in.contiguous();
    Tensor b = out.isContiguous() ? out : out.contiguous();
    MemorySegment sa = a.storage().segment();
    MemorySegment sb = b.storage().segment();
    long n = a.numel();
    double maxErr = 0;
    double maxIn = 0;
    for (long e = 0; e < n; e++) {
      double x = Elements.readFloat(sa, a.dtype(), a.offset() + e);
      double y = Elements.readFloat(sb, b.dtype(), b.offset() + e);
      double err = Math.abs(y - x);
      if (err > maxErr) {
        maxErr = err;
      }
      if (Math.abs(x) > maxIn) {
        maxIn = Math.abs(x);
      }
    }
    return new double[] {maxErr, maxIn == 0 ? 0 : maxErr / maxIn};
  }

  /** Metadata values as strings: scalars as is, arrays and lists as JSON arrays. */
  static String stringify(Object v) {
    if (v == null) {
      return "null";
    }
    if (v instanceof dev.fovea.tensor.io.GgufArray a) {
      return stringify(a.values());
    }
    if (v instanceof Collection<?> c) {
      StringBuilder sb = new StringBuilder("[");
      for (Object o : c) {
        if (sb.length() > 1) {
          sb.append(',');
        }
        sb.append(o instanceof CharSequence ? quote(o.toString()) : stringify(o));
      }
      return sb.append(']').toString();
    }
    if (v.getClass().isArray()) {
      List<Object> list = new ArrayList<>();
      for (int i = 0, n = Array.getLength(v); i < n; i++) {
        list.add(Array.get(v, i));
      }
      return stringify(list);
    }
    return v.toString();
  }

  private static String quote(String s) {
    StringBuilder sb = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        default -> {
          if (c < 0x20) {
            sb.append(String.format("\\u%04x", (int) c));
          } else {
            sb.append(c);
          }
        }
      }
    }
    return sb.append('"').toString();
  }
}
