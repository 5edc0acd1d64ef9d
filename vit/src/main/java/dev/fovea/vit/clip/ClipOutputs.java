package dev.fovea.vit.clip;

/**
 * What a forward should return besides the final states: every layer's hidden states and/or every
 * layer's attention probabilities (HF {@code output_hidden_states} / {@code output_attentions}).
 * Asking for attentions attaches an attention hook, so those layers take the explicit path.
 */
public record ClipOutputs(boolean hiddenStates, boolean attentions) {
  public static final ClipOutputs NONE = new ClipOutputs(false, false);
  public static final ClipOutputs ALL = new ClipOutputs(true, true);
}
