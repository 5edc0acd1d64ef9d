#!/usr/bin/env bash
# InstructBLIP at full size (issue 24, item 4): a model with the shapes of Salesforce/instructblip-vicuna-7b
# (EVA ViT-g/14 at 224 with 39 blocks, the 12-layer Q-Former with 32 queries, Vicuna-7B; random BF16 weights,
# 15.8 GB in four safetensors shards) is loaded with its weights mapped and answers one question; the run
# reports the time of each stage and how far the process's resident memory grew against the bound
# 1.1 x weight bytes + KV cache bytes.
#
#   bench/instructblip-memory.sh                 8 new tokens about ../shared/data/images/Confusing-Pictures.jpg
#   NEW_TOKENS=4 QUESTION='...' IMAGE=x.png ...  another answer length, question or picture
#   MODEL=/some/dir ...                          where the folder is written (default /tmp/fovea-instructblip-7b;
#                                                needs 16 GB of disk); written once, then reused
#   HEAP=1g ...                                  the fixed, pre-touched Java heap (default 1g)
#   FOVEA_WEIGHTS=copy ...                       the weights copied into the process instead (the bound is for map)
#   KEEP=0 ...                                   delete the folder at the end
#
# The folder is written by dev.fovea.jmh.InstructBlipFolder (random sign and mantissa bits under one exponent
# per tensor, streamed 1 MiB at a time; the LLaMA and BERT vocabularies come from ../shared/data). The answer
# runs in dev.fovea.jmh.InstructBlipMemory: the steps of `./fovea ask --model FOLDER --image IMAGE --question
# QUESTION --json` (which reports the same stages as stages_ms) through the same API, in a JVM whose heap is
# fixed and pre-touched, so the VmRSS/VmHWM growth it reads from /proc/self/status after start-up is the model's:
# weight pages, KV cache, activations, compiled code.
#
# Prints `name: value` lines: weights_mode, threads, heap_max_mib; load_ms (open the shards, check and bind
# every tensor, read the tokenizers), page_in_ms (touch every weight page once, as ask does), preprocess_ms,
# vision_ms, qformer_ms, projection_ms, prepare_ms (the three plus the text embedding), prefill_ms,
# step_median_ms, step_ms, decode_ms, total_ms; weight_bytes, kv_cache_bytes, scope_bytes (activations the
# answer's scope held at the end); rss_* and hwm_mib; peak_growth_mib (VmHWM - VmRSS before loading), bound_mib,
# growth_over_weights_plus_cache, within_bound; the answer's ids and text. Exits 1 when the bound is exceeded.
set -euo pipefail

cd "$(dirname "$0")/.."
export JAVA_HOME=${JAVA_HOME:-$(ls -d /usr/lib/jvm/*temurin-25* 2>/dev/null | head -1)}
if [[ -z "$JAVA_HOME" || ! -x "$JAVA_HOME/bin/java" ]]; then
  echo "instructblip-memory.sh: no JDK 25 found; set JAVA_HOME to a JDK 25" >&2
  exit 1
fi
JAVA="$JAVA_HOME/bin/java"
MODEL=${MODEL:-/tmp/fovea-instructblip-7b}
IMAGE=${IMAGE:-../shared/data/images/Confusing-Pictures.jpg}
QUESTION=${QUESTION:-What is unusual about this image?}
NEW_TOKENS=${NEW_TOKENS:-8}
HEAP=${HEAP:-1g}

mvn -q -o -pl jmh -am -DskipTests package 2>&1 | grep -v '^WARNING' >&2 || true
CP="jmh/target/fovea-jmh-0.1.0-SNAPSHOT.jar:jmh/target/lib/*"
OPTS=(--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED
  -XX:CompileCommand=quiet -XX:CompileCommand=inline,dev.fovea.tensor.cpu.CpuMath::* -XX:PerMethodTrapLimit=10000)

"$JAVA" "${OPTS[@]}" -cp "$CP" dev.fovea.jmh.InstructBlipFolder "$MODEL" 2> >(grep -v '^WARNING: Using incubator' >&2)
echo "free -m before the run:" >&2
free -m >&2
status=0
"$JAVA" "${OPTS[@]}" -Xms"$HEAP" -Xmx"$HEAP" -XX:+AlwaysPreTouch -Dfovea.weights="${FOVEA_WEIGHTS:-map}" -cp "$CP" \
  dev.fovea.jmh.InstructBlipMemory "$MODEL" "$IMAGE" "$QUESTION" "$NEW_TOKENS" 2> >(grep -v '^WARNING: Using incubator' >&2) || status=$?
echo "heap: -Xms$HEAP -Xmx$HEAP -XX:+AlwaysPreTouch"
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo), load average $(cut -d' ' -f1-3 /proc/loadavg)"
if [[ "${KEEP:-1}" == 0 ]]; then
  rm -rf "$MODEL"
fi
exit $status
