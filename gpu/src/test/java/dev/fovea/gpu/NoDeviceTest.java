package dev.fovea.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fovea.tensor.Backend;
import dev.fovea.tensor.Backends;
import dev.fovea.tensor.Device;
import dev.fovea.tensor.TensorException;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;

/**
 * Asking for cuda anywhere gives either a working backend or a TensorException whose message
 * says "no CUDA device" and why: never a LinkageError or UnsatisfiedLinkError.
 */
class NoDeviceTest {
  @Test
  void theProviderIsFoundThroughServiceLoader() {
    boolean found = false;
    for (Backends.BackendProvider p : ServiceLoader.load(Backends.BackendProvider.class)) {
      found |= p instanceof CudaProvider && p.kind().equals("cuda");
    }
    assertTrue(found, "META-INF/services must register dev.fovea.gpu.CudaProvider");
  }

  @Test
  void cudaEitherOpensOrSaysWhyNot() {
    try {
      Backend b = Backends.of(new Device("cuda", 0));
      assertEquals(new Device("cuda", 0), b.device()); // a machine with a GPU
    } catch (TensorException e) {
      assertTrue(e.getMessage().contains("no CUDA device"), e.getMessage());
    }
  }

  @Test
  void aDeviceIndexBeyondTheMachinesIsAClearError() {
    try {
      Backends.of(new Device("cuda", 99));
      throw new AssertionError("cuda:99 opened");
    } catch (TensorException e) {
      assertTrue(e.getMessage().contains("no CUDA device"), e.getMessage());
    }
  }
}
