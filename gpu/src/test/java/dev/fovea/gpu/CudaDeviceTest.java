package dev.fovea.gpu;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.fovea.tensor.Backends;
import dev.fovea.tensor.Device;
import dev.fovea.tensor.TensorException;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Every case of {@link GpuCheck} (each op, backward, tiny model blocks) on the CPU and on cuda:0,
 * within its bound. Where no device opens, each case reports "skipped: no CUDA device" and why.
 */
class CudaDeviceTest {
  static final Device CUDA = new Device("cuda", 0);

  static String unavailable() {
    try {
      Backends.of(CUDA);
      return null;
    } catch (TensorException e) {
      return e.getMessage();
    }
  }

  @TestFactory
  Stream<DynamicTest> everyOpMatchesTheCpu() {
    String why = unavailable();
    List<GpuCheck.Case> cases = GpuCheck.cases();
    return cases.stream().map(c -> DynamicTest.dynamicTest(c.name(), () -> {
      assumeTrue(why == null, () -> "skipped: no CUDA device (" + why + ")");
      GpuCheck.Outcome o = GpuCheck.compare(c, CUDA);
      Assertions.assertTrue(o.ok(), o.toString());
    }));
  }
}
