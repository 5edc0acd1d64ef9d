package dev.fovea.tensor.testing;

import dev.fovea.tensor.Backend;
import dev.fovea.tensor.Backends;
import dev.fovea.tensor.Device;

/** ServiceLoader entry of the {@link TestBackend} ("test" devices); only on test class paths. */
public final class TestDeviceProvider implements Backends.BackendProvider {
  @Override
  public String kind() {
    return TestBackend.KIND;
  }

  @Override
  public Backend create(Device device) {
    return new TestBackend(device);
  }
}
