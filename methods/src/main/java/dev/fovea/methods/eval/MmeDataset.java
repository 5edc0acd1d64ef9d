package dev.fovea.methods.eval;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Reads the MME benchmark folder (methods spec 4.4) as released ({@code MME_Benchmark_release_version}):
 * one folder per subtask, named as {@link Subtask} has it, each holding its images and one question
 * file per image, in either of the two layouts of the release:
 *
 * <ul>
 *   <li>{@code <subtask>/images/<name>.jpg} with {@code <subtask>/questions_answers_YN/<name>.txt}
 *       (artwork, celebrity, landmark, posters, scene);
 *   <li>{@code <subtask>/<name>.jpg} (or {@code .png}, {@code .jpeg}) beside {@code <subtask>/<name>.txt}
 *       (the other subtasks).
 * </ul>
 *
 * A question file holds the image's questions (two in MME, one yes and one no), one per line: {@code
 * question<TAB>answer}, the answer {@code Yes} or {@code No}; blank lines are skipped. The items come
 * subtask by subtask in {@link Subtask} order, question files in name order, questions in file order;
 * an item's id is {@code <image file name>#<n>} (n from 1 in its file), its split the subtask, its image
 * the path under the benchmark folder. Folders that are not subtasks are ignored.
 *
 * <p>Every problem is an {@link EvalDataException} naming the file and line: a line without a tab, an
 * unknown answer, a question file without an image, an empty question file.
 */
public final class MmeDataset {
  private MmeDataset() {}

  /** Which score a subtask adds to. */
  public enum Category {
    PERCEPTION,
    COGNITION
  }

  /** MME's 14 subtasks, with their folder names; the first four are the hallucination subset. */
  public enum Subtask {
    EXISTENCE("existence", Category.PERCEPTION, true),
    COUNT("count", Category.PERCEPTION, true),
    POSITION("position", Category.PERCEPTION, true),
    COLOR("color", Category.PERCEPTION, true),
    POSTERS("posters", Category.PERCEPTION, false),
    CELEBRITY("celebrity", Category.PERCEPTION, false),
    SCENE("scene", Category.PERCEPTION, false),
    LANDMARK("landmark", Category.PERCEPTION, false),
    ARTWORK("artwork", Category.PERCEPTION, false),
    OCR("OCR", Category.PERCEPTION, false),
    COMMONSENSE_REASONING("commonsense_reasoning", Category.COGNITION, false),
    NUMERICAL_CALCULATION("numerical_calculation", Category.COGNITION, false),
    TEXT_TRANSLATION("text_translation", Category.COGNITION, false),
    CODE_REASONING("code_reasoning", Category.COGNITION, false);

    /** The folder name in the release, also the split name of its items. */
    public final String folder;
    public final Category category;
    /** Whether it belongs to the hallucination subset (existence, count, position, color). */
    public final boolean hallucination;

    Subtask(String folder, Category category, boolean hallucination) {
      this.folder = folder;
      this.category = category;
      this.hallucination = hallucination;
    }

    /** By folder name, case-insensitive; null when none. */
    public static Subtask byFolder(String name) {
      for (Subtask s : values()) {
        if (s.folder.equalsIgnoreCase(name)) {
          return s;
        }
      }
      return null;
    }

    /**
     * A comma-separated list of subtask names, or of the groups {@code perception}, {@code cognition},
     * {@code hallucination}, {@code all}.
     *
     * @throws IllegalArgumentException naming an unknown entry
     */
    public static Set<Subtask> parseList(String list) {
      Set<Subtask> out = EnumSet.noneOf(Subtask.class);
      for (String raw : list.split(",", -1)) {
        String name = raw.strip();
        switch (name.toLowerCase(Locale.ROOT)) {
          case "all" -> out.addAll(EnumSet.allOf(Subtask.class));
          case "perception" -> Stream.of(values()).filter(s -> s.category == Category.PERCEPTION).forEach(out::add);
          case "cognition" -> Stream.of(values()).filter(s -> s.category == Category.COGNITION).forEach(out::add);
          case "hallucination" -> Stream.of(values()).filter(s -> s.hallucination).forEach(out::add);
          default -> {
            Subtask s = byFolder(name);
            if (s == null) {
              throw new IllegalArgumentException("unknown MME subtask \"" + name + "\"; known: all, perception, cognition, hallucination, "
                  + String.join(", ", Stream.of(values()).map(t -> t.folder).toList()));
            }
            out.add(s);
          }
        }
      }
      return out;
    }
  }

  /** Image extensions tried beside a question file, in this order. */
  private static final List<String> IMAGE_EXTENSIONS = List.of(".jpg", ".png", ".jpeg", ".JPG", ".PNG", ".JPEG");

  /** The longest line accepted, in characters. */
  private static final int MAX_LINE_CHARS = 1 << 16;

  /** Every subtask found under {@code root}. */
  public static List<YesNoItem> read(Path root) throws IOException {
    return read(root, EnumSet.allOf(Subtask.class));
  }

  /**
   * The subtasks of {@code only} found under {@code root}.
   *
   * @throws EvalDataException when none of them is there, or a file is malformed
   */
  public static List<YesNoItem> read(Path root, Set<Subtask> only) throws IOException {
    if (!Files.isDirectory(root)) {
      throw new EvalDataException(root.toString(), null, null, "not a folder (the MME benchmark folder holds one folder per subtask)");
    }
    List<Path> folders;
    try (Stream<Path> s = Files.list(root)) {
      folders = s.filter(Files::isDirectory).sorted().toList();
    }
    List<YesNoItem> items = new ArrayList<>();
    boolean any = false;
    for (Subtask task : Subtask.values()) {
      if (!only.contains(task)) {
        continue;
      }
      for (Path folder : folders) {
        if (task.folder.equalsIgnoreCase(folder.getFileName().toString())) {
          any = true;
          readSubtask(root, folder, task, items);
        }
      }
    }
    if (!any) {
      throw new EvalDataException(root.toString(), null, null, "holds no MME subtask folder ("
          + String.join(", ", only.stream().map(t -> t.folder).toList()) + ")");
    }
    return items;
  }

  private static void readSubtask(Path root, Path folder, Subtask task, List<YesNoItem> items) throws IOException {
    Path qa = folder.resolve("questions_answers_YN");
    boolean split = Files.isDirectory(qa);
    Path questions = split ? qa : folder;
    Path images = split ? folder.resolve("images") : folder;
    List<Path> files;
    try (Stream<Path> s = Files.list(questions)) {
      files = s.filter(p -> p.getFileName().toString().endsWith(".txt") && Files.isRegularFile(p)).sorted().toList();
    }
    if (files.isEmpty()) {
      throw new EvalDataException(questions.toString(), null, null, "no question files (*.txt) for subtask " + task.folder);
    }
    for (Path txt : files) {
      String name = txt.getFileName().toString();
      String base = name.substring(0, name.length() - ".txt".length());
      Path image = null;
      for (String ext : IMAGE_EXTENSIONS) {
        Path p = images.resolve(base + ext);
        if (Files.isRegularFile(p)) {
          image = p;
          break;
        }
      }
      if (image == null) {
        throw new EvalDataException(txt.toString(), null, null, "no image " + base + ".jpg (or .png, .jpeg) in " + images);
      }
      String imageName = root.relativize(image).toString().replace(java.io.File.separatorChar, '/');
      int before = items.size();
      String file = txt.toString();
      int[] n = {0};
      Path imagePath = image;
      JsonlFile.forEachText(txt, MAX_LINE_CHARS, null, (lineNo, line) -> {
        int tab = line.lastIndexOf('\t');
        if (tab < 0) {
          throw new EvalDataException(file, "line " + lineNo, null, "expected question<TAB>answer, found no tab");
        }
        String question = line.substring(0, tab).strip();
        if (question.isEmpty()) {
          throw new EvalDataException(file, "line " + lineNo, null, "the question is empty");
        }
        YesNo label;
        try {
          label = YesNo.parseLabel(line.substring(tab + 1));
        } catch (IllegalArgumentException e) {
          throw new EvalDataException(file, "line " + lineNo, null, e.getMessage());
        }
        n[0]++;
        items.add(new YesNoItem(task.folder, imagePath.getFileName() + "#" + n[0], imageName, imagePath, question, label));
      });
      if (items.size() == before) {
        throw new EvalDataException(txt.toString(), null, null, "holds no question");
      }
    }
  }
}
