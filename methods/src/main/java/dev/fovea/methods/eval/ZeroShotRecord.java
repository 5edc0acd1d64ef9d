package dev.fovea.methods.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * One zero-shot classification result: the image (its key, a path relative to the data root), its
 * label index, the top classes by score (at most 5) and their scores; or, for an image that could
 * not be read and was skipped, {@code error} and no prediction.
 */
public record ZeroShotRecord(String image, int label, int[] top, float[] scores, String error) {
  public ZeroShotRecord {
    if (image == null || image.isEmpty()) {
      throw new IllegalArgumentException("zero-shot record without an image");
    }
    top = top == null ? new int[0] : top.clone();
    scores = scores == null ? new float[0] : scores.clone();
  }

  public boolean skipped() {
    return error != null;
  }

  public boolean correctTop1() {
    return !skipped() && top.length > 0 && top[0] == label;
  }

  public boolean correctTop5() {
    if (skipped()) {
      return false;
    }
    for (int i = 0; i < Math.min(5, top.length); i++) {
      if (top[i] == label) {
        return true;
      }
    }
    return false;
  }

  @Override
  public int[] top() {
    return top.clone();
  }

  @Override
  public float[] scores() {
    return scores.clone();
  }

  ObjectNode toJson() {
    ObjectNode n = JsonlFile.JSON.createObjectNode();
    n.put("image", image);
    n.put("label", label);
    if (error != null) {
      n.put("error", error);
      return n;
    }
    ArrayNode t = n.putArray("top");
    for (int i : top) {
      t.add(i);
    }
    ArrayNode s = n.putArray("scores");
    for (float f : scores) {
      s.add(f);
    }
    n.put("correct", correctTop1());
    return n;
  }

  static ZeroShotRecord fromJson(ObjectNode n, String at) {
    JsonNode img = n.get("image");
    JsonNode label = n.get("label");
    if (img == null || !img.isTextual() || label == null || !label.canConvertToInt()) {
      throw new ResultsJournalException(at + ": a zero-shot record needs \"image\" (string) and \"label\" (int)");
    }
    if (n.has("error")) {
      return new ZeroShotRecord(img.asText(), label.asInt(), null, null, n.get("error").asText());
    }
    JsonNode t = n.get("top");
    JsonNode s = n.get("scores");
    if (t == null || !t.isArray() || s == null || !s.isArray() || t.size() != s.size()) {
      throw new ResultsJournalException(at + ": a zero-shot record needs \"top\" and \"scores\" arrays of one length");
    }
    int[] top = new int[t.size()];
    float[] sc = new float[s.size()];
    for (int i = 0; i < top.length; i++) {
      top[i] = t.get(i).asInt();
      sc[i] = (float) s.get(i).asDouble();
    }
    return new ZeroShotRecord(img.asText(), label.asInt(), top, sc, null);
  }
}
