package dev.fovea.methods.abs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.WeightSource;
import dev.fovea.tensor.io.WeightFiles;
import dev.fovea.vit.clip.ClipPipeline;
import dev.fovea.vit.dino.DinoPipeline;
import dev.fovea.vit.image.ImageDecoder;
import dev.fovea.vit.image.RgbImage;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ABS end to end against {@code tools/reference/abs/make_abs_reference.py}: a plain-torch re-run of
 * BIT-DA/ABS (main.py custom_loader, clip/model.py forward_with_attention, the soft matching of
 * main.py) on a tiny CLIP with a 14 x 14 grid and a tiny DINO with dino-vitb16's 14 x 14 grid, random
 * weights. The reference's random draws (torch.multinomial, random.randint) are recorded and replayed
 * through {@link Draws}, so centres, boxes and windows must be equal exactly; tensors within:
 *
 * <ul>
 *   <li>CLIP pixels 1e-6, DINO map and bank 1e-4, view and global embeddings 1e-5, all as {@code |a - b| <= r * max|b|};
 *   <li>per-view scores S[k, c] and logits (z = cos / 0.03 amplifies embedding error ~33x): {@code |a - b| <= 1e-4 * max|b|};
 *   <li>the argmax of the logits and of every baseline equal.
 * </ul>
 */
class AbsReferenceTest {
  static final Path ROOT = resource("abs-reference");

  @Test
  void reproducesTheReferenceDrawsBoxesWindowsScoresAndLogits(@TempDir Path cache) throws IOException {
    JsonNode meta = new ObjectMapper().readTree(ROOT.resolve("abs.ref.json").toFile());
    int m = meta.get("descriptions_per_class").asInt();
    try (ClipPipeline clip = ClipPipeline.open(ROOT.resolve("tiny-clip14"), ClipPipeline.Progress.NONE);
        DinoPipeline dino = DinoPipeline.open(ROOT.resolve("tiny-dino"));
        WeightSource ref = WeightFiles.open(ROOT.resolve("abs.ref.safetensors"))) {
      List<String> classes = ClassDescriptions.readClasses(ROOT.resolve("classes.json"));
      ClassDescriptions desc = ClassDescriptions.read(ROOT.resolve("descriptions.json"), classes);
      byte[] config = Files.readAllBytes(ROOT.resolve("tiny-clip14/config.json"));
      DescriptionBank.Loaded first = DescriptionBank.load(clip.model(), clip.tokenizer(), ROOT.resolve("tiny-clip14"), config, desc, m, cache, null);
      assertEquals(DescriptionBank.Source.ENCODED, first.source());
      DescriptionBank.Loaded second = DescriptionBank.load(clip.model(), clip.tokenizer(), ROOT.resolve("tiny-clip14"), config, desc, m, cache, null);
      assertEquals(DescriptionBank.Source.CACHE, second.source(), "a second run reads the cached bank");
      assertArrayEquals(first.bank().embeddings().contiguous().toFloatArray(), second.bank().embeddings().contiguous().toFloatArray());
      DescriptionBank.Loaded other = DescriptionBank.load(clip.model(), clip.tokenizer(), ROOT.resolve("tiny-clip14"), config, desc, m - 1, cache, null);
      assertEquals(DescriptionBank.Source.ENCODED, other.source(), "another M is another key");
      DescriptionBank bank = second.bank();
      Tensor wantBank = ref.get("bank"); // [C, M, E]
      assertRel("bank", bank.embeddings(), wantBank.reshape(wantBank.size(0) * wantBank.size(1), wantBank.size(2)), 1e-4);

      Abs abs = new Abs(clip.model(), clip.processor(), dino.model(), dino.processor(), AbsConfig.defaults().withDescriptionsPerClass(m));
      int checked = 0;
      for (JsonNode imageName : meta.get("images")) {
        String name = imageName.asText();
        Path file = Files.exists(ROOT.resolve(name)) ? ROOT.resolve(name) : sharedImage(name);
        if (file == null) {
          continue;
        }
        JsonNode pm = meta.get("per_image").get(name);
        RgbImage image = ImageDecoder.read(file);
        try (Scope s = Scope.open()) {
          assertRel(name + " CLIP pixels (torchvision crop)", abs.clipProcessor().process(image), ref.get(name + "/global_pixels"), 1e-6);
        }
        Abs.Result r = abs.run(image, bank, replay(pm));
        assertRel(name + " DINO map", Tensor.of(r.attention(), r.attention().length), ref.get(name + "/att_map"), 1e-4);
        assertArrayEquals(ints(pm.get("raw_centres")), r.rawCentres(), name + " raw centres");
        assertArrayEquals(ints(pm.get("feature_centres")), r.featureCentres(), name + " feature centres");
        for (int i = 0; i < r.boxes().length; i++) {
          assertArrayEquals(ints(pm.get("boxes").get(i)), r.boxes()[i], name + " box " + i);
          assertArrayEquals(ints(pm.get("windows").get(i)), r.windows()[i], name + " window " + i);
        }
        assertRel(name + " global embedding (split path)", Tensor.of(r.globalEmbedding(), r.globalEmbedding().length), ref.get(name + "/global_embed"), 1e-5);
        assertRel(name + " global embedding (whole tower)", Tensor.of(r.globalEmbedding(), r.globalEmbedding().length),
            ref.get(name + "/global_embed_full"), 1e-5);
        assertRel(name + " views (50 feature, 50 raw)", matrix(r.views()), ref.get(name + "/views"), 1e-5);
        assertRel(name + " view scores S", matrix(r.viewScores()), ref.get(name + "/view_scores"), 1e-4);
        Tensor wantLogits = ref.get(name + "/logits");
        assertRel(name + " logits", Tensor.of(r.logits(), r.logits().length), wantLogits, 1e-4);
        assertEquals(argmax(wantLogits.contiguous().toFloatArray()), argmax(r.logits()), name + " prediction");
        checkScoreBounds(r);
        checked++;
      }
      assertTrue(checked >= 1, "no reference image checked");
    }
  }

  @Test
  void baselinesMatchTheReference() throws IOException {
    try (ClipPipeline clip = ClipPipeline.open(ROOT.resolve("tiny-clip14"), ClipPipeline.Progress.NONE);
        WeightSource ref = WeightFiles.open(ROOT.resolve("abs.ref.safetensors"));
        Scope s = Scope.open()) {
      List<String> classes = ClassDescriptions.readClasses(ROOT.resolve("classes.json"));
      ClassDescriptions desc = ClassDescriptions.read(ROOT.resolve("descriptions.json"), classes);
      List<String> templates = ClassDescriptions.readTemplates(ROOT.resolve("templates.json"));
      for (Baselines.Method method : List.of(Baselines.Method.CLIP, Baselines.Method.CLIP_E, Baselines.Method.CUPL)) {
        Tensor w = Baselines.classVectors(clip.model(), clip.tokenizer(), Baselines.texts(method, desc.classes(), desc.sentences(), templates));
        assertRel(method.cliName() + " class vectors", w, ref.get("weights." + method.cliName()), 1e-4);
      }
    }
  }

  /** A.14: S[k, c] lies within [min(0, min_m z), max(0, max_m z)] and |z| <= 1 / tau. */
  static void checkScoreBounds(Abs.Result r) {
    double zmax = 1 / 0.03 + 1e-3;
    for (float[] row : r.viewScores()) {
      for (float v : row) {
        assertTrue(Math.abs(v) <= zmax, "S outside [-1/tau, 1/tau]: " + v);
      }
    }
  }

  /** Replays the recorded draws: multinomial calls in order, randints in order, checking each range. */
  static Draws replay(JsonNode pm) {
    Deque<int[]> multi = new ArrayDeque<>(List.of(ints(pm.get("raw_samples")), ints(pm.get("feature_samples"))));
    Deque<Integer> randints = new ArrayDeque<>();
    for (int v : ints(pm.get("raw_randints"))) {
      randints.add(v);
    }
    for (int v : ints(pm.get("feature_randints"))) {
      randints.add(v);
    }
    return new Draws() {
      @Override
      public int[] multinomial(float[] probs, int n) {
        int[] d = multi.removeFirst();
        assertEquals(n, d.length, "recorded multinomial draw count");
        for (int i : d) {
          assertTrue(i >= 0 && i < probs.length && probs[i] > 0, "recorded draw " + i + " has no weight here");
        }
        return d;
      }

      @Override
      public int randint(int lo, int hi) {
        int v = randints.removeFirst();
        assertTrue(v >= lo && v <= hi, "recorded randint " + v + " outside this call's range [" + lo + ", " + hi + "]");
        return v;
      }
    };
  }

  static void assertRel(String what, Tensor actual, Tensor expected, double rel) {
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
    System.out.printf("%-52s %-14s max|a-b| %.3g  max|b| %.3g  (bound %.0e * max|b|)%n", what, Arrays.toString(expected.shape()), maxErr, maxRef, rel);
    int w = worst;
    double err = maxErr;
    double bound = rel * maxRef;
    assertTrue(err <= bound, () -> what + ": element " + w + " is " + a[w] + ", reference " + b[w] + " (|a-b| " + err + " > " + bound + ")");
  }

  static Tensor matrix(float[][] rows) {
    int e = rows[0].length;
    float[] flat = new float[rows.length * e];
    for (int i = 0; i < rows.length; i++) {
      System.arraycopy(rows[i], 0, flat, i * e, e);
    }
    return Tensor.of(flat, rows.length, e);
  }

  static int[] ints(JsonNode a) {
    int[] out = new int[a.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = a.get(i).asInt();
    }
    return out;
  }

  static int argmax(float[] v) {
    int best = 0;
    for (int i = 1; i < v.length; i++) {
      if (v[i] > v[best]) {
        best = i;
      }
    }
    return best;
  }

  static Path resource(String name) {
    try {
      return Path.of(AbsReferenceTest.class.getClassLoader().getResource(name).toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A shared image, or null (with a note) when ../shared is absent. */
  static Path sharedImage(String name) {
    String shared = System.getProperty("fovea.shared");
    Path f = shared == null ? null : Path.of(shared, "data", "images", name);
    if (f == null || !Files.isRegularFile(f)) {
      System.out.println("SKIPPED " + name + ": the shared images are absent (fovea.shared = " + shared + ")");
      return null;
    }
    return f;
  }
}
