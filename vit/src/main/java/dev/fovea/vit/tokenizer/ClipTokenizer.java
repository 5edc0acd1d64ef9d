package dev.fovea.vit.tokenizer;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fovea.tensor.ErrorList;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;

/**
 * CLIP's byte-level BPE tokenizer, after openai/CLIP {@code clip/simple_tokenizer.py}
 * ({@code SimpleTokenizer}) and Hugging Face {@code CLIPTokenizer}.
 *
 * <p>Encoding: clean the text ({@link #clean}), split it with {@link #SPLIT}, turn each piece's
 * UTF-8 bytes into byte-level characters ({@link ByteLevel}) with {@code </w>} on the last one, run
 * BPE (repeatedly merge every occurrence of the adjacent pair of lowest merge rank), map symbols to
 * ids. With special tokens: {@code <|startoftext|> … <|endoftext|>}.
 *
 * <p>Text cleaning differs from OpenAI's in one documented way: ftfy's {@code fix_text} is not
 * ported. We apply NFC (ftfy's default normalization step) and nothing else of ftfy (no mojibake
 * repair, no un-curling of quotes, no ligature or full-width folding). This equals HF's fast CLIP
 * tokenizer (NFC, no ftfy) except that we also HTML-unescape as OpenAI does; for ordinary text all
 * three agree.
 */
public final class ClipTokenizer implements TextTokenizer {
  /** CLIP's text context length. */
  public static final int CONTEXT_LENGTH = 77;
  /** Merges CLIP uses from {@code bpe_simple_vocab_16e6.txt.gz}: 49152 - 256 - 2. */
  public static final int MERGE_COUNT = 48_894;

  public static final String START_OF_TEXT = "<|startoftext|>";
  public static final String END_OF_TEXT = "<|endoftext|>";
  private static final String END_OF_WORD = "</w>";

  /** The pre-tokenizer regex of simple_tokenizer.py, applied to lowercased text. */
  public static final Pattern SPLIT = Pattern.compile(
      "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+",
      Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE | Pattern.UNICODE_CHARACTER_CLASS);

  /** How {@link #encodeToContext} fills the positions after {@code <|endoftext|>}. */
  public enum Padding {
    /** OpenAI {@code clip.tokenize}: pad with id 0 (the "!" token; the model never attends there). */
    OPENAI_ZERO,
    /** Hugging Face {@code CLIPTokenizer(padding="max_length")}: pad with {@code <|endoftext|>}. */
    HF_END_OF_TEXT
  }

  private final String[] pieces; // id -> vocabulary entry
  private final Map<String, Integer> ids; // vocabulary entry -> id
  private final Map<String, Integer> mergeRanks; // "left right" -> rank
  private final int startOfText;
  private final int endOfText;
  private final Map<String, int[]> cache = new ConcurrentHashMap<>();

  private ClipTokenizer(String[] pieces, Map<String, Integer> ids, Map<String, Integer> mergeRanks, Path file) {
    this.pieces = pieces;
    this.ids = ids;
    this.mergeRanks = mergeRanks;
    Integer sot = ids.get(START_OF_TEXT);
    Integer eot = ids.get(END_OF_TEXT);
    if (sot == null || eot == null) {
      throw new TokenizerFileException(file, "vocabulary lacks " + START_OF_TEXT + " or " + END_OF_TEXT);
    }
    this.startOfText = sot;
    this.endOfText = eot;
  }

  /**
   * Loads OpenAI's {@code bpe_simple_vocab_16e6.txt.gz}: a version header line, then merges "left
   * right"; the first {@link #MERGE_COUNT} are used. The vocabulary is built as simple_tokenizer.py
   * builds it: 256 byte characters, the same with {@code </w>}, one entry per merge, then
   * {@code <|startoftext|>} (49406) and {@code <|endoftext|>} (49407).
   */
  public static ClipTokenizer loadOpenAi(Path gz) {
    List<String[]> merges = new ArrayList<>(MERGE_COUNT);
    try (InputStream in = new GZIPInputStream(Files.newInputStream(gz));
        BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
      String header = r.readLine();
      if (header == null) {
        throw new TokenizerFileException(gz, "empty file, expected a version header and BPE merges");
      }
      String line;
      int lineNo = 1;
      while (merges.size() < MERGE_COUNT && (line = r.readLine()) != null) {
        lineNo++;
        merges.add(splitMerge(gz, line, lineNo));
      }
    } catch (IOException e) {
      throw new TokenizerFileException(gz, "cannot read gzip BPE merges", e);
    }
    if (merges.size() < MERGE_COUNT) {
      throw new TokenizerFileException(gz, "has " + merges.size() + " merges, CLIP needs " + MERGE_COUNT);
    }
    List<String> vocab = new ArrayList<>(2 * 256 + merges.size() + 2);
    String[] bytes = ByteLevel.byteSymbolsInOrder();
    vocab.addAll(Arrays.asList(bytes));
    for (String b : bytes) {
      vocab.add(b + END_OF_WORD);
    }
    for (String[] m : merges) {
      vocab.add(m[0] + m[1]);
    }
    vocab.add(START_OF_TEXT);
    vocab.add(END_OF_TEXT);
    String[] pieces = vocab.toArray(String[]::new);
    Map<String, Integer> ids = new HashMap<>(pieces.length * 2);
    for (int i = 0; i < pieces.length; i++) {
      ids.put(pieces[i], i);
    }
    return new ClipTokenizer(pieces, ids, ranks(merges), gz);
  }

  /**
   * Loads the Hugging Face layout: {@code vocab.json} (entry → id) and {@code merges.txt} (a
   * {@code #version} header, then merges "left right" in rank order).
   */
  public static ClipTokenizer loadHf(Path vocabJson, Path mergesTxt) {
    Map<String, Integer> ids = new HashMap<>();
    try {
      JsonNode root = new ObjectMapper().readTree(vocabJson.toFile());
      if (root == null || !root.isObject()) {
        throw new TokenizerFileException(vocabJson, "expected a JSON object {entry: id}");
      }
      for (Map.Entry<String, JsonNode> e : root.properties()) {
        if (!e.getValue().canConvertToInt()) {
          throw new TokenizerFileException(vocabJson, "id of \"" + e.getKey() + "\" is not an integer");
        }
        ids.put(e.getKey(), e.getValue().asInt());
      }
    } catch (JsonProcessingException e) {
      throw new TokenizerFileException(vocabJson, "not valid JSON", e);
    } catch (IOException e) {
      throw new TokenizerFileException(vocabJson, "cannot read vocabulary", e);
    }
    String[] pieces = new String[ids.size()];
    for (Map.Entry<String, Integer> e : ids.entrySet()) {
      int id = e.getValue();
      if (id < 0 || id >= pieces.length || pieces[id] != null) {
        throw new TokenizerFileException(vocabJson, "ids are not a permutation of 0.." + (pieces.length - 1)
            + " (\"" + e.getKey() + "\" has " + id + ")");
      }
      pieces[id] = e.getKey();
    }
    List<String[]> merges = new ArrayList<>();
    try (BufferedReader r = Files.newBufferedReader(mergesTxt, StandardCharsets.UTF_8)) {
      String line;
      int lineNo = 0;
      while ((line = r.readLine()) != null) {
        lineNo++;
        if ((lineNo == 1 && line.startsWith("#version")) || line.isEmpty()) {
          continue;
        }
        String[] m = splitMerge(mergesTxt, line, lineNo);
        if (!ids.containsKey(m[0] + m[1])) {
          throw new TokenizerFileException(mergesTxt, "line " + lineNo + ": merge result \"" + m[0] + m[1]
              + "\" is not in " + vocabJson.getFileName());
        }
        merges.add(m);
      }
    } catch (IOException e) {
      throw new TokenizerFileException(mergesTxt, "cannot read merges", e);
    }
    // every word starts as byte symbols (its last one with </w>) and ends as merges of them: with
    // all 512 and every merge result in the vocabulary, no text can produce a symbol without an id
    for (String b : ByteLevel.byteSymbolsInOrder()) {
      for (String symbol : new String[] {b, b + END_OF_WORD}) {
        if (!ids.containsKey(symbol)) {
          throw new TokenizerFileException(vocabJson, "has no entry \"" + symbol + "\": CLIP's BPE starts each word from the 256 byte symbols,"
              + " alone and with " + END_OF_WORD + ", so the vocabulary needs all 512");
        }
      }
    }
    return new ClipTokenizer(pieces, ids, ranks(merges), vocabJson);
  }

  private static String[] splitMerge(Path file, String line, int lineNo) {
    int sp = line.indexOf(' ');
    if (sp <= 0 || sp == line.length() - 1 || line.indexOf(' ', sp + 1) >= 0) {
      throw new TokenizerFileException(file, "line " + lineNo + ": expected a merge \"left right\", found \"" + ErrorList.abbreviate(line, 80) + "\"");
    }
    return new String[] {line.substring(0, sp), line.substring(sp + 1)};
  }

  private static Map<String, Integer> ranks(List<String[]> merges) {
    Map<String, Integer> ranks = new HashMap<>(merges.size() * 2);
    for (int i = 0; i < merges.size(); i++) {
      ranks.putIfAbsent(merges.get(i)[0] + " " + merges.get(i)[1], i);
    }
    return ranks;
  }

  /** The merges in rank order, "left right" (to write an HF {@code merges.txt}). */
  public List<String> merges() {
    String[] out = new String[mergeRanks.size()];
    mergeRanks.forEach((k, v) -> out[v] = k);
    return Arrays.asList(out);
  }

  // ---------------------------------------------------------------------------------- cleaning

  /**
   * OpenAI's {@code whitespace_clean(basic_clean(text)).lower()} without ftfy: NFC, HTML-unescape
   * twice, collapse runs of whitespace (Python's {@code str.isspace}) to one space, strip,
   * lowercase.
   */
  public static String clean(String text) {
    String t = Normalizer.normalize(text, Normalizer.Form.NFC);
    t = HtmlEntities.unescape(HtmlEntities.unescape(t));
    StringBuilder sb = new StringBuilder(t.length());
    boolean pendingSpace = false;
    for (int i = 0; i < t.length(); ) {
      int cp = t.codePointAt(i);
      i += Character.charCount(cp);
      if (isPythonSpace(cp)) {
        pendingSpace = sb.length() > 0;
      } else {
        if (pendingSpace) {
          sb.append(' ');
          pendingSpace = false;
        }
        sb.appendCodePoint(cp);
      }
    }
    return sb.toString().toLowerCase(Locale.ROOT);
  }

  /** Python's {@code str.isspace()}: bidi class WS, B or S, or category Zs. */
  static boolean isPythonSpace(int cp) {
    return (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x20) || cp == 0x85 || cp == 0xA0
        || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029
        || cp == 0x202F || cp == 0x205F || cp == 0x3000;
  }

  // ---------------------------------------------------------------------------------- encoding

  @Override
  public int[] encode(String text, boolean special) {
    List<Integer> out = new ArrayList<>();
    if (special) {
      out.add(startOfText);
    }
    Matcher m = SPLIT.matcher(clean(text));
    while (m.find()) {
      String token = m.group();
      if (!special && (token.equals(START_OF_TEXT) || token.equals(END_OF_TEXT))) {
        // special-token text is ordinary text here: BPE its pieces (as HF with split_special_tokens)
        Matcher inner = Pattern.compile("[\\p{L}]+|[^\\s\\p{L}\\p{N}]+").matcher(token);
        while (inner.find()) {
          for (int id : bpe(ByteLevel.encode(inner.group().getBytes(StandardCharsets.UTF_8)))) {
            out.add(id);
          }
        }
        continue;
      }
      for (int id : bpe(ByteLevel.encode(token.getBytes(StandardCharsets.UTF_8)))) {
        out.add(id);
      }
    }
    if (special) {
      out.add(endOfText);
    }
    return out.stream().mapToInt(Integer::intValue).toArray();
  }

  /**
   * {@code [<|startoftext|>] + ids + [<|endoftext|>]} in exactly {@code contextLength} positions:
   * too long a text is cut and its last kept position set to {@code <|endoftext|>} (OpenAI
   * {@code tokenize(truncate=True)} and HF {@code truncation=True} agree), the rest is padded as
   * {@code padding} says.
   */
  public int[] encodeToContext(String text, int contextLength, Padding padding) {
    if (contextLength < 2) {
      throw new IllegalArgumentException("contextLength must be >= 2, got " + contextLength);
    }
    int[] ids = encode(text, true);
    int[] out = new int[contextLength];
    int pad = padding == Padding.OPENAI_ZERO ? 0 : endOfText;
    Arrays.fill(out, pad);
    if (ids.length > contextLength) {
      System.arraycopy(ids, 0, out, 0, contextLength);
      out[contextLength - 1] = endOfText;
    } else {
      System.arraycopy(ids, 0, out, 0, ids.length);
    }
    return out;
  }

  /** BPE of one pre-tokenized piece already in byte-level characters; cached. */
  private int[] bpe(String token) {
    int[] hit = cache.get(token);
    if (hit != null) {
      return hit;
    }
    int[] ids;
    if (token.equals(START_OF_TEXT) || token.equals(END_OF_TEXT)) {
      ids = new int[] {this.ids.get(token)}; // simple_tokenizer.py seeds its cache with these two
    } else {
      List<String> word = new ArrayList<>(token.length());
      for (int i = 0; i < token.length(); i++) {
        word.add(i == token.length() - 1 ? token.charAt(i) + END_OF_WORD : String.valueOf(token.charAt(i)));
      }
      while (word.size() > 1) {
        // the adjacent pair of lowest rank ...
        int bestRank = Integer.MAX_VALUE;
        String bestLeft = null;
        String bestRight = null;
        for (int i = 0; i + 1 < word.size(); i++) {
          Integer r = mergeRanks.get(word.get(i) + " " + word.get(i + 1));
          if (r != null && r < bestRank) {
            bestRank = r;
            bestLeft = word.get(i);
            bestRight = word.get(i + 1);
          }
        }
        if (bestLeft == null) {
          break;
        }
        // ... merged at every non-overlapping occurrence, left to right
        List<String> next = new ArrayList<>(word.size());
        for (int i = 0; i < word.size(); i++) {
          if (i + 1 < word.size() && word.get(i).equals(bestLeft) && word.get(i + 1).equals(bestRight)) {
            next.add(bestLeft + bestRight);
            i++;
          } else {
            next.add(word.get(i));
          }
        }
        word = next;
      }
      ids = new int[word.size()];
      for (int i = 0; i < ids.length; i++) {
        Integer id = this.ids.get(word.get(i));
        if (id == null) {
          throw new IllegalStateException("BPE produced \"" + word.get(i) + "\", which is not in the vocabulary");
        }
        ids[i] = id;
      }
    }
    if (cache.size() < 100_000) {
      cache.put(token, ids);
    }
    return ids;
  }

  // ---------------------------------------------------------------------------------- decoding

  /**
   * Bytes of one id: its byte-level characters as bytes, with a trailing {@code </w>} turned into
   * a space (OpenAI's decode replaces every {@code </w>} in the joined text; the two differ only
   * for text that itself contains "</w>"). Start/end tokens decode to nothing.
   */
  private byte[] tokenBytes(int id) {
    if (id == startOfText || id == endOfText) {
      return new byte[0];
    }
    String p = piece(id);
    boolean eow = p.endsWith(END_OF_WORD);
    String body = eow ? p.substring(0, p.length() - END_OF_WORD.length()) : p;
    byte[] out = new byte[body.length() + (eow ? 1 : 0)];
    for (int i = 0; i < body.length(); i++) {
      int b = ByteLevel.byteOf(body.charAt(i));
      if (b < 0) {
        throw new IllegalArgumentException("token " + id + " \"" + p + "\" is not byte-level text");
      }
      out[i] = (byte) b;
    }
    if (eow) {
      out[body.length()] = ' ';
    }
    return out;
  }

  /** Decodes as simple_tokenizer.py does: every word ends in a space (so the text ends in one). */
  @Override
  public String decode(int[] ids) {
    return StreamingDecoder.decodeAll(this::tokenBytes, false, ids);
  }

  @Override
  public StreamingDecoder streamingDecoder() {
    return new StreamingDecoder(this::tokenBytes, false);
  }

  @Override
  public String piece(int id) {
    if (id < 0 || id >= pieces.length) {
      throw new IllegalArgumentException("id " + id + " outside the vocabulary [0, " + pieces.length + ")");
    }
    return pieces[id];
  }

  @Override
  public OptionalInt id(String piece) {
    Integer id = ids.get(piece);
    return id == null ? OptionalInt.empty() : OptionalInt.of(id);
  }

  @Override
  public int vocabSize() {
    return pieces.length;
  }

  @Override
  public boolean isSpecial(int id) {
    return id == startOfText || id == endOfText;
  }

  public int startOfTextId() {
    return startOfText;
  }

  public int endOfTextId() {
    return endOfText;
  }
}
