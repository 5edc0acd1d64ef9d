package dev.fovea.tensor.cpu;

import static dev.fovea.tensor.cpu.Elements.F32;

import dev.fovea.tensor.Backend;
import dev.fovea.tensor.BinaryOp;
import dev.fovea.tensor.DType;
import dev.fovea.tensor.Device;
import dev.fovea.tensor.ReduceOp;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.UnaryOp;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The CPU backend: Vector API kernels ({@code FloatVector.SPECIES_PREFERRED}) with scalar twins
 * selected by {@code -Dfovea.simd=false}, run on the shared {@link Parallel} pool with fixed
 * chunking. Elementwise kernels take a vector path when a row's inner stride is 1 (or 0 for a
 * broadcast scalar) and a scalar path otherwise.
 */
public final class CpuBackend implements Backend {
  public static final CpuBackend INSTANCE = new CpuBackend();

  /** False with {@code -Dfovea.simd=false}: every kernel takes its scalar path. */
  public static final boolean SIMD = !"false".equalsIgnoreCase(System.getProperty("fovea.simd"));

  static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
  static final int L = S.length();
  static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
  // Constants as vectors: blend(float, mask) broadcasts inside the loop and boxes the result.
  private static final FloatVector ZERO = FloatVector.zero(S);
  private static final FloatVector ONE = FloatVector.broadcast(S, 1f);

  private CpuBackend() {
    JvmOptions.warnOnce();
  }

  @Override
  public Device device() {
    return Device.CPU;
  }

  // ------------------------------------------------------------------ copy / convert

  @Override
  public void copy(Tensor src, Tensor dst) {
    DType sd = src.dtype();
    DType dd = dst.dtype();
    MemorySegment s = src.storage().segment();
    MemorySegment d = dst.storage().segment();
    if (sd == dd && src.isContiguous() && dst.isContiguous()) {
      long bytes = sd.byteSize(src.numel());
      MemorySegment.copy(s, sd.byteOffset(src.offset()), d, dd.byteOffset(dst.offset()), bytes);
      return;
    }
    if (dd.isQuantized()) {
      quantizeInto(src, dst);
      return;
    }
    Layout lay = new Layout(dst, src);
    long ds = lay.innerStride(0);
    long ss = lay.innerStride(1);
    int n = lay.n;
    boolean ints = !sd.isFloatingPoint() && !dd.isFloatingPoint();
    Parallel.forRange(lay.rows, lay.grain(), (r0, r1) -> {
      for (long r = r0; r < r1; r++) {
        long de = lay.rowOffset(0, r);
        long se = lay.rowOffset(1, r);
        if (sd == DType.F32 && dd == DType.F32 && ds == 1 && ss == 1) {
          MemorySegment.copy(s, se * 4, d, de * 4, n * 4L);
        } else if (ints) {
          for (int i = 0; i < n; i++) {
            Elements.writeLong(d, dd, de + i * ds, Elements.readLong(s, sd, se + i * ss));
          }
        } else if (dd == DType.F32) {
          for (int i = 0; i < n; i++) {
            d.set(F32, (de + i * ds) * 4, Elements.readFloat(s, sd, se + i * ss));
          }
        } else {
          for (int i = 0; i < n; i++) {
            Elements.writeFloat(d, dd, de + i * ds, Elements.readFloat(s, sd, se + i * ss));
          }
        }
      }
    });
  }

  /** Quantizes src (any float view) into a contiguous block-typed dst, 32 elements at a time. */
  private static void quantizeInto(Tensor src, Tensor dst) {
    if (!dst.isContiguous()) {
      throw new IllegalArgumentException("quantized copies need a contiguous destination");
    }
    float[] all = src.toFloatArray();
    MemorySegment d = dst.storage().segment();
    long base = dst.offset();
    Parallel.forRange(all.length / 32, 1024, (b0, b1) -> {
      for (long b = b0; b < b1; b++) {
        Elements.quantizeBlock(d, dst.dtype(), base + b * 32, all, (int) (b * 32));
      }
    });
  }

  // ------------------------------------------------------------------ elementwise

  @Override
  public void unary(UnaryOp op, Tensor x, Tensor out) {
    Layout lay = new Layout(out, x);
    MemorySegment xs = x.storage().segment();
    MemorySegment os = out.storage().segment();
    long xst = lay.innerStride(1);
    long ost = lay.innerStride(0);
    int n = lay.n;
    Parallel.forRange(lay.rows, lay.grain(), (r0, r1) -> {
      for (long r = r0; r < r1; r++) {
        long oe = lay.rowOffset(0, r);
        long xe = lay.rowOffset(1, r);
        int i = 0;
        if (SIMD && xst == 1 && ost == 1) {
          i = unaryRowVector(op, xs, xe, os, oe, n);
        }
        for (; i < n; i++) {
          os.set(F32, (oe + i * ost) * 4, unaryScalar(op, xs.get(F32, (xe + i * xst) * 4)));
        }
      }
    });
  }

  static float unaryScalar(UnaryOp op, float x) {
    return switch (op) {
      case NEG -> -x;
      case EXP -> CpuMath.expf(x);
      case LOG -> (float) Math.log(x);
      case TANH -> (float) Math.tanh(x);
      case ERF -> CpuMath.erf(x);
      case GELU -> CpuMath.gelu(x);
      case GELU_TANH -> CpuMath.geluTanh(x);
      case QUICK_GELU -> CpuMath.quickGelu(x);
      case SILU -> x * CpuMath.sigmoid(x);
      case RELU -> x > 0 ? x : 0f;
      case SIGMOID -> CpuMath.sigmoid(x);
      case SQRT -> (float) Math.sqrt(x);
      case RSQRT -> (float) (1.0 / Math.sqrt(x));
      case ABS -> Math.abs(x);
      case SQUARE -> x * x;
      case RECIPROCAL -> 1f / x;
      case SIN -> (float) Math.sin(x);
      case COS -> (float) Math.cos(x);
      case STEP -> x > 0 ? 1f : 0f;
    };
  }

  /**
   * The vector part of one unit-stride row of a unary op; returns how many elements it did (the
   * caller finishes the tail). Each op has its own loop in its own small method so no FloatVector crosses a call C2 may
   * decline to inline: a vector passed to or returned from a non-inlined method is boxed on the
   * heap (about 12 bytes per element), which is what a shared {@code unaryVector(op, v)} call in the
   * loop did once several ops had run. The compound functions (erf, gelu, sigmoid...) are small
   * {@link CpuMath} methods called from inside their own loop, where C2 inlines them;
   * {@code KernelAllocationTest} checks that no op allocates per element.
   */
  static int unaryRowVector(UnaryOp op, MemorySegment xs, long xe, MemorySegment os, long oe, int n) {
    return switch (op) {
      case NEG -> negRow(xs, xe, os, oe, n);
      case EXP -> expRow(xs, xe, os, oe, n);
      case LOG -> logRow(xs, xe, os, oe, n);
      case TANH -> tanhRow(xs, xe, os, oe, n);
      case ERF -> erfRow(xs, xe, os, oe, n);
      case GELU -> geluRow(xs, xe, os, oe, n);
      case GELU_TANH -> geluTanhRow(xs, xe, os, oe, n);
      case QUICK_GELU -> quickGeluRow(xs, xe, os, oe, n);
      case SILU -> siluRow(xs, xe, os, oe, n);
      case RELU -> reluRow(xs, xe, os, oe, n);
      case SIGMOID -> sigmoidRow(xs, xe, os, oe, n);
      case SQRT -> sqrtRow(xs, xe, os, oe, n);
      case RSQRT -> rsqrtRow(xs, xe, os, oe, n);
      case ABS -> absRow(xs, xe, os, oe, n);
      case SQUARE -> squareRow(xs, xe, os, oe, n);
      case RECIPROCAL -> reciprocalRow(xs, xe, os, oe, n);
      case SIN -> sinRow(xs, xe, os, oe, n);
      case COS -> cosRow(xs, xe, os, oe, n);
      case STEP -> stepRow(xs, xe, os, oe, n);
    };
  }

  private static int negRow(MemorySegment xs, long xe, MemorySegment os, long oe, int n) {
    int i = 0;
    for (; i <= n - L; i += L) {
      FloatVector x = FloatVector.fromMemorySegment(S, xs, (xe + i) * 4, LE);
      x.neg().intoMemorySegment(os, (oe + i) * 4, LE);
    }
    return i;
  }

  private static int expRow(MemorySegment xs, long xe, MemorySegment os, long oe, int n) {
    int i = 0;
    for (; i <= n - L; i += L) {
      FloatVector x = FloatVector.fromMemorySegment(S, xs, (xe + i) * 4, LE);
      CpuMath.exp(x).intoMemorySegment(os, (oe + i) * 4, LE);
    }
    return i;
  }

  /**
   * Whether LOG and POW go through the Vector API's math operations (the JDK's SVML stubs). HotSpot
   * registers those two stubs only where the CPU has AVX512DQ (its generate_vector_math_stubs skips
   * them otherwise); without the stub the Vector API falls back to Java code that boxes every vector
   * (AVX2 Zen 3, 2026-12-08: KernelAllocationTest saw 20 bytes per element for POW). A preferred
   * species of 16 floats means AVX-512 (F, and DQ on every such CPU since Skylake-SP and Zen 4);
   * elsewhere the rows run the scalar loop ({@code Math.log}, {@code Math.pow}, both intrinsics).
   */
  static final boolean VECTOR_LOG_POW = L >= 16;

  private static int logRow(MemorySegment xs, long xe, MemorySegment os, long oe, int n) {
    int i = 0;
    if (!VECTOR_LOG_POW) {
      return 0; // the caller's scalar loop does the row
    }
    for (; i <= n - L; i += L) {
      FloatVector x = FloatVector.fromMemorySegment(S, xs, (xe + i) * 4, LE);
      x.lanewise(VectorOperators.LOG).intoMemorySegment(os, (oe + i) * 4, LE);
    }
    return i;
  }

  private static int tanhRow(MemorySegment xs, long xe, MemorySegment os, long oe, int n) {
    int i = 0;
    for (; i <= n - L; i += L) {
      FloatVector x = FloatVector.fromMemorySegment(S, xs, (xe + i) * 4, LE);
      x.lanewise(VectorOperators.TANH).intoMemorySegment(os, (oe + i) * 4, LE);
    }
    return i;
  }

  private static int erfRow(MemorySegment xs, long xe, MemorySegment os, long oe, int n) {
    int i = 0;
    for (; i <= n - L; i += L) {
      FloatVector x = FloatVector.fromMemorySegment(S, xs, (xe + i) * 4, LE);
      CpuMath.erf(x).intoMemorySegment(os, (oe + i) * 4, LE);
    }
    return i;
  }

  private static int geluRow(MemorySegment xs, long xe, MemorySegment os, long oe, int n) {
    int i = 0;
    for (; i <= n - L; i += L) {
      FloatVector x = FloatVector.fromMemorySegment(S, xs, (xe + i) * 4, LE);
      CpuMath.gelu(x).intoMemorySegment(os, (oe + i) * 4, LE);
    }
    return i;
  }

  private static int geluTanhRow(MemorySegment xs, long xe, MemorySegment os, long oe, int n) {
    int i = 0;
    for (; i <= n - L; i += L) {
      FloatVector x = FloatVector.fromMemorySegment(S, xs, (xe + i) * 4, LE);
      CpuMath.geluTanh(x).intoMemorySegment(os, (oe + i) * 4, LE);
    }
    return i;
  }

  private static int quickGeluRow(MemorySegment xs, long xe, MemorySegment os, long oe, int n) {
    int i = 0;
    for (; i <= n - L; i += L) {
      FloatVector x = FloatVector.fromMemorySegment(S, xs, (xe + i) * 4, LE);
      CpuMath.quickGelu(x).intoMemorySegment(os, (oe + i) * 4, LE);
    }
    return i;
  }

  private static int siluRow(MemorySegment xs, long xe, MemorySegment os, long oe, int n) {
    int i = 0;
    for (; i <= n - L; i += L) {
      FloatVector x = FloatVector.fromMemorySegment(S, xs, (xe + i) * 4, LE);
      x.mul(CpuMath.sigmoid(x)).intoMemorySegment(os, (oe + i) * 4, LE);
    }
    return i;
  }

  private static int reluRow(MemorySegment xs, long xe, MemorySegment os, long oe, int n) {
    int i = 0;
    for (; i <= n - L; i += L) {
      FloatVector x = FloatVector.fromMemorySegment(S, xs, (xe + i) * 4, LE);
      x.max(0f).intoMemorySegment(os, (oe + i) * 4, LE);
    }
    return i;
  }

  private static int sigmoidRow(MemorySegment xs, long xe, MemorySegment os, long oe, int n) {
    int i = 0;
    for (; i <= n - L; i += L) {
      FloatVector x = FloatVector.fromMemorySegment(S, xs, (xe + i) * 4, LE);
      CpuMath.sigmoid(x).intoMemorySegment(os, (oe + i) * 4, LE);
    }
    return i;
  }

  private static int sqrtRow(MemorySegment xs, long xe, MemorySegment os, long oe, int n) {
    int i = 0;
    for (; i <= n - L; i += L) {
      FloatVector x = FloatVector.fromMemorySegment(S, xs, (xe + i) * 4, LE);
      x.sqrt().intoMemorySegment(os, (oe + i) * 4, LE);
    }
    return i;
  }

  private static int rsqrtRow(MemorySegment xs, long xe, MemorySegment os, long oe, int n) {
    int i = 0;
    for (; i <= n - L; i += L) {
      FloatVector x = FloatVector.fromMemorySegment(S, xs, (xe + i) * 4, LE);
      FloatVector.broadcast(S, 1f).div(x.sqrt()).intoMemorySegment(os, (oe + i) * 4, LE);
    }
    return i;
  }

  private static int absRow(MemorySegment xs, long xe, MemorySegment os, long oe, int n) {
    int i = 0;
    for (; i <= n - L; i += L) {
      FloatVector x = FloatVector.fromMemorySegment(S, xs, (xe + i) * 4, LE);
      x.abs().intoMemorySegment(os, (oe + i) * 4, LE);
    }
    return i;
  }

  private static int squareRow(MemorySegment xs, long xe, MemorySegment os, long oe, int n) {
    int i = 0;
    for (; i <= n - L; i += L) {
      FloatVector x = FloatVector.fromMemorySegment(S, xs, (xe + i) * 4, LE);
      x.mul(x).intoMemorySegment(os, (oe + i) * 4, LE);
    }
    return i;
  }

  private static int reciprocalRow(MemorySegment xs, long xe, MemorySegment os, long oe, int n) {
    int i = 0;
    for (; i <= n - L; i += L) {
      FloatVector x = FloatVector.fromMemorySegment(S, xs, (xe + i) * 4, LE);
      FloatVector.broadcast(S, 1f).div(x).intoMemorySegment(os, (oe + i) * 4, LE);
    }
    return i;
  }

  private static int sinRow(MemorySegment xs, long xe, MemorySegment os, long oe, int n) {
    int i = 0;
    for (; i <= n - L; i += L) {
      FloatVector x = FloatVector.fromMemorySegment(S, xs, (xe + i) * 4, LE);
      x.lanewise(VectorOperators.SIN).intoMemorySegment(os, (oe + i) * 4, LE);
    }
    return i;
  }

  private static int cosRow(MemorySegment xs, long xe, MemorySegment os, long oe, int n) {
    int i = 0;
    for (; i <= n - L; i += L) {
      FloatVector x = FloatVector.fromMemorySegment(S, xs, (xe + i) * 4, LE);
      x.lanewise(VectorOperators.COS).intoMemorySegment(os, (oe + i) * 4, LE);
    }
    return i;
  }

  private static int stepRow(MemorySegment xs, long xe, MemorySegment os, long oe, int n) {
    int i = 0;
    FloatVector zero = FloatVector.zero(S);
    FloatVector one = FloatVector.broadcast(S, 1f);
    for (; i <= n - L; i += L) {
      FloatVector x = FloatVector.fromMemorySegment(S, xs, (xe + i) * 4, LE);
      zero.blend(one, x.compare(VectorOperators.GT, zero)).intoMemorySegment(os, (oe + i) * 4, LE);
    }
    return i;
  }

  /** One vector of {@code op} computed by the production row loop (tests use it to check every lane). */
  static FloatVector unaryVector(UnaryOp op, FloatVector x) {
    MemorySegment in = MemorySegment.ofArray(new byte[L * 4]); // vector access to heap segments needs byte[]
    MemorySegment out = MemorySegment.ofArray(new byte[L * 4]);
    x.intoMemorySegment(in, 0, LE);
    for (int i = unaryRowVector(op, in, 0, out, 0, L); i < L; i++) { // as unary: lanes the row kernel left
      out.set(F32, 4L * i, unaryScalar(op, in.get(F32, 4L * i)));
    }
    return FloatVector.fromMemorySegment(S, out, 0, LE);
  }

  @Override
  public void binary(BinaryOp op, Tensor a, Tensor b, Tensor out) {
    Layout lay = new Layout(out, a, b);
    MemorySegment as = a.storage().segment();
    MemorySegment bs = b.storage().segment();
    MemorySegment os = out.storage().segment();
    long ost = lay.innerStride(0);
    long ast = lay.innerStride(1);
    long bst = lay.innerStride(2);
    int n = lay.n;
    Parallel.forRange(lay.rows, lay.grain(), (r0, r1) -> {
      for (long r = r0; r < r1; r++) {
        long oe = lay.rowOffset(0, r);
        long ae = lay.rowOffset(1, r);
        long be = lay.rowOffset(2, r);
        int i = 0;
        if (SIMD && ost == 1 && (ast == 1 || ast == 0) && (bst == 1 || bst == 0) && (ast | bst) != 0) {
          i = binaryRowVector(op, as, ae, ast, bs, be, bst, os, oe, n);
        }
        for (; i < n; i++) {
          float x = as.get(F32, (ae + i * ast) * 4);
          float y = bs.get(F32, (be + i * bst) * 4);
          os.set(F32, (oe + i * ost) * 4, binaryScalar(op, x, y));
        }
      }
    });
  }

  static float binaryScalar(BinaryOp op, float x, float y) {
    return switch (op) {
      case ADD -> x + y;
      case SUB -> x - y;
      case MUL -> x * y;
      case DIV -> x / y;
      case MAX -> Math.max(x, y);
      case MIN -> Math.min(x, y);
      case POW -> (float) Math.pow(x, y);
      case EQ -> x == y ? 1f : 0f;
      case GT -> x > y ? 1f : 0f;
    };
  }

  /**
   * The vector part of one row of a binary op whose operands have unit or zero (broadcast) inner
   * stride; returns how many elements it did. One small method per op, with the broadcast operand
   * hoisted, so no FloatVector crosses a call or a phi with null (either would box it on the heap).
   */
  static int binaryRowVector(BinaryOp op, MemorySegment as, long ae, long ast, MemorySegment bs, long be, long bst, MemorySegment os, long oe, int n) {
    return switch (op) {
      case ADD -> addRow(as, ae, ast, bs, be, bst, os, oe, n);
      case SUB -> subRow(as, ae, ast, bs, be, bst, os, oe, n);
      case MUL -> mulRow(as, ae, ast, bs, be, bst, os, oe, n);
      case DIV -> divRow(as, ae, ast, bs, be, bst, os, oe, n);
      case MAX -> maxRow(as, ae, ast, bs, be, bst, os, oe, n);
      case MIN -> minRow(as, ae, ast, bs, be, bst, os, oe, n);
      case POW -> powRow(as, ae, ast, bs, be, bst, os, oe, n);
      case EQ -> eqRow(as, ae, ast, bs, be, bst, os, oe, n);
      case GT -> gtRow(as, ae, ast, bs, be, bst, os, oe, n);
    };
  }

  private static int addRow(MemorySegment as, long ae, long ast, MemorySegment bs, long be, long bst, MemorySegment os, long oe, int n) {
    int i = 0;
    if (ast == 1 && bst == 1) {
      for (; i <= n - L; i += L) {
        FloatVector x = FloatVector.fromMemorySegment(S, as, (ae + i) * 4, LE);
        FloatVector y = FloatVector.fromMemorySegment(S, bs, (be + i) * 4, LE);
        x.add(y).intoMemorySegment(os, (oe + i) * 4, LE);
      }
    } else if (ast == 1) {
      FloatVector y = FloatVector.broadcast(S, bs.get(F32, be * 4));
      for (; i <= n - L; i += L) {
        FloatVector x = FloatVector.fromMemorySegment(S, as, (ae + i) * 4, LE);
        x.add(y).intoMemorySegment(os, (oe + i) * 4, LE);
      }
    } else {
      FloatVector x = FloatVector.broadcast(S, as.get(F32, ae * 4));
      for (; i <= n - L; i += L) {
        FloatVector y = FloatVector.fromMemorySegment(S, bs, (be + i) * 4, LE);
        x.add(y).intoMemorySegment(os, (oe + i) * 4, LE);
      }
    }
    return i;
  }

  private static int subRow(MemorySegment as, long ae, long ast, MemorySegment bs, long be, long bst, MemorySegment os, long oe, int n) {
    int i = 0;
    if (ast == 1 && bst == 1) {
      for (; i <= n - L; i += L) {
        FloatVector x = FloatVector.fromMemorySegment(S, as, (ae + i) * 4, LE);
        FloatVector y = FloatVector.fromMemorySegment(S, bs, (be + i) * 4, LE);
        x.sub(y).intoMemorySegment(os, (oe + i) * 4, LE);
      }
    } else if (ast == 1) {
      FloatVector y = FloatVector.broadcast(S, bs.get(F32, be * 4));
      for (; i <= n - L; i += L) {
        FloatVector x = FloatVector.fromMemorySegment(S, as, (ae + i) * 4, LE);
        x.sub(y).intoMemorySegment(os, (oe + i) * 4, LE);
      }
    } else {
      FloatVector x = FloatVector.broadcast(S, as.get(F32, ae * 4));
      for (; i <= n - L; i += L) {
        FloatVector y = FloatVector.fromMemorySegment(S, bs, (be + i) * 4, LE);
        x.sub(y).intoMemorySegment(os, (oe + i) * 4, LE);
      }
    }
    return i;
  }

  private static int mulRow(MemorySegment as, long ae, long ast, MemorySegment bs, long be, long bst, MemorySegment os, long oe, int n) {
    int i = 0;
    if (ast == 1 && bst == 1) {
      for (; i <= n - L; i += L) {
        FloatVector x = FloatVector.fromMemorySegment(S, as, (ae + i) * 4, LE);
        FloatVector y = FloatVector.fromMemorySegment(S, bs, (be + i) * 4, LE);
        x.mul(y).intoMemorySegment(os, (oe + i) * 4, LE);
      }
    } else if (ast == 1) {
      FloatVector y = FloatVector.broadcast(S, bs.get(F32, be * 4));
      for (; i <= n - L; i += L) {
        FloatVector x = FloatVector.fromMemorySegment(S, as, (ae + i) * 4, LE);
        x.mul(y).intoMemorySegment(os, (oe + i) * 4, LE);
      }
    } else {
      FloatVector x = FloatVector.broadcast(S, as.get(F32, ae * 4));
      for (; i <= n - L; i += L) {
        FloatVector y = FloatVector.fromMemorySegment(S, bs, (be + i) * 4, LE);
        x.mul(y).intoMemorySegment(os, (oe + i) * 4, LE);
      }
    }
    return i;
  }

  private static int divRow(MemorySegment as, long ae, long ast, MemorySegment bs, long be, long bst, MemorySegment os, long oe, int n) {
    int i = 0;
    if (ast == 1 && bst == 1) {
      for (; i <= n - L; i += L) {
        FloatVector x = FloatVector.fromMemorySegment(S, as, (ae + i) * 4, LE);
        FloatVector y = FloatVector.fromMemorySegment(S, bs, (be + i) * 4, LE);
        x.div(y).intoMemorySegment(os, (oe + i) * 4, LE);
      }
    } else if (ast == 1) {
      FloatVector y = FloatVector.broadcast(S, bs.get(F32, be * 4));
      for (; i <= n - L; i += L) {
        FloatVector x = FloatVector.fromMemorySegment(S, as, (ae + i) * 4, LE);
        x.div(y).intoMemorySegment(os, (oe + i) * 4, LE);
      }
    } else {
      FloatVector x = FloatVector.broadcast(S, as.get(F32, ae * 4));
      for (; i <= n - L; i += L) {
        FloatVector y = FloatVector.fromMemorySegment(S, bs, (be + i) * 4, LE);
        x.div(y).intoMemorySegment(os, (oe + i) * 4, LE);
      }
    }
    return i;
  }

  private static int maxRow(MemorySegment as, long ae, long ast, MemorySegment bs, long be, long bst, MemorySegment os, long oe, int n) {
    int i = 0;
    if (ast == 1 && bst == 1) {
      for (; i <= n - L; i += L) {
        FloatVector x = FloatVector.fromMemorySegment(S, as, (ae + i) * 4, LE);
        FloatVector y = FloatVector.fromMemorySegment(S, bs, (be + i) * 4, LE);
        x.max(y).intoMemorySegment(os, (oe + i) * 4, LE);
      }
    } else if (ast == 1) {
      FloatVector y = FloatVector.broadcast(S, bs.get(F32, be * 4));
      for (; i <= n - L; i += L) {
        FloatVector x = FloatVector.fromMemorySegment(S, as, (ae + i) * 4, LE);
        x.max(y).intoMemorySegment(os, (oe + i) * 4, LE);
      }
    } else {
      FloatVector x = FloatVector.broadcast(S, as.get(F32, ae * 4));
      for (; i <= n - L; i += L) {
        FloatVector y = FloatVector.fromMemorySegment(S, bs, (be + i) * 4, LE);
        x.max(y).intoMemorySegment(os, (oe + i) * 4, LE);
      }
    }
    return i;
  }

  private static int minRow(MemorySegment as, long ae, long ast, MemorySegment bs, long be, long bst, MemorySegment os, long oe, int n) {
    int i = 0;
    if (ast == 1 && bst == 1) {
      for (; i <= n - L; i += L) {
        FloatVector x = FloatVector.fromMemorySegment(S, as, (ae + i) * 4, LE);
        FloatVector y = FloatVector.fromMemorySegment(S, bs, (be + i) * 4, LE);
        x.min(y).intoMemorySegment(os, (oe + i) * 4, LE);
      }
    } else if (ast == 1) {
      FloatVector y = FloatVector.broadcast(S, bs.get(F32, be * 4));
      for (; i <= n - L; i += L) {
        FloatVector x = FloatVector.fromMemorySegment(S, as, (ae + i) * 4, LE);
        x.min(y).intoMemorySegment(os, (oe + i) * 4, LE);
      }
    } else {
      FloatVector x = FloatVector.broadcast(S, as.get(F32, ae * 4));
      for (; i <= n - L; i += L) {
        FloatVector y = FloatVector.fromMemorySegment(S, bs, (be + i) * 4, LE);
        x.min(y).intoMemorySegment(os, (oe + i) * 4, LE);
      }
    }
    return i;
  }

  private static int powRow(MemorySegment as, long ae, long ast, MemorySegment bs, long be, long bst, MemorySegment os, long oe, int n) {
    int i = 0;
    if (!VECTOR_LOG_POW) {
      return 0; // see VECTOR_LOG_POW
    }
    if (ast == 1 && bst == 1) {
      for (; i <= n - L; i += L) {
        FloatVector x = FloatVector.fromMemorySegment(S, as, (ae + i) * 4, LE);
        FloatVector y = FloatVector.fromMemorySegment(S, bs, (be + i) * 4, LE);
        x.lanewise(VectorOperators.POW, y).intoMemorySegment(os, (oe + i) * 4, LE);
      }
    } else if (ast == 1) {
      FloatVector y = FloatVector.broadcast(S, bs.get(F32, be * 4));
      for (; i <= n - L; i += L) {
        FloatVector x = FloatVector.fromMemorySegment(S, as, (ae + i) * 4, LE);
        x.lanewise(VectorOperators.POW, y).intoMemorySegment(os, (oe + i) * 4, LE);
      }
    } else {
      FloatVector x = FloatVector.broadcast(S, as.get(F32, ae * 4));
      for (; i <= n - L; i += L) {
        FloatVector y = FloatVector.fromMemorySegment(S, bs, (be + i) * 4, LE);
        x.lanewise(VectorOperators.POW, y).intoMemorySegment(os, (oe + i) * 4, LE);
      }
    }
    return i;
  }

  private static int eqRow(MemorySegment as, long ae, long ast, MemorySegment bs, long be, long bst, MemorySegment os, long oe, int n) {
    int i = 0;
    if (ast == 1 && bst == 1) {
      for (; i <= n - L; i += L) {
        FloatVector x = FloatVector.fromMemorySegment(S, as, (ae + i) * 4, LE);
        FloatVector y = FloatVector.fromMemorySegment(S, bs, (be + i) * 4, LE);
        ZERO.blend(ONE, x.compare(VectorOperators.EQ, y)).intoMemorySegment(os, (oe + i) * 4, LE);
      }
    } else if (ast == 1) {
      FloatVector y = FloatVector.broadcast(S, bs.get(F32, be * 4));
      for (; i <= n - L; i += L) {
        FloatVector x = FloatVector.fromMemorySegment(S, as, (ae + i) * 4, LE);
        ZERO.blend(ONE, x.compare(VectorOperators.EQ, y)).intoMemorySegment(os, (oe + i) * 4, LE);
      }
    } else {
      FloatVector x = FloatVector.broadcast(S, as.get(F32, ae * 4));
      for (; i <= n - L; i += L) {
        FloatVector y = FloatVector.fromMemorySegment(S, bs, (be + i) * 4, LE);
        ZERO.blend(ONE, x.compare(VectorOperators.EQ, y)).intoMemorySegment(os, (oe + i) * 4, LE);
      }
    }
    return i;
  }

  private static int gtRow(MemorySegment as, long ae, long ast, MemorySegment bs, long be, long bst, MemorySegment os, long oe, int n) {
    int i = 0;
    if (ast == 1 && bst == 1) {
      for (; i <= n - L; i += L) {
        FloatVector x = FloatVector.fromMemorySegment(S, as, (ae + i) * 4, LE);
        FloatVector y = FloatVector.fromMemorySegment(S, bs, (be + i) * 4, LE);
        ZERO.blend(ONE, x.compare(VectorOperators.GT, y)).intoMemorySegment(os, (oe + i) * 4, LE);
      }
    } else if (ast == 1) {
      FloatVector y = FloatVector.broadcast(S, bs.get(F32, be * 4));
      for (; i <= n - L; i += L) {
        FloatVector x = FloatVector.fromMemorySegment(S, as, (ae + i) * 4, LE);
        ZERO.blend(ONE, x.compare(VectorOperators.GT, y)).intoMemorySegment(os, (oe + i) * 4, LE);
      }
    } else {
      FloatVector x = FloatVector.broadcast(S, as.get(F32, ae * 4));
      for (; i <= n - L; i += L) {
        FloatVector y = FloatVector.fromMemorySegment(S, bs, (be + i) * 4, LE);
        ZERO.blend(ONE, x.compare(VectorOperators.GT, y)).intoMemorySegment(os, (oe + i) * 4, LE);
      }
    }
    return i;
  }


  // ------------------------------------------------------------------ reductions

  @Override
  public void reduceLast(ReduceOp op, Tensor x, Tensor out) {
    int rows = x.size(0);
    int n = x.size(1);
    long rs = x.stride(0);
    long cs = x.stride(1);
    long base = x.offset();
    MemorySegment xs = x.storage().segment();
    MemorySegment os = out.storage().segment();
    long oe = out.offset();
    long ost = out.stride(0);
    Parallel.forRange(rows, Math.max(1, (1 << 15) / Math.max(1, n)), (r0, r1) -> {
      for (long r = r0; r < r1; r++) {
        long e = base + r * rs;
        float v = op == ReduceOp.SUM ? sumRow(xs, e, cs, n) : maxRow(xs, e, cs, n);
        os.set(F32, (oe + r * ost) * 4, v);
      }
    });
  }

  /** Sum of n floats from element e with stride cs; fixed order (vector lanes, then lanes reduced, then tail). */
  static float sumRow(MemorySegment xs, long e, long cs, int n) {
    int i = 0;
    float s = 0;
    if (SIMD && cs == 1 && n >= L) {
      FloatVector acc = FloatVector.zero(S);
      for (; i <= n - L; i += L) {
        acc = acc.add(FloatVector.fromMemorySegment(S, xs, (e + i) * 4, LE));
      }
      float[] lanes = CpuMath.lanes();
      acc.intoArray(lanes, 0);
      s = CpuMath.sumLanes(lanes);
    }
    for (; i < n; i++) {
      s += xs.get(F32, (e + i * cs) * 4);
    }
    return s;
  }

  static float maxRow(MemorySegment xs, long e, long cs, int n) {
    int i = 0;
    float m = Float.NEGATIVE_INFINITY;
    if (SIMD && cs == 1 && n >= L) {
      FloatVector acc = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
      for (; i <= n - L; i += L) {
        acc = acc.max(FloatVector.fromMemorySegment(S, xs, (e + i) * 4, LE));
      }
      m = acc.reduceLanes(VectorOperators.MAX);
    }
    for (; i < n; i++) {
      m = Math.max(m, xs.get(F32, (e + i * cs) * 4));
    }
    return m;
  }

  // ------------------------------------------------------------------ matmul

  @Override
  public void matmul(Tensor a, Tensor w, Tensor out, boolean accumulate) {
    int batch = a.size(0);
    int m = a.size(1);
    int k = a.size(2);
    int n = w.size(2);
    MemorySegment as = a.storage().segment();
    MemorySegment ws = w.storage().segment();
    MemorySegment os = out.storage().segment();
    for (int b = 0; b < batch; b++) {
      Gemm.sgemm(
          m, n, k,
          as, a.offset() + b * a.stride(0), a.stride(1), a.stride(2),
          ws, w.dtype(), w.offset() + b * w.stride(0), w.stride(1), w.stride(2),
          os, out.offset() + b * out.stride(0), out.stride(1),
          accumulate);
    }
  }

  /**
   * One to {@link Gemv#MAX_ROWS} rows against several row-major weights of one dtype: {@link
   * Gemv#gemvMany}, one parallel pass, each weight row read once for all rows.
   */
  @Override
  public void linearShared(Tensor x, Tensor[] weights, Tensor[] outs) {
    boolean many = x.size(0) >= 1 && x.size(0) <= Gemv.MAX_ROWS && weights.length > 1;
    for (Tensor w : weights) {
      many &= w.dtype() == weights[0].dtype() && w.stride(1) == 1;
    }
    if (!many) {
      Backend.super.linearShared(x, weights, outs);
      return;
    }
    Gemv.Rows[] rows = new Gemv.Rows[weights.length];
    for (int i = 0; i < weights.length; i++) {
      Tensor w = weights[i];
      rows[i] = new Gemv.Rows(w.size(0), w.storage().segment(), w.offset(), w.stride(0), outs[i].storage().segment(),
          outs[i].offset(), outs[i].stride(0));
    }
    Gemv.gemvMany(x.size(0), x.size(1), x.storage().segment(), x.offset(), x.stride(0), x.stride(1), weights[0].dtype(), rows);
  }

  // ------------------------------------------------------------------ fused row kernels

  @Override
  public void softmax(Tensor x, Tensor out, boolean log) {
    int rows = x.size(0);
    int n = x.size(1);
    MemorySegment xs = x.storage().segment();
    MemorySegment os = out.storage().segment();
    long xb = x.offset();
    long ob = out.offset();
    Parallel.forRange(rows, Math.max(1, (1 << 14) / Math.max(1, n)), (r0, r1) -> {
      for (long r = r0; r < r1; r++) {
        RowKernels.softmaxRow(xs, xb + r * n, os, ob + r * n, n, log);
      }
    });
  }

  @Override
  public void layerNorm(Tensor x, Tensor weight, Tensor bias, float eps, Tensor out, Tensor mean, Tensor rstd) {
    int rows = x.size(0);
    int n = x.size(1);
    MemorySegment w = normParameter(weight, n, 1f);
    MemorySegment b = normParameter(bias, n, 0f);
    MemorySegment xs = x.storage().segment();
    MemorySegment os = out.storage().segment();
    long xb = x.offset();
    long ob = out.offset();
    Parallel.forRange(rows, Math.max(1, (1 << 14) / Math.max(1, n)), (r0, r1) -> {
      float[] mr = new float[2];
      for (long r = r0; r < r1; r++) {
        RowKernels.layerNormRow(xs, xb + r * n, os, ob + r * n, n, w, b, eps, mr);
        if (mean != null) {
          mean.storage().segment().set(F32, (mean.offset() + r) * 4, mr[0]);
        }
        if (rstd != null) {
          rstd.storage().segment().set(F32, (rstd.offset() + r) * 4, mr[1]);
        }
      }
    });
  }

  /**
   * A norm's weight or bias [n] as the row kernels read it: the tensor's own memory when it is one
   * contiguous F32 row (a model's parameter, read in place), else a native copy in the current scope
   * ({@code fill} in every element for null), so the kernels' loads always see native segments (as
   * mapped weights are, {@code io.Mappings}). Norms used to copy their parameters into new heap arrays on
   * every call: 8 KB a weight at width 2048, 44 times a TinyLlama decode step (~28% of its heap
   * allocation), written to memory the step's weight streams had just pushed out of the caches.
   */
  private static MemorySegment normParameter(Tensor p, int n, float fill) {
    if (p != null && p.dtype() == DType.F32 && p.isContiguous()) {
      return p.storage().segment().asSlice(p.offset() * 4, 4L * n);
    }
    MemorySegment copy = dev.fovea.tensor.Scope.current().allocate(4L * n);
    if (p == null) {
      for (int i = 0; i < n; i++) {
        copy.set(F32, 4L * i, fill);
      }
    } else {
      MemorySegment.copy(p.toFloatArray(), 0, copy, F32, 0, n);
    }
    return copy;
  }

  @Override
  public void rmsNorm(Tensor x, Tensor weight, float eps, Tensor out, Tensor rstd) {
    int rows = x.size(0);
    int n = x.size(1);
    MemorySegment w = normParameter(weight, n, 1f);
    MemorySegment xs = x.storage().segment();
    MemorySegment os = out.storage().segment();
    long xb = x.offset();
    long ob = out.offset();
    Parallel.forRange(rows, Math.max(1, (1 << 14) / Math.max(1, n)), (r0, r1) -> {
      for (long r = r0; r < r1; r++) {
        float rs = RowKernels.rmsNormRow(xs, xb + r * n, os, ob + r * n, n, w, eps);
        if (rstd != null) {
          rstd.storage().segment().set(F32, (rstd.offset() + r) * 4, rs);
        }
      }
    });
  }

  @Override
  public void embedding(Tensor weight, Tensor ids, Tensor out) {
    int rows = ids.size(0);
    int dim = weight.size(1);
    int vocab = weight.size(0);
    MemorySegment ws = weight.storage().segment();
    MemorySegment os = out.storage().segment();
    DType wt = weight.dtype();
    long[] idx = ids.toLongArray();
    for (int r = 0; r < rows; r++) {
      if (idx[r] < 0 || idx[r] >= vocab) {
        throw new dev.fovea.tensor.TensorException("embedding: id " + idx[r] + " at position " + r + " is outside the vocabulary [0, " + vocab + ")");
      }
    }
    long rowStride = weight.stride(0);
    long colStride = weight.stride(1);
    Parallel.forRange(rows, Math.max(1, (1 << 14) / Math.max(1, dim)), (r0, r1) -> {
      for (long r = r0; r < r1; r++) {
        long src = weight.offset() + idx[(int) r] * rowStride;
        long dst = out.offset() + r * dim;
        if (wt == DType.F32 && colStride == 1) {
          MemorySegment.copy(ws, src * 4, os, dst * 4, dim * 4L);
        } else {
          for (int i = 0; i < dim; i++) {
            os.set(F32, (dst + i) * 4, Elements.readFloat(ws, wt, src + i * colStride));
          }
        }
      }
    });
  }

  @Override
  public void attention(Tensor q, Tensor k, Tensor v, Tensor bias, float scale, boolean causal, Tensor out) {
    FusedAttention.run(q, k, v, bias, scale, causal, out);
  }
}
