package dev.fovea.methods.eval;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fovea.tensor.ErrorList;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.CharConversionException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
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
 * An append-only JSONL file of per-question results, so that an evaluation killed at any point resumes
 * where it stopped. One JSON object per line:
 *
 * <pre>{@code
 * {"fovea_vqa_results":1,"method":"rel-att","model":"llava-1.5-7b","settings":{"layer":"14"},"created":"..."}
 * {"question_id":"34602","prediction":"nokia","accuracy":1.0,"split":"small","seconds":2.1,"box":[...]}
 * {"question_id":"34603",...}
 * }</pre>
 *
 * <p><b>The header</b> (first line) names the run: the method, the model and free-form settings (the
 * prompt, the layer, the dataset...), and the format version. {@link #open} refuses a file whose header
 * names a different method, model or settings ({@code created} is not compared): results of two
 * configurations must never be mixed in one file, so resuming {@code --method grad-att} into a
 * {@code rel-att} file is an error that says what differs.
 *
 * <p><b>Records</b> carry {@code question_id}, the raw {@code prediction}, its {@code accuracy} in [0,
 * 1] and its size {@code split}; any other fields (a chosen box, timings) are kept as {@link
 * Entry#extra()}.
 *
 * <p><b>Durability.</b> {@link #append} writes one whole line with one write and then forces it to disk
 * ({@code FileChannel.force}), so a finished item survives a kill or a power cut, and an interrupted
 * write can only leave a partial <em>last</em> line. On {@link #open}, a last line that is not valid
 * JSON is dropped and the file truncated back to the end of the last complete line; a last line that is
 * complete JSON but lost its newline is kept and the newline added. Invalid JSON anywhere before the
 * last line cannot come from an interrupted run and is an error naming the line. If a question id
 * occurs twice (two runs appending to copies of a file, say), the first record counts and the later
 * ones are ignored ({@link #duplicates()} counts them). Blank lines are ignored.
 *
 * <p>While open, the file is locked ({@code FileChannel.tryLock}), so two processes cannot append to the
 * same journal.
 */
public final class ResultsJournal implements AutoCloseable {
  /** The format version written in the header. */
  public static final int VERSION = 1;

  /** The header key that marks a results journal; its value is the format version. */
  public static final String MAGIC = "fovea_vqa_results";

  /** The longest line read or written, in bytes (16 MiB). */
  public static final int MAX_LINE_BYTES = 16 << 20;

  private static final Set<String> RESERVED = Set.of(MAGIC, "question_id", "prediction", "accuracy", "split");

  /**
   * What a journal's results belong to. Two runs are the same when all three parts are equal.
   *
   * @param method the method name ({@code baseline}, {@code rel-att}...)
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

  /**
   * One question's result.
   *
   * @param extra further fields of the record (never one of {@code question_id}, {@code prediction},
   *     {@code accuracy}, {@code split}); a copy is kept
   */
  public record Entry(String questionId, String prediction, double accuracy, SizeSplit split, ObjectNode extra) {
    public Entry {
      Objects.requireNonNull(questionId, "questionId");
      Objects.requireNonNull(prediction, "prediction");
      Objects.requireNonNull(split, "split");
      if (!(accuracy >= 0 && accuracy <= 1)) {
        throw new IllegalArgumentException("question " + questionId + ": accuracy " + accuracy + " is not in [0, 1]");
      }
      extra = extra == null ? VqaDataset.JSON.createObjectNode() : extra.deepCopy();
      for (Map.Entry<String, JsonNode> field : extra.properties()) {
        String name = field.getKey();
        if (RESERVED.contains(name)) {
          throw new IllegalArgumentException("question " + questionId + ": extra field \"" + name + "\" is reserved");
        }
      }
    }

    /** A copy of the extra fields. */
    @Override
    public ObjectNode extra() {
      return extra.deepCopy();
    }

    ObjectNode toJson() {
      ObjectNode o = VqaDataset.JSON.createObjectNode();
      o.put("question_id", questionId);
      o.put("prediction", prediction);
      o.put("accuracy", accuracy);
      o.put("split", split.label());
      o.setAll(extra);
      return o;
    }
  }

  private final Path file;
  private final FileChannel channel;
  private final FileLock lock;
  private final Run run;
  private final Map<String, Entry> entries;
  private final int duplicates;
  private final boolean droppedTail;

  private ResultsJournal(Path file, FileChannel channel, FileLock lock, Run run, Map<String, Entry> entries,
      int duplicates, boolean droppedTail) {
    this.file = file;
    this.channel = channel;
    this.lock = lock;
    this.run = run;
    this.entries = entries;
    this.duplicates = duplicates;
    this.droppedTail = droppedTail;
  }

  /**
   * Opens {@code file} for {@code run}: creates it (and its folder) with a header when it is absent or
   * empty, otherwise reads its records, repairs an interrupted last line (see the class comment) and
   * checks that its header names the same run.
   *
   * @throws ResultsJournalException when the file was written by another run, is not a results journal,
   *     has garbage before its last line, or is locked by another process
   */
  public static ResultsJournal open(Path file, Run run) throws IOException {
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
      Parsed parsed = parse(file, channel);
      Run found = parsed.run;
      if (found != null && !found.equals(run)) {
        throw new ResultsJournalException(file + ": written by a different run (" + differences(found, run)
            + "); use another results file, or delete this one to start over");
      }
      channel.truncate(parsed.validEnd);
      channel.position(parsed.validEnd);
      if (found == null) {
        ObjectNode header = VqaDataset.JSON.createObjectNode();
        header.put(MAGIC, VERSION);
        header.put("method", run.method());
        header.put("model", run.model());
        header.set("settings", VqaDataset.JSON.valueToTree(run.settings()));
        header.put("created", Instant.now().toString());
        writeLine(channel, header, file);
      } else if (parsed.needsNewline) {
        write(channel, new byte[] {'\n'});
        channel.force(true);
      }
      return new ResultsJournal(file, channel, lock, run, parsed.entries, parsed.duplicates, parsed.droppedTail);
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

  /** Whether the question has a record. */
  public synchronized boolean isDone(String questionId) {
    return entries.containsKey(questionId);
  }

  /** The question's record, if it has one. */
  public synchronized Optional<Entry> entry(String questionId) {
    return Optional.ofNullable(entries.get(questionId));
  }

  /** All records, in file order (the first of each question id). */
  public synchronized List<Entry> entries() {
    return List.copyOf(entries.values());
  }

  /** How many records there are. */
  public synchronized int size() {
    return entries.size();
  }

  /** How many records repeated an earlier question id and were ignored. */
  public int duplicates() {
    return duplicates;
  }

  /** Whether {@link #open} dropped a broken last line. */
  public boolean droppedTail() {
    return droppedTail;
  }

  /**
   * Appends one record as one line and forces it to disk before returning.
   *
   * @throws ResultsJournalException when the question already has a record or the line is too long
   */
  public synchronized void append(Entry entry) throws IOException {
    if (!channel.isOpen()) {
      throw new ResultsJournalException(file + ": the results file is closed");
    }
    if (entries.containsKey(entry.questionId())) {
      throw new ResultsJournalException(file + ": question " + entry.questionId() + " already has a result");
    }
    writeLine(channel, entry.toJson(), file);
    entries.put(entry.questionId(), entry);
  }

  /** Releases the lock and closes the file. */
  @Override
  public synchronized void close() throws IOException {
    if (channel.isOpen()) {
      try {
        lock.release();
      } finally {
        channel.close();
      }
    }
  }

  // ---------------------------------------------------------------------------------------------

  private static void writeLine(FileChannel channel, ObjectNode node, Path file) throws IOException {
    byte[] json = VqaDataset.JSON.writeValueAsBytes(node);
    if (json.length + 1 > MAX_LINE_BYTES) {
      throw new ResultsJournalException(file + ": a record of " + json.length + " bytes is longer than the limit of "
          + MAX_LINE_BYTES);
    }
    byte[] line = new byte[json.length + 1];
    System.arraycopy(json, 0, line, 0, json.length);
    line[json.length] = '\n';
    write(channel, line);
    channel.force(true);
  }

  private static void write(FileChannel channel, byte[] bytes) throws IOException {
    ByteBuffer buf = ByteBuffer.wrap(bytes);
    while (buf.hasRemaining()) {
      channel.write(buf);
    }
  }

  /** What {@link #parse} found. */
  private record Parsed(Run run, Map<String, Entry> entries, int duplicates, long validEnd, boolean needsNewline,
      boolean droppedTail) {}

  /** A line that did not parse as JSON, kept until we know whether it is the last one. */
  private record BadLine(long number, String problem) {}

  private static Parsed parse(Path file, FileChannel channel) throws IOException {
    Run run = null;
    Map<String, Entry> entries = new LinkedHashMap<>();
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
        node = VqaDataset.JSON.readTree(line.toByteArray());
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
        run = header(node, at);
      } else {
        Entry e = entry(node, at);
        if (entries.putIfAbsent(e.questionId(), e) != null) {
          duplicates++;
        }
      }
      validEnd = offset;
      needsNewline = !newline;
    }
    return new Parsed(run, entries, duplicates, validEnd, needsNewline, bad != null);
  }

  private static Run header(JsonNode node, String at) {
    JsonNode version = node.get(MAGIC);
    if (version == null) {
      throw new ResultsJournalException(at + ": not a results journal (its first record has no \"" + MAGIC
          + "\" field); use another results file");
    }
    if (!version.isInt() || version.asInt() != VERSION) {
      throw new ResultsJournalException(at + ": results format version " + ErrorList.abbreviate(version.toString(), 40)
          + ", this build reads version " + VERSION);
    }
    String method = headerText(node, "method", at);
    String model = headerText(node, "model", at);
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

  private static String headerText(JsonNode node, String field, String at) {
    JsonNode v = node.get(field);
    if (v == null || !v.isTextual()) {
      throw new ResultsJournalException(at + ", field \"" + field + "\": " + (v == null ? "missing" : "must be a string"));
    }
    return v.asText();
  }

  private static Entry entry(JsonNode node, String at) {
    if (node.has(MAGIC)) {
      throw new ResultsJournalException(at + ": a second header; results files must not be concatenated");
    }
    JsonNode id = node.get("question_id");
    if (id == null || !id.isTextual()) {
      throw new ResultsJournalException(at + ", field \"question_id\": " + (id == null ? "missing" : "must be a string"));
    }
    JsonNode prediction = node.get("prediction");
    if (prediction == null || !prediction.isTextual()) {
      throw new ResultsJournalException(at + ", field \"prediction\": " + (prediction == null ? "missing" : "must be a string"));
    }
    JsonNode accuracy = node.get("accuracy");
    if (accuracy == null || !accuracy.isNumber() || !(accuracy.asDouble() >= 0 && accuracy.asDouble() <= 1)) {
      throw new ResultsJournalException(at + ", field \"accuracy\": " + (accuracy == null ? "missing" : "must be a number in [0, 1]"));
    }
    JsonNode split = node.get("split");
    SizeSplit s;
    try {
      s = SizeSplit.parse(split == null || !split.isTextual() ? String.valueOf(split) : split.asText());
    } catch (IllegalArgumentException e) {
      throw new ResultsJournalException(at + ", field \"split\": " + (split == null ? "missing" : ErrorList.abbreviate(e.getMessage(), 200)));
    }
    ObjectNode extra = ((ObjectNode) node).deepCopy();
    extra.remove(RESERVED);
    return new Entry(id.asText(), prediction.asText(), accuracy.asDouble(), s, extra);
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
