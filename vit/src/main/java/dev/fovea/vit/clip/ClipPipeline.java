package dev.fovea.vit.clip;

import dev.fovea.vit.image.ImageProcessor;
import dev.fovea.vit.image.PreprocessorConfig;
import dev.fovea.vit.tokenizer.ClipTokenizer;
import dev.fovea.vit.tokenizer.TokenizerFileException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Everything needed to run CLIP on files: the model (weights kept mapped), its tokenizer ({@code
 * vocab.json} + {@code merges.txt}) and its image processor ({@code preprocessor_config.json}, or
 * CLIP's defaults at the config's image size when the file is absent), from an HF model folder or
 * a fovea archive with the same files embedded. Close it to unmap the weights.
 */
public final class ClipPipeline implements AutoCloseable {
  /** Loading stages, reported to a {@link Progress}. */
  public static final int STAGES = 4;

  /** Told after each loading stage (1..{@link #STAGES}). */
  @FunctionalInterface
  public interface Progress {
    void stage(int done, int total, String what);

    Progress NONE = (done, total, what) -> {};
  }

  private final ClipCheckpoint checkpoint;
  private final ClipModel model;
  private final ClipTokenizer tokenizer;
  private final ImageProcessor processor;

  private ClipPipeline(ClipCheckpoint checkpoint, ClipModel model, ClipTokenizer tokenizer, ImageProcessor processor) {
    this.checkpoint = checkpoint;
    this.model = model;
    this.tokenizer = tokenizer;
    this.processor = processor;
  }

  public static ClipPipeline open(Path path, Progress progress) {
    ClipCheckpoint ckpt = ClipCheckpoint.open(path);
    try {
      progress.stage(1, STAGES, "opened " + ckpt.weights().names().size() + " tensors");
      ClipModel model = ClipModel.load(ckpt);
      progress.stage(2, STAGES, "model loaded");
      ClipTokenizer tok = tokenizer(ckpt);
      progress.stage(3, STAGES, "tokenizer");
      ImageProcessor proc = processor(ckpt, model.config.visionConfig().imageSize());
      progress.stage(4, STAGES, "image processor");
      return new ClipPipeline(ckpt, model, tok, proc);
    } catch (RuntimeException e) {
      ckpt.close();
      throw e;
    }
  }

  static ClipTokenizer tokenizer(ClipCheckpoint ckpt) {
    byte[] vocab = ckpt.file("vocab.json");
    byte[] merges = ckpt.file("merges.txt");
    if (vocab == null || merges == null) {
      throw new ClipConfigException(ckpt.path() + ": no CLIP tokenizer (needs vocab.json and merges.txt" + (ckpt.isArchive() ? " embedded in the archive" : " in the folder") + ")");
    }
    if (!ckpt.isArchive()) {
      return ClipTokenizer.loadHf(ckpt.path().resolve("vocab.json"), ckpt.path().resolve("merges.txt"));
    }
    // the tokenizer reads files: give it temporary copies of the embedded ones
    Path dir = null;
    try {
      dir = Files.createTempDirectory("fovea-clip-tokenizer");
      Path v = Files.write(dir.resolve("vocab.json"), vocab);
      Path m = Files.write(dir.resolve("merges.txt"), merges);
      return ClipTokenizer.loadHf(v, m);
    } catch (IOException e) {
      throw new TokenizerFileException(ckpt.path(), "cannot stage the embedded tokenizer files: " + e.getMessage(), e);
    } finally {
      if (dir != null) {
        for (String n : new String[] {"vocab.json", "merges.txt", ""}) {
          try {
            Files.deleteIfExists(n.isEmpty() ? dir : dir.resolve(n));
          } catch (IOException ignored) {
            // a temporary file left behind is harmless
          }
        }
      }
    }
  }

  static ImageProcessor processor(ClipCheckpoint ckpt, int imageSize) {
    byte[] json = ckpt.file("preprocessor_config.json");
    if (json == null) {
      return new ImageProcessor(PreprocessorConfig.clip(imageSize));
    }
    String source = ckpt.describe("preprocessor_config.json");
    return new ImageProcessor(PreprocessorConfig.fromJson(ClipConfig.tree(json, source), source));
  }

  public ClipModel model() {
    return model;
  }

  public ClipTokenizer tokenizer() {
    return tokenizer;
  }

  public ImageProcessor processor() {
    return processor;
  }

  public ClipCheckpoint checkpoint() {
    return checkpoint;
  }

  @Override
  public void close() {
    checkpoint.close();
  }
}
