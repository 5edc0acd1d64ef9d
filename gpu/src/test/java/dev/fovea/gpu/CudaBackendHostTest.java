package dev.fovea.gpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fovea.tensor.Backends;
import dev.fovea.tensor.DType;
import dev.fovea.tensor.Device;
import dev.fovea.tensor.Ops;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.TensorException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The backend's host side over a fake driver whose "device" memory is host memory: allocation in
 * scopes, transfers both ways, and what each op launches (kernels are recorded, not run).
 */
class CudaBackendHostTest {
  static final Device DEV = new Device("cudafake", 0);
  FakeDriver fake;
  CudaBackend backend;

  @BeforeEach
  void register() {
    fake = new FakeDriver();
    backend = new CudaBackend(DEV, fake);
    Backends.register(backend);
  }

  @Test
  void tensorsRoundTripThroughTheDeviceAndScopesFreeTheirDeviceMemory() {
    try (Scope s = Scope.open()) {
      Tensor host = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
      Tensor dev = host.to(DEV);
      assertEquals(DEV, dev.device());
      assertEquals(DeviceMemory.SLAB, backend.memory().liveBytes());
      assertArrayEquals(host.toFloatArray(), dev.toFloatArray()); // copied back to the host
      assertEquals(5f, dev.get(1, 1));
      // host code that reaches for the device memory gets an error naming the device, not a crash
      TensorException e = assertThrows(TensorException.class, () -> dev.storage().segment());
      assertTrue(e.getMessage().contains("lives on cudafake:0"), e.getMessage());
      Tensor ids = Tensor.ofLongs(new long[] {9, 1L << 40}, 2).to(DEV);
      assertArrayEquals(new long[] {9, 1L << 40}, ids.toLongArray());
    }
    assertEquals(0, backend.memory().liveBytes());
    assertEquals(DeviceMemory.SLAB, backend.memory().cachedBytes());
  }

  @Test
  void opsAllocateTheirOutputsOnTheInputsDevice() {
    try (Scope s = Scope.open()) {
      Tensor x = Tensor.randn(new java.util.Random(1), 3, 5).to(DEV);
      Tensor y = Ops.add(x, Ops.scalar(1f)); // the CPU scalar is copied over
      assertEquals(DEV, y.device());
      FakeDriver.Launched l = fake.launches.getLast();
      assertEquals("fv_binary", l.kernel());
      assertEquals(0, ByteBuffer.wrap(l.args().value(1)).order(ByteOrder.LITTLE_ENDIAN).getInt()); // BinaryOp.ADD
      // the scalar operand is broadcast: its merged stride is 0
      ByteBuffer st = ByteBuffer.wrap(l.args().value(0)).order(ByteOrder.LITTLE_ENDIAN);
      assertEquals(1, st.getInt(0));
      assertEquals(15, st.getLong(8));
      assertEquals(0, st.getLong(8 + 6 * 8 + 2 * 6 * 8)); // stride[2][0]
      assertEquals(DEV, Ops.softmax(x, -1).device());
      assertEquals("fv_softmax", fake.launches.getLast().kernel());
    }
  }

  @Test
  void linearRunsCublasWithTheTransposedWeightAndGemvForHalfWeights() {
    try (Scope s = Scope.open()) {
      Tensor x = Tensor.randn(new java.util.Random(2), 2, 4).to(DEV);
      Tensor w = Tensor.randn(new java.util.Random(3), 6, 4).to(DEV);
      Ops.linear(x, w, null);
      GemmPlan g = fake.gemms.getLast().plan();
      assertTrue(g.transW());
      assertFalse(g.transA());
      assertEquals(4, g.ldw());
      assertEquals(6, g.n());
      assertEquals(2, g.m());
      assertEquals(0f, fake.gemms.getLast().beta());
      Tensor wb = Tensor.randn(new java.util.Random(3), 6, 64).to(DType.BF16).to(DEV);
      Ops.linear(Tensor.randn(new java.util.Random(4), 3, 64).to(DEV), wb, null);
      FakeDriver.Launched l = fake.launches.getLast();
      assertEquals("fv_gemv", l.kernel());
      assertEquals(DType.BF16.ordinal(), ByteBuffer.wrap(l.args().value(4)).order(ByteOrder.LITTLE_ENDIAN).getInt());
      assertEquals(64, ByteBuffer.wrap(l.args().value(5)).order(ByteOrder.LITTLE_ENDIAN).getLong()); // weight row stride
    }
  }

  /**
   * BF16/F16 weights with more rows than the GEMV takes: the activations are rounded to the
   * weight's type (fv_to_half) and one half-precision cublasGemmStridedBatchedEx multiplies them
   * with the weight in place (its transposed view: op T, ld = k), F32 output. The fake driver runs
   * the GEMM by cuBLAS's column-major definition, so the numbers are checked too: (1) against the
   * CPU's linear of the rounded activations (the products of two half values are exact in F32, so
   * only summation order differs: 1e-5 relative), and (2) against the CPU's linear of the F32
   * activations within the bound the backend states: |gpu - cpu| <= u * sum_l |x_l w_l| + 1e-5 *
   * sum_l |x_l w_l| per element, u = 2^-8 (BF16) or 2^-11 (F16). The CPU path is the one the
   * reference tests check against PyTorch.
   */
  @Test
  void halfWeightsWithManyRowsRunAHalfPrecisionGemmOnRoundedActivations() {
    for (DType t : new DType[] {DType.BF16, DType.F16}) {
      try (Scope s = Scope.open()) {
        int m = 20;
        int k = 48;
        int n = 12;
        Tensor x = Tensor.randn(new java.util.Random(11), m, k);
        Tensor w = Tensor.randn(new java.util.Random(12), n, k).to(t);
        int launchesBefore = fake.launches.size();
        float[] got = Ops.linear(x.to(DEV), w.to(DEV), null).toFloatArray();
        FakeDriver.Gemm g = fake.gemms.getLast();
        assertEquals(t, g.inputs(), "the GEMM's input type");
        GemmPlan p = g.plan();
        assertEquals(new GemmPlan(m, n, k, 1, true, k, p.strideW(), false, k, p.strideA(), n, p.strideC()), p);
        List<String> kernels = fake.launches.subList(launchesBefore, fake.launches.size()).stream().map(FakeDriver.Launched::kernel).toList();
        assertEquals(List.of("fv_to_half"), kernels, "only the activations are converted; the weight is used in place");
        FakeDriver.Launched conv = fake.launches.getLast();
        assertEquals(t.ordinal(), ByteBuffer.wrap(conv.args().value(2)).order(ByteOrder.LITTLE_ENDIAN).getInt());
        assertEquals((long) m * k, ByteBuffer.wrap(conv.args().value(3)).order(ByteOrder.LITTLE_ENDIAN).getLong());
        assertEquals(ByteBuffer.wrap(conv.args().value(1)).order(ByteOrder.LITTLE_ENDIAN).getLong(), g.a(), "the GEMM reads the rounded copy");

        float[] rounded = Ops.linear(x.to(t).to(DType.F32), w, null).toFloatArray();
        float[] exact = Ops.linear(x, w, null).toFloatArray();
        float[] xs = x.toFloatArray();
        float[] ws = w.to(DType.F32).toFloatArray();
        double u = t == DType.BF16 ? 0x1p-8 : 0x1p-11;
        boolean beyondRounding = false;
        for (int i = 0; i < m; i++) {
          for (int j = 0; j < n; j++) {
            double abs = 0;
            for (int l = 0; l < k; l++) {
              abs += Math.abs((double) xs[i * k + l] * ws[j * k + l]);
            }
            int e = i * n + j;
            assertEquals(rounded[e], got[e], 1e-5 * abs, t + " vs the CPU on rounded activations, element " + e);
            assertEquals(exact[e], got[e], (u + 1e-5) * abs, t + " vs the CPU on F32 activations, element " + e);
            beyondRounding |= Math.abs(exact[e] - got[e]) > 1e-5 * abs;
          }
        }
        assertTrue(beyondRounding, t + ": the activations were really rounded (else the test would not tell the paths apart)");
      }
    }
  }

  @Test
  void quantizedWeightsWithManyRowsAndTheF32SwitchWidenTheWeight() {
    try (Scope s = Scope.open()) {
      Tensor x = Tensor.randn(new java.util.Random(13), 16, 64).to(DEV);
      Ops.linear(x, Tensor.randn(new java.util.Random(14), 8, 64).to(DType.Q8_0).to(DEV), null);
      assertEquals(DType.F32, fake.gemms.getLast().inputs());
      assertEquals("fv_copy", fake.launches.getLast().kernel()); // the weight dequantized to F32 scratch
    }
    System.setProperty("fovea.cuda.gemm", "f32");
    try (Scope s = Scope.open()) {
      CudaBackend widening = new CudaBackend(DEV, fake);
      Backends.register(widening);
      Ops.linear(Tensor.randn(new java.util.Random(15), 16, 64).to(DEV), Tensor.randn(new java.util.Random(16), 8, 64).to(DType.BF16).to(DEV), null);
      assertEquals(DType.F32, fake.gemms.getLast().inputs());
    } finally {
      System.clearProperty("fovea.cuda.gemm");
    }
    System.setProperty("fovea.cuda.gemm", "fp8");
    try {
      assertThrows(TensorException.class, () -> new CudaBackend(DEV, fake));
    } finally {
      System.clearProperty("fovea.cuda.gemm");
    }
  }

  @Test
  void weightsOnTheHostAreNeverCopiedImplicitly() {
    try (Scope s = Scope.open()) {
      Tensor x = Tensor.randn(new java.util.Random(5), 2, 4).to(DEV);
      TensorException e = assertThrows(TensorException.class, () -> Ops.linear(x, Tensor.randn(new java.util.Random(6), 3, 4), null));
      assertTrue(e.getMessage().contains("weight") && e.getMessage().contains("cpu"), e.getMessage());
    }
  }

  @Test
  void badInputsAreTypedErrors() {
    try (Scope s = Scope.open()) {
      Tensor big = Tensor.randn(new java.util.Random(7), 1, 1, 2, 512).to(DEV);
      assertThrows(TensorException.class, () -> Ops.scaledDotProductAttention(big, big, big, null, false, 1f));
      Tensor table = Tensor.randn(new java.util.Random(8), 4, 8).to(DEV);
      TensorException e = assertThrows(TensorException.class, () -> Ops.embedding(table, Tensor.ofInts(new int[] {4}, 1)));
      assertTrue(e.getMessage().contains("outside the vocabulary"), e.getMessage());
      assertThrows(TensorException.class, () -> Tensor.randn(new java.util.Random(9), 2, 32).to(DEV).to(DType.Q8_0));
    }
  }
}
