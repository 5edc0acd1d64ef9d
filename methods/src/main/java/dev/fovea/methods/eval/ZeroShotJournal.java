package dev.fovea.methods.eval;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The {@link Journal} of zero-shot classification runs ({@code eval zeroshot}): a header, then one
 * {@link ZeroShotRecord} per image, keyed by the image's path relative to the data root. Header,
 * durability, repair and locking are {@link Journal}'s: a run killed at any point resumes at the
 * first image without a record.
 */
public final class ZeroShotJournal extends Journal<ZeroShotRecord> {
  public static final String MAGIC = "fovea_zeroshot_results";

  private static final Codec<ZeroShotRecord> CODEC = new Codec<>() {
    @Override
    public String magic() {
      return MAGIC;
    }

    @Override
    public ZeroShotRecord read(ObjectNode node, String at) {
      return ZeroShotRecord.fromJson(node, at);
    }

    @Override
    public String key(ZeroShotRecord r) {
      return r.image();
    }

    @Override
    public String describe(ZeroShotRecord r) {
      return "image " + r.image();
    }

    @Override
    public ObjectNode write(ZeroShotRecord r) {
      return r.toJson();
    }
  };

  private ZeroShotJournal(Opened<ZeroShotRecord> opened) {
    super(opened);
  }

  public static ZeroShotJournal open(Path file, Run run) throws IOException {
    return new ZeroShotJournal(openFile(file, run, CODEC));
  }

  public Optional<ZeroShotRecord> entry(String image) {
    return byKey(image);
  }
}
