package dev.fovea.nn.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fovea.nn.Module;
import dev.fovea.nn.Parameter;
import dev.fovea.tensor.WeightSource;
import dev.fovea.tensor.io.WeightFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Map;

/** The fixtures of tools/reference/train/make_train_reference.py, and a module made of named parameters. */
final class TrainFixtures {
  private TrainFixtures() {}

  static Path dir() {
    try {
      return Path.of(TrainFixtures.class.getResource("/train-reference/reference.json").toURI()).getParent();
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  static WeightSource reference() {
    return WeightFiles.open(dir().resolve("reference.safetensors"));
  }

  static JsonNode meta() {
    try {
      return new ObjectMapper().readTree(dir().resolve("reference.json").toFile());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static double[] series(String name) {
    JsonNode a = meta().get("series").get(name);
    double[] out = new double[a.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = a.get(i).asDouble();
    }
    return out;
  }

  /** A module tree whose parameters have the given dotted names and shapes (children made per segment). */
  static final class Params extends Module {
    Params(Map<String, int[]> shapes) {
      shapes.forEach((name, shape) -> {
        Module m = this;
        String[] parts = name.split("\\.");
        for (int i = 0; i < parts.length - 1; i++) {
          Module child = m.children().get(parts[i]);
          if (child == null) {
            child = ((Params) m).child(parts[i]);
          }
          m = child;
        }
        ((Params) m).declare(parts[parts.length - 1], shape);
      });
    }

    private Params() {}

    private Module child(String segment) {
      return register(segment, new Params());
    }

    private void declare(String segment, int[] shape) {
      parameter(segment, Parameter.FLOAT, Parameter.Init.NORMAL, shape);
    }
  }

  /** max |a - b| / max(1, |b|). */
  static double maxRelErr(float[] a, float[] b) {
    double worst = 0;
    for (int i = 0; i < a.length; i++) {
      worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i])));
    }
    return worst;
  }

  /** Elements whose bits differ. */
  static int bitsDiffer(float[] a, float[] b) {
    int n = 0;
    for (int i = 0; i < a.length; i++) {
      n += Float.floatToIntBits(a[i]) != Float.floatToIntBits(b[i]) ? 1 : 0;
    }
    return n;
  }
}
