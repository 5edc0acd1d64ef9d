/**
 * Training small models with fovea's autograd: the pieces of a PyTorch + Hugging Face training
 * loop, each matching its reference numerically (tools/reference/train holds the PyTorch runs the
 * tests compare with).
 *
 * <ul>
 *   <li>{@link dev.fovea.nn.train.Trainable}: the trained parameters of a module tree as owned F32
 *       autograd leaves with persistent gradient buffers (others stay frozen as loaded).
 *   <li>{@link dev.fovea.nn.train.AdamW}: {@code torch.optim.AdamW}, parameter groups (the usual
 *       no-decay rule for biases and norm weights is {@link dev.fovea.nn.train.AdamW#DECAY_MATRICES}),
 *       state saved and loaded as safetensors.
 *   <li>{@link dev.fovea.nn.train.LrSchedule}: transformers' cosine schedule with warm-up and a
 *       min-lr floor.
 *   <li>{@link dev.fovea.nn.train.GradClip}: {@code torch.nn.utils.clip_grad_norm_}.
 *   <li>{@link dev.fovea.nn.train.CausalLmLoss}: HF's shifted-label cross-entropy over trained
 *       tokens (labels -100 elsewhere), on {@code Ops.crossEntropy}.
 *   <li>{@link dev.fovea.nn.train.BatchSource}: batches by index and seed (shuffled datasets,
 *       iterators), so runs repeat and resume exactly.
 *   <li>{@link dev.fovea.nn.train.Trainer}: the loop (micro-batch scopes, accumulation, clipping,
 *       schedule, listeners with throughput, loss.csv, atomic checkpoints, resume) and {@link
 *       dev.fovea.nn.train.Checkpoints}: the run folder's layout.
 * </ul>
 *
 * This package lives in {@code nn} because it needs the module tree's names (a checkpoint's model
 * file is the module's state dict under its Hugging Face names) and nothing model-specific; the
 * models ({@code vit}, {@code llm}) and the command line use it.
 */
package dev.fovea.nn.train;
