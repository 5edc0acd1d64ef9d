package dev.fovea.nn;

import dev.fovea.tensor.Ops;
import dev.fovea.tensor.Tensor;

/** down_proj(act(gate_proj(x)) * up_proj(x)), act = SiLU for LLaMA (SwiGLU). */
public final class GatedMLP extends Module {
  public final Activation act;
  public final Linear gateProj;
  public final Linear upProj;
  public final Linear downProj;

  public GatedMLP(int dim, int intermediate) {
    this(dim, intermediate, Activation.SILU, false);
  }

  public GatedMLP(int dim, int intermediate, Activation act, boolean bias) {
    this.act = act;
    this.gateProj = register("gate_proj", new Linear(dim, intermediate, bias));
    this.upProj = register("up_proj", new Linear(dim, intermediate, bias));
    this.downProj = register("down_proj", new Linear(intermediate, dim, bias));
  }

  public Tensor forward(Tensor x) {
    Tensor[] gu = Linear.forwardShared(x, gateProj, upProj); // one GEMV pass at a decode step
    Tensor h = Ops.mul(act.apply(gu[0]), gu[1]); // [..., intermediate]
    return hooked(downProj.forward(h), x);
  }
}
