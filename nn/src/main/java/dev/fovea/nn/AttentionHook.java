package dev.fovea.nn;

import dev.fovea.tensor.Tensor;
import java.util.function.BiConsumer;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * Reads and steers one attention layer (DESIGN "Hooks"). A layer with at least one hook takes the
 * explicit path: scores = q k^T * scale + caller's bias + every hook's {@link #biasBeforeSoftmax},
 * causal mask, softmax, then each hook's {@link #onProbabilities} in registration order, then
 * probabilities @ v. A layer without hooks takes the fused path that never materializes the
 * probabilities (unless autograd needs them).
 *
 * <p>Both methods are optional, so one hook can read, mask, or do both:
 *
 * <pre>{@code
 * try (var h = model.addAttentionHook("encoder.layers.1", AttentionHook.reading((ctx, p) -> kept.add(p.retainGrad())))) {
 *   ...
 * }
 * }</pre>
 *
 * The probabilities are the exact tensor that multiplies V, part of the autograd graph when grad
 * mode is on: a hook may keep it, call {@code retainGrad()} on it and read {@code grad()} after
 * {@code backward()}. It lives in the caller's scope; copy it out ({@code copyTo}) to keep it longer.
 */
public interface AttentionHook {
  /**
   * An additive bias over the scores before the softmax, broadcastable to [B, H, Tq, Tk] (e.g.
   * [1, 1, 1, Tk] with -inf at keys to mask), or null for none. Biases of several hooks add up.
   */
  default Tensor biasBeforeSoftmax(AttentionContext ctx) {
    return null;
  }

  /**
   * Sees the probabilities [B, H, Tq, Tk]; returns a replacement of the same shape (it is what
   * multiplies V from then on) or null to keep them.
   */
  default Tensor onProbabilities(AttentionContext ctx, Tensor probs) {
    return null;
  }

  /** A hook that only reads the probabilities. */
  static AttentionHook reading(BiConsumer<AttentionContext, Tensor> reader) {
    return new AttentionHook() {
      @Override
      public Tensor onProbabilities(AttentionContext ctx, Tensor probs) {
        reader.accept(ctx, probs);
        return null;
      }
    };
  }

  /** A hook that may replace the probabilities (return null to keep them). */
  static AttentionHook replacing(BiFunction<AttentionContext, Tensor, Tensor> replacer) {
    return new AttentionHook() {
      @Override
      public Tensor onProbabilities(AttentionContext ctx, Tensor probs) {
        return replacer.apply(ctx, probs);
      }
    };
  }

  /** A hook that only adds a bias before the softmax (return null for none). */
  static AttentionHook biasing(Function<AttentionContext, Tensor> bias) {
    return new AttentionHook() {
      @Override
      public Tensor biasBeforeSoftmax(AttentionContext ctx) {
        return bias.apply(ctx);
      }
    };
  }
}
