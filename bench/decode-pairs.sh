#!/usr/bin/env bash
# Decode speed against llama.cpp in adjacent pairs: this VM's memory speed moves between minutes
# (the weights read at 29-55 GB/s within one bench/decode.sh run), and bench/decode.sh times every
# fovea fork first and llama.cpp afterwards, so its one ratio per dtype compares two memory phases.
# Here each round runs, per dtype, one fovea decode fork (JMH LlamaBench.decode on the GGUF file,
# as bench/decode.sh) and one llama.cpp run on the same file back to back, the order swapped every
# round, and the summary gives the ratio of each pair and their median.
#
#   bench/decode-pairs.sh                  3 rounds of f32,f16,bf16,q8_0,q4_0 (~4 min a round)
#   ROUNDS=5 DTYPES=q4_0,q8_0 bench/decode-pairs.sh
#
# Needs the GGUF files bench/decode.sh writes (jmh/target/models/tinyllama-<layers>l-<dtype>.gguf;
# a missing one is written by the first fovea fork that needs it) and node/npm for llama.cpp.
# Prints one `name: value` line per figure:
#   pair_<dtype>_decode: fovea/llama.cpp tok/s of each pair in order, e.g. `1.02 (9.1/8.9 f) ...`
#                        (f or l: which ran first)
#   pair_<dtype>_decode_median         the median of those ratios
#   pair_<dtype>_fovea_fraction_of_bound  each fovea fork's decode / its own weight read bound
set -euo pipefail

cd "$(dirname "$0")/.."
export JAVA_HOME=${JAVA_HOME:-$(ls -d /usr/lib/jvm/*temurin-25* 2>/dev/null | head -1)}
JAVA="$JAVA_HOME/bin/java"
ROUNDS=${ROUNDS:-3}
LAYERS=${LAYERS:-22}
CONTEXT=${CONTEXT:-600}
DTYPES=${DTYPES:-f32,f16,bf16,q8_0,q4_0}
DTYPES=${DTYPES,,} # the model files and the byte counts go by lower-case names
THREADS=${THREADS:-$(nproc)}
NEW_TOKENS=${NEW_TOKENS:-32}
DIR=${DIR:-jmh/target/decode-pairs}

if ! command -v npm >/dev/null || ! command -v node >/dev/null; then
  echo "$(basename "$0"): needs node and npm for llama.cpp (apt-get install -y nodejs npm)" >&2
  exit 1
fi
if [[ ! -d bench/llamacpp/node_modules/node-llama-cpp ]]; then
  (cd bench/llamacpp && npm ci --no-audit --no-fund 1>&2)
fi
mvn -q -o -pl jmh -am -DskipTests package 1>&2
mkdir -p "$DIR"
: > "$DIR/pairs.txt"

fovea() { # dtype round -> "tok/s gbps"
  local d=$1 r=$2
  "$JAVA" -cp "jmh/target/fovea-jmh-0.1.0-SNAPSHOT.jar:jmh/target/lib/*" org.openjdk.jmh.Main \
    -f 1 -wi 3 -i 4 -w 2 -r 2 -p layers="$LAYERS" -p context="$CONTEXT" -p dtype="$d" -p source=file \
    -rf json -rff "$DIR/fovea-$d-$r.json" 'LlamaBench.decode' > "$DIR/fovea-$d-$r.log" 2>&1
  /usr/bin/python3 - "$DIR/fovea-$d-$r.json" "$DIR/fovea-$d-$r.log" <<'PY'
import sys
sys.path.insert(0, "bench")
import jmhlog
s = jmhlog.results(sys.argv[1])[0]["seconds"]
reads = [w for w in map(jmhlog.weight_read, open(sys.argv[2])) if w and w[0] == "read"]
print(f"{1 / s:.3f} {reads[0][2] / 1e9 if reads else 0:.2f}")
PY
}

llamacpp() { # dtype round -> "tok/s" (best of 2 reps)
  local d=$1 r=$2
  node bench/llamacpp/bench.mjs "jmh/target/models/tinyllama-${LAYERS}l-$d.gguf" "$CONTEXT" "$NEW_TOKENS" "$THREADS" 2 1 \
    > "$DIR/llamacpp-$d-$r.jsonl" 2>&1
  /usr/bin/python3 -c 'import json,sys; print(max(json.loads(l)["decode_tok_s"] for l in open(sys.argv[1]) if l.startswith("{")))' \
    "$DIR/llamacpp-$d-$r.jsonl"
}

for ((r = 1; r <= ROUNDS; r++)); do
  for d in ${DTYPES//,/ }; do
    if (( r % 2 == 1 )); then
      read -r ft gb < <(fovea "$d" "$r")
      lt=$(llamacpp "$d" "$r")
      first=f
    else
      lt=$(llamacpp "$d" "$r")
      read -r ft gb < <(fovea "$d" "$r")
      first=l
    fi
    echo "$d $r $ft $lt $gb $first" | tee -a "$DIR/pairs.txt" >&2
  done
done

/usr/bin/python3 - "$DIR/pairs.txt" "$LAYERS" <<'PY'
import statistics, sys
sys.path.insert(0, "bench")
import tinyllama
layers = int(sys.argv[2])
rows = {}
for line in open(sys.argv[1]):
    d, r, ft, lt, gb, first = line.split()
    rows.setdefault(d, []).append((float(ft), float(lt), float(gb), first))
for d, ps in rows.items():
    ratios = [ft / lt for ft, lt, _, _ in ps]
    print(f"pair_{d}_decode: " + " ".join(f"{ft / lt:.2f} ({ft:.2f}/{lt:.2f} {first})" for ft, lt, _, first in ps))
    print(f"pair_{d}_decode_median: {statistics.median(ratios):.2f}")
    wb = tinyllama.weight_bytes_per_token(layers, d)
    print(f"pair_{d}_fovea_fraction_of_bound: "
          + " ".join(f"{ft / (gb * 1e9 / wb):.2f}@{gb:.0f}GB/s" for ft, _, gb, _ in ps if gb > 0))
PY
