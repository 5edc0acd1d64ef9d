package dev.fovea.convert;

import dev.fovea.tensor.WeightSource;
import dev.fovea.tensor.archive.ArchiveFormat;
import dev.fovea.tensor.io.WeightFiles;
import dev.fovea.tensor.archive.ArchiveReader;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Opens any supported weights input (a file, or a model folder) as a {@link ModelInput}. Formats
 * are tried in the order of {@link #STANDARD}; each is one {@link Format} line: a detector by magic
 * bytes (files) or file names (folders) and the reader that opens it.
 *
 * <p>safetensors (single or sharded), GGUF and PyTorch checkpoints are opened by
 * {@link WeightFiles#open}; a format added here is one detector and one opener.
 */
public final class Inputs {
  /** The fovea archive: magic "FOVEA\0" (a folder qualifies when it holds exactly one *.fovea). */
  public static final Format ARCHIVE = new Format("fovea archive", p -> p.directory() ? p.children().stream().filter(c -> c.endsWith(ArchiveFormat.EXTENSION)).count() == 1 : ArchiveFormat.hasMagic(p.head()), Inputs::openArchive);

  /** safetensors: uint64 LE header length, then a JSON object starting with '{'; a shard index {@code *.safetensors.index.json}; folders with *.safetensors or the shard index. */
  public static final Format SAFETENSORS = new Format("safetensors", p -> p.directory() ? p.hasChildEndingWith(".safetensors") || p.children().contains("model.safetensors.index.json") : p.nameEndsWith(".safetensors.index.json") || p.head().length >= 9 && p.head()[8] == '{' && p.head()[7] == 0, WeightFiles::open);

  /** GGUF v2/v3: magic "GGUF". */
  public static final Format GGUF = new Format("GGUF", p -> p.directory() ? p.hasChildEndingWith(".gguf") : p.startsWith("GGUF"), WeightFiles::open);

  /** PyTorch zip checkpoints (torch.save since 1.6): a ZIP local file header "PK\3\4"; a shard index {@code *.bin.index.json}; folders with *.bin. */
  public static final Format PYTORCH = new Format("PyTorch .bin", p -> p.directory() ? p.hasChildEndingWith(".bin") || p.children().contains("pytorch_model.bin.index.json") : p.nameEndsWith(".bin.index.json") || p.startsWith("PK\3\4"), WeightFiles::open);

  /** Tried in this order; the first detector that matches decides. */
  public static final List<Format> STANDARD = List.of(ARCHIVE, SAFETENSORS, GGUF, PYTORCH);

  private static final Inputs DEFAULT = new Inputs(STANDARD);

  private final List<Format> formats;

  public Inputs(List<Format> formats) {
    this.formats = List.copyOf(formats);
  }

  /** The standard formats with {@code extra} tried first (tests, plugins). */
  public static Inputs with(Format... extra) {
    List<Format> all = new ArrayList<>(List.of(extra));
    all.addAll(STANDARD);
    return new Inputs(all);
  }

  public List<Format> formats() {
    return formats;
  }

  /** Opens {@code path} with the standard formats. */
  public static ModelInput open(Path path) throws IOException {
    return DEFAULT.openInput(path);
  }

  /** The format of {@code path}; throws a {@link ConvertException} naming the path if none matches. */
  public Format detect(Path path) throws IOException {
    Format.Probe probe = probe(path);
    for (Format f : formats) {
      if (f.detects().test(probe)) {
        return f;
      }
    }
    String known = formats.stream().map(Format::name).collect(Collectors.joining(", "));
    String what = probe.directory()
        ? "folder holds no weights file (" + String.join(", ", probe.children().stream().limit(12).toList()) + (probe.children().size() > 12 ? ", ..." : "") + ")"
        : "unrecognised weights format (first bytes " + hex(probe.head()) + ")";
    throw new ConvertException(path + ": " + what + "; fovea reads: " + known);
  }

  /** Opens {@code path}: its tensors, plus side files (from the archive itself, or from the model folder). */
  public ModelInput openInput(Path path) throws IOException {
    Format f = detect(path);
    if (!f.readable()) {
      throw new ConvertException(path + ": is a " + f.name() + " checkpoint, but this build has no " + f.name() + " reader yet (convert it with a build that has one, or supply a fovea archive)");
    }
    WeightSource ws = f.opener().open(path);
    try {
      Map<String, byte[]> files;
      if (ws instanceof ArchiveReader ar) {
        files = ar.files();
      } else {
        files = SideFiles.collect(Files.isDirectory(path) ? path : path.toAbsolutePath().getParent());
      }
      return new ModelInput(path, f, ws, files);
    } catch (IOException | RuntimeException e) {
      ws.close();
      throw e;
    }
  }

  private static WeightSource openArchive(Path path) throws IOException {
    if (Files.isDirectory(path)) {
      try (Stream<Path> s = Files.list(path)) {
        path = s.filter(p -> p.getFileName().toString().endsWith(ArchiveFormat.EXTENSION)).findFirst().orElseThrow();
      }
    }
    return ArchiveReader.open(path);
  }

  private static Format.Probe probe(Path path) throws IOException {
    if (!Files.exists(path)) {
      throw new ConvertException(path + ": no such file or folder", new NoSuchFileException(path.toString()));
    }
    if (Files.isDirectory(path)) {
      try (Stream<Path> s = Files.list(path)) {
        List<String> names = s.map(p -> p.getFileName().toString()).sorted().toList();
        return new Format.Probe(path, true, new byte[0], names);
      }
    }
    try (InputStream in = Files.newInputStream(path)) {
      return new Format.Probe(path, false, in.readNBytes(16), List.of());
    }
  }

  private static String hex(byte[] b) {
    if (b.length == 0) {
      return "none: empty file";
    }
    StringBuilder sb = new StringBuilder();
    for (byte x : b) {
      sb.append(String.format("%02x", x & 0xFF));
    }
    return sb.toString();
  }
}
