package dev.fovea.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 21 item 2 from the command line: a model folder whose config.json is hostile gives exit 1
 * and one short line on stderr (no stack trace, no megabyte list, no Jackson boilerplate), at once.
 */
class HostileConfigCommandTest {
  static final Path TINY = Path.of("../llm/src/test/resources/llama-reference/tiny");

  @TempDir Path tmp;

  Path folder(String name, String config) throws Exception {
    Path dir = Files.createDirectories(tmp.resolve(name));
    Files.copy(TINY.resolve("model.safetensors"), dir.resolve("model.safetensors"));
    Files.writeString(dir.resolve("config.json"), config);
    return dir;
  }

  LlamaAskCommandTest.Run ask(Path model) {
    return assertTimeoutPreemptively(Duration.ofSeconds(20),
        () -> LlamaAskCommandTest.run("ask", "--model", model.toString(), "--prompt", "a b", "--max-new-tokens", "2", "--no-progress"));
  }

  static void oneShortLine(LlamaAskCommandTest.Run r, String... parts) {
    assertEquals(1, r.code(), r.err().substring(0, Math.min(r.err().length(), 2000)));
    String err = r.err().strip();
    assertTrue(err.length() < 1024, err.length() + " chars: " + err.substring(0, Math.min(err.length(), 2000)));
    assertFalse(err.contains("\n") || err.contains("REDACTED") || err.contains("\tat "), err);
    for (String p : parts) {
      assertTrue(err.contains(p), "stderr lacks '" + p + "': " + err);
    }
  }

  @Test
  void layerCountsOfConfigAndWeightsMustAgree() throws Exception {
    String config = Files.readString(TINY.resolve("config.json"));
    Path thousand = folder("thousand", config.replace("\"num_hidden_layers\": 3", "\"num_hidden_layers\": 1000"));
    oneShortLine(ask(thousand), "fovea: LlamaException: ", "num_hidden_layers = 1000 but the weights have 3");
    Path million = folder("million", config.replace("\"num_hidden_layers\": 3", "\"num_hidden_layers\": 1000000"));
    oneShortLine(ask(million), "'num_hidden_layers' must be at most 1024 (fovea's limit), found 1000000");
  }

  @Test
  void badValuesAndTextThatIsNotJson() throws Exception {
    String config = Files.readString(TINY.resolve("config.json"));
    oneShortLine(ask(folder("heads", config.replace("\"num_attention_heads\": 4", "\"num_attention_heads\": 0"))),
        "'num_attention_heads' must be positive, found 0");
    oneShortLine(ask(folder("huge", config.replace("\"hidden_size\": 64", "\"hidden_size\": 1099511627776"))), "found 1099511627776");
    oneShortLine(ask(folder("not-json", "this is not json")), "config.json: not valid JSON at line 1, column");
  }
}
