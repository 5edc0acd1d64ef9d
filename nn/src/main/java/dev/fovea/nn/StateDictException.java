package dev.fovea.nn;

import dev.fovea.tensor.TensorException;
import java.util.List;

/**
 * Loading found missing, unexpected, mis-shaped or mis-typed tensors. Thrown once per load with
 * every problem listed (PyTorch's "Error(s) in loading state_dict"), each by its dotted name in the
 * source, with expected and found shape and dtype, and the source's origin.
 */
public class StateDictException extends TensorException {
  private final String module;
  private final String origin;
  private final List<StateDict.Problem> problems;

  public StateDictException(String module, String origin, List<StateDict.Problem> problems) {
    this(module, origin, "", problems);
  }

  StateDictException(String module, String origin, String hint, List<StateDict.Problem> problems) {
    super(StateDict.describe(module, origin, problems) + hint);
    this.module = module;
    this.origin = origin;
    this.problems = List.copyOf(problems);
  }

  /** Class name of the module being loaded. */
  public String module() {
    return module;
  }

  /** Where the tensors came from (the source's {@code origin()}). */
  public String origin() {
    return origin;
  }

  public List<StateDict.Problem> problems() {
    return problems;
  }

  /** Problems of one kind, in the order found. */
  public List<StateDict.Problem> problems(StateDict.Kind kind) {
    return problems.stream().filter(p -> p.kind() == kind).toList();
  }
}
