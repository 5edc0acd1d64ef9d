package dev.fovea.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Which kernel source is tried first: shipped PTX, then NVRTC. */
class KernelSourceTest {
  @Test
  void autoPrefersShippedPtxAndFallsBackToNvrtc() {
    assertEquals(List.of(KernelSource.Kind.PTX, KernelSource.Kind.NVRTC), KernelSource.order("auto", true));
    assertEquals(List.of(KernelSource.Kind.NVRTC), KernelSource.order("auto", false));
    assertEquals(List.of(KernelSource.Kind.NVRTC), KernelSource.order("nvrtc", true));
    assertEquals(List.of(KernelSource.Kind.PTX), KernelSource.order("ptx", true));
  }

  @Test
  void forcingPtxThatWasNotBuiltSaysWhy() {
    CudaUnavailableException e = assertThrows(CudaUnavailableException.class, () -> KernelSource.order("ptx", false));
    assertTrue(e.getMessage().contains("without nvcc"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> KernelSource.order("cubin", true));
  }

  @Test
  void theSourceShipsAndNvrtcTargetsTheDevicesArchitecture() {
    assertTrue(KernelSource.read(KernelSource.SOURCE).contains("extern \"C\" __global__ void fv_attention"));
    assertEquals("--gpu-architecture=compute_90", KernelSource.nvrtcOptions(9, 0).get(0));
  }
}
