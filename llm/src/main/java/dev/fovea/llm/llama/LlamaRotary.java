package dev.fovea.llm.llama;

import dev.fovea.nn.RotaryEmbedding;
import dev.fovea.tensor.Device;
import dev.fovea.tensor.Ops;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.ShapeException;
import dev.fovea.tensor.Tensor;

/**
 * LLaMA's rotary embedding in Hugging Face's half-split layout (spec 3.3; transformers
 * {@code LlamaRotaryEmbedding} and {@code modeling_rope_utils.py}), with "linear" and "llama3"
 * frequency scaling. cos/sin tables [P, D/2] are built once for positions 0..P-1 (grown on demand,
 * kept in the global scope) and gathered by position, so a decode step computes no cos/sin.
 *
 * <p>inv_freq_i = 1 / theta^(2i/D) and the angle p * inv_freq_i are rounded to float32 as HF does
 * (spec 3.3: a double-precision angle drifts from the reference by up to ~2e-4 rad at p ~ 4000).
 */
final class LlamaRotary implements RotaryEmbedding {
  private final float[] invFreq; // [D/2]
  private final int maxPositions;
  private volatile Tensor[] tables; // cos, sin [P, D/2] in the global scope
  private volatile Tensor[] deviceTables; // the same on a device (a model moved there), or null

  LlamaRotary(LlamaConfig c) {
    this.invFreq = invFreq(c);
    this.maxPositions = c.maxPositionEmbeddings();
  }

  static float[] invFreq(LlamaConfig c) {
    int d = c.headDim();
    float[] f = new float[d / 2];
    LlamaConfig.RopeScaling s = c.ropeScaling();
    for (int i = 0; i < d / 2; i++) {
      double inv = (float) (1.0 / Math.pow(c.ropeTheta(), (2.0 * i) / d));
      if (s != null && s.type().equals("linear")) {
        inv = inv / s.factor();
      } else if (s != null && s.type().equals("llama3")) {
        // transformers _compute_llama3_parameters: long wavelengths divided by factor, short ones
        // kept, the band between interpolated smoothly
        double lowWavelen = s.originalMaxPositionEmbeddings() / s.lowFreqFactor();
        double highWavelen = s.originalMaxPositionEmbeddings() / s.highFreqFactor();
        double wavelen = 2 * Math.PI / inv;
        double scaled = wavelen > lowWavelen ? inv / s.factor() : inv;
        if (!(wavelen < highWavelen) && !(wavelen > lowWavelen)) {
          double smooth = (s.originalMaxPositionEmbeddings() / wavelen - s.lowFreqFactor()) / (s.highFreqFactor() - s.lowFreqFactor());
          scaled = (1 - smooth) * scaled / s.factor() + smooth * scaled;
        }
        inv = scaled;
      }
      f[i] = (float) inv;
    }
    return f;
  }

  @Override
  public Tensor apply(Tensor x, Tensor positions) {
    int t = x.size(-2);
    if (positions.size(-1) != t || positions.dim() > 2) {
      throw ShapeException.of("rotary", "x [B, H, T, D] needs positions [T] or [B, T]", x.shape(), positions.shape());
    }
    Tensor[] cs = tables(positions, x.device());
    return Ops.rope(x, cs[0], cs[1], false);
  }

  /** cos and sin gathered at {@code positions}: [T, D/2], or [B, 1, T, D/2] for positions [B, T]. */
  Tensor[] tables(Tensor positions) {
    return tables(positions, Device.CPU);
  }

  /** As {@link #tables(Tensor)}, gathered from copies of the tables on {@code device} (made once, kept in the global scope). */
  Tensor[] tables(Tensor positions, Device device) {
    long[] ps = positions.toLongArray();
    long max = 0;
    boolean consecutive = positions.dim() == 1 || positions.size(0) == 1;
    for (int i = 0; i < ps.length; i++) {
      long p = ps[i];
      if (p < 0) {
        throw new LlamaException("rotary: negative position " + p);
      }
      max = Math.max(max, p);
      consecutive &= i == 0 || p == ps[i - 1] + 1;
    }
    Tensor[] tab = ensure((int) max + 1);
    if (!device.equals(Device.CPU)) {
      tab = onDevice(tab, device);
    }
    Tensor cos;
    Tensor sin;
    if (consecutive && ps.length > 0) {
      // one run of positions (every decode step, every unpadded prefill): rows of the tables, no gather
      cos = tab[0].narrow(0, (int) ps[0], ps.length);
      sin = tab[1].narrow(0, (int) ps[0], ps.length);
    } else {
      cos = Ops.embedding(tab[0], positions);
      sin = Ops.embedding(tab[1], positions);
    }
    if (positions.dim() == 2) {
      int b = positions.size(0);
      int t = positions.size(1);
      cos = cos.reshape(b, 1, t, invFreq.length);
      sin = sin.reshape(b, 1, t, invFreq.length);
    }
    return new Tensor[] {cos, sin};
  }

  /** The tables {@code tab} on {@code device}: the kept copy while it matches them, else a new one. */
  private synchronized Tensor[] onDevice(Tensor[] tab, Device device) {
    Tensor[] d = deviceTables;
    if (d == null || !d[0].device().equals(device) || d[0].size(0) != tab[0].size(0)) {
      d = new Tensor[] {tab[0].copyTo(Scope.global(), device), tab[1].copyTo(Scope.global(), device)};
      deviceTables = d;
    }
    return d;
  }

  private synchronized Tensor[] ensure(int n) {
    Tensor[] tab = tables;
    if (tab != null && tab[0].size(0) >= n) {
      return tab;
    }
    int p = Math.max(n, Math.min(Math.max(maxPositions, 1), 4096));
    p = Math.max(p, tab == null ? 0 : 2 * tab[0].size(0));
    int half = invFreq.length;
    float[] c = new float[p * half];
    float[] s = new float[p * half];
    for (int pos = 0; pos < p; pos++) {
      for (int i = 0; i < half; i++) {
        float a = pos * invFreq[i]; // float32 angle, as HF
        c[pos * half + i] = (float) Math.cos(a);
        s[pos * half + i] = (float) Math.sin(a);
      }
    }
    Tensor ct;
    Tensor st;
    // built in the global scope whatever scope the first caller has open
    ct = Tensor.of(c, p, half).copyTo(Scope.global());
    st = Tensor.of(s, p, half).copyTo(Scope.global());
    tables = new Tensor[] {ct, st};
    return tables;
  }
}
