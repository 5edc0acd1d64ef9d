package dev.fovea.nn.train;

import dev.fovea.nn.Embedding;
import dev.fovea.nn.LayerNorm;
import dev.fovea.nn.Linear;
import dev.fovea.nn.Module;
import dev.fovea.tensor.Ops;
import dev.fovea.tensor.Tensor;

/**
 * The "mlp" case of tools/reference/train: embed.weight [V, C] -> norm (LayerNorm) -> fc1 [H, C] +
 * bias -> GELU (erf) -> fc2 [V, H] + bias, logits per token.
 */
final class TokenMlp extends Module {
  final Embedding embed;
  final LayerNorm norm;
  final Linear fc1;
  final Linear fc2;

  TokenMlp(int vocab, int dim, int hidden) {
    embed = register("embed", new Embedding(vocab, dim));
    norm = register("norm", new LayerNorm(dim, 1e-5f));
    fc1 = register("fc1", new Linear(dim, hidden, true));
    fc2 = register("fc2", new Linear(hidden, vocab, true));
  }

  /** ids [B, T] (I32) to logits [B, T, V]. */
  Tensor forward(Tensor ids) {
    return fc2.forward(Ops.gelu(fc1.forward(norm.forward(embed.forward(ids)))));
  }

  /** Mean cross-entropy of the logits of ids against targets [B, T] (-100 ignored). */
  Tensor loss(Tensor ids, Tensor targets) {
    return Ops.crossEntropy(forward(ids), targets);
  }
}
