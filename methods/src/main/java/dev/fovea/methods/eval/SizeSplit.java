package dev.fovea.methods.eval;

import java.util.Locale;
import java.util.OptionalDouble;

/**
 * ViCrop's TextVQA size split (methods spec 1.9): the relative size {@code S = area(answer box) /
 * area(image)} puts a question in {@link #SMALL} ({@code S < 0.005}), {@link #MEDIUM} ({@code 0.005 <= S
 * < 0.05}) or {@link #LARGE} ({@code S >= 0.05}); a question without an answer box is {@link #UNSPLIT}.
 * The thresholds come from a public review of the paper (UNCONFIRMED against the paper text) and are
 * parameters: {@link Thresholds#VICROP} holds the defaults.
 */
public enum SizeSplit {
  SMALL,
  MEDIUM,
  LARGE,
  UNSPLIT;

  /**
   * The two cut points on S: small below {@code smallBelow}, large from {@code largeFrom} on, medium in
   * between. Both in (0, 1], {@code smallBelow <= largeFrom}.
   */
  public record Thresholds(double smallBelow, double largeFrom) {
    /** 0.005 and 0.05, the paper's values. */
    public static final Thresholds VICROP = new Thresholds(0.005, 0.05);

    public Thresholds {
      if (!(smallBelow > 0 && smallBelow <= largeFrom && largeFrom <= 1)) {
        throw new IllegalArgumentException("size-split thresholds must satisfy 0 < small (" + smallBelow
            + ") <= large (" + largeFrom + ") <= 1");
      }
    }

    /** The split of a relative size S in [0, 1]. */
    public SizeSplit classify(double relativeSize) {
      if (!(relativeSize >= 0 && relativeSize <= 1)) {
        throw new IllegalArgumentException("relative size " + relativeSize + " is not in [0, 1]");
      }
      return relativeSize < smallBelow ? SMALL : relativeSize < largeFrom ? MEDIUM : LARGE;
    }

    /** The split of an item: {@link #UNSPLIT} without a box, else by {@link SizeSplit#relativeSize}. */
    public SizeSplit classify(VqaItem item) {
      OptionalDouble s = relativeSize(item);
      return s.isPresent() ? classify(s.getAsDouble()) : UNSPLIT;
    }
  }

  /**
   * {@code S = area(bbox) / area(image)} for an item with a box (an item with a box always carries its
   * image size, see {@link VqaItem}); empty without a box.
   */
  public static OptionalDouble relativeSize(VqaItem item) {
    if (item.bbox().isEmpty()) {
      return OptionalDouble.empty();
    }
    ImageSize size = item.imageSize().orElseThrow();
    return OptionalDouble.of(item.bbox().get().area() / size.area());
  }

  /** The split of an item with the default thresholds. */
  public static SizeSplit of(VqaItem item) {
    return Thresholds.VICROP.classify(item);
  }

  /** The lowercase name written in results files and tables: small, medium, large, unsplit. */
  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The split named by {@link #label()} (any case). */
  public static SizeSplit parse(String label) {
    for (SizeSplit s : values()) {
      if (s.label().equalsIgnoreCase(label)) {
        return s;
      }
    }
    throw new IllegalArgumentException("unknown size split '" + label + "': expected small, medium, large or unsplit");
  }
}
