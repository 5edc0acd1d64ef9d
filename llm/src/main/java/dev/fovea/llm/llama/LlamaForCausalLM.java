package dev.fovea.llm.llama;

import dev.fovea.llm.generate.CausalLM;
import dev.fovea.llm.generate.Inputs;
import dev.fovea.nn.Linear;
import dev.fovea.nn.Module;
import dev.fovea.tensor.ErrorList;
import dev.fovea.tensor.Ops;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.WeightSource;
import dev.fovea.tensor.archive.ArchiveReader;
import dev.fovea.tensor.autograd.GradMode;
import dev.fovea.tensor.io.GgufLlamaNames;
import dev.fovea.tensor.io.GgufSource;
import dev.fovea.tensor.io.Resident;
import dev.fovea.tensor.io.WeightFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.function.Predicate;

/**
 * LLaMA / Vicuna decoder with its language-model head (transformers {@code LlamaForCausalLM},
 * modeling_llama.py; spec section 3). Module paths are the Hugging Face names:
 *
 * <pre>
 * model.embed_tokens.weight                      [V, C]
 * model.layers.N.input_layernorm.weight          [C]
 * model.layers.N.self_attn.{q,k,v,o}_proj.weight [H*D, C] [Hkv*D, C] [Hkv*D, C] [C, H*D]
 * model.layers.N.post_attention_layernorm.weight [C]
 * model.layers.N.mlp.{gate,up,down}_proj.weight  [F, C] [F, C] [C, F]
 * model.norm.weight                              [C]
 * lm_head.weight                                 [V, C]   (absent with tie_word_embeddings)
 * </pre>
 *
 * Weights stay as stored (F32/F16/BF16 mapped from the file, Q8_0/Q4_0 read block-wise by the
 * kernels); the model holds no run state. A {@link DecodeState} holds the KV cache of one session.
 *
 * <p>Forward (B batch, T new positions, C hidden, V vocabulary): embeddings [B, T, C] (from ids or
 * supplied by the caller) at positions state.position()..+T-1 -> every layer, appending k/v to the
 * state's cache -> model.norm -> lm_head -> logits [B, T, V] (or the last position only). A prefill
 * of T tokens runs one batched pass (matrix-matrix products); a step (T = 1) takes the matrix-vector
 * kernels. Attention hooks ({@link #addAttentionHook}) see [B, H, T, past + T] in both.
 */
public final class LlamaForCausalLM extends Module implements CausalLM, AutoCloseable {
  public final LlamaConfig config;
  public final LlamaModel model;
  /** [V, C], or null with tied embeddings (model.embed_tokens.weight serves as the head). */
  public final Linear lmHead;
  private WeightSource weights; // kept open: parameters are views of its mapped memory
  private volatile boolean closed; // set before the weights are freed, so a failed read can tell why

  /** An unloaded model of this shape (load it, or {@code initRandom} for tests). */
  public LlamaForCausalLM(LlamaConfig config) {
    this.config = config;
    this.model = register("model", new LlamaModel(config));
    this.lmHead = config.tieWordEmbeddings() ? null : register("lm_head", new Linear(config.hiddenSize(), config.vocabSize(), false));
  }

  // ---------------------------------------------------------------- loading

  /**
   * Loads a Hugging Face folder ({@code config.json} + safetensors / {@code pytorch_model.bin},
   * single or sharded), a safetensors file with {@code config.json} beside it, a fovea archive
   * (carrying {@code config.json}), or a llama GGUF file (config from {@code llama.*} metadata, q/k
   * rows un-permuted to the HF rope layout).
   */
  public static LlamaForCausalLM load(Path path) {
    if (!Files.exists(path)) {
      throw new LlamaException(path + ": no such file or folder");
    }
    WeightSource src = WeightFiles.open(path);
    try {
      LlamaConfig config;
      if (src instanceof GgufSource gguf) {
        config = LlamaConfig.fromGguf(gguf);
        src = GgufLlamaNames.asHuggingFace(gguf);
      } else if (src instanceof ArchiveReader archive) {
        if (!archive.fileNames().contains("config.json")) {
          throw new LlamaException(path + ": the archive carries no config.json (convert the model folder, not a bare weight file)");
        }
        config = LlamaConfig.fromJson(archive.file("config.json"), path + "!config.json");
      } else {
        Path dir = Files.isDirectory(path) ? path : path.toAbsolutePath().getParent();
        Path json = dir.resolve("config.json");
        if (!Files.isRegularFile(json)) {
          throw new LlamaException(path + ": no config.json found in " + dir);
        }
        config = LlamaConfig.fromJson(json);
      }
      // the config against the tensor list before any module is built: a config with a million
      // layers, or the wrong vocabulary, fails here in one line instead of building the model first
      List<String> bad = config.disagreements(src, "");
      if (!bad.isEmpty()) {
        throw new LlamaException(config.origin() + " disagrees with the weights in " + src.origin() + ErrorList.lines(bad));
      }
      LlamaForCausalLM m = new LlamaForCausalLM(config);
      m.loadWeights(src, "");
      return m;
    } catch (RuntimeException e) {
      src.close();
      throw e;
    }
  }

  /**
   * Strict load from {@code source} with keys {@code prefix + path} (LLaVA: "language_model.");
   * the model keeps the source open until {@link #close()}. The weights are held as {@link
   * Resident#of} says (copied into the process's memory, or left mapped). Stale {@code rotary_emb.inv_freq}
   * buffers are ignored (recomputed), and so is a stored {@code lm_head.weight} when tied.
   */
  public void loadWeights(WeightSource source, String prefix) {
    Predicate<String> ignore = n -> n.endsWith(".rotary_emb.inv_freq") || (config.tieWordEmbeddings() && n.equals(prefix + "lm_head.weight"));
    WeightSource held = Resident.of(source);
    load(held, prefix, ignore);
    this.weights = held;
  }

  /**
   * Closes the weight file the model was loaded from (the model is unusable afterwards). Safe while
   * other threads decode with the model: each of their forward passes then ends with a {@link
   * ModelClosedException} (the FFM runtime refuses reads of freed weights), never a crash. A LLaVA
   * model that holds this decoder's weights itself calls this first to mark it closed.
   */
  @Override
  public synchronized void close() {
    closed = true;
    if (weights != null) {
      WeightSource w = weights;
      weights = null;
      w.close();
    }
  }

  /** Whether {@link #close()} was called. */
  public boolean isClosed() {
    return closed;
  }

  /** {@code e} as a {@link ModelClosedException} when the model was closed (the cause of the failure), else {@code e}. */
  private RuntimeException closedOr(RuntimeException e) {
    if (!closed || e instanceof ModelClosedException) {
      return e;
    }
    return new ModelClosedException(config.origin() + ": the model was closed while decoding (" + e + ")", e);
  }

  private void checkOpen() {
    if (closed) {
      throw new ModelClosedException(config.origin() + ": the model is closed");
    }
  }

  // ---------------------------------------------------------------- forward

  /** A fresh decoding state on the model's {@link #device()} (see {@link #to}) with room for {@code capacity} positions per sequence. */
  public DecodeState newState(int batch, int capacity) {
    return new DecodeState(config, device(), batch, capacity);
  }

  /** Token embeddings [..., C] of ids (I32/I64 of any shape); every id must be in the vocabulary. */
  public Tensor embed(Tensor ids) {
    long[] v = ids.toLongArray();
    for (int i = 0; i < v.length; i++) {
      if (v[i] < 0 || v[i] >= config.vocabSize()) {
        throw new LlamaException("token id " + v[i] + " at position " + i + " is outside the vocabulary [0, " + config.vocabSize() + ") of "
            + config.origin());
      }
    }
    return model.embedTokens.forward(ids);
  }

  /**
   * Runs the decoder over input embeddings [B, T, C] at the state's next positions, appending to
   * its caches; returns logits [B, T, V] ({@code allLogits}) or [B, 1, V] for the last position.
   * Records a graph when grad mode is on (hooks may retain gradients of the probabilities, the
   * embeddings may require grad). Allocates in the current scope.
   */
  public Tensor forward(Tensor inputsEmbeds, DecodeState state, boolean allLogits) {
    checkOpen();
    try {
      if (state.context() == null) {
        return forwardOpen(inputsEmbeds, state, allLogits);
      }
      try (var on = state.context().enter()) {
        return forwardOpen(inputsEmbeds, state, allLogits);
      }
    } catch (RuntimeException e) {
      throw closedOr(e);
    }
  }

  private Tensor forwardOpen(Tensor inputsEmbeds, DecodeState state, boolean allLogits) {
    Tensor x = inputsEmbeds.dim() == 2 ? inputsEmbeds.unsqueeze(0) : inputsEmbeds;
    if (x.dim() != 3 || x.size(2) != config.hiddenSize() || x.size(0) != state.batch()) {
      throw new LlamaException("input embeddings " + Arrays.toString(inputsEmbeds.shape()) + " must be [B, T, " + config.hiddenSize()
          + "] with B = the state's batch " + state.batch());
    }
    int t = x.size(1);
    if (t == 0) {
      throw new LlamaException("forward: no positions to run");
    }
    state.checkRowsAligned();
    int start = state.position();
    if (start + t > config.maxPositionEmbeddings()) {
      throw new LlamaException("context too long: " + (start + t) + " positions exceed max_position_embeddings " + config.maxPositionEmbeddings()
          + " of " + config.origin());
    }
    state.reserve(t);
    int[] pos = new int[t];
    for (int i = 0; i < t; i++) {
      pos[i] = start + i;
    }
    Tensor h = model.forward(x, Tensor.ofInts(pos, t), state); // [B, T, C], normed
    state.advance(t);
    if (!allLogits && t > 1) {
      h = h.narrow(1, t - 1, 1); // only the last position feeds the head
    }
    Tensor logits = lmHead != null ? lmHead.forward(h) : Ops.linear(h, model.embedTokens.weight.get(), null); // [B, T|1, V]
    return hooked(logits, inputsEmbeds);
  }

  @Override
  public DecodeState prefill(Inputs inputs, int maxLength) {
    if (inputs.length() > maxLength) {
      throw new LlamaException("context too long: the prompt has " + inputs.length() + " positions, more than the maximum length " + maxLength);
    }
    DecodeState state = newState(1, Math.min(maxLength, config.maxPositionEmbeddings()));
    try {
      run(state, inputs);
      return state;
    } catch (RuntimeException e) {
      state.close();
      throw e;
    }
  }

  /** Feeds more input (ids or embeddings) to an existing state, e.g. a second turn; returns the last logits. */
  public float[] extend(DecodeState state, Inputs inputs) {
    run(state, inputs);
    return state.logits();
  }

  @Override
  public float[] step(DecodeState state, int token) {
    run(state, Inputs.ids(token));
    return state.logits();
  }

  @Override
  public boolean batchesRows() {
    return true;
  }

  /**
   * Several prompts of one length as the rows of one state of batch N, prefilled in one pass (each
   * row attends only to itself): the branches of contrastive decoding. Row b's logits are {@link
   * DecodeState#logits(int)}; the state's {@link DecodeState#tokens()} are row 0's ids.
   */
  @Override
  public DecodeState prefillRows(List<Inputs> rows, int maxLength) {
    if (rows.isEmpty()) {
      throw new LlamaException("prefillRows: no rows");
    }
    int t = rows.get(0).length();
    for (int b = 1; b < rows.size(); b++) {
      if (rows.get(b).length() != t) {
        throw new LlamaException("prefillRows: row " + b + " has " + rows.get(b).length() + " positions, row 0 has " + t
            + " (rows of one batch share their positions; prefill rows of different lengths as separate states)");
      }
    }
    if (t > maxLength) {
      throw new LlamaException("context too long: the prompt has " + t + " positions, more than the maximum length " + maxLength);
    }
    checkOpen();
    DecodeState state = newState(rows.size(), Math.min(maxLength, config.maxPositionEmbeddings()));
    try (var scope = Scope.open(); var g = GradMode.disable()) {
      List<Tensor> parts = new java.util.ArrayList<>();
      for (Inputs in : rows) {
        Tensor e = in.ids() != null ? embed(Tensor.ofInts(in.ids(), 1, t)) : in.embeddings();
        parts.add(e.dim() == 2 ? e.unsqueeze(0) : e);
      }
      Tensor logits = forward(Ops.concat(parts, 0), state, false); // [N, 1, V]
      state.setRowLogits(rowsOf(logits, rows.size()));
      if (rows.get(0).ids() != null) {
        state.record(rows.get(0).ids());
      }
      return state;
    } catch (RuntimeException e) {
      state.close();
      throw closedOr(e);
    }
  }

  /** Feeds {@code token} to every row of a batched state in one forward; returns each row's logits [N][V]. */
  @Override
  public float[][] stepRows(DecodeState state, int token) {
    checkOpen();
    int n = state.batch();
    int[] ids = new int[n];
    java.util.Arrays.fill(ids, token);
    try (var scope = Scope.open(); var g = GradMode.disable()) {
      Tensor logits = forward(embed(Tensor.ofInts(ids, n, 1)), state, false); // [N, 1, V]
      float[][] rows = rowsOf(logits, n);
      state.setRowLogits(rows);
      state.record(new int[] {token});
      float[][] copy = new float[n][];
      for (int b = 0; b < n; b++) {
        copy[b] = rows[b].clone();
      }
      return copy;
    } catch (RuntimeException e) {
      throw closedOr(e);
    }
  }

  private float[][] rowsOf(Tensor logits, int n) {
    float[] all = logits.reshape(n * config.vocabSize()).toFloatArray();
    float[][] rows = new float[n][];
    for (int b = 0; b < n; b++) {
      rows[b] = Arrays.copyOfRange(all, b * config.vocabSize(), (b + 1) * config.vocabSize());
    }
    return rows;
  }

  private void run(DecodeState state, Inputs inputs) {
    checkOpen();
    try (var scope = Scope.open(); var g = GradMode.disable()) {
      Tensor e;
      if (inputs.ids() != null) {
        e = embed(Tensor.ofInts(inputs.ids(), 1, inputs.ids().length));
      } else {
        e = inputs.embeddings();
      }
      Tensor logits = forward(e, state, false); // [1, 1, V]
      state.setLogits(logits.reshape(config.vocabSize()).toFloatArray());
      if (inputs.ids() != null) {
        state.record(inputs.ids());
      }
    } catch (RuntimeException e) {
      throw closedOr(e);
    }
  }

  @Override
  public int vocabSize() {
    return config.vocabSize();
  }

  @Override
  public List<Integer> eosTokenIds() {
    return config.eosTokenIds();
  }

  @Override
  public int maxPositions() {
    return config.maxPositionEmbeddings();
  }

  @Override
  protected String extraRepr() {
    return "(layers=" + config.numHiddenLayers() + ", hidden=" + config.hiddenSize() + ", heads=" + config.numAttentionHeads() + "/"
        + config.numKeyValueHeads() + ", vocab=" + config.vocabSize() + (config.tieWordEmbeddings() ? ", tied" : "") + ")";
  }
}
