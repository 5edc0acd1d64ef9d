package dev.fovea.tensor;

import dev.fovea.tensor.cpu.CpuBackend;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Finds the backend of a device: the CPU backend always, others through {@link ServiceLoader}
 * ({@link BackendProvider}). Asking for a device whose backend cannot load is an error that says
 * why (STYLE point 13), never a silent fallback.
 */
public final class Backends {
  private static final Map<String, Backend> LOADED = new ConcurrentHashMap<>();

  private Backends() {}

  public static Backend of(Device device) {
    if (device.equals(Device.CPU)) {
      return CpuBackend.INSTANCE;
    }
    return LOADED.computeIfAbsent(device.toString(), key -> load(device));
  }

  /**
   * Makes {@code backend} the backend of its device, in place of whatever ServiceLoader would find
   * (tests that run a backend over a fake driver; embedders that build their own). Not for the CPU.
   */
  public static void register(Backend backend) {
    if (backend.device().equals(Device.CPU)) {
      throw new TensorException("the CPU backend cannot be replaced");
    }
    LOADED.put(backend.device().toString(), backend);
  }

  private static Backend load(Device device) {
    StringBuilder why = new StringBuilder();
    for (BackendProvider p : ServiceLoader.load(BackendProvider.class)) {
      if (p.kind().equals(device.kind())) {
        try {
          return p.create(device);
        } catch (RuntimeException | LinkageError e) {
          why.append(p.getClass().getName()).append(": ").append(e.getMessage()).append("; ");
        }
      }
    }
    throw new TensorException(
        "no backend for device '" + device + "'"
            + (why.isEmpty() ? ": no provider of that kind is on the class path (is the fovea-gpu module included?)" : ": " + why));
  }

  /** Service interface for optional backends (for example CUDA in module gpu). */
  public interface BackendProvider {
    String kind();

    /** Creates the backend or throws with the reason it cannot (no driver, no device...). */
    Backend create(Device device);
  }
}
