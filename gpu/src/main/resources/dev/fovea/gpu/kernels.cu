// fovea's CUDA kernels: every Backend op except matmul (cuBLAS) runs here.
//
// The reference for each kernel is the CPU backend (tensor/.../cpu/CpuBackend.java, RowKernels.java,
// FusedAttention.java): the same formulas, the same handling of masked rows, F32 arithmetic.
// Built to PTX by nvcc at build time (gpu/build-ptx.sh) and compiled by NVRTC at run time when no
// PTX was shipped, so this file includes no header: half and bfloat16 conversions are written out.
//
// Launch contract (CudaLaunch.java): every kernel is extern "C"; pointers arrive already advanced
// to the tensor's offset; element strides are in elements; a Strided struct is passed by value.

typedef long long i64;
typedef unsigned long long u64;
typedef unsigned int u32;
typedef unsigned short u16;
typedef unsigned char u8;

// DType codes: DType.ordinal() on the Java side (CudaKernelsTest checks the two lists agree).
#define FV_F32 0
#define FV_F16 1
#define FV_BF16 2
#define FV_I32 3
#define FV_I64 4
#define FV_Q8_0 5
#define FV_Q4_0 6

// Up to this many dimensions after merging (CudaLayout merges contiguous runs on the host).
#define FV_MAXD 6

// Shape of the iteration space and, for up to three tensors (0 = output), element strides and
// offsets. Layout (checked by CudaKernelsTest against the C compiler's offsetof): int rank, int pad,
// i64 shape[6], i64 stride[3][6], i64 offset[3] = 8 + 48 + 144 + 24 = 224 bytes.
struct Strided {
  int rank;
  int pad;
  i64 shape[FV_MAXD];
  i64 stride[3][FV_MAXD];
  i64 offset[3];
};

// ------------------------------------------------------------------------------------ elements

__device__ __forceinline__ float f16_to_f32(u16 h) {
  float f;
  asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h));
  return f;
}

__device__ __forceinline__ u16 f32_to_f16(float f) {
  u16 h;
  asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(f));
  return h;
}

__device__ __forceinline__ float bf16_to_f32(u16 b) {
  return __int_as_float(((u32)b) << 16);
}

// Round to nearest even, NaN kept quiet (as Elements.writeFloat on the CPU).
__device__ __forceinline__ u16 f32_to_bf16(float f) {
  u32 u = __float_as_uint(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) {
    return (u16)((u >> 16) | 0x40);
  }
  u += 0x7fffu + ((u >> 16) & 1u);
  return (u16)(u >> 16);
}

// Element e of a quantized tensor: block e / 32, position e % 32.
//   Q8_0 block (34 bytes): f16 d, int8 q[32];   x = d * q[j]
//   Q4_0 block (18 bytes): f16 d, u8 qs[16];    x = d * ((qs[j] & 15) - 8), x[j + 16] = d * ((qs[j] >> 4) - 8)
__device__ __forceinline__ float q8_0_at(const u8* base, i64 e) {
  const u8* blk = base + (e >> 5) * 34;
  float d = f16_to_f32((u16)(blk[0] | (blk[1] << 8)));
  return d * (float)((signed char)blk[2 + (e & 31)]);
}

__device__ __forceinline__ float q4_0_at(const u8* base, i64 e) {
  const u8* blk = base + (e >> 5) * 18;
  float d = f16_to_f32((u16)(blk[0] | (blk[1] << 8)));
  int j = (int)(e & 31);
  int q = j < 16 ? (blk[2 + j] & 15) : (blk[2 + j - 16] >> 4);
  return d * (float)(q - 8);
}

__device__ __forceinline__ float load_f(const void* p, int dt, i64 e) {
  switch (dt) {
    case FV_F32: return ((const float*)p)[e];
    case FV_F16: return f16_to_f32(((const u16*)p)[e]);
    case FV_BF16: return bf16_to_f32(((const u16*)p)[e]);
    case FV_I32: return (float)((const int*)p)[e];
    case FV_I64: return (float)((const i64*)p)[e];
    case FV_Q8_0: return q8_0_at((const u8*)p, e);
    case FV_Q4_0: return q4_0_at((const u8*)p, e);
  }
  return __int_as_float(0x7fc00000);
}

__device__ __forceinline__ i64 load_i(const void* p, int dt, i64 e) {
  switch (dt) {
    case FV_I32: return ((const int*)p)[e];
    case FV_I64: return ((const i64*)p)[e];
  }
  return (i64)load_f(p, dt, e);
}

__device__ __forceinline__ void store_f(void* p, int dt, i64 e, float v) {
  switch (dt) {
    case FV_F32: ((float*)p)[e] = v; break;
    case FV_F16: ((u16*)p)[e] = f32_to_f16(v); break;
    case FV_BF16: ((u16*)p)[e] = f32_to_bf16(v); break;
    case FV_I32: ((int*)p)[e] = (int)v; break;
    case FV_I64: ((i64*)p)[e] = (i64)v; break;
  }
}

// Offset of linear index i (row-major over s.shape) in tensor t.
__device__ __forceinline__ i64 offset_of(const Strided& s, int t, i64 i) {
  i64 off = s.offset[t];
  for (int d = s.rank - 1; d >= 0; d--) {
    i64 n = s.shape[d];
    i64 idx = i % n;
    i /= n;
    off += idx * s.stride[t][d];
  }
  return off;
}

#define GRID_STRIDE_LOOP(i, n) \
  for (i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (i64)blockDim.x * gridDim.x)

// ------------------------------------------------------------------------------------ copy

// dst[t=0] = convert(src[t=1]) over a strided space; integer to integer copies keep all 64 bits.
extern "C" __global__ void fv_copy(Strided s, const void* src, int sdt, void* dst, int ddt, i64 n) {
  bool ints = (sdt == FV_I32 || sdt == FV_I64) && (ddt == FV_I32 || ddt == FV_I64);
  GRID_STRIDE_LOOP(i, n) {
    i64 so = offset_of(s, 1, i);
    i64 doff = offset_of(s, 0, i);
    if (ints) {
      if (ddt == FV_I32) ((int*)dst)[doff] = (int)load_i(src, sdt, so);
      else ((i64*)dst)[doff] = load_i(src, sdt, so);
    } else {
      store_f(dst, ddt, doff, load_f(src, sdt, so));
    }
  }
}

// ------------------------------------------------------------------------------------ elementwise

// UnaryOp.ordinal()
__device__ __forceinline__ float unary_f(int op, float x) {
  switch (op) {
    case 0: return -x;                                          // NEG
    case 1: return expf(x);                                     // EXP
    case 2: return logf(x);                                     // LOG
    case 3: return tanhf(x);                                    // TANH
    case 4: return erff(x);                                     // ERF
    case 5: return 0.5f * x * erfcf(-x * 0.70710678118654752f); // GELU = x/2 erfc(-x/sqrt 2)
    case 6: {                                                   // GELU_TANH
      float u = 0.7978845608028654f * (x + 0.044715f * x * x * x);
      return 0.5f * x * (1.0f + tanhf(u));
    }
    case 7: return x / (1.0f + expf(-1.702f * x));              // QUICK_GELU = x sigmoid(1.702 x)
    case 8: return x / (1.0f + expf(-x));                       // SILU
    case 9: return x > 0.0f ? x : (x == x ? 0.0f : x);          // RELU (NaN kept)
    case 10: return 1.0f / (1.0f + expf(-x));                   // SIGMOID
    case 11: return sqrtf(x);                                   // SQRT
    case 12: return 1.0f / sqrtf(x);                            // RSQRT
    case 13: return fabsf(x);                                   // ABS
    case 14: return x * x;                                      // SQUARE
    case 15: return 1.0f / x;                                   // RECIPROCAL
    case 16: return sinf(x);                                    // SIN
    case 17: return cosf(x);                                    // COS
    case 18: return x > 0.0f ? 1.0f : 0.0f;                     // STEP
  }
  return __int_as_float(0x7fc00000);
}

extern "C" __global__ void fv_unary(Strided s, int op, const float* x, float* out, i64 n) {
  GRID_STRIDE_LOOP(i, n) {
    out[offset_of(s, 0, i)] = unary_f(op, x[offset_of(s, 1, i)]);
  }
}

// BinaryOp.ordinal(); MAX/MIN propagate NaN as Java's Math.max/min do.
__device__ __forceinline__ float binary_f(int op, float x, float y) {
  switch (op) {
    case 0: return x + y;                                                         // ADD
    case 1: return x - y;                                                         // SUB
    case 2: return x * y;                                                         // MUL
    case 3: return x / y;                                                         // DIV
    case 4: return (x != x || y != y) ? __int_as_float(0x7fc00000) : fmaxf(x, y); // MAX
    case 5: return (x != x || y != y) ? __int_as_float(0x7fc00000) : fminf(x, y); // MIN
    case 6: return powf(x, y);                                                    // POW
    case 7: return x == y ? 1.0f : 0.0f;                                          // EQ
    case 8: return x > y ? 1.0f : 0.0f;                                           // GT
  }
  return __int_as_float(0x7fc00000);
}

extern "C" __global__ void fv_binary(Strided s, int op, const float* a, const float* b, float* out, i64 n) {
  GRID_STRIDE_LOOP(i, n) {
    out[offset_of(s, 0, i)] = binary_f(op, a[offset_of(s, 1, i)], b[offset_of(s, 2, i)]);
  }
}

// ------------------------------------------------------------------------------------ block reductions

// Reduces v over the block (blockDim.x a multiple of 32, at most 1024); every thread gets the result.
__device__ __forceinline__ float block_sum(float v, float* shared) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, warps = blockDim.x >> 5;
  __syncthreads();
  if (lane == 0) shared[warp] = v;
  __syncthreads();
  v = lane < warps ? shared[lane] : 0.0f;
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

__device__ __forceinline__ float block_max(float v, float* shared) {
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, warps = blockDim.x >> 5;
  __syncthreads();
  if (lane == 0) shared[warp] = v;
  __syncthreads();
  v = lane < warps ? shared[lane] : -__int_as_float(0x7f800000);
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

// out[r * os] = sum or max over x[r * rs + i * cs], i < n; one block per row (grid.y * grid.x rows).
extern "C" __global__ void fv_reduce_last(int op, const float* x, i64 rows, i64 n, i64 rs, i64 cs, float* out, i64 os) {
  __shared__ float shared[32];
  for (i64 r = blockIdx.x; r < rows; r += gridDim.x) {
    const float* row = x + r * rs;
    float acc = op == 0 ? 0.0f : -__int_as_float(0x7f800000);
    bool nan = false;
    for (i64 i = threadIdx.x; i < n; i += blockDim.x) {
      float v = row[i * cs];
      if (op == 0) acc += v;
      else { nan |= v != v; acc = fmaxf(acc, v); }
    }
    float res;
    if (op == 0) {
      res = block_sum(acc, shared);
    } else {
      res = block_max(acc, shared);
      float anyNan = block_sum(nan ? 1.0f : 0.0f, shared);
      if (anyNan > 0.0f) res = __int_as_float(0x7fc00000);
    }
    if (threadIdx.x == 0) out[r * os] = res;
    __syncthreads();
  }
}

// ------------------------------------------------------------------------------------ row kernels

// softmax(x)_i = exp(x_i - max) / sum_j exp(x_j - max); log-softmax = (x_i - max) - log(sum).
// A row of all -inf gives zeros (softmax) or -inf (log-softmax), as RowKernels.softmaxRow.
extern "C" __global__ void fv_softmax(const float* x, float* out, i64 rows, i64 n, int log) {
  __shared__ float shared[32];
  for (i64 r = blockIdx.x; r < rows; r += gridDim.x) {
    const float* xr = x + r * n;
    float* yr = out + r * n;
    float m = -__int_as_float(0x7f800000);
    for (i64 i = threadIdx.x; i < n; i += blockDim.x) m = fmaxf(m, xr[i]);
    m = block_max(m, shared);
    if (m == -__int_as_float(0x7f800000)) {
      for (i64 i = threadIdx.x; i < n; i += blockDim.x) yr[i] = log ? m : 0.0f;
      __syncthreads();
      continue;
    }
    float s = 0.0f;
    for (i64 i = threadIdx.x; i < n; i += blockDim.x) s += expf(xr[i] - m);
    s = block_sum(s, shared);
    if (log) {
      float ls = logf(s);
      for (i64 i = threadIdx.x; i < n; i += blockDim.x) yr[i] = (xr[i] - m) - ls;
    } else {
      float inv = 1.0f / s;
      for (i64 i = threadIdx.x; i < n; i += blockDim.x) yr[i] = expf(xr[i] - m) * inv;
    }
    __syncthreads();
  }
}

// y = (x - mean) * rstd * w + b, biased variance over the row (two passes), rstd = 1/sqrt(var + eps).
// w, b, mean_out and rstd_out may be null.
extern "C" __global__ void fv_layer_norm(const float* x, const float* w, const float* b, float eps, float* out,
                                         float* mean_out, float* rstd_out, i64 rows, i64 n) {
  __shared__ float shared[32];
  for (i64 r = blockIdx.x; r < rows; r += gridDim.x) {
    const float* xr = x + r * n;
    float s = 0.0f;
    for (i64 i = threadIdx.x; i < n; i += blockDim.x) s += xr[i];
    float mean = block_sum(s, shared) / (float)n;
    float ss = 0.0f;
    for (i64 i = threadIdx.x; i < n; i += blockDim.x) {
      float d = xr[i] - mean;
      ss += d * d;
    }
    float var = block_sum(ss, shared) / (float)n;
    float rstd = (float)(1.0 / sqrt((double)var + (double)eps));
    for (i64 i = threadIdx.x; i < n; i += blockDim.x) {
      float y = (xr[i] - mean) * rstd;
      out[r * n + i] = fmaf(y, w ? w[i] : 1.0f, b ? b[i] : 0.0f);
    }
    if (threadIdx.x == 0) {
      if (mean_out) mean_out[r] = mean;
      if (rstd_out) rstd_out[r] = rstd;
    }
    __syncthreads();
  }
}

// y = x * rstd * w, rstd = 1/sqrt(mean(x^2) + eps) (LLaMA's RMSNorm); w and rstd_out may be null.
extern "C" __global__ void fv_rms_norm(const float* x, const float* w, float eps, float* out, float* rstd_out, i64 rows, i64 n) {
  __shared__ float shared[32];
  for (i64 r = blockIdx.x; r < rows; r += gridDim.x) {
    const float* xr = x + r * n;
    float ss = 0.0f;
    for (i64 i = threadIdx.x; i < n; i += blockDim.x) ss += xr[i] * xr[i];
    float ms = block_sum(ss, shared) / (float)n;
    float rstd = (float)(1.0 / sqrt((double)ms + (double)eps));
    for (i64 i = threadIdx.x; i < n; i += blockDim.x) {
      out[r * n + i] = xr[i] * rstd * (w ? w[i] : 1.0f);
    }
    if (threadIdx.x == 0 && rstd_out) rstd_out[r] = rstd;
    __syncthreads();
  }
}

// ------------------------------------------------------------------------------------ embedding

// out[r, c] = weight[ids[r * ids_stride], c] (weight of any dtype, element (v, c) at v * wrs + c * wcs).
// Ids were range-checked on the host.
extern "C" __global__ void fv_embedding(const void* weight, int wdt, i64 wrs, i64 wcs, const void* ids, int idt, i64 ids_stride,
                                        float* out, i64 rows, i64 dim) {
  GRID_STRIDE_LOOP(i, rows * dim) {
    i64 r = i / dim, c = i % dim;
    i64 id = load_i(ids, idt, r * ids_stride);
    out[i] = load_f(weight, wdt, id * wrs + c * wcs);
  }
}

// ------------------------------------------------------------------------------------ weights

// dst[j * k + c] = weight row j, element c, as F32 (row-major [n, k] weight with row stride ld
// elements; for Q8_0/Q4_0, ld and k are multiples of 32). Used before an SGEMM when many rows share the weight.
extern "C" __global__ void fv_dequantize_rows(const void* w, int wdt, i64 n, i64 k, i64 ld, float* dst) {
  GRID_STRIDE_LOOP(i, n * k) {
    i64 j = i / k, c = i % k;
    dst[i] = load_f(w, wdt, j * ld + c);
  }
}

// dst[i] = src[i] rounded to F16 (ddt = 1) or BF16 (ddt = 2): the activations of a half-precision GEMM.
extern "C" __global__ void fv_to_half(const float* src, void* dst, int ddt, i64 n) {
  GRID_STRIDE_LOOP(i, n) {
    store_f(dst, ddt, i, src[i]);
  }
}

// GEMV for few rows: out[r * ldo + j] (+)= sum_c a[r * lda + c] * W[j, c] for r < m (m <= 8),
// W row-major [n, k] of any float dtype with row stride ld. One warp per weight row j, F32
// accumulation; each weight row is read once for all m rows (decode steps are bound by weight reads).
#define FV_GEMV_MAX_ROWS 8
extern "C" __global__ void fv_gemv(const float* a, i64 lda, int m, const void* w, int wdt, i64 ld, i64 n, i64 k,
                                   float* out, i64 ldo, int accumulate) {
  int lane = threadIdx.x & 31;
  i64 warp = ((i64)blockIdx.x * blockDim.x + threadIdx.x) >> 5;
  i64 warps = ((i64)gridDim.x * blockDim.x) >> 5;
  for (i64 j = warp; j < n; j += warps) {
    float acc[FV_GEMV_MAX_ROWS];
#pragma unroll
    for (int r = 0; r < FV_GEMV_MAX_ROWS; r++) acc[r] = 0.0f;
    if (wdt == FV_Q8_0 || wdt == FV_Q4_0) {
      // lane l takes blocks l, l + 32, ...: one scale load per 32 weights
      const u8* row = (const u8*)w + (j * ld >> 5) * (wdt == FV_Q8_0 ? 34 : 18);
      for (i64 blk = lane; blk < (k >> 5); blk += 32) {
        const u8* bp = row + blk * (wdt == FV_Q8_0 ? 34 : 18);
        float d = f16_to_f32((u16)(bp[0] | (bp[1] << 8)));
        for (int q = 0; q < 32; q++) {
          float wv;
          if (wdt == FV_Q8_0) wv = d * (float)((signed char)bp[2 + q]);
          else wv = d * (float)((q < 16 ? (bp[2 + q] & 15) : (bp[2 + q - 16] >> 4)) - 8);
          i64 c = blk * 32 + q;
#pragma unroll
          for (int r = 0; r < FV_GEMV_MAX_ROWS; r++) {
            if (r < m) acc[r] = fmaf(a[r * lda + c], wv, acc[r]);
          }
        }
      }
    } else {
      for (i64 c = lane; c < k; c += 32) {
        float wv = load_f(w, wdt, j * ld + c);
#pragma unroll
        for (int r = 0; r < FV_GEMV_MAX_ROWS; r++) {
          if (r < m) acc[r] = fmaf(a[r * lda + c], wv, acc[r]);
        }
      }
    }
#pragma unroll
    for (int r = 0; r < FV_GEMV_MAX_ROWS; r++) {
      float v = acc[r];
      for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
      if (lane == 0 && r < m) {
        float* o = out + r * ldo + j;
        *o = accumulate ? *o + v : v;
      }
    }
  }
}

// ------------------------------------------------------------------------------------ attention

// Fused attention, one block per (query i, head h, batch b): scores s_j = q.k_j * scale + bias[j],
// keys after i + (Tk - Tq) masked when causal, online softmax over key chunks of blockDim.x, out =
// sum_j p_j v_j. Query head h reads kv head h / (H / Hkv) (grouped-query). A query whose every key
// is masked gets zeros, as FusedAttention on the CPU. D <= 256 (the host checks).
//
// Strides in elements: qs/ks/vs/bs[4] are (batch, head, position, dim) strides of q, k, v and the
// bias (zeros where the bias broadcasts); out is contiguous [B, H, Tq, D].
struct AttnStrides {
  i64 q[4];
  i64 k[4];
  i64 v[4];
  i64 bias[4];
};

#define FV_ATTN_MAX_D 256
extern "C" __global__ void fv_attention(const float* q, const float* k, const float* v, const float* bias, AttnStrides st,
                                        int H, int Hkv, int Tq, int Tk, int D, float scale, int causal, float* out) {
  __shared__ float qs[FV_ATTN_MAX_D];
  __shared__ float acc[FV_ATTN_MAX_D];
  __shared__ float p[1024];
  __shared__ float shared[32];
  int i = blockIdx.x, h = blockIdx.y, b = blockIdx.z;
  int hk = h / (H / Hkv);
  const float* qp = q + b * st.q[0] + h * st.q[1] + (i64)i * st.q[2];
  const float* kp = k + b * st.k[0] + hk * st.k[1];
  const float* vp = v + b * st.v[0] + hk * st.v[1];
  const float* bp = bias ? bias + b * st.bias[0] + h * st.bias[1] + (i64)i * st.bias[2] : 0;
  for (int d = threadIdx.x; d < D; d += blockDim.x) {
    qs[d] = qp[d * st.q[3]];
    acc[d] = 0.0f;
  }
  __syncthreads();
  int last = causal ? i + (Tk - Tq) : Tk - 1; // last visible key
  float m = -__int_as_float(0x7f800000);      // running max
  float l = 0.0f;                             // running sum of exp(s - m)
  for (int j0 = 0; j0 < Tk && j0 <= last; j0 += blockDim.x) {
    int j = j0 + threadIdx.x;
    float s = -__int_as_float(0x7f800000);
    if (j < Tk && j <= last) {
      const float* kj = kp + (i64)j * st.k[2];
      float dot = 0.0f;
      for (int d = 0; d < D; d++) dot = fmaf(qs[d], kj[d * st.k[3]], dot);
      s = dot * scale;
      if (bp) s += bp[(i64)j * st.bias[3]];
    }
    float cm = block_max(s, shared);
    float mNew = fmaxf(m, cm);
    float e = (mNew == -__int_as_float(0x7f800000)) ? 0.0f : expf(s - mNew);
    p[threadIdx.x] = e;
    float cs = block_sum(e, shared);
    float corr = (m == -__int_as_float(0x7f800000)) ? 0.0f : expf(m - mNew);
    l = l * corr + cs;
    int chunk = min((int)blockDim.x, Tk - j0);
    for (int d = threadIdx.x; d < D; d += blockDim.x) {
      float a = acc[d] * corr;
      for (int jj = 0; jj < chunk; jj++) {
        float pj = p[jj];
        if (pj != 0.0f) a = fmaf(pj, vp[(i64)(j0 + jj) * st.v[2] + d * st.v[3]], a);
      }
      acc[d] = a;
    }
    m = mNew;
    __syncthreads();
  }
  float* op = out + (((i64)b * H + h) * Tq + i) * D;
  float inv = l > 0.0f ? 1.0f / l : 0.0f;
  for (int d = threadIdx.x; d < D; d += blockDim.x) op[d] = acc[d] * inv;
}
