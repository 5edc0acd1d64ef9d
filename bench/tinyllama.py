"""TinyLlama-1.1B's shapes (LlamaBench.config) and what one decode step reads and one prefill
computes, for bench/decode.sh, bench/decode-pairs.sh and bench/torch_llama.py."""

C, F, V, H, HKV = 2048, 5632, 32000, 32, 4  # hidden, intermediate, vocabulary, heads, KV heads
D = C // H  # head dim

# bytes a weight element takes in each dtype of the GGUF files (Q8_0 / Q4_0: 34 / 18 bytes a block of 32)
ELEMENT_BYTES = {"f32": 4.0, "f16": 2.0, "bf16": 2.0, "q8_0": 34 / 32, "q4_0": 18 / 32}


def matrix_elements_per_layer():
    """q, k, v, o projections and gate, up, down."""
    return C * H * D + 2 * C * HKV * D + H * D * C + 3 * C * F


def weight_bytes_per_token(layers, dtype):
    """Bytes of every weight a decode step reads: each layer's matrices, the head, the f32 norms
    (the embedding's one row ignored)."""
    elements = layers * matrix_elements_per_layer() + V * C
    return elements * ELEMENT_BYTES[dtype.lower()] + (2 * layers + 1) * C * 4


def prefill_flops(layers, context):
    """Every projection for every token, the head for the last token only, and causal attention
    (q k^T and p v: 2 D multiply-adds per query-key pair and head)."""
    return (2 * context * layers * matrix_elements_per_layer() + 2 * V * C
            + 4 * layers * H * D * context * (context + 1) / 2)
