package dev.fovea.cli;

import dev.fovea.llm.generate.GenerationConfig;
import dev.fovea.llm.generate.Generator;
import dev.fovea.llm.generate.SamplingConfig;
import dev.fovea.llm.instructblip.InstructBlipPrompt;
import dev.fovea.methods.eval.ImageAnswerer;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * InstructBLIP answers for the yes/no benchmarks, the path {@code ask --question --image} takes on
 * an InstructBLIP folder: the raw prompt as the LLM prompt ({@code </s>} first) and as the Q-Former
 * instruction (AvisC's InstructBLIP POPE layout, spec 2.7), the image through the folder's
 * BlipImageProcessor, then plain decoding, VCD, AVC or AGLA ({@link DecodeOptions#answerInstructBlip}).
 */
final class InstructBlipAnswerer implements ImageAnswerer {
  private final InstructBlipBundle bundle;
  private final GenerationConfig generation;
  private final SamplingConfig sampling;
  private final DecodeOptions decoding;

  private final String promptSuffix;

  /** @param promptSuffix what the evaluation appended to each question (AGLA's BLIP scores the question without it) */
  InstructBlipAnswerer(InstructBlipBundle bundle, GenerationConfig generation, SamplingConfig sampling, DecodeOptions decoding, String promptSuffix) {
    this.promptSuffix = promptSuffix;
    this.bundle = bundle;
    this.generation = generation;
    this.sampling = sampling;
    this.decoding = decoding;
  }

  @Override
  public Answer answer(Path image, String prompt, long seed) {
    long t0 = System.nanoTime();
    try (var scope = Scope.open()) {
      var lm = bundle.model();
      int[] ids = InstructBlipPrompt.llmIds(bundle.tokenizer(), prompt);
      int[] qids = InstructBlipPrompt.qformerIds(bundle.qformerTokenizer(), prompt, lm.config);
      Tensor pixels = bundle.processor().process(image).unsqueeze(0);
      DecodeOptions.AglaInput agla = null;
      if (decoding.decode == DecodeOptions.Decode.AGLA) {
        String question = !promptSuffix.isEmpty() && prompt.endsWith(promptSuffix) ? prompt.substring(0, prompt.length() - promptSuffix.length()) : prompt;
        agla = new DecodeOptions.AglaInput(java.util.List.of(dev.fovea.vit.image.ImageDecoder.read(image)), question, bundle.processor().config());
      }
      DecodeOptions.Answer a = decoding.answerInstructBlip(lm, ids, qids, pixels, agla, generation, sampling, seed, bundle.tokenizer(), null);
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
