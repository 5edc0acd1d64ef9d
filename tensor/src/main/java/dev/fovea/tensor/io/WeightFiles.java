package dev.fovea.tensor.io;

import dev.fovea.tensor.TensorException;
import dev.fovea.tensor.WeightSource;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * Opens any checkpoint we read, by name or content: a sharded index ({@code *.index.json}), a
 * safetensors file, a fovea archive, a GGUF file, a PyTorch zip ({@code .bin}/{@code .pt}/{@code .pth}), or a
 * directory holding one of {@code model.safetensors.index.json}, {@code model.safetensors},
 * {@code pytorch_model.bin.index.json}, {@code pytorch_model.bin} or a single {@code .gguf}.
 */
public final class WeightFiles {
  private WeightFiles() {}

  public static WeightSource open(Path path) {
    if (Files.isDirectory(path)) {
      for (String n : List.of("model.safetensors.index.json", "model.safetensors", "pytorch_model.bin.index.json", "pytorch_model.bin")) {
        if (Files.isRegularFile(path.resolve(n))) {
          return open(path.resolve(n));
        }
      }
      try (Stream<Path> s = Files.list(path)) {
        List<Path> ggufs = s.filter(p -> p.getFileName().toString().endsWith(".gguf")).toList();
        if (ggufs.size() == 1) {
          return open(ggufs.getFirst());
        }
      } catch (IOException e) {
        throw new TensorException("cannot list " + path + ": " + e, e);
      }
      throw new TensorException(
          path + ": no checkpoint found (looked for model.safetensors[.index.json], pytorch_model.bin[.index.json], one *.gguf)");
    }
    String name = path.getFileName().toString();
    if (name.endsWith(".index.json")) {
      Function<Path, WeightSource> shard = name.contains(".bin") ? TorchBinSource::open : SafetensorsSource::open;
      return ShardedSource.open(path, shard);
    }
    return switch (sniff(path)) {
      case "FOVEA" -> dev.fovea.tensor.archive.ArchiveReader.open(path);
      case "GGUF" -> GgufSource.open(path);
      case "PK" -> TorchBinSource.open(path);
      default -> SafetensorsSource.open(path);
    };
  }

  private static String sniff(Path path) {
    try (InputStream in = Files.newInputStream(path)) {
      byte[] b = in.readNBytes(4);
      if (b.length == 4 && b[0] == 'G' && b[1] == 'G' && b[2] == 'U' && b[3] == 'F') {
        return "GGUF";
      }
      if (b.length == 4 && b[0] == 'F' && b[1] == 'O' && b[2] == 'V' && b[3] == 'E') {
        return "FOVEA";
      }
      if (b.length >= 2 && b[0] == 'P' && b[1] == 'K') {
        return "PK";
      }
      return "";
    } catch (IOException e) {
      throw new TensorException("cannot read " + path + ": " + e, e);
    }
  }
}
