package dev.fovea.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fovea.llm.tokenizer.TokenizerLoader;
import dev.fovea.vit.tokenizer.TextTokenizer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * Text to token ids and back, like llama.cpp's {@code llama-tokenize}. The tokenizer is found by
 * {@link TokenizerLoader#load}: a model folder ({@code tokenizer.json}, {@code tokenizer.model},
 * {@code vocab.json} + {@code merges.txt}, {@code bpe_simple_vocab_16e6.txt.gz}, {@code vocab.txt},
 * {@code tokenizer.bin}, with the folder's added tokens) or one of those files.
 *
 * <p>Many texts in one run: {@code --stdin} (one text per line) or {@code --jsonl FILE} (one
 * {@code {"text": ...}} object per line) print one result per input line, in order (with
 * {@code --json} one JSON object per line), so a corpus is tokenized by one JVM.
 */
@Command(name = "tokenize", mixinStandardHelpOptions = true,
    description = {"Print the token ids of a text (or, with --decode, the text of ids).",
        "A text that begins with '-' goes after '--', which ends the options: fovea tokenize --model M -- \"-5 degrees\""},
    footer = {"", "Examples:",
        "  fovea tokenize --model llava-1.5-7b-hf $'USER: <image>\\nWhat is this? ASSISTANT:'",
        "  fovea tokenize --model llava-1.5-7b-hf --decode 32000 --keep-special",
        "  fovea tokenize --model tokenizer.model -- --not-an-option",
        "  fovea tokenize --model tokenizer.model --stdin --json < lines.txt",
        "  fovea tokenize --model tokenizer.model --jsonl corpus.jsonl"})
final class TokenizeCommand implements Callable<Integer> {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(names = "--model", required = true, paramLabel = "PATH",
      description = "model folder or vocabulary file (tokenizer.model, tokenizer.json, vocab.json, *.txt.gz, vocab.txt, *.bin); "
          + "a folder's tokenizer_config.json / added_tokens.json add their tokens (llava-hf's <image>)")
  Path model;

  @Option(names = "--pieces", description = "print each id with its vocabulary entry")
  boolean pieces;

  @Option(names = "--no-special",
      description = "add no BOS/[CLS]/start-of-text tokens and treat special-token text (<s>, [SEP], <image>) as plain text")
  boolean noSpecial;

  @Option(names = "--decode", split = ",", paramLabel = "ID", description = "ids to turn back into text, comma-separated, each 0 to the vocabulary size - 1")
  List<Integer> decode;

  @Option(names = "--keep-special",
      description = "with --decode: keep special tokens as their text (<s>, <image>), as Hugging Face's decode(ids) does; by default they are left out (skip_special_tokens)")
  boolean keepSpecial;

  @Option(names = "--stdin", description = "tokenize each line of standard input (UTF-8), one result per line")
  boolean stdin;

  @Option(names = "--jsonl", paramLabel = "FILE", description = "tokenize the \"text\" of each JSON object of FILE (one per line), one result per line")
  Path jsonl;

  @Option(names = "--json", description = "print the result as JSON (with --stdin/--jsonl: one object per line)")
  boolean json;

  @Parameters(arity = "0..1", paramLabel = "TEXT", description = "the text to tokenize (after '--' when it begins with '-')")
  String text;

  private final ObjectMapper mapper = new ObjectMapper();

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    int sources = (decode != null ? 1 : 0) + (text != null ? 1 : 0) + (stdin ? 1 : 0) + (jsonl != null ? 1 : 0);
    if (sources != 1) {
      throw new CommandLine.ParameterException(spec.commandLine(), "give one of TEXT, --stdin, --jsonl FILE or --decode ID,ID,...");
    }
    if (keepSpecial && decode == null) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--keep-special goes with --decode");
    }
    if (pieces && !json && (stdin || jsonl != null)) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--pieces with --stdin or --jsonl needs --json (one object per line)");
    }
    if (decode != null) {
      for (int id : decode) {
        OptionRange.check(spec, "--decode", id, 0, Integer.MAX_VALUE);
      }
    }
    TextTokenizer tok = TokenizerLoader.load(model);
    if (decode != null) {
      int[] ids = decode.stream().mapToInt(Integer::intValue).toArray();
      for (int id : ids) {
        OptionRange.check(spec, "--decode", id, 0, tok.vocabSize() - 1, "the vocabulary has " + tok.vocabSize() + " ids");
      }
      String decoded = tok.decode(ids, !keepSpecial);
      if (json) {
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("ids", ids);
        result.put("text", decoded);
        out.println(mapper.writeValueAsString(result));
      } else {
        out.println(decoded);
      }
      out.flush();
      return 0;
    }
    if (text != null) {
      print(tok, text, out, false);
    } else if (stdin) {
      BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
      for (String line; (line = in.readLine()) != null; ) {
        print(tok, line, out, true);
      }
    } else {
      readJsonl(tok, out);
    }
    out.flush();
    return 0;
  }

  /** Each line of --jsonl: a JSON object with a string "text" (blank lines are skipped). */
  private void readJsonl(TextTokenizer tok, PrintWriter out) throws IOException {
    try (BufferedReader in = Files.newBufferedReader(jsonl, StandardCharsets.UTF_8)) {
      int lineNumber = 0;
      for (String line; (line = in.readLine()) != null; ) {
        lineNumber++;
        if (line.isBlank()) {
          continue;
        }
        JsonNode n;
        try {
          n = mapper.readTree(line);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
          throw new IllegalArgumentException(jsonl + ":" + lineNumber + ": not a JSON object: " + e.getOriginalMessage());
        }
        JsonNode t = n == null ? null : n.get("text");
        if (t == null || !t.isTextual()) {
          throw new IllegalArgumentException(jsonl + ":" + lineNumber + ": expected an object with a string \"text\", got " + abbreviate(line));
        }
        print(tok, t.asText(), out, true);
      }
    }
  }

  private static String abbreviate(String s) {
    return s.length() <= 80 ? s : s.substring(0, 77) + "...";
  }

  /** One text's result: ids on one line, JSON, or (single text only) one line per id with its piece. */
  private void print(TextTokenizer tok, String s, PrintWriter out, boolean batch) throws IOException {
    int[] ids = tok.encode(s, !noSpecial);
    if (json) {
      Map<String, Object> result = new LinkedHashMap<>();
      result.put("ids", ids);
      if (pieces) {
        List<String> ps = new ArrayList<>(ids.length);
        for (int id : ids) {
          ps.add(tok.piece(id));
        }
        result.put("pieces", ps);
      }
      out.println(mapper.writeValueAsString(result));
    } else if (pieces && !batch) {
      for (int id : ids) {
        out.printf("%6d -> '%s'%n", id, tok.piece(id));
      }
    } else {
      StringBuilder sb = new StringBuilder();
      for (int id : ids) {
        sb.append(sb.isEmpty() ? "" : " ").append(id);
      }
      out.println(sb);
    }
  }
}
