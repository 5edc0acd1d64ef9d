#!/usr/bin/env bash
# AGLA's cost (issue 23): the per-question overhead of the image-prompt matching (BLIP ITM forward, the
# backward from the match logit to text layer 6's cross-attention, ITC, spline/blur/mask) and the per-token
# decode time relative to plain decoding, in the same run, on a LLaVA-1.5 with TinyLlama-1.1B decoder shapes
# and the CLIP ViT-L/14-336 tower plus a BLIP ITM of blip-itm-large-coco shapes (ViT-L/16 at 384), all random
# weights (JMH AglaBench; needs ../shared/data for the LLaMA and BERT vocabularies and the COCO picture). One op
# = one answer of 16 sampled tokens to a POPE question.
#
#   bench/agla.sh              22 decoder layers, F32, BLIP large; 1 warm-up + 2 measured ops (WARMUPS=, ITERATIONS=)
#   QUICK=1 bench/agla.sh      4 decoder layers, no warm-up, 1 measured op
#   BLIP=base bench/agla.sh    BLIP base shapes (ViT-B/16); JMH_ARGS='...' extra JMH options
#
# Prints the JMH table on stderr, then `name: value` lines: plain_step_ms, agla_step_ms, agla_vs_plain (decode
# step ratio), plain_answer_ms, agla_answer_ms, agla_ipm_ms (matching alone, per question) and
# agla_overhead_ms (agla answer - plain answer).
set -euo pipefail

cd "$(dirname "$0")/.."
export JAVA_HOME=${JAVA_HOME:-$(ls -d /usr/lib/jvm/*temurin-25* 2>/dev/null | head -1)}
if [[ -z "$JAVA_HOME" || ! -x "$JAVA_HOME/bin/java" ]]; then
  echo "agla.sh: no JDK 25 found; set JAVA_HOME to a JDK 25" >&2
  exit 1
fi
JAVA="$JAVA_HOME/bin/java"
PY=/usr/bin/python3

mvn -q -o -pl jmh -am -DskipTests package 2>&1 | grep -v '^WARNING' >&2 || true

if [[ -n "${QUICK:-}" ]]; then
  DEFAULT_ARGS="-f 1 -wi 0 -i 1 -p layers=4"
else
  DEFAULT_ARGS="-f 1 -wi ${WARMUPS:-1} -i ${ITERATIONS:-2}"
fi
OUT=${OUT:-jmh/target/agla.json}
CP="jmh/target/fovea-jmh-0.1.0-SNAPSHOT.jar:jmh/target/lib/*"
# shellcheck disable=SC2086
"$JAVA" -cp "$CP" org.openjdk.jmh.Main $DEFAULT_ARGS ${JMH_ARGS:-} -p blip="${BLIP:-large}" -rf json -rff "$OUT" AglaBench 1>&2

"$PY" - "$OUT" <<'PYEOF'
import json, sys

res = {}
for r in json.load(open(sys.argv[1])):
    p = r["params"]
    ops = len(r["primaryMetric"]["rawData"][0])
    sec = r["secondaryMetrics"]
    res[p["decode"]] = {"answer": r["primaryMetric"]["score"], "step": sec["stepMs"]["score"] / ops,
                        "ipm": sec["ipmMs"]["score"] / ops}
plain, agla = res.get("none"), res.get("agla")
if plain:
    print(f"plain_step_ms: {plain['step']:.1f}")
    print(f"plain_answer_ms: {plain['answer']:.0f}")
if agla:
    print(f"agla_step_ms: {agla['step']:.1f}")
    print(f"agla_answer_ms: {agla['answer']:.0f}")
    print(f"agla_ipm_ms: {agla['ipm']:.0f}")
if plain and agla:
    print(f"agla_vs_plain: {agla['step'] / plain['step']:.2f}")
    print(f"agla_overhead_ms: {agla['answer'] - plain['answer']:.0f}")
PYEOF
