package dev.fovea.gpu;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Where the kernels come from. The build compiles {@code kernels.cu} to PTX with nvcc where the
 * toolkit exists (gpu/build-ptx.sh) and ships it as {@code kernels.ptx} beside the source; without
 * it (a build machine with no nvcc), or when the driver rejects that PTX, NVRTC compiles the
 * shipped source at run time for the device's own architecture.
 *
 * <p>{@code -Dfovea.cuda.kernels=auto} (default) tries the PTX, then NVRTC; {@code ptx} or
 * {@code nvrtc} forces one (an error says why it could not be used).
 */
final class KernelSource {
  static final String SOURCE = "/dev/fovea/gpu/kernels.cu";
  static final String PTX = "/dev/fovea/gpu/kernels.ptx";

  enum Kind {
    PTX,
    NVRTC
  }

  private KernelSource() {}

  /** The sources to try, in order, for a mode and whether a prebuilt PTX was shipped. */
  static List<Kind> order(String mode, boolean ptxShipped) {
    return switch (mode) {
      case "auto" -> ptxShipped ? List.of(Kind.PTX, Kind.NVRTC) : List.of(Kind.NVRTC);
      case "ptx" -> {
        if (!ptxShipped) {
          throw new CudaUnavailableException(
              "no CUDA kernels: -Dfovea.cuda.kernels=ptx but this build has no " + PTX + " (it was built without nvcc); use auto or nvrtc", null);
        }
        yield List.of(Kind.PTX);
      }
      case "nvrtc" -> List.of(Kind.NVRTC);
      default -> throw new IllegalArgumentException("-Dfovea.cuda.kernels must be auto, ptx or nvrtc, got '" + mode + "'");
    };
  }

  static String mode() {
    return System.getProperty("fovea.cuda.kernels", "auto");
  }

  static boolean ptxShipped() {
    return KernelSource.class.getResource(PTX) != null;
  }

  static String read(String resource) {
    try (InputStream in = KernelSource.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new CudaUnavailableException("no CUDA kernels: resource " + resource + " is missing from the fovea-gpu jar", null);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new CudaUnavailableException("no CUDA kernels: cannot read " + resource + ": " + e.getMessage(), e);
    }
  }

  /** NVRTC options for a device of compute capability major.minor. */
  static List<String> nvrtcOptions(int major, int minor) {
    return List.of("--gpu-architecture=compute_" + major + minor, "--std=c++17", "-default-device");
  }
}
