#!/usr/bin/env bash
# ViCrop stage timings on a LLaVA-1.5 with TinyLlama-1.1B decoder shapes and the CLIP ViT-L/14-336
# tower shape, random F32 weights (JMH VicropBench; needs ../shared/data for the LLaMA vocabulary and
# the COCO picture). One op = one question: method none = the baseline answer (image alone); the
# others = importance map + box + answer with [image, crop]; 20 greedy tokens each.
#
#   bench/vicrop.sh              full run: 22 decoder layers, map layer 14, 1 warm-up + 1 measured op per method
#                                (WARMUPS=, ITERATIONS= to change; about 10 minutes on 2 cores)
#   QUICK=1 bench/vicrop.sh      quick check: 4 decoder layers (map layer 2), 1 measured op, no warm-up
#   JMH_ARGS='...'               extra JMH options
#
# Prints the JMH table on stderr, then one `name: value` line per figure (seconds per op, and the
# overhead = time of the method / time of none):
#   <method>_total_s, <method>_map_s, <method>_box_ms, <method>_answer_s, <method>_overhead_vs_none
set -euo pipefail

cd "$(dirname "$0")/.."
export JAVA_HOME=${JAVA_HOME:-$(ls -d /usr/lib/jvm/*temurin-25* 2>/dev/null | head -1)}
if [[ -z "$JAVA_HOME" || ! -x "$JAVA_HOME/bin/java" ]]; then
  echo "vicrop.sh: no JDK 25 found; set JAVA_HOME to a JDK 25" >&2
  exit 1
fi
JAVA="$JAVA_HOME/bin/java"
PY=/usr/bin/python3

mvn -q -o -pl jmh -am -DskipTests package 2>&1 | grep -v '^WARNING' >&2 || true

if [[ -n "${QUICK:-}" ]]; then
  DEFAULT_ARGS="-f 1 -wi 0 -i 1 -p layers=4 -p layer=2"
else
  DEFAULT_ARGS="-f 1 -wi ${WARMUPS:-1} -i ${ITERATIONS:-1}"
fi
OUT=${OUT:-jmh/target/vicrop.json}
# shellcheck disable=SC2086
"$JAVA" -cp "jmh/target/fovea-jmh-0.1.0-SNAPSHOT.jar:jmh/target/lib/*" org.openjdk.jmh.Main \
  $DEFAULT_ARGS ${JMH_ARGS:-} -rf json -rff "$OUT" VicropBench 1>&2

"$PY" - "$OUT" <<'PYEOF'
import json, sys

rows = {}
for r in json.load(open(sys.argv[1])):
    m = r["params"]["method"]
    unit = {"ms/op": 1e-3, "us/op": 1e-6, "s/op": 1.0}[r["primaryMetric"]["scoreUnit"]]
    sec = r["secondaryMetrics"]
    # the aux counters hold the stage milliseconds of each op, summed over the measured ops
    ops = len(r["primaryMetric"]["rawData"][0])
    stage = lambda k: sec[k]["score"] / ops if k in sec else float("nan")
    rows[m] = {"total": r["primaryMetric"]["score"] * unit, "map": stage("mapMs") / 1e3, "box": stage("boxMs"),
               "answer": stage("answerMs") / 1e3}
lines = []
base = rows.get("none", {}).get("total")
for m in ["none", "rel-att", "grad-att", "pure-grad"]:
    if m not in rows:
        continue
    r, k = rows[m], m.replace("-", "_")
    lines.append(f"{k}_total_s: {r['total']:.2f}")
    if m != "none":
        lines.append(f"{k}_map_s: {r['map']:.2f}")
        lines.append(f"{k}_box_ms: {r['box']:.2f}")
    lines.append(f"{k}_answer_s: {r['answer']:.2f}")
    if base and m != "none":
        lines.append(f"{k}_overhead_vs_none: {r['total'] / base:.2f}")
print("\n".join(lines))
PYEOF
