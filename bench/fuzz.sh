#!/usr/bin/env bash
# Parser fuzz campaign (issue 21; not part of CI): every parser (weights, configs, tokenizers, images,
# VQA data; `--list` names them) gets 100,000 generated inputs, mutations of the repository's fixtures
# (bit flips, truncations, splices, duplicated chunks) and structure-aware hostile values (huge
# lengths, negative and overflowing numbers, wrong JSON types, deep nests, absurd shapes, dtypes and
# offsets), each under a time limit. Seeds: the test fixtures of this checkout (run from anywhere).
#
#   bench/fuzz.sh                                  all parsers, 100,000 inputs each, seed 1, 1 thread
#   bench/fuzz.sh --inputs 2000 --threads 2        a quick pass
#   bench/fuzz.sh --parsers gguf,png --seed 7      some parsers, another seed
#   bench/fuzz.sh --parsers png --seed 1 --index 4711   one input again, its outcome and stack trace printed
#   HEAP=2g bench/fuzz.sh ...                      the JVM's heap limit (default 1g)
#
# Options: --inputs N, --seed S, --parsers a,b, --threads T, --timeout-s X (per input, default 10),
# --index I, --findings DIR (default fuzz-findings), --work DIR (default /dev/shm), --list.
# Input i of parser p is made from (seed, p, i) alone: runs are reproducible whatever the thread count.
#
# Prints a table (per parser: inputs tried, read fine, rejected with a typed error naming the file,
# anything else, hangs, time, peak heap (the most in use, sampled every ms and before each collection,
# garbage included), heap after GC (the most in use right after a collection) and the most one input
# allocated), then one `name: value` line per figure:
# fuzz_inputs, fuzz_read, fuzz_typed, fuzz_untyped, fuzz_hangs (both must be 0), fuzz_peak_heap_mb,
# fuzz_peak_live_heap_mb, fuzz_wall_s. Each untyped failure or hang is saved under the findings folder
# with its input files, stack trace and the command that reproduces it; report.txt there lists the
# commonest typed rejections per parser. Exit status 1 when anything failed untyped or hung.
set -euo pipefail
cd "$(dirname "$0")/.."
export JAVA_HOME=${JAVA_HOME:-$(ls -d /usr/lib/jvm/*temurin-25* 2>/dev/null | head -1)}
if [[ -z "$JAVA_HOME" || ! -x "$JAVA_HOME/bin/java" ]]; then
  echo "fuzz.sh: no JDK 25 found; set JAVA_HOME to a JDK 25" >&2
  exit 1
fi
if [[ -z "${SKIP_BUILD:-}" ]]; then
  # the campaign lives in jmh's test sources (it reuses tensor's test generators): package builds
  # jmh/target/test-classes and tensor's test jar too (-DskipTests skips running tests, not compiling them)
  nice -n 10 mvn -q -o -pl jmh -am -DskipTests package 2>&1 | grep -v '^WARNING' >&2 || true
fi
# -Xss1m: parsing threads get the JVM's default stack, as a caller's thread would
exec nice -n 10 "$JAVA_HOME/bin/java" -Xmx"${HEAP:-1g}" -Xss1m --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
  -XX:CompileCommand=quiet -XX:CompileCommand=inline,dev.fovea.tensor.cpu.CpuMath::* -XX:PerMethodTrapLimit=10000 -Djava.awt.headless=true \
  -cp "jmh/target/test-classes:jmh/target/fovea-jmh-0.1.0-SNAPSHOT.jar:jmh/target/lib/*:tensor/target/fovea-tensor-0.1.0-SNAPSHOT-tests.jar" \
  dev.fovea.jmh.fuzz.Fuzz "$@" 2> >(grep --line-buffered -v 'WARNING: Using incubator modules' >&2)
