package dev.fovea.methods.eval;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;

/**
 * What every reader of a JSONL benchmark file shares: one JSON object per line, read one line at a
 * time with a length limit, blank lines skipped, a UTF-8 byte order mark ignored; and the field
 * checks, whose errors are {@link EvalDataException}s naming the file, the line and the field.
 */
final class JsonlFile {
  private JsonlFile() {}

  /** Whole documents (a JSONL line, a journal record): trailing content and repeated keys are errors. */
  static final ObjectMapper JSON = JsonMapper.builder()
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
      .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
      .build();

  /** Where an entry sits in a file; builds the exceptions. */
  record Where(String file, String location) {
    EvalDataException fail(String field, String problem) {
      return new EvalDataException(file, location, field, problem);
    }
  }

  @FunctionalInterface
  interface LineHandler {
    void accept(long lineNo, JsonNode node);
  }

  @FunctionalInterface
  interface TextHandler {
    void accept(long lineNo, String line);
  }

  /**
   * Hands each non-blank line of a UTF-8 text file to {@code handler}, reading one line at a time.
   *
   * @param why what to say after "line is longer than N characters", or null
   */
  static void forEachText(Path path, int maxLineChars, String why, TextHandler handler) throws IOException {
    String file = path.toString();
    try (BufferedReader in = Files.newBufferedReader(path, StandardCharsets.UTF_8)) {
      LineReader lines = new LineReader(in, maxLineChars);
      for (long lineNo = 1; ; lineNo++) {
        String line;
        try {
          line = lines.next();
        } catch (LineReader.TooLongException e) {
          throw new EvalDataException(file, "line " + lineNo, null, "line is longer than " + maxLineChars + " characters"
              + (why == null ? "" : " (" + why + ")"));
        } catch (CharacterCodingException e) {
          throw new EvalDataException(file, "line " + lineNo, null, "not valid UTF-8", e);
        }
        if (line == null) {
          return;
        }
        if (lineNo == 1 && line.startsWith("\uFEFF")) {
          line = line.substring(1);
        }
        if (!line.isBlank()) {
          handler.accept(lineNo, line);
        }
      }
    }
  }

  /**
   * Parses each non-blank line of a JSONL file as a JSON object, reading one line at a time.
   *
   * @param why what to say after "line is longer than N characters", or null
   */
  static void forEachLine(Path jsonl, int maxLineChars, String why, LineHandler handler) throws IOException {
    String file = jsonl.toString();
    forEachText(jsonl, maxLineChars, why, (lineNo, line) -> {
      JsonNode node;
      try {
        node = JSON.readTree(line);
      } catch (JsonProcessingException e) {
        throw new EvalDataException(file, "line " + lineNo, null, "bad JSON: " + e.getOriginalMessage(), e);
      }
      if (!node.isObject()) {
        throw new EvalDataException(file, "line " + lineNo, null, "must be a JSON object, found " + kind(node));
      }
      handler.accept(lineNo, node);
    });
  }

  /** The longest image file name taken (Linux allows 255 bytes a name and 4096 a path). */
  static final int MAX_FILE_NAME = 4096;

  /**
   * A required string field that names a file: no NUL character (no file system takes one; {@code
   * Path.resolve} throws InvalidPathException, which bench/fuzz.sh found escaping), at most {@link
   * #MAX_FILE_NAME} characters.
   */
  static String fileName(JsonNode node, String field, Where at) {
    String name = text(node, field, at);
    if (name.indexOf('\0') >= 0 || name.length() > MAX_FILE_NAME) {
      throw at.fail(field, "\"" + dev.fovea.tensor.ErrorList.abbreviate(name, 60).replace('\0', '?') + "\" is not a file name"
          + (name.length() > MAX_FILE_NAME ? " (" + name.length() + " characters)" : " (it holds a NUL character)"));
    }
    return name;
  }

  /** A required non-blank string field. */
  static String text(JsonNode node, String field, Where at) {
    JsonNode v = node.get(field);
    if (v == null || v.isNull()) {
      throw at.fail(field, "missing");
    }
    if (!v.isTextual()) {
      throw at.fail(field, "must be a string, found " + kind(v));
    }
    if (v.asText().isBlank()) {
      throw at.fail(field, "is empty");
    }
    return v.asText();
  }

  /** An id: a string, or an integer written as its digits. Empty when absent or null. */
  static Optional<String> id(JsonNode node, String field, Where at) {
    JsonNode v = node.get(field);
    if (v == null || v.isNull()) {
      return Optional.empty();
    }
    if (v.isTextual() && !v.asText().isBlank()) {
      return Optional.of(v.asText());
    }
    if (v.isIntegralNumber()) {
      return Optional.of(v.bigIntegerValue().toString());
    }
    throw at.fail(field, "must be a non-empty string or an integer, found " + kind(v));
  }

  /** A parser position for messages: "line 3, column 17". */
  static String where(JsonLocation loc) {
    return loc == null ? "unknown position" : "line " + loc.getLineNr() + ", column " + loc.getColumnNr();
  }

  /** "a string", "a number", "null"... for error messages. */
  static String kind(JsonNode v) {
    return switch (v.getNodeType()) {
      case STRING -> "a string";
      case NUMBER -> "a number";
      case BOOLEAN -> "a boolean";
      case ARRAY -> "a list";
      case OBJECT -> "an object";
      case NULL -> "null";
      default -> v.getNodeType().toString().toLowerCase(Locale.ROOT);
    };
  }
}
