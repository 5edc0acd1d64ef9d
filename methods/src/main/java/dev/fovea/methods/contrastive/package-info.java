/**
 * What the contrastive decoding family shares (spec methods-vicrop-avc-vcd.md 2.5, 3.2): the
 * contrast {@code (1 + alpha) z - alpha z'} of two branches' logits with the adaptive plausibility
 * cut, followed by the usual processors, warpers and a seeded draw ({@link
 * dev.fovea.methods.contrastive.ContrastiveSampler}), and its parameters ({@link
 * dev.fovea.methods.contrastive.ContrastiveConfig}). VCD ({@code methods.vcd}) and AVC ({@code
 * methods.avc}) differ only in how they build the second branch; both run the two branches as one
 * batch ({@link dev.fovea.llm.generate.Lockstep}). {@link dev.fovea.methods.contrastive.ImagePair}
 * prepares the prompt with two versions of its images (VCD's noised, AGLA's masked) for LLaVA or
 * InstructBLIP.
 */
package dev.fovea.methods.contrastive;
