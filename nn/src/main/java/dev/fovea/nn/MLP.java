package dev.fovea.nn;

import dev.fovea.tensor.Tensor;

/** fc2(act(fc1(x))) (CLIP's {@code mlp.fc1}/{@code mlp.fc2}; the segment names are configurable, e.g. LLaVA's {@code linear_1}/{@code linear_2}). */
public final class MLP extends Module {
  public final Activation act;
  public final Linear fc1;
  public final Linear fc2;

  /** CLIP layout: fc1 [hidden, dim], fc2 [dim, hidden], both with bias. */
  public MLP(int dim, int hidden, Activation act) {
    this(dim, hidden, dim, act, true, "fc1", "fc2");
  }

  public MLP(int in, int hidden, int out, Activation act, boolean bias, String fc1Name, String fc2Name) {
    this.act = act;
    this.fc1 = register(fc1Name, new Linear(in, hidden, bias));
    this.fc2 = register(fc2Name, new Linear(hidden, out, bias));
  }

  public Tensor forward(Tensor x) {
    Tensor h = act.apply(fc1.forward(x)); // [..., hidden]
    return hooked(fc2.forward(h), x);
  }

  @Override
  protected String extraRepr() {
    return "(" + act.name().toLowerCase() + ")";
  }
}
