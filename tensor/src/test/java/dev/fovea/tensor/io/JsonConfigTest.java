package dev.fovea.tensor.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fovea.tensor.ErrorList;
import dev.fovea.tensor.TensorException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Strict config reading: JSON types, ranges, defaults for absent and null keys, and one-line errors. */
class JsonConfigTest {
  static JsonConfig config(String json) {
    return JsonConfig.of(JsonConfig.parse(json.getBytes(StandardCharsets.UTF_8), "c.json", TensorException::new), "c.json", TensorException::new);
  }

  static String error(String json, Function<JsonConfig, Object> read) {
    TensorException e = assertThrows(TensorException.class, () -> read.apply(config(json)));
    assertFalse(e.getMessage().contains("\n") || e.getMessage().contains("REDACTED"), e.getMessage());
    return e.getMessage();
  }

  @Test
  void integersMustBeIntegralAndInRangeAndAreShownAsWritten() {
    assertEquals(64, config("{\"n\": 64}").integer("n", 1, 100));
    assertEquals(7, config("{\"n\": null}").integer("n", 7, 1, 100));
    assertEquals(7, config("{}").integer("n", 7, 1, 100));
    assertNull(config("{\"n\": null}").integerOrNull("n", 1, 100));
    assertEquals("c.json: 'n' must be an integer, found 64.5", error("{\"n\": 64.5}", c -> c.integer("n", 1, 100)));
    assertEquals("c.json: 'n' must be an integer, found 64.0", error("{\"n\": 64.0}", c -> c.integer("n", 1, 100)));
    assertEquals("c.json: 'n' must be an integer, found 1.0E12", error("{\"n\": 1e12}", c -> c.integer("n", 1, 100)));
    assertEquals("c.json: 'n' must be an integer, found \"64\"", error("{\"n\": \"64\"}", c -> c.integer("n", 1, 100)));
    assertEquals("c.json: 'n' must be an integer, found true", error("{\"n\": true}", c -> c.integer("n", 1, 100)));
    assertEquals("c.json: 'n' must be at most 100 (fovea's limit), found 1099511627776",
        error("{\"n\": 1099511627776}", c -> c.integer("n", 1, 100)));
    assertEquals("c.json: 'n' must be at most 2147483647 (an int), found 123456789012345678901234567890",
        error("{\"n\": 123456789012345678901234567890}", c -> c.integer("n", 0, Integer.MAX_VALUE)));
    assertEquals("c.json: 'n' must be positive, found 0", error("{\"n\": 0}", c -> c.integer("n", 1, 100)));
    assertEquals("c.json: 'n' must not be negative, found -1", error("{\"n\": -1}", c -> c.integer("n", 0, 100)));
    assertEquals("c.json: 'n' is missing", error("{}", c -> c.integer("n", 1, 100)));
    assertEquals("c.json: 'n' is null, expected an integer", error("{\"n\": null}", c -> c.integer("n", 1, 100)));
    assertEquals(List.of(1, 2), config("{\"n\": [1, 2]}").integers("n", 0, 9));
    assertEquals(List.of(3), config("{\"n\": 3}").integers("n", 0, 9));
    assertEquals(List.of(), config("{\"n\": null}").integers("n", 0, 9));
    assertEquals("c.json: 'n[1]' must be an integer, found \"2\"", error("{\"n\": [1, \"2\"]}", c -> c.integers("n", 0, 9)));
  }

  @Test
  void numbersFlagsStringsAndObjects() {
    JsonConfig c = config("{\"x\": 1e-5, \"i\": 3, \"b\": false, \"s\": \"silu\", \"o\": {\"k\": 2}, \"z\": null}");
    assertEquals(1e-5, c.positive("x", 1), 0);
    assertEquals(3.0, c.number("i", 0), 0);
    assertFalse(c.bool("b", true));
    assertEquals("silu", c.string("s", "gelu"));
    assertEquals("gelu", c.string("z", "gelu"));
    assertEquals(2, c.object("o").integer("k", 0, 9));
    assertEquals(5, c.object("z").integer("k", 5, 0, 9));
    assertEquals("c.json: 'o.k' must be at most 1 (fovea's limit), found 2", error("{\"o\": {\"k\": 2}}", r -> r.object("o").integer("k", 0, 1)));
    assertEquals("c.json: 'x' must be a finite number, found \"1e-5\"", error("{\"x\": \"1e-5\"}", r -> r.number("x", 0)));
    assertEquals("c.json: 'x' must be positive, found -1.5", error("{\"x\": -1.5}", r -> r.positive("x", 1)));
    assertEquals("c.json: 'b' must be true or false, found \"yes\"", error("{\"b\": \"yes\"}", r -> r.bool("b", false)));
    assertEquals("c.json: 's' must be a string, found 7", error("{\"s\": 7}", r -> r.string("s", "")));
    assertEquals("c.json: 'o' must be an object, found [1]", error("{\"o\": [1]}", r -> r.object("o")));
    String huge = error("{\"s\": [\"" + "x".repeat(100_000) + "\"]}", r -> r.string("s", ""));
    assertTrue(huge.length() < 200, huge);
  }

  @Test
  void textThatIsNotAJsonObjectIsOneLineWithItsPlace(@TempDir Path tmp) throws Exception {
    for (String[] c : new String[][] {
        {"hello", "c.json: not valid JSON at line 1, column "},
        {"hello", "Unrecognized token 'hello'"},
        {"{\"a\": 1,\n \"b\": ", "c.json: not valid JSON at line 2, column "},
        {"{\"a\": 1,\n \"b\": 2", "(start marker at line 1, column 1)"},
        {"{\"a\": 1} {\"b\": 2}", "c.json: not valid JSON at line 1, column "},
        {"{\"a\": 1} {\"b\": 2}", ": unexpected text after the top-level value"},
        {"[1, 2]", "c.json: not a JSON object (found an array)"},
        {"", "c.json: empty, not a JSON object"}}) {
      TensorException e = assertThrows(TensorException.class, () -> config(c[0]), c[0]);
      assertTrue(e.getMessage().contains(c[1]), c[0] + " -> " + e.getMessage());
      assertFalse(e.getMessage().contains("\n") || e.getMessage().contains("REDACTED") || e.getMessage().contains("Source:"), e.getMessage());
    }
    Path missing = tmp.resolve("config.json");
    assertEquals(missing + ": no such file", assertThrows(TensorException.class, () -> JsonConfig.read(missing, TensorException::new)).getMessage());
    Files.writeString(missing, "{\"n\": 1}");
    assertEquals(1, JsonConfig.read(missing, TensorException::new).get("n").asInt());
  }

  @Test
  void errorListsShowTheFirstTenAndACount() {
    assertEquals(": one", ErrorList.lines(List.of("one")));
    List<Integer> many = java.util.stream.IntStream.range(0, 25).boxed().toList();
    String s = ErrorList.lines(many);
    assertTrue(s.startsWith(":\n  0\n  1\n") && s.endsWith("\n  9\n  ... and 15 more"), s);
    assertEquals("abc...", ErrorList.abbreviate("abcdefgh", 6));
  }
}
