package dev.fovea.cli;

import dev.fovea.llm.generate.GenerationConfig;
import dev.fovea.llm.generate.Generator;
import dev.fovea.llm.generate.SamplingConfig;
import dev.fovea.llm.llava.LlavaForConditionalGeneration;
import dev.fovea.llm.llava.LlavaImages;
import dev.fovea.llm.llava.LlavaPrompt;
import dev.fovea.methods.eval.ImageAnswerer;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import dev.fovea.vit.image.ImageDecoder;
import dev.fovea.vit.image.PreprocessorConfig;
import dev.fovea.vit.tokenizer.TextTokenizer;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * LLaVA-1.5 answers for the yes/no benchmarks, the path {@code ask --question --image} takes: the
 * question in the conversation template with one {@code <image>} marker, the image through the
 * checkpoint's pipeline, then the {@code --decode} method ({@link DecodeOptions#answer}: plain
 * generation, VCD or AVC) with its draws seeded per answer. Records the prefill and decode times,
 * the number of generated tokens and what the method reports (AVC: its blind tokens).
 */
final class LlavaAnswerer implements ImageAnswerer {
  private final LlavaForConditionalGeneration lm;
  private final TextTokenizer tokenizer;
  private final LlavaPrompt.Template template;
  private final PreprocessorConfig preprocessing;
  private final GenerationConfig generation;
  private final SamplingConfig sampling;
  private final DecodeOptions decoding;
  private final String promptSuffix;

  /** @param promptSuffix what the evaluation appended to each question (AGLA's BLIP scores the question without it) */
  LlavaAnswerer(LlavaForConditionalGeneration lm, TextTokenizer tokenizer, LlavaPrompt.Template template, PreprocessorConfig preprocessing,
      GenerationConfig generation, SamplingConfig sampling, DecodeOptions decoding, String promptSuffix) {
    this.promptSuffix = promptSuffix;
    this.lm = lm;
    this.tokenizer = tokenizer;
    this.template = template;
    this.preprocessing = preprocessing;
    this.generation = generation;
    this.sampling = sampling;
    this.decoding = decoding;
  }

  @Override
  public Answer answer(Path image, String prompt, long seed) {
    long t0 = System.nanoTime();
    try (var scope = Scope.open()) {
      int[] ids = LlavaPrompt.tokenize(tokenizer, LlavaPrompt.text(template, prompt, 1), lm.config.imageTokenIndex());
      Tensor pixels = LlavaImages.pixels(List.of(image), preprocessing);
      DecodeOptions.AglaInput agla = null;
      if (decoding.decode == DecodeOptions.Decode.AGLA) {
        String question = !promptSuffix.isEmpty() && prompt.endsWith(promptSuffix) ? prompt.substring(0, prompt.length() - promptSuffix.length()) : prompt;
        agla = new DecodeOptions.AglaInput(List.of(ImageDecoder.read(image)), question, preprocessing);
      }
      DecodeOptions.Answer a = decoding.answer(lm, ids, pixels, agla, generation, sampling, seed, tokenizer, null);
      Generator.Result r = a.generation();
      Map<String, Double> ms = new LinkedHashMap<>();
      ms.put("prefill", VicropCommand.millis(r.prefillNanos()));
      ms.put("decode", VicropCommand.millis(r.decodeNanos()));
      ms.put("median_step", Math.round(r.medianStepMillis() * 100) / 100.0);
      ms.put("total", VicropCommand.millis(System.nanoTime() - t0));
      Map<String, Object> extra = new LinkedHashMap<>();
      extra.put("tokens", r.tokens().length);
      a.report().forEach((k, v) -> {
        if (k.equals("layers") || k.startsWith("blind_") || k.equals("itc") || k.equals("kept_share") || k.equals("ipm_ms")) {
          extra.put(k, v);
        }
      });
      return new Answer(r.text(), ms, extra);
    }
  }
}
