package dev.fovea.llm.llama;

import dev.fovea.nn.KvCache;
import dev.fovea.tensor.Backends;
import dev.fovea.tensor.Device;
import dev.fovea.tensor.ExecutionContext;
import dev.fovea.tensor.Scope;
import java.util.Arrays;

/**
 * One decoding session of a {@link LlamaForCausalLM} (STYLE point 6: the model is shared and
 * immutable, the state belongs to a run): per layer a preallocated {@link KvCache} keys/values
 * [B, Hkv, capacity, D] in a scope this state owns, the next position, the ids fed so far (for
 * repetition penalties and stop strings) and the logits of the last position.
 *
 * <p>Branches (VCD, AVC, AGLA) are several states of the same model advanced in lockstep, each
 * with its own cache, or the rows of one state of batch N (each row its own cache row and logits):
 * then one forward serves every branch and each weight is read once per step. Rows whose inputs
 * depend on one another (AVC's second input needs the first prefill's attention) are prefilled one
 * at a time through {@link #row} views; the batch steps together once every row is at the same
 * position. Close the state to free its cache.
 *
 * <p>On a device with several queues of work (CUDA: streams) a state owns one ({@link #context()},
 * null on the CPU), current around each forward of the state, so two states' steps may overlap;
 * its row views share it. {@link #fork()} copies the caches on this state's queue and orders the
 * fork's queue after the copy.
 */
public final class DecodeState implements AutoCloseable {
  private final Scope scope; // null for a row view (the parent owns the memory)
  private final KvCache[] caches; // per layer
  private final int batch;
  private final int capacity;
  private int position;
  private int[] tokens = new int[16];
  private int tokenCount;
  private float[] logits; // [V] of the last position of batch row 0, or null before the first forward
  private final float[][] rowLogits; // [batch][V] of the last forward, rows null until set
  private final int[] rowPositions; // positions each row holds (all equal to position unless rows were filled by views)
  private final DecodeState parent; // of a row view
  private final int row; // of a row view
  private final ExecutionContext context; // this state's queue of device work, or null (CPU; row views use the parent's)

  DecodeState(LlamaConfig c, int batch, int capacity) {
    this(c, Device.CPU, batch, capacity);
  }

  /** A state whose caches live on {@code device} (the model's: {@link LlamaForCausalLM#newState}). */
  DecodeState(LlamaConfig c, Device device, int batch, int capacity) {
    if (batch < 1 || capacity < 1) {
      throw new LlamaException("DecodeState: batch " + batch + " and capacity " + capacity + " must be positive");
    }
    if (capacity > c.maxPositionEmbeddings()) {
      throw new LlamaException("DecodeState: a capacity of " + capacity + " positions exceeds the model's max_position_embeddings "
          + c.maxPositionEmbeddings() + " (" + c.origin() + ")");
    }
    this.scope = Scope.detached();
    this.context = device.equals(Device.CPU) ? null : Backends.of(device).openContext();
    this.batch = batch;
    this.capacity = capacity;
    this.caches = new KvCache[c.numHiddenLayers()];
    for (int i = 0; i < caches.length; i++) {
      caches[i] = new KvCache(scope, device, batch, c.numKeyValueHeads(), capacity, c.headDim());
    }
    this.rowLogits = new float[batch][];
    this.rowPositions = new int[batch];
    this.parent = null;
    this.row = -1;
  }

  private DecodeState(DecodeState from) {
    this.scope = Scope.detached();
    this.batch = from.batch;
    this.capacity = from.capacity;
    this.caches = new KvCache[from.caches.length];
    if (from.context == null) {
      for (int i = 0; i < caches.length; i++) {
        caches[i] = from.caches[i].copyTo(scope);
      }
      this.context = null;
    } else {
      try (var on = from.context.enter()) { // the copy on the parent's queue, after its steps
        for (int i = 0; i < caches.length; i++) {
          caches[i] = from.caches[i].copyTo(scope);
        }
      }
      this.context = Backends.of(from.device()).openContext();
      if (context != null) {
        context.after(from.context); // the fork's steps after the copy
      }
    }
    this.position = from.position;
    this.tokens = from.tokens.clone();
    this.tokenCount = from.tokenCount;
    this.logits = from.logits == null ? null : from.logits.clone();
    this.rowLogits = new float[batch][];
    for (int b = 0; b < batch; b++) {
      rowLogits[b] = from.rowLogits[b] == null ? null : from.rowLogits[b].clone();
    }
    this.rowPositions = from.rowPositions.clone();
    this.parent = null;
    this.row = -1;
  }

  /** A view of row {@code b} of {@code parent}: batch 1, the parent's cache row, its own position. */
  private DecodeState(DecodeState parent, int b) {
    this.scope = null;
    this.batch = 1;
    this.capacity = parent.capacity;
    this.caches = new KvCache[parent.caches.length];
    int at = parent.rowPositions[b];
    for (int i = 0; i < caches.length; i++) {
      caches[i] = parent.caches[i].row(b);
      if (at > caches[i].length()) {
        caches[i].assumeFilled(at); // written by an earlier view of this row
      }
    }
    this.position = at;
    this.rowLogits = new float[1][];
    this.rowPositions = new int[] {at};
    this.parent = parent;
    this.row = b;
    this.context = parent.context;
  }

  /**
   * An independent copy (own cache, same contents): a branch that shares this state's prefix. Not
   * of a row view (fork the batch).
   */
  public DecodeState fork() {
    if (parent != null) {
      throw new LlamaException("DecodeState: a row view cannot be forked; fork the batched state");
    }
    return new DecodeState(this);
  }

  /**
   * Row {@code b} of this batched state as a state of batch 1 over the same cache memory, to fill
   * that row alone (a prefill, or a prefill in parts): every forward through the view advances the
   * row. Once every row is at the same position the batch can step them together; the view's
   * logits become {@link #logits(int)} of row b. Closing a view frees nothing.
   */
  public DecodeState row(int b) {
    if (parent != null) {
      throw new LlamaException("DecodeState: a row view has no rows of its own");
    }
    if (b < 0 || b >= batch) {
      throw new LlamaException("DecodeState: row " + b + " is outside the batch of " + batch);
    }
    return new DecodeState(this, b);
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

  /** Where the caches live (the model's device when the state was made). */
  public Device device() {
    return caches.length == 0 ? Device.CPU : caches[0].device();
  }

  /** This state's queue of device work (made current around its forwards), or null (the CPU, or a device with one queue). */
  public ExecutionContext context() {
    return context;
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

  /** Logits [V] of the last position fed to batch row {@code b}; a copy. */
  public float[] logits(int b) {
    if (b < 0 || b >= batch) {
      throw new LlamaException("DecodeState: row " + b + " is outside the batch of " + batch);
    }
    if (rowLogits[b] == null) {
      throw new LlamaException("DecodeState: row " + b + " has no logits yet (prefill it first)");
    }
    return rowLogits[b].clone();
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
    if (parent != null) {
      throw new LlamaException("DecodeState: a row view cannot be truncated; truncate the batched state");
    }
    if (newPosition < 0 || newPosition > position) {
      throw new LlamaException("DecodeState: cannot truncate " + position + " positions to " + newPosition);
    }
    for (KvCache c : caches) {
      c.truncate(newPosition);
    }
    position = newPosition;
    Arrays.fill(rowPositions, newPosition);
    tokenCount = Math.min(tokenCount, newPosition);
  }

  /** Checks that every row is at the state's position before a forward over the whole batch. */
  void checkRowsAligned() {
    for (int b = 0; b < batch; b++) {
      if (rowPositions[b] != position) {
        throw new LlamaException("DecodeState: the rows are at positions " + Arrays.toString(rowPositions)
            + "; fill every row to the same length (through row views) before running the batch together");
      }
    }
  }

  void advance(int t) {
    position += t;
    Arrays.fill(rowPositions, position);
    if (parent != null) {
      parent.rowAdvanced(row, position);
    }
  }

  private void rowAdvanced(int b, int at) {
    rowPositions[b] = at;
    int min = Integer.MAX_VALUE;
    for (int p : rowPositions) {
      min = Math.min(min, p);
    }
    if (min > position) {
      for (KvCache c : caches) {
        c.assumeFilled(min);
      }
      position = min;
    }
  }

  void setLogits(float[] l) {
    logits = l;
    rowLogits[0] = l;
    if (parent != null) {
      parent.rowLogits[row] = l;
      if (row == 0) {
        parent.logits = l;
      }
    }
  }

  /** Logits of every row after a forward of the whole batch. */
  void setRowLogits(float[][] l) {
    for (int b = 0; b < batch; b++) {
      rowLogits[b] = l[b];
    }
    logits = l[0];
  }

  void record(int[] ids) {
    if (tokenCount + ids.length > tokens.length) {
      tokens = Arrays.copyOf(tokens, Math.max(tokens.length * 2, tokenCount + ids.length));
    }
    System.arraycopy(ids, 0, tokens, tokenCount, ids.length);
    tokenCount += ids.length;
    if (parent != null && row == 0) {
      parent.record(ids);
    }
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
    if (scope != null) {
      try {
        scope.close();
      } finally {
        if (context != null) {
          context.close();
        }
      }
    }
  }
}
