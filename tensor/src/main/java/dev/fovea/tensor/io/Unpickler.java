package dev.fovea.tensor.io;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A restricted pickle VM for the {@code data.pkl} of torch.save (CPython {@code Lib/pickle.py},
 * {@code Lib/pickletools.py}; torch {@code torch/serialization.py}). It builds plain Java values
 * and never executes anything: the only callables are an allow-list of globals, each interpreted
 * here ({@code collections.OrderedDict}, {@code torch._utils._rebuild_tensor_v2},
 * {@code _rebuild_parameter[_with_state]}), and the storage classes, which only name a dtype in a
 * persistent id. Any other global, and any opcode outside the list below, is refused with an error
 * naming it, the file and the byte offset.
 *
 * <p>Values: str → String, int → Long, float → Double, bool → Boolean, None → null, tuple →
 * {@link Tup}, list → ArrayList, dict/OrderedDict → LinkedHashMap, tensors → {@link TensorRef}.
 * Limits: at most {@link #MAX_OBJECTS} objects and memo entries, so a hostile pickle cannot exhaust memory.
 * Lists and dicts can hold themselves (through the memo) and nest hundreds of thousands deep: dict
 * keys are therefore only scalars or flat tuples of them (a list or dict key is unhashable in Python
 * too), and values are turned to text only by {@link #show}, which stops at a depth and a length.
 */
final class Unpickler {
  /**
   * A torch.save pickle pushes about 20 objects per tensor, so a million allows 50,000 tensors (a
   * LLaMA-7B shard has a few hundred). Each object costs 50 to 250 bytes of heap: 4M (the limit
   * before bench/fuzz.sh measured a 1.8 MB pickle of nested dicts taking 100 MB) let an 18 MB pickle
   * fill about a gigabyte.
   */
  static final long MAX_OBJECTS = 1 << 20;

  record Global(String module, String name) {
    String qualified() {
      return module + "." + name;
    }
  }

  record Tup(List<Object> items) {}

  /** A storage named by a persistent id: {@code ('storage', torch.FloatStorage, key, location, numel)}. */
  record StorageRef(String type, String key, long numel) {}

  /** {@code _rebuild_tensor_v2(storage, storage_offset, size, stride, ...)}. */
  record TensorRef(StorageRef storage, long offset, long[] size, long[] stride) {}

  static final Set<String> STORAGES =
      Set.of(
          "FloatStorage", "HalfStorage", "BFloat16Storage", "DoubleStorage", "LongStorage", "IntStorage",
          "ShortStorage", "CharStorage", "ByteStorage", "BoolStorage");
  static final Set<String> CALLABLES =
      Set.of(
          "collections.OrderedDict",
          "torch._utils._rebuild_tensor_v2",
          "torch._utils._rebuild_parameter",
          "torch._utils._rebuild_parameter_with_state");

  private static final Object MARK = new Object() {
    @Override
    public String toString() {
      return "MARK";
    }
  };

  private final byte[] b;
  private final String f;
  private int pos;
  private final List<Object> stack = new ArrayList<>();
  private final List<Integer> marks = new ArrayList<>();
  private final Map<Long, Object> memo = new HashMap<>();
  private long objects;

  Unpickler(byte[] bytes, String file) {
    this.b = bytes;
    this.f = file;
  }

  private FormatException error(int at, String msg) {
    return new FormatException(f, "data.pkl at byte " + at, msg);
  }

  private void need(int n, int at) {
    if (n < 0 || n > b.length - pos) {
      throw error(at, "truncated pickle: needs " + n + " more bytes");
    }
  }

  private int u8(int at) {
    need(1, at);
    return b[pos++] & 0xFF;
  }

  private long le(int n, int at) {
    need(n, at);
    long v = 0;
    for (int i = n - 1; i >= 0; i--) {
      v = (v << 8) | (b[pos + i] & 0xFF);
    }
    pos += n;
    return v;
  }

  private String utf8(long n, int at) {
    if (n < 0 || n > b.length - pos) {
      throw error(at, "truncated pickle: string of " + n + " bytes");
    }
    byte[] s = Arrays.copyOfRange(b, pos, pos + (int) n);
    pos += (int) n;
    return Cursor.decodeUtf8(s, f, "data.pkl string at byte " + at);
  }

  private String line(int at) {
    int start = pos;
    while (pos < b.length && b[pos] != '\n') {
      pos++;
    }
    if (pos >= b.length) {
      throw error(at, "truncated pickle: GLOBAL name without newline");
    }
    String s = Cursor.decodeUtf8(Arrays.copyOfRange(b, start, pos), f, "data.pkl GLOBAL at byte " + at);
    pos++;
    return s;
  }

  private void push(Object o, int at) {
    if (++objects > MAX_OBJECTS) {
      throw error(at, "pickle creates more than " + MAX_OBJECTS + " objects");
    }
    stack.add(o);
  }

  private Object pop(int at) {
    int floor = marks.isEmpty() ? 0 : marks.getLast();
    if (stack.size() <= floor) {
      throw error(at, "pickle stack underflow");
    }
    return stack.removeLast();
  }

  private Object peek(int at) {
    int floor = marks.isEmpty() ? 0 : marks.getLast();
    if (stack.size() <= floor) {
      throw error(at, "pickle stack underflow");
    }
    return stack.getLast();
  }

  private List<Object> popMark(int at) {
    if (marks.isEmpty()) {
      throw error(at, "pickle opcode needs a MARK, none is open");
    }
    int m = marks.removeLast();
    List<Object> items = new ArrayList<>(stack.subList(m, stack.size()));
    stack.subList(m, stack.size()).clear();
    return items;
  }

  @SuppressWarnings("unchecked")
  private Map<Object, Object> dict(Object o, int at) {
    if (o instanceof Map<?, ?> m) {
      return (Map<Object, Object>) m;
    }
    throw error(at, "SETITEM(S) on a " + describe(o) + ", not a dict");
  }

  @SuppressWarnings("unchecked")
  private List<Object> list(Object o, int at) {
    if (o instanceof ArrayList<?> l) {
      return (List<Object>) l;
    }
    throw error(at, "APPEND(S) on a " + describe(o) + ", not a list");
  }

  /** Text of a value longer than this is cut, with "...". */
  static final int SHOW_CHARS = 200;
  /** Containers nested deeper than this print as "...". */
  static final int SHOW_DEPTH = 8;

  /**
   * A value as one short line, as Python would print it (lists in [], tuples in (), dicts in {}),
   * at most {@link #SHOW_CHARS} characters and {@link #SHOW_DEPTH} levels deep: a list that holds
   * itself, or a nest 200,000 deep, prints its first levels and "..." instead of recursing without end.
   */
  static String show(Object o) {
    StringBuilder sb = new StringBuilder();
    show(o, sb, 0);
    return sb.length() > SHOW_CHARS ? sb.substring(0, SHOW_CHARS) + "..." : sb.toString();
  }

  private static void show(Object o, StringBuilder sb, int depth) {
    if (sb.length() > SHOW_CHARS) {
      return;
    }
    boolean container = o instanceof List<?> || o instanceof Tup || o instanceof Map<?, ?>;
    if (container && depth >= SHOW_DEPTH) {
      sb.append("...");
    } else if (o instanceof List<?> || o instanceof Tup) {
      List<?> items = o instanceof Tup t ? t.items() : (List<?>) o;
      sb.append(o instanceof Tup ? '(' : '[');
      for (int i = 0; i < items.size() && sb.length() <= SHOW_CHARS; i++) {
        sb.append(i == 0 ? "" : ", ");
        show(items.get(i), sb, depth + 1);
      }
      sb.append(o instanceof Tup && items.size() == 1 ? ",)" : o instanceof Tup ? ")" : "]");
    } else if (o instanceof Map<?, ?> m) {
      sb.append('{');
      String sep = "";
      for (Map.Entry<?, ?> e : m.entrySet()) {
        if (sb.length() > SHOW_CHARS) {
          break;
        }
        sb.append(sep);
        show(e.getKey(), sb, depth + 1);
        sb.append(": ");
        show(e.getValue(), sb, depth + 1);
        sep = ", ";
      }
      sb.append('}');
    } else if (o instanceof String str) {
      sb.append('\'').append(str, 0, Math.min(str.length(), SHOW_CHARS)).append('\'');
    } else if (o == null || o instanceof Number || o instanceof Boolean) {
      sb.append(o == null ? "None" : o);
    } else {
      sb.append(describe(o));
    }
  }

  /** A dict key: a scalar, or a tuple of scalars; anything else is refused before it is hashed. */
  private Object key(Object k, int at) {
    boolean ok = scalar(k) || (k instanceof Tup t && t.items().stream().allMatch(Unpickler::scalar));
    if (!ok) {
      throw error(at, "dict key is a " + describe(k) + " (" + show(k) + "); only str, int, float, bool, None or a tuple of them are read"
          + " (a list or dict key is unhashable in Python too)");
    }
    return k;
  }

  private static boolean scalar(Object o) {
    return o == null || o instanceof String || o instanceof Long || o instanceof Double || o instanceof Boolean;
  }

  static String describe(Object o) {
    return o == null ? "None" : o instanceof Global g ? "global " + g.qualified() : o.getClass().getSimpleName();
  }

  private void memoPut(long idx, int at) {
    if (memo.size() >= MAX_OBJECTS) {
      throw error(at, "pickle memo has more than " + MAX_OBJECTS + " entries");
    }
    memo.put(idx, peek(at));
  }

  /** Runs the pickle to its STOP and returns the object it built. */
  Object load() {
    while (true) {
      int at = pos;
      int op = u8(at);
      switch (op) {
        case 0x80 -> { // PROTO
          int v = u8(at);
          if (v > 5) {
            throw error(at, "pickle protocol " + v + " is not supported");
          }
        }
        case 0x95 -> le(8, at); // FRAME: length of the next frame, nothing to do in memory
        case '.' -> { // STOP
          if (stack.size() != 1 || !marks.isEmpty()) {
            throw error(at, "STOP with " + stack.size() + " objects on the stack and " + marks.size() + " open MARKs");
          }
          return stack.getFirst();
        }
        case '}' -> push(new LinkedHashMap<>(), at); // EMPTY_DICT
        case ']' -> push(new ArrayList<>(), at); // EMPTY_LIST
        case ')' -> push(new Tup(List.of()), at); // EMPTY_TUPLE
        case '(' -> { // MARK
          if (marks.size() > 10_000) {
            throw error(at, "more than 10000 nested MARKs");
          }
          marks.add(stack.size());
        }
        case 'N' -> push(null, at);
        case 0x88 -> push(Boolean.TRUE, at);
        case 0x89 -> push(Boolean.FALSE, at);
        case 'J' -> push((long) (int) le(4, at), at); // BININT
        case 'K' -> push((long) u8(at), at); // BININT1
        case 'M' -> push(le(2, at), at); // BININT2
        case 0x8a -> { // LONG1
          int n = u8(at);
          if (n > 8) {
            throw error(at, "LONG1 of " + n + " bytes does not fit 64 bits");
          }
          long v = n == 0 ? 0 : le(n, at);
          if (n > 0 && n < 8) {
            v = (v << (64 - 8 * n)) >> (64 - 8 * n); // sign-extend
          }
          push(v, at);
        }
        case 'G' -> { // BINFLOAT, big-endian
          need(8, at);
          push(ByteBuffer.wrap(b, pos, 8).order(ByteOrder.BIG_ENDIAN).getDouble(), at);
          pos += 8;
        }
        case 'X' -> push(utf8(le(4, at), at), at); // BINUNICODE
        case 0x8c -> push(utf8(u8(at), at), at); // SHORT_BINUNICODE
        case 0x8d -> push(utf8(le(8, at), at), at); // BINUNICODE8
        case 't' -> push(new Tup(popMark(at)), at); // TUPLE
        case 0x85 -> push(new Tup(java.util.Collections.singletonList(pop(at))), at); // TUPLE1
        case 0x86 -> { // TUPLE2
          Object y = pop(at);
          Object x = pop(at);
          push(new Tup(Arrays.asList(x, y)), at);
        }
        case 0x87 -> { // TUPLE3
          Object z = pop(at);
          Object y = pop(at);
          Object x = pop(at);
          push(new Tup(Arrays.asList(x, y, z)), at);
        }
        case 'l' -> push(new ArrayList<>(popMark(at)), at); // LIST
        case 'd' -> { // DICT
          List<Object> kv = popMark(at);
          Map<Object, Object> m = new LinkedHashMap<>();
          setItems(m, kv, at);
          push(m, at);
        }
        case 'q' -> memoPut(u8(at), at); // BINPUT
        case 'r' -> memoPut(le(4, at), at); // LONG_BINPUT
        case 0x94 -> memoPut(memo.size(), at); // MEMOIZE
        case 'h', 'j' -> { // BINGET, LONG_BINGET
          long idx = op == 'h' ? u8(at) : le(4, at);
          if (!memo.containsKey(idx)) {
            throw error(at, "BINGET of memo entry " + idx + " that was never put");
          }
          push(memo.get(idx), at);
        }
        case 'c' -> { // GLOBAL
          String module = line(at);
          String name = line(at);
          push(global(module, name, at), at);
        }
        case 0x93 -> { // STACK_GLOBAL
          Object name = pop(at);
          Object module = pop(at);
          if (!(module instanceof String m) || !(name instanceof String n)) {
            throw error(at, "STACK_GLOBAL needs two strings");
          }
          push(global(m, n, at), at);
        }
        case 's' -> { // SETITEM
          Object v = pop(at);
          Object k = key(pop(at), at);
          dict(peek(at), at).put(k, v);
        }
        case 'u' -> { // SETITEMS
          List<Object> kv = popMark(at);
          setItems(dict(peek(at), at), kv, at);
        }
        case 'a' -> { // APPEND
          Object v = pop(at);
          list(peek(at), at).add(v);
        }
        case 'e' -> { // APPENDS
          List<Object> items = popMark(at);
          list(peek(at), at).addAll(items);
        }
        case 'Q' -> push(persistentLoad(pop(at), at), at); // BINPERSID
        case 'R' -> { // REDUCE
          Object args = pop(at);
          Object fn = pop(at);
          push(reduce(fn, args, at), at);
        }
        case 'b' -> { // BUILD: state on an OrderedDict (e.g. _metadata) or a tensor: attributes we do not need
          Object state = pop(at);
          Object obj = peek(at);
          if (!(obj instanceof Map) && !(obj instanceof TensorRef)) {
            throw error(at, "BUILD on a " + describe(obj) + " is not supported");
          }
          if (state != null && !(state instanceof Map) && !(state instanceof Tup)) {
            throw error(at, "BUILD with a " + describe(state) + " state is not supported");
          }
        }
        default -> throw error(at, String.format("pickle opcode 0x%02x ('%s') is not supported by this restricted unpickler", op, (char) op));
      }
    }
  }

  private void setItems(Map<Object, Object> m, List<Object> kv, int at) {
    if (kv.size() % 2 != 0) {
      throw error(at, "SETITEMS with an odd number of items");
    }
    for (int i = 0; i < kv.size(); i += 2) {
      m.put(key(kv.get(i), at), kv.get(i + 1));
    }
  }

  private Global global(String module, String name, int at) {
    String q = module + "." + name;
    boolean storage = module.equals("torch") && STORAGES.contains(name);
    if (!storage && !CALLABLES.contains(q)) {
      throw new FormatException(
          f, "data.pkl at byte " + at, "refusing to load foreign global " + q + " (only tensors, storages and OrderedDict are allowed)");
    }
    return new Global(module, name);
  }

  private Object persistentLoad(Object pid, int at) {
    if (!(pid instanceof Tup t) || t.items().size() != 5 || !"storage".equals(t.items().get(0))) {
      throw error(at, "persistent id " + show(pid) + " is not ('storage', type, key, location, numel)");
    }
    List<Object> it = t.items();
    if (!(it.get(1) instanceof Global g) || !STORAGES.contains(g.name())) {
      throw error(at, "persistent id names " + describe(it.get(1)) + ", not a torch storage class");
    }
    if (!(it.get(2) instanceof String key) || !(it.get(4) instanceof Long numel) || numel < 0) {
      throw error(at, "persistent id " + show(pid) + " needs a string key and a non-negative element count");
    }
    return new StorageRef(g.name(), key, numel);
  }

  private Object reduce(Object fn, Object args, int at) {
    if (!(fn instanceof Global g)) {
      throw error(at, "REDUCE of a " + describe(fn) + ", not a global");
    }
    if (!(args instanceof Tup t)) {
      throw error(at, "REDUCE of " + g.qualified() + " with " + describe(args) + " arguments, not a tuple");
    }
    List<Object> a = t.items();
    switch (g.qualified()) {
      case "collections.OrderedDict" -> {
        if (!a.isEmpty()) {
          throw error(at, "OrderedDict called with arguments");
        }
        return new LinkedHashMap<>();
      }
      case "torch._utils._rebuild_tensor_v2" -> {
        if (a.size() < 4 || !(a.get(0) instanceof StorageRef s) || !(a.get(1) instanceof Long off)) {
          throw error(at, "_rebuild_tensor_v2 needs (storage, storage_offset, size, stride, ...), got " + a.size() + " arguments");
        }
        return new TensorRef(s, off, longs(a.get(2), "size", at), longs(a.get(3), "stride", at));
      }
      case "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state" -> {
        if (a.isEmpty() || !(a.get(0) instanceof TensorRef tr)) {
          throw error(at, g.name() + " needs a tensor as first argument");
        }
        return tr;
      }
      default -> throw error(at, "refusing to call " + g.qualified());
    }
  }

  private long[] longs(Object o, String what, int at) {
    if (!(o instanceof Tup t) || t.items().size() > 16) {
      throw error(at, "tensor " + what + " must be a tuple of at most 16 ints, is " + describe(o));
    }
    long[] out = new long[t.items().size()];
    for (int i = 0; i < out.length; i++) {
      if (!(t.items().get(i) instanceof Long l)) {
        throw error(at, "tensor " + what + " entry " + i + " is a " + describe(t.items().get(i)) + ", not an int");
      }
      out[i] = l;
    }
    return out;
  }
}
