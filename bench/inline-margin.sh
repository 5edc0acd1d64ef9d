#!/usr/bin/env bash
# How close the vector kernels' calls of our own methods come to C2's inlining cut-off (see
# Gemv's class comment): runs KernelAllocationTest RUNS times (default 3) with -XX:+LogCompilation
# and prints, per compiled kernel and callee that takes or returns a vector, the largest parse node
# count seen at the call (C2 stops inlining such calls past 18,000). Needs python3.
#
#   bench/inline-margin.sh            RUNS=6 bench/inline-margin.sh
set -euo pipefail

cd "$(dirname "$0")/.."
export JAVA_HOME=${JAVA_HOME:-$(ls -d /usr/lib/jvm/*temurin-25* 2>/dev/null | head -1)}
if [[ -z "$JAVA_HOME" || ! -x "$JAVA_HOME/bin/java" ]]; then
  echo "inline-margin.sh: no JDK 25 found; set JAVA_HOME to a JDK 25" >&2
  exit 1
fi
LOGS=$(mktemp -d)
trap 'rm -rf "$LOGS"' EXIT
# The surefire flags of the root pom (fovea.jvm.flags and argLine, which -DargLine replaces),
# plus the compile log: keep them in step with the pom.
FLAGS="--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -XX:CompileCommand=quiet"
FLAGS+=" -XX:CompileCommand=inline,dev.fovea.tensor.cpu.CpuMath::* -XX:PerMethodTrapLimit=10000 -Xss4m -Dfovea.scope.poison=true"
FLAGS+=" -XX:+UnlockDiagnosticVMOptions -XX:+LogCompilation -XX:LogFile=$LOGS/comp%p.log"
mvn -B -o -q install -DskipTests -pl tensor -am >/dev/null
for i in $(seq "${RUNS:-3}"); do
  if mvn -B -o surefire:test@allocation -pl tensor "-DargLine=$FLAGS" >"$LOGS/run$i.txt" 2>&1; then
    echo "run $i: KernelAllocationTest passed"
  else
    echo "run $i: KernelAllocationTest FAILED"; grep -m3 "heap bytes" "$LOGS/run$i.txt" || true
  fi
done
python3 bench/inline_margin.py "$LOGS"/comp*.log | head -"${TOP:-25}"
