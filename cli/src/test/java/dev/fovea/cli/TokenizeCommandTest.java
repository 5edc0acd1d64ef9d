package dev.fovea.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fovea.llm.llava.LlavaPrompt;
import dev.fovea.llm.tokenizer.TokenizerLoader;
import dev.fovea.vit.tokenizer.TextTokenizer;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.StreamSupport;
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

  static final Path LLAVA = LlavaAskCommandTest.MODEL;

  static int[] ids(String json) throws Exception {
    JsonNode n = new ObjectMapper().readTree(json);
    return StreamSupport.stream(n.get("ids").spliterator(), false).mapToInt(JsonNode::asInt).toArray();
  }

  static String joined(int[] ids) {
    return String.join(" ", Arrays.stream(ids).mapToObj(Integer::toString).toList());
  }

  /**
   * The tiny llava-hf fixture declares {@code <image>} = 512 (tokenizer_config.json): tokenize
   * gives the ids ask feeds the model, and --decode knows the id.
   */
  @Test
  void llavaFolderTokenizesAsAskFeedsTheModel(@TempDir Path tmp) throws Exception {
    String text = LlavaPrompt.text(LlavaPrompt.Template.LLAVA_HF, "What is it?", 1);
    Run r = run("tokenize", "--model", LLAVA.toString(), "--json", text);
    assertEquals(0, r.code(), r.err());
    int[] got = ids(r.out());
    TextTokenizer bare = TokenizerLoader.fromLlama2cBin(LLAVA.resolve("tokenizer.bin")); // the chunk rule, without the folder's added tokens
    assertArrayEquals(LlavaPrompt.tokenize(bare, text, 512), got, "tokenize vs the ids ask builds");
    assertEquals(1, Arrays.stream(got).filter(i -> i == 512).count(), Arrays.toString(got));
    // ask's prompt: the same ids with the one image id expanded to the image's 4 feature rows
    java.awt.image.BufferedImage img = new java.awt.image.BufferedImage(28, 28, java.awt.image.BufferedImage.TYPE_INT_RGB);
    Path png = tmp.resolve("i.png");
    javax.imageio.ImageIO.write(img, "png", png.toFile());
    Run ask = run("ask", "--model", LLAVA.toString(), "--question", "What is it?", "--image", png.toString(), "--max-new-tokens", "1", "--json",
        "--no-progress");
    assertEquals(0, ask.code(), ask.err());
    assertEquals(got.length - 1 + 4, new ObjectMapper().readTree(ask.out()).get("prompt_tokens").asInt());
    // --decode: special added tokens are left out, or kept with --keep-special
    Run dec = run("tokenize", "--model", LLAVA.toString(), "--decode", "512");
    assertEquals(new Run(0, "\n", ""), dec);
    assertEquals(new Run(0, "<image>\n", ""), run("tokenize", "--model", LLAVA.toString(), "--decode", "512", "--keep-special"));
    assertTrue(run("tokenize", "--model", LLAVA.toString(), "--pieces", "<image>").out().contains("512 -> '<image>'"));
    // --no-special: "<image>" is plain text
    assertTrue(Arrays.stream(ids(run("tokenize", "--model", LLAVA.toString(), "--json", "--no-special", text).out())).noneMatch(i -> i == 512));
  }

  /** A llava-hf folder: the LLaMA tokenizer.model with tokenizer_config.json's added tokens. */
  @Test
  void llavaHfDecodeOfTheImageToken(@TempDir Path dir) throws Exception {
    Files.copy(shared("llama/tokenizer.model"), dir.resolve("tokenizer.model"));
    Files.writeString(dir.resolve("tokenizer_config.json"), "{\"added_tokens_decoder\": {"
        + "\"32000\": {\"content\": \"<image>\", \"lstrip\": false, \"normalized\": false, \"rstrip\": false, \"single_word\": false, \"special\": true},"
        + "\"32001\": {\"content\": \"<pad>\", \"lstrip\": false, \"normalized\": false, \"rstrip\": false, \"single_word\": false, \"special\": true}}}");
    assertEquals(new Run(0, "<image>\n", ""), run("tokenize", "--model", dir.toString(), "--decode", "32000", "--keep-special"));
    assertEquals("1 3148 1001 29901 29871 32000 29871 13 5618\n", run("tokenize", "--model", dir.toString(), "USER: <image>\nWhat").out());
  }

  static Run runWithStdin(String stdin, String... args) {
    InputStream saved = System.in;
    System.setIn(new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)));
    try {
      return run(args);
    } finally {
      System.setIn(saved);
    }
  }

  @Test
  void manyTextsFromStdinAndJsonl(@TempDir Path dir) throws Exception {
    TextTokenizer tok = TokenizerLoader.load(LLAVA);
    List<String> texts = List.of("Once upon a time", "-starts with a dash", "", "<image> \u00e9t\u00e9 \ud83d\ude42");
    StringBuilder want = new StringBuilder();
    StringBuilder wantJson = new StringBuilder();
    for (String t : texts) {
      want.append(joined(tok.encode(t))).append('\n');
      wantJson.append("{\"ids\":").append(Arrays.toString(tok.encode(t)).replace(" ", "")).append("}\n");
    }
    Run r = runWithStdin(String.join("\n", texts) + "\n", "tokenize", "--model", LLAVA.toString(), "--stdin");
    assertEquals(new Run(0, want.toString(), ""), r);
    assertEquals(new Run(0, wantJson.toString(), ""), runWithStdin(String.join("\r\n", texts), "tokenize", "--model", LLAVA.toString(), "--stdin", "--json"));

    Path jsonl = dir.resolve("corpus.jsonl");
    ObjectMapper om = new ObjectMapper();
    StringBuilder lines = new StringBuilder();
    for (String t : texts) {
      lines.append(om.writeValueAsString(java.util.Map.of("text", t, "id", lines.length()))).append('\n');
    }
    lines.append("\n"); // a blank line is skipped
    Files.writeString(jsonl, lines);
    assertEquals(new Run(0, want.toString(), ""), run("tokenize", "--model", LLAVA.toString(), "--jsonl", jsonl.toString()));
    Run pieces = run("tokenize", "--model", LLAVA.toString(), "--jsonl", jsonl.toString(), "--json", "--pieces");
    assertEquals(texts.size(), pieces.out().lines().count());
    assertTrue(pieces.out().lines().allMatch(l -> l.startsWith("{\"ids\":[") && l.contains("\"pieces\":[")), pieces.out());

    Files.writeString(jsonl, "{\"text\": \"fine\"}\n{\"txt\": \"wrong key\"}\n");
    Run bad = run("tokenize", "--model", LLAVA.toString(), "--jsonl", jsonl.toString());
    assertNotEquals(0, bad.code());
    assertTrue(bad.err().contains(jsonl + ":2: expected an object with a string \"text\""), bad.err());
    assertEquals(2, run("tokenize", "--model", LLAVA.toString(), "--stdin", "text").code(), "one source at a time");
    assertEquals(2, run("tokenize", "--model", LLAVA.toString(), "--stdin", "--pieces").code(), "--pieces in batch mode needs --json");
  }

  @Test
  void textsThatBeginWithADashGoAfterDoubleDash() {
    TextTokenizer tok = TokenizerLoader.load(LLAVA);
    assertEquals(new Run(0, joined(tok.encode("-5 degrees")) + "\n", ""), run("tokenize", "--model", LLAVA.toString(), "--", "-5 degrees"));
    assertEquals(new Run(0, joined(tok.encode("--json")) + "\n", ""), run("tokenize", "--model", LLAVA.toString(), "--", "--json"));
    assertEquals(2, run("tokenize", "--model", LLAVA.toString(), "-5 degrees").code());
    String help = run("tokenize", "--help").out().replaceAll("\\s+", " ");
    assertTrue(help.contains("goes after '--'"), help);
    assertTrue(help.contains("--stdin") && help.contains("--jsonl"), help);
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
