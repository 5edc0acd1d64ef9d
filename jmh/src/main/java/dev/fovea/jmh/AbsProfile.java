package dev.fovea.jmh;

import dev.fovea.methods.abs.Abs;
import dev.fovea.methods.abs.Draws;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import java.util.Random;

/**
 * Where one ABS image's time goes (the stages of {@link Abs.Timings}), next to one plain CLIP forward
 * at batch 1 for scale, on AbsBench's setup:
 * {@code java -cp "jmh/target/fovea-jmh-0.1.0-SNAPSHOT.jar:jmh/target/lib/*" --add-modules jdk.incubator.vector dev.fovea.jmh.AbsProfile [crops] [runs]}.
 */
public final class AbsProfile {
  private AbsProfile() {}

  public static void main(String[] args) throws Exception {
    AbsBench b = new AbsBench();
    b.crops = args.length > 0 ? Integer.parseInt(args[0]) : 50;
    b.classes = 1000;
    b.threads = 2;
    b.setup();
    int runs = args.length > 1 ? Integer.parseInt(args[1]) : 2;
    for (int i = 0; i < runs; i++) {
      long t0 = System.nanoTime();
      Abs.Result r = b.absForProfile().run(b.imageForProfile(), b.bankForProfile(), Draws.seeded(1));
      System.out.printf("run %d: total %.0f ms  %s%n", i, (System.nanoTime() - t0) / 1e6, r.timings());
      try (Scope s = Scope.open()) {
        Tensor px = Tensor.randn(new Random(1), 1, 3, 224, 224);
        long t1 = System.nanoTime();
        b.clipForProfile().encodeImage(px);
        System.out.printf("  one CLIP B/16 forward, batch 1: %.0f ms%n", (System.nanoTime() - t1) / 1e6);
      }
    }
  }
}
