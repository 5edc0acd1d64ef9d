package dev.fovea.nn;

/**
 * What an {@link AttentionHook} knows about the call it is in: the layer's path and index (the
 * last numeric segment of the path, e.g. 3 for {@code encoder.layers.3.self_attn}; -1 when there is
 * none), and the sizes: B batch, H query heads, Hkv key/value heads, Tq queries, Tk keys, D head size.
 *
 * @param selfAttention false for cross attention (keys come from a context sequence)
 */
public record AttentionContext(
    String path,
    int layerIndex,
    MultiHeadAttention module,
    int batch,
    int heads,
    int kvHeads,
    int queries,
    int keys,
    int headDim,
    boolean causal,
    boolean selfAttention) {

  /** Shape of the probabilities the hook sees: [B, H, Tq, Tk]. */
  public int[] probsShape() {
    return new int[] {batch, heads, queries, keys};
  }

  /** The last all-digit segment of a dotted path, or -1. */
  static int layerIndexOf(String path) {
    String[] parts = path.split("\\.");
    for (int i = parts.length - 1; i >= 0; i--) {
      if (!parts[i].isEmpty() && parts[i].chars().allMatch(Character::isDigit)) {
        return Integer.parseInt(parts[i]);
      }
    }
    return -1;
  }
}
