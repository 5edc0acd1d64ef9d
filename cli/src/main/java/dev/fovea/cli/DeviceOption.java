package dev.fovea.cli;

import dev.fovea.nn.Module;
import dev.fovea.tensor.Backends;
import dev.fovea.tensor.Device;
import dev.fovea.tensor.TensorException;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code --device cpu|cuda[:N]} for the commands that run a model. The CPU is the default. A
 * cuda device is opened through {@link Backends} (module gpu, found by ServiceLoader): on a machine
 * without a driver or GPU that fails with the backend's "no CUDA device" message, before any model
 * is loaded. Once loaded, {@link #place} copies the model's weights to the device once ({@link
 * Module#to}); decoding states, activations and gradients then live there, and only each step's
 * logits (and what hooks and maps read) come back to the host.
 *
 * <p>Runs on a device: LLaMA ({@code ask --prompt}), LLaVA-1.5 and InstructBLIP ({@code ask
 * --question}, {@code vicrop}, {@code demo}, {@code eval vqa}, {@code eval pope|mme|chair|amber}),
 * AGLA's BLIP beside them ({@code --decode agla}: moved to the answering model's device), CLIP and
 * DINO ({@code classify}, {@code eval zeroshot}, ABS included). With {@code -Dfovea.device.test=true} the test device of tensor's test-jar
 * ({@code --device test[:N]}) is accepted too, so the commands' tests run the device path without a GPU.
 */
final class DeviceOption {
  @Spec(Spec.Target.MIXEE)
  CommandSpec spec;

  @Option(names = "--device", paramLabel = "DEVICE", defaultValue = "cpu",
      description = "where the model runs: cpu (default) or cuda[:N] (needs an NVIDIA GPU, its driver and the CUDA 13 libraries)")
  String device;

  private Device chosen = Device.CPU;

  /** The chosen device, its backend opened; errors name what is missing. */
  Device require() {
    Device d;
    try {
      d = Device.parse(device);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--device: " + e.getMessage());
    }
    if (d.equals(Device.CPU)) {
      chosen = d;
      return d;
    }
    boolean test = d.kind().equals("test") && Boolean.getBoolean("fovea.device.test");
    if (!d.kind().equals("cuda") && !test) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--device must be cpu or cuda[:N], got '" + device + "'");
    }
    Backends.of(d); // "no CUDA device: ..." where none opens
    chosen = d;
    return d;
  }

  /** The device {@link #require} chose (the CPU before it ran). */
  Device chosen() {
    return chosen;
  }

  /**
   * Pages the loaded model's mapped weights in ({@link LlavaBundle#warm}, with its progress bar),
   * then, for a device other than the CPU, copies every weight there once.
   */
  void place(Module model, boolean progress, PrintWriter err) {
    LlavaBundle.warm(model, progress, err);
    if (!chosen.equals(Device.CPU)) {
      model.to(chosen);
    }
  }

  /** Fails for a device other than the CPU: {@code what} does not run on one yet. */
  void requireCpu(String what) {
    if (!chosen.equals(Device.CPU)) {
      throw new TensorException("--device " + chosen + ": " + what + " does not run on a device yet (issue 25: LLaMA and LLaVA-1.5 do);"
          + " run it with --device cpu");
    }
  }
}
