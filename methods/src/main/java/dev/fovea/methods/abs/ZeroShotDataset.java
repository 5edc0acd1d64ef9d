package dev.fovea.methods.abs;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * The images of a zero-shot evaluation with their labels: a folder of class subfolders (torchvision
 * ImageFolder: subfolders sorted by name, label = position, images sorted by name), or an
 * ImageNet-style list file ({@code relative/path.JPEG label} per line, paths relative to the file's
 * folder). The number of labels must equal the class list's; an empty class folder is an error
 * naming it.
 */
public record ZeroShotDataset(Path root, List<Item> items, int numClasses) {
  /** An image (its key: the path relative to the root, with /) and its label. */
  public record Item(String key, Path file, int label) {}

  static final List<String> EXTENSIONS = List.of(".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff");

  public static ZeroShotDataset open(Path data, int numClasses) {
    if (Files.isDirectory(data)) {
      return folder(data, numClasses);
    }
    if (Files.isRegularFile(data)) {
      return list(data, numClasses);
    }
    throw new AbsException(data + ": no such folder of class subfolders or list file");
  }

  static ZeroShotDataset folder(Path root, int numClasses) {
    List<Path> classes;
    try (Stream<Path> s = Files.list(root)) {
      classes = s.filter(Files::isDirectory).sorted().toList();
    } catch (IOException e) {
      throw new AbsException(root + ": cannot list: " + e.getMessage(), e);
    }
    if (classes.size() != numClasses) {
      throw new AbsException(root + ": " + classes.size() + " class subfolders, but the class list has " + numClasses
          + " classes (label = position of the subfolder in name order)");
    }
    List<Item> items = new ArrayList<>();
    for (int c = 0; c < classes.size(); c++) {
      List<Path> files;
      try (Stream<Path> s = Files.list(classes.get(c))) {
        files = s.filter(Files::isRegularFile).filter(ZeroShotDataset::isImage).sorted().toList();
      } catch (IOException e) {
        throw new AbsException(classes.get(c) + ": cannot list: " + e.getMessage(), e);
      }
      if (files.isEmpty()) {
        throw new AbsException(classes.get(c) + ": empty class folder (no " + String.join(", ", EXTENSIONS) + " files)");
      }
      for (Path f : files) {
        items.add(new Item(root.relativize(f).toString().replace('\\', '/'), f, c));
      }
    }
    return new ZeroShotDataset(root, List.copyOf(items), numClasses);
  }

  static ZeroShotDataset list(Path file, int numClasses) {
    Path root = file.toAbsolutePath().getParent();
    List<String> lines;
    try {
      lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new AbsException(file + ": cannot read: " + e.getMessage(), e);
    }
    List<Item> items = new ArrayList<>();
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i).strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      int sp = line.lastIndexOf(' ');
      int label;
      try {
        label = sp < 0 ? -1 : Integer.parseInt(line.substring(sp + 1));
      } catch (NumberFormatException e) {
        label = -1;
      }
      if (sp < 0 || label < 0 || label >= numClasses) {
        throw new AbsException(file + ":" + (i + 1) + ": expected \"<relative image path> <label 0.." + (numClasses - 1) + ">\", got \"" + line + "\"");
      }
      String rel = line.substring(0, sp).strip();
      items.add(new Item(rel, root.resolve(rel), label));
    }
    if (items.isEmpty()) {
      throw new AbsException(file + ": no images listed");
    }
    return new ZeroShotDataset(root, List.copyOf(items), numClasses);
  }

  static boolean isImage(Path p) {
    String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
    return EXTENSIONS.stream().anyMatch(n::endsWith);
  }
}
