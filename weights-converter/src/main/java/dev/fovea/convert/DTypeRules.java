package dev.fovea.convert;

import dev.fovea.tensor.DType;
import dev.fovea.tensor.Shapes;
import dev.fovea.tensor.WeightSource.TensorInfo;
import java.util.Locale;

/**
 * Which dtype each tensor gets in the archive. The rules, first match wins:
 *
 * <ol>
 *   <li>Integer tensors (I32/I64: ids, position buffers) keep their dtype.
 *   <li>Tensors of rank 0 or 1 (norm weights, biases, scales, class embeddings stored as [D]) are
 *       stored F32: they are tiny and every kernel reads them at full precision.
 *   <li>Small embeddings: a tensor whose name contains "embed" or "embd" with at most {@link
 *       #SMALL_EMBEDDING} elements (position embeddings, class embeddings, patch-embedding convs)
 *       is stored F32, unless {@code quantizeEmbeddings}. Large embedding tables (a vocabulary)
 *       follow the next rules, like any matrix.
 *   <li>Block targets (Q8_0, Q4_0) apply to 2-D matrices whose last dimension is a multiple of 32
 *       (the block runs along a row); any other tensor (conv kernels, odd widths) is stored F32.
 *   <li>Float targets (F32, F16, BF16) apply to every remaining floating-point tensor of rank >= 2.
 * </ol>
 */
public final class DTypeRules {
  /** Largest element count of an embedding kept in F32 by rule 3 (4 MiB of F32). */
  public static final long SMALL_EMBEDDING = 1L << 20;

  /** The decision for one tensor and the rule that made it, for the summary. */
  public record Decision(DType dtype, String rule) {}

  private DTypeRules() {}

  public static Decision decide(TensorInfo info, DType target, boolean quantizeEmbeddings) {
    DType src = info.dtype();
    int[] shape = info.shape();
    if (!src.isFloatingPoint()) {
      return new Decision(src, "integer: kept");
    }
    if (shape.length < 2) {
      return new Decision(DType.F32, "rank " + shape.length + ": F32");
    }
    String lower = info.name().toLowerCase(Locale.ROOT);
    boolean embedding = lower.contains("embed") || lower.contains("embd");
    if (embedding && !quantizeEmbeddings && Shapes.numel(shape) <= SMALL_EMBEDDING) {
      return new Decision(DType.F32, "small embedding: F32");
    }
    if (target.isQuantized()) {
      if (shape.length != 2 || shape[1] % target.blockSize() != 0) {
        return new Decision(DType.F32, "not a 2-D matrix with rows of " + target.blockSize() + "k: F32");
      }
      return new Decision(target, "matrix: " + target);
    }
    return new Decision(target, "rank " + shape.length + ": " + target);
  }
}
