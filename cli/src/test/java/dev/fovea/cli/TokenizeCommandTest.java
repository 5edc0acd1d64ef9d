package dev.fovea.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class TokenizeCommandTest {
  record Run(int code, String out, String err) {}

  static Run run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cl = Fovea.commandLine();
    cl.setOut(new PrintWriter(out));
    cl.setErr(new PrintWriter(err));
    int code = cl.execute(args);
    return new Run(code, out.toString(), err.toString());
  }

  static Path shared(String rel) {
    String prop = System.getProperty("fovea.shared", "../shared");
    Path p = Path.of(prop).resolve("data/tokenizers").resolve(rel);
    assumeTrue(Files.exists(p), "../shared/data absent: " + p + " not found");
    return p;
  }

  @Test
  void sentencePieceIdsPiecesAndDecode() {
    Path model = shared("llama/tokenizer.model");
    assertEquals(new Run(0, "1 15043 3186\n", ""), run("tokenize", "--model", model.toString(), "Hello world"));
    assertEquals("15043 3186\n", run("tokenize", "--model", model.toString(), "--no-special", "Hello world").out());
    assertTrue(run("tokenize", "--model", model.toString(), "--pieces", "Hello").out().contains("15043 -> '\u2581Hello'"));
    assertEquals("{\"ids\":[1,15043],\"pieces\":[\"<s>\",\"\u2581Hello\"]}\n",
        run("tokenize", "--model", model.toString(), "--pieces", "--json", "Hello").out());
    assertEquals("Hello world\n", run("tokenize", "--model", model.toString(), "--decode", "1,15043,3186").out());
  }

  @Test
  void folderDetection() {
    assertEquals("49406 320 1125 539 320 2368 49407\n",
        run("tokenize", "--model", shared("clip").toString(), "a photo of a cat").out());
    assertEquals("101 1037 3861 1997 102\n", run("tokenize", "--model", shared("bert/bert-base-uncased-vocab.txt").toString(), "a picture of").out());
  }

  @Test
  void errorsAreOneLine(@TempDir Path dir) throws Exception {
    Path bad = dir.resolve("tokenizer.model");
    Files.writeString(bad, "garbage!");
    Run r = run("tokenize", "--model", bad.toString(), "x");
    assertEquals(1, r.code());
    assertEquals(1, r.err().lines().count(), r.err());
    assertTrue(r.err().startsWith("fovea: TokenizerFileException: " + bad), r.err());
    Run missing = run("tokenize", "--model", dir.resolve("nope").toString(), "x");
    assertEquals(1, missing.code());
    assertTrue(missing.err().contains("no such file"), missing.err());
    assertTrue(run("tokenize", "--model", dir.toString()).code() != 0);
  }
}
