package dev.fovea.jmh;

import dev.fovea.nn.EncoderLayer;
import dev.fovea.tensor.Ops;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.cpu.Parallel;
import dev.fovea.tensor.ops.Attention;
import dev.fovea.vit.clip.ClipVisionConfig;
import dev.fovea.vit.clip.ClipVisionTransformer;
import java.util.Random;

/**
 * A simple op breakdown of one CLIP vision forward: the encoder layer is replayed op by op (the
 * same Ops calls as EncoderLayer/MultiHeadAttention/MLP) with a timer around each, over the
 * model's real weights (random). Usage: {@code ClipProfile [vit_b16_224|vit_l14_336] [batch] [threads] [repeats]}.
 */
public final class ClipProfile {
  private ClipProfile() {}

  public static void main(String[] args) {
    String model = args.length > 0 ? args[0] : "vit_b16_224";
    int batch = args.length > 1 ? Integer.parseInt(args[1]) : 1;
    int threads = args.length > 2 ? Integer.parseInt(args[2]) : 2;
    int repeats = args.length > 3 ? Integer.parseInt(args[3]) : 3;
    Parallel.setThreads(threads);
    ClipVisionConfig c = ClipVisionBench.config(model);
    ClipVisionTransformer tower = new ClipVisionTransformer(c);
    tower.initRandom(42);
    Tensor pixels = Tensor.randn(new Random(1), batch, 3, c.imageSize(), c.imageSize());
    OpTimes t = new OpTimes();
    for (int r = 0; r <= repeats; r++) {
      if (r == 1) {
        t.clear(); // the first pass warms up the JIT
      }
      long whole = System.nanoTime();
      try (Scope s = Scope.open()) {
        long t0 = System.nanoTime();
        Tensor h = tower.preLayrnorm.forward(tower.embeddings.forward(pixels));
        t.add("embeddings + pre_layrnorm", t0);
        int b = h.size(0);
        int n = h.size(1);
        int d = c.hiddenSize();
        int heads = c.numAttentionHeads();
        int hd = c.headDim();
        for (EncoderLayer layer : tower.encoder.layers) {
          var a = layer.selfAttn;
          t0 = System.nanoTime();
          Tensor x = layer.layerNorm1.forward(h);
          t.add("layer_norm1 + layer_norm2", t0);
          t0 = System.nanoTime();
          Tensor q = a.qProj.forward(x).reshape(b, n, heads, hd).transpose(1, 2);
          Tensor k = a.kProj.forward(x).reshape(b, n, heads, hd).transpose(1, 2);
          Tensor v = a.vProj.forward(x).reshape(b, n, heads, hd).transpose(1, 2);
          t.add("q/k/v_proj (GEMM)", t0);
          t0 = System.nanoTime();
          Tensor o = Attention.attention(q, k, v, null, false, a.config.scale(), false).output();
          t.add("attention core (fused softmax(QK^T)V)", t0);
          t0 = System.nanoTime();
          Tensor merged = o.transpose(1, 2).reshape(b, n, d);
          t.add("head merge (transpose copy)", t0);
          t0 = System.nanoTime();
          Tensor y = a.outProj.forward(merged);
          t.add("out_proj (GEMM)", t0);
          t0 = System.nanoTime();
          h = Ops.add(h, y);
          t.add("residual adds", t0);
          t0 = System.nanoTime();
          Tensor x2 = layer.layerNorm2.forward(h);
          t.add("layer_norm1 + layer_norm2", t0);
          t0 = System.nanoTime();
          Tensor f = layer.mlp.fc1.forward(x2);
          t.add("fc1 (GEMM)", t0);
          t0 = System.nanoTime();
          f = Ops.quickGelu(f);
          t.add("quick_gelu", t0);
          t0 = System.nanoTime();
          f = layer.mlp.fc2.forward(f);
          t.add("fc2 (GEMM)", t0);
          t0 = System.nanoTime();
          h = Ops.add(h, f);
          t.add("residual adds", t0);
        }
        t0 = System.nanoTime();
        tower.postLayernorm.forward(h.select(1, 0)).get(0, 0);
        t.add("post_layernorm", t0);
      }
      t.add(OpTimes.TOTAL, whole);
    }
    double total = t.totalMs(repeats);
    System.out.printf("%s batch %d threads %d: %.1f ms per forward (mean of %d)%n", model, batch, threads, total, repeats);
    t.print(repeats, 40, 1);
  }
}
