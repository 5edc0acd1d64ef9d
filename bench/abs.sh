#!/usr/bin/env bash
# ABS on CLIP (issue 20 point 4): images per second of fovea (JMH AbsBench) against the same
# pipeline in PyTorch (bench/abs_torch.py: Debian python3-torch, F32, the reference's batching) in the
# same session: CLIP ViT-B/16 + DINO ViT-B/16 at 224, random weights, 1 global view + 50 raw + 50
# feature crops, a cached bank of 1000 x 50 descriptions.
#
#   bench/abs.sh               fovea: 1 warm-up op + 3 measured; torch: 1 warm-up + 3 timed at 1 and 2 threads
#   QUICK=1 bench/abs.sh       fovea 1 + 1, torch 1 + 1 at 2 threads only (about 5 minutes on 2 loaded cores)
#   THREADS=2 CROPS=50 CLASSES=1000 bench/abs.sh
#
# Prints the JMH table and the torch timings on stderr, the machine's load average before and after,
# then `name: value` lines: abs_fovea_s, abs_torch_s (fastest thread setting), abs_fovea_img_per_s,
# abs_torch_img_per_s, abs_speedup_vs_torch.
set -euo pipefail

cd "$(dirname "$0")/.."
export JAVA_HOME=${JAVA_HOME:-$(ls -d /usr/lib/jvm/*temurin-25* 2>/dev/null | head -1)}
if [[ -z "$JAVA_HOME" || ! -x "$JAVA_HOME/bin/java" ]]; then
  echo "abs.sh: no JDK 25 found; set JAVA_HOME to a JDK 25" >&2
  exit 1
fi
JAVA="$JAVA_HOME/bin/java"
PY=/usr/bin/python3
if ! readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 2>/dev/null | grep -q openblas; then
  echo "abs.sh: warning: torch would use the reference BLAS; for a fair baseline run 'apt-get install -y libopenblas0-pthread' first" >&2
fi
THREADS=${THREADS:-2}
CROPS=${CROPS:-50}
CLASSES=${CLASSES:-1000}
if [[ -n "${QUICK:-}" ]]; then
  JMH_RUN="-f 1 -wi 1 -i 1 -w 1 -r 1"
  REPEATS=1
  TORCH_THREADS="2"
else
  JMH_RUN="-f 1 -wi 1 -i 3 -w 1 -r 1"
  REPEATS=3
  TORCH_THREADS="1 2"
fi
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores" >&2
mvn -q -o -pl jmh -am -DskipTests package 2>&1 | grep -v '^WARNING' >&2 || true
OUT=${OUT:-jmh/target/abs.json}
# shellcheck disable=SC2086
# JMH_JVM_OPTS=-Djmh.ignoreLock=true runs beside another session's JMH (both figures then share the cores)
"$JAVA" ${JMH_JVM_OPTS:-} -cp "jmh/target/fovea-jmh-0.1.0-SNAPSHOT.jar:jmh/target/lib/*" org.openjdk.jmh.Main $JMH_RUN \
  -p threads="$THREADS" -p crops="$CROPS" -p classes="$CLASSES" ${JMH_ARGS:-} -rf json -rff "$OUT" AbsBench 1>&2
fovea_ms=$("$PY" -c "import json; print(json.load(open('$OUT'))[0]['primaryMetric']['score'])")
best=""
for t in $TORCH_THREADS; do
  s=$(OMP_NUM_THREADS=$t OPENBLAS_NUM_THREADS=1 "$PY" bench/abs_torch.py --threads "$t" --repeats "$REPEATS" --crops "$CROPS" \
    --classes "$CLASSES" | awk '/seconds_per_image/ {print $2}')
  echo "torch threads $t: $s s per image" >&2
  if [[ -z "$best" ]] || "$PY" -c "import sys; sys.exit(0 if $s < $best else 1)"; then best=$s; fi
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores" >&2
"$PY" - "$fovea_ms" "$best" <<'PYEOF'
import sys
f = float(sys.argv[1]) / 1000
t = float(sys.argv[2])
print(f"abs_fovea_s: {f:.3f}")
print(f"abs_torch_s: {t:.3f}")
print(f"abs_fovea_img_per_s: {1 / f:.4f}")
print(f"abs_torch_img_per_s: {1 / t:.4f}")
print(f"abs_speedup_vs_torch: {t / f:.2f}")
PYEOF
