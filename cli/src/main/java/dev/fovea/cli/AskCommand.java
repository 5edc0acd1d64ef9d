package dev.fovea.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fovea.convert.LlavaGguf;
import dev.fovea.convert.ModelInput;
import dev.fovea.llm.generate.CausalLM;
import dev.fovea.llm.generate.GenerationConfig;
import dev.fovea.llm.generate.Generator;
import dev.fovea.llm.generate.Inputs;
import dev.fovea.llm.generate.Sampler;
import dev.fovea.llm.generate.SamplingConfig;
import dev.fovea.llm.instructblip.InstructBlipForConditionalGeneration;
import dev.fovea.llm.instructblip.InstructBlipPrompt;
import dev.fovea.llm.llama.JitWarmUp;
import dev.fovea.llm.llama.LlamaForCausalLM;
import dev.fovea.llm.llava.LlavaForConditionalGeneration;
import dev.fovea.llm.llava.LlavaImages;
import dev.fovea.llm.llava.LlavaPrompt;
import dev.fovea.nn.Module;
import dev.fovea.nn.StageClock;
import dev.fovea.tensor.Device;
import dev.fovea.tensor.Scope;
import dev.fovea.llm.tokenizer.TokenizerLoader;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.archive.ArchiveReader;
import dev.fovea.vit.image.ImageDecoder;
import dev.fovea.vit.image.RgbImage;
import dev.fovea.vit.tokenizer.TextTokenizer;
import java.io.IOException;
import java.io.PrintWriter;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Generates an answer with a LLaMA-family decoder: the prompt is raw text (BOS added, no chat
 * template), the answer streams to standard output as it is decoded, progress goes to standard
 * error. Greedy unless {@code --temperature} is given.
 *
 * <p>LLaVA-1.5 ({@code --question} with one {@code --image} per image, a llava-hf folder or archive,
 * or a GGUF model with {@code --mmproj}): the question goes into the conversation template
 * ({@code --system}), each image is preprocessed (the checkpoint's pipeline, or {@code --pad} /
 * {@code --crop}) and its projected features replace its {@code <image>} marker; the generation
 * loop is the same.
 *
 * <p>InstructBLIP (an HF folder whose config.json says {@code "model_type": "instructblip"}): one
 * {@code --image}, the raw question to the Q-Former and to the LLM (no template, LAVIS's BOS), the
 * projected queries before the prompt; plain decoding only for now.
 */
@Command(name = "ask", mixinStandardHelpOptions = true,
    description = "Generate text with a LLaMA/Vicuna model (--prompt) or answer a question about images with LLaVA-1.5 or InstructBLIP (--question, --image).")
final class AskCommand implements Callable<Integer> {
  /** Above this temperature the distribution is all but uniform: no sensible run asks for more. */
  static final String MAX_TEMPERATURE = "100";

  /** HF's repetition penalty divides (or multiplies) logits by R: past 10 (or under 0.1) it only bans (or forces) repeats harder. */
  static final String MIN_PENALTY = "0.1";
  static final String MAX_PENALTY = "10";

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(names = "--model", paramLabel = "PATH", description = "HF model folder (config.json + weights + tokenizer), a llama .gguf, or a .fovea archive"
      + " (default: the shipped models: the mini LLaVA models/scenes-llava with --question, stories260K with --prompt)")
  Path model;

  @Option(names = "--prompt", paramLabel = "TEXT", description = "raw prompt text (BOS is added; no chat template)")
  String promptText;

  @Option(names = "--question", paramLabel = "TEXT", description = "LLaVA: the user's question (\"<image>\" markers inside place the images; else they go first)")
  String question;

  @Option(names = "--image", paramLabel = "FILE", description = "LLaVA: an image, repeatable; the images fill the <image> markers in order")
  List<Path> images = new ArrayList<>();

  @CommandLine.Mixin LlavaFileOptions files;

  @CommandLine.Mixin DecodeOptions decoding;

  @Option(names = "--system", paramLabel = "NAME", description = "LLaVA conversation template: llava_hf (\"USER: <image>\\n... ASSISTANT:\"), vicuna_v1 or llava_v1 (system sentence first); default: vicuna_v1 for an original haotian-liu checkpoint, as its evaluations use, else llava_hf")
  String system;

  @Option(names = "--mask-out", paramLabel = "FILE", description = "agla: write the masked image (the first, with several images) as PNG to FILE")
  Path maskOut;

  @Option(names = "--pad", description = "LLaVA: pad images to square with the mean colour (original LLaVA-1.5)")
  boolean pad;

  @Option(names = "--crop", description = "LLaVA: centre-crop images (llava-hf's processor)")
  boolean crop;

  @Option(names = "--max-new-tokens", paramLabel = "N", description = "at most N generated tokens, 1 to the model's context (max_position_embeddings) (default: ${DEFAULT-VALUE})")
  int maxNewTokens = 128;

  @Option(names = "--temperature", paramLabel = "T", description = "sample at temperature T, 0 (greedy) to " + MAX_TEMPERATURE + " (default: greedy)")
  Float temperature;

  @Option(names = "--top-p", paramLabel = "P", description = "nucleus sampling mass, in (0, 1] (default: ${DEFAULT-VALUE}, off)")
  float topP = 1f;

  @Option(names = "--top-k", paramLabel = "K", description = "keep the K most likely tokens, 0 (off) to the model's vocabulary size (default: 0)")
  int topK = 0;

  @Option(names = "--repetition-penalty", paramLabel = "R", description = "HF repetition penalty, " + MIN_PENALTY + " to " + MAX_PENALTY + " (default: ${DEFAULT-VALUE}, off)")
  float repetitionPenalty = 1f;

  @Option(names = "--seed", paramLabel = "S", description = "random seed of the sampler, any 64-bit integer (default: ${DEFAULT-VALUE})")
  long seed = 42;

  @Option(names = "--stop", paramLabel = "TEXT", description = "stop when the answer contains TEXT (repeatable; not empty)")
  List<String> stops = List.of();

  @Option(names = "--no-progress", description = "no progress bar on standard error")
  boolean noProgress;

  @Option(names = "--json", description = "print the result as JSON instead of streaming text")
  boolean json;

  /** The ranges that do not depend on the model. */
  private void checkRanges() {
    OptionRange.check(spec, "--max-new-tokens", maxNewTokens, 1, Integer.MAX_VALUE);
    if (temperature != null) {
      OptionRange.check(spec, "--temperature", temperature, 0f, false, Float.parseFloat(MAX_TEMPERATURE));
    }
    OptionRange.check(spec, "--top-p", topP, 0f, true, 1f);
    OptionRange.check(spec, "--top-k", topK, 0, Integer.MAX_VALUE);
    OptionRange.check(spec, "--repetition-penalty", repetitionPenalty, Float.parseFloat(MIN_PENALTY), false, Float.parseFloat(MAX_PENALTY));
    for (String s : stops) {
      if (s.isEmpty()) {
        throw new CommandLine.ParameterException(spec.commandLine(), "--stop must not be empty");
      }
    }
  }

  /** The ranges the loaded model sets: the answer fits its context, top-k its vocabulary. */
  private void checkRanges(CausalLM lm) {
    OptionRange.check(spec, "--max-new-tokens", maxNewTokens, 1, lm.maxPositions(), "the model's context");
    OptionRange.check(spec, "--top-k", topK, 0, lm.vocabSize(), "the model's vocabulary");
  }
  @CommandLine.Mixin DeviceOption device;

  @Override
  public Integer call() throws Exception {
    device.require();
    checkRanges();
    decoding.check(spec);
    if (temperature == null && !decoding.contrastive() && (topP != 1f || topK != 0)) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--top-p and --top-k need --temperature (the default is greedy)");
    }
    boolean llava = question != null || !images.isEmpty() || files.mmproj != null;
    if ((promptText == null) == (question == null)) {
      throw new CommandLine.ParameterException(spec.commandLine(), "give either --prompt (LLaMA) or --question (LLaVA, with --image)");
    }
    if (llava && promptText != null) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--image and --mmproj go with --question, not --prompt");
    }
    if (decoding.contrastive() && (!llava || images.isEmpty())) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--decode " + decoding.decode.name().toLowerCase()
          + " contrasts answers about an image: it needs --question and --image (LLaVA)");
    }
    if (maskOut != null && decoding.decode != DecodeOptions.Decode.AGLA) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--mask-out needs --decode agla (got --decode " + decoding.name() + ")");
    }
    if (pad && crop) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--pad and --crop exclude each other");
    }
    SamplingConfig sampling = new SamplingConfig(temperature == null ? 0f : temperature, topK, topP, repetitionPenalty);
    GenerationConfig generation = GenerationConfig.maxNewTokens(maxNewTokens).withStopStrings(stops);
    PrintWriter out = spec.commandLine().getOut();
    if (model == null) {
      if (files.mmproj != null) {
        throw new CommandLine.ParameterException(spec.commandLine(), "--mmproj goes with --model (the GGUF model it pairs with)");
      }
      model = llava ? DefaultModels.scenesLlava() : DefaultModels.storiesGguf();
    }
    if (llava && InstructBlipBundle.isInstructBlip(model)) {
      askInstructBlip(generation, sampling, out);
      return 0;
    }
    if (llava) {
      askLlava(generation, sampling, out);
      return 0;
    }
    // Compiles the kernels on a tiny model while the weights load and page in (JitWarmUp).
    try (JitWarmUp warmUp = device.chosen().equals(Device.CPU) ? JitWarmUp.begin() : null;
        LlamaForCausalLM lm = LlamaForCausalLM.load(model)) {
      checkRanges(lm);
      if (warmUp != null) {
        warmUp.weights(lm.model.layers.get(0).mlp.upProj.weight.get().dtype());
      }
      device.place(lm, !noProgress, spec.commandLine().getErr());
      TextTokenizer tokenizer = LlavaBundle.tokenizer(model);
      Inputs prompt = prompt(tokenizer);
      if (warmUp != null) {
        warmUp.await(WARM_UP_WAIT_MS);
      }
      long start = System.nanoTime();
      Generator.Result r = Generator.generate(lm, prompt, generation, Sampler.seeded(sampling, seed), tokenizer, stream(out));
      double started = uptimeMillis(start);
      firstTokenMillis = started > 0 ? started + VicropCommand.millis(r.prefillNanos()) : 0;
      report(r, Map.of(), out);
    }
    return 0;
  }

  /** LLaVA: load the model and its side files, build the prompt with the images, generate. */
  private void askLlava(GenerationConfig generation, SamplingConfig sampling, PrintWriter out) throws IOException {
    try (JitWarmUp warmUp = device.chosen().equals(Device.CPU) ? JitWarmUp.begin() : null;
        LlavaBundle bundle = files.open(model); DecodeOptions d = decoding; var scope = Scope.open()) {
      LlavaForConditionalGeneration lm = bundle.model();
      checkRanges(lm);
      if (warmUp != null) {
        warmUp.weights(lm.languageModel.model.layers.get(0).mlp.upProj.weight.get().dtype());
      }
      decoding.load();
      device.place(lm, !noProgress, spec.commandLine().getErr());
      LlavaImages.Mode mode = pad ? LlavaImages.Mode.PAD : crop ? LlavaImages.Mode.CROP : LlavaImages.Mode.CHECKPOINT;
      var preprocessing = bundle.preprocessing(mode);
      String text = LlavaPrompt.text(bundle.template(system), question, images.size());
      int[] ids = LlavaPrompt.tokenize(bundle.tokenizer(), text, lm.config.imageTokenIndex());
      Tensor pixels = images.isEmpty() ? null : LlavaImages.pixels(images, preprocessing);
      SamplingConfig s = decoding.contrastive() ? DecodeOptions.contrastiveSampling(temperature, sampling) : sampling;
      DecodeOptions.AglaInput agla = null;
      if (decoding.decode == DecodeOptions.Decode.AGLA) {
        List<RgbImage> raw = new ArrayList<>();
        for (Path f : images) {
          raw.add(ImageDecoder.read(f));
        }
        agla = new DecodeOptions.AglaInput(raw, question.replace("<image>", " ").strip(), preprocessing);
      }
      if (warmUp != null) {
        warmUp.await(WARM_UP_WAIT_MS);
      }
      DecodeOptions.Answer a = decoding.answer(lm, ids, pixels, agla, generation, s, seed, bundle.tokenizer(), stream(out));
      if (maskOut != null) {
        writePng(decoding.lastMasked().get(0), maskOut);
        a.report().put("mask_out", maskOut.toString());
      }
      report(a.generation(), a.report(), out);
    }
  }

  /**
   * InstructBLIP: one image, the raw question (no template) to the Q-Former ([CLS] ... [SEP]) and to
   * the LLM ({@code </s>} first, as LAVIS), the 32 projected queries before the prompt.
   */
  private void askInstructBlip(GenerationConfig generation, SamplingConfig sampling, PrintWriter out) throws IOException {
    if (images.size() != 1) {
      throw new CommandLine.ParameterException(spec.commandLine(), "InstructBLIP answers about exactly one image: give one --image (got " + images.size() + ")");
    }
    if (files.mmproj != null || files.visionTower != null || pad || crop || system != null) {
      throw new CommandLine.ParameterException(spec.commandLine(), "InstructBLIP (" + model + ") takes --question and one --image;"
          + " --mmproj, --vision-tower, --pad, --crop and --system are LLaVA options");
    }
    long t0 = System.nanoTime();
    try (InstructBlipBundle bundle = InstructBlipBundle.open(model); DecodeOptions d = decoding; var scope = Scope.open();
        StageClock clock = StageClock.attach(bundle.model(), "vision_model", "qformer", "language_projection")) {
      InstructBlipForConditionalGeneration lm = bundle.model();
      checkRanges(lm);
      decoding.load();
      long t1 = System.nanoTime();
      device.place(lm, !noProgress, spec.commandLine().getErr());
      long t2 = System.nanoTime();
      String q = question.replace("<image>", " ").strip();
      int[] ids = InstructBlipPrompt.llmIds(bundle.tokenizer(), q);
      int[] qids = InstructBlipPrompt.qformerIds(bundle.qformerTokenizer(), q, lm.config);
      Tensor pixels = bundle.processor().process(images.get(0)).unsqueeze(0);
      long t3 = System.nanoTime();
      SamplingConfig s = decoding.contrastive() ? DecodeOptions.contrastiveSampling(temperature, sampling) : sampling;
      DecodeOptions.AglaInput agla = decoding.decode != DecodeOptions.Decode.AGLA ? null
          : new DecodeOptions.AglaInput(List.of(ImageDecoder.read(images.get(0))), q, bundle.processor().config());
      clock.start();
      DecodeOptions.Answer a = decoding.answerInstructBlip(lm, ids, qids, pixels, agla, generation, s, seed, bundle.tokenizer(), stream(out));
      if (maskOut != null) {
        writePng(decoding.lastMasked().get(0), maskOut);
        a.report().put("mask_out", maskOut.toString());
      }
      Map<String, Object> method = new LinkedHashMap<>(decoding.contrastive() ? a.report() : Map.of());
      if (!decoding.contrastive()) {
        method.put("stages_ms", stages(clock.millis(), a.generation(), t0, t1, t2, t3));
      }
      report(a.generation(), method, out);
    }
  }

  /**
   * The wall time of each stage of a plain InstructBLIP answer, in ms: load (weights bound,
   * tokenizers, processor), page_in (every weight page read once), preprocess (tokenize, image),
   * vision, qformer and projection (the three modules, {@link StageClock}), prefill, decode, total.
   */
  private static Map<String, Double> stages(Map<String, Double> modules, Generator.Result r, long t0, long t1, long t2, long t3) {
    Map<String, Double> m = new LinkedHashMap<>();
    m.put("load", VicropCommand.millis(t1 - t0));
    m.put("page_in", VicropCommand.millis(t2 - t1));
    m.put("preprocess", VicropCommand.millis(t3 - t2));
    m.put("vision", modules.get("vision_model"));
    m.put("qformer", modules.get("qformer"));
    m.put("projection", modules.get("language_projection"));
    m.put("prefill", VicropCommand.millis(r.prefillNanos()));
    m.put("decode", VicropCommand.millis(r.decodeNanos()));
    m.put("total", VicropCommand.millis(System.nanoTime() - t0));
    return m;
  }

  /** Writes an image as PNG; a failure names the file. */
  static void writePng(RgbImage image, Path file) {
    try {
      if (!javax.imageio.ImageIO.write(image.toBufferedImage(), "png", file.toFile())) {
        throw new IOException("no PNG writer");
      }
    } catch (IOException e) {
      throw new java.io.UncheckedIOException("--mask-out " + file + ": cannot write: " + e.getMessage(), e);
    }
  }

  /** Streams the answer to standard output, unless the result is printed as JSON. */
  private Consumer<String> stream(PrintWriter out) {
    return json ? null : text -> {
      out.print(text);
      out.flush();
    };
  }

  private void report(Generator.Result r, Map<String, Object> method, PrintWriter out) throws IOException {
    if (json) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("model", model.toString());
      m.putAll(method);
      m.put("prompt_tokens", r.promptLength());
      m.put("tokens", r.tokens());
      m.put("text", r.text());
      m.put("stop_reason", r.stopReason().name().toLowerCase());
      m.put("prefill_ms", VicropCommand.millis(r.prefillNanos()));
      if (firstTokenMillis > 0) {
        m.put("first_token_ms", Math.round(firstTokenMillis * 10) / 10.0);
      }
      m.put("decode_tokens_per_s", Math.round(r.decodeTokensPerSecond() * 10) / 10.0);
      if (!method.isEmpty()) {
        m.put("branches_batched", r.batched());
        m.put("median_step_ms", Math.round(r.medianStepMillis() * 100) / 100.0);
        double[] steps = new double[r.stepNanos().length];
        for (int i = 0; i < steps.length; i++) {
          steps[i] = VicropCommand.millis(r.stepNanos()[i]);
        }
        m.put("step_ms", steps);
      }
      out.println(new ObjectMapper().writeValueAsString(m));
    } else {
      out.println();
    }
    out.flush();
  }

  /** The longest wait for the JIT warm-up before the prefill (it takes ~2 s on 2 cores). */
  private static final long WARM_UP_WAIT_MS = 15_000;

  /**
   * When the first token's logits were ready, in ms since the process started (start-up, loading, paging
   * in, warm-up and prefill: what a one-shot user waits); 0 where not measured.
   */
  private double firstTokenMillis;

  /** Milliseconds from the process's start to {@code nanoTime} (the start as the OS reports it, to 10 ms); 0 where unknown. */
  private static double uptimeMillis(long nanoTime) {
    long now = System.nanoTime();
    return ProcessHandle.current().info().startInstant()
        .map(t -> java.time.Duration.between(t, java.time.Instant.now()).toNanos() / 1e6 - (now - nanoTime) / 1e6)
        .orElse(0.0);
  }

  /** The model's input: BOS + the raw prompt's ids. (LLaVA: the image span goes here.) */
  private Inputs prompt(TextTokenizer tokenizer) {
    return Inputs.ids(tokenizer.encode(promptText, true));
  }
}
