/**
 * VCD, Visual Contrastive Decoding (CVPR 2024, arXiv 2311.16922; spec methods-vicrop-avc-vcd.md
 * section 3): a second branch sees the same prompt with a diffusion-noised copy of the image, and
 * every step contrasts the two branches' logits ({@link dev.fovea.methods.contrastive}).
 */
package dev.fovea.methods.vcd;
