package dev.fovea.methods.vicrop;

import dev.fovea.llm.generate.CausalLM;
import dev.fovea.llm.generate.Inputs;
import dev.fovea.llm.llama.DecodeState;
import dev.fovea.llm.llava.LlavaForConditionalGeneration;
import dev.fovea.llm.llava.LlavaInputs;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.autograd.GradMode;
import java.util.Arrays;
import java.util.List;

/**
 * What every prompt of one ViCrop run has in common, computed once: the original image's projected
 * features (one vision-tower pass instead of one per prompt) and a decoding state holding the
 * positions all prompts share, the template's text before the first image and that image ({@code
 * length} positions). The question and generic map prompts and the answer prompt (original image,
 * then the crop) each continue a copy of it ({@link #continueTo}) instead of prefilling those positions again.
 *
 * <p>Same numbers as separate prefills: a prompt's positions after the prefix attend to the same
 * cached keys and values, computed from the same embeddings (the same features tensor), and the
 * rows of a forward do not depend on how the sequence was split into forwards (tested: same maps
 * and answers as without the prefix).
 */
final class PromptPrefix implements AutoCloseable {
  private final LlavaForConditionalGeneration model;
  final Tensor features;
  final int[] ids;
  final int length;
  private final DecodeState state;

  private PromptPrefix(LlavaForConditionalGeneration model, Tensor features, int[] ids, DecodeState state) {
    this.model = model;
    this.features = features;
    this.ids = ids;
    this.length = ids.length;
    this.state = state;
  }

  /**
   * The prefix of {@code in} (a one-image prompt prepared from {@code features}) up to the end of
   * its image, prefilled into a state with room for {@code capacity} positions (no autograd).
   */
  static PromptPrefix of(LlavaForConditionalGeneration model, Tensor features, LlavaInputs in, int capacity) {
    int p = in.imageSpans().get(0).end();
    DecodeState s = model.newState(1, Math.max(capacity, in.length()));
    try (var g = GradMode.disable()) {
      model.languageModel.extend(s, Inputs.embeddings(in.embeddings().narrow(1, 0, p)));
      return new PromptPrefix(model, features, Arrays.copyOf(in.ids(), p), s);
    } catch (RuntimeException e) {
      s.close();
      throw e;
    }
  }

  /** Whether {@code in} starts with this prefix (same ids; its first image must be the original's features). */
  boolean prefixes(LlavaInputs in) {
    return in.length() > length && Arrays.equals(ids, 0, length, in.ids(), 0, length)
        && !in.imageSpans().isEmpty() && in.imageSpans().get(0).end() == length;
  }

  /** A state holding the prefix and then {@code in}'s positions {@code [length, end)} (no autograd). */
  DecodeState continueTo(LlavaInputs in, int end) {
    return continueWith(in.embeddings(), end);
  }

  /** A fork of the prefix's state extended by rows {@code [length, end)} of {@code embeddings} [1, L, C]. */
  private DecodeState continueWith(Tensor embeddings, int end) {
    DecodeState s = state.fork();
    try (var g = GradMode.disable()) {
      if (end > length) {
        model.languageModel.extend(s, Inputs.embeddings(embeddings.narrow(1, length, end - length)));
      }
      return s;
    } catch (RuntimeException e) {
      s.close();
      throw e;
    }
  }

  /**
   * The model as the generator sees it, whose prefill continues the prefix: the prompts it is given
   * must start with the prefix ({@link #prefixes}) and be given as their embeddings.
   */
  CausalLM asModel() {
    return new CausalLM() {
      @Override
      public DecodeState prefill(Inputs inputs, int maxLength) {
        return continueWith(inputs.embeddings(), inputs.length());
      }

      @Override
      public float[] step(DecodeState s, int token) {
        return model.step(s, token);
      }

      @Override
      public int vocabSize() {
        return model.vocabSize();
      }

      @Override
      public List<Integer> eosTokenIds() {
        return model.eosTokenIds();
      }

      @Override
      public int maxPositions() {
        return model.maxPositions();
      }
    };
  }

  @Override
  public void close() {
    state.close();
  }
}
