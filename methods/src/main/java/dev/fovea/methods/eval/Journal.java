package dev.fovea.methods.eval;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.fovea.tensor.ErrorList;
import java.io.CharConversionException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * An append-only JSONL file of per-item results, so that an evaluation killed at any point resumes
 * where it stopped: a header line that names the run, then one JSON object per finished item. The
 * record layout is the subclass's ({@link ResultsJournal}: VQA accuracy; {@link EvalJournal}: every
 * other benchmark); what this class does is the same for both:
 *
 * <p><b>The header</b> (first line) holds the subclass's marker key (its value is the format version),
 * the method, the model, free-form settings (the prompt, the layer, the dataset...) and the time it was
 * created. {@code open} refuses a file whose header names a different method, model or settings
 * ({@code created} is not compared): results of two configurations must never be mixed in one file,
 * so resuming {@code --method grad-att} into a {@code rel-att} file is an error that says what differs.
 *
 * <p><b>Durability.</b> {@link #append} writes one whole line with one write and then forces it to disk
 * ({@code FileChannel.force}), so a finished item survives a kill or a power cut, and an interrupted
 * write can only leave a partial <em>last</em> line; a write that fails with an exception is cut back
 * off the file. On open, a last line that is not valid JSON is dropped and the file truncated back to
 * the end of the last complete line; a last line that is complete JSON but lost its newline is kept
 * and the newline added. Invalid JSON anywhere before the last line cannot come from an interrupted
 * run and is an error naming the line. If an item's key occurs twice (two runs appending to copies of
 * a file, say), the first record counts and the later ones are ignored ({@link #duplicates()} counts
 * them). Blank lines are ignored.
 *
 * <p>While open, the file is locked ({@code FileChannel.tryLock}), so two processes cannot append to the
 * same journal. A file this open created (absent, empty or only a broken header before) that got no
 * record is deleted on {@link #close}: an evaluation that fails before its first result leaves no
 * results file behind, and a rerun with other settings is not refused by a file that holds nothing.
 *
 * @param <E> the record type
 */
public abstract sealed class Journal<E> implements AutoCloseable permits ResultsJournal, EvalJournal, ZeroShotJournal {
  /** The format version written in the header. */
  public static final int VERSION = 1;

  /** The longest line read or written, in bytes (16 MiB). */
  public static final int MAX_LINE_BYTES = 16 << 20;

  /**
   * What a journal's results belong to. Two runs are the same when all three parts are equal.
   *
   * @param method the method name ({@code baseline}, {@code rel-att}, {@code vcd}...)
   * @param model the model, as the caller names it (a folder name, a checkpoint id)
   * @param settings anything else that changes the answers (prompt, layer, dataset file, limits of the
   *     method); sorted by key in the file
   */
  public record Run(String method, String model, Map<String, String> settings) {
    public Run {
      Objects.requireNonNull(method, "method");
      Objects.requireNonNull(model, "model");
      settings = Collections.unmodifiableMap(new TreeMap<>(settings));
    }

    public static Run of(String method, String model) {
      return new Run(method, model, Map.of());
    }
  }

  /** How a subclass's records are read, keyed and written. */
  interface Codec<E> {
    /** The header key that marks this kind of journal; its value is the format version. */
    String magic();

    /** The record of a line (not the header); throws a {@link ResultsJournalException} naming {@code at}. */
    E read(ObjectNode node, String at);

    /** The key that identifies the record's item; unique in a journal. */
    String key(E record);

    /** The record's item in words, for messages ({@code question 17}). */
    String describe(E record);

    /** The record as a JSON object (one line). */
    ObjectNode write(E record);
  }

  private final Path file;
  private final FileChannel channel;
  private final FileLock lock;
  private final Run run;
  private final Codec<E> codec;
  private final Map<String, E> entries;
  private final int duplicates;
  private final boolean droppedTail;
  private final boolean created;

  /** The state of a journal opened by {@link #openFile}; {@code created}: the header was written by this open. */
  record Opened<E>(Path file, FileChannel channel, FileLock lock, Run run, Codec<E> codec, Map<String, E> entries, int duplicates,
      boolean droppedTail, boolean created) {}

  Journal(Opened<E> o) {
    this.file = o.file();
    this.channel = o.channel();
    this.lock = o.lock();
    this.run = o.run();
    this.codec = o.codec();
    this.entries = o.entries();
    this.duplicates = o.duplicates();
    this.droppedTail = o.droppedTail();
    this.created = o.created();
  }

  /**
   * Opens {@code file} for {@code run}: creates it (and its folder) with a header when it is absent or
   * empty, otherwise reads its records, repairs an interrupted last line (see the class comment) and
   * checks that its header names the same run.
   */
  static <E> Opened<E> openFile(Path file, Run run, Codec<E> codec) throws IOException {
    Path parent = file.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
    try {
      FileLock lock;
      try {
        lock = channel.tryLock();
      } catch (OverlappingFileLockException e) {
        lock = null;
      }
      if (lock == null) {
        throw new ResultsJournalException(file + ": the results file is in use by another evaluation");
      }
      Parsed<E> parsed = parse(file, channel, codec);
      Run found = parsed.run;
      if (found != null && !found.equals(run)) {
        throw new ResultsJournalException(file + ": written by a different run (" + differences(found, run)
            + "); use another results file, or delete this one to start over");
      }
      channel.truncate(parsed.validEnd);
      channel.position(parsed.validEnd);
      if (found == null) {
        ObjectNode header = JsonlFile.JSON.createObjectNode();
        header.put(codec.magic(), VERSION);
        header.put("method", run.method());
        header.put("model", run.model());
        header.set("settings", JsonlFile.JSON.valueToTree(run.settings()));
        header.put("created", Instant.now().toString());
        writeLine(channel, header, file);
      } else if (parsed.needsNewline) {
        write(channel, new byte[] {'\n'});
        channel.force(true);
      }
      return new Opened<>(file, channel, lock, run, codec, parsed.entries, parsed.duplicates, parsed.droppedTail, found == null);
    } catch (IOException | RuntimeException e) {
      channel.close();
      throw e;
    }
  }

  /** The journal's file. */
  public Path file() {
    return file;
  }

  /** The run this journal belongs to. */
  public Run run() {
    return run;
  }

  /** The record under {@code key}, if there is one. */
  synchronized Optional<E> byKey(String key) {
    return Optional.ofNullable(entries.get(key));
  }

  /** All records, in file order (the first of each key). */
  public synchronized List<E> entries() {
    return List.copyOf(entries.values());
  }

  /** How many records there are. */
  public synchronized int size() {
    return entries.size();
  }

  /** How many records repeated an earlier item and were ignored. */
  public int duplicates() {
    return duplicates;
  }

  /** Whether opening dropped a broken last line. */
  public boolean droppedTail() {
    return droppedTail;
  }

  /**
   * Appends one record as one line and forces it to disk before returning.
   *
   * @throws ResultsJournalException when the item already has a record or the line is too long
   */
  public synchronized void append(E record) throws IOException {
    if (!channel.isOpen()) {
      throw new ResultsJournalException(file + ": the results file is closed");
    }
    String key = codec.key(record);
    if (entries.containsKey(key)) {
      throw new ResultsJournalException(file + ": " + codec.describe(record) + " already has a result");
    }
    writeLine(channel, codec.write(record), file);
    entries.put(key, record);
  }

  /** Releases the lock and closes the file; deletes it when this open created it and no record came. */
  @Override
  public synchronized void close() throws IOException {
    if (channel.isOpen()) {
      boolean nothing = created && entries.isEmpty();
      try {
        lock.release();
      } finally {
        channel.close();
      }
      if (nothing) {
        Files.deleteIfExists(file);
      }
    }
  }

  // ---------------------------------------------------------------------------------------------

  /** Writes one line and forces it out; a write that fails is cut back off, so no partial line stays. */
  private static void writeLine(FileChannel channel, ObjectNode node, Path file) throws IOException {
    byte[] json = JsonlFile.JSON.writeValueAsBytes(node);
    if (json.length + 1 > MAX_LINE_BYTES) {
      throw new ResultsJournalException(file + ": a record of " + json.length + " bytes is longer than the limit of "
          + MAX_LINE_BYTES);
    }
    byte[] line = new byte[json.length + 1];
    System.arraycopy(json, 0, line, 0, json.length);
    line[json.length] = '\n';
    long start = channel.position();
    try {
      write(channel, line);
      channel.force(true);
    } catch (IOException e) {
      try {
        channel.truncate(start);
        channel.position(start);
      } catch (IOException again) {
        e.addSuppressed(again);
      }
      throw e;
    }
  }

  private static void write(FileChannel channel, byte[] bytes) throws IOException {
    ByteBuffer buf = ByteBuffer.wrap(bytes);
    while (buf.hasRemaining()) {
      channel.write(buf);
    }
  }

  /** What {@link #parse} found. */
  private record Parsed<E>(Run run, Map<String, E> entries, int duplicates, long validEnd, boolean needsNewline, boolean droppedTail) {}

  /** A line that did not parse as JSON, kept until we know whether it is the last one. */
  private record BadLine(long number, String problem) {}

  private static <E> Parsed<E> parse(Path file, FileChannel channel, Codec<E> codec) throws IOException {
    Run run = null;
    Map<String, E> entries = new LinkedHashMap<>();
    int duplicates = 0;
    long validEnd = 0;
    boolean needsNewline = false;
    BadLine bad = null;
    channel.position(0);
    InputStream in = new BufferedInputStream(Channels.newInputStream(channel), 1 << 16);
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    long offset = 0; // bytes read so far
    for (long number = 1; ; number++) {
      line.reset();
      int b;
      while ((b = in.read()) != -1 && b != '\n') {
        line.write(b);
        if (line.size() > MAX_LINE_BYTES) {
          throw new ResultsJournalException(file + ", line " + number + ": longer than " + MAX_LINE_BYTES + " bytes");
        }
      }
      if (b == -1 && line.size() == 0) {
        break;
      }
      boolean newline = b == '\n';
      offset += line.size() + (newline ? 1 : 0);
      String text = line.toString(StandardCharsets.UTF_8);
      if (text.isBlank()) {
        continue;
      }
      if (bad != null) { // a bad line with more after it
        throw new ResultsJournalException(file + ", line " + bad.number() + ": " + bad.problem()
            + " (only a broken last line is repaired; this one has more records after it)");
      }
      JsonNode node;
      try {
        node = JsonlFile.JSON.readTree(line.toByteArray());
      } catch (JsonProcessingException e) {
        bad = new BadLine(number, "not valid JSON: " + e.getOriginalMessage());
        continue;
      } catch (CharConversionException e) { // Jackson took the bytes for UTF-16 or UTF-32 and could not decode them
        bad = new BadLine(number, "not valid JSON: " + e.getMessage());
        continue;
      }
      if (node == null || !node.isObject()) {
        bad = new BadLine(number, "not a JSON object");
        continue;
      }
      String at = file + ", line " + number;
      if (run == null) {
        run = header(node, at, codec.magic());
      } else {
        if (node.has(codec.magic())) {
          throw new ResultsJournalException(at + ": a second header; results files must not be concatenated");
        }
        E e = codec.read((ObjectNode) node, at);
        if (entries.putIfAbsent(codec.key(e), e) != null) {
          duplicates++;
        }
      }
      validEnd = offset;
      needsNewline = !newline;
    }
    return new Parsed<>(run, entries, duplicates, validEnd, needsNewline, bad != null);
  }

  private static Run header(JsonNode node, String at, String magic) {
    JsonNode version = node.get(magic);
    if (version == null) {
      throw new ResultsJournalException(at + ": not a results journal of this kind (its first record has no \"" + magic
          + "\" field); use another results file");
    }
    if (!version.isInt() || version.asInt() != VERSION) {
      throw new ResultsJournalException(at + ": results format version " + ErrorList.abbreviate(version.toString(), 40) + ", this build reads version " + VERSION);
    }
    String method = text(node, "method", at);
    String model = text(node, "model", at);
    Map<String, String> settings = new TreeMap<>();
    JsonNode s = node.get("settings");
    if (s != null && !s.isNull()) {
      if (!s.isObject()) {
        throw new ResultsJournalException(at + ", field \"settings\": must be an object of strings");
      }
      for (Map.Entry<String, JsonNode> f : s.properties()) {
        if (!f.getValue().isTextual()) {
          throw new ResultsJournalException(at + ", field \"settings\": \"" + f.getKey() + "\" must be a string");
        }
        settings.put(f.getKey(), f.getValue().asText());
      }
    }
    return new Run(method, model, settings);
  }

  /** A record's string field, or a {@link ResultsJournalException} naming it. */
  static String text(JsonNode node, String field, String at) {
    JsonNode v = node.get(field);
    if (v == null || !v.isTextual()) {
      throw new ResultsJournalException(at + ", field \"" + field + "\": " + (v == null ? "missing" : "must be a string"));
    }
    return v.asText();
  }

  private static String differences(Run there, Run here) {
    List<String> diffs = new ArrayList<>();
    if (!there.method().equals(here.method())) {
      diffs.add("method is \"" + ErrorList.abbreviate(there.method(), 60) + "\" there, \"" + here.method() + "\" here");
    }
    if (!there.model().equals(here.model())) {
      diffs.add("model is \"" + ErrorList.abbreviate(there.model(), 60) + "\" there, \"" + here.model() + "\" here");
    }
    Set<String> keys = new TreeSet<>(there.settings().keySet());
    keys.addAll(here.settings().keySet());
    for (String k : keys) {
      String a = there.settings().get(k);
      String b = here.settings().get(k);
      if (!Objects.equals(a, b)) {
        diffs.add("setting " + ErrorList.abbreviate(k, 60) + " is " + (a == null ? "absent" : "\"" + ErrorList.abbreviate(a, 60) + "\"") + " there, "
            + (b == null ? "absent" : "\"" + b + "\"") + " here");
      }
    }
    return diffs.size() > 5 ? String.join("; ", diffs.subList(0, 5)) + "; and " + (diffs.size() - 5) + " more differences" : String.join("; ", diffs);
  }
}
