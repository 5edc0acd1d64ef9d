package dev.fovea.llm.instructblip;

import static dev.fovea.llm.instructblip.InstructBlipFixtures.ints;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.fovea.llm.check.ModelsDeviceCheck;
import dev.fovea.tensor.Backends;
import dev.fovea.tensor.Device;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.WeightSource;
import dev.fovea.tensor.testing.TestBackend;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The tiny InstructBLIP (EVA vision tower, Q-Former, projection, Vicuna) on the test device
 * against the same model on the CPU: image states, the Q-Former's output and attention
 * probabilities, the projected queries, every prompt logit, the decoder's attention and the greedy
 * answer, bit for bit; each weight copied once; one logits read-back per forward. The CPU path is
 * the expected value, checked against PyTorch by {@link InstructBlipReferenceTest}.
 */
class InstructBlipDeviceTest {
  static final Device DEVICE = new Device(TestBackend.KIND, 8);

  @Test
  void askOnTheDeviceEqualsTheCpu() {
    TestBackend backend = (TestBackend) Backends.of(DEVICE);
    try (var cpu = InstructBlipForConditionalGeneration.load(InstructBlipFixtures.dir());
        var dev = InstructBlipForConditionalGeneration.load(InstructBlipFixtures.dir());
        WeightSource ref = InstructBlipFixtures.reference()) {
      long before = backend.globalBytes();
      long allocations = backend.globalAllocations();
      dev.to(DEVICE);
      long bytes = dev.namedParameters().values().stream().map(p -> p.get()).distinct().mapToLong(t -> t.dtype().byteSize(t.numel())).sum();
      assertEquals(bytes, backend.globalBytes() - before, "each weight copied once");
      assertEquals(dev.namedParameters().values().stream().map(p -> p.get()).distinct().count(), backend.globalAllocations() - allocations,
          "one allocation per parameter tensor");
      dev.namedParameters().forEach((name, p) -> assertEquals(DEVICE, p.get().device(), name));
      Tensor pixels = ref.get("pixels");
      int[] qids = ints(ref, "qformer_ids");
      int[] ids = ints(ref, "prompt_ids");
      List<float[]> want = ModelsDeviceCheck.instructBlipOutputs(cpu, pixels, qids, ids);
      List<float[]> got = ModelsDeviceCheck.instructBlipOutputs(dev, pixels, qids, ids);
      String[] what = {"image embeds", "Q-Former hidden", "Q-Former attention", "projected queries", "logits", "decoder attention"};
      assertEquals(want.size(), got.size());
      for (int i = 0; i < want.size(); i++) {
        assertArrayEquals(want.get(i), got.get(i), 0f, what[Math.min(i, what.length - 1)] + " (output " + i + ")");
      }
      int[] greedyCpu = ModelsDeviceCheck.instructBlipGreedy(cpu, pixels, qids, ids);
      long downloads = backend.downloads();
      int[] greedyDev = ModelsDeviceCheck.instructBlipGreedy(dev, pixels, qids, ids);
      assertArrayEquals(greedyCpu, greedyDev, "greedy answer");
      assertEquals(greedyDev.length, backend.downloads() - downloads, "device-to-host copies while answering: the logits of each forward");
    }
  }
}
