package dev.fovea.llm.llava;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fovea.llm.llama.DecodeState;
import dev.fovea.nn.train.AdamW;
import dev.fovea.nn.train.BatchSource;
import dev.fovea.nn.train.CausalLmLoss;
import dev.fovea.nn.train.LrSchedule;
import dev.fovea.nn.train.Trainable;
import dev.fovea.nn.train.Trainer;
import dev.fovea.nn.train.TrainingListener;
import dev.fovea.tensor.Ops;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.cpu.Parallel;
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
 * The training library on a whole LLaVA (the tiny llava-hf checkpoint): prompts with an image and
 * a 3-token answer, answer-token cross-entropy, AdamW with the no-decay rule, warm-up + cosine,
 * clipping, two micro-batches of two examples per step. The same seed gives the same weights bit
 * for bit on 1 and 2 threads (two steps), and a checkpoint folder is a llava-hf model folder that {@code
 * LlavaForConditionalGeneration.load} opens, giving the trained model's logits exactly.
 */
class LlavaTrainingTest {
  static final int ANSWER = 3;

  /** One training example: ids with one image marker, ending with the answer, and its image's seed. */
  record Example(int[] ids, long imageSeed) {}

  static BatchSource.Dataset<Example> dataset() {
    List<Example> list = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      list.add(new Example(new int[] {1, 40 + i, 41, 512, 42, 43 + i, 44, 300 + i, 301 + 2 * i, 2}, 100 + i));
    }
    return BatchSource.Dataset.of(list);
  }

  /** Mean answer-token cross-entropy of a batch of examples of one length, as one forward of B rows. */
  static Tensor loss(LlavaForConditionalGeneration model, List<Example> batch) {
    int s = model.config.visionConfig().imageSize();
    List<Tensor> embeds = new ArrayList<>();
    int[][] labels = new int[batch.size()][];
    for (int b = 0; b < batch.size(); b++) {
      LlavaInputs in = model.prepare(batch.get(b).ids(), Tensor.randn(new Random(batch.get(b).imageSeed()), 1, 3, s, s));
      embeds.add(in.embeddings());
      labels[b] = CausalLmLoss.answerLabels(in.ids(), in.length() - ANSWER);
    }
    try (DecodeState state = model.newState(batch.size(), labels[0].length)) {
      return CausalLmLoss.loss(model.languageModel.forward(Ops.concat(embeds, 0), state, true), labels);
    }
  }

  /** Trains a fresh copy of the tiny LLaVA; returns the trained weights by name. */
  static Map<String, float[]> train(Trainer.Config config, List<TrainingListener.StepReport> reports) {
    try (var model = LlavaForConditionalGeneration.load(LlavaFixtures.dir()); Trainable params = Trainable.of(model);
        AdamW opt = new AdamW(params, AdamW.Config.defaults().withLr(1e-2), AdamW.DECAY_MATRICES)) {
      Trainer<List<Example>> trainer = new Trainer<>(params, opt, LrSchedule.cosineWithWarmup(0, config.steps(), 0.1), BatchSource.shuffled(dataset(), 2),
          (batch, rng) -> loss(model, batch), config);
      if (reports != null) {
        trainer.addListener(reports::add);
      }
      trainer.run();
      Map<String, float[]> out = new LinkedHashMap<>();
      for (int i = 0; i < params.size(); i++) {
        out.put(params.name(i), params.value(i).toFloatArray());
      }
      return out;
    }
  }

  @Test
  void sameWeightsAtOneAndTwoThreadsAndALoadableCheckpoint(@TempDir Path dir) throws Exception {
    Map<String, byte[]> files = new LinkedHashMap<>();
    for (String f : List.of("config.json", "preprocessor_config.json", "tokenizer.bin", "tokenizer_config.json", "added_tokens.json")) {
      files.put(f, Files.readAllBytes(LlavaFixtures.dir().resolve(f)));
    }
    Trainer.Config config = Trainer.Config.steps(2).withSeed(5).withAccumulation(2);
    int before = Parallel.threads();
    Map<String, float[]> one;
    Map<String, float[]> two;
    List<TrainingListener.StepReport> reports = new ArrayList<>();
    try {
      Parallel.setThreads(1);
      one = train(config.withCheckpoints(dir, 0, 1).withExtraFiles(files), reports);
      Parallel.setThreads(2);
      two = train(config, null);
    } finally {
      Parallel.setThreads(before);
    }
    assertEquals(one.keySet(), two.keySet());
    for (String n : one.keySet()) {
      assertArrayEquals(one.get(n), two.get(n), "1 vs 2 threads: " + n);
    }
    assertEquals(2, reports.size());
    assertEquals(4, reports.get(1).examples()); // two micro-batches of two

    // the checkpoint folder is a llava-hf model folder holding the trained weights
    Path ck = dir.resolve("checkpoint-2");
    assertTrue(Files.isRegularFile(dir.resolve("loss.csv")));
    try (var loaded = LlavaForConditionalGeneration.load(ck); var original = LlavaForConditionalGeneration.load(LlavaFixtures.dir())) {
      boolean changed = false;
      for (var e : loaded.namedParameters().entrySet()) {
        float[] w = e.getValue().get().toFloatArray();
        assertArrayEquals(one.get(e.getKey()), w, e.getKey());
        changed |= !java.util.Arrays.equals(w, original.parameter(e.getKey()).get().toFloatArray());
      }
      assertTrue(changed, "training changed the weights");
      try (Scope s = Scope.open()) {
        assertFalse(Float.isNaN(loss(loaded, List.of(dataset().get(0), dataset().get(1))).item()));
      }
    }
  }
}
