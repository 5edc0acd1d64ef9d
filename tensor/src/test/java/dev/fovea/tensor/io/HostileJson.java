package dev.fovea.tensor.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.util.RawValue;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Random;

/**
 * Structure-aware damage to a JSON document (config.json, tokenizer.json, vocab.json, an index, a
 * safetensors header, a JSONL line): one to three edits of its tree, each at a random place. An edit
 * puts a hostile value in place of a value (huge, negative and overflowing numbers, fractions where
 * integers belong, strings where numbers belong and the reverse, null, empty and deep containers,
 * long strings, path-like and control-character strings), nudges a number, removes, renames or
 * duplicates a key, moves a subtree elsewhere, or wraps a value in an array or object. Used by the fuzz
 * campaign; a pure function of the seed.
 */
public final class HostileJson {
  private HostileJson() {}

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final JsonNodeFactory F = JsonNodeFactory.instance;

  /** {@code json} with one to three hostile edits; text that does not parse is returned as it is. */
  public static byte[] mutate(byte[] json, long seed) {
    Random r = new Random(seed);
    JsonNode root;
    try {
      root = JSON.readTree(json);
    } catch (IOException e) {
      return json;
    }
    if (root == null || !root.isContainerNode() || r.nextInt(200) == 0) {
      return text(hostileValue(r));
    }
    for (int i = 0, n = 1 + r.nextInt(3); i < n; i++) {
      edit(root, r);
    }
    return text(root);
  }

  /** One JSON document as UTF-8 text (a raw value stays as written). */
  public static byte[] text(JsonNode n) {
    return n.toString().getBytes(StandardCharsets.UTF_8);
  }

  /** A place in the tree: the container and the key or index of a value in it. */
  private record Slot(JsonNode parent, String key, int index) {
    JsonNode get() {
      return key != null ? parent.get(key) : parent.get(index);
    }

    void set(JsonNode v) {
      if (key != null) {
        ((ObjectNode) parent).set(key, v);
      } else {
        ((ArrayNode) parent).set(index, v);
      }
    }

    void remove() {
      if (key != null) {
        ((ObjectNode) parent).remove(key);
      } else {
        ((ArrayNode) parent).remove(index);
      }
    }
  }

  /** Every value below the root, breadth first, at most 200,000. */
  private static List<Slot> slots(JsonNode root) {
    List<Slot> out = new ArrayList<>();
    Deque<JsonNode> todo = new ArrayDeque<>();
    todo.add(root);
    while (!todo.isEmpty() && out.size() < 200_000) {
      JsonNode n = todo.poll();
      if (n.isObject()) {
        for (var e : n.properties()) {
          out.add(new Slot(n, e.getKey(), -1));
          todo.add(e.getValue());
        }
      } else if (n.isArray()) {
        for (int i = 0; i < n.size(); i++) {
          out.add(new Slot(n, null, i));
          todo.add(n.get(i));
        }
      }
    }
    return out;
  }

  private static void edit(JsonNode root, Random r) {
    List<Slot> all = slots(root);
    if (all.isEmpty()) {
      if (root.isObject()) {
        ((ObjectNode) root).set("x", hostileValue(r));
      } else {
        ((ArrayNode) root).add(hostileValue(r));
      }
      return;
    }
    // favour scalars in small documents, any value in large ones: a uniform pick
    Slot s = all.get(r.nextInt(all.size()));
    JsonNode v = s.get();
    switch (r.nextInt(10)) {
      case 0, 1, 2, 3 -> s.set(hostileValue(r));
      case 4 -> s.set(v.isNumber() ? nudge(v, r) : hostileValue(r));
      case 5 -> s.remove();
      case 6 -> { // rename the key: to nothing, to a near miss, or to a sibling's name (a duplicate in the text)
        if (s.key() != null) {
          ObjectNode o = (ObjectNode) s.parent();
          o.remove(s.key());
          String k = switch (r.nextInt(4)) {
            case 0 -> "";
            case 1 -> s.key().toUpperCase(java.util.Locale.ROOT);
            case 2 -> s.key() + "_";
            default -> "x".repeat(1 + r.nextInt(300));
          };
          o.set(k, v);
        } else {
          s.set(hostileValue(r));
        }
      }
      case 7 -> { // the same key twice: Jackson keeps the last, other readers may keep the first
        if (s.key() != null) {
          String again = quote(s.key());
          s.set(F.rawValueNode(new RawValue(v + ", " + again + ": " + hostileValue(r))));
        } else {
          ((ArrayNode) s.parent()).insert(s.index(), v.deepCopy());
        }
      }
      case 8 -> { // a subtree from elsewhere in the document
        Slot other = all.get(r.nextInt(all.size()));
        JsonNode o = other.get();
        if (o != null && !contains(o, s.parent())) {
          s.set(o.deepCopy());
        }
      }
      default -> { // wrapped: [v] or {"value": v}
        if (r.nextBoolean()) {
          s.set(F.arrayNode().add(v));
        } else {
          s.set(F.objectNode().set("value", v));
        }
      }
    }
  }

  private static boolean contains(JsonNode tree, JsonNode target) {
    Deque<JsonNode> todo = new ArrayDeque<>();
    todo.add(tree);
    while (!todo.isEmpty()) {
      JsonNode n = todo.poll();
      if (n == target) {
        return true;
      }
      n.forEach(todo::add);
    }
    return false;
  }

  private static String quote(String s) {
    return F.textNode(s).toString();
  }

  /** A number near {@code v}: one more or less, negated, doubled, a thousand times, zero, or made fractional. */
  private static JsonNode nudge(JsonNode v, Random r) {
    BigDecimal d = v.decimalValue();
    return switch (r.nextInt(7)) {
      case 0 -> F.numberNode(d.add(BigDecimal.ONE));
      case 1 -> F.numberNode(d.subtract(BigDecimal.ONE));
      case 2 -> F.numberNode(d.negate());
      case 3 -> F.numberNode(d.multiply(BigDecimal.TWO));
      case 4 -> F.numberNode(d.multiply(BigDecimal.valueOf(1000)));
      case 5 -> F.numberNode(0);
      default -> F.numberNode(d.add(new BigDecimal("0.5")));
    };
  }

  /** A value meant to break a reader that trusts the type or size of what it finds. */
  public static JsonNode hostileValue(Random r) {
    return switch (r.nextInt(6)) {
      case 0 -> { // integers at the edges of int and long, and past them
        long[] v = Mutations.INTERESTING;
        yield switch (r.nextInt(4)) {
          case 0 -> F.numberNode(BigInteger.ONE.shiftLeft(64 + r.nextInt(64)));
          case 1 -> F.numberNode(-(1L << r.nextInt(63)));
          default -> F.numberNode(v[r.nextInt(v.length)]);
        };
      }
      case 1 -> { // non-integers where integers belong
        double[] v = {0.5, 64.5, -0.0, 1e12, 4.0, 1e308, -1e308, 1e-320, 2.5e9, 3.4028235e38};
        yield r.nextInt(8) == 0 ? F.rawValueNode(new RawValue(List.of("1e999", "-1e999", "1E400", "0.0e-9999").get(r.nextInt(4))))
            : F.numberNode(v[r.nextInt(v.length)]);
      }
      case 2 -> { // strings
        String[] v = {"", " ", "0", "64", "-1", "1e12", "NaN", "Infinity", "true", "null", "../../../../etc/passwd", "/dev/zero", "<s>", "</s>",
          "<unk>", "<image>", "[UNK]", "\u2581", "\n", "\u0000", "\uD800", "\uFFFF", "\u0120\u0120", "\uD83D\uDE00", "F32", "I64", "Q4_0",
          "llama", "clip", "llava", "BPE", "Unigram", "ByteLevel", "model.safetensors", "a b", "a  b", " a b "};
        yield r.nextInt(50) == 0 ? F.textNode("x".repeat(100_000)) : F.textNode(v[r.nextInt(v.length)]);
      }
      case 3 -> switch (r.nextInt(3)) {
        case 0 -> F.nullNode();
        case 1 -> F.booleanNode(true);
        default -> F.booleanNode(false);
      };
      case 4 -> switch (r.nextInt(8)) { // small containers
        case 0 -> F.arrayNode();
        case 1 -> F.objectNode();
        case 2 -> F.arrayNode().add(1).add(2);
        case 3 -> F.arrayNode().add(F.arrayNode());
        case 4 -> F.objectNode().putNull("");
        case 5 -> F.arrayNode().add(-1).add(Long.MAX_VALUE).add(0);
        case 6 -> F.arrayNode().add("a").add(1.5).add(F.nullNode());
        default -> F.objectNode().put("a", 1);
      };
      default -> { // deep and wide: nests beyond any parser's recursion budget, long arrays
        int depth = List.of(10, 999, 1_001, 5_000, 100_000).get(r.nextInt(5));
        yield switch (r.nextInt(4)) {
          case 0 -> F.rawValueNode(new RawValue("[".repeat(depth) + "]".repeat(depth)));
          case 1 -> F.rawValueNode(new RawValue("{\"a\":".repeat(depth) + "1" + "}".repeat(depth)));
          case 2 -> F.rawValueNode(new RawValue("[" + "0,".repeat(100_000) + "0]"));
          default -> F.rawValueNode(new RawValue("[" + "[1,2],".repeat(1_000) + "[]]"));
        };
      }
    };
  }
}
