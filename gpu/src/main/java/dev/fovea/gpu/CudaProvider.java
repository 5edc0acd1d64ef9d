package dev.fovea.gpu;

import dev.fovea.tensor.Backend;
import dev.fovea.tensor.Backends;
import dev.fovea.tensor.Device;

/**
 * Registers the CUDA backend for devices of kind "cuda" (META-INF/services). This class refers to
 * no JavaCPP type: ServiceLoader can instantiate it on any machine, and the CUDA libraries are
 * loaded only when {@link #create} is called, i.e. when someone asks for a cuda device. Every way
 * that can fail there, a missing library included, becomes a {@link CudaUnavailableException}
 * whose message starts with "no CUDA device".
 */
public final class CudaProvider implements Backends.BackendProvider {
  @Override
  public String kind() {
    return "cuda";
  }

  @Override
  public Backend create(Device device) {
    try {
      return CudaBackend.open(device);
    } catch (CudaUnavailableException e) {
      throw e;
    } catch (LinkageError e) {
      throw new CudaUnavailableException(
          "no CUDA device: the CUDA bindings could not be linked (" + e.getClass().getSimpleName() + ": " + e.getMessage()
              + "); is the org.bytedeco:cuda linux-x86_64 jar on the class path and are the CUDA 13 libraries on LD_LIBRARY_PATH?", e);
    } catch (RuntimeException e) {
      throw new CudaUnavailableException("no CUDA device: the CUDA backend failed to start: " + e.getMessage(), e);
    }
  }
}
