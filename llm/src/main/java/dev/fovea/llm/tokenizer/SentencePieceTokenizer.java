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
 * <p>Added tokens ({@link AddedToken}: tokenizer.json's {@code added_tokens}, a model folder's
 * {@code tokenizer_config.json} / {@code added_tokens.json}, see {@link TokenizerLoader#load}) are
 * split out of the input first, as Hugging Face does ({@link AddedVocabulary}); each text segment
 * between them is then encoded on its own, with its own dummy prefix (the "legacy" behaviour
 * LLaVA's tokenizer has; only the first segment with {@link PrependScheme#FIRST}). Control pieces
 * of the model ({@code <s>}, {@code </s>}) and {@code <unk>} count as special added tokens. Special
 * tokens are split out only when special-token parsing is on; the others always. An added token
 * decodes to its content; special ones are left out by {@link #decode(int[])}.
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
  private final Map<String, Integer> ids; // the model's pieces
  private final String[] pieces; // every id: the model's pieces, added tokens' contents over them and after them
  private final List<AddedToken> addedTokens; // as given (not the model's control pieces)
  private final AddedToken[] addedById; // per id, null where none was given
  private final Map<String, Integer> addedIds; // content -> id of the given added tokens
  private final AddedVocabulary added; // the given added tokens + the model's control and unknown pieces
  private final int[] byteIds = new int[256]; // byte -> <0xNN> id, or -1
  private final Map<String, Integer> mergeRanks; // tokenizer.json merges "a b" -> rank; null: scores
  private final PrependScheme prependScheme;
  private final boolean splitOnSpace; // Metaspace split=true: merges never cross a "▁"
  private final List<String> userDefined; // the model's user-defined pieces, longest first, matched inside text
  private final boolean nfkc;

  SentencePieceTokenizer(SentencePieceModel model, Map<String, Integer> mergeRanks, PrependScheme prependScheme,
      boolean splitOnSpace) {
    this(model, mergeRanks, prependScheme, splitOnSpace, List.of());
  }

  /**
   * @param addedTokens tokens added over the model (ids beyond the model's pieces must follow them
   *     without a gap; an id inside the model takes the token's content)
   * @throws IllegalArgumentException when ids beyond the model leave a gap
   */
  SentencePieceTokenizer(SentencePieceModel model, Map<String, Integer> mergeRanks, PrependScheme prependScheme,
      boolean splitOnSpace, List<AddedToken> addedTokens) {
    this.model = model;
    this.mergeRanks = mergeRanks;
    this.prependScheme = prependScheme;
    this.splitOnSpace = splitOnSpace;
    this.addedTokens = List.copyOf(addedTokens);
    // ids beyond the model must follow it without a gap: checked before anything is sized by them
    // (a hostile id of 2^31 - 1 asked for arrays of 2^31 entries)
    int size = model.size();
    java.util.TreeSet<Integer> beyond = new java.util.TreeSet<>();
    for (AddedToken a : this.addedTokens) {
      if (a.id() >= model.size()) {
        beyond.add(a.id());
      }
    }
    for (int id : beyond) {
      if (id != size) {
        throw new IllegalArgumentException("added tokens leave id " + size + " without an entry: ids after the model's " + model.size()
            + " pieces must follow each other (the largest is " + beyond.last() + ")");
      }
      size++;
    }
    this.pieces = java.util.Arrays.copyOf(model.pieces(), size);
    this.addedById = new AddedToken[size];
    this.addedIds = new HashMap<>();
    for (AddedToken a : this.addedTokens) {
      pieces[a.id()] = a.content();
      addedById[a.id()] = a;
      addedIds.putIfAbsent(a.content(), a.id());
    }
    this.ids = new HashMap<>(model.size() * 2);
    java.util.Arrays.fill(byteIds, -1);
    List<String> ud = new ArrayList<>();
    List<AddedToken> matched = new ArrayList<>(this.addedTokens);
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
        case USER_DEFINED -> {
          if (addedById[i] == null) {
            ud.add(p);
          }
        }
        case CONTROL, UNKNOWN -> {
          if (!p.isEmpty() && addedById[i] == null && !addedIds.containsKey(p)) {
            matched.add(AddedToken.special(i, p));
          }
        }
        default -> { }
      }
    }
    ud.sort(Comparator.comparingInt(String::length).reversed());
    this.userDefined = List.copyOf(ud);
    String n = model.normalizerName() == null ? "" : model.normalizerName().toLowerCase(java.util.Locale.ROOT);
    this.nfkc = n.contains("nfkc");
    this.added = new AddedVocabulary(matched, nfkc ? t -> Normalizer.normalize(t, Normalizer.Form.NFKC) : t -> t);
  }

  /**
   * This tokenizer with {@code more} added tokens (Hugging Face loads a folder's
   * {@code tokenizer_config.json} {@code added_tokens_decoder} this way): a token whose id or
   * content is already added is left out, so tokens given first win.
   *
   * @throws IllegalArgumentException when ids beyond the model leave a gap
   */
  public SentencePieceTokenizer withAddedTokens(List<AddedToken> more) {
    List<AddedToken> all = new ArrayList<>(addedTokens);
    for (AddedToken a : more) {
      if (!addedIds.containsKey(a.content()) && (a.id() >= addedById.length || addedById[a.id()] == null)
          && all.stream().noneMatch(b -> b.id() == a.id() || b.content().equals(a.content()))) {
        all.add(a);
      }
    }
    return new SentencePieceTokenizer(model, mergeRanks, prependScheme, splitOnSpace, all);
  }

  /** The added tokens given to this tokenizer (not counting the model's control pieces). */
  public List<AddedToken> addedTokens() {
    return addedTokens;
  }

  /** The added token with this id, if one was given. */
  public java.util.Optional<AddedToken> addedToken(int id) {
    checkId(id);
    return java.util.Optional.ofNullable(addedById[id]);
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
    if (added.isEmpty()) {
      encodeSegment(text, true, out);
    } else {
      for (AddedVocabulary.Split s : added.split(text, parseSpecial)) {
        if (s.token() != null) {
          out.add(s.token().id());
        } else {
          encodeSegment(s.text(), s.atStart(), out);
        }
      }
    }
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

  /** Steps 1–4 for one segment between added tokens. */
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
    // byte fallback needs every byte's <0xNN> piece; with one missing the symbol is unknown, as in
    // sentencepiece (PieceToId gives unk_id) and Hugging Face's BPE
    byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
    if (model.byteFallback() && allBytePieces(utf8)) {
      for (byte b : utf8) {
        out.add(byteIds[b & 0xFF]);
      }
      return false;
    }
    if (!prevUnknown && model.unkId() >= 0) { // no unk piece (-1): nothing stands for the symbol
      out.add(model.unkId());
    }
    return true;
  }

  private boolean allBytePieces(byte[] utf8) {
    for (byte b : utf8) {
      if (byteIds[b & 0xFF] < 0) {
        return false;
      }
    }
    return true;
  }

  // ---------------------------------------------------------------------------------- decoding

  /**
   * Bytes of one id: an added token's content (nothing for a special one when {@code skipSpecial}),
   * a byte piece's byte, a piece's text with "▁" as space, nothing for control when {@code
   * skipSpecial}.
   */
  private byte[] tokenBytes(int id, boolean skipSpecial) {
    checkId(id);
    AddedToken a = addedById[id];
    if (a != null) {
      return a.special() && skipSpecial ? new byte[0] : a.content().replace(SPACE, " ").getBytes(StandardCharsets.UTF_8);
    }
    return switch (model.types()[id]) {
      case CONTROL -> skipSpecial ? new byte[0] : model.pieces()[id].getBytes(StandardCharsets.UTF_8);
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
    return decode(ids, true);
  }

  /**
   * With {@code skipSpecial} false, special tokens are kept as their text ({@code <s>},
   * {@code <image>}), as Hugging Face's {@code decode(ids)} does by default; the leading space of
   * the dummy prefix is dropped only when the output starts with it ({@code "<s> Hello"}).
   */
  @Override
  public String decode(int[] ids, boolean skipSpecial) {
    return StreamingDecoder.decodeAll(id -> tokenBytes(id, skipSpecial), prependScheme != PrependScheme.NEVER, ids);
  }

  @Override
  public StreamingDecoder streamingDecoder() {
    return new StreamingDecoder(id -> tokenBytes(id, true), prependScheme != PrependScheme.NEVER);
  }

  private void checkId(int id) {
    if (id < 0 || id >= pieces.length) {
      throw new IllegalArgumentException("id " + id + " outside the vocabulary [0, " + pieces.length + ")");
    }
  }

  @Override
  public String piece(int id) {
    checkId(id);
    return pieces[id];
  }

  @Override
  public OptionalInt id(String piece) {
    Integer id = addedIds.get(piece);
    if (id == null) {
      id = ids.get(piece);
    }
    return id == null ? OptionalInt.empty() : OptionalInt.of(id);
  }

  /** Ids of the model's pieces and of the added tokens after them. */
  @Override
  public int vocabSize() {
    return pieces.length;
  }

  @Override
  public boolean isSpecial(int id) {
    checkId(id);
    AddedToken a = addedById[id];
    return a != null ? a.special() : model.types()[id] == PieceType.CONTROL;
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
