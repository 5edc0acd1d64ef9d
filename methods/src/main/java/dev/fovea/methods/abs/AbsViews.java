package dev.fovea.methods.abs;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fovea.methods.scenes.Png;
import dev.fovea.vit.image.RgbImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * What ABS looked at, as files a person can open: the DINO attention map as a heat map over the
 * image ({@code <stem>-dino.png}), every raw crop ({@code <stem>-raw-NN.png}), the feature windows
 * as a coverage map on CLIP's grid ({@code <stem>-windows.png}), and {@code <stem>-views.json}
 * with the centres, boxes, windows and per-view scores.
 */
public final class AbsViews {
  private AbsViews() {}

  /** Writes the files of one image into {@code dir} (created); returns the paths written. */
  public static List<Path> write(Path dir, String stem, RgbImage image, Abs.Result r, List<String> classes) throws IOException {
    Files.createDirectories(dir);
    List<Path> out = new java.util.ArrayList<>();
    int g = r.dinoGrid();
    // DINO map blended over the image (map upsampled nearest to the image size, normalised to its max)
    float max = 0;
    for (float v : r.attention()) {
      max = Math.max(max, v);
    }
    int w = image.width();
    int h = image.height();
    int[] px = new int[w * h];
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        float a = max > 0 ? r.attention()[(y * g / h) * g + (x * g / w)] / max : 0;
        int[] heat = heat(a);
        int[] rgb = {image.get(x, y, 0), image.get(x, y, 1), image.get(x, y, 2)};
        int o = 0;
        for (int c = 0; c < 3; c++) {
          o = (o << 8) | Math.round(0.45f * rgb[c] + 0.55f * heat[c]);
        }
        px[y * w + x] = o;
      }
    }
    out.add(Files.write(dir.resolve(stem + "-dino.png"), Png.encodeRgb(w, h, px)));
    for (int i = 0; i < r.boxes().length; i++) {
      int[] b = r.boxes()[i];
      RgbImage crop = image.crop(b[0], b[1], b[2], b[3]);
      out.add(Files.write(dir.resolve(String.format("%s-raw-%02d.png", stem, i)), Png.encodeRgb(crop.width(), crop.height(), packed(crop))));
    }
    // window coverage on CLIP's grid, 16 px per cell
    if (r.windows().length > 0) {
      int gc = 0;
      for (int[] win : r.windows()) {
        gc = Math.max(gc, Math.max(win[2], win[3]));
      }
      int[] count = new int[gc * gc];
      int most = 1;
      for (int[] win : r.windows()) {
        for (int y = win[0]; y < win[2]; y++) {
          for (int x = win[1]; x < win[3]; x++) {
            most = Math.max(most, ++count[y * gc + x]);
          }
        }
      }
      int cell = 16;
      int[] cov = new int[gc * cell * gc * cell];
      for (int y = 0; y < gc * cell; y++) {
        for (int x = 0; x < gc * cell; x++) {
          int[] c = heat(count[(y / cell) * gc + x / cell] / (float) most);
          cov[y * gc * cell + x] = (c[0] << 16) | (c[1] << 8) | c[2];
        }
      }
      out.add(Files.write(dir.resolve(stem + "-windows.png"), Png.encodeRgb(gc * cell, gc * cell, cov)));
    }
    ObjectMapper json = new ObjectMapper();
    ObjectNode root = json.createObjectNode();
    root.put("dino_grid", g);
    root.set("attention", json.valueToTree(r.attention()));
    root.set("raw_centres", json.valueToTree(r.rawCentres()));
    root.set("boxes", json.valueToTree(r.boxes()));
    root.set("feature_centres", json.valueToTree(r.featureCentres()));
    root.set("windows", json.valueToTree(r.windows()));
    root.set("classes", json.valueToTree(classes));
    root.set("logits", json.valueToTree(r.logits()));
    ArrayNode scores = root.putArray("view_scores");
    for (float[] s : r.viewScores()) {
      scores.add(json.valueToTree(s));
    }
    out.add(Files.writeString(dir.resolve(stem + "-views.json"), json.writeValueAsString(root)));
    return out;
  }

  private static int[] packed(RgbImage img) {
    int[] p = new int[img.width() * img.height()];
    for (int y = 0; y < img.height(); y++) {
      for (int x = 0; x < img.width(); x++) {
        p[y * img.width() + x] = (img.get(x, y, 0) << 16) | (img.get(x, y, 1) << 8) | img.get(x, y, 2);
      }
    }
    return p;
  }

  /** Black, red, yellow, white for 0 .. 1. */
  private static int[] heat(float a) {
    float t = Math.max(0, Math.min(1, a));
    int r = Math.round(255 * Math.min(1, 3 * t));
    int g = Math.round(255 * Math.max(0, Math.min(1, 3 * t - 1)));
    int b = Math.round(255 * Math.max(0, 3 * t - 2));
    return new int[] {r, g, b};
  }
}
