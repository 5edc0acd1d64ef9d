package dev.fovea.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.fovea.convert.Converter;
import dev.fovea.convert.Inputs;
import dev.fovea.convert.ModelInput;
import dev.fovea.tensor.DType;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import dev.fovea.vit.dino.DinoPipeline;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A DINO folder converted to a fovea archive (F32) loads as the folder does and gives the same attention map, bit for bit. */
class DinoArchiveTest {
  @Test
  void archiveGivesTheFolderResults(@TempDir Path dir) throws Exception {
    Path folder = AbsClassifyCommandTest.REF.resolve("tiny-dino");
    Path archive = dir.resolve("dino.fovea");
    try (ModelInput in = Inputs.open(folder)) {
      Converter.convert(in, archive, Converter.Options.of(DType.F32), Converter.Progress.NONE);
    }
    try (DinoPipeline a = DinoPipeline.open(folder); DinoPipeline b = DinoPipeline.open(archive); Scope s = Scope.open()) {
      Tensor px = Tensor.randn(new Random(2), 1, 3, 56, 56);
      assertArrayEquals(a.model().clsAttentionMap(px, 1).toFloatArray(), b.model().clsAttentionMap(px, 1).toFloatArray());
      assertArrayEquals(a.processor().config().imageMean(), b.processor().config().imageMean(), 0);
    }
  }
}
