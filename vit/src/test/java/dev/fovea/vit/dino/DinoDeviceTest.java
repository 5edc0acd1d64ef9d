package dev.fovea.vit.dino;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.fovea.tensor.Backends;
import dev.fovea.tensor.Device;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.WeightSource;
import dev.fovea.tensor.io.WeightFiles;
import dev.fovea.tensor.testing.TestBackend;
import org.junit.jupiter.api.Test;

/**
 * The DINO ViT (ABS's saliency model) on the test device against the same model on the CPU:
 * every hidden state, the attentions, and ABS's CLS read-out (one hook on the last layer), bit for
 * bit. The CPU path is the expected value, checked against PyTorch by {@link DinoReferenceTest}.
 */
class DinoDeviceTest {
  static final Device DEVICE = new Device(TestBackend.KIND, 6);

  @Test
  void forwardAndClsAttentionOnTheDeviceEqualTheCpu() {
    TestBackend backend = (TestBackend) Backends.of(DEVICE);
    try (DinoPipeline cpu = DinoPipeline.open(DinoReferenceTest.ROOT.resolve("tiny-dino"));
        DinoPipeline dev = DinoPipeline.open(DinoReferenceTest.ROOT.resolve("tiny-dino"));
        WeightSource ref = WeightFiles.open(DinoReferenceTest.ROOT.resolve("dino.ref.safetensors"));
        Scope s = Scope.open()) {
      long before = backend.globalBytes();
      VitModel d = dev.model().to(DEVICE);
      assertEquals(parameterBytes(d), backend.globalBytes() - before, "each weight copied once");
      VitModel c = cpu.model();
      Tensor px = ref.get("random/pixel_values");
      VitModel.Output want = c.forward(px, true, true);
      VitModel.Output got = d.forward(px, true, true);
      assertEquals(DEVICE, got.lastHiddenState().device());
      assertArrayEquals(want.lastHiddenState().toFloatArray(), got.lastHiddenState().toFloatArray(), 0f, "last hidden state");
      for (int i = 0; i < want.hiddenStates().size(); i++) {
        assertArrayEquals(want.hiddenStates().get(i).toFloatArray(), got.hiddenStates().get(i).toFloatArray(), 0f, "hidden state " + i);
      }
      for (int i = 0; i < want.attentions().size(); i++) {
        assertArrayEquals(want.attentions().get(i).toFloatArray(), got.attentions().get(i).toFloatArray(), 0f, "attention " + i);
      }
      int last = c.config.numHiddenLayers() - 1;
      assertArrayEquals(c.clsAttentionMap(px, last).toFloatArray(), d.clsAttentionMap(px, last).toFloatArray(), 0f, "ABS's CLS map");
    }
  }

  /** Bytes of the model's distinct parameter tensors. */
  static long parameterBytes(dev.fovea.nn.Module m) {
    return m.namedParameters().values().stream().map(p -> p.get()).distinct().mapToLong(t -> t.dtype().byteSize(t.numel())).sum();
  }
}
