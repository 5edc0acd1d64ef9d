package dev.fovea.gpu;

import dev.fovea.tensor.Backends;
import dev.fovea.tensor.DType;
import dev.fovea.tensor.Device;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import java.util.Random;

/**
 * Throughput at real model sizes on the device, printed as lines that bench/gpu-check.sh sets
 * beside PyTorch's (bench/gpu_torch_bench.py, the same shapes and steps):
 *
 * <ul>
 *   <li>TinyLlama-1.1B decode: tokens per second of single-token steps after a 128-token prefill
 *       (KV cache on the device), F32 weights and BF16 weights;
 *   <li>TinyLlama-1.1B prefill of 512 tokens, F32;
 *   <li>CLIP ViT-L/14-336 encode of one image (577 tokens), F32.
 * </ul>
 *
 * Random weights, one layer's set shared by every layer (the bytes read per layer are the same;
 * making 22 distinct sets would cost the check minutes of random numbers).
 */
final class Bench {
  private Bench() {}

  static void run(Device d, int steps) {
    CudaBackend b = (CudaBackend) Backends.of(d);
    try (Scope outer = Scope.open()) {
      for (DType dtype : new DType[] {DType.F32, DType.BF16}) {
        TinyModels.Llama m = TinyModels.Llama.random(TinyModels.LlamaShape.TINYLLAMA, 1, d, dtype, true);
        TinyModels.KvCache cache = TinyModels.KvCache.empty(m.shape(), 128 + steps + 8, d);
        int[] prompt = tokens(128, m.shape().vocab());
        try (Scope s = Scope.open()) {
          TinyModels.llamaForward(m, prompt, 0, cache);
        }
        b.synchronize();
        int pos = 128;
        for (int i = 0; i < 4; i++, pos++) { // warm-up
          try (Scope s = Scope.open()) {
            TinyModels.llamaForward(m, new int[] {i}, pos, cache);
          }
        }
        b.synchronize();
        long t0 = System.nanoTime();
        for (int i = 0; i < steps; i++, pos++) {
          try (Scope s = Scope.open()) {
            Tensor logits = TinyModels.llamaForward(m, new int[] {i % 1000}, pos, cache);
            logits.toFloatArray(); // the host needs each step's logits to sample
          }
        }
        double sec = (System.nanoTime() - t0) / 1e9;
        System.out.printf("bench  fovea  tinyllama decode %-4s %8.1f tokens/s (%d steps after a 128-token prefill)%n", dtype, steps / sec, steps);
        if (dtype == DType.F32) {
          int[] long512 = tokens(512, m.shape().vocab());
          double best = Double.MAX_VALUE;
          for (int r = 0; r < 3; r++) {
            try (Scope s = Scope.open()) {
              long p0 = System.nanoTime();
              TinyModels.llamaForward(m, long512, 0, null);
              b.synchronize();
              best = Math.min(best, (System.nanoTime() - p0) / 1e9);
            }
          }
          System.out.printf("bench  fovea  tinyllama prefill F32  %8.1f tokens/s (512 tokens, best of 3)%n", 512 / best);
        }
      }
      TinyModels.Vit vit = TinyModels.Vit.random(TinyModels.VitShape.VIT_L14_336, 2, d, true);
      Tensor pixels = Tensor.randn(new Random(3), 1, 3, 336, 336).to(d);
      double best = Double.MAX_VALUE;
      for (int r = 0; r < 4; r++) {
        try (Scope s = Scope.open()) {
          long p0 = System.nanoTime();
          TinyModels.vitForward(vit, pixels);
          b.synchronize();
          best = Math.min(best, (System.nanoTime() - p0) / 1e9);
        }
      }
      System.out.printf("bench  fovea  vit-l14-336 encode F32 %8.1f ms/image (577 tokens, best of 4)%n", best * 1e3);
    }
  }

  private static int[] tokens(int n, int vocab) {
    Random rng = new Random(n);
    int[] ids = new int[n];
    for (int i = 0; i < n; i++) {
      ids[i] = rng.nextInt(vocab);
    }
    return ids;
  }
}
