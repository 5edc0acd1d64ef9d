package dev.fovea.llm.llava;

import dev.fovea.llm.tokenizer.SentencePieceTokenizer;
import dev.fovea.vit.tokenizer.TextTokenizer;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;

/**
 * LLaVA-1.5 conversation templates and their tokenization (spec models-formats.md 2.4).
 *
 * <p>Tokenization: when the tokenizer has {@code <image>} as an added token with the config's
 * {@code image_token_index} (llava-hf folders declare it in {@code tokenizer_config.json}), the text
 * is encoded as a whole, as llava-hf's processor does, so {@code fovea tokenize} shows the very ids
 * {@code ask} feeds. Otherwise (original haotian-liu checkpoints, whose image index -200 is no token)
 * it follows the original repo's {@code tokenizer_image_token} (llava/mm_utils.py), which gives the
 * same ids for the legacy LLaMA tokenizer: the text is split on {@code <image>}, each chunk is
 * encoded on its own (BOS on the first only, special tokens parsed in all; each chunk gets
 * SentencePiece's dummy prefix, so {@code "<image>\n"} becomes {@code image, ▁, <0x0A>}), and
 * chunks are joined by one image token id each. {@link LlavaForConditionalGeneration#prepare}
 * expands each marker to the image's feature rows.
 */
public final class LlavaPrompt {
  public static final String IMAGE = "<image>";

  /** A conversation template: text before the user's turn and the assistant cue after it. */
  public enum Template {
    /** llava-hf model card: {@code "USER: <image>\n{question} ASSISTANT:"}. */
    LLAVA_HF("", "USER: ", " ASSISTANT:"),
    /** Original repo {@code vicuna_v1} (evaluation scripts): system sentence, then {@code " USER: ..."}. */
    VICUNA_V1("A chat between a curious user and an artificial intelligence assistant. "
        + "The assistant gives helpful, detailed, and polite answers to the user's questions.", " USER: ", " ASSISTANT:"),
    /** Original repo {@code llava_v1} ({@code run_llava.py} for v1 names): as vicuna_v1 with "human". */
    LLAVA_V1("A chat between a curious human and an artificial intelligence assistant. "
        + "The assistant gives helpful, detailed, and polite answers to the human's questions.", " USER: ", " ASSISTANT:");

    public final String system;
    public final String user;
    public final String assistant;

    Template(String system, String user, String assistant) {
      this.system = system;
      this.user = user;
      this.assistant = assistant;
    }

    /** By name: "llava_hf", "vicuna_v1", "llava_v1" (case-insensitive). */
    public static Template named(String name) {
      for (Template t : values()) {
        if (t.name().equalsIgnoreCase(name)) {
          return t;
        }
      }
      throw new LlavaException("unknown conversation template \"" + name + "\"; known: llava_hf, vicuna_v1, llava_v1");
    }
  }

  private LlavaPrompt() {}

  /**
   * The prompt text of one user turn: {@code images} markers {@code "<image>\n"} before the question
   * (none are added when the question already holds {@code <image>} markers: they stay where they are).
   */
  public static String text(Template template, String question, int images) {
    String body = question.contains(IMAGE) ? question : IMAGE.concat("\n").repeat(images) + question;
    return template.system + template.user + body + template.assistant;
  }

  /** Ids of {@code text} with BOS and one {@code imageTokenIndex} per {@code <image>}. */
  public static int[] tokenize(TextTokenizer tokenizer, String text, int imageTokenIndex) {
    OptionalInt own = tokenizer.id(IMAGE);
    if (own.isPresent() && own.getAsInt() == imageTokenIndex && tokenizer instanceof SentencePieceTokenizer sp
        && sp.addedToken(imageTokenIndex).isPresent()) {
      return tokenizer.encode(text, true);
    }
    List<Integer> ids = new ArrayList<>();
    int from = 0;
    boolean first = true;
    while (true) {
      int at = text.indexOf(IMAGE, from);
      String chunk = text.substring(from, at < 0 ? text.length() : at);
      int[] chunkIds = tokenizer instanceof SentencePieceTokenizer spm ? spm.encode(chunk, first, true) : tokenizer.encode(chunk, first);
      for (int id : chunkIds) {
        ids.add(id);
      }
      first = false;
      if (at < 0) {
        break;
      }
      ids.add(imageTokenIndex);
      from = at + IMAGE.length();
    }
    return ids.stream().mapToInt(Integer::intValue).toArray();
  }
}
