package dev.fovea.tensor.io;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.fovea.tensor.ErrorList;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.TensorException;
import dev.fovea.tensor.WeightSource;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * A checkpoint split over several files by an index ({@code model.safetensors.index.json} or
 * {@code pytorch_model.bin.index.json}): {@code {"metadata": {...}, "weight_map": {name: shard}}}.
 * Each shard is opened once (headers only); names come in the index's order, and every name of the
 * index must be in its shard. Shard file names must be plain names in the index's directory.
 * Metadata is the index's {@code metadata} object followed by the first shard's metadata.
 */
public final class ShardedSource implements WeightSource {
  static final long MAX_INDEX_BYTES = 64L << 20;

  private final String origin;
  private final Map<String, WeightSource> owner;
  private final List<WeightSource> shards;
  private final Map<String, Object> metadata;

  private ShardedSource(String origin, Map<String, WeightSource> owner, List<WeightSource> shards, Map<String, Object> metadata) {
    this.origin = origin;
    this.owner = Collections.unmodifiableMap(owner);
    this.shards = shards;
    this.metadata = Collections.unmodifiableMap(metadata);
  }

  /** Opens the index and its shards with {@code openShard} (for example {@link SafetensorsSource#open}). */
  public static ShardedSource open(Path index, Function<Path, ? extends WeightSource> openShard) {
    String f = index.toString();
    JsonNode root;
    try {
      long size = Files.size(index);
      if (size > MAX_INDEX_BYTES) {
        throw new FormatException(f, null, "index of " + size + " bytes is larger than " + MAX_INDEX_BYTES);
      }
      byte[] bytes = Files.readAllBytes(index);
      root = SafetensorsSource.JSON.readTree(Cursor.decodeUtf8(bytes, f, "index"));
    } catch (JacksonException e) {
      throw new FormatException(f, null, "invalid JSON: " + e.getOriginalMessage(), e);
    } catch (IOException e) {
      throw new TensorException("cannot read " + f + ": " + e, e);
    }
    if (root == null || !root.isObject() || root.get("weight_map") == null || !root.get("weight_map").isObject()) {
      throw new FormatException(f, "weight_map", "index must be an object with a weight_map object");
    }
    Map<String, Object> metadata = new LinkedHashMap<>();
    JsonNode meta = root.get("metadata");
    if (meta != null && meta.isObject()) {
      for (Map.Entry<String, JsonNode> m : meta.properties()) {
        JsonNode v = m.getValue();
        metadata.put(m.getKey(), v.isIntegralNumber() ? (Object) v.longValue() : v.isValueNode() ? v.asText() : v.toString());
      }
    }
    Path dir = index.toAbsolutePath().getParent();
    Map<String, WeightSource> byFile = new LinkedHashMap<>();
    Map<String, WeightSource> owner = new LinkedHashMap<>();
    try {
      for (Map.Entry<String, JsonNode> e : root.get("weight_map").properties()) {
        String name = e.getKey();
        JsonNode shardNode = e.getValue();
        String field = "weight_map['" + ErrorList.abbreviate(name, 80) + "']";
        if (!shardNode.isTextual()) {
          throw new FormatException(f, field, "shard must be a file name string");
        }
        String shard = shardNode.textValue();
        if (shard.isEmpty() || shard.contains("/") || shard.contains("\\") || shard.indexOf('\0') >= 0 || shard.equals(".") || shard.equals("..")) {
          throw new FormatException(f, field, "shard '" + ErrorList.abbreviate(shard, 80).replace('\0', '?') + "' must be a plain file name next to the index");
        }
        WeightSource src = byFile.get(shard);
        if (src == null) {
          Path p = dir.resolve(shard);
          if (!Files.isRegularFile(p)) {
            throw new FormatException(f, field, "shard file " + ErrorList.abbreviate(p.toString(), dir.toString().length() + 80) + " does not exist");
          }
          src = openShard.apply(p);
          byFile.put(shard, src);
        }
        if (!src.contains(name)) {
          throw new FormatException(f, field, "tensor is not in its shard " + src.origin());
        }
        owner.put(name, src);
      }
    } catch (RuntimeException ex) {
      byFile.values().forEach(WeightSource::close);
      throw ex;
    }
    List<WeightSource> shards = new ArrayList<>(byFile.values());
    if (!shards.isEmpty()) {
      shards.getFirst().metadata().forEach(metadata::putIfAbsent);
    }
    return new ShardedSource(f, owner, shards, metadata);
  }

  /** The opened shards, in the order the index first names them. */
  public List<WeightSource> shards() {
    return Collections.unmodifiableList(shards);
  }

  @Override
  public Set<String> names() {
    return owner.keySet();
  }

  @Override
  public TensorInfo info(String name) {
    WeightSource s = owner.get(name);
    return s == null ? null : s.info(name);
  }

  @Override
  public Tensor get(String name) {
    WeightSource s = owner.get(name);
    if (s == null) {
      throw new TensorException("tensor '" + name + "' not found in " + origin + " (" + owner.size() + " tensors)");
    }
    return s.get(name);
  }

  @Override
  public void release(String name) {
    WeightSource s = owner.get(name);
    if (s != null) {
      s.release(name);
    }
  }

  @Override
  public Map<String, Object> metadata() {
    return metadata;
  }

  @Override
  public String origin() {
    return origin;
  }

  @Override
  public void close() {
    shards.forEach(WeightSource::close);
  }
}
