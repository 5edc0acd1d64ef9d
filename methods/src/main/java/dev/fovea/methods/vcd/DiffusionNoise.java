package dev.fovea.methods.vcd;

import dev.fovea.methods.contrastive.ContrastiveException;
import dev.fovea.tensor.Ops;
import dev.fovea.tensor.Tensor;
import java.util.SplittableRandom;

/**
 * VCD's distorted image (spec 3.1, {@code vcd_utils/vcd_add_noise.py}): the forward diffusion of
 * the preprocessed pixel tensor, {@code x' = sqrt(abar_T) x + sqrt(1 - abar_T) eps} with eps a
 * standard normal draw of x's shape, under the 1000-step schedule {@code beta_k = sigmoid(linspace(-6,
 * 6, 1000)[k]) (5e-3 - 1e-5) + 1e-5}, {@code abar_T = prod_{k <= T} (1 - beta_k)} (T a 0-based
 * index). The schedule is computed in float64 (the reference computes it in float32; the two agree
 * to about 1e-4 relative at T = 500) and each coefficient is then rounded to float32.
 */
public final class DiffusionNoise {
  /** Steps of the schedule. */
  public static final int STEPS = 1000;

  private DiffusionNoise() {}

  /** {@code abar_k} for every step, float64. */
  public static double[] alphaBar() {
    double[] abar = new double[STEPS];
    double prod = 1;
    for (int k = 0; k < STEPS; k++) {
      double x = -6 + 12.0 * k / (STEPS - 1);
      double beta = 1 / (1 + Math.exp(-x)) * (5e-3 - 1e-5) + 1e-5;
      prod *= 1 - beta;
      abar[k] = prod;
    }
    return abar;
  }

  /** {@code sqrt(abar_T)} and {@code sqrt(1 - abar_T)}: the weights of the image and of the noise at step T. */
  public static double[] coefficients(int step) {
    checkStep(step);
    double abar = alphaBar()[step];
    return new double[] {Math.sqrt(abar), Math.sqrt(1 - abar)};
  }

  static void checkStep(int step) {
    if (step < 0 || step >= STEPS) {
      throw new ContrastiveException("the noise step must be within [0, " + (STEPS - 1) + "], got " + step);
    }
  }

  /** A standard normal draw of {@code shape} from {@code seed} (the same seed gives the same noise). */
  public static Tensor gaussian(long seed, int... shape) {
    SplittableRandom r = new SplittableRandom(seed);
    long n = 1;
    for (int d : shape) {
      n *= d;
    }
    if (n > Integer.MAX_VALUE) {
      throw new ContrastiveException("noise of shape " + java.util.Arrays.toString(shape) + " is too large");
    }
    float[] v = new float[(int) n];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) r.nextGaussian();
    }
    return Tensor.of(v, shape);
  }

  /** {@code sqrt(abar_T) pixels + sqrt(1 - abar_T) eps}, float32; eps has the shape of pixels. */
  public static Tensor distort(Tensor pixels, Tensor eps, int step) {
    checkStep(step);
    if (!java.util.Arrays.equals(pixels.shape(), eps.shape())) {
      throw new ContrastiveException("the noise " + java.util.Arrays.toString(eps.shape()) + " must have the pixels' shape "
          + java.util.Arrays.toString(pixels.shape()));
    }
    double[] c = coefficients(step);
    return Ops.add(Ops.mulScalar(pixels, (float) c[0]), Ops.mulScalar(eps, (float) c[1]));
  }
}
