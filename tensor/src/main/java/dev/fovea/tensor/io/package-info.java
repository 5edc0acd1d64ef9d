/**
 * Weight-file readers. Every reader yields one {@link dev.fovea.tensor.WeightSource}: names in file
 * order, {@code info} from the header alone, {@code get} as a view over the memory-mapped file
 * (read-only, never copied), metadata, and {@code close} to unmap. {@link
 * dev.fovea.tensor.io.WeightFiles#open} picks the reader by name or content.
 *
 * <ul>
 *   <li>{@link dev.fovea.tensor.io.SafetensorsSource}: one file; {@link
 *       dev.fovea.tensor.io.ShardedSource} over {@code model.safetensors.index.json}.
 *   <li>{@link dev.fovea.tensor.io.GgufSource}: GGUF v2/v3; {@link
 *       dev.fovea.tensor.io.GgufLlamaNames#asHuggingFace} for the HF view of a llama GGUF (names
 *       and q/k rope order); {@link dev.fovea.tensor.io.GgufClipNames#asHuggingFace} for the HF
 *       LLaVA view of a llama.cpp CLIP/projector ("mmproj") GGUF; {@link
 *       dev.fovea.tensor.io.GgufWriter} writes GGUF.
 *   <li>{@link dev.fovea.tensor.io.TorchBinSource}: torch.save zip checkpoints through a restricted
 *       unpickler that refuses foreign globals.
 * </ul>
 *
 * <p>Dtypes our kernels lack are converted once, on first {@code get}, into copies owned by the
 * source (freed by {@code release(name)} or {@code close}, each in an arena of its own): integer types narrower than 32 bits (BOOL, U8, I8, I16, U16) to
 * I32, U32 to I64, F64 to F32, and GGUF's Q4_1/Q5_0/Q5_1/Q4_K/Q5_K/Q6_K to F32 (bit-exact with
 * ggml's dequantization). {@code info} reports the dtype {@code get} returns.
 *
 * <p>Every malformed or hostile input fails with a {@link dev.fovea.tensor.io.FormatException}
 * naming the file and the tensor or field (an archive's {@code ArchiveException} is one too); lengths and counts are checked against the file size
 * before anything is allocated.
 */
package dev.fovea.tensor.io;
