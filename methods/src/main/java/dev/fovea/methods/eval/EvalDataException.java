package dev.fovea.methods.eval;

/**
 * A benchmark data file that cannot be used (VQA, POPE, MME, CHAIR captions and annotations): bad
 * JSON, a missing or mistyped field, an unknown label, an empty answer list, a box that is degenerate
 * or outside its image, a duplicate question id, an image that does not exist, a line over the length
 * limit. The message starts with the file, then where in it (a line, or an entry of a JSON list), then
 * the field at fault, e.g. {@code val.jsonl, line 3, field "answers": must be a list of strings, found
 * a string}.
 */
public final class EvalDataException extends RuntimeException {
  private final String file;
  private final String location;
  private final String field;

  /**
   * @param file the data file
   * @param location where in the file ({@code "line 3"}, {@code "data[17] (line 1, column 5120)"}), or null
   * @param field the field at fault, or null when the problem is not one field's
   * @param problem what is wrong
   */
  public EvalDataException(String file, String location, String field, String problem) {
    this(file, location, field, problem, null);
  }

  public EvalDataException(String file, String location, String field, String problem, Throwable cause) {
    super(file + (location == null ? "" : ", " + location) + (field == null ? "" : ", field \"" + field + "\"")
        + ": " + problem, cause);
    this.file = file;
    this.location = location;
    this.field = field;
  }

  /** The data file at fault. */
  public String file() {
    return file;
  }

  /** Where in the file, or null. */
  public String location() {
    return location;
  }

  /** The field at fault, or null. */
  public String field() {
    return field;
  }
}
