package dev.fovea.gpu;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fovea.tensor.DType;
import dev.fovea.tensor.Ops;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The half-precision GEMM's stated bound in {@link GpuCheck}: what the device computes (the CPU's
 * linear of activations rounded to the weight's type, exact products, F32 sums) differs from the
 * CPU's F32 linear by more than the F32 bound (so the case tests something) and by less than the
 * stated bound (so a correct device passes), and both half-GEMM cases are in the list.
 */
class GpuCheckBoundTest {
  @Test
  void halfGemmBoundHoldsForTheRoundedActivationsAndIsNeeded() {
    for (DType t : new DType[] {DType.BF16, DType.F16}) {
      double bound = GpuCheck.halfGemmBound(t, 40);
      try (Scope s = Scope.open()) {
        Tensor w = GpuCheck.randn(121, 96, 256).to(t);
        Tensor b = GpuCheck.randn(122, 96);
        Tensor x = GpuCheck.randn(120 + 40, 40, 256);
        float[] cpu = Ops.linear(x, w, b).toFloatArray();
        float[] device = Ops.linear(x.to(t).to(DType.F32), w, b).toFloatArray();
        double diff = GpuCheck.relDiff(cpu, device);
        assertTrue(diff > GpuCheck.F32_TOL, t + ": rounding the activations moves the result by " + diff);
        assertTrue(diff <= bound, t + ": " + diff + " within the stated bound " + bound);
        assertTrue(bound < (t == DType.BF16 ? 3e-2 : 4e-3), t + ": the bound " + bound + " is a useful one");
      }
    }
    List<String> names = GpuCheck.cases().stream().map(GpuCheck.Case::name).toList();
    for (String n : List.of("linear BF16 weight, 40 rows (half GEMM)", "linear F16 weight, 40 rows (half GEMM) vs rounded activations")) {
      assertTrue(names.contains(n), n);
    }
  }
}
