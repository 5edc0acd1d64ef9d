package dev.fovea.llm.tokenizer;

import dev.fovea.vit.tokenizer.TokenizerFileException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The parts of a SentencePiece {@code ModelProto} the tokenizer uses (sentencepiece
 * {@code src/sentencepiece_model.proto}): the pieces in id order with scores and types, the trainer
 * settings that matter at encode time, and the normalizer flags. Defaults are the proto's.
 *
 * @param modelType 1 UNIGRAM, 2 BPE, 3 WORD, 4 CHAR ({@code TrainerSpec.model_type}, field 3)
 * @param padId -1 when there is none
 * @param normalizerName {@code NormalizerSpec.name}: only "identity" (LLaMA) is supported, or an
 *     absent / empty precompiled charsmap
 */
public record SentencePieceModel(
    String[] pieces,
    float[] scores,
    PieceType[] types,
    int modelType,
    boolean byteFallback,
    int unkId,
    int bosId,
    int eosId,
    int padId,
    boolean addDummyPrefix,
    boolean removeExtraWhitespaces,
    boolean escapeWhitespaces,
    String normalizerName) {

  public static final int UNIGRAM = 1;
  public static final int BPE = 2;

  public SentencePieceModel {
    if (pieces.length != scores.length || pieces.length != types.length) {
      throw new IllegalArgumentException("pieces, scores and types differ in length: "
          + pieces.length + ", " + scores.length + ", " + types.length);
    }
  }

  public int size() {
    return pieces.length;
  }

  /**
   * This model, after checking what its file says against its vocabulary: the special ids
   * ({@code unk_id}, {@code bos_id}, {@code eos_id}, {@code pad_id}) must be pieces or -1 (none), so
   * that a hostile file is refused when it is loaded instead of failing at the first encode or decode.
   *
   * @throws TokenizerFileException naming {@code file} and the id
   */
  public SentencePieceModel checked(Path file) {
    String[] names = {"unk_id", "bos_id", "eos_id", "pad_id"};
    int[] ids = {unkId, bosId, eosId, padId};
    for (int i = 0; i < ids.length; i++) {
      if (ids[i] < -1 || ids[i] >= pieces.length) {
        throw new TokenizerFileException(file, names[i] + " " + ids[i] + " is not a piece of the " + pieces.length + "-piece vocabulary (nor -1, none)");
      }
    }
    return this;
  }

  /** Parses a serialized {@code ModelProto} ({@code tokenizer.model}). */
  public static SentencePieceModel read(Path file) {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      throw new TokenizerFileException(file, "SentencePiece model file not found");
    } catch (IOException e) {
      throw new TokenizerFileException(file, "cannot read SentencePiece model", e);
    }
    List<String> pieces = new ArrayList<>();
    List<Float> scores = new ArrayList<>();
    List<PieceType> types = new ArrayList<>();
    // TrainerSpec / NormalizerSpec defaults from the .proto
    int modelType = UNIGRAM;
    boolean byteFallback = false;
    int unk = 0;
    int bos = 1;
    int eos = 2;
    int pad = -1;
    boolean dummyPrefix = true;
    boolean removeExtra = true;
    boolean escape = true;
    String normalizer = "";
    ProtoReader r = new ProtoReader(file, bytes, 0, bytes.length);
    while (r.hasMore()) {
      int tag = r.readTag();
      switch (tag >>> 3) {
        case 1 -> { // repeated SentencePiece pieces
          r.expect(tag, ProtoReader.LENGTH_DELIMITED, "ModelProto.pieces");
          ProtoReader p = r.readMessage();
          String piece = null;
          float score = 0f;
          PieceType type = PieceType.NORMAL;
          while (p.hasMore()) {
            int t = p.readTag();
            switch (t >>> 3) {
              case 1 -> piece = p.readString();
              case 2 -> {
                p.expect(t, ProtoReader.FIXED32, "SentencePiece.score");
                score = p.readFloat();
              }
              case 3 -> {
                int n = (int) p.readVarint();
                try {
                  type = PieceType.of(n);
                } catch (IllegalArgumentException e) {
                  throw p.corrupt("piece " + pieces.size() + ": unknown type " + n);
                }
              }
              default -> p.skip(t);
            }
          }
          if (piece == null) {
            throw r.corrupt("piece " + pieces.size() + " has no text");
          }
          pieces.add(piece);
          scores.add(score);
          types.add(type);
        }
        case 2 -> { // TrainerSpec
          r.expect(tag, ProtoReader.LENGTH_DELIMITED, "ModelProto.trainer_spec");
          ProtoReader t = r.readMessage();
          while (t.hasMore()) {
            int tt = t.readTag();
            switch (tt >>> 3) {
              case 3 -> modelType = (int) t.readVarint();
              case 35 -> byteFallback = t.readVarint() != 0;
              case 40 -> unk = (int) t.readVarint();
              case 41 -> bos = (int) t.readVarint();
              case 42 -> eos = (int) t.readVarint();
              case 43 -> pad = (int) t.readVarint();
              default -> t.skip(tt);
            }
          }
        }
        case 3 -> { // NormalizerSpec
          r.expect(tag, ProtoReader.LENGTH_DELIMITED, "ModelProto.normalizer_spec");
          ProtoReader n = r.readMessage();
          while (n.hasMore()) {
            int nt = n.readTag();
            switch (nt >>> 3) {
              case 1 -> normalizer = n.readString();
              case 3 -> dummyPrefix = n.readVarint() != 0;
              case 4 -> removeExtra = n.readVarint() != 0;
              case 5 -> escape = n.readVarint() != 0;
              default -> n.skip(nt);
            }
          }
        }
        default -> r.skip(tag);
      }
    }
    if (pieces.isEmpty()) {
      throw new TokenizerFileException(file, "SentencePiece model has no pieces (is this a tokenizer.model?)");
    }
    float[] s = new float[scores.size()];
    for (int i = 0; i < s.length; i++) {
      s[i] = scores.get(i);
    }
    return new SentencePieceModel(pieces.toArray(String[]::new), s, types.toArray(PieceType[]::new),
        modelType, byteFallback, unk, bos, eos, pad, dummyPrefix, removeExtra, escape, normalizer).checked(file);
  }
}
