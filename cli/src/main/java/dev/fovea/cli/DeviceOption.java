package dev.fovea.cli;

import dev.fovea.tensor.Backend;
import dev.fovea.tensor.Backends;
import dev.fovea.tensor.Device;
import dev.fovea.tensor.TensorException;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code --device cpu|cuda[:N]} for the commands that run a model. The CPU is the default. A
 * cuda device is opened through {@link Backends} (module gpu, found by ServiceLoader): on a machine
 * without a driver or GPU that fails with the backend's "no CUDA device" message, before any model
 * is loaded.
 *
 * <p>The model classes (vit, llm) do not yet place their weights on a device, so after the backend
 * opens, a model run on cuda stops with a message saying so: the CUDA backend itself is checked op
 * by op and on LLaMA/ViT-shaped blocks by bench/gpu-check.sh (issue 25).
 */
final class DeviceOption {
  @Spec(Spec.Target.MIXEE)
  CommandSpec spec;

  @Option(names = "--device", paramLabel = "DEVICE", defaultValue = "cpu",
      description = "where the model runs: cpu (default) or cuda[:N] (needs an NVIDIA GPU, its driver and the CUDA 13 libraries)")
  String device;

  /** The chosen device, its backend opened; errors name what is missing. */
  Device require() {
    Device d;
    try {
      d = Device.parse(device);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--device: " + e.getMessage());
    }
    if (d.equals(Device.CPU)) {
      return d;
    }
    if (!d.kind().equals("cuda")) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--device must be cpu or cuda[:N], got '" + device + "'");
    }
    Backend b = Backends.of(d); // "no CUDA device: ..." where none opens
    throw new TensorException("--device " + d + ": the CUDA backend opened (" + b.device()
        + "), but the model classes do not place their weights on a device yet; run with --device cpu (issue 25)");
  }
}
