/**
 * AGLA, Assembly of Global and Local Attention (An et al., CVPR 2025, arXiv 2406.12718; code
 * Lackel/AGLA; spec methods-abs-agla.md part B): a BLIP image-text-matching model finds the parts of
 * the image that matter to the prompt ({@link dev.fovea.methods.agla.ImagePromptMatching}, GradCAM
 * on a text layer's cross-attention), the rest is painted black, and every decoding step assembles
 * the logits of the original and the masked image ({@link dev.fovea.methods.agla.Agla}).
 */
package dev.fovea.methods.agla;
