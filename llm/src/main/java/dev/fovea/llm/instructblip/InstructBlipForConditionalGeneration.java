package dev.fovea.llm.instructblip;

import dev.fovea.llm.generate.CausalLM;
import dev.fovea.llm.generate.Inputs;
import dev.fovea.llm.generate.WrappedCausalLM;
import dev.fovea.llm.llama.DecodeState;
import dev.fovea.llm.llama.LlamaForCausalLM;
import dev.fovea.llm.llava.ImageSpan;
import dev.fovea.llm.llava.LlavaInputs;
import dev.fovea.nn.Linear;
import dev.fovea.nn.Module;
import dev.fovea.nn.Parameter;
import dev.fovea.tensor.DType;
import dev.fovea.tensor.ErrorList;
import dev.fovea.tensor.Ops;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.WeightSource;
import dev.fovea.tensor.archive.ArchiveReader;
import dev.fovea.tensor.io.GgufSource;
import dev.fovea.tensor.io.JsonConfig;
import dev.fovea.tensor.io.Resident;
import dev.fovea.tensor.io.WeightFiles;
import dev.fovea.vit.blip.BlipVisionModel;
import dev.fovea.vit.instructblip.InstructBlipQFormerModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.function.Predicate;

/**
 * InstructBLIP with a LLaMA/Vicuna decoder (transformers {@code InstructBlipForConditionalGeneration},
 * modeling_instructblip.py; LAVIS blip2_vicuna_instruct.py; spec models-formats.md 4). Module paths
 * are the Hugging Face names of Salesforce/instructblip-vicuna-7b:
 *
 * <pre>
 * vision_model.*             EVA ViT-g (Dv wide, S px, patch P, N = (S/P)^2 + 1 tokens; the checkpoint already drops the last block)
 * query_tokens               [1, Q, Hq] learned queries
 * qformer.*                  the instruction-aware Q-Former (Hq wide)
 * language_projection.*      [C, Hq] + bias
 * language_model.model.*     LLaMA decoder (C wide), language_model.lm_head.weight [V, C]
 * </pre>
 *
 * <p>Forward: pixels [1, 3, S, S] -> vision_model (post_layernorm on all N tokens) -> V [1, N, Dv];
 * Q-Former(query_tokens, instruction ids, V) -> first Q rows -> language_projection [1, Q, C];
 * decoder input = [Q projected queries ; embed(prompt ids)], positions 0..Q+L-1 (the prompt starts
 * with LAVIS's BOS {@code </s>} = 2, spec 4.5). The model holds no run state; {@link DecodeState}s
 * come from the decoder, so the generator and logits combiners work unchanged.
 */
public final class InstructBlipForConditionalGeneration extends Module implements WrappedCausalLM, AutoCloseable {
  public final InstructBlipConfig config;
  public final BlipVisionModel visionModel;
  /** [1, Q, Hq]. */
  public final Parameter queryTokens;
  public final InstructBlipQFormerModel qformer;
  public final Linear languageProjection;
  public final LlamaForCausalLM languageModel;
  private WeightSource weights;

  /** An unloaded model of this shape. */
  public InstructBlipForConditionalGeneration(InstructBlipConfig config) {
    this.config = config;
    this.visionModel = register("vision_model", new BlipVisionModel(config.visionConfig()));
    this.queryTokens = parameter("query_tokens", Parameter.FLOAT, Parameter.Init.NORMAL, 1, config.numQueryTokens(), config.qformerConfig().hiddenSize());
    this.qformer = register("qformer", new InstructBlipQFormerModel(config.qformerConfig()));
    this.languageProjection = register("language_projection", new Linear(config.qformerConfig().hiddenSize(), config.textConfig().hiddenSize(), true));
    this.languageModel = register("language_model", new LlamaForCausalLM(config.textConfig()));
  }

  // ---------------------------------------------------------------- loading

  /**
   * Loads an HF folder (config.json + safetensors/.bin, single or sharded), a LAVIS {@code .pth}
   * (LAVIS names, with the HF config.json beside it), or a fovea archive carrying config.json.
   */
  public static InstructBlipForConditionalGeneration load(Path path) {
    if (!Files.exists(path)) {
      throw new InstructBlipException(path + ": no such file or folder");
    }
    WeightSource src = WeightFiles.open(path);
    try {
      byte[] json;
      String origin;
      if (src instanceof GgufSource) {
        throw new InstructBlipException(path + ": InstructBLIP has no GGUF form; give the Hugging Face folder");
      } else if (src instanceof ArchiveReader archive) {
        if (!archive.fileNames().contains("config.json")) {
          throw new InstructBlipException(path + ": the archive carries no config.json");
        }
        json = archive.file("config.json");
        origin = path + "!config.json";
      } else {
        Path dir = Files.isDirectory(path) ? path : path.toAbsolutePath().getParent();
        Path file = dir.resolve("config.json");
        if (!Files.isRegularFile(file)) {
          throw new InstructBlipException(path + ": no config.json found in " + dir);
        }
        json = JsonConfig.readBytes(file, InstructBlipException::new);
        origin = file.toString();
      }
      return load(src, json, origin);
    } catch (RuntimeException e) {
      src.close();
      throw e;
    }
  }

  /** Strict load of every parameter from {@code source} (HF or LAVIS names, {@link InstructBlipNames}); the model owns and closes it. */
  public static InstructBlipForConditionalGeneration load(WeightSource named, byte[] configJson, String origin) {
    InstructBlipConfig config = InstructBlipConfig.fromJson(configJson, origin);
    WeightSource source = InstructBlipNames.isLavis(named) ? InstructBlipNames.hfView(named) : named;
    List<String> bad = config.disagreements(source);
    if (!bad.isEmpty()) {
      throw new InstructBlipException(origin + " disagrees with the weights in " + source.origin() + ErrorList.lines(bad));
    }
    InstructBlipForConditionalGeneration m = new InstructBlipForConditionalGeneration(config);
    WeightSource src = Resident.of(source);
    boolean tied = config.textConfig().tieWordEmbeddings();
    Predicate<String> ignore = n -> n.endsWith(".rotary_emb.inv_freq") || n.endsWith("embeddings.position_ids")
        || (tied && n.equals("language_model.lm_head.weight"));
    m.load(src, "", ignore);
    m.weights = src;
    return m;
  }

  /** Closes the weights; decodes running on other threads end with a {@code ModelClosedException}. */
  @Override
  public synchronized void close() {
    languageModel.close();
    if (weights != null) {
      WeightSource w = weights;
      weights = null;
      w.close();
    }
  }

  // ---------------------------------------------------------------- image side

  /** The vision states V [n, N, Dv] (after post_layernorm) of pixels [n, 3, S, S]. */
  public Tensor imageEmbeds(Tensor pixels) {
    int s = config.visionConfig().imageSize();
    if (pixels.dim() != 4 || pixels.size(1) != 3 || pixels.size(2) != s || pixels.size(3) != s) {
      throw new InstructBlipException("pixels " + Arrays.toString(pixels.shape()) + " must be [n, 3, " + s + ", " + s
          + "] (vision_config.image_size; BlipImageProcessor resizes to it)");
    }
    return visionModel.forward(pixels);
  }

  /** The Q-Former's last hidden state [n, Q + T, Hq] for image states V [n, N, Dv] and one instruction ({@code [CLS] ... [SEP]}). */
  public Tensor qformerHidden(Tensor imageEmbeds, int[] qformerIds) {
    int n = imageEmbeds.size(0);
    int q = config.numQueryTokens();
    int hq = config.qformerConfig().hiddenSize();
    Tensor queries = Ops.to(queryTokens.get(), DType.F32).expand(n, q, hq);
    int[][] ids = new int[n][];
    Arrays.fill(ids, qformerIds);
    return qformer.forward(queries, ids, null, imageEmbeds);
  }

  /** The projected queries [n, Q, C] of pixels [n, 3, S, S] and one instruction; records a graph in grad mode. */
  public Tensor queryOutput(Tensor pixels, int[] qformerIds) {
    Tensor hidden = qformerHidden(imageEmbeds(pixels), qformerIds);
    return languageProjection.forward(hidden.narrow(1, 0, config.numQueryTokens()).contiguous()); // [n, Q, C]
  }

  // ---------------------------------------------------------------- prompt assembly

  /**
   * The decoder input of one image and one question: [Q projected queries ; embed(ids)] [1, Q + L, C].
   * {@code ids} is the tokenized prompt (BOS first); {@code qformerIds} the Q-Former's encoding of
   * the instruction. The query rows stand at positions 0..Q-1 and carry the id -1 in the merged
   * ids (they are no token); the one image span is [0, Q).
   */
  public LlavaInputs prepare(int[] ids, int[] qformerIds, Tensor pixels) {
    if (pixels == null || pixels.size(0) != 1) {
      throw new InstructBlipException("InstructBLIP answers about exactly one image; got " + (pixels == null ? "none" : pixels.size(0)));
    }
    return prepareWithQueries(ids, queryOutput(pixels, qformerIds));
  }

  /** As {@link #prepare} with the projected queries [1, Q', C] already computed (Q' = Q, or 2Q for ViCrop's original + crop). */
  public LlavaInputs prepareWithQueries(int[] ids, Tensor queries) {
    int c = config.textConfig().hiddenSize();
    if (queries.dim() != 3 || queries.size(0) != 1 || queries.size(2) != c) {
      throw new InstructBlipException("projected queries " + Arrays.toString(queries.shape()) + " must be [1, Q, " + c + "]");
    }
    if (ids.length == 0) {
      throw new InstructBlipException("the prompt is empty (it needs at least the BOS)");
    }
    int q = queries.size(1);
    int length = q + ids.length;
    if (length > maxPositions()) {
      throw new InstructBlipException("context too long: the prompt takes " + length + " positions (" + q + " queries + " + ids.length
          + " text) but the model holds at most " + maxPositions() + " (text_config.max_position_embeddings of " + config.origin() + ")");
    }
    Tensor text = languageModel.embed(Tensor.ofInts(ids, 1, ids.length)); // [1, L, C]
    Tensor embeds = Ops.concat(List.of(queries, Ops.to(text, queries.dtype())), 1);
    int[] merged = new int[length];
    Arrays.fill(merged, 0, q, -1);
    System.arraycopy(ids, 0, merged, q, ids.length);
    return new LlavaInputs(embeds, merged, List.of(new ImageSpan(0, q)));
  }

  // ---------------------------------------------------------------- decoding

  public DecodeState newState(int batch, int capacity) {
    return languageModel.newState(batch, capacity);
  }

  /** Logits [1, L, V] ({@code allLogits}) or [1, 1, V] of a prepared prompt; grad mode records the graph. */
  public Tensor forward(LlavaInputs inputs, DecodeState state, boolean allLogits) {
    return languageModel.forward(inputs.embeddings(), state, allLogits);
  }

  @Override
  public DecodeState prefill(Inputs inputs, int maxLength) {
    if (inputs.length() > maxLength) {
      throw new InstructBlipException("context too long: the prompt has " + inputs.length() + " positions, more than the maximum length " + maxLength);
    }
    return languageModel.prefill(inputs, maxLength);
  }

  /** The Vicuna/LLaMA decoder: steps, batched rows, vocabulary and stop ids are its. */
  @Override
  public CausalLM decoder() {
    return languageModel;
  }

  @Override
  protected String extraRepr() {
    return "(queries=" + config.numQueryTokens() + ")";
  }
}
