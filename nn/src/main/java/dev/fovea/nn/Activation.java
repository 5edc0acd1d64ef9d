package dev.fovea.nn;

import dev.fovea.tensor.Ops;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.TensorException;

/** Activations by their config names ({@code hidden_act}). */
public enum Activation {
  /** Exact erf GELU ("gelu"). */
  GELU,
  /** x * sigmoid(1.702 x) ("quick_gelu", CLIP). */
  QUICK_GELU,
  /** tanh approximation ("gelu_new", "gelu_pytorch_tanh", "gelu_fast"). */
  GELU_TANH,
  RELU,
  /** x * sigmoid(x) ("silu", "swish"; LLaMA). */
  SILU;

  public Tensor apply(Tensor x) {
    return switch (this) {
      case GELU -> Ops.gelu(x);
      case QUICK_GELU -> Ops.quickGelu(x);
      case GELU_TANH -> Ops.geluTanh(x);
      case RELU -> Ops.relu(x);
      case SILU -> Ops.silu(x);
    };
  }

  /** The activation a config's {@code hidden_act} names; throws naming the value otherwise. */
  public static Activation fromConfig(String name) {
    return switch (name) {
      case "gelu" -> GELU;
      case "quick_gelu" -> QUICK_GELU;
      case "gelu_new", "gelu_pytorch_tanh", "gelu_fast", "gelu_tanh" -> GELU_TANH;
      case "relu" -> RELU;
      case "silu", "swish" -> SILU;
      default -> throw new TensorException("unknown activation '" + name + "' (known: gelu, quick_gelu, gelu_new, gelu_pytorch_tanh, relu, silu)");
    };
  }
}
