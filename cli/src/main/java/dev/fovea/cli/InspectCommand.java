package dev.fovea.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fovea.convert.Inputs;
import dev.fovea.convert.ModelInput;
import dev.fovea.tensor.Shapes;
import dev.fovea.tensor.WeightSource;
import dev.fovea.tensor.WeightSource.TensorInfo;
import dev.fovea.tensor.archive.ArchiveReader;
import dev.fovea.tensor.io.GgmlType;
import dev.fovea.tensor.io.GgufArray;
import dev.fovea.tensor.io.GgufSource;
import dev.fovea.tensor.io.ShardedSource;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code fovea inspect}: what a weights file holds (any format {@code Inputs} can open). */
@Command(name = "inspect", mixinStandardHelpOptions = true,
    description = "Print a weights file's tensors (name, stored dtype or ggml type, shape, bytes), embedded or side files and metadata (GGUF arrays summarized by type, length and first elements).")
final class InspectCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "<file>", description = "safetensors file or shard index, GGUF, PyTorch .bin, fovea archive, or a model folder")
  Path file;

  @Option(names = "--tensors", description = "list every tensor")
  boolean tensors;

  @Option(names = "--metadata", description = "list every metadata key and value")
  boolean metadata;

  @Option(names = "--json", description = "print as JSON (tensors and metadata only when asked for)")
  boolean json;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    try (ModelInput in = Inputs.open(file)) {
      WeightSource ws = in.weights();
      List<Map<String, Object>> rows = new ArrayList<>();
      Map<String, Integer> counts = new LinkedHashMap<>();
      GgufSource gguf = ws instanceof GgufSource g ? g : null;
      long total = 0;
      for (String n : ws.names()) {
        TensorInfo ti = ws.info(n);
        // GGUF: the stored ggml type and bytes (K-quants are read as F32, but stored as they are).
        GgmlType gt = gguf == null ? null : gguf.ggmlType(n);
        long bytes = gt != null ? gguf.rawBytes(n).byteSize() : ti.dtype().byteSize(Shapes.numel(ti.shape()));
        String type = gt != null ? gt.name() : ti.dtype().name();
        total += bytes;
        counts.merge(type, 1, Integer::sum);
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("name", n);
        row.put("dtype", type);
        if (gt != null && gt.name().equals(ti.dtype().name()) == false) {
          row.put("read_as", ti.dtype().name());
        }
        row.put("shape", ti.shape());
        row.put("bytes", bytes);
        if (ws instanceof ArchiveReader ar) {
          row.put("offset", ar.entry(n).offset());
          row.put("source_dtype", ar.entry(n).sourceDtype());
        }
        rows.add(row);
      }
      Map<String, Long> files = new LinkedHashMap<>();
      if (ws instanceof ArchiveReader ar) {
        ar.fileNames().forEach(f -> files.put(f, ar.fileSize(f)));
      } else {
        in.files().forEach((k, v) -> files.put(k, (long) v.length));
      }
      if (json) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("path", ws.origin());
        m.put("format", in.format().name());
        if (ws instanceof ArchiveReader ar) {
          m.put("format_version", ar.formatVersion());
        }
        if (gguf != null) {
          m.put("gguf_version", gguf.version());
          m.put("alignment", gguf.alignment());
        }
        if (ws instanceof ShardedSource sh) {
          m.put("shards", sh.shards().stream().map(WeightSource::origin).toList());
        }
        m.put("tensor_count", rows.size());
        m.put("tensor_bytes", total);
        m.put("dtype_counts", counts);
        m.put("files", files);
        if (gguf != null) {
          m.put("converted_on_use", gguf.convertedTensors().size());
        }
        m.put("metadata_count", ws.metadata().size());
        if (tensors) {
          m.put("tensors", rows);
        }
        if (metadata) {
          Map<String, Object> md = new LinkedHashMap<>();
          ws.metadata().forEach((k, v) -> md.put(k, jsonValue(v)));
          m.put("metadata", md);
        }
        out.println(new ObjectMapper().writeValueAsString(m));
      } else {
        String version = ws instanceof ArchiveReader ar ? " v" + ar.formatVersion() : gguf != null ? " v" + gguf.version() : "";
        out.printf("%s: %s%s%n", ws.origin(), in.format().name(), version);
        if (ws instanceof ShardedSource sh) {
          out.printf("shards:   %d (%s)%n", sh.shards().size(), sh.shards().stream().map(x -> Path.of(x.origin()).getFileName().toString()).collect(Collectors.joining(", ")));
        }
        out.printf("tensors:  %d, %s (%s)%n", rows.size(), human(total), counts.entrySet().stream().map(e -> e.getKey() + " " + e.getValue()).collect(Collectors.joining(", ")));
        if (gguf != null && !gguf.convertedTensors().isEmpty()) {
          Map<GgmlType, Integer> byType = new LinkedHashMap<>();
          gguf.convertedTensors().values().forEach(t -> byType.merge(t, 1, Integer::sum));
          out.printf("read as:  %s (converted once, on first use: our kernels do not read these types)%n",
              byType.entrySet().stream().map(e -> e.getKey() + " " + e.getValue() + " -> " + e.getKey().exposedAs()).collect(Collectors.joining(", ")));
        }
        out.printf("files:    %s%n", files.isEmpty() ? "(none)" : files.entrySet().stream().map(e -> e.getKey() + " (" + human(e.getValue()) + ")").collect(Collectors.joining(", ")));
        out.printf("metadata: %d keys%n", ws.metadata().size());
        if (tensors) {
          out.println();
          for (Map<String, Object> r : rows) {
            out.printf("%-64s %-5s %-20s %12s%n", r.get("name"), r.get("dtype"), Arrays.toString((int[]) r.get("shape")), human((Long) r.get("bytes")));
          }
        }
        if (metadata) {
          out.println();
          ws.metadata().forEach((k, v) -> {
            String s = textValue(v);
            out.printf("%s = %s%n", k, s.length() > 200 ? s.substring(0, 200) + "... (" + s.length() + " chars)" : s);
          });
        }
      }
    }
    out.flush();
    return 0;
  }

  /** Elements of a GGUF array shown by {@code --metadata}. */
  static final int ARRAY_HEAD = 8;

  /** A metadata value for JSON: GGUF arrays summarized as {type, element_type, length, first}. */
  static Object jsonValue(Object v) {
    if (v instanceof GgufArray a) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("type", "array");
      m.put("element_type", a.elementType().name());
      m.put("length", a.size());
      m.put("first", a.values().stream().limit(ARRAY_HEAD).map(InspectCommand::jsonValue).toList());
      return m;
    }
    return v;
  }

  /** A metadata value as text: GGUF arrays as {@code [STRING x 32000: "<unk>", "<s>", ...]}. */
  static String textValue(Object v) {
    if (v instanceof GgufArray a) {
      String head = a.values().stream().limit(ARRAY_HEAD).map(InspectCommand::textElement).collect(Collectors.joining(", "));
      return "[" + a.elementType() + " x " + a.size() + (a.size() == 0 ? "" : ": " + head + (a.size() > ARRAY_HEAD ? ", ..." : "")) + "]";
    }
    return String.valueOf(v);
  }

  private static String textElement(Object o) {
    return o instanceof String str ? "\"" + str.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n") + "\"" : textValue(o);
  }

  static String human(long bytes) {
    if (bytes < 1024) {
      return bytes + " B";
    }
    String[] units = {"KiB", "MiB", "GiB", "TiB"};
    double v = bytes;
    int u = -1;
    while (v >= 1024 && u < units.length - 1) {
      v /= 1024;
      u++;
    }
    return String.format("%.1f %s", v, units[u]);
  }
}
