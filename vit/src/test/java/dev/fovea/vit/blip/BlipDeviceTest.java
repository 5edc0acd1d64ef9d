package dev.fovea.vit.blip;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.fovea.nn.AttentionHook;
import dev.fovea.tensor.Backends;
import dev.fovea.tensor.Device;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.autograd.GradMode;
import dev.fovea.tensor.testing.TestBackend;
import org.junit.jupiter.api.Test;

/**
 * BLIP ITM (AGLA's scorer) on the test device against the same model on the CPU: image states,
 * ITM logits (both conventions), the ITC cosine, and AGLA's GradCAM inputs (the cross-attention
 * probabilities of one layer, made a leaf by a replacing hook, and d match / d probabilities), bit
 * for bit. The CPU path is the expected value, checked against PyTorch by {@link BlipReferenceTest}.
 */
class BlipDeviceTest {
  static final Device DEVICE = new Device(TestBackend.KIND, 7);

  @Test
  void itmItcAndCrossAttentionGradientOnTheDeviceEqualTheCpu() {
    TestBackend backend = (TestBackend) Backends.of(DEVICE);
    BlipReference ref = new BlipReference();
    BlipText text = BlipText.load(BlipReference.ROOT.resolve("tiny"));
    try (var cpu = BlipForImageTextRetrieval.open(BlipReference.ROOT.resolve("tiny"));
        var dev = BlipForImageTextRetrieval.open(BlipReference.ROOT.resolve("tiny"))) {
      long before = backend.globalBytes();
      dev.model().to(DEVICE);
      assertEquals(parameterBytes(dev.model()), backend.globalBytes() - before, "each weight copied once");
      int layer = ref.meta.get("layer").asInt();
      for (String c : BlipReference.CASES) {
        String q = ref.caseMeta(c).get("question").asText();
        int[][] enc = {text.itmIds(q, BlipText.Convention.ORIGINAL)};
        int[][] cls = {text.itcIds(q)};
        Tensor px = ref.get(c, "pixels");
        float[][] want = run(cpu.model(), px, enc, cls, layer);
        float[][] got = run(dev.model(), px, enc, cls, layer);
        String[] what = {"image_embeds", "itm [ENC]", "itm [CLS]", "itc", "cross-attention", "d match / d cross-attention"};
        for (int i = 0; i < what.length; i++) {
          assertArrayEquals(want[i], got[i], 0f, c + ": " + what[i]);
        }
      }
    } finally {
      ref.close();
    }
  }

  private static float[][] run(BlipForImageTextRetrieval m, Tensor px, int[][] enc, int[][] cls, int layer) {
    try (Scope s = Scope.open()) {
      Tensor v;
      float[] itmEnc;
      float[] itmCls;
      float[] itc;
      try (var g = GradMode.disable()) {
        v = m.imageEmbeds(px);
        itmEnc = m.itmLogits(enc, null, v).toFloatArray();
        itmCls = m.itmLogits(cls, null, v).toFloatArray();
        itc = m.itcCosine(cls, null, v).toFloatArray();
      }
      Tensor[] leaf = new Tensor[1];
      try (var g = GradMode.enable(); var h = m.addAttentionHook("text_encoder.encoder.layer." + layer + ".crossattention",
          AttentionHook.replacing((ctx, p) -> {
            leaf[0] = p.detach().requiresGrad(true);
            return leaf[0];
          }))) {
        m.itmLogits(enc, null, v).select(0, 0).select(0, 1).backward();
      }
      assertEquals(v.device(), leaf[0].grad().device());
      return new float[][] {v.toFloatArray(), itmEnc, itmCls, itc, leaf[0].toFloatArray(), leaf[0].grad().toFloatArray()};
    }
  }

  /** Bytes of the model's distinct parameter tensors. */
  static long parameterBytes(dev.fovea.nn.Module m) {
    return m.namedParameters().values().stream().map(p -> p.get()).distinct().mapToLong(t -> t.dtype().byteSize(t.numel())).sum();
  }
}
