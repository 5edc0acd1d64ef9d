package dev.fovea.methods.minillava;

import dev.fovea.llm.llama.DecodeState;
import dev.fovea.llm.llava.LlavaForConditionalGeneration;
import dev.fovea.llm.llava.LlavaInputs;
import dev.fovea.nn.AttentionHook;
import dev.fovea.nn.HookHandle;
import dev.fovea.nn.train.AdamW;
import dev.fovea.nn.train.BatchSource;
import dev.fovea.nn.train.CausalLmLoss;
import dev.fovea.nn.train.LrSchedule;
import dev.fovea.nn.train.Trainable;
import dev.fovea.nn.train.Trainer;
import dev.fovea.tensor.Ops;
import dev.fovea.tensor.Tensor;
import dev.fovea.vit.image.ImageProcessor;
import dev.fovea.vit.image.PreprocessorConfig;
import dev.fovea.vit.image.RgbImage;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Trains the mini LLaVA ({@link MiniLlava}) on synthetic scenes ({@link SceneExamples}) with fovea's
 * training library: answer-token cross-entropy plus an attention-localization term and a patch-word
 * term, AdamW with
 * decoupled weight decay on matrices, warm-up + cosine, gradient clipping, a seed that fixes every
 * draw (the same weights bit for bit at any thread count), checkpoints that resume exactly.
 *
 * <p>The localization term teaches the decoder to look where the answer is, which is what ViCrop's
 * maps read: at layer {@link MiniLlava#ATTENTION_LAYER}, the head-mean attention of the last prompt
 * position over the scene's 64 image tokens (renormalized to sum 1) against the share of the
 * answer's box in each patch, as a cross-entropy {@code -sum t log a} weighted by {@code
 * attentionWeight}. A PyTorch feasibility run of this model family without it found crops chosen
 * from the model's own attention no better than random ones: its attention did not localize.
 *
 * <p>The patch-word term gives the image tokens something to say: at each image token of the scene,
 * the decoder predicts the first token of the colour word of the object covering its patch ({@link
 * SceneExamples.Example#patchWords}; -1 patches are not trained), a cross-entropy weighted by {@code
 * patchWeight}. Without it, the attention term barely moved (4.10 after 400 steps against 4.16 for
 * uniform attention); with it, 3.40 at step 900.
 *
 * <p>One micro-batch is one forward: the images of all its examples through the tower as one batch,
 * the prompts right-padded to the longest (padding after a row's last token changes nothing before
 * it under the causal mask, and its labels are ignored) and run through the decoder as one batch.
 */
public final class SceneTraining {
  /**
   * @param steps optimizer steps
   * @param batch examples per micro-batch
   * @param accumulation micro-batches per step
   * @param lr peak learning rate
   * @param weightDecay AdamW's decoupled decay on matrices
   * @param warmup warm-up steps
   * @param minLrRatio the cosine's floor as a share of the peak
   * @param maxGradNorm global gradient clipping
   * @param attentionWeight weight of the localization term (0: none)
   * @param patchWeight weight of the patch-word term (0: none)
   * @param seed seeds the model's initialization, the scenes and every draw
   * @param attentionPerHead the localization term on each head's attention, averaged over heads
   *     (every head learns to look at the answer, so maps that weight heads, as grad-att's, stay
   *     localized), instead of on the head mean
   */
  public record Config(long steps, int batch, int accumulation, double lr, double weightDecay, long warmup, double minLrRatio, double maxGradNorm,
      double attentionWeight, double patchWeight, long seed, boolean attentionPerHead) {
    public static final long DEFAULT_WARMUP = 100;

    public static Config defaults() {
      return new Config(3000, 16, 1, 2e-3, 0.05, DEFAULT_WARMUP, 0.05, 1.0, 1.0, 0.3, 1, false);
    }

    public Config withSteps(long v) {
      return new Config(v, batch, accumulation, lr, weightDecay, warmup, minLrRatio, maxGradNorm, attentionWeight, patchWeight, seed, attentionPerHead);
    }

    public Config withBatch(int v) {
      return new Config(steps, v, accumulation, lr, weightDecay, warmup, minLrRatio, maxGradNorm, attentionWeight, patchWeight, seed, attentionPerHead);
    }

    public Config withLr(double v) {
      return new Config(steps, batch, accumulation, v, weightDecay, warmup, minLrRatio, maxGradNorm, attentionWeight, patchWeight, seed, attentionPerHead);
    }

    public Config withAttentionWeight(double v) {
      return new Config(steps, batch, accumulation, lr, weightDecay, warmup, minLrRatio, maxGradNorm, v, patchWeight, seed, attentionPerHead);
    }

    public Config withSeed(long v) {
      return new Config(steps, batch, accumulation, lr, weightDecay, warmup, minLrRatio, maxGradNorm, attentionWeight, patchWeight, v, attentionPerHead);
    }

    public Config withPatchWeight(double v) {
      return new Config(steps, batch, accumulation, lr, weightDecay, warmup, minLrRatio, maxGradNorm, attentionWeight, v, seed, attentionPerHead);
    }

    /** The localization term per head, averaged over heads, instead of on the head mean. */
    public Config withAttentionPerHead(boolean v) {
      return new Config(steps, batch, accumulation, lr, weightDecay, warmup, minLrRatio, maxGradNorm, attentionWeight, patchWeight, seed, v);
    }

    public Config withWarmup(long v) {
      return new Config(steps, batch, accumulation, lr, weightDecay, v, minLrRatio, maxGradNorm, attentionWeight, patchWeight, seed, attentionPerHead);
    }

    public Map<String, Object> toJson() {
      Map<String, Object> m = new java.util.LinkedHashMap<>();
      m.put("steps", steps);
      m.put("batch", batch);
      m.put("accumulation", accumulation);
      m.put("lr", lr);
      m.put("weight_decay", weightDecay);
      m.put("warmup", warmup);
      m.put("min_lr_ratio", minLrRatio);
      m.put("max_grad_norm", maxGradNorm);
      m.put("attention_weight", attentionWeight);
      m.put("patch_weight", patchWeight);
      m.put("seed", seed);
      if (attentionPerHead) {
        m.put("attention_per_head", true);
      }
      return m;
    }
  }

  private final LlavaForConditionalGeneration model;
  private final SceneExamples examples;
  private final ImageProcessor processor;
  private final Config config;
  private final String layerPath;

  public SceneTraining(LlavaForConditionalGeneration model, SceneExamples examples, Config config) {
    this.model = model;
    this.examples = examples;
    this.processor = new ImageProcessor(PreprocessorConfig.fromJson(readTree(MiniLlava.PREPROCESSOR_JSON), "mini LLaVA"));
    this.config = config;
    this.layerPath = "language_model.model.layers." + MiniLlava.ATTENTION_LAYER + ".self_attn";
  }

  private static com.fasterxml.jackson.databind.JsonNode readTree(String json) {
    try {
      return new ObjectMapper().readTree(json.getBytes(StandardCharsets.UTF_8));
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Micro-batch {@code index}: examples {@code index * batch ..} of the training stream {@code seed}. */
  public BatchSource<List<SceneExamples.Example>> source() {
    return (index, seed) -> {
      List<SceneExamples.Example> list = new ArrayList<>(config.batch());
      for (int i = 0; i < config.batch(); i++) {
        list.add(examples.example(seed, index * config.batch() + i));
      }
      return list;
    };
  }

  /** The micro-batch's loss (a scalar in the graph): mean answer cross-entropy + weight x mean localization term. */
  public Tensor loss(List<SceneExamples.Example> batch) {
    return losses(batch)[0];
  }

  /** {total, answer cross-entropy, localization term (or null), patch-word term (or null)} of a micro-batch. */
  public Tensor[] losses(List<SceneExamples.Example> batch) {
    List<RgbImage> images = new ArrayList<>();
    java.util.IdentityHashMap<RgbImage, Integer> slot = new java.util.IdentityHashMap<>(); // a scene shared by several examples runs once
    for (SceneExamples.Example e : batch) {
      for (RgbImage im : e.images()) {
        if (!slot.containsKey(im)) {
          slot.put(im, images.size());
          images.add(im);
        }
      }
    }
    Tensor features = model.imageFeatures(processor.processBatch(images)); // [n, 64, C]
    int c = model.config.textConfig().hiddenSize();
    List<LlavaInputs> inputs = new ArrayList<>();
    int[] promptLengths = new int[batch.size()]; // in the merged sequence (image markers expanded)
    int longest = 0;
    for (SceneExamples.Example e : batch) {
      List<Tensor> own = new ArrayList<>();
      for (RgbImage im : e.images()) {
        int i = slot.get(im);
        own.add(Ops.slice(features, 0, i, i + 1, 1));
      }
      LlavaInputs in = model.prepareWithFeatures(e.ids(), own.size() == 1 ? own.get(0) : Ops.concat(own, 0));
      inputs.add(in);
      promptLengths[inputs.size() - 1] = in.length() - (e.ids().length - e.promptLength());
      longest = Math.max(longest, in.length());
    }
    List<Tensor> rows = new ArrayList<>();
    int[][] labels = new int[batch.size()][];
    for (int b = 0; b < batch.size(); b++) {
      LlavaInputs in = inputs.get(b);
      Tensor emb = in.embeddings();
      if (in.length() < longest) {
        emb = Ops.concat(List.of(emb, Tensor.zeros(1, longest - in.length(), c)), 1);
      }
      rows.add(emb);
      int promptLength = promptLengths[b];
      int[] l = new int[longest];
      java.util.Arrays.fill(l, CausalLmLoss.IGNORE);
      int[] own = CausalLmLoss.answerLabels(in.ids(), promptLength);
      System.arraycopy(own, 0, l, 0, own.length);
      labels[b] = l;
    }
    Tensor[] probs = new Tensor[1];
    Tensor logits;
    try (DecodeState state = model.newState(batch.size(), longest);
        HookHandle h = config.attentionWeight() > 0 ? model.addAttentionHook(layerPath, AttentionHook.reading((ctx, p) -> probs[0] = p)) : null) {
      logits = model.languageModel.forward(Ops.concat(rows, 0), state, true);
    }
    Tensor ce = CausalLmLoss.loss(logits, labels);
    Tensor patch = null;
    if (config.patchWeight() > 0) {
      int[][] words = new int[batch.size()][longest];
      int count = 0;
      for (int b = 0; b < batch.size(); b++) {
        java.util.Arrays.fill(words[b], CausalLmLoss.IGNORE);
        int span = inputs.get(b).imageSpans().get(0).start();
        int[] w = batch.get(b).patchWords();
        for (int i = 0; i < w.length; i++) {
          if (w[i] >= 0) {
            words[b][span + i + 1] = w[i]; // position span + i predicts the word of its patch
            count++;
          }
        }
      }
      if (count > 0) {
        patch = CausalLmLoss.loss(logits, words);
      }
    }
    Tensor att = null;
    int counted = 0;
    if (config.attentionWeight() > 0) {
      for (int b = 0; b < batch.size(); b++) {
        float[] target = batch.get(b).attentionTarget();
        if (target == null) {
          continue;
        }
        LlavaInputs in = inputs.get(b);
        int span = in.imageSpans().get(0).start();
        int q = promptLengths[b] - 1;
        Tensor row = Ops.slice(Ops.slice(Ops.slice(probs[0], 0, b, b + 1, 1), 2, q, q + 1, 1), 3, span, span + target.length, 1); // [1, H, 1, 64]
        Tensor term;
        if (config.attentionPerHead()) {
          int heads = row.size(1);
          Tensor a = Ops.reshape(row, heads, target.length); // each head's row
          a = Ops.div(a, Ops.sum(a, 1, true));
          Tensor t = Ops.reshape(Tensor.of(target, target.length), 1, target.length);
          term = Ops.mulScalar(Ops.neg(Ops.sumAll(Ops.mul(t, Ops.log(Ops.addScalar(a, 1e-6f))))), 1f / heads);
        } else {
          Tensor a = Ops.reshape(Ops.mean(row, 1, false), target.length); // head mean
          a = Ops.div(a, Ops.sumAll(a));
          term = Ops.neg(Ops.sumAll(Ops.mul(Tensor.of(target, target.length), Ops.log(Ops.addScalar(a, 1e-6f)))));
        }
        att = att == null ? term : Ops.add(att, term);
        counted++;
      }
    }
    Tensor total = ce;
    if (att != null) {
      att = Ops.mulScalar(att, 1f / counted);
      total = Ops.add(total, Ops.mulScalar(att, (float) config.attentionWeight()));
    }
    if (patch != null) {
      total = Ops.add(total, Ops.mulScalar(patch, (float) config.patchWeight()));
    }
    return new Tensor[] {total, ce, att, patch};
  }

  /** A trainer over {@code params} with this run's optimizer, schedule and data. */
  public Trainer<List<SceneExamples.Example>> trainer(Trainable params, AdamW optimizer, Trainer.Config run) {
    return new Trainer<>(params, optimizer, LrSchedule.cosineWithWarmup(config.warmup(), config.steps(), config.minLrRatio()), source(),
        (batch, rng) -> loss(batch), run).counting(List::size, b -> b.stream().mapToLong(e -> e.ids().length).sum());
  }

  public static AdamW optimizer(Trainable params, Config config) {
    return new AdamW(params, AdamW.Config.defaults().withLr(config.lr()).withWeightDecay(config.weightDecay()), AdamW.DECAY_MATRICES);
  }
}
