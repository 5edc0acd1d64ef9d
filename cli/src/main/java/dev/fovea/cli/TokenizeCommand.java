package dev.fovea.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fovea.llm.tokenizer.TokenizerLoader;
import dev.fovea.vit.tokenizer.TextTokenizer;
import java.io.PrintWriter;
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
 * {@code tokenizer.bin}) or one of those files.
 */
@Command(name = "tokenize", mixinStandardHelpOptions = true,
    description = "Print the token ids of a text (or, with --decode, the text of ids).")
final class TokenizeCommand implements Callable<Integer> {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(names = "--model", required = true, paramLabel = "PATH",
      description = "model folder or vocabulary file (tokenizer.model, tokenizer.json, vocab.json, *.txt.gz, vocab.txt, *.bin)")
  Path model;

  @Option(names = "--pieces", description = "print each id with its vocabulary entry")
  boolean pieces;

  @Option(names = "--no-special",
      description = "add no BOS/[CLS]/start-of-text tokens and treat special-token text (<s>, [SEP]) as plain text")
  boolean noSpecial;

  @Option(names = "--decode", split = ",", paramLabel = "ID", description = "ids to turn back into text, comma-separated, each 0 to the vocabulary size - 1")
  List<Integer> decode;

  @Option(names = "--json", description = "print the result as JSON")
  boolean json;

  @Parameters(arity = "0..1", paramLabel = "TEXT", description = "the text to tokenize")
  String text;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    if ((decode == null) == (text == null)) {
      throw new CommandLine.ParameterException(spec.commandLine(), "give either TEXT or --decode ID,ID,...");
    }
    if (decode != null) {
      for (int id : decode) {
        OptionRange.check(spec, "--decode", id, 0, Integer.MAX_VALUE);
      }
    }
    TextTokenizer tok = TokenizerLoader.load(model);
    Map<String, Object> result = new LinkedHashMap<>();
    if (decode != null) {
      int[] ids = decode.stream().mapToInt(Integer::intValue).toArray();
      for (int id : ids) {
        OptionRange.check(spec, "--decode", id, 0, tok.vocabSize() - 1, "the vocabulary has " + tok.vocabSize() + " ids");
      }
      String decoded = tok.decode(ids);
      if (json) {
        result.put("ids", ids);
        result.put("text", decoded);
        out.println(new ObjectMapper().writeValueAsString(result));
      } else {
        out.println(decoded);
      }
      return 0;
    }
    int[] ids = tok.encode(text, !noSpecial);
    List<String> ps = new ArrayList<>();
    for (int id : ids) {
      ps.add(tok.piece(id));
    }
    if (json) {
      result.put("ids", ids);
      if (pieces) {
        result.put("pieces", ps);
      }
      out.println(new ObjectMapper().writeValueAsString(result));
    } else if (pieces) {
      for (int i = 0; i < ids.length; i++) {
        out.printf("%6d -> '%s'%n", ids[i], ps.get(i));
      }
    } else {
      StringBuilder sb = new StringBuilder();
      for (int id : ids) {
        sb.append(sb.isEmpty() ? "" : " ").append(id);
      }
      out.println(sb);
    }
    out.flush();
    return 0;
  }
}
