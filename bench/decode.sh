#!/usr/bin/env bash
# LLaMA prefill/decode benchmark, all in one run: fovea (JMH LlamaBench on a model loaded from a
# GGUF file through LlamaForCausalLM.load, the entry point of ./fovea ask; ReadBandwidthBench,
# FmaPeakBench) against llama.cpp on the very same GGUF files (bench/llamacpp: the prebuilt CPU
# libraries of node-llama-cpp, pinned by its package-lock.json and installed here with `npm ci`;
# skipped with a message when npm is absent, or with NO_LLAMACPP=1) and PyTorch (bench/torch_llama.py,
# Debian python3-torch, fastest of intra-op threads 1 and 2; F32/BF16; NO_TORCH=1 skips it).
#
#   bench/decode.sh              full run: TinyLlama-1.1B shapes (22 layers), context 600, F32/F16/BF16/Q8_0/Q4_0
#   SKIP_JMH=1 bench/decode.sh  the baselines and the summary again, on the last JMH run's files
#   QUICK=1 bench/decode.sh      quick check: 2 layers, 1 x 1 s warm-up, 2 x 1 s measurement, torch 1 rep
#   LAYERS=4 CONTEXT=300 ...     other shapes; DTYPES=f32,q8_0 a subset; JMH_ARGS='...' extra JMH options
#   FOVEA_WEIGHTS=copy ...       the weights copied into the process (llama.cpp --no-mmap) instead of mapped (see Resident)
#   LLAMA_MMAP=0 ...             llama.cpp reads the weights into its memory (--no-mmap) instead of mapping them
#
# The GGUF files (random weights, the LLaMA-2 vocabulary from ../shared when present) are written
# once into jmh/target/models/ by the first LlamaBench fork that needs them (22 layers: 0.6-4.4 GB
# each, 10.6 GB for the five).
#
# Prints the JMH table and torch's JSON lines on stderr, then one `name: value` line per figure:
#   read_bandwidth_gbps                        SIMD read of a 1 GiB buffer, engine threads, own fork (GB/s, 1e9)
#   f32_fma_peak_gflops                        FmaPeakBench: f32 fmas on registers, engine threads, own fork
#   <who>_<dtype>_prefill_fraction_of_f32_fma_peak  prefill FLOPs per second / that peak (who: fovea, torch);
#                                              above 1 only with wider-than-f32 arithmetic (AVX512-BF16)
#   <dtype>_weight_read_gbps                   read of the model's own weights in the decode fork, before
#                                              each measurement iteration (mean; this VM's memory speed
#                                              differs between processes, so the bound uses this one)
#   <dtype>_weights                            how the decode fork held the GGUF's weights: mapped or copied, and for
#                                              mapped ones HugeFilePages' outcome (HUGE, DROPPED: cache re-read on
#                                              2 MiB pages, KEPT, UNSUPPORTED, SKIPPED) and the MB mapped on 2 MiB pages
#   <dtype>_weight_bytes_per_token             bytes of every weight a decode step reads (embedding row ignored)
#   <dtype>_decode_bound_tokens_per_s          <dtype>_weight_read_gbps / weight bytes per token
#   fovea_<dtype>_prefill_tokens_per_s, fovea_<dtype>_decode_tokens_per_s
#   fovea_<dtype>_decode_fraction_of_bound     decode tokens/s / bound (target >= 0.8 for f32, bf16)
#   fovea_<dtype>_decode_fraction_of_bound_each  the same per measurement iteration, each against the read
#                                              rate measured right before it (shown as fraction@rate): the
#                                              memory speed can change between iterations of one fork
#   <dtype>_weight_read4_gbps, <dtype>_decode_bound4_tokens_per_s, fovea_<dtype>_decode_fraction_of_bound4,
#   fovea_<dtype>_decode_fraction_of_bound4_each, llamacpp_<dtype>_decode_fraction_of_bound4
#                                              the same against the weights read as four streams a thread
#                                              (WeightReads.read4, the four-row GEMVs' pattern; one core
#                                              reads more that way here), measured right after the above
#   fovea_q8_0_decode_vs_bf16                  (target > 1)
#   fovea_f32_prefill_vs_gemm                  time of the projections alone / prefill time (target >= 0.8)
#   torch_<dtype>_prefill_tokens_per_s, torch_<dtype>_decode_tokens_per_s   (best thread count)
#   ratio_<dtype>_prefill, ratio_<dtype>_decode          fovea / torch (> 1: fovea faster)
#   llamacpp_<dtype>_prefill_tokens_per_s, llamacpp_<dtype>_decode_tokens_per_s  (best of its reps,
#                                              engine threads, same GGUF file and prompt ids)
#   llamacpp_<dtype>_decode_fraction_of_bound  its decode against our weight read rate
#   vs_llamacpp_<dtype>_prefill, vs_llamacpp_<dtype>_decode   fovea / llama.cpp (> 1: fovea faster)
#   file_vs_arena_<dtype>_prefill, file_vs_arena_<dtype>_decode  with JMH_ARGS='-p source=file,arena': the
#                                              file-loaded model's speed / the same model built in an Arena
set -euo pipefail

cd "$(dirname "$0")/.."
export JAVA_HOME=${JAVA_HOME:-$(ls -d /usr/lib/jvm/*temurin-25* 2>/dev/null | head -1)}
JAVA="$JAVA_HOME/bin/java"
PY=/usr/bin/python3
# Debian's python3-torch calls the system libblas.so.3: with only the reference BLAS installed it is
# ~30x slower than with OpenBLAS, which would flatter us. The baseline the issues name uses OpenBLAS.
if ! readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 2>/dev/null | grep -q openblas; then
  echo "$(basename "$0"): warning: torch would use the reference BLAS; for a fair baseline run" \
    "'apt-get install -y libopenblas0-pthread' first" >&2
fi

if [[ -n "${QUICK:-}" ]]; then
  LAYERS=${LAYERS:-2}
  DEFAULT_ARGS="-f 1 -wi 1 -i 2 -w 1 -r 1"
  TORCH_ARGS="--reps 1 --steps 4"
else
  LAYERS=${LAYERS:-22}
  DEFAULT_ARGS="-f 1 -wi 3 -i 5 -w 2 -r 2"
  TORCH_ARGS="--reps 3 --steps 10"
fi
CONTEXT=${CONTEXT:-600}
DTYPES=${DTYPES:-f32,f16,bf16,q8_0,q4_0}
DTYPES=${DTYPES,,} # the model files and the byte counts go by lower-case names
THREADS=${THREADS:-$(nproc)}
NEW_TOKENS=${NEW_TOKENS:-32}

OUT=${OUT:-jmh/target/decode.json}
LOG=${LOG:-jmh/target/decode-jmh.log}
if [[ -n "${SKIP_JMH:-}" ]]; then
  echo "$(basename "$0"): SKIP_JMH set: reusing $OUT and $LOG" >&2
else
mvn -q -o -pl jmh -am -DskipTests package 1>&2
# shellcheck disable=SC2086
"$JAVA" -cp "jmh/target/fovea-jmh-0.1.0-SNAPSHOT.jar:jmh/target/lib/*" org.openjdk.jmh.Main \
  $DEFAULT_ARGS ${JMH_ARGS:-} ${FOVEA_WEIGHTS:+-jvmArgsPrepend -Dfovea.weights=$FOVEA_WEIGHTS} \
  -p layers="$LAYERS" -p context="$CONTEXT" -p dtype="$DTYPES" -rf json -rff "$OUT" 'LlamaBench|ReadBandwidthBench|FmaPeakBench' \
  | tee "$LOG" 1>&2
fi

TORCH_OUT=${TORCH_OUT:-jmh/target/decode-torch.jsonl}
: > "$TORCH_OUT"
if [[ -z "${NO_TORCH:-}" ]]; then
  # shellcheck disable=SC2086
  # OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE are set on these machines for old OpenBLAS builds; they
  # pin a slower kernel (Haswell), so the baseline runs without them (env README)
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$PY" bench/torch_llama.py --layers "$LAYERS" --context "$CONTEXT" $TORCH_ARGS | tee "$TORCH_OUT" 1>&2
fi

LLAMA_OUT=${LLAMA_OUT:-jmh/target/decode-llamacpp.jsonl}
: > "$LLAMA_OUT"
if [[ -n "${NO_LLAMACPP:-}" ]]; then
  echo "$(basename "$0"): llama.cpp skipped (NO_LLAMACPP set)" >&2
elif ! command -v npm >/dev/null || ! command -v node >/dev/null; then
  echo "$(basename "$0"): llama.cpp skipped: needs node and npm (apt-get install -y nodejs npm)" >&2
else
  if [[ ! -d bench/llamacpp/node_modules/node-llama-cpp ]]; then
    (cd bench/llamacpp && npm ci --no-audit --no-fund 1>&2)
  fi
  for d in ${DTYPES//,/ }; do
    f="jmh/target/models/tinyllama-${LAYERS}l-$d.gguf"
    if [[ ! -f "$f" ]]; then
      echo "$(basename "$0"): no $f (the LlamaBench fork writes it); llama.cpp $d skipped" >&2
      continue
    fi
    node bench/llamacpp/bench.mjs "$f" "$CONTEXT" "$NEW_TOKENS" "$THREADS" "${LLAMA_REPS:-3}" "${LLAMA_MMAP:-1}" \
      | sed "s/^{/{\"dtype\":\"$d\",/" | tee -a "$LLAMA_OUT" 1>&2
  done
fi

"$PY" - "$OUT" "$TORCH_OUT" "$LAYERS" "$CONTEXT" "$LOG" "$LLAMA_OUT" <<'PYEOF'
import json, re, sys
sys.path.insert(0, "bench")  # the repository root is the working directory
import jmhlog
import tinyllama

layers, context = int(sys.argv[3]), int(sys.argv[4])
fovea, arena, bw, fma_s, fma_flops = {}, {}, None, None, None
decode_each = {}  # dtype -> seconds per decode step of each measurement iteration
for r in jmhlog.results(sys.argv[1]):
    name, s, p = r["name"], r["seconds"], r["params"]
    if name == "read":
        bw = int(p["mib"]) * 2**20 / s
    elif name == "fma":
        fma_s = s
    elif p.get("source", "file") != "file":
        arena[(name, p["dtype"])] = s  # diagnostic: the same model built in an Arena
    else:
        fovea[(name, p["dtype"])] = s
        if name == "decode" and r["forks"] == 1:  # single fork: its iterations
            decode_each[p["dtype"]] = r["each_s"]
weight_bw = {}  # dtype -> GB/s read of the weights inside the decode fork
weight_bw_each = {}  # dtype -> that rate before each measurement iteration, in order
weight_bw4, weight_bw4_each = {}, {}  # the same, read as four streams a thread
held = {}  # dtype -> how its first fork (the decode one) held the file's weights: mapped / copied, huge pages
current = None
for line in open(sys.argv[5]):
    m = re.search(r"fovea-model source=file path=\S*-(\w+)\.gguf weights=(\S+)(?: huge_pages=(\S+))?", line)
    if m:
        current = m.group(1) if m.group(1) not in held else None
        if current:
            held[current] = m.group(2) + ("" if m.group(3) in (None, "-") else " huge_pages=" + m.group(3))
    m = re.search(r"fovea-model-pages file_pmd_mapped_mb=(-?\d+)", line)
    if m and current:
        held[current] += " pmd_mapped_mb=" + m.group(1)
        current = None
    m = re.search(r"fovea-fma-peak .*flops=(\d+)", line)
    if m:
        fma_flops = int(m.group(1))
    w = jmhlog.weight_read(line)
    if w and w[4] != "arena":
        tag, dtype, rate, each = w[:4]
        (weight_bw if tag == "read" else weight_bw4)[dtype] = rate
        if each:
            (weight_bw_each if tag == "read" else weight_bw4_each)[dtype] = each
llamacpp = {}  # (prefill|decode, dtype) -> best tokens/s over its repetitions
for line in open(sys.argv[6]):
    if not line.startswith("{"):
        continue
    j = json.loads(line)
    for k, v in (("prefill", j["prefill_tok_s"]), ("decode", j["decode_tok_s"])):
        llamacpp[(k, j["dtype"])] = max(llamacpp.get((k, j["dtype"]), 0), v)
torch = {}
for line in open(sys.argv[2]):
    j = json.loads(line)
    for k in ("prefill_s", "decode_s"):
        key = (k, j["dtype"])
        torch[key] = min(torch.get(key, 1e9), j[k])

prefill_flops = tinyllama.prefill_flops(layers, context)
out = []
if bw:
    out.append(f"read_bandwidth_gbps: {bw / 1e9:.2f}")
if fma_s and fma_flops:
    out.append(f"f32_fma_peak_gflops: {fma_flops / fma_s / 1e9:.0f}")
for d in ("f32", "f16", "bf16", "q8_0", "q4_0"):
    wb = tinyllama.weight_bytes_per_token(layers, d)
    if d in weight_bw:
        out.append(f"{d}_weight_read_gbps: {weight_bw[d] / 1e9:.2f}")
    if d in held:
        out.append(f"{d}_weights: {held[d]}")
    out.append(f"{d}_weight_bytes_per_token: {wb:.0f}")
    bound = weight_bw[d] / wb if d in weight_bw else None
    if bound:
        out.append(f"{d}_decode_bound_tokens_per_s: {bound:.2f}")
    bound4 = weight_bw4[d] / wb if d in weight_bw4 else None
    if bound4:
        out.append(f"{d}_weight_read4_gbps: {weight_bw4[d] / 1e9:.2f}")
        out.append(f"{d}_decode_bound4_tokens_per_s: {bound4:.2f}")
    pf, dc = fovea.get(("prefill", d)), fovea.get(("decode", d))
    if pf:
        out.append(f"fovea_{d}_prefill_tokens_per_s: {context / pf:.1f}")
    if dc:
        out.append(f"fovea_{d}_decode_tokens_per_s: {1 / dc:.2f}")
        ts = decode_each.get(d)
        for tag, bnd, rates in (("", bound, weight_bw_each.get(d)), ("4", bound4, weight_bw4_each.get(d))):
            if bnd:
                out.append(f"fovea_{d}_decode_fraction_of_bound{tag}: {(1 / dc) / bnd:.2f}")
            if ts and rates and len(ts) == len(rates):
                # each iteration against the read rate measured right before it
                out.append(f"fovea_{d}_decode_fraction_of_bound{tag}_each: "
                           + " ".join(f"{(wb / b) / t:.2f}@{b / 1e9:.0f}GB/s" for t, b in zip(ts, rates)))
    tp, td = torch.get(("prefill_s", d)), torch.get(("decode_s", d))
    if tp:
        out.append(f"torch_{d}_prefill_tokens_per_s: {context / tp:.1f}")
    if td:
        out.append(f"torch_{d}_decode_tokens_per_s: {1 / td:.2f}")
    if pf and tp:
        out.append(f"ratio_{d}_prefill: {tp / pf:.2f}")
    if fma_s and fma_flops:
        for who, t in (("fovea", pf), ("torch", tp)):
            if t:
                out.append(f"{who}_{d}_prefill_fraction_of_f32_fma_peak: {prefill_flops / t / (fma_flops / fma_s):.2f}")
    if dc and td:
        out.append(f"ratio_{d}_decode: {td / dc:.2f}")
    lp, ld = llamacpp.get(("prefill", d)), llamacpp.get(("decode", d))
    if lp:
        out.append(f"llamacpp_{d}_prefill_tokens_per_s: {lp:.1f}")
    if ld:
        out.append(f"llamacpp_{d}_decode_tokens_per_s: {ld:.2f}")
        if bound:
            out.append(f"llamacpp_{d}_decode_fraction_of_bound: {ld / bound:.2f}")
        if bound4:
            out.append(f"llamacpp_{d}_decode_fraction_of_bound4: {ld / bound4:.2f}")
    ap, ad = arena.get(("prefill", d)), arena.get(("decode", d))
    if pf and ap:
        out.append(f"file_vs_arena_{d}_prefill: {ap / pf:.2f}")
    if dc and ad:
        out.append(f"file_vs_arena_{d}_decode: {ad / dc:.2f}")
    if pf and lp:
        out.append(f"vs_llamacpp_{d}_prefill: {(context / pf) / lp:.2f}")
    if dc and ld:
        out.append(f"vs_llamacpp_{d}_decode: {(1 / dc) / ld:.2f}")
if fovea.get(("decode", "q8_0")) and fovea.get(("decode", "bf16")):
    out.append(f"fovea_q8_0_decode_vs_bf16: {fovea[('decode', 'bf16')] / fovea[('decode', 'q8_0')]:.2f}")
if fovea.get(("gemmOnly", "f32")) and fovea.get(("prefill", "f32")):
    out.append(f"fovea_f32_prefill_vs_gemm: {fovea[('gemmOnly', 'f32')] / fovea[('prefill', 'f32')]:.2f}")
print("\n".join(out))
PYEOF
