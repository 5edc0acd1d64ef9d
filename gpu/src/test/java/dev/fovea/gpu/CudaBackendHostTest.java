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
