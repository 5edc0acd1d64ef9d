package dev.fovea.nn.train;

import dev.fovea.nn.Module;
import dev.fovea.nn.Parameter;
import dev.fovea.tensor.DType;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Shapes;
import dev.fovea.tensor.Storage;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.WeightSource;
import dev.fovea.tensor.cpu.Elements;
import dev.fovea.tensor.io.SafetensorsWriter;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * The parameters of a module tree that a training run updates, with their gradients.
 *
 * <p>{@link #of} gives each trained parameter its own F32 copy in memory this object owns (loaded
 * weights are read-only file mappings, possibly F16/BF16), marks it as an autograd leaf and sets it
 * back into the module, so the model's forward builds the graph and the optimizer can update it in
 * place. Frozen parameters (the predicate says no) are left as they are, and get no gradient.
 *
 * <p>Gradients: a backward fills each leaf's {@code grad()} with a tensor of the step's scope.
 * {@link #collectGradients()} adds them into one persistent F32 buffer per parameter (the
 * accumulation of PyTorch's {@code p.grad += g}) and clears the leaves, so a micro-batch's graph and
 * gradients die with its scope while the sum lives on. A parameter that received no gradient since
 * {@link #zeroGrad()} has none ({@link #hasGradient}): like PyTorch's {@code grad is None}, the
 * optimizer then skips it.
 *
 * <p>Names are the module's {@link Module#namedParameters()} keys (the checkpoint's names when
 * called on the root), in registration order, which fixes every order the library iterates in.
 *
 * <p>{@link #close()} hands the trained weights back to the module as plain tensors.
 */
public final class Trainable implements AutoCloseable {
  private final Module root;
  private final Scope memory = Scope.detached();
  private final List<String> names = new ArrayList<>();
  private final List<Parameter> params = new ArrayList<>();
  private final List<Tensor> values = new ArrayList<>();
  private final List<Tensor> grads = new ArrayList<>();
  private final boolean[] hasGrad;

  private Trainable(Module root, Predicate<String> trained) {
    this.root = root;
    List<String> problems = new ArrayList<>();
    for (Map.Entry<String, Parameter> e : root.namedParameters().entrySet()) {
      if (!trained.test(e.getKey())) {
        continue;
      }
      Tensor w = e.getValue().get();
      if (!w.dtype().isFloatingPoint() || w.dtype().isQuantized()) {
        problems.add(e.getKey() + " is " + w.dtype());
      }
      names.add(e.getKey());
      params.add(e.getValue());
    }
    if (!problems.isEmpty()) {
      throw new TrainException("only F32/F16/BF16 weights can be trained (convert the model with --dtype f32 first):\n  " + String.join("\n  ", problems));
    }
    if (names.isEmpty()) {
      throw new TrainException("no parameter of " + root.getClass().getSimpleName() + " is trained (the predicate accepted none of "
          + root.namedParameters().size() + ")");
    }
    for (Parameter p : params) {
      Tensor owned = allocate(p.shape());
      try (Scope tmp = Scope.open()) {
        copy(p.get(), owned);
      }
      owned.requiresGrad(true);
      p.set(owned);
      values.add(owned);
      grads.add(allocate(p.shape()));
    }
    hasGrad = new boolean[names.size()];
  }

  /** Every parameter of {@code root} is trained. */
  public static Trainable of(Module root) {
    return new Trainable(root, name -> true);
  }

  /** The parameters whose names {@code trained} accepts are trained; the others stay frozen. */
  public static Trainable of(Module root, Predicate<String> trained) {
    return new Trainable(root, trained);
  }

  private Tensor allocate(int[] shape) {
    Storage s = memory.allocateStorage(DType.F32, Shapes.numel(shape));
    Tensor t = new Tensor(s, shape, Shapes.contiguousStrides(shape), 0);
    s.segment().fill((byte) 0);
    return t;
  }

  /** Copies any float tensor of the same shape into the contiguous F32 {@code dst}. */
  static void copy(Tensor src, Tensor dst) {
    if (!Arrays.equals(src.shape(), dst.shape())) {
      throw new TrainException("shape " + Arrays.toString(src.shape()) + " does not match " + Arrays.toString(dst.shape()));
    }
    MemorySegment.copy(f32(src), 0, f32(dst), 0, 4 * dst.numel());
  }

  /**
   * The elements of {@code t} as one F32 segment in row-major order: the tensor's own memory when it
   * is a contiguous F32 view, else a contiguous F32 copy in the current scope.
   */
  static MemorySegment f32(Tensor t) {
    Tensor c = t.dtype() == DType.F32 ? t.detach().contiguous() : t.detach().to(DType.F32).contiguous();
    return c.storage().segment().asSlice(4 * c.offset(), 4 * c.numel());
  }

  /** The module these parameters belong to. */
  public Module root() {
    return root;
  }

  public int size() {
    return names.size();
  }

  /** Names in iteration order. */
  public List<String> names() {
    return Collections.unmodifiableList(names);
  }

  public String name(int i) {
    return names.get(i);
  }

  public Parameter parameter(int i) {
    return params.get(i);
  }

  /** The trained weights of parameter i: contiguous F32, updated in place by the optimizer. */
  public Tensor value(int i) {
    return values.get(i);
  }

  /** The accumulated gradient of parameter i (contiguous F32; meaningful when {@link #hasGradient}). */
  public Tensor gradient(int i) {
    return grads.get(i);
  }

  public boolean hasGradient(int i) {
    return hasGrad[i];
  }

  /** Number of trained scalars. */
  public long numel() {
    long n = 0;
    for (Tensor v : values) {
      n += v.numel();
    }
    return n;
  }

  /**
   * Adds each leaf's gradient (from the last backward) into its persistent buffer and clears the
   * leaf, so the step's scope can close. Call after every backward of a step.
   */
  public void collectGradients() {
    for (int i = 0; i < values.size(); i++) {
      Tensor v = values.get(i);
      Tensor g = v.grad();
      if (g == null) {
        continue;
      }
      v.zeroGrad();
      try (Scope tmp = Scope.open()) {
        MemorySegment src = f32(g);
        MemorySegment dst = f32(grads.get(i));
        long n = grads.get(i).numel();
        if (!hasGrad[i]) {
          MemorySegment.copy(src, 0, dst, 0, 4 * n);
          hasGrad[i] = true;
        } else {
          for (long j = 0; j < n; j++) {
            dst.setAtIndex(Elements.F32, j, dst.getAtIndex(Elements.F32, j) + src.getAtIndex(Elements.F32, j));
          }
        }
      }
    }
  }

  /** Forgets every gradient (PyTorch's {@code zero_grad(set_to_none=True)}), leaves included. */
  public void zeroGrad() {
    Arrays.fill(hasGrad, false);
    for (Tensor v : values) {
      v.zeroGrad();
    }
  }

  /** The gradient buffers of the parameters that have one, in order. */
  public List<Tensor> presentGradients() {
    List<Tensor> out = new ArrayList<>();
    for (int i = 0; i < grads.size(); i++) {
      if (hasGrad[i]) {
        out.add(grads.get(i));
      }
    }
    return out;
  }

  /**
   * The whole module's state dict for a checkpoint: trained parameters as their current F32 values,
   * frozen ones as stored (every name of {@link Module#namedParameters()}, in order).
   */
  public List<SafetensorsWriter.Item> stateDict() {
    List<SafetensorsWriter.Item> items = new ArrayList<>();
    for (Map.Entry<String, Parameter> e : root.namedParameters().entrySet()) {
      items.add(new SafetensorsWriter.Item(e.getKey(), e.getValue().get().detach()));
    }
    return items;
  }

  /**
   * Overwrites the trained parameters with the tensors of {@code source} under the same names (a
   * checkpoint's {@code model.safetensors}); every trained name must be present with its shape.
   */
  public void loadValues(WeightSource source) {
    List<String> problems = new ArrayList<>();
    for (int i = 0; i < names.size(); i++) {
      String n = names.get(i);
      if (!source.contains(n)) {
        problems.add(n + ": missing");
      } else if (!Arrays.equals(source.get(n).shape(), values.get(i).shape())) {
        problems.add(n + ": shape " + Arrays.toString(source.get(n).shape()) + ", expected " + Arrays.toString(values.get(i).shape()));
      }
    }
    if (!problems.isEmpty()) {
      throw new TrainException(source.origin() + " does not hold the trained parameters:\n  " + String.join("\n  ", problems));
    }
    for (int i = 0; i < names.size(); i++) {
      try (Scope tmp = Scope.open()) {
        copy(source.get(names.get(i)), values.get(i));
      }
    }
  }

  /**
   * Gives the module its trained weights back as ordinary tensors of the global scope (no longer
   * autograd leaves) and frees the copies, gradients included; the module stays usable.
   */
  @Override
  public void close() {
    if (memory.isClosed()) {
      return;
    }
    for (int i = 0; i < params.size(); i++) {
      params.get(i).set(values.get(i).detach().copyTo(Scope.global()));
    }
    memory.close();
  }
}
