package dev.fovea.llm.tokenizer;

import dev.fovea.vit.tokenizer.StreamingDecoder;
import dev.fovea.vit.tokenizer.TextTokenizer;
import java.nio.charset.StandardCharsets;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.PriorityQueue;

/**
 * SentencePiece BPE (LLaMA, Vicuna, LLaVA), after sentencepiece {@code src/bpe_model.cc} and
 * {@code src/sentencepiece_processor.cc}, and the equivalent Hugging Face {@code tokenizer.json}
 * model (BPE with byte fallback, LlamaConverter).
 *
 * <p>Encoding one text segment:
 *
 * <ol>
 *   <li>normalize: identity (NFKC only for "nmt_nfkc"/"nfkc" normalizers, approximated by Java's
 *       NFKC); with {@code remove_extra_whitespaces}, strip and collapse runs of spaces; if the text
 *       is non-empty, prepend the dummy-prefix space; replace every space by "▁";
 *   <li>split into code points; user-defined pieces are matched first, longest first, and kept
 *       whole;
 *   <li>repeatedly merge the adjacent pair of highest priority, leftmost on ties, until no pair
 *       qualifies. Priority is the merged piece's score when the merged piece is a NORMAL,
 *       USER_DEFINED or UNUSED piece (tokenizer.model), or minus the merge rank of the pair
 *       (tokenizer.json). A priority queue with lazy invalidation keeps this O(n log n);
 *   <li>emit ids: an UNUSED piece is split back into the two symbols it was made from; a symbol that
 *       is not a piece becomes its UTF-8 bytes as {@code <0xNN>} pieces (byte fallback), or
 *       {@code <unk>} (a run of unknowns is one {@code <unk>}).
 * </ol>
 *
 * <p>Control pieces ({@code <s>}) never come from text unless special-token parsing is on; the input
 * is then split on them (and on tokenizer.json's special added tokens) first, and each text segment
 * gets its own dummy prefix (the "legacy" behaviour LLaVA's tokenizer has).
 */
public final class SentencePieceTokenizer implements TextTokenizer {
  private static final String SPACE = "\u2581"; // ▁
  private static final String UNKNOWN_SURFACE = " \u2047 "; // sentencepiece's surface for <unk>

  /** Where the dummy-prefix "▁" goes (tokenizer.json Metaspace {@code prepend_scheme}). */
  public enum PrependScheme {
    /** Every text segment, also after special tokens (tokenizer.model; HF legacy). */
    ALWAYS,
    /** Only a segment at the start of the input (HF non-legacy). */
    FIRST,
    NEVER
  }

  private final SentencePieceModel model;
  private final Map<String, Integer> ids;
  private final int[] byteIds = new int[256]; // byte -> <0xNN> id, or -1
  private final Map<String, Integer> mergeRanks; // tokenizer.json merges "a b" -> rank; null: scores
  private final PrependScheme prependScheme;
  private final boolean splitOnSpace; // Metaspace split=true: merges never cross a "▁"
  private final List<String> userDefined; // longest first, matched inside text
  private final List<String> specials; // matched when parsing special tokens, longest first
  private final boolean nfkc;

  SentencePieceTokenizer(SentencePieceModel model, Map<String, Integer> mergeRanks, PrependScheme prependScheme,
      boolean splitOnSpace) {
    this.model = model;
    this.mergeRanks = mergeRanks;
    this.prependScheme = prependScheme;
    this.splitOnSpace = splitOnSpace;
    this.ids = new HashMap<>(model.size() * 2);
    java.util.Arrays.fill(byteIds, -1);
    List<String> ud = new ArrayList<>();
    List<String> sp = new ArrayList<>();
    for (int i = 0; i < model.size(); i++) {
      String p = model.pieces()[i];
      ids.putIfAbsent(p, i);
      switch (model.types()[i]) {
        case BYTE -> {
          int b = parseBytePiece(p);
          if (b >= 0) {
            byteIds[b] = i;
          }
        }
        case USER_DEFINED -> ud.add(p);
        case CONTROL, UNKNOWN -> {
          if (!p.isEmpty()) {
            sp.add(p);
          }
        }
        default -> { }
      }
    }
    ud.sort(Comparator.comparingInt(String::length).reversed());
    sp.sort(Comparator.comparingInt(String::length).reversed());
    this.userDefined = List.copyOf(ud);
    this.specials = List.copyOf(sp);
    String n = model.normalizerName() == null ? "" : model.normalizerName().toLowerCase(java.util.Locale.ROOT);
    this.nfkc = n.contains("nfkc");
  }

  /** A tokenizer over a parsed {@code tokenizer.model} (or a vocabulary from GGUF or llama2.c). */
  public static SentencePieceTokenizer of(SentencePieceModel model) {
    return new SentencePieceTokenizer(model, null, model.addDummyPrefix() ? PrependScheme.ALWAYS : PrependScheme.NEVER, false);
  }

  /** Loads a SentencePiece {@code tokenizer.model}. */
  public static SentencePieceTokenizer load(java.nio.file.Path tokenizerModel) {
    SentencePieceModel m = SentencePieceModel.read(tokenizerModel);
    if (m.modelType() != SentencePieceModel.BPE) {
      throw new dev.fovea.vit.tokenizer.TokenizerFileException(tokenizerModel,
          "SentencePiece model_type " + m.modelType() + " (1 = UNIGRAM) is not supported; only BPE (2) models such as LLaMA's");
    }
    return of(m);
  }

  static int parseBytePiece(String p) {
    if (p.length() == 6 && p.startsWith("<0x") && p.endsWith(">")) {
      try {
        return Integer.parseInt(p.substring(3, 5), 16);
      } catch (NumberFormatException e) {
        return -1;
      }
    }
    return -1;
  }

  public SentencePieceModel model() {
    return model;
  }

  // ---------------------------------------------------------------------------------- encoding

  /** {@code encode(text, special)}: BOS and special-token parsing both follow {@code special}. */
  @Override
  public int[] encode(String text, boolean special) {
    return encode(text, special, special);
  }

  /**
   * Encodes {@code text}; {@code addBos} prepends BOS, {@code parseSpecial} turns special-token
   * text ({@code <s>}, {@code </s>}, tokenizer.json's special added tokens) into their ids.
   */
  public int[] encode(String text, boolean addBos, boolean parseSpecial) {
    List<Integer> out = new ArrayList<>();
    if (addBos && model.bosId() >= 0) {
      out.add(model.bosId());
    }
    int start = 0;
    if (parseSpecial && !specials.isEmpty()) {
      for (int i = 0; i < text.length(); i++) {
        String match = matchAt(specials, text, i);
        if (match != null) {
          encodeSegment(text.substring(start, i), start == 0, out);
          out.add(ids.get(match));
          i += match.length() - 1;
          start = i + 1;
        }
      }
    }
    encodeSegment(text.substring(start), start == 0, out);
    return out.stream().mapToInt(Integer::intValue).toArray();
  }

  private static String matchAt(List<String> candidates, String text, int i) {
    for (String c : candidates) {
      if (text.startsWith(c, i)) {
        return c;
      }
    }
    return null;
  }

  /** Steps 1–4 for one segment between special tokens. */
  private void encodeSegment(String text, boolean atStart, List<Integer> out) {
    String t = normalize(text, atStart);
    if (t.isEmpty()) {
      return;
    }
    if (splitOnSpace) {
      int from = 0;
      for (int i = 1; i <= t.length(); i++) {
        if (i == t.length() || t.startsWith(SPACE, i)) {
          bpe(t.substring(from, i), out);
          from = i;
        }
      }
    } else {
      bpe(t, out);
    }
  }

  String normalize(String text, boolean atStart) {
    String t = nfkc ? Normalizer.normalize(text, Normalizer.Form.NFKC) : text;
    if (model.removeExtraWhitespaces()) {
      t = t.strip().replaceAll(" {2,}", " ");
      t = t.replaceAll("^ +| +$", "");
    }
    if (t.isEmpty()) {
      return t;
    }
    boolean prefix = prependScheme == PrependScheme.ALWAYS || (prependScheme == PrependScheme.FIRST && atStart);
    if (prefix) {
      t = " " + t;
    }
    return model.escapeWhitespaces() ? t.replace(" ", SPACE) : t;
  }

  private record Candidate(double priority, int left, int right, int length) {}

  private static final Comparator<Candidate> ORDER =
      Comparator.comparingDouble((Candidate c) -> -c.priority()).thenComparingInt(Candidate::left);

  /** BPE of one normalized segment, ids appended to {@code out}. */
  private void bpe(String text, List<Integer> out) {
    // 2. initial symbols: user-defined pieces whole, otherwise code points
    List<String> init = new ArrayList<>();
    List<Boolean> frozen = new ArrayList<>();
    for (int i = 0; i < text.length(); ) {
      String ud = userDefined.isEmpty() ? null : matchAt(userDefined, text, i);
      String s = ud != null ? ud : text.substring(i, i + Character.charCount(text.codePointAt(i)));
      init.add(s);
      // tokenizer.json BPE: a character outside the vocabulary never merges
      frozen.add(ud != null || (mergeRanks != null && !ids.containsKey(s)));
      i += s.length();
    }
    int n = init.size();
    String[] sym = init.toArray(String[]::new);
    int[] prev = new int[n];
    int[] next = new int[n];
    for (int i = 0; i < n; i++) {
      prev[i] = i - 1;
      next[i] = i + 1 < n ? i + 1 : -1;
    }
    Map<String, String[]> revMerge = new HashMap<>();
    PriorityQueue<Candidate> agenda = new PriorityQueue<>(ORDER);
    for (int i = 0; i + 1 < n; i++) {
      addPair(sym, frozen, i, i + 1, agenda, revMerge);
    }
    // 3. merge the best pair until none is left; stale candidates are skipped when popped
    while (!agenda.isEmpty()) {
      Candidate c = agenda.poll();
      if (sym[c.left()] == null || sym[c.right()] == null || next[c.left()] != c.right()
          || sym[c.left()].length() + sym[c.right()].length() != c.length()) {
        continue;
      }
      sym[c.left()] = sym[c.left()] + sym[c.right()];
      sym[c.right()] = null;
      next[c.left()] = next[c.right()];
      if (next[c.left()] >= 0) {
        prev[next[c.left()]] = c.left();
      }
      if (prev[c.left()] >= 0) {
        addPair(sym, frozen, prev[c.left()], c.left(), agenda, revMerge);
      }
      if (next[c.left()] >= 0) {
        addPair(sym, frozen, c.left(), next[c.left()], agenda, revMerge);
      }
    }
    // 4. emit
    boolean prevUnknown = false;
    for (int i = 0; i >= 0 && i < n; i = next[i]) {
      prevUnknown = emit(sym[i], revMerge, out, prevUnknown);
    }
  }

  private void addPair(String[] sym, List<Boolean> frozen, int l, int r, PriorityQueue<Candidate> agenda,
      Map<String, String[]> revMerge) {
    if (frozen.get(l) || frozen.get(r)) {
      return;
    }
    String merged = sym[l] + sym[r];
    double priority;
    if (mergeRanks != null) {
      Integer rank = mergeRanks.get(sym[l] + " " + sym[r]);
      if (rank == null) {
        return;
      }
      priority = -rank;
    } else {
      Integer id = ids.get(merged);
      if (id == null) {
        return;
      }
      PieceType type = model.types()[id];
      if (type != PieceType.NORMAL && type != PieceType.USER_DEFINED && type != PieceType.UNUSED) {
        return;
      }
      priority = model.scores()[id];
      if (type == PieceType.UNUSED) {
        revMerge.put(merged, new String[] {sym[l], sym[r]});
      }
    }
    agenda.add(new Candidate(priority, l, r, merged.length()));
  }

  /** Emits one final symbol; returns whether it ended in an {@code <unk>}. */
  private boolean emit(String s, Map<String, String[]> revMerge, List<Integer> out, boolean prevUnknown) {
    Integer id = ids.get(s);
    if (id != null && model.types()[id] == PieceType.UNUSED && revMerge.containsKey(s)) {
      String[] parts = revMerge.get(s);
      return emit(parts[1], revMerge, out, emit(parts[0], revMerge, out, prevUnknown));
    }
    if (id != null && model.types()[id] != PieceType.CONTROL && model.types()[id] != PieceType.BYTE
        && model.types()[id] != PieceType.UNKNOWN) {
      out.add(id);
      return false;
    }
    if (model.byteFallback()) {
      for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
        int bid = byteIds[b & 0xFF];
        if (bid < 0) {
          throw new IllegalStateException("byte fallback needs piece <0x" + String.format("%02X", b & 0xFF) + ">, absent from the vocabulary");
        }
        out.add(bid);
      }
      return false;
    }
    if (!prevUnknown) {
      out.add(model.unkId());
    }
    return true;
  }

  // ---------------------------------------------------------------------------------- decoding

  /** Bytes of one id: a byte piece's byte, a piece's text with "▁" as space, nothing for control. */
  private byte[] tokenBytes(int id) {
    checkId(id);
    return switch (model.types()[id]) {
      case CONTROL -> new byte[0];
      case BYTE -> {
        int b = parseBytePiece(model.pieces()[id]);
        yield b >= 0 ? new byte[] {(byte) b} : new byte[0];
      }
      case UNKNOWN -> UNKNOWN_SURFACE.getBytes(StandardCharsets.UTF_8);
      default -> model.pieces()[id].replace(SPACE, " ").getBytes(StandardCharsets.UTF_8);
    };
  }

  /**
   * Pieces concatenated, "▁" as space, byte pieces as raw bytes (UTF-8, ill-formed bytes as
   * U+FFFD), control pieces left out, and with a dummy prefix one leading space dropped.
   */
  @Override
  public String decode(int[] ids) {
    return StreamingDecoder.decodeAll(this::tokenBytes, prependScheme != PrependScheme.NEVER, ids);
  }

  @Override
  public StreamingDecoder streamingDecoder() {
    return new StreamingDecoder(this::tokenBytes, prependScheme != PrependScheme.NEVER);
  }

  private void checkId(int id) {
    if (id < 0 || id >= model.size()) {
      throw new IllegalArgumentException("id " + id + " outside the vocabulary [0, " + model.size() + ")");
    }
  }

  @Override
  public String piece(int id) {
    checkId(id);
    return model.pieces()[id];
  }

  @Override
  public OptionalInt id(String piece) {
    Integer id = ids.get(piece);
    return id == null ? OptionalInt.empty() : OptionalInt.of(id);
  }

  @Override
  public int vocabSize() {
    return model.size();
  }

  @Override
  public boolean isSpecial(int id) {
    checkId(id);
    return model.types()[id] == PieceType.CONTROL;
  }

  public int bosId() {
    return model.bosId();
  }

  public int eosId() {
    return model.eosId();
  }

  public int unkId() {
    return model.unkId();
  }
}
