package dev.fovea.gpu;

/**
 * Grid and block sizes of one launch. The rules, per kind of kernel:
 *
 * <ul>
 *   <li>Elementwise (grid-stride loops): 256 threads; ceil(n / 256) blocks, at most 32 per
 *       multiprocessor (the loop covers the rest).
 *   <li>Row kernels (one block per row: softmax, norms, reductions): the row length rounded up to
 *       a warp (32 threads), at most 1024; one block per row up to 65535 blocks, the kernel loops over the rest.
 *   <li>GEMV (one warp per weight row): 256 threads = 8 warps; ceil(n / 8) blocks, at most 64 per multiprocessor.
 *   <li>Attention: 128 threads; grid (Tq, H, B).
 * </ul>
 */
record Launch(int gridX, int gridY, int gridZ, int blockX, int sharedBytes) {
  static final int ELEMENTWISE_THREADS = 256;
  static final int MAX_ROW_THREADS = 1024;
  static final int MAX_ROW_BLOCKS = 65535;
  static final int GEMV_THREADS = 256;
  static final int ATTENTION_THREADS = 128;

  Launch {
    if (gridX < 1 || gridY < 1 || gridZ < 1 || blockX < 1 || blockX > 1024) {
      throw new IllegalArgumentException("bad launch: grid " + gridX + "x" + gridY + "x" + gridZ + ", block " + blockX);
    }
    if (gridY > 65535 || gridZ > 65535) {
      throw new dev.fovea.tensor.TensorException("launch: grid " + gridX + "x" + gridY + "x" + gridZ + " exceeds CUDA's 65535 limit in y or z");
    }
  }

  static Launch elementwise(long n, int multiprocessors) {
    long blocks = Math.ceilDiv(Math.max(n, 1), ELEMENTWISE_THREADS);
    long cap = 32L * Math.max(1, multiprocessors);
    return new Launch((int) Math.min(blocks, cap), 1, 1, ELEMENTWISE_THREADS, 0);
  }

  static Launch rows(long rows, long n) {
    int threads = (int) Math.min(MAX_ROW_THREADS, Math.max(32, (n + 31) / 32 * 32));
    return new Launch((int) Math.clamp(rows, 1, MAX_ROW_BLOCKS), 1, 1, threads, 0);
  }

  static Launch gemv(long n, int multiprocessors) {
    long warpsPerBlock = GEMV_THREADS / 32;
    long blocks = Math.ceilDiv(Math.max(n, 1), warpsPerBlock);
    return new Launch((int) Math.min(blocks, 64L * Math.max(1, multiprocessors)), 1, 1, GEMV_THREADS, 0);
  }

  static Launch attention(int tq, int heads, int batch) {
    return new Launch(tq, heads, batch, ATTENTION_THREADS, 0);
  }
}
