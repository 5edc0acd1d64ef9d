package dev.fovea.methods.vicrop;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fovea.tensor.WeightSource;
import dev.fovea.tensor.io.WeightFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Path;

/** The checked-in outputs of tools/reference/vicrop/make_geometry_reference.py. */
final class GeometryFixtures {
  private GeometryFixtures() {}

  static Path file(String name) {
    URL url = GeometryFixtures.class.getResource("/vicrop-geometry/" + name);
    if (url == null) {
      throw new IllegalStateException("test resource vicrop-geometry/" + name
          + " is missing: run /usr/bin/python3 tools/reference/vicrop/make_geometry_reference.py");
    }
    try {
      return Path.of(url.toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  static JsonNode json(String name) {
    try {
      return new ObjectMapper().readTree(file(name).toFile());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A safetensors fixture (mapped; close it). */
  static WeightSource arrays(String name) {
    return WeightFiles.open(file(name));
  }

  static int[] ints(JsonNode array) {
    int[] r = new int[array.size()];
    for (int i = 0; i < r.length; i++) {
      r[i] = array.get(i).intValue();
    }
    return r;
  }

  static double[] doubles(JsonNode array) {
    double[] r = new double[array.size()];
    for (int i = 0; i < r.length; i++) {
      r[i] = array.get(i).doubleValue();
    }
    return r;
  }
}
