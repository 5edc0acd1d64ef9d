package dev.fovea.tensor.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.WeightSource;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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

  /**
   * The basic fixture with one more entry in its top dict: {@code keyAndValue} are pickle opcodes that
   * push a key and a value, stored by SETITEM before the final STOP.
   */
  static Path withEntry(Path dir, byte[] keyAndValue) throws IOException {
    byte[] zip = Mutations.rezip(Fixtures.path("basic.bin"),
        pkl -> Mutations.concat(Arrays.copyOf(pkl, pkl.length - 1), keyAndValue, new byte[] {'s', '.'}));
    return Files.write(dir.resolve("extra.bin"), zip);
  }

  /** Found by bench/fuzz.sh: each of these was a StackOverflowError (hashing or printing the value). */
  @Test
  void containersThatHoldThemselvesOrNestDeepPrintShortly(@TempDir Path dir) throws IOException {
    // 'c': L0 = [L1] and L1 = [L0], built through the memo as pickle writes shared objects
    byte[] cycle = {(byte) 0x8c, 1, 'c', ']', 'q', 0, ']', 'q', 1, 'h', 0, 'a', 'a'};
    try (var src = TorchBinSource.open(withEntry(dir, cycle))) {
      assertEquals("[[[[[[[[...]]]]]]]]", src.metadata().get("c"), "eight levels, then ...");
    }
    // 'z': a tuple nested 200,000 deep, ((((),),),)
    byte[] deep = new byte[4 + 200_000];
    deep[0] = (byte) 0x8c;
    deep[1] = 1;
    deep[2] = 'z';
    deep[3] = ')';
    Arrays.fill(deep, 4, deep.length, (byte) 0x85);
    try (var src = TorchBinSource.open(withEntry(dir, deep))) {
      String z = (String) src.metadata().get("z");
      assertTrue(z.startsWith("((((((((...,),") && z.length() < 300, z);
    }
  }

  /** 600,000 dicts nested in each other: 1.2 M objects from a 3 MB pickle (about 150 MB of heap) pass the object limit. */
  @Test
  void aPickleOfMoreThanAMillionObjectsIsRefused(@TempDir Path dir) throws IOException {
    int levels = 600_000;
    byte[] nest = new byte[3 + 4 * levels + 2 + levels];
    int p = 0;
    nest[p++] = (byte) 0x8c;
    nest[p++] = 1;
    nest[p++] = 'n';
    for (int i = 0; i < levels; i++) { // dict, key, dict, key, ...
      nest[p++] = '}';
      nest[p++] = (byte) 0x8c;
      nest[p++] = 1;
      nest[p++] = 'a';
    }
    nest[p++] = 'K'; // the innermost value
    nest[p++] = 0;
    Arrays.fill(nest, p, nest.length, (byte) 's'); // each SETITEM stores the top into the dict below
    Path f = withEntry(dir, nest);
    var e = assertThrows(FormatException.class, () -> TorchBinSource.open(f));
    assertTrue(e.getMessage().contains("pickle creates more than 1048576 objects"), e.getMessage());
  }

  @Test
  void aListAsADictKeyIsRefusedBeforeItIsHashed(@TempDir Path dir) throws IOException {
    // key L = [L] (hashing it recursed forever), value 1
    byte[] listKey = {']', 'q', 0, 'h', 0, 'a', 'K', 1};
    Path f = withEntry(dir, listKey);
    var e = assertThrows(FormatException.class, () -> TorchBinSource.open(f));
    assertTrue(e.getMessage().startsWith(f + ": data.pkl at byte "), e.getMessage());
    assertTrue(e.getMessage().contains("dict key is a ArrayList ([[[[[[[[...]]]]]]]])"), e.getMessage());
  }
}
