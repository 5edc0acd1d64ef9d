package dev.fovea.tensor.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fovea.tensor.DType;
import dev.fovea.tensor.Ops;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.WeightSource;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A tiny mmproj GGUF written as llama.cpp's converters write one (spec 6.2), read through the HF view. */
class GgufClipNamesTest {
  static final int D = 8; // vision width
  static final int F = 16; // vision FFN width
  static final int P = 2; // patch
  static final int IMAGE = 4; // -> 4 patches + CLS = 5 positions
  static final int T = 12; // text width (projector output)
  static final int LAYERS = 2;

  @TempDir Path tmp;

  /**
   * Writes an mmproj file; returns the HF-named tensors it holds (F32 values as written, the F16
   * ones as F16). {@code legacy}: fc1 stored as {@code ffn_down} (convert_image_encoder_to_gguf.py);
   * {@code classShape}: the stored shape of {@code v.class_embd}.
   */
  static Map<String, Tensor> writeMmproj(Path path, boolean legacy, int[] classShape, long seed) {
    Random rng = new Random(seed);
    Map<String, Tensor> hf = new LinkedHashMap<>();
    GgufWriter w = new GgufWriter()
        .putString("general.architecture", "clip")
        .putBool("clip.has_text_encoder", false)
        .putBool("clip.has_vision_encoder", true)
        .putBool("clip.has_llava_projector", true)
        .putUInt32("general.file_type", 1)
        .putString("general.name", "tiny-mmproj")
        .putString("clip.projector_type", "mlp")
        .putBool("clip.use_gelu", false)
        .putUInt32("clip.vision.image_size", IMAGE)
        .putUInt32("clip.vision.patch_size", P)
        .putUInt32("clip.vision.embedding_length", D)
        .putUInt32("clip.vision.feed_forward_length", F)
        .putUInt32("clip.vision.projection_dim", 6)
        .putUInt32("clip.vision.attention.head_count", 2)
        .putFloat32("clip.vision.attention.layer_norm_epsilon", 1e-5f)
        .putUInt32("clip.vision.block_count", LAYERS)
        .putFloats("clip.vision.image_mean", new float[] {0.48145466f, 0.4578275f, 0.40821073f})
        .putFloats("clip.vision.image_std", new float[] {0.26862954f, 0.26130258f, 0.27577711f});
    String v = GgufClipNames.VISION;
    Tensor cls = Tensor.randn(rng, D);
    w.addTensor("v.class_embd", cls.reshape(classShape), GgmlType.F32);
    hf.put(v + "embeddings.class_embedding", cls);
    Tensor patch = Tensor.randn(rng, D, 3, P, P);
    w.addTensor("v.patch_embd.weight", patch, GgmlType.F16); // conv weights are always F16
    hf.put(v + "embeddings.patch_embedding.weight", Ops.to(patch, DType.F16));
    Tensor pos = Tensor.randn(rng, (IMAGE / P) * (IMAGE / P) + 1, D);
    w.addTensor("v.position_embd.weight", pos, GgmlType.F16);
    hf.put(v + "embeddings.position_embedding.weight", Ops.to(pos, DType.F16));
    for (String k : new String[] {"weight", "bias"}) {
      Tensor t = Tensor.randn(rng, D);
      w.addTensor("v.pre_ln." + k, t, GgmlType.F32);
      hf.put(v + "pre_layrnorm." + k, t);
    }
    for (int l = 0; l < LAYERS; l++) {
      String b = "v.blk." + l + ".";
      String h = v + "encoder.layers." + l + ".";
      for (String[] m : new String[][] {{"attn_q", "self_attn.q_proj"}, {"attn_k", "self_attn.k_proj"}, {"attn_v", "self_attn.v_proj"}, {"attn_out", "self_attn.out_proj"}}) {
        Tensor wt = Tensor.randn(rng, D, D);
        Tensor bias = Tensor.randn(rng, D);
        w.addTensor(b + m[0] + ".weight", wt, GgmlType.F16).addTensor(b + m[0] + ".bias", bias, GgmlType.F32);
        hf.put(h + m[1] + ".weight", Ops.to(wt, DType.F16));
        hf.put(h + m[1] + ".bias", bias);
      }
      for (String[] m : new String[][] {{"ln1", "layer_norm1"}, {"ln2", "layer_norm2"}}) {
        for (String k : new String[] {"weight", "bias"}) {
          Tensor t = Tensor.randn(rng, D);
          w.addTensor(b + m[0] + "." + k, t, GgmlType.F32);
          hf.put(h + m[1] + "." + k, t);
        }
      }
      Tensor fc1 = Tensor.randn(rng, F, D);
      Tensor fc1b = Tensor.randn(rng, F);
      Tensor fc2 = Tensor.randn(rng, D, F);
      Tensor fc2b = Tensor.randn(rng, D);
      String fc1Name = legacy ? "ffn_down" : "ffn_up";
      String fc2Name = legacy ? "ffn_up" : "ffn_down";
      w.addTensor(b + fc1Name + ".weight", fc1, GgmlType.F16).addTensor(b + fc1Name + ".bias", fc1b, GgmlType.F32);
      w.addTensor(b + fc2Name + ".weight", fc2, GgmlType.F16).addTensor(b + fc2Name + ".bias", fc2b, GgmlType.F32);
      hf.put(h + "mlp.fc1.weight", Ops.to(fc1, DType.F16));
      hf.put(h + "mlp.fc1.bias", fc1b);
      hf.put(h + "mlp.fc2.weight", Ops.to(fc2, DType.F16));
      hf.put(h + "mlp.fc2.bias", fc2b);
    }
    Tensor mm0 = Tensor.randn(rng, T, D);
    Tensor mm0b = Tensor.randn(rng, T);
    Tensor mm2 = Tensor.randn(rng, T, T);
    Tensor mm2b = Tensor.randn(rng, T);
    w.addTensor("mm.0.weight", mm0, GgmlType.F16).addTensor("mm.0.bias", mm0b, GgmlType.F32);
    w.addTensor("mm.2.weight", mm2, GgmlType.F16).addTensor("mm.2.bias", mm2b, GgmlType.F32);
    hf.put(GgufClipNames.PROJECTOR + "linear_1.weight", Ops.to(mm0, DType.F16));
    hf.put(GgufClipNames.PROJECTOR + "linear_1.bias", mm0b);
    hf.put(GgufClipNames.PROJECTOR + "linear_2.weight", Ops.to(mm2, DType.F16));
    hf.put(GgufClipNames.PROJECTOR + "linear_2.bias", mm2b);
    w.write(path);
    return hf;
  }

  static void assertSameTensor(String name, Tensor want, Tensor got) {
    assertEquals(want.dtype(), got.dtype(), name);
    assertArrayEquals(want.shape(), got.shape(), name);
    assertArrayEquals(want.toFloatArray(), got.toFloatArray(), name);
  }

  private void checkView(boolean legacy, int[] classShape) {
    Path f = tmp.resolve("mmproj-" + legacy + classShape.length + ".gguf");
    Map<String, Tensor> want = writeMmproj(f, legacy, classShape, 11);
    try (GgufSource src = GgufSource.open(f)) {
      assertEquals(legacy, GgufClipNames.legacyFfnNaming(src));
      try (WeightSource hf = GgufClipNames.asHuggingFace(GgufSource.open(f))) {
        assertEquals(want.keySet(), hf.names());
        for (var e : want.entrySet()) {
          assertArrayEquals(e.getValue().shape(), hf.info(e.getKey()).shape(), e.getKey());
          assertSameTensor(e.getKey(), e.getValue(), hf.get(e.getKey()));
        }
        assertArrayEquals(new int[] {D}, hf.get(GgufClipNames.VISION + "embeddings.class_embedding").shape());
        assertArrayEquals(new int[] {D, 3, P, P}, hf.info(GgufClipNames.VISION + "embeddings.patch_embedding.weight").shape(), "ne [P,P,3,D] reversed");
        assertArrayEquals(new int[] {F, D}, hf.info(GgufClipNames.VISION + "encoder.layers.1.mlp.fc1.weight").shape(), "fc1 is [F, D] whichever name the file used");
        assertEquals("clip", hf.metadata().get("general.architecture"));
      }
    }
  }

  @Test
  void currentNamingWithOneDimensionalClassEmbedding() {
    checkView(false, new int[] {D});
  }

  @Test
  void legacyNamingSwapsUpAndDownAndSqueezesClassEmbedding() {
    checkView(true, new int[] {1, 1, D});
  }

  @Test
  void nameTableBothWays() {
    assertEquals("vision_tower.vision_model.encoder.layers.3.self_attn.out_proj.bias", GgufClipNames.toHuggingFace("v.blk.3.attn_out.bias", false));
    assertEquals("vision_tower.vision_model.encoder.layers.3.mlp.fc1.weight", GgufClipNames.toHuggingFace("v.blk.3.ffn_up.weight", false));
    assertEquals("vision_tower.vision_model.encoder.layers.3.mlp.fc1.weight", GgufClipNames.toHuggingFace("v.blk.3.ffn_down.weight", true));
    assertEquals("vision_tower.vision_model.post_layernorm.weight", GgufClipNames.toHuggingFace("v.post_ln.weight", false));
    assertEquals("multi_modal_projector.linear_2.bias", GgufClipNames.toHuggingFace("mm.2.bias", false));
    assertNull(GgufClipNames.toHuggingFace("t.blk.0.attn_q.weight", false));
    for (String g : new String[] {"v.class_embd", "v.patch_embd.weight", "v.pre_ln.bias", "v.blk.0.ln1.weight", "v.blk.12.ffn_down.bias", "mm.0.weight"}) {
      assertEquals(g, GgufClipNames.toGguf(GgufClipNames.toHuggingFace(g, false)), g);
    }
    assertNull(GgufClipNames.toGguf("language_model.model.norm.weight"));
  }

  @Test
  void paramsAndConfigs() {
    Path f = tmp.resolve("mmproj.gguf");
    writeMmproj(f, true, new int[] {D}, 1);
    try (GgufSource src = GgufSource.open(f)) {
      GgufClipNames.Params p = GgufClipNames.params(src);
      assertEquals(IMAGE, p.imageSize());
      assertEquals(LAYERS, p.blockCount());
      assertEquals("mlp", p.projectorType());
      assertTrue(p.hasLlavaProjector());
      assertNull(p.featureLayer());
      Map<String, Object> vc = GgufClipNames.visionConfig(p);
      assertEquals(D, vc.get("hidden_size"));
      assertEquals(F, vc.get("intermediate_size"));
      assertEquals("quick_gelu", vc.get("hidden_act"));
      assertEquals(1e-5f, vc.get("layer_norm_eps"));
      assertEquals(6, vc.get("projection_dim"));
      Map<String, Object> pp = GgufClipNames.preprocessorConfig(p);
      assertEquals(0.26130258f, ((java.util.List<?>) pp.get("image_std")).get(1));
    }
  }

  @Test
  void refusesANonClipFile() {
    Path f = tmp.resolve("llama.gguf");
    new GgufWriter().putString("general.architecture", "llama").addTensor("x", Tensor.randn(new Random(1), 4), GgmlType.F32).write(f);
    FormatException e = assertThrows(FormatException.class, () -> GgufClipNames.asHuggingFace(GgufSource.open(f)));
    assertTrue(e.getMessage().contains("needs 'clip'"), e.getMessage());
    assertEquals(f.toString(), e.file());
  }

  @Test
  void releaseFreesDequantizedCopiesAndTheNextGetRemakesThem() {
    try (GgufSource src = GgufSource.open(Fixtures.path("tiny.gguf"))) {
      Tensor q = src.get("t.q4_k");
      float[] first = q.toFloatArray();
      src.release("t.q4_k");
      assertFalse(q.storage().segment().scope().isAlive(), "the dequantized copy is freed");
      assertArrayEquals(first, src.get("t.q4_k").toFloatArray());
      Tensor mapped = src.get("blk.0.ffn_gate.weight");
      src.release("blk.0.ffn_gate.weight");
      assertTrue(mapped.storage().segment().scope().isAlive(), "mapped views stay valid");
      src.release("no such tensor");
    }
  }

  @Test
  void llamaViewReleaseFreesThePermutedCopy() {
    try (WeightSource hf = GgufLlamaNames.asHuggingFace(GgufSource.open(Fixtures.path("tiny.gguf")))) {
      String q = "model.layers.0.self_attn.q_proj.weight";
      Tensor t = hf.get(q);
      float[] first = t.toFloatArray();
      hf.release(q);
      assertFalse(t.storage().segment().scope().isAlive(), "the permuted copy is freed");
      assertArrayEquals(first, hf.get(q).toFloatArray(), "and made again on the next get");
      hf.release("no such tensor");
    }
  }
}
