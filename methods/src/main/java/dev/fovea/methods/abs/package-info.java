/**
 * ABS, attention-based selection (Cai et al., ICML 2025; code BIT-DA/ABS at 5ba77c6; spec
 * shared/specs/methods-abs-agla.md part A): zero-shot CLIP classification where each image is seen
 * through 50 raw crops and 50 feature-space crops centred where a DINO ViT's CLS token attends, every
 * view soft-matched against CuPL-style class descriptions. {@link dev.fovea.methods.abs.Abs} runs one
 * image, {@link dev.fovea.methods.abs.DescriptionBank} holds (and caches on disk) the encoded
 * descriptions, {@link dev.fovea.methods.abs.Baselines} gives CLIP, CLIP-E and CuPL in the same harness.
 */
package dev.fovea.methods.abs;
