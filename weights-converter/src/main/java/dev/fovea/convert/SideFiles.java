package dev.fovea.convert;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The non-weight files of a model folder that an archive carries: the model config, the tokenizer
 * in whichever published form the model uses (a LLaMA's {@code tokenizer.json}, {@code
 * tokenizer.model} or llama2.c {@code tokenizer.bin}; CLIP's {@code vocab.json} and {@code
 * merges.txt}; BERT's {@code vocab.txt}; InstructBLIP's Q-Former vocabulary {@code
 * qformer_tokenizer/vocab.txt}), and the image preprocessing config.
 */
public final class SideFiles {
  /** File names collected from a model folder, in this order, when present. */
  public static final List<String> NAMES = List.of(
      "config.json",
      "generation_config.json",
      "preprocessor_config.json",
      "processor_config.json",
      "tokenizer.json",
      "tokenizer_config.json",
      "tokenizer.model",
      "tokenizer.bin",
      "special_tokens_map.json",
      "added_tokens.json",
      "vocab.json",
      "merges.txt",
      "vocab.txt",
      "chat_template.json",
      "chat_template.jinja",
      "qformer_tokenizer/vocab.txt");

  /** Larger side files are refused (they live in the header, which is read as one buffer). */
  public static final long MAX_BYTES = 256L << 20;

  private SideFiles() {}

  /** Reads the known side files present in {@code dir} (none if {@code dir} is null). */
  public static Map<String, byte[]> collect(Path dir) throws IOException {
    Map<String, byte[]> out = new LinkedHashMap<>();
    if (dir == null || !Files.isDirectory(dir)) {
      return out;
    }
    for (String n : NAMES) {
      Path p = dir.resolve(n);
      if (Files.isRegularFile(p)) {
        long size = Files.size(p);
        if (size > MAX_BYTES) {
          throw new ConvertException(p + ": side file of " + size + " bytes exceeds the " + MAX_BYTES + "-byte limit");
        }
        out.put(n, Files.readAllBytes(p));
      }
    }
    return out;
  }
}
