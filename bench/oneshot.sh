#!/usr/bin/env bash
# One-shot CLI speed: `./fovea ask` on the TinyLlama-shaped GGUF files of bench/decode.sh (a new JVM
# per run, a ~600-token prompt, 64 new tokens) in three modes: `cold` (no JIT warm-up, no AOT cache:
# -Dfovea.warmup=false), `jit` (the default: JitWarmUp compiles the kernels on a tiny model while the
# weights load) and `aot` (the warm-up and the AOT cache of ./fovea --build-aot-cache), against the
# warmed JMH figures of the last bench/decode.sh run (jmh/target/decode.json, same GGUF files, same
# machine).
#
#   bench/oneshot.sh                 f32 and q8_0, 3 runs each way
#   DTYPES=bf16 RUNS=5 LAYERS=22 ...
#   MODES="plain jit" ...            other modes: `plain` is `jit` with the JVM's usual compile
#                                    thresholds for the kernels (FOVEA_KERNEL_JIT_SCALE=1.0; every
#                                    other mode runs with the launcher's 0.005)
#
# Prints per dtype and mode: oneshot_<mode>_<dtype>_ttft_s (time to first token: the prefill of the
# prompt, as `ask --json` reports it; median), oneshot_<mode>_<dtype>_decode_tokens_per_s (median),
# oneshot_<mode>_<dtype>_first_token_s (from the process's start to the first token: JVM start, load,
# paging in, warm-up, prefill; median), oneshot_<mode>_<dtype>_wall_s (the whole process; median), and
# with a decode.json:
# ttft_vs_warm_<mode>_<dtype> (one-shot TTFT / warmed prefill time scaled to the prompt's length)
# and decode_vs_warm_<mode>_<dtype> (warmed decode speed / one-shot decode speed); target <= 1.5.
set -euo pipefail
cd "$(dirname "$0")/.."
LAYERS=${LAYERS:-22}
DTYPES=${DTYPES:-f32,q8_0}
RUNS=${RUNS:-3}
OUT=${OUT:-jmh/target/oneshot.jsonl}
: > "$OUT"
prompt=$(printf 'The quick brown fox jumps over the lazy dog while the cat sleeps on the warm red mat. %.0s' $(seq 1 33))
base_opts=${FOVEA_JAVA_OPTS:-}
for mode in ${MODES:-cold jit aot}; do
  if [[ $mode == aot ]]; then
    ./fovea --build-aot-cache 1>&2
    export FOVEA_AOT=1
  else
    export FOVEA_AOT=0
  fi
  if [[ $mode == cold ]]; then
    export FOVEA_JAVA_OPTS="$base_opts -Dfovea.warmup=false"
  else
    export FOVEA_JAVA_OPTS="$base_opts"
  fi
  if [[ $mode == plain ]]; then
    export FOVEA_KERNEL_JIT_SCALE=1.0
  else
    unset FOVEA_KERNEL_JIT_SCALE
  fi
  for d in ${DTYPES//,/ }; do
    f="jmh/target/models/tinyllama-${LAYERS}l-$d.gguf"
    if [[ ! -f "$f" ]]; then
      echo "$(basename "$0"): no $f; run bench/decode.sh first (its LlamaBench forks write the GGUF files)" >&2
      exit 2
    fi
    for r in $(seq 1 "$RUNS"); do
      t0=$(date +%s.%N)
      j=$(./fovea ask --model "$f" --prompt "$prompt" --max-new-tokens 64 --json 2>/dev/null)
      t1=$(date +%s.%N)
      echo "$j" | /usr/bin/python3 -c "import json,sys; j=json.load(sys.stdin); j.pop('tokens', None); j.pop('text', None); j.update(mode='$mode', dtype='$d', wall_s=$t1-$t0); print(json.dumps(j))" | tee -a "$OUT" 1>&2
    done
  done
done
/usr/bin/python3 - "$OUT" jmh/target/decode.json <<'PYEOF'
import json, os, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
warm = {}
if os.path.exists(sys.argv[2]):
    unit = {"ms/op": 1e-3, "us/op": 1e-6, "ns/op": 1e-9, "s/op": 1.0}
    for r in json.load(open(sys.argv[2])):
        p = r.get("params", {})
        if r["benchmark"].endswith("LlamaBench.prefill") or r["benchmark"].endswith("LlamaBench.decode"):
            if p.get("source", "file") == "file":
                warm[(r["benchmark"].rsplit(".", 1)[-1], p["dtype"])] = (r["primaryMetric"]["score"] * unit[r["primaryMetric"]["scoreUnit"]], int(p["context"]))
for mode in ("cold", "plain", "jit", "aot"):
    for d in sorted({r["dtype"] for r in rows}):
        rs = [r for r in rows if r["mode"] == mode and r["dtype"] == d]
        if not rs:
            continue
        ttft = statistics.median(r["prefill_ms"] / 1000 for r in rs)
        dec = statistics.median(r["decode_tokens_per_s"] for r in rs)
        n = rs[0]["prompt_tokens"]
        print(f"oneshot_{mode}_{d}_prompt_tokens: {n}")
        print(f"oneshot_{mode}_{d}_ttft_s: {ttft:.2f}")
        print(f"oneshot_{mode}_{d}_decode_tokens_per_s: {dec:.2f}")
        if all("first_token_ms" in r for r in rs):
            print(f"oneshot_{mode}_{d}_first_token_s: {statistics.median(r['first_token_ms'] / 1000 for r in rs):.2f}")
        print(f"oneshot_{mode}_{d}_wall_s: {statistics.median(r['wall_s'] for r in rs):.2f}")
        if ("prefill", d) in warm:
            s, ctx = warm[("prefill", d)]
            print(f"ttft_vs_warm_{mode}_{d}: {ttft / (s * n / ctx):.2f}")
        if ("decode", d) in warm:
            s, _ = warm[("decode", d)]
            print(f"decode_vs_warm_{mode}_{d}: {(1 / s) / dec:.2f}")
PYEOF
