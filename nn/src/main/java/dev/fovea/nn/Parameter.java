package dev.fovea.nn;

import dev.fovea.tensor.DType;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.TensorException;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.Set;

/**
 * One named weight slot of a {@link Module}: its checkpoint segment ({@code "weight"}, {@code
 * "bias"}), the shape the module expects, the dtypes it can compute with, and the tensor once
 * loaded. A parameter is never filled with made-up values: until {@link Module#load} or {@link
 * Module#initRandom} sets it, reading it throws naming its path.
 *
 * <p>The tensor is kept as given (a memory-mapped view for file-backed sources; F16/BF16/Q8_0/Q4_0
 * Linear weights are used as-is, the kernels convert inside).
 */
public final class Parameter {
  /** Dtypes any op converts on the fly (norm weights, biases, embeddings, conv weights). */
  public static final Set<DType> FLOAT = EnumSet.of(DType.F32, DType.F16, DType.BF16);

  /** Dtypes a matmul weight may have: FLOAT plus the GGUF block types read inside the GEMM. */
  public static final Set<DType> MATMUL = EnumSet.of(DType.F32, DType.F16, DType.BF16, DType.Q8_0, DType.Q4_0);

  /** How {@link Module#initRandom} fills this parameter (tests only; loading never uses it). */
  public enum Init {
    /** N(0, 1/fan_in), fan_in = product of all dims but the first (Linear and conv weights). */
    FAN_IN,
    /** 1 + N(0, 0.1^2) (norm scales). */
    NEAR_ONE,
    /** N(0, 0.1^2) (biases, shifts). */
    SMALL,
    /** N(0, 1) (embedding tables). */
    NORMAL
  }

  private final Module owner;
  private final String name;
  private final int[] shape;
  private final Set<DType> dtypes;
  private final Init init;
  private volatile Tensor value;

  Parameter(Module owner, String name, int[] shape, Set<DType> dtypes, Init init) {
    this.owner = owner;
    this.name = name;
    this.shape = shape.clone();
    this.dtypes = Set.copyOf(dtypes);
    this.init = init;
  }

  /** The checkpoint segment within its module ("weight"). */
  public String name() {
    return name;
  }

  /** Full dotted path from the root of the module tree ("encoder.layers.0.self_attn.q_proj.weight"). */
  public String path() {
    return Module.join(owner.path(), name);
  }

  public Module owner() {
    return owner;
  }

  /** The shape the module expects. */
  public int[] shape() {
    return shape.clone();
  }

  /** Dtypes the module accepts for this parameter. */
  public Set<DType> dtypes() {
    return dtypes;
  }

  public Init init() {
    return init;
  }

  public boolean isSet() {
    return value != null;
  }

  /** The tensor; throws naming the path when nothing was loaded. */
  public Tensor get() {
    Tensor v = value;
    if (v == null) {
      throw new TensorException(
          "parameter '" + path() + "' " + Arrays.toString(shape) + " has no value: load the module from a WeightSource or call initRandom(seed)");
    }
    return v;
  }

  /** The tensor or null when unset. */
  public Tensor getOrNull() {
    return value;
  }

  /**
   * Sets the tensor after checking its shape and dtype (throws {@link StateDictException} naming
   * the path). Loading goes through {@link StateDict}, which checks every parameter before setting any.
   */
  public void set(Tensor t) {
    StateDict.Problem p = StateDict.check(this, t.dtype(), t.shape(), "direct assignment");
    if (p != null) {
      throw new StateDictException(owner.getClass().getSimpleName(), "direct assignment", java.util.List.of(p));
    }
    value = t;
  }

  void setUnchecked(Tensor t) {
    value = t;
  }

  @Override
  public String toString() {
    return "Parameter " + path() + " " + Arrays.toString(shape) + (value == null ? " (unset)" : " " + value.dtype());
  }
}
