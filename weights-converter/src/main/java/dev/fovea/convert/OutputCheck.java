package dev.fovea.convert;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Refuses an output that a conversion must not write, before anything is read or written:
 *
 * <ol>
 *   <li>a folder;
 *   <li>one of the inputs (the same file: {@link Files#isSameFile}, so links and other spellings
 *       of the path count);
 *   <li>a file in an input's folder (the folder itself, or a file input's folder) under a name
 *       a loader reads there ({@link #loaderReads}): writing it would change or destroy what the
 *       input is;
 *   <li>an existing file, unless {@code force};
 *   <li>an existing read-only file, even with {@code force}.
 * </ol>
 *
 * Each refusal is a {@link ConvertException} that names the output and says why.
 */
public final class OutputCheck {
  /** Weight file suffixes the readers and {@link Inputs}' detectors look for in a folder. */
  static final List<String> WEIGHT_SUFFIXES = List.of(".safetensors", ".gguf", ".bin", ".index.json", ".pt", ".pth");

  /** Tokenizer files the tokenizer loader reads from a model folder beyond {@link SideFiles#NAMES}. */
  static final Set<String> TOKENIZER_FILES = Set.of("tokenizer.gguf.json", "bpe_simple_vocab_16e6.txt.gz");

  private OutputCheck() {}

  /** Checks {@code output} against {@code inputs} (null entries are skipped). */
  public static void check(Path output, Collection<Path> inputs, boolean force) throws IOException {
    Path out = output.toAbsolutePath().normalize();
    if (Files.isDirectory(out)) {
      throw new ConvertException(output + ": is a folder; -o names the archive file to write (e.g. " + output.resolve("model.fovea") + ")");
    }
    boolean exists = Files.exists(out);
    Path outDir = out.getParent();
    for (Path input : inputs.stream().filter(Objects::nonNull).toList()) {
      if (!Files.exists(input)) {
        continue; // opening it reports that
      }
      if (exists && Files.isSameFile(out, input)) {
        throw new ConvertException(output + ": is the input " + input + "; converting would replace it (write the archive under another name)");
      }
      boolean folderInput = Files.isDirectory(input);
      Path folder = folderInput ? input : input.toAbsolutePath().getParent();
      String name = out.getFileName().toString();
      if (folder != null && outDir != null && Files.isDirectory(outDir) && Files.isSameFile(outDir, folder)
          && (loaderReads(name) || folderInput && name.endsWith(".fovea"))) {
        throw new ConvertException(output + ": is inside the input folder " + folder + " under a name its loaders read (" + name
            + "); writing it would change or destroy the input: write the archive outside that folder"
            + (folderInput ? "" : " or under a name such as " + stem(input) + ".fovea"));
      }
    }
    if (exists && !force) {
      throw new ConvertException(output + ": already exists; pass --force to replace it");
    }
    if (exists && readOnly(out)) {
      throw new ConvertException(output + ": is read-only; --force does not replace a read-only file (make it writable or remove it first)");
    }
  }

  /**
   * Whether a file of this name in a model folder is read when the folder (or a weight file in it)
   * is opened: the side files ({@link SideFiles#NAMES}, {@link #TOKENIZER_FILES}) and weight files
   * ({@link #WEIGHT_SUFFIXES}).
   */
  public static boolean loaderReads(String name) {
    return SideFiles.NAMES.contains(name) || TOKENIZER_FILES.contains(name) || WEIGHT_SUFFIXES.stream().anyMatch(name::endsWith);
  }

  /** No write permission for this process, or (POSIX) no write bit at all, which root would otherwise ignore. */
  static boolean readOnly(Path p) throws IOException {
    if (!Files.isWritable(p)) {
      return true;
    }
    PosixFileAttributeView v = Files.getFileAttributeView(p, PosixFileAttributeView.class);
    if (v == null) {
      return false;
    }
    Set<PosixFilePermission> perms = v.readAttributes().permissions();
    return !perms.contains(PosixFilePermission.OWNER_WRITE) && !perms.contains(PosixFilePermission.GROUP_WRITE) && !perms.contains(PosixFilePermission.OTHERS_WRITE);
  }

  private static String stem(Path input) {
    String n = input.getFileName().toString();
    int dot = n.indexOf('.');
    return dot > 0 ? n.substring(0, dot) : n;
  }
}
