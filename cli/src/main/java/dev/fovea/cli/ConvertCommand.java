package dev.fovea.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fovea.convert.Converter;
import dev.fovea.convert.Format;
import dev.fovea.convert.Inputs;
import dev.fovea.convert.LlamaGguf;
import dev.fovea.convert.LlavaGguf;
import dev.fovea.convert.ModelInput;
import dev.fovea.convert.OutputCheck;
import dev.fovea.convert.SideFiles;
import dev.fovea.llm.llava.LlavaOriginal;
import dev.fovea.tensor.DType;
import dev.fovea.tensor.Shapes;
import dev.fovea.tensor.WeightSource;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import me.tongfei.progressbar.ProgressBar;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code fovea convert}: any supported checkpoint (file or model folder) into a fovea archive. */
@Command(name = "convert", mixinStandardHelpOptions = true,
    description = {
        "Convert a checkpoint (file or model folder) into a fovea archive (.fovea), with its config, tokenizer and preprocessor files.",
        "2-D matrices whose rows are a multiple of 32 get --dtype; norms, biases, 1-D tensors, small embeddings and (for q8_0/q4_0) other shapes stay F32; integer tensors are kept."})
final class ConvertCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "<input>", description = "checkpoint file or model folder: safetensors (single or sharded), GGUF, PyTorch .bin, or a fovea archive")
  Path input;

  @Option(names = {"-o", "--output"}, required = true, paramLabel = "<out.fovea>", description = "archive to write (written to a temporary file beside it, then renamed into place); never an input, nor a file a loader reads in an input's folder")
  Path output;

  @Option(names = "--force", description = "replace an existing <out.fovea> (a read-only one is still refused)")
  boolean force;

  @Option(names = "--mmproj", paramLabel = "<mmproj.gguf>", description = "with a LLaMA GGUF <input>: llama.cpp's CLIP/projector GGUF of a LLaVA model; both go into one archive under Hugging Face LLaVA names, with a synthesized config.json (llava-hf layout), preprocessor_config.json and tokenizer.gguf.json")
  Path mmproj;

  @Option(names = "--vision-tower", paramLabel = "DIR", description = "with an original haotian-liu LLaVA folder <input>: the CLIP tower its mm_vision_tower names (default: that name as a path, or in the Hugging Face hub cache); the archive gets the llava-hf layout")
  Path visionTower;

  @Option(names = "--dtype", paramLabel = "f32|f16|bf16|q8_0|q4_0", description = "dtype of weight matrices (default: ${DEFAULT-VALUE})")
  String dtype = "f16";

  @Option(names = "--quantize-embeddings", description = "also convert small embeddings (position, class, patch) instead of keeping them F32")
  boolean quantizeEmbeddings;

  @Option(names = "--report-error", description = "print the largest |dequant(q(x)) - x| per converted tensor (absolute and relative to max |x|)")
  boolean reportError;

  @Option(names = "--no-progress", description = "no progress bar on standard error")
  boolean noProgress;

  @Option(names = "--json", description = "print the summary as JSON")
  boolean json;

  /** The input: a GGUF pair, an original LLaVA folder with its tower (as llava-hf), or any single checkpoint. */
  private ModelInput open() throws IOException {
    if (mmproj != null) {
      return LlavaGguf.open(input, mmproj);
    }
    if (LlavaOriginal.isOriginalFolder(input)) {
      LlavaOriginal.Opened o = LlavaOriginal.open(input, visionTower);
      try {
        Map<String, byte[]> files = new LinkedHashMap<>(SideFiles.collect(Files.isDirectory(input) ? input : input.toAbsolutePath().getParent()));
        files.put("config.json", o.configJson());
        if (o.preprocessorJson() != null) {
          files.put("preprocessor_config.json", o.preprocessorJson());
        }
        return new ModelInput(input, new Format("original LLaVA layout + CLIP tower", p -> false, null), o.weights(), files);
      } catch (IOException | RuntimeException e) {
        o.weights().close();
        throw e;
      }
    }
    if (visionTower != null) {
      throw new ParameterException(spec.commandLine(), "--vision-tower goes with an original LLaVA folder (config.json with mm_vision_tower)");
    }
    ModelInput in = Inputs.open(input);
    // A llama GGUF becomes an HF LLaMA checkpoint (config.json and tokenizer from its metadata, q/k
    // rows in HF order), so the archive answers as the GGUF does.
    return LlamaGguf.isLlama(in) ? LlamaGguf.asHuggingFace(in) : in;
  }

  @Override
  public Integer call() throws Exception {
    DType target = Converter.parseDType(dtype);
    Converter.Options options = new Converter.Options(target, quantizeEmbeddings, reportError);
    Converter.Summary s;
    OutputCheck.check(output, Arrays.asList(input, mmproj, visionTower), force);
    try (ModelInput in = open()) {
      long totalBytes = 0;
      for (String n : in.weights().names()) {
        WeightSource.TensorInfo ti = in.weights().info(n);
        totalBytes += ti.dtype().byteSize(Shapes.numel(ti.shape()));
      }
      ProgressBar bar = noProgress ? null : Progress.bar("convert", totalBytes, Progress.Unit.bytes(totalBytes), spec.commandLine().getErr());
      try {
        s = Converter.convert(in, output, options, (done, total, name, bytes, bytesTotal) -> {
          if (bar != null) {
            bar.stepTo(bytes);
            bar.setExtraMessage(done + "/" + total + " " + name);
          }
        });
      } finally {
        if (bar != null) {
          bar.close();
        }
      }
    }
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      out.println(new ObjectMapper().writeValueAsString(toJson(s)));
    } else {
      printText(out, s);
    }
    out.flush();
    return 0;
  }

  private Map<String, Object> toJson(Converter.Summary s) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("input", input.toString());
    m.put("output", s.output().toString());
    m.put("dtype", dtype.toLowerCase());
    m.put("tensors", s.tensors());
    m.put("bytes_in", s.bytesIn());
    m.put("bytes_out", s.bytesOut());
    m.put("file_bytes", s.fileBytes());
    Map<String, Integer> counts = new LinkedHashMap<>();
    s.dtypeCounts().forEach((k, v) -> counts.put(k.name(), v));
    m.put("dtype_counts", counts);
    m.put("files", s.files());
    m.put("seconds", s.seconds());
    if (reportError) {
      List<Map<String, Object>> rows = new ArrayList<>();
      for (Converter.TensorReport r : s.reports()) {
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("name", r.name());
        row.put("from", r.from().name());
        row.put("to", r.to().name());
        row.put("shape", r.shape());
        row.put("rule", r.rule());
        row.put("max_abs_error", r.maxAbsError());
        row.put("max_rel_error", r.maxRelError());
        rows.add(row);
      }
      m.put("errors", rows);
    }
    return m;
  }

  private void printText(PrintWriter out, Converter.Summary s) {
    out.printf("converted %s -> %s%n", input, s.output());
    String counts = s.dtypeCounts().entrySet().stream().map(e -> e.getKey() + " " + e.getValue()).collect(Collectors.joining(", "));
    out.printf("tensors: %d (%s)%n", s.tensors(), counts);
    out.printf("bytes:   %s in, %s out (%.2fx), file %s%n", InspectCommand.human(s.bytesIn()), InspectCommand.human(s.bytesOut()), s.bytesIn() == 0 ? 1.0 : (double) s.bytesOut() / s.bytesIn(), InspectCommand.human(s.fileBytes()));
    out.printf("files:   %s%n", s.files().isEmpty() ? "(none)" : String.join(", ", s.files()));
    out.printf("time:    %.2f s%n", s.seconds());
    if (reportError) {
      out.printf("%-56s %-12s %12s %12s%n", "tensor", "dtype", "max |err|", "relative");
      for (Converter.TensorReport r : s.reports()) {
        if (r.from() != r.to()) {
          out.printf("%-56s %-12s %12.4g %12.4g%n", r.name(), r.from() + ">" + r.to(), r.maxAbsError(), r.maxRelError());
        }
      }
    }
  }
}
