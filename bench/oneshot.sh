#!/usr/bin/env bash
# One-shot CLI speed: `./fovea ask` on the TinyLlama-shaped GGUF files of bench/decode.sh (a new JVM
# per run, a ~700-token prompt, 64 new tokens) in up to four modes: `cold` (no JIT warm-up, no AOT
# cache: -Dfovea.warmup=false), `jit` (the default: JitWarmUp compiles the kernels on a tiny model
# while the weights load), `aot` (the warm-up and the AOT cache of ./fovea --build-aot-cache) and
# `plain` (`jit` with the JVM's usual compile thresholds for the kernels: FOVEA_KERNEL_JIT_SCALE=1.0;
# every other mode runs with the launcher's 0.005), against warmed JMH figures of the same files.
#
#   bench/oneshot.sh                       f32 and q8_0, modes cold jit aot, 3 rounds
#   DTYPES=bf16,f16 MODES=jit RUNS=5 ...   other dtypes, modes, rounds
#   WARM=file ...                          against jmh/target/decode.json (the last bench/decode.sh run)
#                                          instead of warm forks of its own (faster, not phase-robust)
#
# This VM's memory speed moves between ~30 and ~55 GB/s over minutes, which moves a decode figure
# by up to 1.7x with no change of code (2026-12-07: the same one-shot decode 10.4-14.7 tok/s), so by
# default (WARM=paired) each round runs, per dtype, the one-shot asks of every mode and one warm
# JMH fork pair (LlamaBench.prefill and .decode, the GGUF loaded from its file, context = the ask's
# prompt length) back to back, which first swapped every round; and each ask is bracketed by a read
# of the same file's weights in a JVM of its own (dev.fovea.jmh.ReadBound, right before and right
# after), as the warm decode fork reads them before each of its iterations. The summary then gives
# per pair the one-shot figure against the warm one, and the decode also as fractions of the read
# bound of the seconds around each (phase-robust).
#
# Prints per dtype and mode: oneshot_<mode>_<dtype>_ttft_s (time to first token: the prefill of the
# prompt, as `ask --json` reports it; median), oneshot_<mode>_<dtype>_decode_tokens_per_s (median),
# oneshot_<mode>_<dtype>_first_token_s (from the process's start to the first token: JVM start, load,
# paging in, warm-up, prefill; median), oneshot_<mode>_<dtype>_wall_s (the whole process; median);
# ttft_vs_warm_<mode>_<dtype> (one-shot TTFT / warmed prefill time, target <= 1.5) and
# decode_vs_warm_<mode>_<dtype> (warmed decode speed / one-shot decode speed, target <= 1.5): with
# WARM=paired the median of the pairs' ratios (each pair's in pair_* lines), with WARM=file against
# decode.json's prefill scaled to the prompt's length and its decode at its context; and with
# WARM=paired also:
#   warm_<dtype>_prefill_tokens_per_s, warm_<dtype>_decode_tokens_per_s   medians of the warm forks
#   oneshot_<mode>_<dtype>_decode_fraction_of_bound   one-shot decode / (weight bytes a token / the
#                                                    mean of the reads before and after it); each run
#   warm_<dtype>_decode_fraction_of_bound             the warm fork's iterations, each against the read
#                                                    right before it (median per fork); each round
#   decode_vs_warm_bound_<mode>_<dtype>               warm fraction / one-shot fraction, median of the
#                                                    pairs (the phase-robust form of decode_vs_warm)
set -euo pipefail
cd "$(dirname "$0")/.."
export JAVA_HOME=${JAVA_HOME:-$(ls -d /usr/lib/jvm/*temurin-25* 2>/dev/null | head -1)}
JAVA="$JAVA_HOME/bin/java"
LAYERS=${LAYERS:-22}
DTYPES=${DTYPES:-f32,q8_0}
DTYPES=${DTYPES,,}
RUNS=${RUNS:-3}
MODES=${MODES:-cold jit aot}
WARM=${WARM:-paired}
DIR=${DIR:-jmh/target/oneshot}
OUT=${OUT:-jmh/target/oneshot.jsonl}
if [[ $WARM != paired && $WARM != file ]]; then
  echo "$(basename "$0"): WARM must be paired or file, got '$WARM'" >&2
  exit 2
fi
mkdir -p "$DIR"
: > "$OUT"
: > "$DIR/reads.jsonl"
: > "$DIR/warm.jsonl"
prompt=$(printf 'The quick brown fox jumps over the lazy dog while the cat sleeps on the warm red mat. %.0s' $(seq 1 33))
base_opts=${FOVEA_JAVA_OPTS:-}
CP="jmh/target/fovea-jmh-0.1.0-SNAPSHOT.jar:jmh/target/lib/*"
if [[ $WARM == paired ]]; then
  mvn -q -o -pl jmh -am -DskipTests package 1>&2
fi
for d in ${DTYPES//,/ }; do
  if [[ ! -f "jmh/target/models/tinyllama-${LAYERS}l-$d.gguf" ]]; then
    echo "$(basename "$0"): no jmh/target/models/tinyllama-${LAYERS}l-$d.gguf; run bench/decode.sh first (its LlamaBench forks write the GGUF files)" >&2
    exit 2
  fi
done
if [[ " $MODES " == *" aot "* ]]; then
  ./fovea --build-aot-cache 1>&2
fi

read_bound() { # dtype round tag: one line of reads.jsonl (none, with a message, when the read fails)
  local d=$1 r=$2 tag=$3 line
  if ! line=$("$JAVA" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -cp "$CP" dev.fovea.jmh.ReadBound \
      "jmh/target/models/tinyllama-${LAYERS}l-$d.gguf" 4 2>"$DIR/read-$d-$r-$tag.err" | grep '^fovea-weight-read '); then
    echo "$(basename "$0"): the weight read $d round $r (#$tag) failed, so its asks lose that bracket; see $DIR/read-$d-$r-$tag.err" >&2
    return 0
  fi
  echo "$line" | sed "s/^fovea-weight-read gbps=\([0-9.]*\).*/{\"dtype\": \"$d\", \"round\": $r, \"tag\": \"$tag\", \"gbps\": \1}/" \
    | tee -a "$DIR/reads.jsonl" 1>&2
}

ask() { # mode dtype round
  local mode=$1 d=$2 r=$3 t0 t1 j
  if [[ $mode == aot ]]; then export FOVEA_AOT=1; else export FOVEA_AOT=0; fi
  if [[ $mode == cold ]]; then export FOVEA_JAVA_OPTS="$base_opts -Dfovea.warmup=false"; else export FOVEA_JAVA_OPTS="$base_opts"; fi
  if [[ $mode == plain ]]; then export FOVEA_KERNEL_JIT_SCALE=1.0; else unset FOVEA_KERNEL_JIT_SCALE; fi
  t0=$(date +%s.%N)
  if ! j=$(./fovea ask --model "jmh/target/models/tinyllama-${LAYERS}l-$d.gguf" --prompt "$prompt" --max-new-tokens 64 --json \
      2>"$DIR/ask-$mode-$d-$r.err"); then
    echo "$(basename "$0"): ./fovea ask ($mode, $d, round $r) failed; see $DIR/ask-$mode-$d-$r.err" >&2
    exit 1
  fi
  t1=$(date +%s.%N)
  echo "$j" | /usr/bin/python3 -c "import json,sys; j=json.load(sys.stdin); j.pop('tokens', None); j.pop('text', None); j.update(mode='$mode', dtype='$d', round=$r, wall_s=$t1-$t0); print(json.dumps(j))" | tee -a "$OUT" 1>&2
}

asks() { # dtype round: every mode, each bracketed by weight reads
  local d=$1 r=$2 i=0
  [[ $WARM == paired ]] && read_bound "$d" "$r" 0
  for mode in $MODES; do
    ask "$mode" "$d" "$r"
    i=$((i + 1))
    [[ $WARM == paired ]] && read_bound "$d" "$r" "$i"
  done
  return 0
}

warm() { # dtype round context: one JMH run of LlamaBench.prefill and .decode on the GGUF file
  local d=$1 r=$2 n=$3
  unset FOVEA_AOT FOVEA_KERNEL_JIT_SCALE
  "$JAVA" -cp "$CP" org.openjdk.jmh.Main -f 1 -wi 2 -i 3 -w 2 -r 2 -p layers="$LAYERS" -p context="$n" -p dtype="$d" \
    -p source=file -rf json -rff "$DIR/warm-$d-$r.json" 'LlamaBench\.(prefill|decode)$' > "$DIR/warm-$d-$r.log" 2>&1 || {
      echo "$(basename "$0"): the warm JMH run failed; see $DIR/warm-$d-$r.log" >&2
      exit 1
    }
  /usr/bin/python3 - "$DIR/warm-$d-$r.json" "$DIR/warm-$d-$r.log" "$d" "$r" <<'PY' | tee -a "$DIR/warm.jsonl" 1>&2
import json, sys
sys.path.insert(0, "bench")
import jmhlog
out = {"dtype": sys.argv[3], "round": int(sys.argv[4])}
for r in jmhlog.results(sys.argv[1]):
    out[r["name"] + "_s"] = r["seconds"]
    out["context"] = int(r["params"]["context"])
    if r["name"] == "decode":
        out["decode_each_s"] = r["each_s"]
for w in map(jmhlog.weight_read, open(sys.argv[2])):
    if w and w[0] == "read" and w[3]:
        out["read_each_gbps"] = [g / 1e9 for g in w[3]]
print(json.dumps(out))
PY
}

n=""
for ((r = 1; r <= RUNS; r++)); do
  for d in ${DTYPES//,/ }; do
    if [[ $WARM == file ]]; then
      asks "$d" "$r"
      continue
    fi
    if [[ -z $n ]] || (( r % 2 == 1 )); then
      asks "$d" "$r"
      # the warm forks run at the ask's prompt length, so neither side is scaled
      n=$(/usr/bin/python3 -c 'import json,sys; print([json.loads(l) for l in open(sys.argv[1])][-1]["prompt_tokens"])' "$OUT")
      warm "$d" "$r" "$n"
    else
      warm "$d" "$r" "$n"
      asks "$d" "$r"
    fi
  done
done

/usr/bin/python3 - "$OUT" jmh/target/decode.json "$WARM" "$DIR/warm.jsonl" "$DIR/reads.jsonl" "$LAYERS" "$MODES" <<'PYEOF'
import json, os, statistics, sys
sys.path.insert(0, "bench")  # the repository root is the working directory
import tinyllama

rows = [json.loads(l) for l in open(sys.argv[1])]
paired = sys.argv[3] == "paired"
layers = int(sys.argv[6])
modes = sys.argv[7].split()
med = statistics.median
warm_file = {}
if not paired and os.path.exists(sys.argv[2]):
    unit = {"ms/op": 1e-3, "us/op": 1e-6, "ns/op": 1e-9, "s/op": 1.0}
    for r in json.load(open(sys.argv[2])):
        p = r.get("params", {})
        if r["benchmark"].endswith("LlamaBench.prefill") or r["benchmark"].endswith("LlamaBench.decode"):
            if p.get("source", "file") == "file" and int(p.get("layers", layers)) == layers:
                warm_file[(r["benchmark"].rsplit(".", 1)[-1], p["dtype"])] = (r["primaryMetric"]["score"] * unit[r["primaryMetric"]["scoreUnit"]], int(p["context"]))
warm = {(w["dtype"], w["round"]): w for w in map(json.loads, open(sys.argv[4]))} if paired else {}
reads = {}  # (dtype, round, tag) -> GB/s
if paired:
    for x in map(json.loads, open(sys.argv[5])):
        reads[(x["dtype"], x["round"], str(x["tag"]))] = x["gbps"] * 1e9
for d in sorted({r["dtype"] for r in rows}):
    wb = tinyllama.weight_bytes_per_token(layers, d)
    ws = sorted((w for (dd, _), w in warm.items() if dd == d), key=lambda w: w["round"])
    warm_frac = {}
    if ws:
        print(f"warm_{d}_context: {ws[0]['context']}")
        if all("prefill_s" in w for w in ws):
            print(f"warm_{d}_prefill_tokens_per_s: {med(w['context'] / w['prefill_s'] for w in ws):.1f}")
        if all("decode_s" in w for w in ws):
            print(f"warm_{d}_decode_tokens_per_s: {med(1 / w['decode_s'] for w in ws):.2f}")
        for w in ws:
            if "decode_each_s" in w and len(w.get("read_each_gbps", [])) == len(w["decode_each_s"]):
                warm_frac[w["round"]] = med((wb / (g * 1e9)) / t for t, g in zip(w["decode_each_s"], w["read_each_gbps"]))
        if warm_frac:
            print(f"warm_{d}_decode_fraction_of_bound: " + " ".join(f"{warm_frac[r]:.2f}" for r in sorted(warm_frac)))
    for mode in modes:
        rs = [r for r in rows if r["mode"] == mode and r["dtype"] == d]
        if not rs:
            continue
        ttft = med(r["prefill_ms"] / 1000 for r in rs)
        dec = med(r["decode_tokens_per_s"] for r in rs)
        n = rs[0]["prompt_tokens"]
        print(f"oneshot_{mode}_{d}_prompt_tokens: {n}")
        print(f"oneshot_{mode}_{d}_ttft_s: {ttft:.2f}")
        print(f"oneshot_{mode}_{d}_decode_tokens_per_s: {dec:.2f}")
        if all("first_token_ms" in r for r in rs):
            print(f"oneshot_{mode}_{d}_first_token_s: {med(r['first_token_ms'] / 1000 for r in rs):.2f}")
        print(f"oneshot_{mode}_{d}_wall_s: {med(r['wall_s'] for r in rs):.2f}")
        if not paired:
            if ("prefill", d) in warm_file:
                s, ctx = warm_file[("prefill", d)]
                print(f"ttft_vs_warm_{mode}_{d}: {ttft / (s * n / ctx):.2f}")
            if ("decode", d) in warm_file:
                s, _ = warm_file[("decode", d)]
                print(f"decode_vs_warm_{mode}_{d}: {(1 / s) / dec:.2f}")
            continue
        ttft_pairs, dec_pairs, bound_pairs, fracs = [], [], [], []
        i = modes.index(mode)
        for r in sorted(rs, key=lambda r: r["round"]):
            w = warm.get((d, r["round"]))
            if not w:
                continue
            if "prefill_s" in w:
                ttft_pairs.append(r["prefill_ms"] / 1000 / w["prefill_s"])
            if "decode_s" in w:
                dec_pairs.append((1 / w["decode_s"]) / r["decode_tokens_per_s"])
            before, after = reads.get((d, r["round"], str(i))), reads.get((d, r["round"], str(i + 1)))
            if before and after:
                f = r["decode_tokens_per_s"] * wb / ((before + after) / 2)
                fracs.append(f"{f:.2f}@{before / 1e9:.0f}-{after / 1e9:.0f}GB/s")
                if r["round"] in warm_frac:
                    bound_pairs.append(warm_frac[r["round"]] / f)
        for name, v in (("ttft_vs_warm", ttft_pairs), ("decode_vs_warm", dec_pairs), ("decode_vs_warm_bound", bound_pairs)):
            if v:
                print(f"pair_{name}_{mode}_{d}: " + " ".join(f"{x:.2f}" for x in v))
                print(f"{name}_{mode}_{d}: {med(v):.2f}")
        if fracs:
            print(f"oneshot_{mode}_{d}_decode_fraction_of_bound: " + " ".join(fracs))
PYEOF
