package dev.fovea.cli;

import java.util.Locale;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;

/**
 * Range checks of numeric options. A value outside its range is a usage error (picocli's {@link
 * CommandLine.ParameterException}: one line and a {@code --help} hint, exit 2) that names the
 * option, the allowed range and the value: {@code --tile-size must be within [64, 100000], got 1}.
 * A range that depends on the model ({@code --max-new-tokens} up to its context) says so in a
 * parenthesis after the range.
 */
final class OptionRange {
  /** The largest image side the decoder accepts ({@code ImageDecoder.Limits.DEFAULT}); pixel options stop there. */
  static final int MAX_PIXELS_SIDE = 100_000;

  private OptionRange() {}

  /** {@code value} within [min, max]; {@code max == Integer.MAX_VALUE} reads "at least min". */
  static int check(CommandSpec spec, String option, int value, int min, int max) {
    return check(spec, option, value, min, max, null);
  }

  /** As above, with {@code why} (e.g. "the model's context") after the range. */
  static int check(CommandSpec spec, String option, int value, int min, int max, String why) {
    if (value < min || value > max) {
      throw error(spec, option, max == Integer.MAX_VALUE ? "at least " + min : "within [" + min + ", " + max + "]", why, Integer.toString(value));
    }
    return value;
  }

  /** {@code value} within [min, max] for a long option; {@code max == Long.MAX_VALUE} reads "at least min". */
  static long check(CommandSpec spec, String option, long value, long min, long max) {
    if (value < min || value > max) {
      throw error(spec, option, max == Long.MAX_VALUE ? "at least " + min : "within [" + min + ", " + max + "]", null, Long.toString(value));
    }
    return value;
  }

  /**
   * {@code value} within [min, max], or (min, max] when {@code minExclusive}; NaN and infinities
   * are outside every range.
   */
  static float check(CommandSpec spec, String option, float value, float min, boolean minExclusive, float max) {
    boolean low = minExclusive ? value > min : value >= min;
    if (!(low && value <= max)) {
      throw error(spec, option, "within " + (minExclusive ? "(" : "[") + num(min) + ", " + num(max) + "]", null, num(value));
    }
    return value;
  }

  private static CommandLine.ParameterException error(CommandSpec spec, String option, String range, String why, String value) {
    return new CommandLine.ParameterException(spec.commandLine(), option + " must be " + range + (why == null ? "" : " (" + why + ")") + ", got " + value);
  }

  /** 0.5 as "0.5", 10 as "10", not "10.0". */
  private static String num(float v) {
    return v == Math.rint(v) && !Float.isInfinite(v) ? String.format(Locale.ROOT, "%.0f", v) : Float.toString(v);
  }
}
