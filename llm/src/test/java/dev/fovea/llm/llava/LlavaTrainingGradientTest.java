package dev.fovea.llm.llava;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fovea.llm.llama.DecodeState;
import dev.fovea.nn.train.CausalLmLoss;
import dev.fovea.nn.train.Trainable;
import dev.fovea.tensor.Ops;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.autograd.GradMode;
import dev.fovea.tensor.cpu.Elements;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The gradient of the training loss of a whole LLaVA (issue 22): the answer-token cross-entropy of
 * the tiny llava-hf checkpoint (CLIP tower 28 px, 3 layers; projector; 2-layer LLaMA; head) on a
 * batch of two prompts with an image each, back-propagated to every parameter, against central
 * finite differences of the same float32 forward.
 *
 * <p>For each of 17 parameters spread over the vision tower (patch, class and position embeddings,
 * pre_layrnorm, attention and MLP weights of both layers that feed the features), the projector, the
 * decoder (token embeddings, attention, MLP, norms) and the head: the directional derivative along a
 * random unit direction d (±1/sqrt(n) each), (L(p + h d) - L(p - h d)) / 2h with h = 1e-2, against
 * &lt;grad, d&gt;. With {@code -Plong}: every parameter that gets a gradient (62), and also the element with the largest
 * |grad| of each alone (h = 1e-2). The quotient is formed in double; the loss is float32, so its
 * rounding (~1e-7 relative) limits the numeric side. Tolerance: |analytic - numeric| &lt;= 2e-4 +
 * 1e-2 |numeric|; measured worst 0.13 of it (default) and 0.12 (-Plong), typical agreement 1e-3
 * relative along a direction and 1e-4 for a single element. The key biases get gradients of ~1e-9
 * (zero in exact arithmetic: a bias added to every key shifts a query's logits by a constant).
 * The vision tower's last layer and post_layernorm do not reach the features (vision_feature_layer
 * -2) and must get no gradient.
 */
class LlavaTrainingGradientTest {
  static final String[] SAMPLE = {
    "vision_tower.vision_model.embeddings.patch_embedding.weight",
    "vision_tower.vision_model.embeddings.class_embedding",
    "vision_tower.vision_model.embeddings.position_embedding.weight",
    "vision_tower.vision_model.pre_layrnorm.weight",
    "vision_tower.vision_model.encoder.layers.0.self_attn.k_proj.weight",
    "vision_tower.vision_model.encoder.layers.0.layer_norm1.bias",
    "vision_tower.vision_model.encoder.layers.1.self_attn.q_proj.bias",
    "vision_tower.vision_model.encoder.layers.1.mlp.fc2.weight",
    "multi_modal_projector.linear_1.weight",
    "multi_modal_projector.linear_2.bias",
    "language_model.model.embed_tokens.weight",
    "language_model.model.layers.0.self_attn.k_proj.weight",
    "language_model.model.layers.0.input_layernorm.weight",
    "language_model.model.layers.1.self_attn.v_proj.weight",
    "language_model.model.layers.1.mlp.gate_proj.weight",
    "language_model.model.norm.weight",
    "language_model.lm_head.weight",
  };

  /** Two prompts of one length: BOS, text, one image marker, text, then a 3-token answer (the only trained positions). */
  static final int[][] IDS = {
    {1, 40, 41, 512, 42, 43, 44, 300, 301, 2},
    {1, 50, 51, 512, 52, 53, 54, 310, 302, 2},
  };
  static final int ANSWER = 3;

  @Test
  void answerLossGradientOfEveryPartMatchesFiniteDifferences() {
    try (var model = LlavaForConditionalGeneration.load(LlavaFixtures.dir()); Trainable params = Trainable.of(model)) {
      int s = model.config.visionConfig().imageSize();
      Tensor pixels = Tensor.randn(new Random(7), 2, 3, s, s).copyTo(Scope.global());
      double l0;
      try (Scope scope = Scope.open(); var g = GradMode.enable()) {
        Tensor loss = loss(model, pixels);
        l0 = loss.item();
        loss.backward();
        params.collectGradients();
      }
      List<String> names = params.names();
      for (int i = 0; i < params.size(); i++) {
        boolean unused = names.get(i).contains("encoder.layers.2.") || names.get(i).contains("post_layernorm");
        if (unused) {
          assertFalse(params.hasGradient(i), names.get(i) + " does not reach the features yet got a gradient");
        } else {
          assertTrue(params.hasGradient(i), names.get(i) + " got no gradient");
        }
      }
      boolean thorough = Boolean.getBoolean("fovea.long");
      List<String> sample = new ArrayList<>(List.of(SAMPLE));
      if (thorough) {
        sample.clear();
        for (int i = 0; i < params.size(); i++) {
          if (params.hasGradient(i)) {
            sample.add(names.get(i));
          }
        }
      }
      Random rng = new Random(3);
      double worst = 0;
      String worstAt = "";
      List<String> lines = new ArrayList<>();
      for (String name : sample) {
        int i = names.indexOf(name);
        assertTrue(i >= 0, name);
        float[] grad = params.gradient(i).toFloatArray();
        // directional derivative along a random unit vector d in {-1, +1}^n / sqrt(n)
        float[] d = new float[grad.length];
        double analytic = 0;
        float unit = (float) (1 / Math.sqrt(d.length));
        for (int j = 0; j < d.length; j++) {
          d[j] = rng.nextBoolean() ? unit : -unit;
          analytic += (double) grad[j] * d[j];
        }
        double numeric = centralDifference(model, pixels, params.value(i), d, 1e-2);
        double err = Math.abs(analytic - numeric) / (2e-4 + 1e-2 * Math.abs(numeric));
        if (!thorough) {
          lines.add(String.format("  %-66s d: %+.6e vs %+.6e", name, analytic, numeric));
          if (err > worst) {
            worst = err;
            worstAt = name;
          }
          continue;
        }
        // the element with the largest |grad|
        int top = 0;
        for (int j = 1; j < grad.length; j++) {
          top = Math.abs(grad[j]) > Math.abs(grad[top]) ? j : top;
        }
        float[] e = new float[grad.length];
        e[top] = 1f;
        double numericTop = centralDifference(model, pixels, params.value(i), e, 1e-2);
        double errTop = Math.abs(grad[top] - numericTop) / (2e-4 + 1e-2 * Math.abs(numericTop));
        lines.add(String.format("  %-66s d: %+.6e vs %+.6e   top[%d]: %+.6e vs %+.6e", name, analytic, numeric, top, grad[top], numericTop));
        if (Math.max(err, errTop) > worst) {
          worst = Math.max(err, errTop);
          worstAt = name;
        }
      }
      System.out.printf("llava answer-loss gradient vs central differences (loss %.5f, %d parameters); worst |err| / tolerance %.3f at %s%n%s%n", l0, sample.size(), worst, worstAt,
          String.join("\n", lines));
      assertTrue(worst <= 1, "worst error " + worst + " of the tolerance at " + worstAt + "\n" + String.join("\n", lines));
    }
  }

  /** The mean cross-entropy of the answer tokens of both prompts, one batch of two rows. */
  static Tensor loss(LlavaForConditionalGeneration model, Tensor pixels) {
    List<Tensor> embeds = new ArrayList<>();
    int[][] labels = new int[IDS.length][];
    for (int b = 0; b < IDS.length; b++) {
      LlavaInputs in = model.prepare(IDS[b], pixels.narrow(0, b, 1));
      embeds.add(in.embeddings());
      labels[b] = CausalLmLoss.answerLabels(in.ids(), in.length() - ANSWER);
    }
    try (DecodeState state = model.newState(IDS.length, labels[0].length)) {
      Tensor logits = model.languageModel.forward(Ops.concat(embeds, 0), state, true); // [2, L, V]
      return CausalLmLoss.loss(logits, labels);
    }
  }

  /** (L(p + h d) - L(p - h d)) / 2h, the weights changed in place and restored bit for bit. */
  static double centralDifference(LlavaForConditionalGeneration model, Tensor pixels, Tensor value, float[] d, double h) {
    MemorySegment seg = value.storage().segment();
    float[] saved = value.toFloatArray();
    double[] losses = new double[2];
    double[] steps = new double[2];
    for (int side = 0; side < 2; side++) {
      double sign = side == 0 ? 1 : -1;
      for (int j = 0; j < saved.length; j++) {
        seg.setAtIndex(Elements.F32, value.offset() + j, (float) (saved[j] + sign * h * d[j]));
      }
      // the step actually taken along d (p + h d rounds to float)
      int k = 0;
      while (d[k] == 0) {
        k++;
      }
      steps[side] = ((double) seg.getAtIndex(Elements.F32, value.offset() + k) - saved[k]) / d[k];
      try (Scope scope = Scope.open()) {
        losses[side] = loss(model, pixels).item();
      }
    }
    MemorySegment.copy(saved, 0, seg, Elements.F32, value.offset() * 4, saved.length);
    return (losses[0] - losses[1]) / (steps[0] - steps[1]);
  }
}
