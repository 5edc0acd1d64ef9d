package dev.fovea.vit.tokenizer;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;

/**
 * BERT's WordPiece tokenizer (bert-base-uncased; BLIP's text encoder, InstructBLIP's Q-Former),
 * after Hugging Face {@code BertTokenizer}/{@code WordpieceTokenizer} and google-research/bert
 * {@code tokenization.py}.
 *
 * <p>Encoding: {@link BertBasicTokenizer} splits the text into words; each word is covered greedily,
 * longest match first from the left, by vocabulary entries, continuation pieces written with
 * {@code ##}. A word longer than {@value #MAX_WORD_CHARS} code points, or one with a position no
 * entry matches, becomes {@code [UNK]} as a whole. With special tokens: {@code [CLS] … [SEP]}, and
 * special-token text in the input ({@code [SEP]}, added tokens such as BLIP's {@code [DEC]}) is
 * matched before the basic tokenizer runs.
 */
public final class WordPieceTokenizer implements TextTokenizer {
  public static final int MAX_WORD_CHARS = 100;
  private static final String CONTINUATION = "##";
  private static final Set<String> SPECIAL = Set.of("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]");

  private final String[] pieces;
  private final Map<String, Integer> ids;
  private final int vocabFileSize; // ids at or above are added tokens
  private final BertBasicTokenizer basic;
  private final boolean lowercase;
  private final int unk;
  private final int cls;
  private final int sep;

  private WordPieceTokenizer(String[] pieces, int vocabFileSize, boolean lowercase, Path file) {
    this.pieces = pieces;
    this.vocabFileSize = vocabFileSize;
    this.ids = new HashMap<>(pieces.length * 2);
    for (int i = 0; i < pieces.length; i++) {
      ids.putIfAbsent(pieces[i], i);
    }
    this.basic = new BertBasicTokenizer(lowercase);
    this.lowercase = lowercase;
    this.unk = require(file, "[UNK]");
    this.cls = require(file, "[CLS]");
    this.sep = require(file, "[SEP]");
  }

  private int require(Path file, String token) {
    Integer id = ids.get(token);
    if (id == null) {
      throw new TokenizerFileException(file, "vocabulary has no " + token + " entry");
    }
    return id;
  }

  /** Loads {@code vocab.txt} (one entry per line, id = line number) for an uncased model. */
  public static WordPieceTokenizer load(Path vocabTxt) {
    return load(vocabTxt, true);
  }

  /** Loads {@code vocab.txt}; {@code lowercase} is the model's {@code do_lower_case}. */
  public static WordPieceTokenizer load(Path vocabTxt, boolean lowercase) {
    String text;
    try {
      text = StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(Files.readAllBytes(vocabTxt)))
          .toString();
    } catch (NoSuchFileException e) {
      throw new TokenizerFileException(vocabTxt, "vocabulary file not found");
    } catch (CharacterCodingException e) {
      throw new TokenizerFileException(vocabTxt, "not UTF-8 text; expected one WordPiece entry per line", e);
    } catch (IOException e) {
      throw new TokenizerFileException(vocabTxt, "cannot read vocabulary", e);
    }
    List<String> lines = new ArrayList<>(Arrays.asList(text.split("\n", -1)));
    if (!lines.isEmpty() && lines.getLast().isEmpty()) {
      lines.removeLast();
    }
    String[] pieces = new String[lines.size()];
    for (int i = 0; i < pieces.length; i++) {
      String line = lines.get(i);
      pieces[i] = line.endsWith("\r") ? line.substring(0, line.length() - 1) : line;
    }
    if (pieces.length == 0) {
      throw new TokenizerFileException(vocabTxt, "empty vocabulary");
    }
    return new WordPieceTokenizer(pieces, pieces.length, lowercase, vocabTxt);
  }

  /** A tokenizer over entries already in memory (id = index), e.g. from GGUF metadata. */
  public static WordPieceTokenizer fromVocabulary(Path source, String[] entries, boolean lowercase) {
    if (entries.length == 0) {
      throw new TokenizerFileException(source, "empty vocabulary");
    }
    return new WordPieceTokenizer(entries.clone(), entries.length, lowercase, source);
  }

  /**
   * A tokenizer with {@code tokens} added after the vocabulary (BLIP: {@code [DEC]} = 30522,
   * {@code [ENC]} = 30523). Added tokens are special: matched in text, left out by decode. A token
   * already in the vocabulary keeps its id.
   */
  public WordPieceTokenizer withAddedTokens(String... tokens) {
    List<String> all = new ArrayList<>(Arrays.asList(pieces));
    for (String t : tokens) {
      if (!ids.containsKey(t) && !all.contains(t)) {
        all.add(t);
      }
    }
    return new WordPieceTokenizer(all.toArray(String[]::new), vocabFileSize, lowercase, Path.of("<added tokens>"));
  }

  // ---------------------------------------------------------------------------------- encoding

  @Override
  public int[] encode(String text, boolean special) {
    List<Integer> out = new ArrayList<>();
    if (special) {
      out.add(cls);
    }
    if (special) {
      encodeSplittingSpecial(text, out);
    } else {
      encodeText(text, out);
    }
    if (special) {
      out.add(sep);
    }
    return out.stream().mapToInt(Integer::intValue).toArray();
  }

  /** Matches special and added tokens in the raw text (longest first), WordPiece between them. */
  private void encodeSplittingSpecial(String text, List<Integer> out) {
    int start = 0;
    int i = 0;
    while (i < text.length()) {
      String match = null;
      if (text.charAt(i) == '[') {
        for (int id = 0; id < pieces.length; id++) {
          String p = pieces[id];
          if (isSpecial(id) && text.startsWith(p, i) && (match == null || p.length() > match.length())) {
            match = p;
          }
        }
      }
      if (match == null) {
        i++;
        continue;
      }
      encodeText(text.substring(start, i), out);
      out.add(ids.get(match));
      i += match.length();
      start = i;
    }
    encodeText(text.substring(start), out);
  }

  private void encodeText(String text, List<Integer> out) {
    for (String word : basic.tokenize(text)) {
      wordPiece(word, out);
    }
  }

  /** Greedy longest-match-first cover of one word; the whole word is [UNK] if any step fails. */
  private void wordPiece(String word, List<Integer> out) {
    if (word.codePointCount(0, word.length()) > MAX_WORD_CHARS) {
      out.add(unk);
      return;
    }
    int mark = out.size();
    int start = 0;
    while (start < word.length()) {
      int end = word.length();
      Integer found = null;
      while (end > start) {
        String sub = word.substring(start, end);
        Integer id = ids.get(start > 0 ? CONTINUATION + sub : sub);
        if (id != null && id < vocabFileSize) {
          found = id;
          break;
        }
        end = Character.isLowSurrogate(word.charAt(end - 1)) && end - 2 > start ? end - 2 : end - 1;
      }
      if (found == null) {
        out.subList(mark, out.size()).clear();
        out.add(unk);
        return;
      }
      out.add(found);
      start = end;
    }
  }

  /**
   * Truncates {@code ids} to at most {@code maxLength}, keeping a leading [CLS]-like first id and a
   * trailing [SEP]-like last id; {@code fromLeft} drops the oldest text tokens (InstructBLIP's
   * Q-Former uses {@code truncation_side="left"}).
   */
  public static int[] truncate(int[] ids, int maxLength, boolean fromLeft) {
    if (ids.length <= maxLength) {
      return ids;
    }
    if (maxLength < 2) {
      throw new IllegalArgumentException("maxLength must be >= 2 to keep the framing tokens, got " + maxLength);
    }
    int[] out = new int[maxLength];
    out[0] = ids[0];
    out[maxLength - 1] = ids[ids.length - 1];
    int body = maxLength - 2;
    int from = fromLeft ? ids.length - 1 - body : 1;
    System.arraycopy(ids, from, out, 1, body);
    return out;
  }

  // ---------------------------------------------------------------------------------- decoding

  /** Bytes of one id: " word", or "piece" without the space for a {@code ##} continuation. */
  private byte[] tokenBytes(int id) {
    if (isSpecial(id)) {
      return new byte[0];
    }
    String p = piece(id);
    String text = p.startsWith(CONTINUATION) ? p.substring(CONTINUATION.length()) : " " + p;
    return text.getBytes(StandardCharsets.UTF_8);
  }

  /**
   * Words joined by single spaces, continuation pieces glued to the word before them (HF
   * {@code convert_tokens_to_string} without {@code clean_up_tokenization_spaces}); special tokens
   * except [UNK] are left out.
   */
  @Override
  public String decode(int[] ids) {
    return StreamingDecoder.decodeAll(this::tokenBytes, true, ids);
  }

  @Override
  public StreamingDecoder streamingDecoder() {
    return new StreamingDecoder(this::tokenBytes, true);
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
    return id >= vocabFileSize || (id != unk && SPECIAL.contains(pieces[id]));
  }

  public int clsId() {
    return cls;
  }

  public int sepId() {
    return sep;
  }

  public int unkId() {
    return unk;
  }

  /** The basic tokenizer this WordPiece runs after. */
  public BertBasicTokenizer basicTokenizer() {
    return basic;
  }
}
