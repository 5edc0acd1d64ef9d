package dev.fovea.gpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fovea.tensor.Backends;
import dev.fovea.tensor.DType;
import dev.fovea.tensor.Device;
import dev.fovea.tensor.ExecutionContext;
import dev.fovea.tensor.Ops;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * One stream per execution context (a decoding state's) over the fake driver, whose streams are
 * ordered queues with vector clocks: where work goes, that a block freed on one stream is handed
 * to another only after its events, that a fork's stream starts after the parent's copy, that the
 * default stream follows a context it left, and that the one-stream path records no event at all.
 */
class StreamsHostTest {
  static final Device DEV = new Device("cudastreams", 0);
  FakeDriver fake;
  CudaBackend backend;

  @BeforeEach
  void register() {
    fake = new FakeDriver();
    backend = new CudaBackend(DEV, fake);
    Backends.register(backend);
  }

  private static long stream(ExecutionContext c) {
    return ((CudaBackend.Stream) c).handle;
  }

  @Test
  void theCpuHasNoContextAndOneStreamRecordsNoEvent() {
    assertNull(Backends.of(Device.CPU).openContext());
    try (Scope s = Scope.open()) {
      Tensor x = Tensor.randn(new Random(1), 4, 8).to(DEV);
      Tensor y = Ops.matmul(Ops.add(x, x), x.transpose(0, 1));
      y.toFloatArray();
    }
    try (Scope s = Scope.open()) {
      Tensor.randn(new Random(2), 4, 8).to(DEV).toFloatArray(); // reuses the cached slab
    }
    assertEquals(0, fake.eventsRecorded);
    assertEquals(0, fake.waits);
    assertTrue(fake.log.stream().allMatch(op -> op.stream() == CudaDriver.DEFAULT_STREAM));
  }

  @Test
  void workGoesToTheCurrentContextsStreamAndCublasFollowsItCallByCall() {
    try (ExecutionContext a = backend.openContext(); ExecutionContext b = backend.openContext(); Scope s = Scope.open()) {
      assertNotEquals(stream(a), stream(b));
      Tensor x = Tensor.randn(new Random(1), 16, 16).to(DEV);
      try (var on = a.enter()) {
        Ops.matmul(x, x);
        Ops.exp(x);
      }
      try (var on = b.enter()) {
        Ops.matmul(x, x);
      }
      Ops.matmul(x, x);
      List<Long> gemmStreams = fake.gemms.stream().map(FakeDriver.Gemm::stream).toList();
      assertEquals(List.of(stream(a), stream(b), CudaDriver.DEFAULT_STREAM), gemmStreams);
      assertTrue(fake.launches.stream().anyMatch(l -> l.kernel().equals("fv_unary") && l.stream() == stream(a)));
      assertNull(ExecutionContext.current(), "leaving restores the previous context");
    }
  }

  @Test
  void aContextStartsAfterTheDefaultStreamAndTheDefaultStreamFollowsAContextItLeft() {
    try (ExecutionContext a = backend.openContext(); Scope s = Scope.open()) {
      Tensor x = Tensor.randn(new Random(1), 8, 8).to(DEV); // the upload: default stream
      FakeDriver.Op upload = fake.last(CudaDriver.DEFAULT_STREAM);
      assertFalse(fake.orderedAfter(stream(a), upload));
      Tensor y;
      try (var on = a.enter()) {
        assertTrue(fake.orderedAfter(stream(a), upload), "the context's work waits for the input's upload");
        y = Ops.exp(x);
      }
      FakeDriver.Op exp = fake.last(stream(a));
      assertEquals("fv_unary", exp.what());
      assertFalse(fake.orderedAfter(CudaDriver.DEFAULT_STREAM, exp), "joined lazily, at the default stream's next work");
      float[] got = y.toFloatArray(); // on the default stream
      assertTrue(fake.orderedAfter(CudaDriver.DEFAULT_STREAM, exp), "the read-back runs after the context's kernel");
      assertEquals(64, got.length);
    }
  }

  @Test
  void aBlockFreedOnOneStreamIsHandedToAnotherOnlyAfterItsEvents() {
    try (ExecutionContext a = backend.openContext(); ExecutionContext b = backend.openContext()) {
      long addressA;
      FakeDriver.Op lastOnA;
      try (var on = a.enter(); Scope s = Scope.open()) {
        Tensor t = Tensor.empty(DEV, DType.F32, 1024);
        Ops.exp(t);
        addressA = t.storage().address();
        lastOnA = fake.last(stream(a));
      }
      assertNotNull(backend.memory().fenceOf(addressA), "the slab given back while two streams are open carries a fence");
      assertFalse(fake.orderedAfter(stream(b), lastOnA));
      try (var on = b.enter(); Scope s = Scope.open()) {
        Tensor u = Tensor.empty(DEV, DType.F32, 1024); // the same slab, from the cache
        assertEquals(addressA, u.storage().address());
        assertTrue(fake.orderedAfter(stream(b), lastOnA), "B waits for A's kernels on the block before it is B's");
        int waits = fake.waits;
        Tensor.empty(DEV, DType.F32, 1024); // same slab again: already ordered, no second wait
        assertEquals(waits, fake.waits);
      }
      // a third stream allocating from a slab another stream took waits too (its earlier life)
      try (ExecutionContext c = backend.openContext(); Scope s = Scope.open()) {
        Tensor v;
        try (var on = a.enter()) {
          v = Tensor.empty(DEV, DType.F32, 16);
        }
        try (var on = c.enter()) {
          Tensor w = Tensor.empty(DEV, DType.F32, 16);
          assertEquals(v.storage().address() + DeviceMemory.ALIGN, w.storage().address()); // the slab A took
          assertTrue(fake.orderedAfter(stream(c), lastOnA));
        }
      }
    }
  }

  @Test
  void forkOrderingTheChildsStreamStartsAfterTheParentsCopy() {
    try (ExecutionContext parent = backend.openContext(); Scope s = Scope.open()) {
      Tensor cache;
      try (var on = parent.enter()) {
        cache = Ops.exp(Tensor.randn(new Random(3), 4, 32).to(DEV));
      }
      Tensor copy = Tensor.empty(DEV, DType.F32, 4, 32);
      try (var on = parent.enter()) {
        Ops.copyInto(cache, copy); // as DecodeState.fork copies its caches: on the parent's stream
      }
      FakeDriver.Op copied = fake.last(stream(parent));
      assertEquals("copy on device", copied.what());
      try (ExecutionContext child = backend.openContext()) {
        assertFalse(fake.orderedAfter(stream(child), copied));
        child.after(parent);
        assertTrue(fake.orderedAfter(stream(child), copied));
        try (var on = child.enter()) {
          assertArrayEquals(cache.toFloatArray(), Ops.add(copy, Tensor.scalar(0f)).toFloatArray());
        }
      }
    }
  }

  @Test
  void closingAContextSynchronizesAndDestroysItsStream() {
    ExecutionContext a = backend.openContext();
    long h = stream(a);
    assertEquals(1, backend.memory().openStreams());
    a.close();
    a.close();
    assertEquals(0, backend.memory().openStreams());
    assertFalse(fake.clocks.containsKey(h));
    assertEquals(0, fake.waits, "a context that did nothing orders nothing");
  }

  @Test
  void everyEventIsDestroyedOnceNoBlockOrStreamNeedsIt() {
    try (ExecutionContext a = backend.openContext(); ExecutionContext b = backend.openContext()) {
      for (ExecutionContext c : List.of(a, b, a)) {
        try (var on = c.enter(); Scope s = Scope.open()) {
          Ops.exp(Tensor.empty(DEV, DType.F32, 1024));
        }
      }
    }
    assertTrue(fake.eventsRecorded > 0);
    assertFalse(fake.events.isEmpty(), "the cached slab's fence and the pending joins are alive");
    try (Scope s = Scope.open()) {
      Tensor.empty(DEV, DType.F32, 4); // default-stream work: joins the contexts left; the slab's old fence goes when it is given back
    }
    assertEquals(java.util.Set.of(), fake.events.keySet(), "no event leaks");
    backend.memory().trim();
    assertTrue(fake.events.isEmpty());
  }
}
