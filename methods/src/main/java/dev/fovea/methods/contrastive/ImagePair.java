package dev.fovea.methods.contrastive;

import dev.fovea.llm.generate.CausalLM;
import dev.fovea.llm.generate.Generator;
import dev.fovea.llm.instructblip.InstructBlipForConditionalGeneration;
import dev.fovea.llm.llava.LlavaForConditionalGeneration;
import dev.fovea.llm.llava.LlavaInputs;
import dev.fovea.tensor.Ops;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.autograd.GradMode;
import java.util.List;

/**
 * The two inputs of a method that contrasts or assembles an answer over two versions of the same
 * images (VCD: the originals and their noised copies; AGLA: the originals and their masked copies):
 * the same prompt prepared once with each. Both are made without a graph, in the current scope.
 */
public record ImagePair(LlavaInputs original, LlavaInputs second) {
  /** LLaVA: both image sets [n, 3, S, S] through the vision tower as one batch of 2n. */
  public static ImagePair llava(LlavaForConditionalGeneration llava, int[] ids, Tensor pixels, Tensor second) {
    try (var g = GradMode.disable()) {
      int n = pixels.size(0);
      Tensor both = llava.imageFeatures(Ops.concat(List.of(pixels, second), 0)); // [2n, N, C]
      return new ImagePair(llava.prepareWithFeatures(ids, both.narrow(0, 0, n)), llava.prepareWithFeatures(ids, both.narrow(0, n, n)));
    }
  }

  /** InstructBLIP: each image [1, 3, S, S] through ViT and Q-Former with the same instruction. */
  public static ImagePair instructBlip(InstructBlipForConditionalGeneration model, int[] ids, int[] qformerIds, Tensor pixels, Tensor second) {
    try (var g = GradMode.disable()) {
      return new ImagePair(model.prepare(ids, qformerIds, pixels), model.prepare(ids, qformerIds, second));
    }
  }

  /** The two branches {@link Generator} steps: the original first, as the combiners expect. */
  public List<Generator.Branch> branches(CausalLM model) {
    return List.of(new Generator.Branch(model, original.toInputs()), new Generator.Branch(model, second.toInputs()));
  }
}
