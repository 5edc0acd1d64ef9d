package dev.fovea.methods.abs;

import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.WeightSource;
import dev.fovea.tensor.io.SafetensorsWriter;
import dev.fovea.tensor.io.WeightFiles;
import dev.fovea.vit.clip.ClipModel;
import dev.fovea.vit.clip.ZeroShotClassifier;
import dev.fovea.vit.tokenizer.ClipTokenizer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.IntConsumer;

/**
 * The encoded class descriptions T (spec A.7): for class c its first {@code min(M, n_c)} sentences,
 * verbatim (no template, no class name), each through the CLIP text tower and L2-normalized, not
 * averaged. Stored flat as [N, E] with class c at rows {@code offsets[c] .. offsets[c+1]-1}, so
 * classes may have different counts (the reference's stacking needs equal counts; with equal counts
 * the two agree).
 *
 * <p>{@link #load} caches the bank as safetensors under a key of the model (its path, config and
 * text projection) and the descriptions file (SHA-256), the class list and M, so a second run does
 * not re-encode.
 */
public final class DescriptionBank {
  private final List<String> classes;
  private final int[] offsets;
  private final Tensor embeddings; // [N, E], global scope

  DescriptionBank(List<String> classes, int[] offsets, Tensor embeddings) {
    this.classes = List.copyOf(classes);
    this.offsets = offsets.clone();
    this.embeddings = embeddings;
  }

  /**
   * A bank from already encoded rows (tests, benchmarks): {@code embeddings} [N, E] with class c at
   * rows {@code offsets[c] .. offsets[c+1]-1}.
   */
  public static DescriptionBank of(List<String> classes, int[] offsets, Tensor embeddings) {
    if (offsets.length != classes.size() + 1 || offsets[0] != 0 || offsets[classes.size()] != embeddings.size(0) || embeddings.dim() != 2) {
      throw new AbsException("description bank: offsets " + java.util.Arrays.toString(offsets) + " do not fit " + classes.size()
          + " classes and " + java.util.Arrays.toString(embeddings.shape()) + " rows");
    }
    for (int c = 0; c < classes.size(); c++) {
      if (offsets[c + 1] <= offsets[c]) {
        throw new AbsException("description bank: class '" + classes.get(c) + "' has no rows");
      }
    }
    return new DescriptionBank(classes, offsets, embeddings);
  }

  public List<String> classes() {
    return classes;
  }

  /** Row offsets: class c owns rows offsets[c] .. offsets[c+1]-1; length C + 1. */
  public int[] offsets() {
    return offsets.clone();
  }

  /** [N, E], L2-normalized rows. */
  public Tensor embeddings() {
    return embeddings;
  }

  /** Encodes the first {@code m} sentences of each class (no cache). */
  public static DescriptionBank encode(ClipModel model, ClipTokenizer tokenizer, ClassDescriptions d, int m, IntConsumer onClass) {
    int c = d.classes().size();
    int[] offsets = new int[c + 1];
    List<float[]> rows = new ArrayList<>();
    int e = model.config.projectionDim();
    int context = model.config.textConfig().maxPositionEmbeddings();
    for (int k = 0; k < c; k++) {
      List<String> s = d.sentences().get(k);
      List<String> used = s.subList(0, Math.min(m, s.size()));
      for (int from = 0; from < used.size(); from += 64) {
        List<String> chunk = used.subList(from, Math.min(used.size(), from + 64));
        try (Scope scope = Scope.open()) {
          ZeroShotClassifier.Batch b = ZeroShotClassifier.tokenize(tokenizer, chunk, context);
          float[] v = model.encodeText(b.ids(), b.attentionMask()).contiguous().toFloatArray();
          for (int r = 0; r < chunk.size(); r++) {
            rows.add(java.util.Arrays.copyOfRange(v, r * e, (r + 1) * e));
          }
        }
      }
      offsets[k + 1] = offsets[k] + used.size();
      if (onClass != null) {
        onClass.accept(k);
      }
    }
    float[] flat = new float[rows.size() * e];
    for (int i = 0; i < rows.size(); i++) {
      System.arraycopy(rows.get(i), 0, flat, i * e, e);
    }
    return new DescriptionBank(d.classes(), offsets, globalTensor(flat, rows.size(), e));
  }

  /** What {@link #load} did. */
  public enum Source {
    CACHE,
    ENCODED
  }

  /** A bank and where it came from. */
  public record Loaded(DescriptionBank bank, Source source, Path cacheFile) {}

  /**
   * The bank from {@code cacheDir} when a file with the same key is there, else encoded and written
   * there (atomically; a cache that cannot be written is reported and the bank returned anyway).
   *
   * @param modelPath the CLIP checkpoint's path (part of the key)
   * @param configJson its config.json bytes (part of the key)
   */
  public static Loaded load(ClipModel model, ClipTokenizer tokenizer, Path modelPath, byte[] configJson, ClassDescriptions d, int m,
      Path cacheDir, IntConsumer onClass) {
    String key = key(model, modelPath, configJson, d, m);
    Path file = cacheDir.resolve("abs-bank-" + key.substring(0, 24) + ".safetensors");
    if (Files.isRegularFile(file)) {
      try (WeightSource w = WeightFiles.open(file)) {
        Object stored = w.metadata().get("key");
        if (key.equals(stored)) {
          Tensor emb = w.get("embeddings");
          Tensor off = w.get("offsets");
          int[] offsets = java.util.Arrays.stream(off.contiguous().toLongArray()).mapToInt(Math::toIntExact).toArray();
          if (offsets.length != d.classes().size() + 1 || offsets[offsets.length - 1] != emb.size(0)) {
            throw new AbsException(file + ": cached bank does not fit the class list");
          }
          float[] v = emb.contiguous().toFloatArray();
          return new Loaded(new DescriptionBank(d.classes(), offsets, globalTensor(v, emb.size(0), emb.size(1))), Source.CACHE, file);
        }
      } catch (RuntimeException e) {
        System.err.println("warning: ignoring the unreadable description cache " + file + ": " + e.getMessage());
      }
    }
    DescriptionBank bank = encode(model, tokenizer, d, m, onClass);
    try {
      Files.createDirectories(cacheDir);
      Path tmp = Files.createTempFile(cacheDir, "abs-bank-", ".tmp");
      try (Scope s = Scope.open()) {
        SafetensorsWriter.write(tmp, List.of(new SafetensorsWriter.Item("embeddings", bank.embeddings),
            new SafetensorsWriter.Item("offsets", Tensor.ofInts(bank.offsets, bank.offsets.length))),
            Map.of("key", key, "descriptions", d.file().toString(), "model", modelPath.toString(), "m", Integer.toString(m)));
      }
      try {
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
      }
    } catch (IOException | RuntimeException e) {
      System.err.println("warning: could not write the description cache in " + cacheDir + ": " + e.getMessage());
    }
    return new Loaded(bank, Source.ENCODED, file);
  }

  /** SHA-256 over the model's identity, the descriptions file, the class list and M. */
  static String key(ClipModel model, Path modelPath, byte[] configJson, ClassDescriptions d, int m) {
    StringBuilder sb = new StringBuilder("fovea-abs-bank-v1\n");
    sb.append(modelPath.toAbsolutePath().normalize()).append('\n');
    sb.append(ClassDescriptions.sha256(configJson)).append('\n');
    try (Scope s = Scope.open()) {
      float[] proj = model.textProjection.weight.get().contiguous().toFloatArray();
      ByteBuffer bb = ByteBuffer.allocate(proj.length * 4).order(ByteOrder.LITTLE_ENDIAN);
      for (float f : proj) {
        bb.putFloat(f);
      }
      sb.append(ClassDescriptions.sha256(bb.array())).append('\n');
    }
    sb.append(d.sha256()).append('\n').append(m).append('\n');
    for (String c : d.classes()) {
      sb.append(c).append('\u0000');
    }
    return ClassDescriptions.sha256(sb.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }

  static Tensor globalTensor(float[] v, int... shape) {
    Tensor t = Tensor.of(v, shape);
    return Scope.current() == Scope.global() ? t : t.copyTo(Scope.global());
  }
}
