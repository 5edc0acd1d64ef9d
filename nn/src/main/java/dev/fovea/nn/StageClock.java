package dev.fovea.nn;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Wall time of the stages of a pipeline whose stages are modules run one after the other
 * (InstructBLIP: {@code vision_model}, {@code qformer}, {@code language_projection}), read by
 * forward hooks: each hook notes when its module's forward ends. A stage's time runs from the end
 * of the stage before it (the first: from {@link #start}) to the end of its own forward, so the
 * glue between two modules counts to the later stage. Only the first forward of each module after
 * {@link #start} counts. Closing removes the hooks.
 *
 * <pre>{@code
 * try (StageClock clock = StageClock.attach(model, "vision_model", "qformer", "language_projection")) {
 *   clock.start();
 *   model.prepare(ids, qformerIds, pixels);
 *   clock.millis();   // {vision_model=..., qformer=..., language_projection=...}
 * }
 * }</pre>
 */
public final class StageClock implements AutoCloseable {
  private final List<String> paths;
  private final long[] ends;
  private final List<HookHandle> handles = new ArrayList<>();
  private long start;

  private StageClock(Module root, List<String> paths) {
    this.paths = List.copyOf(paths);
    this.ends = new long[paths.size()];
    try {
      for (int i = 0; i < paths.size(); i++) {
        int stage = i;
        handles.add(root.addForwardHook(paths.get(i), (path, module, inputs, output) -> {
          if (ends[stage] == 0) {
            ends[stage] = System.nanoTime();
          }
          return null;
        }));
      }
    } catch (RuntimeException e) {
      close();
      throw e;
    }
    start();
  }

  /** Hooks the modules at {@code paths} (relative to {@code root}, in the order they run); throws naming a path that is no module. */
  public static StageClock attach(Module root, String... paths) {
    if (paths.length == 0) {
      throw new IllegalArgumentException("StageClock: no stages");
    }
    return new StageClock(root, List.of(paths));
  }

  /** Starts a new measurement: now is the start of the first stage, and no stage has ended. */
  public void start() {
    java.util.Arrays.fill(ends, 0);
    start = System.nanoTime();
  }

  /**
   * Milliseconds of each stage, by path in the order attached (rounded to 0.1 ms); a stage whose
   * module has not run since {@link #start} is left out, and the next one is timed from the last
   * stage that ran.
   */
  public Map<String, Double> millis() {
    Map<String, Double> out = new LinkedHashMap<>();
    long from = start;
    for (int i = 0; i < ends.length; i++) {
      if (ends[i] != 0) {
        out.put(paths.get(i), Math.round((ends[i] - from) / 1e5) / 10.0);
        from = ends[i];
      }
    }
    return out;
  }

  @Override
  public void close() {
    for (HookHandle h : handles) {
      h.close();
    }
  }
}
