package dev.fovea.nn.train;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Checkpoint folders of a training run, written atomically. A run's folder holds:
 *
 * <pre>
 * run/
 *   loss.csv                   the loss curve, one line per step (Trainer)
 *   checkpoint-200/            a complete checkpoint (the Hugging Face Trainer's naming)
 *     model.safetensors        the whole module's state dict under its checkpoint names
 *     optimizer.safetensors    AdamW: exp_avg.NAME, exp_avg_sq.NAME, step.NAME
 *     trainer_state.json       step, seed, data position, settings
 *     loss.csv                 the curve up to this step
 *     ...                      files the caller adds (config.json, tokenizer files)
 * </pre>
 *
 * A checkpoint is written into {@code .checkpoint-N.tmp-PID}, every file is forced to disk, and the
 * folder is renamed to {@code checkpoint-N} in one step: a run killed at any moment leaves either the
 * previous checkpoints or the new complete one, never a partial {@code checkpoint-N}.
 */
public final class Checkpoints {
  private Checkpoints() {}

  static final String MODEL = "model.safetensors";
  static final String OPTIMIZER = "optimizer.safetensors";
  static final String STATE = "trainer_state.json";
  static final String LOSS_CURVE = "loss.csv";
  private static final Pattern NAME = Pattern.compile("checkpoint-(\\d+)");
  private static final Pattern TEMP = Pattern.compile("\\.checkpoint-\\d+\\.(tmp|old)-(\\d+)");

  /** Writes the files of one checkpoint into a folder. */
  @FunctionalInterface
  interface Contents {
    void write(Path folder) throws IOException;
  }

  /** The folder name of step {@code step}'s checkpoint. */
  public static String folderName(long step) {
    return "checkpoint-" + step;
  }

  /** The complete checkpoints of {@code runDir} (folders named checkpoint-N holding trainer_state.json), oldest first. */
  public static List<Path> list(Path runDir) {
    List<Path> out = new ArrayList<>();
    if (!Files.isDirectory(runDir)) {
      return out;
    }
    try (Stream<Path> s = Files.list(runDir)) {
      s.filter(p -> NAME.matcher(p.getFileName().toString()).matches() && Files.isRegularFile(p.resolve(STATE))).forEach(out::add);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + runDir, e);
    }
    out.sort(Comparator.comparingLong(Checkpoints::step));
    return out;
  }

  /** The newest complete checkpoint of {@code runDir}, if any. */
  public static Optional<Path> latest(Path runDir) {
    List<Path> all = list(runDir);
    return all.isEmpty() ? Optional.empty() : Optional.of(all.get(all.size() - 1));
  }

  /** The step of a folder named checkpoint-N. */
  public static long step(Path folder) {
    Matcher m = NAME.matcher(folder.getFileName().toString());
    if (!m.matches()) {
      throw new TrainException(folder + " is not a checkpoint folder (checkpoint-N)");
    }
    return Long.parseLong(m.group(1));
  }

  /** Writes checkpoint {@code step} of {@code runDir} atomically and returns its folder. */
  static Path write(Path runDir, long step, Contents contents) {
    Path dst = runDir.resolve(folderName(step));
    long pid = ProcessHandle.current().pid();
    Path tmp = runDir.resolve("." + folderName(step) + ".tmp-" + pid);
    boolean renamed = false;
    try {
      Files.createDirectories(runDir);
      removeStale(runDir);
      deleteTree(tmp);
      Files.createDirectory(tmp);
      contents.write(tmp);
      try (Stream<Path> files = Files.list(tmp)) {
        for (Path f : files.toList()) {
          force(f);
        }
      }
      force(tmp);
      if (Files.exists(dst)) {
        // a rerun from an earlier checkpoint writes this step again: swap, then drop the old one
        Path old = runDir.resolve("." + folderName(step) + ".old-" + pid);
        deleteTree(old);
        Files.move(dst, old, StandardCopyOption.ATOMIC_MOVE);
        Files.move(tmp, dst, StandardCopyOption.ATOMIC_MOVE);
        deleteTree(old);
      } else {
        Files.move(tmp, dst, StandardCopyOption.ATOMIC_MOVE);
      }
      renamed = true;
      force(runDir);
      return dst;
    } catch (IOException e) {
      throw new TrainException("cannot write checkpoint " + dst + ": " + e, e);
    } finally {
      if (!renamed) {
        try {
          deleteTree(tmp);
        } catch (IOException ignored) {
          // the original error matters more; a later write removes the folder
        }
      }
    }
  }

  /** Deletes all but the newest {@code keep} checkpoints of {@code runDir} (keep &lt;= 0 keeps all). */
  static void prune(Path runDir, int keep) {
    if (keep <= 0) {
      return;
    }
    List<Path> all = list(runDir);
    for (int i = 0; i < all.size() - keep; i++) {
      try {
        deleteTree(all.get(i));
      } catch (IOException e) {
        throw new TrainException("cannot delete old checkpoint " + all.get(i) + ": " + e, e);
      }
    }
  }

  /** Temporary folders of runs whose process is gone (killed while writing). */
  private static void removeStale(Path runDir) throws IOException {
    try (Stream<Path> s = Files.list(runDir)) {
      for (Path p : s.toList()) {
        Matcher m = TEMP.matcher(p.getFileName().toString());
        if (m.matches() && ProcessHandle.of(Long.parseLong(m.group(2))).isEmpty()) {
          deleteTree(p);
        }
      }
    }
  }

  /**
   * Writes {@code bytes} to {@code file} through a temporary file and a rename (for files outside a
   * checkpoint, such as loss.csv, and other small outputs that must never be seen half-written).
   */
  public static void writeAtomically(Path file, byte[] bytes) {
    Path tmp = file.resolveSibling("." + file.getFileName() + ".tmp-" + ProcessHandle.current().pid());
    try {
      Files.write(tmp, bytes);
      force(tmp);
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      throw new TrainException("cannot write " + file + ": " + e, e);
    }
  }

  /** Forces a file, or a folder's entries, to disk (some file systems cannot sync a folder: the rename stays atomic there). */
  private static void force(Path p) throws IOException {
    try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
      ch.force(true);
    } catch (IOException | UnsupportedOperationException e) {
      if (!Files.isDirectory(p)) {
        throw e;
      }
    }
  }

  static void deleteTree(Path p) throws IOException {
    if (!Files.exists(p)) {
      return;
    }
    try (Stream<Path> s = Files.walk(p)) {
      for (Path q : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(q);
      }
    }
  }
}
