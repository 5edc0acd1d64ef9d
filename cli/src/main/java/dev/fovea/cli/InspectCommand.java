package dev.fovea.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fovea.convert.Inputs;
import dev.fovea.convert.ModelInput;
import dev.fovea.tensor.DType;
import dev.fovea.tensor.Shapes;
import dev.fovea.tensor.WeightSource;
import dev.fovea.tensor.WeightSource.TensorInfo;
import dev.fovea.tensor.archive.ArchiveReader;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
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
    description = "Print a weights file's tensors (name, dtype, shape, bytes), embedded files and metadata.")
final class InspectCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "<file>", description = "fovea archive (other formats once their readers are built in), or a model folder")
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
      Map<DType, Integer> counts = new EnumMap<>(DType.class);
      long total = 0;
      for (String n : ws.names()) {
        TensorInfo ti = ws.info(n);
        long bytes = ti.dtype().byteSize(Shapes.numel(ti.shape()));
        total += bytes;
        counts.merge(ti.dtype(), 1, Integer::sum);
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("name", n);
        row.put("dtype", ti.dtype().name());
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
        m.put("tensor_count", rows.size());
        m.put("tensor_bytes", total);
        Map<String, Integer> c = new LinkedHashMap<>();
        counts.forEach((k, v) -> c.put(k.name(), v));
        m.put("dtype_counts", c);
        m.put("files", files);
        m.put("metadata_count", ws.metadata().size());
        if (tensors) {
          m.put("tensors", rows);
        }
        if (metadata) {
          m.put("metadata", ws.metadata());
        }
        out.println(new ObjectMapper().writeValueAsString(m));
      } else {
        out.printf("%s: %s%s%n", ws.origin(), in.format().name(), ws instanceof ArchiveReader ar ? " v" + ar.formatVersion() : "");
        out.printf("tensors:  %d, %s (%s)%n", rows.size(), human(total), counts.entrySet().stream().map(e -> e.getKey() + " " + e.getValue()).collect(Collectors.joining(", ")));
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
            String s = String.valueOf(v);
            out.printf("%s = %s%n", k, s.length() > 200 ? s.substring(0, 200) + "... (" + s.length() + " chars)" : s);
          });
        }
      }
    }
    out.flush();
    return 0;
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
