package dev.fovea.tensor.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.WeightSource;
import org.junit.jupiter.api.Test;

class TorchBinSourceTest {
  @Test
  void readsEveryDtypeAndViewOfTheTorchSaveFixtureBitExact() {
    try (var src = TorchBinSource.open(Fixtures.path("basic.bin"))) {
      Fixtures.checkAll(src, Fixtures.expected("basic.bin.expected.json").get("tensors"));
      Tensor base = src.get("base");
      Tensor tr = src.get("transposed");
      assertEquals(base.storage().segment().address(), tr.storage().segment().address(), "a view shares its base's mapped storage");
      assertFalse(tr.isContiguous());
      assertArrayEquals(new long[] {1, 6}, tr.strides());
      assertEquals(8, src.get("offset_view").offset());
      assertTrue(base.storage().isReadOnly(), "mapped, not copied");
    }
  }

  @Test
  void readsAModuleStateDictWithItsMetadataAttribute() {
    try (WeightSource src = WeightFiles.open(Fixtures.path("module_state.bin"))) {
      Fixtures.checkAll(src, Fixtures.expected("module_state.bin.expected.json").get("tensors"));
    }
  }

  @Test
  void refusesAForeignGlobal() {
    var e = assertThrows(FormatException.class, () -> TorchBinSource.open(Fixtures.path("foreign_global.bin")));
    assertTrue(e.getMessage().contains("refusing to load foreign global os.system"), e.getMessage());
    assertTrue(e.getMessage().contains("foreign_global.bin"), e.getMessage());
  }
}
