package dev.fovea.methods.vicrop;

import java.util.Arrays;
import java.util.stream.Collectors;

/** How ViCrop finds where to look (spec 1.3), or {@link #NONE}: answer with the original image only. */
public enum Method {
  /** No cropping: the baseline answer. */
  NONE("none"),
  /** Layer attention of the last prompt position over the image, question over generic prompt. */
  REL_ATT("rel-att"),
  /** Attention times ReLU of its gradient of the top next-token log-probability, head-averaged. */
  GRAD_ATT("grad-att"),
  /** Input-pixel gradient norms, question over generic, edge-masked, pooled to the patch grid. */
  PURE_GRAD("pure-grad");

  /** The command-line name. */
  public final String cliName;

  Method(String cliName) {
    this.cliName = cliName;
  }

  /** By command-line name ("rel-att") or enum name ("REL_ATT"), case-insensitive. */
  public static Method named(String name) {
    for (Method m : values()) {
      if (m.cliName.equalsIgnoreCase(name) || m.name().equalsIgnoreCase(name)) {
        return m;
      }
    }
    throw new ViCropException("unknown method \"" + name + "\"; known: "
        + Arrays.stream(values()).map(m -> m.cliName).collect(Collectors.joining(", ")));
  }

  @Override
  public String toString() {
    return cliName;
  }
}
