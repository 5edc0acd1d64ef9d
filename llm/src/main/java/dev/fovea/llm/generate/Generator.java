package dev.fovea.llm.generate;

import dev.fovea.vit.tokenizer.StreamingDecoder;
import dev.fovea.vit.tokenizer.TextTokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;

/**
 * The generation loop over the step API: prefill every branch, then per token combine the
 * branches' logits, sample, and step every branch with the same token (DESIGN "branches"). With one
 * branch and {@link LogitsCombiner#first()} it is plain decoding.
 *
 * <p>Text streams through the tokenizer's {@link StreamingDecoder} (characters split across byte
 * pieces are held back until complete); when stop strings are set, text that could still begin a
 * stop string is held back too, so nothing after a stop string is ever emitted.
 */
public final class Generator {
  private Generator() {}

  /** One decoding branch: a model and its prompt (ids or input embeddings). */
  public record Branch(CausalLM model, Inputs inputs) {}

  public enum StopReason {
    EOS,
    STOP_STRING,
    MAX_NEW_TOKENS,
    /** The model's maximum context ({@link CausalLM#maxPositions()}) was reached first. */
    CONTEXT_FULL
  }

  /**
   * @param tokens generated ids (an EOS that ended generation is not included)
   * @param text their decoded text, cut before a stop string ("" without a tokenizer)
   * @param stepNanos per decode step (combine, sample, feed every branch), one per token fed after the first
   * @param batched whether the branches ran as one batch ({@link Lockstep})
   */
  public record Result(int[] tokens, String text, StopReason stopReason, int promptLength, long prefillNanos, long decodeNanos,
      long[] stepNanos, boolean batched) {
    /** Decode speed over the steps after the first token. */
    public double decodeTokensPerSecond() {
      return tokens.length <= 1 || decodeNanos == 0 ? 0 : (tokens.length - 1) * 1e9 / decodeNanos;
    }

    /** This result with the prompt length and the prefill time of the caller's prefill ({@link #decode} leaves them 0). */
    public Result withPrefill(int promptLength, long prefillNanos) {
      return new Result(tokens, text, stopReason, promptLength, prefillNanos, decodeNanos, stepNanos, batched);
    }

    /** Median time of one decode step in milliseconds (0 without steps). */
    public double medianStepMillis() {
      if (stepNanos.length == 0) {
        return 0;
      }
      long[] s = stepNanos.clone();
      Arrays.sort(s);
      return (s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2.0) / 1e6;
    }
  }

  /** Plain decoding of one prompt. */
  public static Result generate(CausalLM model, Inputs prompt, GenerationConfig config, Sampler sampler, TextTokenizer tokenizer,
      Consumer<String> onText) {
    return generate(List.of(new Branch(model, prompt)), LogitsCombiner.first(), config, sampler, tokenizer, onText);
  }

  /**
   * Branches in lockstep: prefilled ({@link Lockstep#prefill}: one batch when {@link
   * GenerationConfig#batchBranches()} and the branches allow it, else one state each), then {@link
   * #decode}. EOS and stop strings come from the first branch's model.
   *
   * @param tokenizer for stop strings and streaming; may be null (then text is "")
   * @param onText receives text as it becomes final; may be null
   */
  public static Result generate(List<Branch> branches, LogitsCombiner combiner, GenerationConfig config, Sampler sampler,
      TextTokenizer tokenizer, Consumer<String> onText) {
    if (branches.isEmpty()) {
      throw new IllegalArgumentException("generate: no branches");
    }
    checkStops(config, tokenizer);
    long t0 = System.nanoTime();
    try (Lockstep lockstep = Lockstep.prefill(branches, config.maxNewTokens(), config.batchBranches())) {
      long prefill = System.nanoTime() - t0;
      Result r = decode(lockstep, combiner, config, sampler, tokenizer, onText);
      return r.withPrefill(branches.get(0).inputs().length(), prefill);
    }
  }

  /**
   * The token loop over prefilled branches: per token the combiner merges the branches' logits, the
   * sampler picks one token (repetition history: the first branch's ids), and every branch is fed
   * it. The caller keeps ownership of {@code lockstep} (closes it). The result's prompt length and
   * prefill time are 0 (the caller did the prefill).
   */
  public static Result decode(Lockstep lockstep, LogitsCombiner combiner, GenerationConfig config, Sampler sampler, TextTokenizer tokenizer,
      Consumer<String> onText) {
    checkStops(config, tokenizer);
    CausalLM lead = lockstep.lead();
    long t1 = System.nanoTime();
    TextStream text = new TextStream(tokenizer, config.stopStrings(), onText);
    // grown as tokens come: maxNewTokens is only a bound (a caller may pass Integer.MAX_VALUE and
    // let EOS or the context end the answer), so it is never allocated up front
    int[] out = new int[Math.min(config.maxNewTokens(), 64)];
    long[] steps = new long[out.length];
    int n = 0;
    int stepCount = 0;
    StopReason reason = StopReason.MAX_NEW_TOKENS;
    int[] prompt = lockstep.history();
    long stepStart = System.nanoTime();
    while (n < config.maxNewTokens()) {
      float[] combined = combiner.combine(lockstep.logits());
      int token = sampler.sample(combined, concat(prompt, out, n));
      if (config.stopAtEos() && lead.eosTokenIds().contains(token)) {
        reason = StopReason.EOS;
        break;
      }
      if (n == out.length) {
        out = Arrays.copyOf(out, (int) Math.min(2L * out.length, config.maxNewTokens()));
      }
      out[n++] = token;
      if (text.push(token)) {
        reason = StopReason.STOP_STRING;
        break;
      }
      if (n == config.maxNewTokens()) {
        break;
      }
      if (lockstep.full()) {
        // The prompt plus the tokens so far fill the model's context: the last token was sampled
        // from the last position's logits but cannot be fed.
        reason = StopReason.CONTEXT_FULL;
        break;
      }
      lockstep.feed(token);
      long now = System.nanoTime();
      if (stepCount == steps.length) {
        steps = Arrays.copyOf(steps, 2 * steps.length);
      }
      steps[stepCount++] = now - stepStart;
      stepStart = now;
    }
    int[] tokens = Arrays.copyOf(out, n);
    String finalText = text.finish();
    return new Result(tokens, finalText, reason, 0, 0, System.nanoTime() - t1, Arrays.copyOf(steps, stepCount), lockstep.isBatched());
  }

  private static void checkStops(GenerationConfig config, TextTokenizer tokenizer) {
    if (!config.stopStrings().isEmpty() && tokenizer == null) {
      throw new IllegalArgumentException("generate: stop strings need a tokenizer");
    }
  }

  private static int[] concat(int[] a, int[] b, int bn) {
    int[] r = Arrays.copyOf(a, a.length + bn);
    System.arraycopy(b, 0, r, a.length, bn);
    return r;
  }

  /** Streaming text with stop strings: emits only what can no longer be the start of a stop string. */
  private static final class TextStream {
    private final StreamingDecoder decoder;
    /**
     * Ids at or above this (the tokenizer's size) give no text: a model's embedding may have more
     * rows than its tokenizer has pieces (llava-hf pads 32002 pieces to 32064 rows), and such an id
     * can be sampled. Hugging Face's decode skips ids its tokenizer lacks; so does the stream.
     */
    private final int textIds;
    private final List<String> stops;
    private final Consumer<String> sink;
    private final int holdBack;
    private final StringBuilder all = new StringBuilder();
    private int emitted;
    private boolean stopped;

    TextStream(TextTokenizer tokenizer, List<String> stops, Consumer<String> sink) {
      this.decoder = tokenizer == null ? null : tokenizer.streamingDecoder();
      this.textIds = tokenizer == null ? 0 : tokenizer.vocabSize();
      this.stops = stops;
      this.sink = sink;
      this.holdBack = stops.stream().mapToInt(String::length).max().orElse(1) - 1;
    }

    /** Adds a token; true when a stop string appeared (the text is cut before it). */
    boolean push(int token) {
      if (decoder == null || token < 0 || token >= textIds) {
        return false;
      }
      all.append(decoder.push(token));
      int cut = stopIndex();
      if (cut >= 0) {
        all.setLength(cut);
        stopped = true;
        flush(all.length());
        return true;
      }
      flush(all.length() - holdBack);
      return false;
    }

    private int stopIndex() {
      int best = -1;
      int from = Math.max(0, emitted - holdBack);
      for (String s : stops) {
        int i = all.indexOf(s, from);
        if (i >= 0 && (best < 0 || i < best)) {
          best = i;
        }
      }
      return best;
    }

    private void flush(int upTo) {
      int end = upTo;
      if (end > 0 && end < all.length() && Character.isHighSurrogate(all.charAt(end - 1))) {
        end--; // never split a surrogate pair
      }
      if (end > emitted) {
        if (sink != null) {
          sink.accept(all.substring(emitted, end));
        }
        emitted = end;
      }
    }

    String finish() {
      if (decoder == null) {
        return "";
      }
      if (!stopped) {
        all.append(decoder.finish());
        int cut = stopIndex();
        if (cut >= 0) {
          all.setLength(cut);
        }
      }
      flush(all.length());
      return all.toString();
    }
  }
}
