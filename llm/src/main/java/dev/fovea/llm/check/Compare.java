package dev.fovea.llm.check;

import java.util.Arrays;
import java.util.List;

/**
 * What the device checks ({@link ModelsDeviceCheck}, {@code llava.LlavaDeviceCheck}) share: the
 * relative difference they bound, their one-line reports, and their command-line options.
 */
public final class Compare {
  private Compare() {}

  /** max |a - b| / max |b|; a NaN on one side only, or sizes that differ, count as an infinite difference. */
  public static double rel(float[] a, float[] b) {
    if (a.length != b.length) {
      return Double.POSITIVE_INFINITY;
    }
    double d = 0;
    double m = 0;
    for (int i = 0; i < a.length; i++) {
      if (Float.isNaN(a[i]) != Float.isNaN(b[i])) {
        return Double.POSITIVE_INFINITY;
      }
      d = Math.max(d, Math.abs((double) a[i] - b[i]));
      m = Math.max(m, Math.abs(b[i]));
    }
    return m == 0 ? d : d / m;
  }

  /** Prints "ok" or "FAIL" with {@code what} and the difference against its bound; true when within it. */
  public static boolean report(String what, double diff, double tol) {
    boolean ok = diff <= tol;
    System.out.printf("%s  %-48s max rel diff %.3e (bound %.0e)%n", ok ? "ok  " : "FAIL", what, diff, tol);
    return ok;
  }

  /** Prints "ok" or "FAIL" with both token lists; true when they are equal. */
  public static boolean same(String what, int[] want, int[] got) {
    boolean ok = Arrays.equals(want, got);
    System.out.printf("%s  %-48s cpu %s, device %s%n", ok ? "ok  " : "FAIL", what, Arrays.toString(want), Arrays.toString(got));
    return ok;
  }

  /** The parts one after another. */
  public static float[] concat(List<float[]> parts) {
    float[] all = new float[parts.stream().mapToInt(a -> a.length).sum()];
    int at = 0;
    for (float[] a : parts) {
      System.arraycopy(a, 0, all, at, a.length);
      at += a.length;
    }
    return all;
  }

  /** The value after {@code name} in {@code args}, or {@code fallback}. */
  public static String option(String[] args, String name, String fallback) {
    for (int i = 0; i + 1 < args.length; i++) {
      if (args[i].equals(name)) {
        return args[i + 1];
      }
    }
    return fallback;
  }
}
