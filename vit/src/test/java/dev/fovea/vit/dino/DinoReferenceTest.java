package dev.fovea.vit.dino;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fovea.tensor.Ops;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.TensorException;
import dev.fovea.tensor.WeightSource;
import dev.fovea.tensor.io.WeightFiles;
import dev.fovea.vit.image.ImageDecoder;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The DINO ViT (HF ViTModel layout) against {@code tools/reference/abs/make_abs_reference.py}: a
 * plain-torch ViTModel forward written from transformers' modeling_vit.py, on a tiny checkpoint with
 * dino-vitb16's grid (14 x 14) and random weights. Tolerance: every element within 1e-4 of the
 * reference relative to the tensor's largest magnitude ({@code |a - b| <= 1e-4 * max|b|}).
 */
class DinoReferenceTest {
  static final Path ROOT = resource("dino-reference");
  static final double REL = 1e-4;

  @Test
  void hiddenStatesAndLastAttentionMatchTorch() {
    for (String folder : new String[] {"tiny-dino", "tiny-dino-bin"}) {
      try (DinoPipeline dino = DinoPipeline.open(ROOT.resolve(folder));
          WeightSource ref = WeightFiles.open(ROOT.resolve("dino.ref.safetensors"));
          Scope s = Scope.open()) {
        VitModel m = dino.model();
        assertEquals(1e-12, m.config.layerNormEps(), 0);
        int layers = m.config.numHiddenLayers();
        VitModel.Output out = m.forward(ref.get("random/pixel_values"), true, true);
        for (int i = 0; i <= layers; i++) {
          assertRel(folder + " hidden_states." + i, out.hiddenStates().get(i), ref.get("random/hidden_states." + i));
        }
        assertRel(folder + " last_hidden_state", out.lastHiddenState(), ref.get("random/last_hidden_state"));
        Tensor lastAttn = ref.get("random/attentions." + (layers - 1));
        assertRel(folder + " attentions." + (layers - 1), out.attentions().get(layers - 1), lastAttn);
        // the ABS read-out: CLS row over patch keys, through one hook on the last layer only
        Tensor cls = m.clsAttention(ref.get("random/pixel_values"), layers - 1);
        assertRel(folder + " CLS row of the last layer", cls, lastAttn.select(2, 0).slice(2, 1, lastAttn.size(3)));
        assertRel(folder + " CLS map (head mean)", m.clsAttentionMap(ref.get("random/pixel_values"), layers - 1),
            Ops.mean(lastAttn.select(2, 0).slice(2, 1, lastAttn.size(3)), 1, false));
      }
    }
  }

  @Test
  void processorMatchesViTFeatureExtractor() {
    Path images = sharedImages();
    try (DinoPipeline dino = DinoPipeline.open(ROOT.resolve("tiny-dino"));
        WeightSource ref = WeightFiles.open(ROOT.resolve("dino.ref.safetensors"));
        Scope s = Scope.open()) {
      Tensor px = dino.processor().process(ImageDecoder.read(images.resolve("chelsea.png")));
      Tensor want = ref.get("processor/chelsea");
      assertArrayEquals(want.shape(), px.shape());
      // PIL-exact resize, then float32 arithmetic as numpy: equal to the last bit but for division rounding
      float[] a = px.toFloatArray();
      float[] b = want.contiguous().toFloatArray();
      for (int i = 0; i < a.length; i++) {
        assertTrue(Math.abs(a[i] - b[i]) <= 1e-6, "pixel value " + i + ": " + a[i] + " vs " + b[i]);
      }
    }
  }

  @Test
  void configThatDisagreesWithTheWeightsIsOneLineNamingTheKey(@TempDir Path dir) throws IOException {
    Path src = ROOT.resolve("tiny-dino");
    for (String f : new String[] {"model.safetensors", "preprocessor_config.json"}) {
      Files.copy(src.resolve(f), dir.resolve(f));
    }
    String cfg = Files.readString(src.resolve("config.json")).replace("\"num_hidden_layers\": 2", "\"num_hidden_layers\": 3");
    Files.writeString(dir.resolve("config.json"), cfg);
    TensorException e = assertThrows(TensorException.class, () -> DinoPipeline.open(dir).close());
    assertTrue(e.getMessage().contains("num_hidden_layers") && e.getMessage().contains("config.json"), e.getMessage());
    Files.writeString(dir.resolve("config.json"), cfg.replace("\"num_hidden_layers\": 3", "\"num_hidden_layers\": 2")
        .replace("\"hidden_act\": \"gelu\"", "\"hidden_act\": \"swishy\""));
    e = assertThrows(TensorException.class, () -> DinoPipeline.open(dir).close());
    assertTrue(e.getMessage().contains("hidden_act") && e.getMessage().contains("config.json"), e.getMessage());
    // a lone weights file is not a DINO folder
    e = assertThrows(TensorException.class, () -> DinoPipeline.open(dir.resolve("model.safetensors")).close());
    assertTrue(e.getMessage().contains("not a DINO ViT checkpoint"), e.getMessage());
    e = assertThrows(TensorException.class, () -> DinoPipeline.open(dir.resolve("absent")).close());
    assertTrue(e.getMessage().contains("absent") && e.getMessage().contains("no such"), e.getMessage());
  }

  static void assertRel(String what, Tensor actual, Tensor expected) {
    assertArrayEquals(expected.shape(), actual.shape(), what + ": shape");
    float[] a = actual.contiguous().toFloatArray();
    float[] b = expected.contiguous().toFloatArray();
    double maxRef = 0;
    double maxErr = 0;
    int worst = 0;
    for (int i = 0; i < a.length; i++) {
      maxRef = Math.max(maxRef, Math.abs(b[i]));
      double e = Math.abs((double) a[i] - b[i]);
      if (e > maxErr) {
        maxErr = e;
        worst = i;
      }
    }
    System.out.printf("%-48s %-16s max|a-b| %.3g  max|b| %.3g%n", what, Arrays.toString(expected.shape()), maxErr, maxRef);
    int w = worst;
    double err = maxErr;
    double bound = REL * maxRef;
    assertTrue(err <= bound, () -> what + ": element " + w + " is " + a[w] + ", reference " + b[w] + " (|a-b| " + err + " > " + bound + ")");
  }

  static Path resource(String name) {
    try {
      return Path.of(DinoReferenceTest.class.getClassLoader().getResource(name).toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  static Path sharedImages() {
    String shared = System.getProperty("fovea.shared");
    Path dir = shared == null ? null : Path.of(shared, "data", "images").toAbsolutePath().normalize();
    Assumptions.assumeTrue(dir != null && Files.isDirectory(dir), "SKIPPED: the shared images are absent (fovea.shared = " + shared + ")");
    return dir;
  }
}
