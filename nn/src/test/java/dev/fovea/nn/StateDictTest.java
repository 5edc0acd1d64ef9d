package dev.fovea.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fovea.tensor.DType;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.TensorException;
import dev.fovea.tensor.WeightSource;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Strict loading: one exception listing every problem; successful loads keep the source's tensors. */
class StateDictTest {
  static Encoder encoder() {
    return new Encoder(EncoderLayer.Config.clip(8, 2, 16), 2);
  }

  /** A complete state dict for {@link #encoder()} with the given key prefix. */
  static Map<String, Tensor> stateDict(String prefix) {
    var twin = encoder();
    twin.initRandom(3);
    Map<String, Tensor> sd = new LinkedHashMap<>();
    twin.namedParameters().forEach((name, p) -> sd.put(prefix + name, p.get()));
    return sd;
  }

  @Test
  void namedParametersUseCheckpointPaths() {
    var names = List.copyOf(encoder().namedParameters().keySet());
    assertEquals("layers.0.layer_norm1.weight", names.get(0));
    assertTrue(names.contains("layers.1.self_attn.out_proj.bias"));
    assertTrue(names.contains("layers.0.mlp.fc2.weight"));
    assertEquals(2 * 16, names.size());
    var e = encoder();
    assertEquals("layers.1.self_attn.q_proj", e.layers.get(1).selfAttn.qProj.path());
    assertEquals("layers.1.self_attn.q_proj.weight", e.layers.get(1).selfAttn.qProj.weight.path());
  }

  @Test
  void everyProblemIsReportedOnceWithNamesShapesAndDtypes() {
    Map<String, Tensor> sd = stateDict("");
    sd.remove("layers.0.self_attn.k_proj.weight");
    sd.remove("layers.1.mlp.fc2.bias");
    sd.put("layers.0.self_attn.rotary.inv_freq", Tensor.zeros(4));
    sd.put("layers.2.mlp.fc1.weight", Tensor.zeros(16, 8));
    sd.put("layers.0.mlp.fc1.weight", Tensor.zeros(16, 4));
    sd.put("layers.1.layer_norm2.weight", Tensor.zeros(9));
    sd.put("layers.1.self_attn.v_proj.bias", Tensor.ofInts(new int[8], 8));
    var m = encoder();
    var e = assertThrows(StateDictException.class, () -> m.load(WeightSource.of(sd)));
    String msg = e.getMessage();
    assertEquals(2, e.problems(StateDict.Kind.MISSING).size(), msg);
    assertEquals(2, e.problems(StateDict.Kind.UNEXPECTED).size(), msg);
    assertEquals(2, e.problems(StateDict.Kind.SHAPE).size(), msg);
    assertEquals(1, e.problems(StateDict.Kind.DTYPE).size(), msg);
    for (String s : List.of(
        "in-memory weights",
        "2 missing, 2 unexpected, 2 shape, 1 dtype",
        "missing:    layers.0.self_attn.k_proj.weight expected [8, 8]",
        "missing:    layers.1.mlp.fc2.bias expected [8]",
        "unexpected: layers.0.self_attn.rotary.inv_freq found [4] F32",
        "unexpected: layers.2.mlp.fc1.weight found [16, 8] F32",
        "shape:      layers.0.mlp.fc1.weight expected [16, 8]",
        ", found [16, 4] F32",
        "shape:      layers.1.layer_norm2.weight expected [8] [F32, F16, BF16], found [9] F32",
        "dtype:      layers.1.self_attn.v_proj.bias expected [8] [F32, F16, BF16], found [8] I32")) {
      assertTrue(msg.contains(s), "message lacks '" + s + "':\n" + msg);
    }
    // nothing was set
    assertTrue(m.namedParameters().values().stream().noneMatch(Parameter::isSet));
    var e2 = assertThrows(TensorException.class, () -> m.forward(Tensor.zeros(1, 2, 8)));
    assertTrue(e2.getMessage().contains("layers.0.layer_norm1.weight"), e2.getMessage());
  }

  /** 10 000 layers against an empty checkpoint: the first ten problems by name, then a count, in well under 2 KB. */
  @Test
  void aLongListOfProblemsIsCutToTheFirstTenAndACount() {
    var m = new Encoder(EncoderLayer.Config.clip(8, 2, 16), 10_000);
    var e = assertThrows(StateDictException.class, () -> m.load(WeightSource.of(Map.of())));
    String msg = e.getMessage();
    assertEquals(160_000, e.problems().size());
    assertTrue(msg.length() < 2048, msg.length() + " chars");
    assertTrue(msg.contains("160000 missing") && msg.contains("missing:    layers.0.layer_norm1.weight"), msg);
    assertTrue(msg.contains("\n  ... and 159990 more"), msg);
    assertEquals(11, msg.lines().count() - 1, msg);
  }

  @Test
  void layerCountsAreReadFromNamesAlone() {
    Map<String, Tensor> sd = new LinkedHashMap<>();
    sd.put("model.layers.0.a", Tensor.zeros(1));
    sd.put("model.layers.11.b", Tensor.zeros(1));
    sd.put("model.layers.x.c", Tensor.zeros(1));
    sd.put("model.norm.weight", Tensor.zeros(1));
    WeightSource w = WeightSource.of(sd);
    assertEquals(12, StateDict.countIndexed(w, "model.layers."));
    assertEquals(0, StateDict.countIndexed(w, "vision_model.encoder.layers."));
    assertEquals(null, StateDict.countDisagreement(w, "model.layers.", "num_hidden_layers", 12));
    assertEquals("num_hidden_layers = 2 but the weights have 12 (model.layers.0 to model.layers.11)",
        StateDict.countDisagreement(w, "model.layers.", "num_hidden_layers", 2));
    assertEquals("n = 2 but the weights have no blk.N tensors", StateDict.countDisagreement(w, "blk.", "n", 2));
    sd.put("model.layers.99999999999999.d", Tensor.zeros(1));
    assertEquals(Integer.MAX_VALUE, StateDict.countIndexed(WeightSource.of(sd), "model.layers."));
    assertEquals("model.norm.weight is [1] but [hidden_size] = [8]", StateDict.shapeDisagreement(w, "model.norm.weight", "[hidden_size]", 8));
    assertEquals(null, StateDict.shapeDisagreement(w, "model.absent", "[hidden_size]", 8));
  }

  @Test
  void loadsUnderAPrefixKeepingTheSourceTensors() {
    Map<String, Tensor> sd = stateDict("vision_model.encoder.");
    sd.put("vision_model.post_layernorm.weight", Tensor.zeros(8)); // outside the prefix: not ours
    sd.put("vision_model.encoder.layers.0.self_attn.rotary_emb.inv_freq", Tensor.zeros(4)); // ignored
    // half-precision and quantized Linear weights are used as stored
    Tensor f16 = sd.get("vision_model.encoder.layers.0.mlp.fc1.weight").to(DType.F16);
    sd.put("vision_model.encoder.layers.0.mlp.fc1.weight", f16);
    Tensor q8 = Tensor.randn(new Random(1), 8, 32).to(DType.Q8_0);
    var m = encoder();
    m.load(WeightSource.of(sd), "vision_model.encoder.", n -> n.endsWith("rotary_emb.inv_freq"));
    assertSame(f16, m.layers.get(0).mlp.fc1.weight.get());
    assertSame(sd.get("vision_model.encoder.layers.1.self_attn.q_proj.weight"), m.layers.get(1).selfAttn.qProj.weight.get());
    Tensor y = m.forward(Tensor.randn(new Random(2), 1, 3, 8));
    assertEquals(3, y.size(1));
    var lin = new Linear(32, 8, false);
    lin.load(WeightSource.of(Map.of("weight", q8)));
    assertSame(q8, lin.weight.get());
    assertEquals(DType.F32, lin.forward(Tensor.randn(new Random(3), 2, 32)).dtype());
  }

  @Test
  void wrongPrefixGetsAHint() {
    var m = encoder();
    var e = assertThrows(StateDictException.class, () -> m.load(WeightSource.of(stateDict("text_model.encoder.")), "vision_model.encoder."));
    assertTrue(e.getMessage().contains("HINT") && e.getMessage().contains("'text_model.encoder.'"), e.getMessage());
    assertFalse(e.problems(StateDict.Kind.MISSING).isEmpty());
  }

  @Test
  void seededInitIsReproducible() {
    var a = encoder();
    var b = encoder();
    a.initRandom(5);
    b.initRandom(5);
    Tensor x = Tensor.randn(new Random(4), 1, 3, 8);
    org.junit.jupiter.api.Assertions.assertArrayEquals(a.forward(x).toFloatArray(), b.forward(x).toFloatArray());
  }
}
