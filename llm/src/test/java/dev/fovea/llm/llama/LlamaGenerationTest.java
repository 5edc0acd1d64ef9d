package dev.fovea.llm.llama;

import static dev.fovea.llm.llama.LlamaFixtures.ints;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fovea.llm.generate.CausalLM;
import dev.fovea.llm.generate.GenerationConfig;
import dev.fovea.llm.generate.Generator;
import dev.fovea.llm.generate.Inputs;
import dev.fovea.llm.generate.LogitsCombiner;
import dev.fovea.llm.generate.Sampler;
import dev.fovea.llm.generate.SamplingConfig;
import dev.fovea.llm.tokenizer.TokenizerLoader;
import dev.fovea.tensor.Ops;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.WeightSource;
import dev.fovea.tensor.io.GgmlType;
import dev.fovea.vit.tokenizer.TextTokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Generation over the step API: seeded sampling, branches with a VCD-style combiner, input embeddings, forks, streaming and stop strings. */
class LlamaGenerationTest {
  static LlamaForCausalLM model;
  static int[] prompt;

  @BeforeAll
  static void load() {
    model = LlamaForCausalLM.load(LlamaFixtures.dir("tiny"));
    try (WeightSource ref = LlamaFixtures.reference("tiny")) {
      prompt = ints(ref, "prompt_ids");
    }
  }

  @AfterAll
  static void close() {
    model.close();
  }

  static int[] run(Sampler s, int n) {
    return Generator.generate(model, Inputs.ids(prompt), GenerationConfig.maxNewTokens(n).withStopAtEos(false), s, null, null).tokens();
  }

  @Test
  void seededSamplingRepeatsExactly() {
    SamplingConfig c = SamplingConfig.sampling(1.0f).withTopK(50).withTopP(0.95f);
    int[] a = run(Sampler.seeded(c, 42), 24);
    int[] b = run(Sampler.seeded(c, 42), 24);
    int[] other = run(Sampler.seeded(c, 43), 24);
    assertArrayEquals(a, b);
    assertFalse(Arrays.equals(a, other), "a different seed should give a different continuation");
  }

  @Test
  void inputEmbeddingsGiveTheSameLogitsAsIds() {
    float[] fromIds;
    try (var s = model.prefill(Inputs.ids(prompt), 32)) {
      fromIds = s.logits();
    }
    try (var scope = Scope.open(); var s = model.prefill(Inputs.embeddings(model.embed(Tensor.ofInts(prompt, 1, prompt.length))), 32)) {
      assertArrayEquals(fromIds, s.logits(), 0f);
    }
  }

  /**
   * Two branches in lockstep with VCD's combiner (1 + a) z - a z' and the plausibility cut: the
   * generator equals the same loop written by hand over two states; with alpha = 0 it equals plain
   * greedy decoding (argmax z is always plausible).
   */
  @Test
  void contrastiveBranchesMatchAHandWrittenLoop() {
    float alpha = 1f;
    float beta = 0.1f;
    int n = 12;
    int[] second;
    try (var scope = Scope.open()) {
      // the "distorted" branch: the same prompt with the embeddings of positions 3..7 zeroed (as AVC does to image rows)
      Tensor e = model.embed(Tensor.ofInts(prompt, 1, prompt.length)).contiguous();
      Ops.copyInto(Tensor.zeros(1, 5, model.config.hiddenSize()), e.narrow(1, 3, 5));
      List<Generator.Branch> branches = List.of(new Generator.Branch(model, Inputs.ids(prompt)), new Generator.Branch(model, Inputs.embeddings(e)));
      Generator.Result r = Generator.generate(branches, LogitsCombiner.contrastive(alpha, beta),
          GenerationConfig.maxNewTokens(n).withStopAtEos(false), Sampler.greedy(), null, null);
      // by hand
      List<Integer> want = new ArrayList<>();
      try (var s0 = model.prefill(Inputs.ids(prompt), 64); var s1 = model.prefill(Inputs.embeddings(e), 64)) {
        float[] z = s0.logits();
        float[] zc = s1.logits();
        for (int i = 0; i < n; i++) {
          float max = Float.NEGATIVE_INFINITY;
          for (float x : z) {
            max = Math.max(max, x);
          }
          int best = -1;
          for (int j = 0; j < z.length; j++) {
            if (z[j] >= Math.log(beta) + max) {
              float d = (1 + alpha) * z[j] - alpha * zc[j];
              if (best < 0 || d > (1 + alpha) * z[best] - alpha * zc[best]) {
                best = j;
              }
            }
          }
          want.add(best);
          z = model.step(s0, best);
          zc = model.step(s1, best);
        }
      }
      assertArrayEquals(want.stream().mapToInt(Integer::intValue).toArray(), r.tokens());
      second = r.tokens();
      // alpha = 0: plain greedy
      Generator.Result plain = Generator.generate(branches, LogitsCombiner.contrastive(0f, beta),
          GenerationConfig.maxNewTokens(n).withStopAtEos(false), Sampler.greedy(), null, null);
      assertArrayEquals(Arrays.copyOf(run(Sampler.greedy(), n), n), plain.tokens());
    }
    assertEquals(n, second.length);
  }

  @Test
  void forkedStatesContinueIndependently() {
    try (var s = model.prefill(Inputs.ids(prompt), 40)) {
      try (var f = s.fork()) {
        float[] a = model.step(s, 5);
        float[] b = model.step(f, 5);
        assertArrayEquals(a, b, 0f);
        float[] c = model.step(f, 6);
        assertEquals(s.position() + 1, f.position());
        assertNotEquals(Arrays.toString(a), Arrays.toString(c));
      }
    }
  }

  /** The tiny model with a shorter maximum context. */
  record ShortContext(LlamaForCausalLM inner, int maxPositions) implements CausalLM {
    @Override
    public DecodeState prefill(Inputs inputs, int maxLength) {
      return inner.prefill(inputs, maxLength);
    }

    @Override
    public float[] step(DecodeState state, int token) {
      return inner.step(state, token);
    }

    @Override
    public int vocabSize() {
      return inner.vocabSize();
    }

    @Override
    public List<Integer> eosTokenIds() {
      return inner.eosTokenIds();
    }
  }

  /**
   * When the prompt and the new tokens would pass the model's maximum context, generation ends
   * there with CONTEXT_FULL: the tokens are the ones it generated (the last one sampled from the
   * last position's logits), the same as the first ones of an unbounded run, with no filler.
   */
  @Test
  void generationEndsAtTheModelsMaximumContext() {
    int[] free = run(Sampler.greedy(), 10);
    for (int room : new int[] {0, 3}) {
      Generator.Result r = Generator.generate(new ShortContext(model, prompt.length + room), Inputs.ids(prompt),
          GenerationConfig.maxNewTokens(10).withStopAtEos(false), Sampler.greedy(), null, null);
      assertEquals(Generator.StopReason.CONTEXT_FULL, r.stopReason(), "room " + room);
      assertArrayEquals(Arrays.copyOf(free, room + 1), r.tokens(), "room " + room);
    }
    // exactly enough room: the token limit is reached first
    Generator.Result r = Generator.generate(new ShortContext(model, prompt.length + 9), Inputs.ids(prompt),
        GenerationConfig.maxNewTokens(10).withStopAtEos(false), Sampler.greedy(), null, null);
    assertEquals(Generator.StopReason.MAX_NEW_TOKENS, r.stopReason());
    assertArrayEquals(free, r.tokens());
  }

  /**
   * maxNewTokens is a bound, not a size: Integer.MAX_VALUE ends at the context as a small bound
   * does (the generator allocated an int[maxNewTokens] up front: OutOfMemoryError), and a run past
   * the first buffer keeps every token.
   */
  @Test
  void aHugeTokenBoundIsNotAllocated() {
    int[] free = run(Sampler.greedy(), 100);
    assertEquals(100, free.length);
    assertArrayEquals(run(Sampler.greedy(), 10), Arrays.copyOf(free, 10));
    Generator.Result r = Generator.generate(new ShortContext(model, prompt.length + 3), Inputs.ids(prompt),
        GenerationConfig.maxNewTokens(Integer.MAX_VALUE).withStopAtEos(false), Sampler.greedy(), null, null);
    assertEquals(Generator.StopReason.CONTEXT_FULL, r.stopReason());
    assertArrayEquals(Arrays.copyOf(free, 4), r.tokens());
  }

  /** A model that replays scripted tokens (one-hot logits) over the tiny model's states. */
  record Scripted(LlamaForCausalLM inner, int[] script) implements CausalLM {
    @Override
    public DecodeState prefill(Inputs inputs, int maxLength) {
      return inner.prefill(inputs, maxLength);
    }

    @Override
    public float[] step(DecodeState state, int token) {
      inner.step(state, token);
      return null;
    }

    @Override
    public int vocabSize() {
      return inner.vocabSize();
    }

    @Override
    public List<Integer> eosTokenIds() {
      return List.of(2);
    }

    @Override
    public int maxPositions() {
      return inner.maxPositions();
    }
  }

  static Generator.Result scripted(int[] script, TextTokenizer tok, List<String> stops, List<String> chunks) {
    int[] i = {0};
    LogitsCombiner replay = l -> {
      float[] one = new float[model.vocabSize()];
      one[script[i[0]++]] = 1f;
      return one;
    };
    return Generator.generate(List.of(new Generator.Branch(new Scripted(model, script), Inputs.ids(prompt))), replay,
        GenerationConfig.maxNewTokens(script.length).withStopStrings(stops), Sampler.greedy(), tok, chunks::add);
  }

  @Test
  void streamingHoldsBackSplitCharactersAndStopsAtStopStrings(@TempDir Path tmp) {
    TextTokenizer tok = TokenizerLoader.fromGguf(LlamaFixtures.writeGguf("tiny", GgmlType.F32, tmp.resolve("t.gguf")));
    int a = tok.id("\u2581a").getAsInt();
    int b = tok.id("b").getAsInt();
    int c = tok.id("\u2581c").getAsInt();
    int[] script = {a, 3 + 0xC3, 3 + 0xA9, b, 3 + 0xE2, 3 + 0x82, 3 + 0xAC, c, a, b};
    List<String> chunks = new ArrayList<>();
    Generator.Result r = scripted(script, tok, List.of(), chunks);
    assertEquals(tok.decode(script), r.text());
    assertEquals("a\u00e9b\u20ac c ab", r.text());
    assertEquals(r.text(), String.join("", chunks));
    assertTrue(chunks.stream().noneMatch(s -> s.contains("\ufffd")), "a chunk split a character: " + chunks);
    // stop string: text and stream end before it, nothing after it is emitted
    chunks.clear();
    Generator.Result s = scripted(script, tok, List.of("\u20ac c"), chunks);
    assertEquals(Generator.StopReason.STOP_STRING, s.stopReason());
    assertEquals("a\u00e9b", s.text());
    assertEquals("a\u00e9b", String.join("", chunks));
    // EOS ends generation and is not part of the tokens
    Generator.Result e = scripted(new int[] {a, b, 2, c}, tok, List.of(), new ArrayList<>());
    assertEquals(Generator.StopReason.EOS, e.stopReason());
    assertArrayEquals(new int[] {a, b}, e.tokens());
  }
}
