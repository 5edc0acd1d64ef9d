package dev.fovea.llm.llama;

import dev.fovea.nn.KvCache;
import dev.fovea.tensor.Scope;
import java.util.Arrays;

/**
 * One decoding session of a {@link LlamaForCausalLM} (STYLE point 6: the model is shared and
 * immutable, the state belongs to a run): per layer a preallocated {@link KvCache} keys/values
 * [B, Hkv, capacity, D] in a scope this state owns, the next position, the ids fed so far (for
 * repetition penalties and stop strings) and the logits of the last position.
 *
 * <p>Branches (VCD, AVC, AGLA) are several states of the same model advanced in lockstep, each
 * with its own cache. Close the state to free its cache.
 */
public final class DecodeState implements AutoCloseable {
  private final Scope scope;
  private final KvCache[] caches; // per layer
  private final int batch;
  private final int capacity;
  private int position;
  private int[] tokens = new int[16];
  private int tokenCount;
  private float[] logits; // [V] of the last position of batch row 0, or null before the first forward

  DecodeState(LlamaConfig c, int batch, int capacity) {
    if (batch < 1 || capacity < 1) {
      throw new LlamaException("DecodeState: batch " + batch + " and capacity " + capacity + " must be positive");
    }
    if (capacity > c.maxPositionEmbeddings()) {
      throw new LlamaException("DecodeState: a capacity of " + capacity + " positions exceeds the model's max_position_embeddings "
          + c.maxPositionEmbeddings() + " (" + c.origin() + ")");
    }
    this.scope = Scope.detached();
    this.batch = batch;
    this.capacity = capacity;
    this.caches = new KvCache[c.numHiddenLayers()];
    for (int i = 0; i < caches.length; i++) {
      caches[i] = new KvCache(scope, batch, c.numKeyValueHeads(), capacity, c.headDim());
    }
  }

  private DecodeState(DecodeState from) {
    this.scope = Scope.detached();
    this.batch = from.batch;
    this.capacity = from.capacity;
    this.caches = new KvCache[from.caches.length];
    for (int i = 0; i < caches.length; i++) {
      caches[i] = from.caches[i].copyTo(scope);
    }
    this.position = from.position;
    this.tokens = from.tokens.clone();
    this.tokenCount = from.tokenCount;
    this.logits = from.logits == null ? null : from.logits.clone();
  }

  /** An independent copy (own cache, same contents): a branch that shares this state's prefix. */
  public DecodeState fork() {
    return new DecodeState(this);
  }

  /** The next position (= positions already in the cache). */
  public int position() {
    return position;
  }

  /** Positions the cache holds at most. */
  public int capacity() {
    return capacity;
  }

  public int batch() {
    return batch;
  }

  /** Bytes of all layers' keys and values. */
  public long cacheBytes() {
    long n = 0;
    for (KvCache c : caches) {
      n += c.bytes();
    }
    return n;
  }

  /** This layer's cache. */
  public KvCache cache(int layer) {
    return caches[layer];
  }

  /** Logits [V] of the last position fed (batch row 0); a copy. */
  public float[] logits() {
    if (logits == null) {
      throw new LlamaException("DecodeState: no logits yet (prefill first)");
    }
    return logits.clone();
  }

  /** Ids fed so far (prompt ids when the prompt was given as ids, then every stepped token). */
  public int[] tokens() {
    return Arrays.copyOf(tokens, tokenCount);
  }

  /**
   * Rolls the state back to {@code newPosition} (later positions are forgotten and overwritten by
   * the next step); the logits are those of the last forward, not of the new position.
   */
  public void truncate(int newPosition) {
    if (newPosition < 0 || newPosition > position) {
      throw new LlamaException("DecodeState: cannot truncate " + position + " positions to " + newPosition);
    }
    for (KvCache c : caches) {
      c.truncate(newPosition);
    }
    position = newPosition;
    tokenCount = Math.min(tokenCount, newPosition);
  }

  void advance(int t) {
    position += t;
  }

  void setLogits(float[] l) {
    logits = l;
  }

  void record(int[] ids) {
    if (tokenCount + ids.length > tokens.length) {
      tokens = Arrays.copyOf(tokens, Math.max(tokens.length * 2, tokenCount + ids.length));
    }
    System.arraycopy(ids, 0, tokens, tokenCount, ids.length);
    tokenCount += ids.length;
  }

  /** Checks that {@code t} more positions fit. */
  void reserve(int t) {
    if (position + t > capacity) {
      throw new LlamaException("context too long: " + position + " positions + " + t + " new ones exceed this decoding state's capacity of "
          + capacity + " (create it with a larger maximum length, at most max_position_embeddings)");
    }
  }

  @Override
  public void close() {
    scope.close();
  }
}
