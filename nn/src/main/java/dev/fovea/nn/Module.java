package dev.fovea.nn;

import dev.fovea.tensor.DType;
import dev.fovea.tensor.Device;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.TensorException;
import dev.fovea.tensor.WeightSource;
import dev.fovea.tensor.autograd.GradMode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;

/**
 * A node of the model tree whose paths are the checkpoint's names (STYLE point 1): a module
 * registers each child under the checkpoint's exact segment ({@code "q_proj"}, {@code "layers.3"},
 * {@code "pre_layrnorm"}) and each {@link Parameter} under its own ({@code "weight"}), so {@code
 * vision_model.encoder.layers.3.self_attn.q_proj.weight} is both the file's name and the path in
 * the tree, and loading is one strict walk ({@link #load}).
 *
 * <p>Modules hold configuration and (memory-mapped) weights only; activations live in the caller's
 * {@link Scope}, so one module tree can serve several threads and decoding branches.
 *
 * <p>Hooks are the only extension point (STYLE point 10): {@link #addForwardHook} and {@link
 * #addAttentionHook} return a {@link HookHandle}; removing it restores the plain path exactly.
 */
public abstract class Module {
  private Module parent;
  private String name = "";
  private String path = "";
  private final Map<String, Module> children = new LinkedHashMap<>();
  private final Map<String, Parameter> params = new LinkedHashMap<>();
  private final List<ForwardHook> forwardHooks = new CopyOnWriteArrayList<>();
  private volatile Device device = Device.CPU;

  protected Module() {}

  // ---------------------------------------------------------------- tree

  /** Registers {@code child} under the checkpoint segment {@code segment}; returns the child. */
  protected final <M extends Module> M register(String segment, M childModule) {
    checkSegment(segment);
    Module child = childModule;
    if (child.parent != null) {
      throw new TensorException("module " + child.getClass().getSimpleName() + " is already registered at '" + child.path + "'; cannot also register it at '" + join(path, segment) + "'");
    }
    if (children.containsKey(segment) || params.containsKey(segment)) {
      throw new TensorException("module '" + path + "' already has a child or parameter named '" + segment + "'");
    }
    child.parent = this;
    child.name = segment;
    children.put(segment, child);
    child.repath();
    return childModule;
  }

  /**
   * Registers {@code child} at a dotted path below this module ({@code "attention.query"}), making
   * plain {@link Group} nodes for the intermediate segments that do not exist yet: for checkpoints
   * whose layout nests a layer's weights under containers that have no forward of their own (HF
   * ViT's {@code attention.output.dense}). A single segment is {@link #register}.
   */
  protected final <M extends Module> M registerAt(String dottedPath, M childModule) {
    int dot = dottedPath.indexOf('.');
    if (dot < 0) {
      return register(dottedPath, childModule);
    }
    String head = dottedPath.substring(0, dot);
    Module next = children.get(head);
    if (next == null) {
      next = register(head, new Group());
    } else if (!(next instanceof Group)) {
      throw new TensorException("module '" + join(path, head) + "' is a " + next.getClass().getSimpleName()
          + ", not a plain group; cannot register '" + dottedPath + "' under '" + path + "'");
    }
    return next.registerAt(dottedPath.substring(dot + 1), childModule);
  }

  /** A container with no forward of its own: a checkpoint segment that only holds children. */
  public static final class Group extends Module {
    Group() {}
  }

  /** Declares a parameter with the checkpoint segment {@code segment}, the expected shape and the accepted dtypes. */
  protected final Parameter parameter(String segment, Set<DType> dtypes, Parameter.Init init, int... shape) {
    checkSegment(segment);
    if (children.containsKey(segment) || params.containsKey(segment)) {
      throw new TensorException("module '" + path + "' already has a child or parameter named '" + segment + "'");
    }
    for (int s : shape) {
      if (s < 0) {
        throw new TensorException("parameter '" + join(path, segment) + "': negative size in " + Arrays.toString(shape));
      }
    }
    Parameter p = new Parameter(this, segment, shape, dtypes, init);
    params.put(segment, p);
    return p;
  }

  private static void checkSegment(String segment) {
    if (segment == null || segment.isEmpty() || segment.startsWith(".") || segment.endsWith(".")) {
      throw new TensorException("invalid checkpoint segment '" + segment + "'");
    }
  }

  private void repath() {
    path = parent == null ? "" : join(parent.path, name);
    for (Module c : children.values()) {
      c.repath();
    }
  }

  static String join(String a, String b) {
    return a.isEmpty() ? b : b.isEmpty() ? a : a + "." + b;
  }

  /** The segment under the parent ("" for a root). */
  public final String name() {
    return name;
  }

  /** The full dotted path from the root ("" for the root itself). */
  public final String path() {
    return path;
  }

  public final Module parent() {
    return parent;
  }

  public final Module root() {
    Module m = this;
    while (m.parent != null) {
      m = m.parent;
    }
    return m;
  }

  /** Direct children by segment, in registration order. */
  public final Map<String, Module> children() {
    return Collections.unmodifiableMap(children);
  }

  /** Direct parameters by segment. */
  public final Map<String, Parameter> parameters() {
    return Collections.unmodifiableMap(params);
  }

  /** This module ("") and every descendant, by path relative to this module, in depth-first registration order. */
  public final Map<String, Module> namedModules() {
    Map<String, Module> out = new LinkedHashMap<>();
    collectModules("", out);
    return out;
  }

  private void collectModules(String rel, Map<String, Module> out) {
    out.put(rel, this);
    for (Map.Entry<String, Module> e : children.entrySet()) {
      e.getValue().collectModules(join(rel, e.getKey()), out);
    }
  }

  /** Bytes of every parameter as stored (quantized blocks included). */
  public long weightBytes() {
    long n = 0;
    for (Parameter p : namedParameters().values()) {
      Tensor t = p.get();
      n += t.dtype().byteSize(t.numel());
    }
    return n;
  }

  /** Every parameter of the subtree by dotted path relative to this module (full checkpoint names when called on the root). */
  public final Map<String, Parameter> namedParameters() {
    Map<String, Parameter> out = new LinkedHashMap<>();
    for (Map.Entry<String, Module> e : namedModules().entrySet()) {
      for (Parameter p : e.getValue().params.values()) {
        out.put(join(e.getKey(), p.name()), p);
      }
    }
    return out;
  }

  /** The descendant at {@code relPath} ("" = this); throws naming the path and the closest existing prefix. */
  public final Module module(String relPath) {
    Map<String, Module> all = namedModules();
    Module m = all.get(relPath);
    if (m == null) {
      String known = relPath;
      while (!known.isEmpty() && !all.containsKey(known)) {
        int dot = known.lastIndexOf('.');
        known = dot < 0 ? "" : known.substring(0, dot);
      }
      Module near = all.get(known);
      throw new TensorException(
          "no module '" + relPath + "' under " + describe() + "; '" + known + "' exists with children " + near.children.keySet());
    }
    return m;
  }

  /** The parameter at {@code relPath} ("layers.0.fc1.weight"). */
  public final Parameter parameter(String relPath) {
    Parameter p = namedParameters().get(relPath);
    if (p == null) {
      throw new TensorException("no parameter '" + relPath + "' under " + describe());
    }
    return p;
  }

  String describe() {
    return getClass().getSimpleName() + (path.isEmpty() ? " (root)" : " '" + path + "'");
  }

  // ---------------------------------------------------------------- weights

  /** Strict load of every parameter from {@code source} by its relative path. */
  public final void load(WeightSource source) {
    StateDict.load(this, source, "", null);
  }

  /** Strict load with source keys {@code prefix + relative path} (e.g. "vision_tower.vision_model."). */
  public final void load(WeightSource source, String prefix) {
    StateDict.load(this, source, prefix, null);
  }

  /** As {@link #load(WeightSource, String)}; source names accepted by {@code ignore} are never "unexpected". */
  public final void load(WeightSource source, String prefix, Predicate<String> ignore) {
    StateDict.load(this, source, prefix, ignore);
  }

  /**
   * Fills every parameter with seeded random F32 values (tests and tiny synthetic models; real
   * weights come only from {@link #load}). Same seed, same values; tensors live in the global scope.
   */
  public final void initRandom(long seed) {
    Random rng = new Random(seed);
    for (Parameter p : namedParameters().values()) {
      int[] shape = p.shape();
      long n = 1;
      for (int s : shape) {
        n *= s;
      }
      float[] v = new float[Math.toIntExact(n)];
      long fanIn = shape.length == 0 ? 1 : Math.max(1, n / Math.max(1, shape[0]));
      for (int i = 0; i < v.length; i++) {
        double g = rng.nextGaussian();
        v[i] = (float) switch (p.init()) {
          case FAN_IN -> g / Math.sqrt(fanIn);
          case NEAR_ONE -> 1 + 0.1 * g;
          case SMALL -> 0.1 * g;
          case NORMAL -> g;
        };
      }
      Tensor t = Tensor.of(v, shape);
      if (Scope.current() != Scope.global()) {
        t = t.copyTo(Scope.global());
      }
      p.setUnchecked(t);
    }
  }

  // ---------------------------------------------------------------- devices

  /** Where this module's parameters live ({@link Device#CPU} until {@link #to(Device)} moves them). */
  public final Device device() {
    return device;
  }

  /**
   * Copies every set parameter of this subtree to {@code target} once, in the global scope, and
   * makes those copies the parameters (a memory-mapped, read-only CPU weight becomes a device
   * copy; dtypes are kept, quantized blocks included; a tensor held by two parameters, a tied
   * embedding, is copied once and shared). Every decoding state and forward pass then reads the
   * same device weights; the model's activations follow its input onto the device (ops allocate
   * on their inputs' device; tables a model keeps beside its weights, LLaMA's rotary cos/sin,
   * follow the device of the activations). Returns this module.
   *
   * <p>Call it before running the model and not while another thread runs it. Moving back to the
   * CPU copies too (the original mapped weights are not kept).
   */
  @SuppressWarnings("unchecked")
  public final <M extends Module> M to(Device target) {
    IdentityHashMap<Tensor, Tensor> moved = new IdentityHashMap<>();
    for (Parameter p : namedParameters().values()) {
      Tensor t = p.getOrNull();
      if (t == null || t.device().equals(target)) {
        continue;
      }
      Tensor copy = moved.get(t);
      if (copy == null) {
        copy = copyToDevice(t, target);
        moved.put(t, copy);
      }
      p.setUnchecked(copy);
    }
    for (Module m : namedModules().values()) {
      m.device = target;
    }
    return (M) this;
  }

  /** A contiguous copy of a weight on {@code target} in the global scope (leaves stay leaves). */
  private static Tensor copyToDevice(Tensor t, Device target) {
    Tensor out = t.copyTo(Scope.global(), target);
    if (t.requiresGrad() && t.gradFn() == null) {
      out.requiresGrad(true);
    }
    return out;
  }

  // ---------------------------------------------------------------- hooks

  /**
   * Runs {@code hook} after every forward of the module at {@code relPath} ("" = this module). The
   * hook sees (path, module, inputs, output) and may return a replacement output.
   */
  public final HookHandle addForwardHook(String relPath, ForwardHook hook) {
    Module target = module(relPath);
    target.forwardHooks.add(hook);
    return new HookHandle(() -> target.forwardHooks.remove(hook));
  }

  /** Adds {@code hook} to every module whose path relative to this module matches; throws if none does. */
  public final HookHandle addForwardHook(Predicate<String> relPaths, ForwardHook hook) {
    List<Module> targets = new ArrayList<>();
    namedModules().forEach((rel, m) -> {
      if (relPaths.test(rel)) {
        targets.add(m);
      }
    });
    if (targets.isEmpty()) {
      throw new TensorException("addForwardHook: no module under " + describe() + " matches the predicate");
    }
    targets.forEach(m -> m.forwardHooks.add(hook));
    return new HookHandle(() -> targets.forEach(m -> m.forwardHooks.remove(hook)));
  }

  /**
   * Adds an attention hook to every {@link MultiHeadAttention} at or below {@code relPath} ("" =
   * all of this tree; "encoder.layers.3" = that layer's attention modules). Throws when there are none.
   */
  public final HookHandle addAttentionHook(String relPath, AttentionHook hook) {
    Module target = module(relPath);
    List<MultiHeadAttention> layers = new ArrayList<>();
    for (Module m : target.namedModules().values()) {
      if (m instanceof MultiHeadAttention a) {
        layers.add(a);
      }
    }
    if (layers.isEmpty()) {
      throw new TensorException("addAttentionHook: no attention layer at or below " + target.describe());
    }
    return attach(layers, hook);
  }

  /** Adds an attention hook to every attention layer of this tree. */
  public final HookHandle addAttentionHook(AttentionHook hook) {
    return addAttentionHook("", hook);
  }

  /** Adds an attention hook to every attention layer whose path relative to this module matches; throws if none does. */
  public final HookHandle addAttentionHook(Predicate<String> relPaths, AttentionHook hook) {
    List<MultiHeadAttention> layers = new ArrayList<>();
    namedModules().forEach((rel, m) -> {
      if (m instanceof MultiHeadAttention a && relPaths.test(rel)) {
        layers.add(a);
      }
    });
    if (layers.isEmpty()) {
      throw new TensorException("addAttentionHook: no attention layer under " + describe() + " matches the predicate");
    }
    return attach(layers, hook);
  }

  private static HookHandle attach(List<MultiHeadAttention> layers, AttentionHook hook) {
    layers.forEach(a -> a.attentionHooks().add(hook));
    return new HookHandle(() -> layers.forEach(a -> a.attentionHooks().remove(hook)));
  }

  /** Removes every forward and attention hook of this subtree. */
  public final void clearHooks() {
    for (Module m : namedModules().values()) {
      m.forwardHooks.clear();
      if (m instanceof MultiHeadAttention a) {
        a.attentionHooks().clear();
      }
    }
  }

  /** Whether a forward hook sits on this module or any module below it, or an attention hook on an attention layer of this tree. */
  public final boolean hasHooksInTree() {
    // a plain walk: forwardFreeing asks this of every layer at every forward, so no path strings
    if (!forwardHooks.isEmpty() || (this instanceof MultiHeadAttention a && !a.attentionHooks().isEmpty())) {
      return true;
    }
    for (Module c : children.values()) {
      if (c.hasHooksInTree()) {
        return true;
      }
    }
    return false;
  }

  /**
   * {@code forward.apply(x)} for one layer of a deep stack ({@code layer}'s forward), computed in a
   * scope of its own that is freed as soon as the output is copied into the caller's scope, when
   * nothing else can see the layer's intermediates: grad mode is off (no graph keeps them) and no
   * hook sits in the layer's tree (a hook may keep what it saw). Otherwise the plain call. A stack
   * of L layers in one scope then holds L outputs instead of every layer's intermediates: the EVA
   * ViT-g of InstructBLIP (39 layers, 257 tokens, about 41 MB of intermediates each) held 1.6 GB
   * until the answer's scope closed, 10% of the 7B model's weights on top of them (issue 24).
   *
   * <p>An input of one position ([..., 1, C]: a decode step) takes the plain call too: closing a
   * scope closes a shared arena, a handshake with every thread of the JVM that cost 80-170 us here
   * (2 cores, JDK 25), while one position's intermediates are a few hundred KB. The TinyLlama-shaped
   * F32 decode step (22 layers) took 116.5 ms with a scope per layer and 109.3 ms without,
   * alternated in one process (issue 18).
   */
  public static Tensor forwardFreeing(Module layer, Tensor x, java.util.function.UnaryOperator<Tensor> forward) {
    if (GradMode.isEnabled() || onePosition(x) || layer.hasHooksInTree()) {
      return forward.apply(x);
    }
    Scope caller = Scope.current();
    try (Scope own = Scope.open()) {
      return forward.apply(x).copyTo(caller);
    }
  }

  /** Whether x holds one position per row: [..., 1, C], a decode step's input. */
  private static boolean onePosition(Tensor x) {
    return x.dim() >= 2 && x.size(x.dim() - 2) == 1;
  }

  /** Whether forward hooks are registered on this module itself (not its children). */
  public final boolean hasForwardHooks() {
    return !forwardHooks.isEmpty();
  }

  /**
   * Subclasses end each forward with {@code return hooked(output, inputs...)}: runs this module's
   * forward hooks in order (each may replace the output). Costs nothing when there are none.
   */
  protected final Tensor hooked(Tensor output, Tensor... inputs) {
    if (forwardHooks.isEmpty()) {
      return output;
    }
    List<Tensor> in = Collections.unmodifiableList(Arrays.asList(inputs));
    Tensor out = output;
    for (ForwardHook h : forwardHooks) {
      Tensor r = h.apply(path, this, in, out);
      if (r != null) {
        out = r;
      }
    }
    return out;
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder();
    print(sb, "", name.isEmpty() ? "" : name);
    return sb.toString();
  }

  private void print(StringBuilder sb, String indent, String label) {
    sb.append(indent).append(label.isEmpty() ? "" : label + ": ").append(getClass().getSimpleName()).append(extraRepr()).append('\n');
    for (Parameter p : params.values()) {
      sb.append(indent).append("  ").append(p.name()).append(' ').append(Arrays.toString(p.shape()))
          .append(p.isSet() ? " " + p.get().dtype() : " (unset)").append('\n');
    }
    for (Map.Entry<String, Module> e : children.entrySet()) {
      e.getValue().print(sb, indent + "  ", e.getKey());
    }
  }

  /** Configuration shown by {@link #toString()} after the class name, e.g. "(in=64, out=128)". */
  protected String extraRepr() {
    return "";
  }
}
