package dev.fovea.methods.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * One item's result, the same for every benchmark and method (a line of an {@link EvalJournal}):
 *
 * <pre>{@code
 * {"id":"17","split":"coco_pope_random","image":"COCO_val2014_000000310196.jpg","prompt":"Is there a dog in the image?","answer":"No, there is not.",
 *  "parsed":"no","label":"no","method":"vcd","seed":42,"timings_ms":{"prefill":812.5,"decode":95.1,"total":990.2}}
 * }</pre>
 *
 * @param id the item's id in its split (a POPE {@code question_id}; MME {@code <image>#<n>}; a COCO
 *     image id for captions)
 * @param split the file or named group the item belongs to (a POPE file, an MME subtask)
 * @param image the image as the dataset names it (POPE's file name; MME's path under the benchmark
 *     folder); MME's acc+ groups an image's questions by it
 * @param prompt the text the model was asked (the question with the prompt variant applied, before the
 *     conversation template)
 * @param answer the model's raw answer
 * @param parsed the answer as the run's parser read it; null for free-form answers (captions)
 * @param label the ground truth; null when the benchmark has none per item (captions)
 * @param method the decoding method ({@code none}, {@code vcd}, {@code avc}...)
 * @param seed the sampler's seed for this item
 * @param timingsMs named durations in milliseconds ({@code prefill}, {@code decode}, {@code total}...)
 * @param extra further fields (a method's own output, such as AVC's blind tokens); never one of the
 *     names above; a copy is kept
 */
public record EvalRecord(String id, String split, String image, String prompt, String answer, YesNo parsed, YesNo label, String method, long seed,
    Map<String, Double> timingsMs, ObjectNode extra) {
  /** The field names of a record line; {@link #extra()} may not use them. */
  static final Set<String> FIELDS = Set.of("id", "split", "image", "prompt", "answer", "parsed", "label", "method", "seed", "timings_ms");

  public EvalRecord {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(split, "split");
    Objects.requireNonNull(image, "image");
    Objects.requireNonNull(prompt, "prompt");
    Objects.requireNonNull(answer, "answer");
    Objects.requireNonNull(method, "method");
    if (label == YesNo.OTHER) {
      throw new IllegalArgumentException(split + " " + id + ": a label is yes or no, not other");
    }
    Map<String, Double> t = new LinkedHashMap<>();
    if (timingsMs != null) {
      for (Map.Entry<String, Double> e : timingsMs.entrySet()) {
        Double v = e.getValue();
        if (e.getKey() == null || v == null || !(v >= 0) || v.isInfinite()) {
          throw new IllegalArgumentException(split + " " + id + ": timing " + e.getKey() + " = " + v + " is not a finite number >= 0");
        }
        t.put(e.getKey(), v);
      }
    }
    timingsMs = Collections.unmodifiableMap(t);
    extra = extra == null ? JsonlFile.JSON.createObjectNode() : extra.deepCopy();
    for (Map.Entry<String, JsonNode> field : extra.properties()) {
      if (FIELDS.contains(field.getKey()) || field.getKey().equals(EvalJournal.MAGIC)) {
        throw new IllegalArgumentException(split + " " + id + ": extra field \"" + field.getKey() + "\" is reserved");
      }
    }
  }

  /** A copy of the extra fields. */
  @Override
  public ObjectNode extra() {
    return extra.deepCopy();
  }

  /** Whether the parsed answer equals the label (false when either is missing). */
  public boolean correct() {
    return label != null && parsed == label;
  }

  /** The record as one JSON object ({@code parsed}/{@code label} left out when null). */
  ObjectNode toJson() {
    ObjectNode o = JsonlFile.JSON.createObjectNode();
    o.put("id", id);
    o.put("split", split);
    o.put("image", image);
    o.put("prompt", prompt);
    o.put("answer", answer);
    if (parsed != null) {
      o.put("parsed", parsed.label());
    }
    if (label != null) {
      o.put("label", label.label());
    }
    o.put("method", method);
    o.put("seed", seed);
    ObjectNode t = o.putObject("timings_ms");
    timingsMs.forEach(t::put);
    o.setAll(extra);
    return o;
  }

  /** A record line read back; errors are {@link ResultsJournalException}s naming {@code at} and the field. */
  static EvalRecord fromJson(ObjectNode node, String at) {
    String id = Journal.text(node, "id", at);
    String split = Journal.text(node, "split", at);
    String image = Journal.text(node, "image", at);
    String prompt = Journal.text(node, "prompt", at);
    String answer = Journal.text(node, "answer", at);
    YesNo parsed = yesNo(node, "parsed", at);
    YesNo label = yesNo(node, "label", at);
    if (label == YesNo.OTHER) {
      throw new ResultsJournalException(at + ", field \"label\": must be yes or no");
    }
    String method = Journal.text(node, "method", at);
    JsonNode seed = node.get("seed");
    if (seed == null || !seed.canConvertToLong() || !seed.isIntegralNumber()) {
      throw new ResultsJournalException(at + ", field \"seed\": " + (seed == null ? "missing" : "must be a 64-bit integer"));
    }
    Map<String, Double> timings = new LinkedHashMap<>();
    JsonNode t = node.get("timings_ms");
    if (t != null && !t.isNull()) {
      if (!t.isObject()) {
        throw new ResultsJournalException(at + ", field \"timings_ms\": must be an object of numbers");
      }
      for (Map.Entry<String, JsonNode> f : t.properties()) {
        if (!f.getValue().isNumber() || !(f.getValue().asDouble() >= 0)) {
          throw new ResultsJournalException(at + ", field \"timings_ms\": \"" + f.getKey() + "\" must be a number >= 0");
        }
        timings.put(f.getKey(), f.getValue().asDouble());
      }
    }
    ObjectNode extra = node.deepCopy();
    extra.remove(FIELDS);
    return new EvalRecord(id, split, image, prompt, answer, parsed, label, method, seed.asLong(), timings, extra);
  }

  private static YesNo yesNo(JsonNode node, String field, String at) {
    JsonNode v = node.get(field);
    if (v == null || v.isNull()) {
      return null;
    }
    try {
      return YesNo.parse(v.isTextual() ? v.asText() : v.toString());
    } catch (IllegalArgumentException e) {
      throw new ResultsJournalException(at + ", field \"" + field + "\": " + e.getMessage());
    }
  }
}
