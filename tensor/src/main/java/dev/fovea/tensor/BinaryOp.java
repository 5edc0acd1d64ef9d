package dev.fovea.tensor;

/** Elementwise functions of two broadcast inputs. */
public enum BinaryOp {
  ADD,
  SUB,
  MUL,
  DIV,
  MAX,
  MIN,
  POW,
  /** 1 where a == b else 0. */
  EQ,
  /** 1 where a &gt; b else 0. */
  GT
}
