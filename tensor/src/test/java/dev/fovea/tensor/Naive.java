package dev.fovea.tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.DoubleBinaryOperator;
import java.util.function.DoubleUnaryOperator;

/**
 * The slow twin of every kernel (STYLE point 9): double-precision reference implementations written
 * as plain loops over row-major {@code double[]}, independently of the code under test (no Ops, no
 * Views, no backend). Formulas follow PyTorch's definitions; each function names its reference.
 */
public final class Naive {
  private Naive() {}

  /** A dense row-major array of doubles. */
  public record Arr(int[] shape, double[] v) {
    public Arr {
      if (numel(shape) != v.length) {
        throw new IllegalArgumentException(v.length + " values for shape " + Arrays.toString(shape));
      }
    }

    public static Arr of(Tensor t) {
      float[] f = t.toFloatArray();
      double[] d = new double[f.length];
      for (int i = 0; i < f.length; i++) {
        d[i] = f[i];
      }
      return new Arr(t.shape(), d);
    }

    public static Arr zeros(int... shape) {
      return new Arr(shape, new double[numel(shape)]);
    }

    public int size(int d) {
      return shape[d < 0 ? d + shape.length : d];
    }

    public int rank() {
      return shape.length;
    }

    public double get(int... idx) {
      return v[flat(shape, idx)];
    }

    public Arr map(DoubleUnaryOperator f) {
      double[] o = new double[v.length];
      for (int i = 0; i < o.length; i++) {
        o[i] = f.applyAsDouble(v[i]);
      }
      return new Arr(shape, o);
    }

    public Arr abs() {
      return map(Math::abs);
    }

    public Tensor tensor() {
      float[] f = new float[v.length];
      for (int i = 0; i < f.length; i++) {
        f[i] = (float) v[i];
      }
      return Tensor.of(f, shape.clone());
    }
  }

  // ------------------------------------------------------------------ index helpers

  public static int numel(int[] shape) {
    int n = 1;
    for (int s : shape) {
      n *= s;
    }
    return n;
  }

  static int flat(int[] shape, int[] idx) {
    int f = 0;
    for (int d = 0; d < shape.length; d++) {
      f = f * shape[d] + idx[d];
    }
    return f;
  }

  static int[] unflat(int[] shape, int f) {
    int[] idx = new int[shape.length];
    for (int d = shape.length - 1; d >= 0; d--) {
      idx[d] = f % shape[d];
      f /= shape[d];
    }
    return idx;
  }

  // ------------------------------------------------------------------ special functions in double

  /**
   * erf(x) to about 1e-15 relative: the Maclaurin-type series erf(x) = 2/sqrt(pi) exp(-x^2)
   * sum_n 2^n x^(2n+1) / (1*3*...*(2n+1)) (all terms positive, no cancellation) for |x| &lt; 3, and
   * 1 - erfc(x) from the continued fraction beyond.
   */
  public static double erf(double x) {
    double ax = Math.abs(x);
    if (ax >= 3) {
      return Math.copySign(1 - erfcPos(ax), x);
    }
    return Math.copySign(erfSeries(ax), x);
  }

  /** erfc(x) = 1 - erf(x), accurate in relative terms for large positive x. */
  public static double erfc(double x) {
    if (x < 0) {
      return 2 - erfc(-x);
    }
    return x >= 3 ? erfcPos(x) : 1 - erfSeries(x);
  }

  private static double erfSeries(double x) {
    double term = x;
    double sum = x;
    for (int n = 1; n < 200; n++) {
      term *= 2 * x * x / (2 * n + 1);
      sum += term;
      if (term < 1e-18 * sum) {
        break;
      }
    }
    return 2 / Math.sqrt(Math.PI) * Math.exp(-x * x) * sum;
  }

  // erfc(x) = exp(-x^2)/sqrt(pi) * 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + ...))))), evaluated backwards (x >= 3).
  private static double erfcPos(double x) {
    double f = x;
    for (int k = 300; k >= 1; k--) {
      f = x + (k / 2.0) / f;
    }
    return Math.exp(-x * x) / Math.sqrt(Math.PI) / f;
  }

  public static double sigmoid(double x) {
    return 1 / (1 + Math.exp(-x));
  }

  /** torch gelu(approximate='none'): x * Phi(x) = x/2 erfc(-x/sqrt 2). */
  public static double gelu(double x) {
    return 0.5 * x * erfc(-x / Math.sqrt(2));
  }

  /**
   * torch gelu(approximate='tanh'): x/2 (1 + tanh u), u = sqrt(2/pi) (x + 0.044715 x^3), evaluated
   * as the identical x sigmoid(2u), because 1 + tanh u cancels in double too once x &lt; -6.
   */
  public static double geluTanh(double x) {
    double u = Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x);
    return x * sigmoid(2 * u);
  }

  /** OpenAI CLIP's QuickGELU. */
  public static double quickGelu(double x) {
    return x * sigmoid(1.702 * x);
  }

  public static double silu(double x) {
    return x * sigmoid(x);
  }

  /** The reference function of a unary op. */
  public static DoubleUnaryOperator unary(UnaryOp op) {
    return switch (op) {
      case NEG -> x -> -x;
      case EXP -> Math::exp;
      case LOG -> Math::log;
      case TANH -> Math::tanh;
      case ERF -> Naive::erf;
      case GELU -> Naive::gelu;
      case GELU_TANH -> Naive::geluTanh;
      case QUICK_GELU -> Naive::quickGelu;
      case SILU -> Naive::silu;
      case RELU -> x -> x > 0 ? x : 0;
      case SIGMOID -> Naive::sigmoid;
      case SQRT -> Math::sqrt;
      case RSQRT -> x -> 1 / Math.sqrt(x);
      case ABS -> Math::abs;
      case SQUARE -> x -> x * x;
      case RECIPROCAL -> x -> 1 / x;
      case SIN -> Math::sin;
      case COS -> Math::cos;
      case STEP -> x -> x > 0 ? 1 : 0;
    };
  }

  public static DoubleBinaryOperator binary(BinaryOp op) {
    return switch (op) {
      case ADD -> Double::sum;
      case SUB -> (a, b) -> a - b;
      case MUL -> (a, b) -> a * b;
      case DIV -> (a, b) -> a / b;
      case MAX -> Math::max;
      case MIN -> Math::min;
      case POW -> Math::pow;
      case EQ -> (a, b) -> a == b ? 1 : 0;
      case GT -> (a, b) -> a > b ? 1 : 0;
    };
  }

  // ------------------------------------------------------------------ elementwise with broadcasting

  public static int[] broadcastShape(int[] a, int[] b) {
    int r = Math.max(a.length, b.length);
    int[] o = new int[r];
    for (int i = 0; i < r; i++) {
      int da = i - (r - a.length) >= 0 ? a[i - (r - a.length)] : 1;
      int db = i - (r - b.length) >= 0 ? b[i - (r - b.length)] : 1;
      if (da != db && da != 1 && db != 1) {
        throw new IllegalArgumentException("not broadcastable");
      }
      o[i] = Math.max(da, db) == 1 ? 1 : (da == 1 ? db : da);
    }
    return o;
  }

  /** Element of {@code a} that broadcasts to index {@code idx} of a rank-r output. */
  static double at(Arr a, int[] idx) {
    int off = idx.length - a.rank();
    int f = 0;
    for (int d = 0; d < a.rank(); d++) {
      int i = a.shape[d] == 1 ? 0 : idx[d + off];
      f = f * a.shape[d] + i;
    }
    return a.v[f];
  }

  public static Arr binary(DoubleBinaryOperator f, Arr a, Arr b) {
    int[] s = broadcastShape(a.shape, b.shape);
    double[] o = new double[numel(s)];
    for (int i = 0; i < o.length; i++) {
      int[] idx = unflat(s, i);
      o[i] = f.applyAsDouble(at(a, idx), at(b, idx));
    }
    return new Arr(s, o);
  }

  /** {@code a} broadcast to {@code shape} (torch expand). */
  public static Arr expand(Arr a, int[] shape) {
    double[] o = new double[numel(shape)];
    for (int i = 0; i < o.length; i++) {
      o[i] = at(a, unflat(shape, i));
    }
    return new Arr(shape, o);
  }

  // ------------------------------------------------------------------ reductions

  /** Reduces dimension d with f over the list of values; the result drops (or keeps as 1) that dimension. */
  public static Arr reduce(Arr a, int d, boolean keepdim, java.util.function.ToDoubleFunction<double[]> f) {
    int[] outShape = a.shape.clone();
    outShape[d] = 1;
    int n = a.shape[d];
    double[] o = new double[numel(outShape)];
    for (int i = 0; i < o.length; i++) {
      int[] idx = unflat(outShape, i);
      double[] line = new double[n];
      for (int j = 0; j < n; j++) {
        idx[d] = j;
        line[j] = a.v[flat(a.shape, idx)];
      }
      o[i] = f.applyAsDouble(line);
    }
    return new Arr(keepdim ? outShape : drop(outShape, d), o);
  }

  static int[] drop(int[] s, int d) {
    int[] o = new int[s.length - 1];
    for (int i = 0, j = 0; i < s.length; i++) {
      if (i != d) {
        o[j++] = s[i];
      }
    }
    return o;
  }

  public static Arr sum(Arr a, int d, boolean keepdim) {
    return reduce(a, d, keepdim, l -> Arrays.stream(l).sum());
  }

  public static Arr mean(Arr a, int d, boolean keepdim) {
    return reduce(a, d, keepdim, l -> Arrays.stream(l).sum() / l.length);
  }

  public static Arr max(Arr a, int d, boolean keepdim) {
    return reduce(a, d, keepdim, l -> Arrays.stream(l).max().orElseThrow());
  }

  /** Index of the first maximum. */
  public static Arr argmax(Arr a, int d, boolean keepdim) {
    return reduce(a, d, keepdim, l -> {
      int best = 0;
      for (int j = 1; j < l.length; j++) {
        if (l[j] > l[best]) {
          best = j;
        }
      }
      return best;
    });
  }

  /** torch.topk(sorted=True) values and indices along d; ties broken by the lower index (values must be distinct for a unique answer). */
  public static Arr[] topk(Arr a, int k, int d, boolean largest) {
    int[] outShape = a.shape.clone();
    outShape[d] = k;
    int[] lineShape = a.shape.clone();
    lineShape[d] = 1;
    double[] vals = new double[numel(outShape)];
    double[] ids = new double[numel(outShape)];
    int n = a.shape[d];
    for (int i = 0; i < numel(lineShape); i++) {
      int[] idx = unflat(lineShape, i);
      boolean[] taken = new boolean[n];
      for (int r = 0; r < k; r++) {
        int best = -1;
        for (int j = 0; j < n; j++) {
          idx[d] = j;
          double x = a.v[flat(a.shape, idx)];
          if (!taken[j]) {
            if (best < 0) {
              best = j;
            } else {
              idx[d] = best;
              double y = a.v[flat(a.shape, idx)];
              if (largest ? x > y : x < y) {
                best = j;
              }
            }
          }
        }
        taken[best] = true;
        idx[d] = best;
        double bv = a.v[flat(a.shape, idx)];
        idx[d] = r;
        vals[flat(outShape, idx)] = bv;
        ids[flat(outShape, idx)] = best;
      }
    }
    return new Arr[] {new Arr(outShape, vals), new Arr(outShape, ids)};
  }

  // ------------------------------------------------------------------ matrix products

  /** torch.matmul: 1-d operands promoted and the added dimension removed; batch dimensions broadcast. */
  public static Arr matmul(Arr a, Arr b) {
    boolean aVec = a.rank() == 1;
    boolean bVec = b.rank() == 1;
    Arr a2 = aVec ? new Arr(new int[] {1, a.size(0)}, a.v) : a;
    Arr b2 = bVec ? new Arr(new int[] {b.size(0), 1}, b.v) : b;
    int m = a2.size(-2);
    int k = a2.size(-1);
    int n = b2.size(-1);
    if (b2.size(-2) != k) {
      throw new IllegalArgumentException("inner dimensions");
    }
    int[] batch = broadcastShape(Arrays.copyOf(a2.shape, a2.rank() - 2), Arrays.copyOf(b2.shape, b2.rank() - 2));
    int[] outShape = Arrays.copyOf(batch, batch.length + 2);
    outShape[batch.length] = m;
    outShape[batch.length + 1] = n;
    double[] o = new double[numel(outShape)];
    for (int f = 0; f < o.length; f++) {
      int[] idx = unflat(outShape, f);
      int i = idx[batch.length];
      int j = idx[batch.length + 1];
      double s = 0;
      for (int p = 0; p < k; p++) {
        int[] ia = idx.clone();
        ia[batch.length] = i;
        ia[batch.length + 1] = p;
        int[] ib = idx.clone();
        ib[batch.length] = p;
        ib[batch.length + 1] = j;
        s += at(a2, ia) * at(b2, ib);
      }
      o[f] = s;
    }
    int[] finalShape = outShape;
    if (aVec) {
      finalShape = drop(finalShape, finalShape.length - 2);
    }
    if (bVec) {
      finalShape = drop(finalShape, finalShape.length - 1);
    }
    return new Arr(finalShape, o);
  }

  /** x W^T + b with W [out, in]. */
  public static Arr linear(Arr x, Arr w, Arr b) {
    int out = w.size(0);
    int in = w.size(1);
    int rows = x.v.length / in;
    int[] shape = x.shape.clone();
    shape[shape.length - 1] = out;
    double[] o = new double[rows * out];
    for (int r = 0; r < rows; r++) {
      for (int j = 0; j < out; j++) {
        double s = b == null ? 0 : b.v[j];
        for (int p = 0; p < in; p++) {
          s += x.v[r * in + p] * w.v[j * in + p];
        }
        o[r * out + j] = s;
      }
    }
    return new Arr(shape, o);
  }

  // ------------------------------------------------------------------ softmax and norms

  /** softmax over d: exp(x - max) / sum; a line of all -inf gives zeros (fovea's convention). */
  public static Arr softmax(Arr a, int d, boolean log) {
    Arr out = Arr.zeros(a.shape);
    int[] lineShape = a.shape.clone();
    lineShape[d] = 1;
    int n = a.shape[d];
    for (int i = 0; i < numel(lineShape); i++) {
      int[] idx = unflat(lineShape, i);
      double max = Double.NEGATIVE_INFINITY;
      for (int j = 0; j < n; j++) {
        idx[d] = j;
        max = Math.max(max, a.get(idx));
      }
      double sum = 0;
      for (int j = 0; j < n; j++) {
        idx[d] = j;
        sum += max == Double.NEGATIVE_INFINITY ? 0 : Math.exp(a.get(idx) - max);
      }
      for (int j = 0; j < n; j++) {
        idx[d] = j;
        double x = a.get(idx);
        double y;
        if (max == Double.NEGATIVE_INFINITY) {
          y = log ? Double.NEGATIVE_INFINITY : 0;
        } else {
          y = log ? x - max - Math.log(sum) : Math.exp(x - max) / sum;
        }
        out.v[flat(a.shape, idx)] = y;
      }
    }
    return out;
  }

  /** torch layer_norm over the last dimension (biased variance). */
  public static Arr layerNorm(Arr x, Arr w, Arr b, double eps) {
    int n = x.size(-1);
    int rows = x.v.length / Math.max(1, n);
    double[] o = new double[x.v.length];
    for (int r = 0; r < rows; r++) {
      double mean = 0;
      for (int i = 0; i < n; i++) {
        mean += x.v[r * n + i];
      }
      mean /= n;
      double var = 0;
      for (int i = 0; i < n; i++) {
        double dd = x.v[r * n + i] - mean;
        var += dd * dd;
      }
      var /= n;
      double rstd = 1 / Math.sqrt(var + eps);
      for (int i = 0; i < n; i++) {
        double y = (x.v[r * n + i] - mean) * rstd;
        o[r * n + i] = y * (w == null ? 1 : w.v[i]) + (b == null ? 0 : b.v[i]);
      }
    }
    return new Arr(x.shape, o);
  }

  /** LLaMA RMSNorm: x / sqrt(mean(x^2) + eps) * w. */
  public static Arr rmsNorm(Arr x, Arr w, double eps) {
    int n = x.size(-1);
    int rows = x.v.length / Math.max(1, n);
    double[] o = new double[x.v.length];
    for (int r = 0; r < rows; r++) {
      double ms = 0;
      for (int i = 0; i < n; i++) {
        ms += x.v[r * n + i] * x.v[r * n + i];
      }
      double rstd = 1 / Math.sqrt(ms / n + eps);
      for (int i = 0; i < n; i++) {
        o[r * n + i] = x.v[r * n + i] * rstd * (w == null ? 1 : w.v[i]);
      }
    }
    return new Arr(x.shape, o);
  }

  // ------------------------------------------------------------------ gathering and joining

  /** weight [V, D] rows picked by ids (any shape). */
  public static Arr embedding(Arr w, long[] ids, int[] idShape) {
    int dd = w.size(1);
    int[] shape = Arrays.copyOf(idShape, idShape.length + 1);
    shape[idShape.length] = dd;
    double[] o = new double[ids.length * dd];
    for (int i = 0; i < ids.length; i++) {
      System.arraycopy(w.v, (int) ids[i] * dd, o, i * dd, dd);
    }
    return new Arr(shape, o);
  }

  public static Arr concat(List<Arr> parts, int d) {
    int[] shape = parts.get(0).shape.clone();
    shape[d] = parts.stream().mapToInt(p -> p.shape[d]).sum();
    double[] o = new double[numel(shape)];
    for (int f = 0; f < o.length; f++) {
      int[] idx = unflat(shape, f);
      int j = idx[d];
      for (Arr p : parts) {
        if (j < p.shape[d]) {
          idx[d] = j;
          o[f] = p.get(idx);
          break;
        }
        j -= p.shape[d];
      }
    }
    return new Arr(shape, o);
  }

  public static Arr stack(List<Arr> parts, int d) {
    List<Arr> us = new ArrayList<>();
    for (Arr p : parts) {
      int[] s = new int[p.rank() + 1];
      for (int i = 0, j = 0; i < s.length; i++) {
        s[i] = i == d ? 1 : p.shape[j++];
      }
      us.add(new Arr(s, p.v));
    }
    return concat(us, d);
  }

  public static Arr indexSelect(Arr x, int d, long[] index) {
    int[] shape = x.shape.clone();
    shape[d] = index.length;
    double[] o = new double[numel(shape)];
    for (int f = 0; f < o.length; f++) {
      int[] idx = unflat(shape, f);
      idx[d] = (int) index[idx[d]];
      o[f] = x.get(idx);
    }
    return new Arr(shape, o);
  }

  /** Elements start, start+step, ... below end of dimension d. */
  public static Arr slice(Arr x, int d, int start, int end, int step) {
    int[] shape = x.shape.clone();
    shape[d] = Math.max(0, (end - start + step - 1) / step);
    double[] o = new double[numel(shape)];
    for (int f = 0; f < o.length; f++) {
      int[] idx = unflat(shape, f);
      idx[d] = start + idx[d] * step;
      o[f] = x.get(idx);
    }
    return new Arr(shape, o);
  }

  /** out[i0..] = x[i_perm...]: dimension k of the result is dimension perm[k] of x. */
  public static Arr permute(Arr x, int[] perm) {
    int[] shape = new int[perm.length];
    for (int k = 0; k < perm.length; k++) {
      shape[k] = x.shape[perm[k]];
    }
    double[] o = new double[numel(shape)];
    for (int f = 0; f < o.length; f++) {
      int[] idx = unflat(shape, f);
      int[] src = new int[perm.length];
      for (int k = 0; k < perm.length; k++) {
        src[perm[k]] = idx[k];
      }
      o[f] = x.get(src);
    }
    return new Arr(shape, o);
  }

  // ------------------------------------------------------------------ attention, rope

  /**
   * softmax(q k^T * scale + bias (+ causal mask)) v for q [B, H, Tq, D], k/v [B, Hkv, Tk, D];
   * query head h reads key/value head h / (H / Hkv). Causal: query i sees keys j &lt;= i + Tk - Tq.
   */
  public static Arr attention(Arr q, Arr k, Arr v, Arr bias, boolean causal, double scale) {
    int bN = q.size(0);
    int h = q.size(1);
    int tq = q.size(2);
    int dd = q.size(3);
    int hkv = k.size(1);
    int tk = k.size(2);
    int rep = h / hkv;
    double[] o = new double[bN * h * tq * dd];
    for (int b = 0; b < bN; b++) {
      for (int hh = 0; hh < h; hh++) {
        int kh = hh / rep;
        for (int i = 0; i < tq; i++) {
          double[] s = new double[tk];
          double max = Double.NEGATIVE_INFINITY;
          for (int j = 0; j < tk; j++) {
            double dot = 0;
            for (int c = 0; c < dd; c++) {
              dot += q.get(b, hh, i, c) * k.get(b, kh, j, c);
            }
            s[j] = dot * scale + (bias == null ? 0 : at(bias, new int[] {b, hh, i, j}));
            if (causal && j > i + tk - tq) {
              s[j] = Double.NEGATIVE_INFINITY;
            }
            max = Math.max(max, s[j]);
          }
          if (max == Double.NEGATIVE_INFINITY) {
            continue; // every key masked: zeros
          }
          double sum = 0;
          for (int j = 0; j < tk; j++) {
            s[j] = Math.exp(s[j] - max);
            sum += s[j];
          }
          for (int c = 0; c < dd; c++) {
            double acc = 0;
            for (int j = 0; j < tk; j++) {
              acc += s[j] / sum * v.get(b, kh, j, c);
            }
            o[((b * h + hh) * tq + i) * dd + c] = acc;
          }
        }
      }
    }
    return new Arr(new int[] {bN, h, tq, dd}, o);
  }

  /**
   * Rotary embedding of x [..., T, D] with cos/sin [T, D/2]: pair i is (x[i], x[i + D/2]) (half
   * rotation, HF rotate_half) or (x[2i], x[2i+1]) (interleaved, Meta); out = (a cos - b sin, b cos + a sin).
   */
  public static Arr rope(Arr x, Arr cos, Arr sin, boolean interleaved) {
    int dd = x.size(-1);
    int t = x.size(-2);
    int half = dd / 2;
    double[] o = new double[x.v.length];
    for (int base = 0; base < x.v.length; base += dd) {
      int pos = (base / dd) % t;
      for (int i = 0; i < half; i++) {
        int ia = interleaved ? 2 * i : i;
        int ib = interleaved ? 2 * i + 1 : i + half;
        double a = x.v[base + ia];
        double b = x.v[base + ib];
        double c = cos.v[pos * half + i];
        double s = sin.v[pos * half + i];
        o[base + ia] = a * c - b * s;
        o[base + ib] = b * c + a * s;
      }
    }
    return new Arr(x.shape, o);
  }

  // ------------------------------------------------------------------ convolution and resizing

  /** torch conv2d (cross-correlation), zero padding, square stride/padding. */
  public static Arr conv2d(Arr x, Arr w, Arr bias, int stride, int pad) {
    int bN = x.size(0);
    int c = x.size(1);
    int hh = x.size(2);
    int ww = x.size(3);
    int oc = w.size(0);
    int kh = w.size(2);
    int kw = w.size(3);
    int oh = (hh + 2 * pad - kh) / stride + 1;
    int ow = (ww + 2 * pad - kw) / stride + 1;
    double[] o = new double[bN * oc * oh * ow];
    for (int b = 0; b < bN; b++) {
      for (int f = 0; f < oc; f++) {
        for (int i = 0; i < oh; i++) {
          for (int j = 0; j < ow; j++) {
            double s = bias == null ? 0 : bias.v[f];
            for (int ch = 0; ch < c; ch++) {
              for (int u = 0; u < kh; u++) {
                for (int vv = 0; vv < kw; vv++) {
                  int y = i * stride + u - pad;
                  int xx = j * stride + vv - pad;
                  if (y >= 0 && y < hh && xx >= 0 && xx < ww) {
                    s += x.get(b, ch, y, xx) * w.get(f, ch, u, vv);
                  }
                }
              }
            }
            o[((b * oc + f) * oh + i) * ow + j] = s;
          }
        }
      }
    }
    return new Arr(new int[] {bN, oc, oh, ow}, o);
  }

  /**
   * torch interpolate(mode='bilinear'|'bicubic') of the last two dims, written per output pixel as
   * aten/src/ATen/native/UpSample.h does (area_pixel_compute_source_index; cubic A = -0.75 with
   * clamped taps; bilinear clamps negative sources to 0 and the upper tap to the border).
   */
  public static Arr interpolate(Arr x, int oh, int ow, boolean bicubic, boolean alignCorners) {
    int hh = x.size(-2);
    int ww = x.size(-1);
    int planes = x.v.length / (hh * ww);
    int[] shape = x.shape.clone();
    shape[shape.length - 2] = oh;
    shape[shape.length - 1] = ow;
    double[] o = new double[planes * oh * ow];
    for (int p = 0; p < planes; p++) {
      for (int i = 0; i < oh; i++) {
        for (int j = 0; j < ow; j++) {
          double sy = source(hh, oh, i, alignCorners, bicubic);
          double sx = source(ww, ow, j, alignCorners, bicubic);
          double acc = 0;
          if (bicubic) {
            int y0 = (int) Math.floor(sy);
            int x0 = (int) Math.floor(sx);
            double[] cy = cubic(sy - y0);
            double[] cx = cubic(sx - x0);
            for (int a = 0; a < 4; a++) {
              for (int b = 0; b < 4; b++) {
                int yy = Math.clamp(y0 - 1 + a, 0, hh - 1);
                int xx = Math.clamp(x0 - 1 + b, 0, ww - 1);
                acc += cy[a] * cx[b] * x.v[(p * hh + yy) * ww + xx];
              }
            }
          } else {
            int y0 = (int) sy;
            int x0 = (int) sx;
            int y1 = y0 < hh - 1 ? y0 + 1 : y0;
            int x1 = x0 < ww - 1 ? x0 + 1 : x0;
            double ly = sy - y0;
            double lx = sx - x0;
            acc = (1 - ly) * ((1 - lx) * x.v[(p * hh + y0) * ww + x0] + lx * x.v[(p * hh + y0) * ww + x1])
                + ly * ((1 - lx) * x.v[(p * hh + y1) * ww + x0] + lx * x.v[(p * hh + y1) * ww + x1]);
          }
          o[(p * oh + i) * ow + j] = acc;
        }
      }
    }
    return new Arr(shape, o);
  }

  private static double source(int in, int out, int dst, boolean alignCorners, boolean cubic) {
    if (alignCorners) {
      double scale = out > 1 ? (in - 1.0) / (out - 1.0) : 0;
      return scale * dst;
    }
    double scale = (double) in / out;
    double src = scale * (dst + 0.5) - 0.5;
    return !cubic && src < 0 ? 0 : src;
  }

  // Keys' cubic convolution kernel with A = -0.75 at distances 1+t, t, 1-t, 2-t.
  private static double[] cubic(double t) {
    double[] d = {1 + t, t, 1 - t, 2 - t};
    double[] w = new double[4];
    double a = -0.75;
    for (int i = 0; i < 4; i++) {
      double z = Math.abs(d[i]);
      w[i] = z <= 1 ? (a + 2) * z * z * z - (a + 3) * z * z + 1 : z < 2 ? a * z * z * z - 5 * a * z * z + 8 * a * z - 4 * a : 0;
    }
    return w;
  }
}
