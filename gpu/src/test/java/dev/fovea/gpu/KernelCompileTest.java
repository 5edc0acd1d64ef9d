package dev.fovea.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.fovea.tensor.BinaryOp;
import dev.fovea.tensor.DType;
import dev.fovea.tensor.UnaryOp;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * kernels.cu compiles with nvcc (skipped, saying so, where nvcc is absent), its launch structs
 * have the layout the Java side packs (read off the C compiler: offsetof), and the op codes in its
 * switches follow the Java enums' order.
 */
class KernelCompileTest {
  static final List<String> KERNELS = List.of("fv_copy", "fv_unary", "fv_binary", "fv_reduce_last", "fv_softmax", "fv_layer_norm", "fv_rms_norm",
      "fv_embedding", "fv_dequantize_rows", "fv_to_half", "fv_gemv", "fv_attention");

  static Path nvcc() {
    for (String dir : (System.getenv().getOrDefault("PATH", "") + ":/usr/local/cuda/bin").split(":")) {
      Path p = Path.of(dir.isEmpty() ? "." : dir, "nvcc");
      if (Files.isExecutable(p)) {
        return p;
      }
    }
    return null;
  }

  static Path source(Path dir) throws IOException {
    Path src = dir.resolve("kernels.cu");
    Files.writeString(src, KernelSource.read(KernelSource.SOURCE));
    return src;
  }

  static String run(Path dir, String... cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(300, TimeUnit.SECONDS), "timed out: " + String.join(" ", cmd));
    assertEquals(0, p.exitValue(), String.join(" ", cmd) + " failed:\n" + out);
    return out;
  }

  @Test
  void everyKernelCompilesToPtx(@TempDir Path dir) throws Exception {
    Path nvcc = nvcc();
    assumeTrue(nvcc != null, "skipped: nvcc not found on PATH or in /usr/local/cuda/bin (NVRTC compiles kernels.cu at run time instead)");
    Path src = source(dir);
    run(dir, nvcc.toString(), "-ptx", "-arch=compute_75", "-Werror=all-warnings", "-o", "kernels.ptx", src.toString());
    String ptx = Files.readString(dir.resolve("kernels.ptx"));
    for (String k : KERNELS) {
      assertTrue(ptx.contains(".entry " + k + "("), "kernel " + k + " missing from the PTX");
    }
    // and for Hopper itself, to machine code (what the driver JIT makes of the PTX there)
    run(dir, nvcc.toString(), "-cubin", "-arch=sm_90", "-o", "kernels.cubin", src.toString());
  }

  @Test
  void launchStructsHaveTheLayoutTheJavaSidePacks(@TempDir Path dir) throws Exception {
    Path nvcc = nvcc();
    assumeTrue(nvcc != null, "skipped: nvcc not found on PATH or in /usr/local/cuda/bin");
    Path src = source(dir);
    Files.writeString(dir.resolve("layout.cu"), """
        #include <cstdio>
        #include <cstddef>
        #include "kernels.cu"
        int main() {
          printf("%zu %zu %zu %zu %zu %zu\\n", sizeof(Strided), offsetof(Strided, rank), offsetof(Strided, shape),
                 offsetof(Strided, stride), offsetof(Strided, offset), sizeof(AttnStrides));
          return 0;
        }
        """);
    run(dir, nvcc.toString(), "-o", "layout", "layout.cu");
    String[] v = run(dir, dir.resolve("layout").toString()).trim().split(" ");
    assertEquals(String.valueOf(CudaLayout.STRUCT_BYTES), v[0], "sizeof(Strided)");
    assertEquals("0", v[1]);
    assertEquals("8", v[2]);
    assertEquals(String.valueOf(8 + 8 * CudaLayout.MAX_DIMS), v[3]);
    assertEquals(String.valueOf(8 + 8 * CudaLayout.MAX_DIMS + 8 * CudaLayout.TENSORS * CudaLayout.MAX_DIMS), v[4]);
    assertEquals("128", v[5], "sizeof(AttnStrides): 16 longs, as CudaBackend.attention packs");
    assertTrue(src.toFile().exists());
  }

  @Test
  void opCodesFollowTheJavaEnums() {
    String cu = KernelSource.read(KernelSource.SOURCE);
    for (DType t : DType.values()) {
      assertTrue(cu.contains("#define FV_" + t.name() + " " + t.ordinal() + "\n"), "FV_" + t.name() + " must be " + t.ordinal());
    }
    assertEquals(List.of(UnaryOp.values()).stream().map(Enum::name).toList(), caseNames(cu, "unary_f"));
    assertEquals(List.of(BinaryOp.values()).stream().map(Enum::name).toList(), caseNames(cu, "binary_f"));
    assertEquals(CudaBackend.GEMV_MAX_ROWS, define(cu, "FV_GEMV_MAX_ROWS"));
    assertEquals(CudaBackend.ATTENTION_MAX_D, define(cu, "FV_ATTN_MAX_D"));
    assertEquals(CudaLayout.MAX_DIMS, define(cu, "FV_MAXD"));
  }

  /** The op names commented on each "case N:" of a switch function, checking N runs 0, 1, 2... */
  static List<String> caseNames(String cu, String function) {
    int start = cu.indexOf("float " + function + "(");
    String body = cu.substring(start, cu.indexOf("\n}\n", start));
    Matcher m = Pattern.compile("case (\\d+):.*?// ([A-Z_]+)").matcher(body);
    List<String> names = new ArrayList<>();
    while (m.find()) {
      assertEquals(names.size(), Integer.parseInt(m.group(1)), function + ": case numbers must run 0, 1, 2...");
      names.add(m.group(2));
    }
    return names;
  }

  static int define(String cu, String name) {
    Matcher m = Pattern.compile("#define " + name + " (\\d+)").matcher(cu);
    assertTrue(m.find(), name + " not defined");
    return Integer.parseInt(m.group(1));
  }
}
