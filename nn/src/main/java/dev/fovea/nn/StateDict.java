package dev.fovea.nn;

import dev.fovea.tensor.DType;
import dev.fovea.tensor.ErrorList;
import dev.fovea.tensor.WeightSource;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Strict loading of a module tree from a {@link WeightSource}: one walk over the module's
 * parameters and the source's names, every problem collected, then one {@link
 * StateDictException} (PyTorch's {@code load_state_dict(strict=True)}), or every parameter set.
 * Nothing is set when anything is wrong, and nothing is ever filled with random or zero values.
 *
 * <p>Names: the source key of a parameter is {@code prefix + relative path} (the prefix selects a
 * sub-model, e.g. {@code "vision_tower.vision_model."}). Source names outside the prefix are not
 * this module's business; names inside it that no parameter claims are "unexpected" unless the
 * {@code ignore} predicate accepts them (e.g. {@code rotary_emb.inv_freq}, {@code position_ids}).
 */
public final class StateDict {
  private StateDict() {}

  /** What is wrong with one name. */
  public enum Kind {
    MISSING,
    UNEXPECTED,
    SHAPE,
    DTYPE
  }

  /**
   * One problem. {@code name} is the source key; expected fields are null for UNEXPECTED, found
   * fields null for MISSING.
   */
  public record Problem(Kind kind, String name, int[] expectedShape, Set<DType> expectedDtypes, int[] foundShape, DType foundDtype) {
    /** One line: kind, name, expected and found shape and dtype. */
    public String describe() {
      String exp = expectedShape == null ? "" : " expected " + Arrays.toString(expectedShape) + " " + dtypes(expectedDtypes);
      String found = foundShape == null ? "" : " found " + Arrays.toString(foundShape) + " " + foundDtype;
      return switch (kind) {
        case MISSING -> "missing:    " + name + exp;
        case UNEXPECTED -> "unexpected: " + name + found;
        case SHAPE -> "shape:      " + name + exp + ", found " + Arrays.toString(foundShape) + " " + foundDtype;
        case DTYPE -> "dtype:      " + name + exp + ", found " + Arrays.toString(foundShape) + " " + foundDtype;
      };
    }

    @Override
    public String toString() {
      return describe();
    }
  }

  /** Loads every parameter of {@code module} from {@code source} (keys = prefix + relative path). */
  public static void load(Module module, WeightSource source, String prefix, Predicate<String> ignore) {
    String pre = prefix == null ? "" : prefix;
    Predicate<String> skip = ignore == null ? n -> false : ignore;
    Map<String, Parameter> params = module.namedParameters();
    Map<String, Parameter> byKey = new HashMap<>();
    List<Problem> problems = new ArrayList<>();
    for (Map.Entry<String, Parameter> e : params.entrySet()) {
      String key = pre + e.getKey();
      Parameter p = e.getValue();
      byKey.put(key, p);
      WeightSource.TensorInfo info = source.info(key);
      if (info == null) {
        problems.add(new Problem(Kind.MISSING, key, p.shape(), p.dtypes(), null, null));
        continue;
      }
      Problem bad = check(p, info.dtype(), info.shape(), key);
      if (bad != null) {
        problems.add(bad);
      }
    }
    for (String name : source.names()) {
      if (name.startsWith(pre) && !byKey.containsKey(name) && !skip.test(name)) {
        WeightSource.TensorInfo info = source.info(name);
        problems.add(new Problem(Kind.UNEXPECTED, name, null, null, info == null ? null : info.shape(), info == null ? null : info.dtype()));
      }
    }
    if (!problems.isEmpty()) {
      throw new StateDictException(module.getClass().getSimpleName(), source.origin(), hint(problems, source, pre), problems);
    }
    for (Map.Entry<String, Parameter> e : byKey.entrySet()) {
      e.getValue().setUnchecked(source.get(e.getKey()));
    }
  }

  /** The problem with giving {@code p} a tensor of this dtype and shape, or null. */
  static Problem check(Parameter p, DType dtype, int[] shape, String key) {
    if (!Arrays.equals(p.shape(), shape)) {
      return new Problem(Kind.SHAPE, key, p.shape(), p.dtypes(), shape, dtype);
    }
    if (!p.dtypes().contains(dtype)) {
      return new Problem(Kind.DTYPE, key, p.shape(), p.dtypes(), shape, dtype);
    }
    return null;
  }

  static String describe(String module, String origin, List<Problem> problems) {
    StringBuilder sb = new StringBuilder("Error(s) loading state dict for ").append(module).append(" from ").append(origin).append(": ");
    List<String> counts = new ArrayList<>();
    for (Kind k : Kind.values()) {
      long n = problems.stream().filter(p -> p.kind() == k).count();
      if (n > 0) {
        counts.add(n + " " + k.name().toLowerCase());
      }
    }
    sb.append(String.join(", ", counts));
    // the first few by name, then a count: 10 000 missing layers must not make a megabyte message
    int shown = Math.min(problems.size(), ErrorList.SHOWN);
    for (Problem p : problems.subList(0, shown)) {
      sb.append("\n  ").append(ErrorList.abbreviate(p.describe(), ErrorList.ITEM_CHARS));
    }
    if (problems.size() > shown) {
      sb.append("\n  ... and ").append(problems.size() - shown).append(" more");
    }
    return sb.toString();
  }

  /**
   * The length of the module list stored under {@code listPrefix}: 1 + the largest N among the
   * source's names {@code listPrefix + N + "."} ("model.layers." finds model.layers.0.*, ...), 0 when
   * there is none; an index past int range counts as {@link Integer#MAX_VALUE}. Reads names only, so
   * a loader can compare a config's layer count with the checkpoint before building any module.
   */
  public static int countIndexed(WeightSource source, String listPrefix) {
    long max = -1;
    for (String name : source.names()) {
      if (!name.startsWith(listPrefix)) {
        continue;
      }
      int end = name.indexOf('.', listPrefix.length());
      if (end <= listPrefix.length()) {
        continue;
      }
      String digits = name.substring(listPrefix.length(), end);
      if (!digits.chars().allMatch(c -> c >= '0' && c <= '9')) {
        continue;
      }
      long index = digits.length() > 10 ? Integer.MAX_VALUE : Math.min(Long.parseLong(digits), Integer.MAX_VALUE - 1L);
      max = Math.max(max, index);
    }
    return (int) Math.min(max + 1, Integer.MAX_VALUE);
  }

  /**
   * A line saying that a config's layer count ({@code key} = {@code expected}) disagrees with the
   * layers stored under {@code listPrefix}, or null when they agree ({@link #countIndexed}).
   */
  public static String countDisagreement(WeightSource source, String listPrefix, String key, int expected) {
    int found = countIndexed(source, listPrefix);
    if (found == expected) {
      return null;
    }
    String stored = found == 0 ? "no " + listPrefix + "N tensors"
        : found == Integer.MAX_VALUE ? "a tensor under " + listPrefix + " with an index past int range"
        : found + " (" + listPrefix + "0 to " + listPrefix + (found - 1) + ")";
    return key + " = " + expected + " but the weights have " + stored;
  }

  /**
   * A line saying how the stored shape of {@code name} differs from {@code expected}, or null when it
   * agrees or the tensor is absent (a missing tensor is the strict load's to report). {@code what}
   * says where the expectation comes from, e.g. {@code "[vocab_size, hidden_size]"}.
   */
  public static String shapeDisagreement(WeightSource source, String name, String what, int... expected) {
    WeightSource.TensorInfo info = source.info(name);
    if (info == null || Arrays.equals(info.shape(), expected)) {
      return null;
    }
    return name + " is " + Arrays.toString(info.shape()) + " but " + what + " = " + Arrays.toString(expected);
  }

  /** When a missing name exists in the source under another prefix, say so. */
  private static String hint(List<Problem> problems, WeightSource source, String prefix) {
    for (Problem p : problems) {
      if (p.kind() != Kind.MISSING) {
        continue;
      }
      String rel = p.name().substring(prefix.length());
      for (String n : source.names()) {
        if (n.endsWith("." + rel) || (n.endsWith(rel) && !n.equals(rel) && rel.contains("."))) {
          String other = n.substring(0, n.length() - rel.length());
          return "\nHINT: the source has '" + n + "'; is the prefix '" + other + "' rather than '" + prefix + "'?";
        }
      }
      break;
    }
    return "";
  }

  private static String dtypes(Set<DType> ds) {
    if (ds == null) {
      return "";
    }
    return ds.size() == 1 ? ds.iterator().next().toString() : ds.stream().sorted().map(Enum::name).toList().toString();
  }
}
