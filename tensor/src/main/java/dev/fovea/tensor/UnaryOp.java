package dev.fovea.tensor;

/** Elementwise functions of one input. Formulas follow PyTorch's definitions. */
public enum UnaryOp {
  NEG,
  EXP,
  LOG,
  TANH,
  /** Error function (our approximation, a few float ulps; see CpuMath and CpuMathTest). */
  ERF,
  /** gelu(x) = x/2 (1 + erf(x/sqrt 2)) = x/2 erfc(-x/sqrt 2) (the erfc form keeps x &lt; 0 accurate). */
  GELU,
  /** gelu_tanh(x) = x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). */
  GELU_TANH,
  /** quick_gelu(x) = x sigmoid(1.702 x) (OpenAI CLIP). */
  QUICK_GELU,
  /** silu(x) = x sigmoid(x). */
  SILU,
  RELU,
  SIGMOID,
  SQRT,
  RSQRT,
  ABS,
  SQUARE,
  RECIPROCAL,
  SIN,
  COS,
  /** 1 where x &gt; 0, else 0 (used by backward formulas). */
  STEP
}
