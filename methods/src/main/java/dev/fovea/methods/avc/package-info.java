/**
 * AVC / AvisC, Attentional Vision Calibration (arXiv 2405.17820; spec methods-vicrop-avc-vcd.md
 * section 2): at the prefill of the original prompt, the image tokens that draw most of the last
 * prompt position's attention in the layers that attend most to the image ("blind tokens") are
 * found ({@link dev.fovea.methods.avc.BlindTokens}); a second branch sees the prompt with every other
 * image embedding zeroed, and each step contrasts the two ({@link dev.fovea.methods.contrastive}).
 */
package dev.fovea.methods.avc;
