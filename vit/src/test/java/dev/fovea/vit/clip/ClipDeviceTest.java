package dev.fovea.vit.clip;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.fovea.tensor.Backends;
import dev.fovea.tensor.Device;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.testing.TestBackend;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * CLIP (both towers) and the zero-shot classifier on the test device against the same model on the
 * CPU (tiny-p32): text and image embeddings, the class embeddings of a prompt ensemble, the
 * probabilities and the ranking, bit for bit. The CPU path is the expected value; it is checked
 * against PyTorch by {@link ClipReferenceTest} and {@link ClipZeroShotTest}. The test device runs the
 * CPU kernels on storage host code cannot read, so a hidden host read fails the test.
 */
class ClipDeviceTest {
  static final Device DEVICE = new Device(TestBackend.KIND, 5);

  @Test
  void textImageAndZeroShotOnTheDeviceEqualTheCpu() {
    TestBackend backend = (TestBackend) Backends.of(DEVICE);
    try (ClipReference ref = new ClipReference("tiny-p32");
        ClipPipeline cpu = ClipPipeline.open(ref.folder(), ClipPipeline.Progress.NONE);
        ClipPipeline dev = ClipPipeline.open(ref.folder(), ClipPipeline.Progress.NONE);
        Scope s = Scope.open()) {
      long before = backend.globalBytes();
      dev.model().to(DEVICE);
      assertEquals(parameterBytes(dev.model()), backend.globalBytes() - before, "each weight copied once");
      var zs = ref.meta.get("zeroshot");
      List<String> labels = ClipZeroShotTest.strings(zs.get("labels"));
      List<String> templates = ClipZeroShotTest.strings(zs.get("templates"));
      ZeroShotClassifier.Batch b = ZeroShotClassifier.tokenize(cpu.tokenizer(), labels, 32);
      Tensor pixels = ref.get("images", "pixel_values");
      Tensor textDev = dev.model().encodeText(b.ids(), b.attentionMask());
      assertEquals(DEVICE, textDev.device());
      assertArrayEquals(cpu.model().encodeText(b.ids(), b.attentionMask()).toFloatArray(), textDev.toFloatArray(), 0f, "text embeddings");
      assertArrayEquals(cpu.model().encodeImage(pixels).toFloatArray(), dev.model().encodeImage(pixels).toFloatArray(), 0f, "image embeddings");
      ZeroShotClassifier c = new ZeroShotClassifier(cpu.model(), cpu.tokenizer(), labels, templates, null);
      ZeroShotClassifier d = new ZeroShotClassifier(dev.model(), dev.tokenizer(), labels, templates, null);
      assertArrayEquals(c.classEmbeddings().toFloatArray(), d.classEmbeddings().toFloatArray(), 0f, "class embeddings");
      Tensor cats = pixels.select(0, 0);
      assertArrayEquals(c.probabilities(cats)[0], d.probabilities(cats)[0], 0f, "zero-shot probabilities");
      assertEquals(c.classify(cats), d.classify(cats), "ranking");
    }
  }

  /** Bytes of the model's distinct parameter tensors. */
  static long parameterBytes(dev.fovea.nn.Module m) {
    return m.namedParameters().values().stream().map(p -> p.get()).distinct().mapToLong(t -> t.dtype().byteSize(t.numel())).sum();
  }
}
