package dev.fovea.jmh.fuzz;

import dev.fovea.tensor.io.HostileJson;
import dev.fovea.tensor.io.Mutations;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * One parser of the fuzz campaign: how an input is made from a seed, which files it lies beside, and
 * what parsing it means (open, then use what was read, as a caller would).
 *
 * @param name the name {@code --parsers} selects it by
 * @param side files every input lies beside, unchanged (shards of an index, the weights a config is
 *     loaded with, images a JSONL names): file name in the input's folder to the file linked there
 * @param gen makes one input from its seed
 * @param parse parses the input in its folder; returning is "read fine", a throw is classified
 */
record Target(String name, Map<String, Path> side, Gen gen, Parse parse) {

  /** Makes one input: its files (name in the input's folder to bytes) and how they were made. */
  interface Gen {
    Input make(Random r);
  }

  /** Parses the input lying in {@code dir}. */
  interface Parse {
    void run(Path dir) throws Exception;
  }

  /** One generated input: its files and a short description of the mutation (for findings). */
  record Input(Map<String, byte[]> files, String how) {
    static Input of(String file, byte[] bytes, String how) {
      return new Input(Map.of(file, bytes), how);
    }
  }

  // ---------------------------------------------------------------- mutators shared by the targets

  /** One of the format-blind damages of {@link Mutations#generic}, splicing from {@code donor}. */
  static Input bytes(Random r, String file, byte[] seed, int headerEnd, byte[] donor) {
    int s = r.nextInt(Mutations.GENERIC);
    return Input.of(file, Mutations.generic(s, r.nextLong(), seed, headerEnd, donor), "generic " + s);
  }

  /** One to three integer fields of {@code seed} set to interesting values. */
  static Input fields(Random r, String file, byte[] seed, List<Mutations.Field> fields) {
    if (fields.isEmpty()) {
      return bytes(r, file, seed, seed.length, seed);
    }
    byte[] b = seed;
    StringBuilder how = new StringBuilder("fields");
    for (int i = 0, n = 1 + r.nextInt(3); i < n; i++) {
      Mutations.Field f = fields.get(r.nextInt(fields.size()));
      b = Mutations.setField(b, f, r);
      how.append(' ').append(f.name().replace(' ', '_')).append('@').append(f.offset());
    }
    return Input.of(file, b, how.toString());
  }

  /** Hostile edits of a JSON document's tree, now and then followed by byte damage of the text. */
  static Input json(Random r, String file, byte[] seed) {
    byte[] b = HostileJson.mutate(seed, r.nextLong());
    if (r.nextInt(5) == 0) {
      int s = r.nextInt(Mutations.GENERIC);
      return Input.of(file, Mutations.generic(s, r.nextLong(), b, b.length, seed), "json + generic " + s);
    }
    return Input.of(file, b, "json");
  }

  /**
   * Line-level damage to a text file (merges.txt, vocab.txt, a JSONL): a line deleted, repeated,
   * swapped with another, replaced by or preceded by a hostile line, or its ending changed.
   */
  static Input lines(Random r, String file, byte[] seed, List<String> hostile) {
    List<String> l = new ArrayList<>(Arrays.asList(new String(seed, StandardCharsets.UTF_8).split("\n", -1)));
    int i = r.nextInt(l.size());
    String how;
    switch (r.nextInt(7)) {
      case 0 -> {
        l.remove(i);
        how = "line deleted";
      }
      case 1 -> {
        int times = r.nextInt(4) == 0 ? 1000 : 1 + r.nextInt(3);
        for (int k = 0; k < times; k++) {
          l.add(i, l.get(i));
        }
        how = "line repeated";
      }
      case 2 -> {
        Collections.swap(l, i, r.nextInt(l.size()));
        how = "lines swapped";
      }
      case 3 -> {
        l.set(i, hostile.get(r.nextInt(hostile.size())));
        how = "line replaced";
      }
      case 4 -> {
        l.add(i, hostile.get(r.nextInt(hostile.size())));
        how = "line inserted";
      }
      case 5 -> {
        l.set(i, l.get(i) + (r.nextBoolean() ? "\r" : "\u2028"));
        how = "line ending";
      }
      default -> {
        Collections.shuffle(l, r);
        how = "lines shuffled";
      }
    }
    return Input.of(file, String.join("\n", l).getBytes(StandardCharsets.UTF_8), how);
  }

  /** JSON tree edits ({@link #json}) three times in four, byte damage ({@link #bytes}) otherwise. */
  static Input jsonOrBytes(Random r, String file, byte[] seed) {
    return r.nextInt(4) == 0 ? bytes(r, file, seed, seed.length, seed) : json(r, file, seed);
  }
}
