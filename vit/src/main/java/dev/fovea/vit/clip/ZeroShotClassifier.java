package dev.fovea.vit.clip;

import dev.fovea.tensor.Ops;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.TensorException;
import dev.fovea.vit.tokenizer.ClipTokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.function.IntConsumer;

/**
 * CLIP zero-shot classification with prompt ensembles (openai/CLIP notebooks/Prompt_Engineering_for_ImageNet.ipynb):
 * each label is put into every template ({@code "a photo of a {}."}), the prompts' text embeddings
 * are L2-normalized, averaged and renormalized into one class embedding [E]; an image's
 * probabilities are softmax(exp(logit_scale) * cos(image, class)) over the labels.
 *
 * <p>Prompts are tokenized as HF's CLIPTokenizer does ({@code <|startoftext|> … <|endoftext|>},
 * cut to the text tower's {@code max_position_embeddings}) and batched per label, padded with
 * {@code <|endoftext|>} under an attention mask.
 */
public final class ZeroShotClassifier {
  /** CLIP's single-template default. */
  public static final List<String> DEFAULT_TEMPLATES = List.of("a photo of a {}.");

  /** One label and its probability. */
  public record Prediction(String label, float probability) {}

  /** A padded batch of prompts. */
  public record Batch(int[][] ids, int[][] attentionMask) {}

  private final ClipModel model;
  private final List<String> labels;
  private final List<String> templates;
  private final Tensor classEmbeddings; // [K, E], global scope

  /**
   * Computes the class embeddings now (one text pass per label).
   *
   * @param onLabel told the index of each label once its embedding is done (progress), or null
   */
  public ZeroShotClassifier(ClipModel model, ClipTokenizer tokenizer, List<String> labels, List<String> templates, IntConsumer onLabel) {
    if (labels.isEmpty()) {
      throw new IllegalArgumentException("zero-shot: no labels");
    }
    if (templates.isEmpty()) {
      throw new IllegalArgumentException("zero-shot: no templates");
    }
    for (String t : templates) {
      if (!t.contains("{}")) {
        throw new IllegalArgumentException("zero-shot: template \"" + t + "\" has no {} where the label goes");
      }
    }
    this.model = model;
    this.labels = List.copyOf(labels);
    this.templates = List.copyOf(templates);
    List<Tensor> rows = new ArrayList<>();
    for (int k = 0; k < labels.size(); k++) {
      try (Scope s = Scope.open()) {
        String label = labels.get(k);
        List<String> prompts = templates.stream().map(t -> t.replace("{}", label)).toList();
        Batch batch = tokenize(tokenizer, prompts, model.config.textConfig().maxPositionEmbeddings());
        Tensor each = model.encodeText(batch.ids(), batch.attentionMask()); // [T, E], normalized
        Tensor mean = ClipModel.normalize(Ops.mean(each, 0, false)); // [E]
        rows.add(mean.contiguous().copyTo(Scope.global()));
      }
      if (onLabel != null) {
        onLabel.accept(k);
      }
    }
    this.classEmbeddings = Ops.stack(rows, 0);
  }

  /** Tokenizes texts into one batch, right-padded with {@code <|endoftext|>} to the longest (at most {@code context}). */
  public static Batch tokenize(ClipTokenizer tokenizer, List<String> texts, int context) {
    int[][] seqs = new int[texts.size()][];
    int t = 0;
    for (int i = 0; i < seqs.length; i++) {
      int[] ids = tokenizer.encode(texts.get(i), true);
      if (ids.length > context) {
        ids = Arrays.copyOf(ids, context);
        ids[context - 1] = tokenizer.endOfTextId(); // as encodeToContext truncates
      }
      seqs[i] = ids;
      t = Math.max(t, ids.length);
    }
    int[][] ids = new int[seqs.length][t];
    int[][] mask = new int[seqs.length][t];
    for (int i = 0; i < seqs.length; i++) {
      Arrays.fill(ids[i], tokenizer.endOfTextId());
      System.arraycopy(seqs[i], 0, ids[i], 0, seqs[i].length);
      Arrays.fill(mask[i], 0, seqs[i].length, 1);
    }
    return new Batch(ids, mask);
  }

  public List<String> labels() {
    return labels;
  }

  public List<String> templates() {
    return templates;
  }

  /** [K, E], L2-normalized rows. */
  public Tensor classEmbeddings() {
    return classEmbeddings;
  }

  /** Probabilities [B][K] for pixels [B, 3, H, W] (or [3, H, W]). */
  public float[][] probabilities(Tensor pixels) {
    Tensor px = pixels.dim() == 3 ? pixels.unsqueeze(0) : pixels;
    if (px.dim() != 4) {
      throw new TensorException("zero-shot: pixels must be [B, 3, H, W] or [3, H, W], got " + Arrays.toString(pixels.shape()));
    }
    try (Scope s = Scope.open()) {
      Tensor img = model.encodeImage(px); // [B, E]
      Tensor logits = Ops.mul(Ops.matmul(img, classEmbeddings.transpose(0, 1)), model.temperature()); // [B, K]
      float[] p = Ops.softmax(logits, -1).contiguous().toFloatArray();
      int k = labels.size();
      float[][] out = new float[px.size(0)][k];
      for (int b = 0; b < out.length; b++) {
        System.arraycopy(p, b * k, out[b], 0, k);
      }
      return out;
    }
  }

  /** The labels of one image, most probable first. */
  public List<Prediction> classify(Tensor pixels) {
    float[][] p = probabilities(pixels);
    if (p.length != 1) {
      throw new TensorException("zero-shot classify: one image expected, got a batch of " + p.length + " (use probabilities)");
    }
    List<Prediction> out = new ArrayList<>();
    for (int k = 0; k < labels.size(); k++) {
      out.add(new Prediction(labels.get(k), p[0][k]));
    }
    out.sort(Comparator.comparingDouble(Prediction::probability).reversed());
    return out;
  }
}
