package dev.fovea.vit.clip;

import dev.fovea.nn.Module;
import dev.fovea.nn.StateDict;
import dev.fovea.nn.StateDictException;
import dev.fovea.tensor.ErrorList;
import dev.fovea.tensor.TensorException;
import dev.fovea.tensor.WeightSource;
import dev.fovea.tensor.archive.ArchiveReader;
import dev.fovea.tensor.io.JsonConfig;
import dev.fovea.tensor.io.Resident;
import dev.fovea.tensor.io.WeightFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A model as it sits on disk: an HF folder ({@code config.json}, {@code model.safetensors} or
 * {@code pytorch_model.bin} (sharded or not), tokenizer and preprocessor files) or a fovea archive
 * (the same side files embedded). Holds the open {@link WeightSource}: weights are mapped, so
 * close it only when the model is no longer used.
 */
public final class ClipCheckpoint implements AutoCloseable {
  private final Path path;
  private final WeightSource weights;
  /** {@link #weights} as {@link Resident} holds them for modules (a copying view or the same source). */
  private final WeightSource held;

  private ClipCheckpoint(Path path, WeightSource weights) {
    this.path = path;
    this.weights = weights;
    this.held = Resident.of(weights);
  }

  /**
   * Opens a model folder or a fovea archive. Any other single file (a GGUF, a lone safetensors or
   * .bin file) is refused: its config and tokenizer files are not beside it in a form CLIP reads.
   */
  public static ClipCheckpoint open(Path path) {
    return open(path, "CLIP", "config.json, weights, vocab.json, merges.txt");
  }

  /**
   * As {@link #open(Path)} for another model kept in the same kind of folder or archive (DINO's ViT);
   * {@code kind} and {@code files} word the error for a single weights file.
   */
  public static ClipCheckpoint open(Path path, String kind, String files) {
    if (!Files.exists(path)) {
      throw new ClipConfigException(path + ": no such model folder or archive");
    }
    WeightSource weights = WeightFiles.open(path);
    if (!Files.isDirectory(path) && !(weights instanceof ArchiveReader)) {
      Object arch = weights.metadata().get("general.architecture");
      weights.close();
      throw new ClipConfigException(path + ": a single weights file" + (arch == null ? "" : " (general.architecture " + arch + ")")
          + ", not a " + kind + " checkpoint: " + kind + " loads from an HF model folder (" + files + ") or a fovea archive of one");
    }
    return new ClipCheckpoint(path, weights);
  }

  public Path path() {
    return path;
  }

  public WeightSource weights() {
    return weights;
  }

  public boolean isArchive() {
    return weights instanceof ArchiveReader;
  }

  /** The side file's bytes (from the folder or embedded in the archive), or null if absent. */
  public byte[] file(String name) {
    if (weights instanceof ArchiveReader a) {
      return a.file(name);
    }
    Path f = path.resolve(name);
    if (!Files.isRegularFile(f)) {
      return null;
    }
    try {
      return Files.readAllBytes(f);
    } catch (IOException e) {
      throw new ClipConfigException(f + ": cannot read: " + e.getMessage(), e);
    }
  }

  /** How errors name a side file: the folder's file, or "archive!name". */
  public String describe(String name) {
    return isArchive() ? path + "!" + name : path.resolve(name).toString();
  }

  /** The config.json bytes; throws naming where it was looked for. */
  public byte[] configJson() {
    Path f = path.resolve("config.json");
    byte[] b = !isArchive() && Files.isRegularFile(f) ? JsonConfig.readBytes(f, ClipConfigException::new) : file("config.json");
    if (b == null) {
      throw new ClipConfigException(describe("config.json") + ": missing (a CLIP model needs its config.json)");
    }
    return b;
  }

  /**
   * Refuses a config that disagrees with the weights ({@link ClipConfig#disagreements} and the
   * towers' own), before any module is built: one line per disagreement, the first few listed.
   */
  void refuse(List<String> disagreements) {
    if (!disagreements.isEmpty()) {
      throw new ClipConfigException("the sizes in " + describe("config.json") + " disagree with the weights in " + weights.origin()
          + ErrorList.lines(disagreements));
    }
  }

  /**
   * Strict load of {@code module} (prefix "" = names as in the file). Known buffers ({@code
   * position_ids}) are ignored. A shape mismatch is reported against the config that sized the
   * module, since that is the usual cause.
   */
  void load(Module module, String prefix) {
    try {
      module.load(held, prefix, name -> name.endsWith("position_ids"));
    } catch (StateDictException e) {
      boolean shapes = !e.problems(StateDict.Kind.SHAPE).isEmpty();
      throw new ClipConfigException((shapes ? "the sizes in " + describe("config.json") + " disagree with the weights in " + weights.origin() + ": "
          : "") + e.getMessage(), e);
    }
  }

  /**
   * Strict load of a model that is not CLIP but sits in the same kind of folder or archive (DINO's
   * ViT): source names {@code prefix + path}; names {@code ignore} accepts are never "unexpected".
   * Problems come back as one {@link StateDictException} listing every tensor at fault.
   */
  public void loadOther(Module module, String prefix, java.util.function.Predicate<String> ignore) {
    module.load(held, prefix, ignore);
  }

  @Override
  public void close() {
    try {
      held.close(); // closes weights too
    } catch (TensorException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new TensorException("closing " + path + ": " + e.getMessage(), e);
    }
  }
}
