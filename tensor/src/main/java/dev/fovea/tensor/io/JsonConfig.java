package dev.fovea.tensor.io;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.fovea.tensor.ErrorList;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Strict reading of a model's JSON config ({@code config.json}, {@code preprocessor_config.json}), shared
 * by every model family so that a hostile file fails the same way everywhere:
 *
 * <ul>
 *   <li>Each value's JSON type is checked. An integer key takes an integral JSON number inside the
 *       caller's range; 64.5, 1e12, "64" and 1099511627776 (where the range is an int's) are refused
 *       and shown as written, never truncated ({@code asInt} would make 1099511627776 a 0).
 *   <li>A key that is absent or {@code null} takes the caller's default (Hugging Face writes null for
 *       "use the default"); unknown keys are ignored.
 *   <li>Errors are the caller's exception type, one line each: {@code "<file>: '<dotted key>' must
 *       be positive, found 0"}, the value cut to {@link ErrorList#ITEM_CHARS} characters.
 *   <li>Text that is not JSON is one line with Jackson's own finding and its line and column,
 *       without Jackson's {@code [Source: REDACTED ...]} boilerplate; trailing text after the object
 *       is refused; a file over {@link #MAX_FILE_BYTES} is refused unread.
 * </ul>
 */
public final class JsonConfig {
  /**
   * The largest config file read: Hugging Face's config.json and preprocessor_config.json are a few
   * KB; 16 MiB leaves room for anything real and keeps a hostile file from filling the heap.
   */
  public static final long MAX_FILE_BYTES = 16L << 20;

  private static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

  private final JsonNode node; // an object
  private final String origin;
  private final String path; // "" or the dotted prefix of a nested object, e.g. "vision_config."
  private final Function<String, ? extends RuntimeException> error;

  private JsonConfig(JsonNode node, String origin, String path, Function<String, ? extends RuntimeException> error) {
    this.node = node;
    this.origin = origin;
    this.path = path;
    this.error = error;
  }

  /** A reader over a parsed object; {@code error} makes the caller's exception from a whole message. */
  public static JsonConfig of(JsonNode node, String origin, Function<String, ? extends RuntimeException> error) {
    checkObject(node, origin, error);
    return new JsonConfig(node, origin, "", error);
  }

  /** Parses config bytes into a JSON object; anything else is an error naming {@code origin}. */
  public static JsonNode parse(byte[] json, String origin, Function<String, ? extends RuntimeException> error) {
    if (json.length > MAX_FILE_BYTES) {
      throw error.apply(origin + ": " + json.length + " bytes, more than the " + (MAX_FILE_BYTES >> 20) + " MiB a config file may have");
    }
    JsonNode root;
    try {
      root = JSON.readTree(json);
    } catch (JsonProcessingException e) {
      throw error.apply(origin + ": not valid JSON " + describe(e));
    } catch (IOException e) {
      throw error.apply(origin + ": cannot read: " + ErrorList.abbreviate(String.valueOf(e.getMessage()), ErrorList.ITEM_CHARS));
    }
    checkObject(root, origin, error);
    return root;
  }

  /** Reads and parses a config file (at most {@link #MAX_FILE_BYTES}). */
  public static JsonNode read(Path file, Function<String, ? extends RuntimeException> error) {
    return parse(readBytes(file, error), file.toString(), error);
  }

  /** A config file's bytes, refused unread when it is over {@link #MAX_FILE_BYTES}. */
  public static byte[] readBytes(Path file, Function<String, ? extends RuntimeException> error) {
    try {
      long size = Files.size(file);
      if (size > MAX_FILE_BYTES) {
        throw error.apply(file + ": " + size + " bytes, more than the " + (MAX_FILE_BYTES >> 20) + " MiB a config file may have");
      }
      return Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      throw error.apply(file + ": no such file");
    } catch (IOException e) {
      throw error.apply(file + ": cannot read: " + ErrorList.abbreviate(String.valueOf(e.getMessage()), ErrorList.ITEM_CHARS));
    }
  }

  /**
   * Jackson's finding in one line, located: {@code "at line 1, column 2: Unrecognized token 'hello':
   * was expecting ..."}. Jackson's own message carries a {@code [Source: REDACTED ...]} location
   * (and sometimes a second one inside, for where an unclosed object started); those become plain
   * "line L, column C".
   */
  public static String describe(JsonProcessingException e) {
    String msg = e.getOriginalMessage() == null ? e.getClass().getSimpleName() : e.getOriginalMessage();
    if (e instanceof MismatchedInputException && msg.startsWith("Trailing token")) {
      msg = "unexpected text after the top-level value";
    }
    msg = msg.replaceAll("\\[Source: .*?; line: (\\d+), column: (\\d+)\\]", "line $1, column $2");
    JsonLocation loc = e.getLocation();
    String at = loc == null || loc.getLineNr() < 0 ? "" : "at line " + loc.getLineNr() + ", column " + loc.getColumnNr() + ": ";
    return ErrorList.abbreviate(at + msg, ErrorList.ITEM_CHARS);
  }

  private static void checkObject(JsonNode node, String origin, Function<String, ? extends RuntimeException> error) {
    if (node == null || node.isMissingNode()) {
      throw error.apply(origin + ": empty, not a JSON object");
    }
    if (!node.isObject()) {
      throw error.apply(origin + ": not a JSON object (found " + kind(node) + ")");
    }
  }

  // ---------------------------------------------------------------- keys

  /** The file (and for nested objects, the same file) named in errors. */
  public String origin() {
    return origin;
  }

  /** The dotted key as errors name it ({@code "vision_config.hidden_size"}). */
  public String key(String key) {
    return path + key;
  }

  /** The parsed object itself. */
  public JsonNode node() {
    return node;
  }

  /** An error about {@code key}: {@code "<file>: '<dotted key>' <problem>"}. */
  public RuntimeException error(String key, String problem) {
    return error.apply(origin + ": '" + key(key) + "' " + problem);
  }

  /** Whether the key is present with a value other than null. */
  public boolean has(String key) {
    JsonNode v = node.get(key);
    return v != null && !v.isNull();
  }

  /** The value, or null when the key is absent or null. */
  public JsonNode get(String key) {
    return has(key) ? node.get(key) : null;
  }

  /** The nested object at {@code key}; absent or null reads as an empty object (every key defaulted). */
  public JsonConfig object(String key) {
    JsonNode v = get(key);
    if (v == null) {
      return new JsonConfig(JsonNodeFactory.instance.objectNode(), origin, key(key) + ".", error);
    }
    if (!v.isObject()) {
      throw error(key, "must be an object, found " + show(v));
    }
    return new JsonConfig(v, origin, key(key) + ".", error);
  }

  /** This reader over another object at the same place (e.g. a copy with defaults filled in). */
  public JsonConfig with(JsonNode replacement) {
    checkObject(replacement, origin + (path.isEmpty() ? "" : " (" + path.substring(0, path.length() - 1) + ")"), error);
    return new JsonConfig(replacement, origin, path, error);
  }

  /** A required integer in [min, max]. */
  public int integer(String key, int min, int max) {
    JsonNode v = get(key);
    if (v == null) {
      throw error(key, node.has(key) ? "is null, expected an integer" : "is missing");
    }
    return integer(v, key, min, max);
  }

  /** An integer in [min, max], or {@code dflt} when absent or null. */
  public int integer(String key, int dflt, int min, int max) {
    JsonNode v = get(key);
    return v == null ? dflt : integer(v, key, min, max);
  }

  /** An integer in [min, max], or null when absent or null (for records that resolve their own defaults). */
  public Integer integerOrNull(String key, int min, int max) {
    JsonNode v = get(key);
    return v == null ? null : integer(v, key, min, max);
  }

  /** An integer, or a list of integers (as {@code eos_token_id}), each in [min, max]; empty when absent or null. */
  public List<Integer> integers(String key, int min, int max) {
    JsonNode v = get(key);
    List<Integer> out = new ArrayList<>();
    if (v == null) {
      return out;
    }
    if (!v.isArray()) {
      out.add(integer(v, key, min, max));
      return out;
    }
    for (int i = 0; i < v.size(); i++) {
      out.add(integer(v.get(i), key + "[" + i + "]", min, max));
    }
    return out;
  }

  private int integer(JsonNode v, String key, int min, int max) {
    if (!v.isIntegralNumber()) {
      throw error(key, "must be an integer, found " + show(v));
    }
    BigInteger x = v.bigIntegerValue();
    if (x.compareTo(BigInteger.valueOf(min)) < 0) {
      String need = min == 1 ? "must be positive" : min == 0 ? "must not be negative" : "must be at least " + min;
      throw error(key, need + ", found " + show(v));
    }
    if (x.compareTo(BigInteger.valueOf(max)) > 0) {
      throw error(key, "must be at most " + max + (max == Integer.MAX_VALUE ? " (an int)" : " (fovea's limit)") + ", found " + show(v));
    }
    return x.intValue();
  }

  /** A finite number, or {@code dflt} when absent or null. */
  public double number(String key, double dflt) {
    JsonNode v = get(key);
    if (v == null) {
      return dflt;
    }
    if (!v.isNumber() || !Double.isFinite(v.doubleValue())) {
      throw error(key, "must be a finite number, found " + show(v));
    }
    return v.doubleValue();
  }

  /** A finite number &gt; 0, or {@code dflt} when absent or null. */
  public double positive(String key, double dflt) {
    double x = number(key, dflt);
    if (!(x > 0)) {
      throw error(key, "must be positive, found " + show(node.get(key)));
    }
    return x;
  }

  /** true or false, or {@code dflt} when absent or null. */
  public boolean bool(String key, boolean dflt) {
    JsonNode v = get(key);
    if (v == null) {
      return dflt;
    }
    if (!v.isBoolean()) {
      throw error(key, "must be true or false, found " + show(v));
    }
    return v.booleanValue();
  }

  /** A string, or {@code dflt} when absent or null. */
  public String string(String key, String dflt) {
    JsonNode v = get(key);
    if (v == null) {
      return dflt;
    }
    if (!v.isTextual()) {
      throw error(key, "must be a string, found " + show(v));
    }
    return v.textValue();
  }

  /** A JSON value as written (strings quoted), cut to one short line. */
  public static String show(JsonNode v) {
    if (v == null) {
      return "nothing";
    }
    String s = v.isTextual() ? "\"" + v.textValue() + "\"" : v.toString();
    return ErrorList.abbreviate(s, 60);
  }

  private static String kind(JsonNode n) {
    return switch (n.getNodeType()) {
      case ARRAY -> "an array";
      case STRING -> "a string";
      case NUMBER -> "a number";
      case BOOLEAN -> "a boolean";
      case NULL -> "null";
      default -> n.getNodeType().name().toLowerCase(java.util.Locale.ROOT);
    };
  }
}
