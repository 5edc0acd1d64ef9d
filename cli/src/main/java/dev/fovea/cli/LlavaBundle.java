package dev.fovea.cli;

import dev.fovea.convert.LlavaGguf;
import dev.fovea.convert.ModelInput;
import dev.fovea.llm.llava.LlavaException;
import dev.fovea.llm.llava.LlavaForConditionalGeneration;
import dev.fovea.llm.llava.LlavaImages;
import dev.fovea.llm.llava.LlavaOriginal;
import dev.fovea.llm.llava.LlavaPrompt;
import dev.fovea.llm.tokenizer.TokenizerLoader;
import dev.fovea.nn.Module;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.archive.ArchiveReader;
import dev.fovea.vit.image.PreprocessorConfig;
import dev.fovea.vit.tokenizer.TextTokenizer;
import dev.fovea.vit.tokenizer.TokenizerFileException;
import java.io.IOException;
import java.io.PrintWriter;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import me.tongfei.progressbar.ProgressBar;

/**
 * A LLaVA-1.5 model with what travels beside it: the tokenizer and the image pipeline. Opens a
 * llava-hf folder, a weight file in one, an original haotian-liu folder with its CLIP tower, a fovea
 * archive, or a GGUF model + mmproj pair.
 */
record LlavaBundle(LlavaForConditionalGeneration model, TextTokenizer tokenizer, byte[] configJson, byte[] preprocessorJson)
    implements AutoCloseable {

  static LlavaBundle open(Path model, Path mmproj) throws IOException {
    return open(model, mmproj, null);
  }

  /**
   * @param visionTower an original haotian-liu folder's CLIP tower (null: found from its
   *     mm_vision_tower; see {@link LlavaOriginal})
   */
  static LlavaBundle open(Path model, Path mmproj, Path visionTower) throws IOException {
    boolean original = mmproj == null && LlavaOriginal.isOriginalFolder(model);
    if (visionTower != null && !original) {
      throw new LlavaException("--vision-tower goes with an original LLaVA folder (config.json with mm_vision_tower); " + model + " is not one");
    }
    if (original) {
      LlavaOriginal.Opened o = LlavaOriginal.open(model, visionTower);
      LlavaForConditionalGeneration lm;
      try {
        lm = LlavaForConditionalGeneration.load(o.weights(), o.configJson(), o.origin());
      } catch (RuntimeException e) {
        o.weights().close();
        throw e;
      }
      try {
        return new LlavaBundle(lm, tokenizer(model), o.configJson(), o.preprocessorJson());
      } catch (IOException | RuntimeException e) {
        lm.close();
        throw e;
      }
    }
    if (mmproj != null) {
      ModelInput in = LlavaGguf.open(model, mmproj);
      byte[] config = in.files().get("config.json");
      byte[] preprocessor = in.files().get("preprocessor_config.json");
      LlavaForConditionalGeneration lm = LlavaForConditionalGeneration.load(in.weights(), config, model + " + " + mmproj);
      return new LlavaBundle(lm, TokenizerLoader.fromGguf(model), config, preprocessor);
    }
    LlavaForConditionalGeneration lm = LlavaForConditionalGeneration.load(model);
    try {
      TextTokenizer tokenizer = tokenizer(model);
      byte[] config;
      byte[] preprocessor;
      if (model.getFileName().toString().endsWith(".fovea")) {
        try (ArchiveReader a = ArchiveReader.open(model)) {
          config = a.fileNames().contains("config.json") ? a.file("config.json") : null;
          preprocessor = a.fileNames().contains("preprocessor_config.json") ? a.file("preprocessor_config.json") : null;
        }
      } else {
        Path dir = Files.isDirectory(model) ? model : model.toAbsolutePath().getParent();
        config = Files.readAllBytes(dir.resolve("config.json"));
        Path p = dir.resolve("preprocessor_config.json");
        preprocessor = Files.isRegularFile(p) ? Files.readAllBytes(p) : null;
      }
      return new LlavaBundle(lm, tokenizer, config, preprocessor);
    } catch (IOException | RuntimeException e) {
      lm.close();
      throw e;
    }
  }

  /** Whether the checkpoint came in the original haotian-liu layout (its evaluations use the vicuna_v1 template). */
  boolean original() {
    return LlavaOriginal.isSynthesized(configJson);
  }

  /** The conversation template: {@code name}, or when null vicuna_v1 for original checkpoints and llava_hf otherwise. */
  LlavaPrompt.Template template(String name) {
    return name != null ? LlavaPrompt.Template.named(name) : original() ? LlavaPrompt.Template.VICUNA_V1 : LlavaPrompt.Template.LLAVA_HF;
  }

  /** The checkpoint's image pipeline, or forced padding / centre crop. */
  PreprocessorConfig preprocessing(LlavaImages.Mode mode) {
    return LlavaImages.preprocessorConfig(model.config, preprocessorJson, configJson, mode);
  }

  @Override
  public void close() {
    model.close();
  }

  static volatile long touched;

  /** Pages the mapped weights in with a progress bar, so the first token is not the one that pays for the disk. */
  static void warm(Module lm, boolean progress, PrintWriter err) {
    long total = 0;
    for (var p : lm.namedParameters().values()) {
      total += p.get().dtype().byteSize(p.get().numel());
    }
    ProgressBar bar = !progress ? null : Progress.bar("load", total, Progress.Unit.bytes(total), err);
    try {
      long done = 0;
      long sink = 0;
      for (var p : lm.namedParameters().values()) {
        Tensor t = p.get();
        long bytes = t.dtype().byteSize(t.numel());
        MemorySegment seg = t.storage().segment();
        for (long off = 0; off < Math.min(bytes, seg.byteSize()); off += 4096) {
          sink += seg.get(ValueLayout.JAVA_BYTE, off);
        }
        done += bytes;
        if (bar != null) {
          bar.stepTo(done);
        }
      }
      touched = sink; // keeps the reads from being optimized away
    } finally {
      if (bar != null) {
        bar.close();
      }
    }
  }

  /** The side files of an archive that hold a LLaMA tokenizer ({@link TokenizerLoader#load}'s folder forms). */
  private static final Set<String> TOKENIZER_FILES = Set.of(TokenizerLoader.GGUF_JSON, "tokenizer.json", "tokenizer.model", "tokenizer.bin");

  /** The tokenizer beside the weights: GGUF metadata, the folder's files, or the archive's side files. */
  static TextTokenizer tokenizer(Path model) throws IOException {
    String name = model.getFileName().toString();
    if (Files.isDirectory(model)) {
      return TokenizerLoader.load(model);
    }
    if (name.endsWith(".gguf")) {
      return TokenizerLoader.fromGguf(model);
    }
    if (name.endsWith(".fovea")) {
      // The loader reads folders: the archive's tokenizer files go to a temporary one, removed
      // once they are parsed.
      try (ArchiveReader a = ArchiveReader.open(model)) {
        List<String> files = a.fileNames().stream().filter(f -> f.startsWith("tokenizer") || f.equals("special_tokens_map.json") || f.equals("added_tokens.json")).toList();
        if (files.stream().noneMatch(TOKENIZER_FILES::contains)) {
          throw new TokenizerFileException(model, "the archive carries no tokenizer (its files: " + a.fileNames()
              + "); convert a model folder that has tokenizer.json, tokenizer.model or tokenizer.bin, or a GGUF with its tokenizer.ggml.* metadata");
        }
        Path dir = Files.createTempDirectory("fovea-tokenizer");
        try {
          for (String f : files) {
            Files.write(dir.resolve(f), a.file(f));
          }
          return TokenizerLoader.load(dir);
        } catch (TokenizerFileException e) {
          // name the file inside the archive (archive!tokenizer.model), not the temporary copy
          String prefix = e.file() + ": ";
          String why = e.getMessage().startsWith(prefix) ? e.getMessage().substring(prefix.length()) : e.getMessage();
          Path inside = e.file() != null && e.file().startsWith(dir) && !e.file().equals(dir)
              ? Path.of(model + "!" + dir.relativize(e.file())) : model;
          TokenizerFileException named = new TokenizerFileException(inside, why);
          named.initCause(e);
          throw named;
        } finally {
          for (String f : files) {
            Files.deleteIfExists(dir.resolve(f));
          }
          Files.deleteIfExists(dir);
        }
      }
    }
    return TokenizerLoader.load(model.toAbsolutePath().getParent());
  }
}
