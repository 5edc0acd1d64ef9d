#!/usr/bin/env bash
# CLIP image encoding: fovea (JMH ClipVisionBench) against PyTorch (Debian python3-torch, plain-torch
# CLIP vision tower, inference mode) in the same session, same shapes, F32.
#
#   bench/clip.sh              full run: batch 1 and 8, ViT-B/16@224 and ViT-L/14@336, 3 x 2 s warm-up, 5 x 2 s
#   QUICK=1 bench/clip.sh      quick check (a few minutes): batch 1 only, 1 x 1 s warm-up, 2 x 1 s; torch one
#                              timed run (no warm-up) at OMP/intra-op (1, 1) only (the fastest setting on a loaded 2-core box)
#   THREADS=2 bench/clip.sh    fovea threads (default 2); PyTorch tries intra-op 1 and 2 x OMP/OpenBLAS 1 and 2
#
# Prints the JMH table and the torch timings on stderr, then one `name: value` line per figure
# (seconds per forward, and the ratios last):
#   <model>_b<batch>_fovea_s, <model>_b<batch>_torch_s (fastest torch setting), <model>_b<batch>_speedup_vs_torch
set -euo pipefail

cd "$(dirname "$0")/.."
export JAVA_HOME=${JAVA_HOME:-$(ls -d /usr/lib/jvm/*temurin-25* 2>/dev/null | head -1)}
if [[ -z "$JAVA_HOME" || ! -x "$JAVA_HOME/bin/java" ]]; then
  echo "clip.sh: no JDK 25 found; set JAVA_HOME to a JDK 25" >&2
  exit 1
fi
JAVA="$JAVA_HOME/bin/java"
PY=/usr/bin/python3
# Debian's python3-torch calls the system libblas.so.3: with only the reference BLAS installed it is
# ~30x slower than with OpenBLAS, which would flatter us. The baseline the issues name uses OpenBLAS.
if ! readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 2>/dev/null | grep -q openblas; then
  echo "$(basename "$0"): warning: torch would use the reference BLAS; for a fair baseline run" \
    "'apt-get install -y libopenblas0-pthread' first" >&2
fi
THREADS=${THREADS:-2}

mvn -q -o -pl jmh -am -DskipTests package 2>&1 | grep -v '^WARNING' >&2 || true

if [[ -n "${QUICK:-}" ]]; then
  DEFAULT_ARGS="-f 1 -wi 1 -i 2 -w 1 -r 1 -p batch=1"
  BATCHES="1"
  REPEATS=1
  WARMUP=0
  SETTINGS="1:1"
else
  DEFAULT_ARGS="-f 1 -wi 3 -i 5 -w 2 -r 2"
  BATCHES="1 8"
  REPEATS=5
  WARMUP=1
  SETTINGS="1:1 1:2 2:1 2:2"
fi
OUT=${OUT:-jmh/target/clip.json}
TORCH_OUT=${TORCH_OUT:-jmh/target/clip-torch.txt}
# shellcheck disable=SC2086
"$JAVA" -cp "jmh/target/fovea-jmh-0.1.0-SNAPSHOT.jar:jmh/target/lib/*" org.openjdk.jmh.Main \
  $DEFAULT_ARGS -p threads="$THREADS" ${JMH_ARGS:-} -rf json -rff "$OUT" ClipVisionBench 1>&2

: > "$TORCH_OUT"
for model in vit_b16_224 vit_l14_336; do
  for batch in $BATCHES; do
    # every thread setting at batch 1 (the target); at larger batches only intra-op 2 with one
    # OpenBLAS thread, the setting that avoids oversubscription (a ViT-L/14 batch of 8 takes ~30 s)
    settings=$SETTINGS
    if [[ "$batch" != 1 ]]; then settings=${BIG_SETTINGS:-1:2}; fi
    for setting in $settings; do
      omp=${setting%%:*}
      intra=${setting##*:}
      echo "torch $model batch $batch omp/openblas $omp intra-op $intra" >&2
      OMP_NUM_THREADS=$omp OPENBLAS_NUM_THREADS=$omp MKL_NUM_THREADS=$omp \
        env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$PY" bench/clip_torch.py "$model" "$batch" "$intra" "$REPEATS" "$WARMUP" | tee -a "$TORCH_OUT" >&2
    done
  done
done

"$PY" - "$OUT" "$TORCH_OUT" <<'PYEOF'
import json, sys

fovea = {}
for r in json.load(open(sys.argv[1])):
    p = r["params"]
    unit = r["primaryMetric"]["scoreUnit"]
    s = r["primaryMetric"]["score"] * {"ms/op": 1e-3, "us/op": 1e-6, "s/op": 1.0}[unit]
    fovea[(p["model"], int(p["batch"]))] = s
torch = {}
for line in open(sys.argv[2]):
    model, batch, threads, median, best = line.split()
    key = (model, int(batch))
    torch[key] = min(torch.get(key, float("inf")), float(median))
lines, ratios = [], []
for key in sorted(fovea):
    name = f"{key[0]}_b{key[1]}"
    lines.append(f"{name}_fovea_s: {fovea[key]:.3f}")
    if key in torch:
        lines.append(f"{name}_torch_s: {torch[key]:.3f}")
        ratios.append(f"{name}_speedup_vs_torch: {torch[key] / fovea[key]:.2f}")
print("\n".join(lines + ratios))
PYEOF
