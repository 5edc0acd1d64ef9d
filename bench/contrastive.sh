#!/usr/bin/env bash
# Contrastive decoding speed (issue 19): per-token decode time of VCD and AVC relative to plain decoding,
# in the same run, on a LLaVA-1.5 with TinyLlama-1.1B decoder shapes and the CLIP ViT-L/14-336 tower
# (random weights, loaded from llava-hf folders; JMH ContrastiveBench; needs ../shared/data for the LLaMA
# vocabulary and the COCO picture). One op = one answer of 16 sampled tokens to a llava_v1 prompt of
# about 610 positions.
#
#   bench/contrastive.sh             F32 and BF16, 22 decoder layers, branches batched (VCD, AVC, plain)
#                                    plus the references' layout (branches one after the other) for VCD and AVC;
#                                    1 warm-up + 2 measured ops each (WARMUPS=, ITERATIONS=); ~25 minutes on 2 cores
#   QUICK=1 bench/contrastive.sh     4 decoder layers, F32 only, no warm-up, 1 measured op
#   DTYPES=f32 bench/contrastive.sh  one dtype; JMH_ARGS='...' extra JMH options
#
# Prints the JMH tables on stderr, then `name: value` lines: <dtype>_<method>_step_ms (median decode step)
# and <dtype>_<method>_vs_plain (that step time / plain decoding's, same run), with _sequential for the
# references' layout.
set -euo pipefail

cd "$(dirname "$0")/.."
export JAVA_HOME=${JAVA_HOME:-$(ls -d /usr/lib/jvm/*temurin-25* 2>/dev/null | head -1)}
if [[ -z "$JAVA_HOME" || ! -x "$JAVA_HOME/bin/java" ]]; then
  echo "contrastive.sh: no JDK 25 found; set JAVA_HOME to a JDK 25" >&2
  exit 1
fi
JAVA="$JAVA_HOME/bin/java"
PY=/usr/bin/python3

mvn -q -o -pl jmh -am -DskipTests package 2>&1 | grep -v '^WARNING' >&2 || true

if [[ -n "${QUICK:-}" ]]; then
  DEFAULT_ARGS="-f 1 -wi 0 -i 1 -p layers=4"
  DTYPES=${DTYPES:-f32}
else
  DEFAULT_ARGS="-f 1 -wi ${WARMUPS:-1} -i ${ITERATIONS:-2}"
  DTYPES=${DTYPES:-f32,bf16}
fi
OUT=${OUT:-jmh/target/contrastive}
CP="jmh/target/fovea-jmh-0.1.0-SNAPSHOT.jar:jmh/target/lib/*"
# shellcheck disable=SC2086
"$JAVA" -cp "$CP" org.openjdk.jmh.Main $DEFAULT_ARGS ${JMH_ARGS:-} -p dtype="$DTYPES" -p layout=batched \
  -rf json -rff "$OUT-batched.json" ContrastiveBench 1>&2
if [[ -z "${NO_SEQUENTIAL:-}" ]]; then
  # shellcheck disable=SC2086
  "$JAVA" -cp "$CP" org.openjdk.jmh.Main $DEFAULT_ARGS ${JMH_ARGS:-} -p dtype="$DTYPES" -p layout=sequential -p decode=vcd,avc \
    -rf json -rff "$OUT-sequential.json" ContrastiveBench 1>&2
fi

"$PY" - "$OUT-batched.json" "$OUT-sequential.json" <<'PYEOF'
import json, os, sys

step = {}
for f in sys.argv[1:]:
    if not os.path.exists(f):
        continue
    for r in json.load(open(f)):
        p = r["params"]
        ops = len(r["primaryMetric"]["rawData"][0])
        ms = r["secondaryMetrics"]["stepMs"]["score"] / ops  # the aux counter is summed over the measured ops
        key = (p["dtype"], p["decode"], p["layout"])
        step[key] = ms
for dtype in sorted({k[0] for k in step}):
    plain = step.get((dtype, "none", "batched"))
    for (d, m, layout), ms in sorted(step.items()):
        if d != dtype:
            continue
        name = f"{dtype}_{'plain' if m == 'none' else m}" + ("_sequential" if layout == "sequential" else "")
        print(f"{name}_step_ms: {ms:.1f}")
        if plain and m != "none":
            print(f"{name}_vs_plain: {ms / plain:.2f}")
PYEOF
