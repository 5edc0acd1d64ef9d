package dev.fovea.vit.clip;

import dev.fovea.nn.Encoder;
import dev.fovea.nn.EncoderLayer;
import dev.fovea.nn.LayerNorm;
import dev.fovea.nn.Module;
import dev.fovea.tensor.DType;
import dev.fovea.tensor.Ops;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.TensorException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * HF {@code CLIPTextTransformer} (modeling_clip.py at 000f1ffdbf1ce6190cc8863af9a2fff817590937),
 * the module at {@code text_model}. Shapes: B batch, T tokens, W width.
 *
 * <pre>
 * x      = embeddings(ids)                 [B, T, W]    hidden_states[0]
 * h      = encoder(x, causal + padding)    L pre-LN layers (hidden_states[1..L])
 * h      = final_layer_norm(h)             all positions (last_hidden_state)
 * pooled = h[b, eos(b)]                    [B, W]
 * </pre>
 *
 * <p>Masks: causal (query i sees keys j &lt;= i) plus, as HF folds in the {@code attention_mask},
 * an additive bias of float32's lowest value on padded keys (HF uses {@code finfo.min}, not -inf,
 * so a fully masked row stays finite).
 *
 * <p>EOS position (spec 1.5), both rules HF has used: the <b>argmax of the ids</b> (OpenAI; the EOT
 * 49407 is the largest id) when the config has the legacy {@code eos_token_id == 2} (HF before
 * PR #24773 keyed on that) or when every row's largest id is 49407 (HF now); otherwise the
 * <b>first position of {@code eos_token_id}</b>. The two agree on every real CLIP checkpoint.
 */
public final class ClipTextTransformer extends Module {
  private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  /** OpenAI's <|endoftext|>, hard-coded by HF's legacy test. */
  public static final int OPENAI_END_OF_TEXT = 49407;

  public final ClipTextConfig config;
  public final ClipTextEmbeddings embeddings;
  public final Encoder encoder;
  public final LayerNorm finalLayerNorm;

  public ClipTextTransformer(ClipTextConfig config) {
    this.config = config;
    float eps = config.layerNormEps().floatValue();
    this.embeddings = register("embeddings", new ClipTextEmbeddings(config));
    EncoderLayer.Config layer = new EncoderLayer.Config(config.hiddenSize(), config.numAttentionHeads(), config.intermediateSize(),
        config.activation(), eps, true);
    this.encoder = register("encoder", new Encoder(layer, config.numHiddenLayers()));
    this.finalLayerNorm = register("final_layer_norm", new LayerNorm(config.hiddenSize(), eps));
  }

  /**
   * @param ids [B][T] token ids (every row the same length; pad as the tokenizer does)
   * @param attentionMask [B][T] with 1 for tokens and 0 for padding, or null for no padding
   */
  public TowerOutput forward(int[][] ids, int[][] attentionMask, ClipOutputs outputs) {
    int b = ids.length;
    int t = b == 0 ? 0 : ids[0].length;
    int[] flat = new int[b * t];
    for (int i = 0; i < b; i++) {
      if (ids[i].length != t) {
        throw new TensorException("CLIP text: row " + i + " has " + ids[i].length + " ids, row 0 has " + t + " (pad the batch)");
      }
      for (int j = 0; j < t; j++) {
        if (ids[i][j] < 0 || ids[i][j] >= config.vocabSize()) {
          throw new TensorException("CLIP text: id " + ids[i][j] + " at [" + i + ", " + j + "] is outside the vocabulary [0, " + config.vocabSize() + ")");
        }
      }
      System.arraycopy(ids[i], 0, flat, i * t, t);
    }
    int[] eos = eosPositions(ids, config.eosTokenId());
    Tensor bias = paddingBias(attentionMask, b, t); // [B, 1, 1, T] or null
    try (LayerRecorder rec = new LayerRecorder(this, config.numHiddenLayers(), outputs)) {
      Tensor x = embeddings.forward(Tensor.ofInts(flat, b, t)); // [B, T, W]
      Tensor h = finalLayerNorm.forward(encoder.forward(x, bias)); // [B, T, W]
      int[] rows = new int[b];
      for (int i = 0; i < b; i++) {
        rows[i] = i * t + eos[i];
      }
      Tensor pooled = Ops.indexSelect(h.reshape(b * t, config.hiddenSize()), 0, Tensor.ofInts(rows, b)); // [B, W]
      return new TowerOutput(h, pooled, rec.hiddenStates(x), rec.attentions());
    }
  }

  public TowerOutput forward(int[][] ids, int[][] attentionMask) {
    return forward(ids, attentionMask, ClipOutputs.NONE);
  }

  /** The pooled position of each row (see the class comment for the two rules). */
  public static int[] eosPositions(int[][] ids, int eosTokenId) {
    boolean allMaxAreEot = ids.length > 0;
    for (int[] row : ids) {
      int max = Integer.MIN_VALUE;
      for (int id : row) {
        max = Math.max(max, id);
      }
      allMaxAreEot &= max == OPENAI_END_OF_TEXT;
    }
    boolean argmax = eosTokenId == 2 || allMaxAreEot;
    int[] pos = new int[ids.length];
    for (int i = 0; i < ids.length; i++) {
      int best = -1;
      for (int j = 0; j < ids[i].length; j++) {
        if (argmax ? best < 0 || ids[i][j] > ids[i][best] : ids[i][j] == eosTokenId) {
          best = j;
          if (!argmax) {
            break;
          }
        }
      }
      if (best < 0) {
        throw new TensorException("CLIP text: row " + i + " has no eos_token_id " + eosTokenId
            + " to pool at (the tokenizer appends it; HF would silently pool position 0)");
      }
      pos[i] = best;
    }
    return pos;
  }

  private static Tensor paddingBias(int[][] mask, int b, int t) {
    if (mask == null) {
      return null;
    }
    if (mask.length != b) {
      throw new TensorException("CLIP text: attention mask has " + mask.length + " rows for " + b + " sequences");
    }
    boolean any = false;
    Tensor m = Tensor.empty(DType.F32, b, 1, 1, t);
    MemorySegment s = m.storage().segment();
    for (int i = 0; i < b; i++) {
      if (mask[i].length != t) {
        throw new TensorException("CLIP text: attention mask row " + i + " has " + mask[i].length + " entries for " + t + " ids");
      }
      for (int j = 0; j < t; j++) {
        boolean pad = mask[i][j] == 0;
        any |= pad;
        s.setAtIndex(F32, m.offset() + (long) i * t + j, pad ? -Float.MAX_VALUE : 0f);
      }
    }
    return any ? m : null;
  }
}
