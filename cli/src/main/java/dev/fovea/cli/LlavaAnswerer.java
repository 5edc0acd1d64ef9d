package dev.fovea.cli;

import dev.fovea.llm.generate.GenerationConfig;
import dev.fovea.llm.generate.Generator;
import dev.fovea.llm.generate.Sampler;
import dev.fovea.llm.generate.SamplingConfig;
import dev.fovea.llm.llava.LlavaForConditionalGeneration;
import dev.fovea.llm.llava.LlavaImages;
import dev.fovea.llm.llava.LlavaInputs;
import dev.fovea.llm.llava.LlavaPrompt;
import dev.fovea.methods.eval.ImageAnswerer;
import dev.fovea.tensor.Scope;
import dev.fovea.vit.image.PreprocessorConfig;
import dev.fovea.vit.tokenizer.TextTokenizer;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code --decode none}: plain LLaVA-1.5 generation, the path {@code ask --question --image} takes
 * (the question in the conversation template with one {@code <image>} marker, the image through the
 * checkpoint's pipeline, then {@link Generator#generate} with a sampler seeded per answer). Records the
 * image encoding, prefill and decode times and the number of generated tokens.
 */
final class LlavaAnswerer implements ImageAnswerer {
  private final LlavaForConditionalGeneration lm;
  private final TextTokenizer tokenizer;
  private final LlavaPrompt.Template template;
  private final PreprocessorConfig preprocessing;
  private final GenerationConfig generation;
  private final SamplingConfig sampling;

  LlavaAnswerer(LlavaForConditionalGeneration lm, TextTokenizer tokenizer, LlavaPrompt.Template template, PreprocessorConfig preprocessing,
      GenerationConfig generation, SamplingConfig sampling) {
    this.lm = lm;
    this.tokenizer = tokenizer;
    this.template = template;
    this.preprocessing = preprocessing;
    this.generation = generation;
    this.sampling = sampling;
  }

  @Override
  public Answer answer(Path image, String prompt, long seed) {
    long t0 = System.nanoTime();
    try (var scope = Scope.open()) {
      int[] ids = LlavaPrompt.tokenize(tokenizer, LlavaPrompt.text(template, prompt, 1), lm.config.imageTokenIndex());
      LlavaInputs inputs = lm.prepare(ids, LlavaImages.pixels(List.of(image), preprocessing));
      long t1 = System.nanoTime();
      Generator.Result r = Generator.generate(lm, inputs.toInputs(), generation, Sampler.seeded(sampling, seed), tokenizer, null);
      Map<String, Double> ms = new LinkedHashMap<>();
      ms.put("image", VicropCommand.millis(t1 - t0));
      ms.put("prefill", VicropCommand.millis(r.prefillNanos()));
      ms.put("decode", VicropCommand.millis(r.decodeNanos()));
      ms.put("total", VicropCommand.millis(System.nanoTime() - t0));
      return new Answer(r.text(), ms, Map.of("tokens", r.tokens().length));
    }
  }
}
