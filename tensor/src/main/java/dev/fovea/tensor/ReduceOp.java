package dev.fovea.tensor;

/** Reductions over one dimension. */
public enum ReduceOp {
  SUM,
  MAX
}
