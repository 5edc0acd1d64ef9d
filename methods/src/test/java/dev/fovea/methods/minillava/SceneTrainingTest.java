package dev.fovea.methods.minillava;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fovea.llm.llava.LlavaForConditionalGeneration;
import dev.fovea.llm.tokenizer.TokenizerLoader;
import dev.fovea.methods.eval.BoundingBox;
import dev.fovea.methods.scenes.SceneGenerator;
import dev.fovea.nn.train.AdamW;
import dev.fovea.nn.train.Trainable;
import dev.fovea.nn.train.Trainer;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.autograd.GradMode;
import dev.fovea.tensor.cpu.Elements;
import dev.fovea.tensor.cpu.Parallel;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The mini LLaVA's training (issue 22) on the real stories260K decoder shipped in {@code
 * models/stories260K}: the gradient of the whole loss (answer cross-entropy + the attention
 * localization term) against finite differences; padding a micro-batch changes nothing; the same
 * seed gives the same weights bit for bit at 1 and 2 threads, and a resumed run the same weights as
 * an uninterrupted one; the attention target is the box's share of each patch.
 */
class SceneTrainingTest {
  static Path models() {
    for (Path p : List.of(Path.of("models"), Path.of("../models"))) {
      if (Files.isRegularFile(p.resolve("stories260K/stories260K.gguf"))) {
        return p;
      }
    }
    throw new IllegalStateException("models/stories260K is part of the repository and was not found from " + Path.of("").toAbsolutePath());
  }

  static SceneExamples examples() {
    return new SceneExamples(new SceneGenerator(SceneGenerator.DEFAULT_SIZE), TokenizerLoader.fromLlama2cBin(models().resolve("stories260K/tok512.bin")));
  }

  static LlavaForConditionalGeneration model(long seed) {
    return MiniLlava.create(models().resolve("stories260K/stories260K.gguf"), seed);
  }

  /** The first examples of stream 5 that hold each prompt form, one with an attention target. */
  static List<SceneExamples.Example> tinyBatch(SceneExamples ex) {
    List<SceneExamples.Example> out = new ArrayList<>();
    List<String> kinds = new ArrayList<>();
    boolean target = false;
    for (long i = 0; i < 200 && (out.size() < 3 || !target); i++) {
      SceneExamples.Example e = ex.example(5, i);
      if (!kinds.contains(e.kind()) || (!target && e.attentionTarget() != null && out.size() < 4)) {
        kinds.add(e.kind());
        target |= e.attentionTarget() != null;
        out.add(e);
      }
    }
    assertTrue(target && kinds.containsAll(List.of("one-image", "with-crop", "conversation")), kinds.toString());
    return out;
  }

  static final String[] SAMPLE = {
    "vision_tower.vision_model.embeddings.patch_embedding.weight",
    "vision_tower.vision_model.embeddings.position_embedding.weight",
    "vision_tower.vision_model.encoder.layers.0.self_attn.q_proj.weight",
    "vision_tower.vision_model.encoder.layers.3.mlp.fc2.weight",
    "multi_modal_projector.linear_1.weight",
    "multi_modal_projector.linear_2.bias",
    "language_model.model.embed_tokens.weight",
    "language_model.model.layers.0.self_attn.k_proj.weight",
    "language_model.model.layers.3.self_attn.q_proj.weight",
    "language_model.model.layers.3.input_layernorm.weight",
    "language_model.model.layers.4.mlp.down_proj.weight",
    "language_model.lm_head.weight",
  };

  /**
   * The step of the central difference: 1e-2, except on the projector. At initialization its output
   * is small (weights N(0, 0.02)) and the decoder's RMSNorm divides each image token by its small
   * RMS, so the loss curves sharply along the projector's parameters: at h = 1e-2 the O(h^2) term of
   * the quotient alone is several times the derivative along linear_2's bias (measured: 1.38 against
   * an analytic 8.02, and 19.99 / 19.85 / 14.44 at h = 1e-4 / 1e-3 / 1e-2 on another batch, converging
   * to the analytic 19.99). Smaller steps there, where the gradient is large enough for float32.
   */
  static final Map<String, Double> STEP = Map.of("multi_modal_projector.linear_2.bias", 1e-4, "multi_modal_projector.linear_1.weight", 1e-3);

  /**
   * Directional derivatives along random unit directions (±1/sqrt(n)) of 12 parameters spread over
   * tower, projector, decoder and head, against central differences ({@link #STEP}) of the same
   * float32 loss; tolerance |analytic - numeric| <= 2e-4 + 2e-2 |numeric| (the loss is float32, the
   * quotient double). The attention term is checked alone too, on the parameters it reaches.
   */
  @Test
  void gradientOfTheWholeLossMatchesFiniteDifferences() {
    SceneExamples ex = examples();
    List<SceneExamples.Example> batch = tinyBatch(ex);
    try (LlavaForConditionalGeneration model = model(3); Trainable params = Trainable.of(model)) {
      for (int run = 0; run < 3; run++) {
        // the whole loss, the attention term on the head mean, the attention term per head
        int term = run == 0 ? 0 : 2;
        SceneTraining training = new SceneTraining(model, ex, SceneTraining.Config.defaults().withAttentionWeight(0.5).withAttentionPerHead(run == 2));
        params.zeroGrad();
        double l0;
        try (Scope scope = Scope.open(); var g = GradMode.enable()) {
          Tensor loss = training.losses(batch)[term];
          l0 = loss.item();
          loss.backward();
          params.collectGradients();
        }
        Random rng = new Random(11 + run);
        List<String> lines = new ArrayList<>();
        double worst = 0;
        for (String name : SAMPLE) {
          int i = params.names().indexOf(name);
          if (term == 2 && !name.startsWith("vision") && !name.startsWith("multi") && !name.contains("layers.0.") && !name.contains("layers.3.")
              && !name.contains("embed_tokens")) {
            continue; // the attention term at layer 3 does not reach layers above it or the head
          }
          assertTrue(params.hasGradient(i), name + " got no gradient");
          float[] grad = params.gradient(i).toFloatArray();
          float[] d = new float[grad.length];
          double analytic = 0;
          float unit = (float) (1 / Math.sqrt(d.length));
          for (int j = 0; j < d.length; j++) {
            d[j] = rng.nextBoolean() ? unit : -unit;
            analytic += (double) grad[j] * d[j];
          }
          double numeric = centralDifference(training, batch, term, params.value(i), d, STEP.getOrDefault(name, 1e-2));
          double err = Math.abs(analytic - numeric) / (2e-4 + 2e-2 * Math.abs(numeric));
          worst = Math.max(worst, err);
          lines.add(String.format("  %-66s %+.6e vs %+.6e (%.2f of tolerance)", name, analytic, numeric, err));
        }
        System.out.printf("mini LLaVA %s gradient (loss %.5f) vs central differences:%n%s%n",
            run == 0 ? "total" : run == 1 ? "attention-term" : "per-head attention-term", l0,
            String.join("\n", lines));
        assertTrue(worst <= 1, "worst " + worst + " of the tolerance\n" + String.join("\n", lines));
      }
    }
  }

  static double centralDifference(SceneTraining training, List<SceneExamples.Example> batch, int term, Tensor value, float[] d, double h) {
    MemorySegment seg = value.storage().segment();
    float[] saved = value.toFloatArray();
    double[] losses = new double[2];
    double[] steps = new double[2];
    for (int side = 0; side < 2; side++) {
      double sign = side == 0 ? 1 : -1;
      for (int j = 0; j < saved.length; j++) {
        seg.setAtIndex(Elements.F32, value.offset() + j, (float) (saved[j] + sign * h * d[j]));
      }
      steps[side] = ((double) seg.getAtIndex(Elements.F32, value.offset()) - saved[0]) / d[0];
      try (Scope scope = Scope.open(); var g = GradMode.disable()) {
        losses[side] = training.losses(batch)[term].item();
      }
    }
    MemorySegment.copy(saved, 0, seg, Elements.F32, value.offset() * 4, saved.length);
    return (losses[0] - losses[1]) / (steps[0] - steps[1]);
  }

  /**
   * Right-padding a micro-batch to its longest prompt changes nothing: the batch's cross-entropy is
   * the token-weighted mean of each example's alone, and its attention term the mean of theirs
   * (relative 1e-5).
   */
  @Test
  void paddingTheBatchChangesNothing() {
    SceneExamples ex = examples();
    List<SceneExamples.Example> batch = tinyBatch(ex);
    try (LlavaForConditionalGeneration model = model(3); Scope scope = Scope.open(); var g = GradMode.disable()) {
      SceneTraining training = new SceneTraining(model, ex, SceneTraining.Config.defaults());
      Tensor[] together = training.losses(batch);
      double ceSum = 0;
      long tokens = 0;
      double attSum = 0;
      int counted = 0;
      for (SceneExamples.Example e : batch) {
        Tensor[] alone = training.losses(List.of(e));
        int n = e.ids().length - e.promptLength();
        ceSum += alone[1].item() * n;
        tokens += n;
        if (alone[2] != null) {
          attSum += alone[2].item();
          counted++;
        }
      }
      assertEquals(ceSum / tokens, together[1].item(), 1e-5 * Math.abs(ceSum / tokens));
      assertEquals(attSum / counted, together[2].item(), 1e-5 * Math.abs(attSum / counted));
    }
  }

  /** Trains 2 steps of 5 examples (checkpoints every step into {@code dir}, when given; resumed from {@code from}, when given). */
  static Map<String, float[]> train(Path dir, Path from) {
    SceneExamples ex = examples();
    SceneTraining.Config config = SceneTraining.Config.defaults().withSteps(2).withBatch(5).withWarmup(1).withSeed(9);
    try (LlavaForConditionalGeneration model = model(config.seed()); Trainable params = Trainable.of(model);
        AdamW opt = SceneTraining.optimizer(params, config)) {
      Trainer.Config run = Trainer.Config.steps(config.steps()).withSeed(config.seed()).withMaxGradNorm(config.maxGradNorm());
      if (dir != null) {
        run = run.withCheckpoints(dir, 1, 0).withExtraFiles(MiniLlava.folderFiles(models().resolve("stories260K/tok512.bin")));
      }
      var trainer = new SceneTraining(model, ex, config).trainer(params, opt, run);
      if (from != null) {
        trainer.resume(from);
        assertEquals(1, trainer.step());
      }
      trainer.run();
      Map<String, float[]> out = new LinkedHashMap<>();
      for (int i = 0; i < params.size(); i++) {
        out.put(params.name(i), params.value(i).toFloatArray());
      }
      return out;
    }
  }

  /** Two steps of five examples: bit for bit the same at 1 and 2 threads, and when resumed from the checkpoint of step 1. */
  @Test
  void sameWeightsAtOneAndTwoThreadsAndAfterResuming(@TempDir Path dir) {
    int before = Parallel.threads();
    Map<String, float[]> one;
    Map<String, float[]> two;
    try {
      Parallel.setThreads(1);
      one = train(dir.resolve("a"), null);
      Parallel.setThreads(2);
      two = train(null, null);
    } finally {
      Parallel.setThreads(before);
    }
    Map<String, float[]> resumed = train(null, dir.resolve("a/checkpoint-1"));
    boolean changed = false;
    try (LlavaForConditionalGeneration initial = model(9)) {
      for (String n : one.keySet()) {
        assertArrayEquals(one.get(n), two.get(n), "1 vs 2 threads: " + n);
        assertArrayEquals(one.get(n), resumed.get(n), "resumed vs uninterrupted: " + n);
        changed |= !java.util.Arrays.equals(one.get(n), initial.parameter(n).get().toFloatArray());
      }
    }
    assertTrue(changed, "training changed the weights");
    // a checkpoint is a llava-hf folder the loaders open
    try (LlavaForConditionalGeneration loaded = LlavaForConditionalGeneration.load(dir.resolve("a/checkpoint-2"))) {
      for (String n : one.keySet()) {
        assertArrayEquals(one.get(n), loaded.parameter(n).get().toFloatArray(), n);
      }
    }
  }

  /** The attention target is the box's share of each of the 8 x 8 patches of a 448-pixel scene (56 pixels each). */
  @Test
  void attentionTargetIsTheBoxShareOfEachPatch() {
    SceneExamples ex = examples();
    float[] inside = ex.coverage(new BoundingBox(60, 120, 100, 160), 448, 448); // patch (row 2, col 1)
    assertEquals(1f, inside[2 * 8 + 1]);
    float[] halves = ex.coverage(new BoundingBox(46, 10, 66, 20), 448, 448); // straddles columns 0 and 1 at x = 56
    assertEquals(0.5f, halves[0], 1e-6);
    assertEquals(0.5f, halves[1], 1e-6);
    float sum = 0;
    for (float v : ex.coverage(new BoundingBox(30, 30, 400, 300), 448, 448)) {
      sum += v;
    }
    assertEquals(1f, sum, 1e-5);
    assertNotNull(ex.example(1, 0));
  }
}
