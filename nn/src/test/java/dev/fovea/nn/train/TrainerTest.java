package dev.fovea.nn.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.WeightSource;
import dev.fovea.tensor.cpu.Parallel;
import dev.fovea.tensor.io.SafetensorsSource;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The loop end to end: against torch on the "mlp" case of tools/reference/train (embedding,
 * LayerNorm, two Linear layers with GELU; cross-entropy with a third of the targets -100; two
 * micro-batches per step; AdamW with the no-decay rule, cosine schedule with warm-up, clipping at
 * 1.0; 30 steps), then the properties torch cannot check: a resumed run equals an uninterrupted
 * one bit for bit, 1 and 2 threads give the same bits, and steps allocate nothing that outlives them.
 *
 * <p>Against torch (measured): losses within 1.6e-7 relative at every step, grad norms within
 * 1.3e-7, final parameters within 2.1e-7 relative (float differences of the forward and backward
 * kernels, carried through 30 Adam steps). Asserted: 1e-5 for each.
 */
class TrainerTest {

  @Test
  void matchesTorchOnTheMlpCase() {
    JsonNode c = TrainFixtures.meta().get("mlp");
    double[] wantLoss = TrainFixtures.series("mlp.loss");
    double[] wantNorm = TrainFixtures.series("mlp.norm");
    double[] wantLr = TrainFixtures.series("mlp.lr");
    try (WeightSource ref = TrainFixtures.reference()) {
      TokenMlp model = new TokenMlp(c.get("vocab").asInt(), c.get("dim").asInt(), c.get("hidden").asInt());
      for (String n : model.namedParameters().keySet()) {
        model.parameter(n).set(ref.get("mlp.init." + n).copyTo(Scope.global()));
      }
      List<TrainingListener.StepReport> reports = new ArrayList<>();
      int accumulation = c.get("accumulation").asInt();
      try (Trainable params = Trainable.of(model);
          AdamW opt = new AdamW(params, new AdamW.Config(c.get("lr").asDouble(), 0.9, 0.999, 1e-8, c.get("weight_decay").asDouble()), AdamW.DECAY_MATRICES)) {
        BatchSource<Tensor[]> source = (index, seed) -> new Tensor[] {
            ref.get("mlp.ids").select(0, (int) (index / accumulation)).select(0, (int) (index % accumulation)),
            ref.get("mlp.targets").select(0, (int) (index / accumulation)).select(0, (int) (index % accumulation))};
        Trainer<Tensor[]> trainer = new Trainer<>(params, opt, LrSchedule.cosineWithWarmup(c.get("warmup").asLong(), c.get("total").asLong()), source,
            (b, rng) -> model.loss(b[0], b[1]), Trainer.Config.steps(c.get("steps").asLong()).withAccumulation(accumulation).withMaxGradNorm(1.0));
        trainer.addListener(reports::add);
        Trainer.Result r = trainer.run();
        assertEquals(c.get("steps").asLong(), r.steps());
      }
      double worstLoss = 0;
      double worstNorm = 0;
      for (int s = 0; s < wantLoss.length; s++) {
        TrainingListener.StepReport rep = reports.get(s);
        assertEquals(s + 1, rep.step());
        assertEquals(wantLr[s], rep.lr(), 1e-15, "lr at step " + s);
        worstLoss = Math.max(worstLoss, Math.abs(rep.loss() - wantLoss[s]) / wantLoss[s]);
        worstNorm = Math.max(worstNorm, Math.abs(rep.gradNorm() - wantNorm[s]) / wantNorm[s]);
        assertEquals(2, rep.examples()); // two micro-batches of one Tensor[] each (the default count)
      }
      double worstParam = 0;
      for (String n : model.namedParameters().keySet()) {
        worstParam = Math.max(worstParam, TrainFixtures.maxRelErr(model.parameter(n).get().toFloatArray(), ref.get("mlp.final." + n).toFloatArray()));
      }
      System.out.printf("trainer vs torch (mlp, %d steps): loss %.4f -> %.4f; max rel err loss %.3g, grad norm %.3g, final params %.3g%n",
          wantLoss.length, reports.get(0).loss(), reports.get(reports.size() - 1).loss(), worstLoss, worstNorm, worstParam);
      assertTrue(worstLoss <= 1e-5, "loss rel err " + worstLoss);
      assertTrue(worstNorm <= 1e-5, "grad norm rel err " + worstNorm);
      assertTrue(worstParam <= 1e-5, "final params rel err " + worstParam);
    }
  }

  // ---------------------------------------------------------------- a synthetic task for the properties

  /** Token classification: the target of token x is (5x + 3) mod V, a third of the positions ignored. */
  record Example(int[] ids, int[] targets) {}

  static BatchSource.Dataset<Example> dataset(int size, int vocab, int seq) {
    Random rng = new Random(11);
    List<Example> list = new ArrayList<>();
    for (int i = 0; i < size; i++) {
      int[] ids = new int[seq];
      int[] targets = new int[seq];
      for (int t = 0; t < seq; t++) {
        ids[t] = rng.nextInt(vocab);
        targets[t] = t > 0 && rng.nextInt(3) == 0 ? -100 : (5 * ids[t] + 3) % vocab;
      }
      list.add(new Example(ids, targets));
    }
    return BatchSource.Dataset.of(list);
  }

  static Trainer.LossFunction<List<Example>> loss(TokenMlp model) {
    return (batch, rng) -> {
      int b = batch.size();
      int t = batch.get(0).ids().length;
      int[] ids = new int[b * t];
      int[] targets = new int[b * t];
      for (int i = 0; i < b; i++) {
        System.arraycopy(batch.get(i).ids(), 0, ids, i * t, t);
        System.arraycopy(batch.get(i).targets(), 0, targets, i * t, t);
      }
      return model.loss(Tensor.ofInts(ids, b, t), Tensor.ofInts(targets, b, t));
    };
  }

  /** A run of the synthetic task; returns the trained weights by name. */
  static Map<String, float[]> train(int vocab, int dim, int hidden, Trainer.Config config, boolean resume, List<TrainingListener.StepReport> reports) {
    TokenMlp model = new TokenMlp(vocab, dim, hidden);
    model.initRandom(5);
    try (Trainable params = Trainable.of(model); AdamW opt = new AdamW(params, AdamW.Config.defaults().withLr(3e-3), AdamW.DECAY_MATRICES)) {
      Trainer<List<Example>> trainer = new Trainer<>(params, opt, LrSchedule.cosineWithWarmup(Math.min(3, config.steps()), config.steps(), 0.1),
          BatchSource.shuffled(dataset(40, vocab, 12), 6), loss(model), config).counting(List::size, b -> 12L * b.size());
      if (reports != null) {
        trainer.addListener(reports::add);
      }
      if (resume) {
        assertTrue(trainer.resumeLatest(), "a checkpoint to resume from");
      }
      trainer.run();
      Map<String, float[]> out = new java.util.LinkedHashMap<>();
      for (int i = 0; i < params.size(); i++) {
        out.put(params.name(i), params.value(i).toFloatArray());
      }
      return out;
    }
  }

  static void assertSameWeights(Map<String, float[]> want, Map<String, float[]> got, String what) {
    assertEquals(want.keySet(), got.keySet());
    for (String n : want.keySet()) {
      assertArrayEquals(want.get(n), got.get(n), what + ": " + n);
    }
  }

  /**
   * A run stopped after step 7 (its newest checkpoint: step 5) and resumed gives the weights, the
   * checkpoints and the loss curve of the uninterrupted run, bit for bit.
   */
  @Test
  void resumedRunEqualsUninterruptedRun(@TempDir Path tmp) throws Exception {
    Trainer.Config base = Trainer.Config.steps(12).withSeed(3).withAccumulation(2);
    Path straightDir = tmp.resolve("straight");
    Map<String, float[]> straight = train(12, 16, 32, base.withCheckpoints(straightDir, 5, 0), false, null);

    Path brokenDir = tmp.resolve("broken");
    RuntimeException stop = assertThrows(RuntimeException.class, () -> train(12, 16, 32, base.withCheckpoints(brokenDir, 5, 0), false,
        new ArrayList<>() {
          @Override
          public boolean add(TrainingListener.StepReport r) {
            if (r.step() == 7) {
              throw new IllegalStateException("killed at step 7");
            }
            return super.add(r);
          }
        }));
    assertEquals("killed at step 7", stop.getMessage());
    assertEquals(List.of(brokenDir.resolve("checkpoint-5")), Checkpoints.list(brokenDir));
    Map<String, float[]> resumed = train(12, 16, 32, base.withCheckpoints(brokenDir, 5, 0), true, null);

    assertSameWeights(straight, resumed, "resumed vs uninterrupted");
    assertEquals(List.of("checkpoint-5", "checkpoint-10", "checkpoint-12"), Checkpoints.list(brokenDir).stream().map(p -> p.getFileName().toString()).toList());
    for (String ck : List.of("checkpoint-10", "checkpoint-12")) {
      assertArrayEquals(Files.readAllBytes(straightDir.resolve(ck).resolve("model.safetensors")), Files.readAllBytes(brokenDir.resolve(ck).resolve("model.safetensors")), ck);
      assertArrayEquals(Files.readAllBytes(straightDir.resolve(ck).resolve("optimizer.safetensors")), Files.readAllBytes(brokenDir.resolve(ck).resolve("optimizer.safetensors")), ck);
    }
    assertEquals(withoutTimes(straightDir.resolve("loss.csv")), withoutTimes(brokenDir.resolve("loss.csv")));
    assertEquals(13, Files.readAllLines(brokenDir.resolve("loss.csv")).size());

    JsonNode state = new ObjectMapper().readTree(brokenDir.resolve("checkpoint-12/trainer_state.json").toFile());
    assertEquals(12, state.get("step").asLong());
    assertEquals(24, state.get("next_batch_index").asLong());
    assertEquals(3, state.get("seed").asLong());
    assertEquals("no_decay", state.get("optimizer").get("groups").get("norm.weight").asText());
    try (var w = SafetensorsSource.open(brokenDir.resolve("checkpoint-12/model.safetensors"))) {
      assertEquals(List.of("embed.weight", "norm.weight", "norm.bias", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"), List.copyOf(w.names()));
      assertArrayEquals(straight.get("fc2.weight"), w.get("fc2.weight").toFloatArray());
    }
  }

  private static List<String> withoutTimes(Path csv) throws Exception {
    return Files.readAllLines(csv).stream().map(l -> l.substring(0, l.lastIndexOf(','))).toList();
  }

  /** The same seed gives the same weights bit for bit on 1 and 2 threads (a model wide enough that the kernels split their work). */
  @Test
  void sameBitsAtOneAndTwoThreads() {
    int before = Parallel.threads();
    try {
      Trainer.Config config = Trainer.Config.steps(4).withSeed(9).withAccumulation(2);
      Parallel.setThreads(1);
      Map<String, float[]> one = train(96, 64, 256, config, false, null);
      Parallel.setThreads(2);
      Map<String, float[]> two = train(96, 64, 256, config, false, null);
      assertSameWeights(one, two, "1 vs 2 threads");
    } finally {
      Parallel.setThreads(before);
    }
  }

  /** After the first step, steps allocate the same scope bytes every time and nothing in the global scope. */
  @Test
  void stepsDoNotGrowMemory() {
    List<Long> global = new ArrayList<>();
    List<TrainingListener.StepReport> reports = new ArrayList<>() {
      @Override
      public boolean add(TrainingListener.StepReport r) {
        global.add(Scope.global().allocatedBytes());
        return super.add(r);
      }
    };
    train(32, 32, 64, Trainer.Config.steps(8).withAccumulation(2), false, reports);
    long perStep = reports.get(1).scopeBytes();
    assertTrue(perStep > 100_000, "the steps allocate " + perStep + " bytes: too little to show a leak");
    for (int s = 1; s < reports.size(); s++) {
      assertEquals(perStep, reports.get(s).scopeBytes(), "scope bytes of step " + (s + 1));
      assertEquals(global.get(0), global.get(s), "global scope bytes after step " + (s + 1));
    }
    assertTrue(reports.get(7).tokensPerSecond() > 0 && reports.get(7).examples() == 12 && reports.get(7).tokens() == 144);
  }

  @Test
  void startingOverAnotherRunOrResumingWithAnotherSeedIsRefused(@TempDir Path tmp) {
    Trainer.Config config = Trainer.Config.steps(2).withCheckpoints(tmp, 1, 0);
    train(12, 8, 8, config, false, null);
    TrainException e = assertThrows(TrainException.class, () -> train(12, 8, 8, config, false, null));
    assertTrue(e.getMessage().contains("already holds checkpoints"), e.getMessage());
    e = assertThrows(TrainException.class, () -> train(12, 8, 8, config.withSeed(1), true, null));
    assertTrue(e.getMessage().contains("seed 0 and accumulation 1, this run has seed 1"), e.getMessage());
  }

  /** Only the newest checkpoints are kept; folders a killed writer left behind are never taken for checkpoints. */
  @Test
  void pruningAndLeftovers(@TempDir Path tmp) throws Exception {
    Files.createDirectories(tmp.resolve("checkpoint-99")); // no trainer_state.json: not a checkpoint
    Files.createDirectories(tmp.resolve(".checkpoint-3.tmp-999999999")); // a dead writer's
    train(12, 8, 8, Trainer.Config.steps(5).withCheckpoints(tmp, 1, 2), false, null);
    assertEquals(List.of("checkpoint-4", "checkpoint-5"), Checkpoints.list(tmp).stream().map(p -> p.getFileName().toString()).toList());
    assertFalse(Files.exists(tmp.resolve(".checkpoint-3.tmp-999999999")));
    assertEquals(tmp.resolve("checkpoint-5"), Checkpoints.latest(tmp).orElseThrow());
  }

  /** A checkpoint whose writing fails half way leaves nothing behind: no checkpoint-N, no temporary folder. */
  @Test
  void aFailedCheckpointLeavesNothing(@TempDir Path tmp) throws Exception {
    TrainException e = assertThrows(TrainException.class, () -> Checkpoints.write(tmp, 3, folder -> {
      Files.writeString(folder.resolve("model.safetensors"), "half");
      throw new java.io.IOException("disk full");
    }));
    assertTrue(e.getMessage().contains("disk full"), e.getMessage());
    assertThrows(IllegalStateException.class, () -> Checkpoints.write(tmp, 3, folder -> {
      Files.writeString(folder.resolve("model.safetensors"), "half");
      throw new IllegalStateException("killed");
    }));
    try (var files = Files.list(tmp)) {
      assertEquals(List.of(), files.toList());
    }
  }

  @Test
  void extraFilesGoIntoEveryCheckpoint(@TempDir Path tmp) throws Exception {
    train(12, 8, 8, Trainer.Config.steps(2).withCheckpoints(tmp, 1, 0).withExtraFiles(Map.of("config.json", "{}".getBytes())), false, null);
    assertEquals("{}", Files.readString(tmp.resolve("checkpoint-1/config.json")));
    assertEquals("{}", Files.readString(tmp.resolve("checkpoint-2/config.json")));
    assertThrows(TrainException.class, () -> Trainer.Config.steps(1).withExtraFiles(Map.of("model.safetensors", new byte[0])));
  }

  /** Each epoch of the shuffled source is a permutation; the order depends on the seed only. */
  @Test
  void shuffledBatches() {
    BatchSource.Dataset<Integer> data = BatchSource.Dataset.of(java.util.stream.IntStream.range(0, 10).boxed().toList());
    BatchSource<List<Integer>> src = BatchSource.shuffled(data, 4);
    List<Integer> first = new ArrayList<>();
    List<Integer> second = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      List<Integer> b = src.batch(i, 7);
      assertEquals(4, b.size());
      for (int x : b) {
        (first.size() < 10 ? first : second).add(x);
      }
    }
    assertEquals(java.util.stream.IntStream.range(0, 10).boxed().toList(), first.stream().sorted().toList());
    assertEquals(java.util.stream.IntStream.range(0, 10).boxed().toList(), second.stream().sorted().toList());
    assertFalse(first.equals(second), "epochs are shuffled anew");
    assertEquals(src.batch(3, 7), BatchSource.shuffled(data, 4).batch(3, 7), "a batch depends on (index, seed) only");
    assertFalse(src.batch(0, 7).equals(src.batch(0, 8)) && src.batch(1, 7).equals(src.batch(1, 8)));
    assertEquals(List.of(8, 9, 0, 1), BatchSource.inOrder(data, 4).batch(2, 7));
    BatchSource<Integer> seq = BatchSource.sequential(() -> java.util.stream.IntStream.range(0, 100).iterator());
    assertEquals(5, seq.batch(5, 0));
    assertEquals(6, seq.batch(6, 0));
    assertEquals(2, seq.batch(2, 0));
  }
}
