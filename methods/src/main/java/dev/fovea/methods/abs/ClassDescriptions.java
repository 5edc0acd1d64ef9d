package dev.fovea.methods.abs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Class names and their descriptions (spec A.7). The class list is an ordered JSON array, its order
 * the label order, underscores read as spaces ({@code helper.py wordify}); the descriptions file is
 * CuPL's format, an object mapping a class name to a list of sentences. Every listed class must
 * have at least one sentence; a class the list names but the file lacks is an error naming both files.
 *
 * @param classes the class names, underscores replaced by spaces, in label order
 * @param sentences per class, the file's sentences in file order
 * @param sha256 of the descriptions file's bytes (the bank cache's key)
 */
public record ClassDescriptions(List<String> classes, List<List<String>> sentences, Path file, String sha256) {
  /** The largest descriptions file read (CuPL's ImageNet file is about 4.3 MiB). */
  public static final long MAX_BYTES = 256L << 20;

  /** Reads the class list: a JSON array of strings. */
  public static List<String> readClasses(Path file) {
    JsonNode root = parse(file);
    if (!root.isArray() || root.isEmpty()) {
      throw new AbsException(file + ": the class list must be a non-empty JSON array of class names");
    }
    List<String> out = new ArrayList<>();
    for (int i = 0; i < root.size(); i++) {
      JsonNode n = root.get(i);
      if (!n.isTextual() || n.asText().isBlank()) {
        throw new AbsException(file + ": class " + i + " must be a non-empty string, got " + n);
      }
      out.add(wordify(n.asText()));
    }
    return List.copyOf(out);
  }

  /** {@code helper.py wordify}: underscores to spaces. */
  public static String wordify(String name) {
    return name.replace('_', ' ');
  }

  /** Reads {@code file} (class → sentences) for {@code classes}; keys are matched after {@link #wordify}. */
  public static ClassDescriptions read(Path file, List<String> classes) {
    byte[] bytes = bytes(file);
    JsonNode root;
    try {
      root = new ObjectMapper().readTree(bytes);
    } catch (IOException e) {
      throw new AbsException(file + ": not JSON: " + e.getMessage().lines().findFirst().orElse(""));
    }
    if (root == null || !root.isObject()) {
      throw new AbsException(file + ": descriptions must be a JSON object mapping each class name to a list of sentences");
    }
    Map<String, JsonNode> byName = new LinkedHashMap<>();
    root.properties().forEach(e -> byName.put(wordify(e.getKey()), e.getValue()));
    List<List<String>> all = new ArrayList<>();
    for (String c : classes) {
      JsonNode list = byName.get(c);
      if (list == null) {
        throw new AbsException(file + ": no descriptions for class '" + c + "' (the class list names it; the file has " + byName.size()
            + " classes)");
      }
      if (!list.isArray() || list.isEmpty()) {
        throw new AbsException(file + ": class '" + c + "' must map to a non-empty list of sentences, got " + abbreviate(list.toString()));
      }
      List<String> s = new ArrayList<>();
      for (int i = 0; i < list.size(); i++) {
        if (!list.get(i).isTextual()) {
          throw new AbsException(file + ": class '" + c + "' sentence " + i + " is not a string: " + abbreviate(list.get(i).toString()));
        }
        s.add(list.get(i).asText());
      }
      all.add(List.copyOf(s));
    }
    return new ClassDescriptions(List.copyOf(classes), List.copyOf(all), file, sha256(bytes));
  }

  /** Reads a JSON array of templates, each with a {@code {}} for the class name. */
  public static List<String> readTemplates(Path file) {
    JsonNode root = parse(file);
    if (!root.isArray() || root.isEmpty()) {
      throw new AbsException(file + ": templates must be a non-empty JSON array of strings with {} for the class name");
    }
    List<String> out = new ArrayList<>();
    for (JsonNode n : root) {
      if (!n.isTextual() || !n.asText().contains("{}")) {
        throw new AbsException(file + ": template " + abbreviate(n.toString()) + " is not a string with {} for the class name");
      }
      out.add(n.asText());
    }
    return List.copyOf(out);
  }

  private static JsonNode parse(Path file) {
    try {
      JsonNode n = new ObjectMapper().readTree(bytes(file));
      if (n == null) {
        throw new AbsException(file + ": empty file");
      }
      return n;
    } catch (IOException e) {
      throw new AbsException(file + ": not JSON: " + e.getMessage().lines().findFirst().orElse(""));
    }
  }

  private static byte[] bytes(Path file) {
    try {
      if (!Files.isRegularFile(file)) {
        throw new AbsException(file + ": no such file");
      }
      if (Files.size(file) > MAX_BYTES) {
        throw new AbsException(file + ": larger than " + (MAX_BYTES >> 20) + " MiB");
      }
      return Files.readAllBytes(file);
    } catch (IOException e) {
      throw new AbsException(file + ": cannot read: " + e.getMessage(), e);
    }
  }

  static String sha256(byte[] b) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String abbreviate(String s) {
    return s.length() <= 80 ? s : s.substring(0, 77) + "...";
  }
}
