package dev.fovea.methods.scenes;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.fovea.methods.eval.BoundingBox;
import dev.fovea.methods.eval.SizeSplit;
import dev.fovea.tensor.cpu.Parallel;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Writes generated scenes as a dataset folder that fovea's evaluations read as they are:
 *
 * <pre>
 * OUT/scenes.json                  what was generated: format, version, size, each split's seed and counts, the vocabulary
 * OUT/train/images/000000.png      scene 0 of the split (6 digits, more past a million scenes)
 * OUT/train/questions.jsonl        every question: eval vqa --data OUT/train/questions.jsonl --images OUT/train/images
 * OUT/train/pope.jsonl             the yes/no questions: eval pope --data OUT/train/pope.jsonl --images OUT/train/images
 * OUT/heldout/...                  the same for the held-out split
 * </pre>
 *
 * A line of {@code questions.jsonl} ({@link dev.fovea.methods.eval.VqaDataset#readJsonl}'s layout, with
 * the answer {@value #ANSWER_COPIES} times as VQA's ten human answers, and fields of our own that the
 * reader ignores):
 *
 * <pre>{@code
 * {"question_id": "000000-1", "image": "000000.png", "question": "What colour is the triangle?",
 *  "answers": ["red", ... 10 times], "bbox": [x1, y1, x2, y2], "image_width": 448, "image_height": 448,
 *  "type": "colour", "size": "small", "category": null, "scene": 0}
 * }</pre>
 *
 * {@code bbox} is in pixels, corners, null where the answer shows nowhere (a "no"); {@code size} is its
 * ViCrop split (small, medium, large, unsplit without a box); {@code type} is {@link QuestionType#label()};
 * {@code category} the yes/no pair's POPE-style split ({@link SceneGenerator#ABSENT}, {@link
 * SceneGenerator#SWAPPED}), null for other types. A line of {@code pope.jsonl} ({@link
 * dev.fovea.methods.eval.PopeDataset}'s layout; the category becomes the split {@code eval pope} reports):
 *
 * <pre>{@code
 * {"question_id": "000000-4", "image": "000000.png", "text": "Is there a red circle?", "label": "yes", "category": "absent"}
 * }</pre>
 *
 * <p><b>Determinism.</b> Scene {@code i} of a split comes from ({@link Split#seed()}, {@code i}) alone and
 * its PNG is encoded by {@link Png}; the files are the same bytes for any thread count, machine or JDK.
 *
 * <p><b>Atomic.</b> Everything is written into a hidden folder beside {@code OUT}, which is renamed to
 * {@code OUT} once complete; on failure it is deleted and {@code OUT} is as it was. An existing {@code
 * OUT} is replaced only when asked ({@code force}) and only when it is a dataset this class wrote (it
 * has a {@value #MANIFEST} of format {@value #FORMAT}, or is empty): it is renamed aside, the new one
 * renamed in, then the old one deleted.
 */
public final class SceneDataset {
  public static final String FORMAT = "fovea-scenes";
  public static final int VERSION = 1;
  public static final String MANIFEST = "scenes.json";
  public static final String QUESTIONS = "questions.jsonl";
  public static final String POPE = "pope.jsonl";
  public static final String IMAGES = "images";
  public static final String TRAIN = "train";
  public static final String HELD_OUT = "heldout";

  /** Copies of the one answer in {@code answers} (VQA has ten human answers; ten agreeing ones score 1). */
  public static final int ANSWER_COPIES = 10;

  /** Scenes generated between two progress reports (and held in memory at once). */
  static final int BATCH = 64;

  private static final Pattern SPLIT_NAME = Pattern.compile("[a-z0-9][a-z0-9_-]*");
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final SecureRandom TEMP_NAMES = new SecureRandom();

  private SceneDataset() {}

  /**
   * One split: {@code scenes} scenes from the stream {@code seed}, written to the folder {@code name}.
   *
   * @param name lowercase letters, digits, {@code _} and {@code -}
   */
  public record Split(String name, long seed, int scenes) {
    public Split {
      if (name == null || !SPLIT_NAME.matcher(name).matches()) {
        throw new IllegalArgumentException("split name '" + name + "' must be lowercase letters, digits, _ and -");
      }
      if (scenes < 0) {
        throw new IllegalArgumentException("split " + name + ": scene count must be at least 0, got " + scenes);
      }
    }
  }

  /** The seed of the held-out split of a dataset whose training split has {@code seed}: a different stream. */
  public static long heldOutSeed(long seed) {
    return SceneRandom.mix(seed ^ 0x48454c444f5554L); // "HELDOUT"
  }

  /**
   * The usual two splits: {@value #TRAIN} ({@code train} scenes, {@code seed}) and {@value #HELD_OUT}
   * ({@code heldOut} scenes, {@link #heldOutSeed}); a split of 0 scenes is left out.
   */
  public static List<Split> splits(long seed, int train, int heldOut) {
    List<Split> splits = new ArrayList<>();
    if (train > 0) {
      splits.add(new Split(TRAIN, seed, train));
    }
    if (heldOut > 0) {
      splits.add(new Split(HELD_OUT, heldOutSeed(seed), heldOut));
    }
    return splits;
  }

  /** What one split holds once written. */
  public record SplitSummary(String name, long seed, int scenes, int questions, int yes, int no, Map<String, Integer> byType,
      Map<String, Integer> bySize, long pngBytes) {
    /** The fields as JSON names them ({@code by_type}, {@code png_bytes}...), in this order. */
    public Map<String, Object> toJson() {
      Map<String, Object> e = new LinkedHashMap<>();
      e.put("name", name);
      e.put("seed", seed);
      e.put("scenes", scenes);
      e.put("questions", questions);
      e.put("yes", yes);
      e.put("no", no);
      e.put("by_type", byType);
      e.put("by_size", bySize);
      e.put("png_bytes", pngBytes);
      return e;
    }
  }

  /** What was written. */
  public record Summary(Path out, int size, List<SplitSummary> splits) {}

  /** Told after each batch of scenes. */
  @FunctionalInterface
  public interface Listener {
    Listener NONE = (done, total) -> { };

    void progress(long scenesDone, long scenesTotal);
  }

  /**
   * Refuses an output {@link #write} must not write, before any work: a file; an existing folder
   * without {@code force}; with {@code force}, a folder that is neither empty nor a dataset of ours.
   */
  public static void checkOutput(Path out, boolean force) throws IOException {
    if (Files.exists(out) && !Files.isDirectory(out)) {
      throw new SceneDatasetException(out + ": is a file; the output is a folder to create");
    }
    if (Files.isDirectory(out)) {
      if (!force) {
        throw new SceneDatasetException(out + ": already exists; pass --force to replace it");
      }
      if (!isEmpty(out) && !isDataset(out)) {
        throw new SceneDatasetException(out + ": is not a scenes dataset (no " + MANIFEST + " of format " + FORMAT
            + "); --force replaces only a folder this command wrote (or an empty one)");
      }
    }
  }

  /** Whether {@code dir} holds a {@value #MANIFEST} whose {@code format} is {@value #FORMAT}. */
  public static boolean isDataset(Path dir) {
    Path manifest = dir.resolve(MANIFEST);
    if (!Files.isRegularFile(manifest)) {
      return false;
    }
    try {
      JsonNode m = JSON.readTree(manifest.toFile());
      return m != null && FORMAT.equals(m.path("format").asText(null));
    } catch (IOException e) {
      return false;
    }
  }

  /** Generates and writes the splits to {@code out} (see the class comment). */
  public static Summary write(Path out, SceneGenerator generator, List<Split> splits, boolean force, Listener listener) throws IOException {
    if (splits.isEmpty()) {
      throw new IllegalArgumentException("no splits to write");
    }
    if (splits.stream().map(Split::name).distinct().count() != splits.size()) {
      throw new IllegalArgumentException("split names repeat: " + splits.stream().map(Split::name).toList());
    }
    checkOutput(out, force);
    Path target = out.toAbsolutePath().normalize();
    Path parent = target.getParent();
    Files.createDirectories(parent);
    String name = target.getFileName().toString();
    Path tmp = Files.createDirectory(parent.resolve("." + name + "." + Long.toUnsignedString(TEMP_NAMES.nextLong(), 36) + ".tmp"));
    try {
      long total = splits.stream().mapToLong(Split::scenes).sum();
      long[] done = {0};
      List<SplitSummary> summaries = new ArrayList<>();
      for (Split split : splits) {
        summaries.add(writeSplit(tmp.resolve(split.name()), generator, split, n -> {
          done[0] += n;
          listener.progress(done[0], total);
        }));
      }
      writeManifest(tmp.resolve(MANIFEST), generator, summaries);
      moveIntoPlace(tmp, target, force);
      return new Summary(target, generator.size(), summaries);
    } catch (IOException | RuntimeException | Error e) {
      try {
        deleteTree(tmp);
      } catch (IOException | RuntimeException again) {
        e.addSuppressed(again);
      }
      throw e;
    }
  }

  private interface Counter {
    void add(int scenes);
  }

  private static SplitSummary writeSplit(Path dir, SceneGenerator generator, Split split, Counter counter) throws IOException {
    Path images = Files.createDirectories(dir.resolve(IMAGES));
    int digits = Math.max(6, Integer.toString(Math.max(0, split.scenes() - 1)).length());
    Map<String, Integer> byType = new LinkedHashMap<>();
    for (QuestionType t : QuestionType.values()) {
      byType.put(t.label(), 0);
    }
    Map<String, Integer> bySize = new LinkedHashMap<>();
    for (SizeSplit s : SizeSplit.values()) {
      bySize.put(s.label(), 0);
    }
    int questions = 0;
    int yes = 0;
    int no = 0;
    long pngBytes = 0;
    try (BufferedWriter vqa = Files.newBufferedWriter(dir.resolve(QUESTIONS), StandardCharsets.UTF_8, StandardOpenOption.CREATE_NEW);
        BufferedWriter pope = Files.newBufferedWriter(dir.resolve(POPE), StandardCharsets.UTF_8, StandardOpenOption.CREATE_NEW)) {
      for (int start = 0; start < split.scenes(); start += BATCH) {
        if (Thread.currentThread().isInterrupted()) {
          throw new SceneDatasetException("interrupted after " + start + " scenes of split " + split.name());
        }
        int first = start;
        int n = Math.min(BATCH, split.scenes() - start);
        SceneGenerator.Generated[] batch = new SceneGenerator.Generated[n];
        long[] sizes = new long[n];
        try {
          Parallel.forChunks(n, (i, worker) -> {
            int index = first + i;
            SceneGenerator.Generated g = generator.generate(split.seed(), index);
            byte[] png = Png.encodeRgb(g.scene().width(), g.scene().height(), SceneRenderer.render(g.scene()));
            try (OutputStream os = Files.newOutputStream(images.resolve(imageName(index, digits)), StandardOpenOption.CREATE_NEW)) {
              os.write(png);
            } catch (IOException e) {
              throw new UncheckedIOException(e);
            }
            batch[i] = g;
            sizes[i] = png.length;
          });
        } catch (UncheckedIOException e) {
          throw e.getCause();
        }
        for (int i = 0; i < n; i++) {
          int index = first + i;
          String image = imageName(index, digits);
          List<Question> qs = batch[i].questions();
          for (int k = 0; k < qs.size(); k++) {
            Question q = qs.get(k);
            String id = String.format(Locale.ROOT, "%0" + digits + "d-%d", index, k + 1);
            vqa.write(vqaLine(id, image, index, batch[i].scene(), q));
            vqa.write('\n');
            questions++;
            byType.merge(q.type().label(), 1, Integer::sum);
            bySize.merge(q.split(batch[i].scene().size()).label(), 1, Integer::sum);
            if (q.isYesNo()) {
              pope.write(popeLine(id, image, q));
              pope.write('\n');
              if (q.answer().equals("yes")) {
                yes++;
              } else {
                no++;
              }
            }
          }
          pngBytes += sizes[i];
        }
        counter.add(n);
      }
    }
    return new SplitSummary(split.name(), split.seed(), split.scenes(), questions, yes, no, byType, bySize, pngBytes);
  }

  static String imageName(int index, int digits) {
    return String.format(Locale.ROOT, "%0" + digits + "d.png", index);
  }

  private static String vqaLine(String id, String image, int index, Scene scene, Question q) throws JsonProcessingException {
    Map<String, Object> line = new LinkedHashMap<>();
    line.put("question_id", id);
    line.put("image", image);
    line.put("question", q.text());
    line.put("answers", Collections.nCopies(ANSWER_COPIES, q.answer()));
    line.put("bbox", q.box().map(SceneDataset::corners).orElse(null));
    line.put("image_width", scene.width());
    line.put("image_height", scene.height());
    line.put("type", q.type().label());
    line.put("size", q.split(scene.size()).label());
    line.put("category", q.category().orElse(null));
    line.put("scene", index);
    return JSON.writeValueAsString(line);
  }

  private static String popeLine(String id, String image, Question q) throws JsonProcessingException {
    Map<String, Object> line = new LinkedHashMap<>();
    line.put("question_id", id);
    line.put("image", image);
    line.put("text", q.text());
    line.put("label", q.answer());
    line.put("category", q.category().orElseThrow());
    return JSON.writeValueAsString(line);
  }

  /** Whole-pixel boxes as integers ([12, 40, 30, 58]), others as they are. */
  private static List<Number> corners(BoundingBox b) {
    List<Number> out = new ArrayList<>(4);
    for (double v : b.toArray()) {
      out.add(v == Math.rint(v) && Math.abs(v) < 1e9 ? (Number) (long) v : (Number) v);
    }
    return out;
  }

  private static void writeManifest(Path file, SceneGenerator generator, List<SplitSummary> splits) throws IOException {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("format", FORMAT);
    m.put("version", VERSION);
    m.put("size", generator.size());
    List<Map<String, Object>> list = new ArrayList<>();
    for (SplitSummary s : splits) {
      Map<String, Object> e = s.toJson();
      e.put("images", s.name() + "/" + IMAGES);
      e.put("questions_file", s.name() + "/" + QUESTIONS);
      e.put("pope_file", s.name() + "/" + POPE);
      list.add(e);
    }
    m.put("splits", list);
    Map<String, String> colours = new LinkedHashMap<>();
    for (Colour c : Colour.values()) {
      colours.put(c.label(), String.format(Locale.ROOT, "#%06x", c.rgb()));
    }
    m.put("colours", colours);
    m.put("shapes", Stream.of(ShapeKind.values()).map(ShapeKind::label).toList());
    m.put("letters", SceneGenerator.LETTERS);
    m.put("digits", SceneGenerator.DIGITS);
    m.put("question_types", Stream.of(QuestionType.values()).map(QuestionType::label).toList());
    m.put("categories", List.of(SceneGenerator.ABSENT, SceneGenerator.SWAPPED));
    Files.writeString(file, JSON.copy().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(m) + "\n", StandardOpenOption.CREATE_NEW);
  }

  /** Renames {@code tmp} to {@code target}; an existing target (checked again here) goes aside first and is deleted after. */
  private static void moveIntoPlace(Path tmp, Path target, boolean force) throws IOException {
    checkOutput(target, force);
    if (!Files.exists(target)) {
      rename(tmp, target);
      return;
    }
    Path old = target.resolveSibling("." + target.getFileName() + "." + Long.toUnsignedString(TEMP_NAMES.nextLong(), 36) + ".old");
    rename(target, old);
    try {
      rename(tmp, target);
    } catch (IOException | RuntimeException e) {
      try {
        rename(old, target);
      } catch (IOException | RuntimeException again) {
        e.addSuppressed(again);
      }
      throw e;
    }
    try {
      deleteTree(old);
    } catch (IOException e) {
      throw new SceneDatasetException(target + ": written, but the dataset it replaced could not be deleted from " + old + ": " + e, e);
    }
  }

  private static void rename(Path from, Path to) throws IOException {
    try {
      Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(from, to);
    }
  }

  private static boolean isEmpty(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.findAny().isEmpty();
    }
  }

  /** Deletes a folder and everything in it (links themselves, not what they point to). */
  static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(root)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
