package dev.fovea.gpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.fovea.tensor.TensorException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

/** Dimension merging and the byte layout of kernels.cu's struct Strided. */
class CudaLayoutTest {
  @Test
  void contiguousTensorsBecomeOneDimension() {
    CudaLayout l = CudaLayout.merge(new int[] {2, 3, 4}, new long[][] {{12, 4, 1}, {12, 4, 1}}, new long[] {0, 5});
    assertArrayEquals(new long[] {24}, l.shape());
    assertArrayEquals(new long[] {1}, l.strides()[0]);
    assertArrayEquals(new long[] {0, 5}, l.offsets());
  }

  @Test
  void aTransposedInputKeepsTwoDimensions() {
    // out [3, 4] contiguous, x = a [4, 3] transposed: strides (1, 3)
    CudaLayout l = CudaLayout.merge(new int[] {3, 4}, new long[][] {{4, 1}, {1, 3}}, new long[] {0, 0});
    assertArrayEquals(new long[] {3, 4}, l.shape());
    assertArrayEquals(new long[] {1, 3}, l.strides()[1]);
  }

  @Test
  void broadcastOperandsKeepStrideZeroAndSizeOneDimensionsVanish() {
    // out [4, 5, 33]; a [4, 1, 33] expanded (stride 0 over 5); b [5, 33] expanded (stride 0 over 4)
    CudaLayout l = CudaLayout.merge(new int[] {4, 5, 33}, new long[][] {{165, 33, 1}, {33, 0, 1}, {0, 33, 1}}, new long[] {0, 0, 0});
    assertArrayEquals(new long[] {4, 5, 33}, l.shape());
    assertArrayEquals(new long[] {33, 0, 1}, l.strides()[1]);
    CudaLayout ones = CudaLayout.merge(new int[] {1, 7, 1}, new long[][] {{7, 1, 1}, {99, 2, 5}}, new long[] {0, 0});
    assertArrayEquals(new long[] {7}, ones.shape());
    assertArrayEquals(new long[] {2}, ones.strides()[1]);
    CudaLayout scalar = CudaLayout.merge(new int[] {1, 1}, new long[][] {{1, 1}}, new long[] {3});
    assertEquals(0, scalar.rank());
    assertEquals(1, scalar.numel());
  }

  @Test
  void moreThanSixUnmergeableDimensionsAreAClearError() {
    int[] shape = {2, 2, 2, 2, 2, 2, 2};
    long[] gappy = {256, 64, 16, 4, 1, 1024, 4096}; // no two neighbours step as one
    long[] out = {64, 32, 16, 8, 4, 2, 1};
    TensorException e = assertThrows(TensorException.class, () -> CudaLayout.merge(shape, new long[][] {out, gappy}, new long[] {0, 0}));
    assertEquals(true, e.getMessage().contains("at most 6"), e.getMessage());
  }

  @Test
  void packWritesTheCStructLayout() {
    CudaLayout l = CudaLayout.merge(new int[] {3, 4}, new long[][] {{4, 1}, {1, 3}, {0, 1}}, new long[] {7, 8, 9});
    ByteBuffer b = ByteBuffer.wrap(l.pack()).order(ByteOrder.LITTLE_ENDIAN);
    assertEquals(224, l.pack().length); // 4 + 4 + 6*8 + 3*6*8 + 3*8
    assertEquals(2, b.getInt(0));
    assertEquals(3, b.getLong(8));
    assertEquals(4, b.getLong(16));
    assertEquals(1, b.getLong(8 + 5 * 8)); // unused dims: size 1
    int strides = 8 + 6 * 8;
    assertEquals(4, b.getLong(strides));                 // stride[0][0]
    assertEquals(1, b.getLong(strides + 8));             // stride[0][1]
    assertEquals(1, b.getLong(strides + 6 * 8));         // stride[1][0]
    assertEquals(3, b.getLong(strides + 6 * 8 + 8));     // stride[1][1]
    assertEquals(0, b.getLong(strides + 12 * 8));        // stride[2][0]
    int offsets = strides + 18 * 8;
    assertEquals(7, b.getLong(offsets));
    assertEquals(9, b.getLong(offsets + 16));
  }
}
