package dev.fovea.methods.eval;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The {@link Journal} of every benchmark but VQA (POPE, MME, captions for CHAIR), whatever the
 * decoding method: a header, then one {@link EvalRecord} per line, keyed by its split and id (the same
 * id may occur in two splits: each POPE file numbers its questions from 1).
 *
 * <pre>{@code
 * {"fovea_eval_results":1,"method":"none","model":"/models/llava-1.5-7b","settings":{"benchmark":"pope",...},"created":"..."}
 * {"id":"1","split":"coco_pope_random","prompt":"Is there a snowboard in the image?","answer":"Yes","parsed":"yes",...}
 * }</pre>
 *
 * Header, durability, repair and locking are {@link Journal}'s: a run killed at any point resumes at
 * the first item without a record, and a failed write leaves no partial line.
 */
public final class EvalJournal extends Journal<EvalRecord> {
  /** The header key that marks these journals; its value is the format version. */
  public static final String MAGIC = "fovea_eval_results";

  private static final Codec<EvalRecord> CODEC = new Codec<>() {
    @Override
    public String magic() {
      return MAGIC;
    }

    @Override
    public EvalRecord read(ObjectNode node, String at) {
      return EvalRecord.fromJson(node, at);
    }

    @Override
    public String key(EvalRecord r) {
      return EvalJournal.key(r.split(), r.id());
    }

    @Override
    public String describe(EvalRecord r) {
      return "item " + r.id() + " of " + r.split();
    }

    @Override
    public ObjectNode write(EvalRecord r) {
      return r.toJson();
    }
  };

  /** A map key of (split, id); the split's length in front keeps any two pairs apart. */
  private static String key(String split, String id) {
    return split.length() + ":" + split + id;
  }

  private EvalJournal(Opened<EvalRecord> opened) {
    super(opened);
  }

  /**
   * Opens {@code file} for {@code run} (see {@link Journal}: created with a header when absent or
   * empty, else read, repaired and checked against the run).
   *
   * @throws ResultsJournalException when the file was written by another run, is not such a journal,
   *     has garbage before its last line, or is locked by another process
   */
  public static EvalJournal open(Path file, Run run) throws IOException {
    return new EvalJournal(openFile(file, run, CODEC));
  }

  /** The item's record, if it has one. */
  public Optional<EvalRecord> entry(String split, String id) {
    return byKey(key(split, id));
  }
}
