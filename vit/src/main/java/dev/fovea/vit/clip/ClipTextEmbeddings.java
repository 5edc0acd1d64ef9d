package dev.fovea.vit.clip;

import dev.fovea.nn.Embedding;
import dev.fovea.nn.Module;
import dev.fovea.tensor.Ops;
import dev.fovea.tensor.ShapeException;
import dev.fovea.tensor.Tensor;
import java.util.Arrays;

/** HF {@code CLIPTextEmbeddings}: token_embedding[ids] + position_embedding[0..T-1]. */
public final class ClipTextEmbeddings extends Module {
  public final ClipTextConfig config;
  /** weight [V, W]. */
  public final Embedding tokenEmbedding;
  /** weight [max_position_embeddings, W]. */
  public final Embedding positionEmbedding;

  public ClipTextEmbeddings(ClipTextConfig config) {
    this.config = config;
    this.tokenEmbedding = register("token_embedding", new Embedding(config.vocabSize(), config.hiddenSize()));
    this.positionEmbedding = register("position_embedding", new Embedding(config.maxPositionEmbeddings(), config.hiddenSize()));
  }

  /** ids I32 [B, T] (T &lt;= max_position_embeddings) to [B, T, W]. */
  public Tensor forward(Tensor ids) {
    if (ids.dim() != 2 || ids.size(1) > config.maxPositionEmbeddings() || ids.size(1) == 0) {
      throw new ShapeException("CLIP text embeddings '" + path() + "': ids " + Arrays.toString(ids.shape())
          + " must be [B, T] with 0 < T <= max_position_embeddings " + config.maxPositionEmbeddings());
    }
    int t = ids.size(1);
    Tensor tokens = tokenEmbedding.forward(ids); // [B, T, W]
    Tensor pos = positionEmbedding.forward(Tensor.ofInts(ClipVisionEmbeddings.range(t), t)); // [T, W]
    return hooked(Ops.add(tokens, pos), ids);
  }
}
