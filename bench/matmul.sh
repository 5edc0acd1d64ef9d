#!/usr/bin/env bash
# Matmul benchmarks: fovea Gemm/Gemv against OpenBLAS (JavaCPP), via JMH.
#
#   bench/matmul.sh                 full run: 3 forks, 10 x 1 s warm-up, 5 x 1 s measurement
#   QUICK=1 bench/matmul.sh         quick check: 1 fork, 3 x 1 s warm-up, 3 x 1 s measurement
#   JMH_ARGS='-f 2 -wi 5 -i 5 -w 1 -r 1' bench/matmul.sh   JMH options instead of the above (JMH
#                                   refuses an option given twice, so these replace the defaults)
#   SKIP_JMH=1 bench/matmul.sh      only the summary again, of the last run's $OUT
#   BENCH='GemvBench' bench/matmul.sh   only some benchmarks (JMH regexp)
#
# Prints the JMH table, then one `name: value` line per figure:
#   gemm_<shape>_t<threads>_ratio            OpenBLAS time / fovea time (> 1: fovea faster)
#   gemm_<shape>_t<threads>_gflops           fovea GFLOP/s
#   gemv_4096x11008_f32_t<threads>_ratio     sgemv time / fovea F32 time
#   gemv_4096x11008_<dtype>_t<threads>_rows_ratio_to_f32   fovea rows/s of dtype / fovea F32 rows/s
#   gemv_4096x11008_<kind>_t<threads>_gbps   weight bytes read per second (GB/s, 1e9)
set -euo pipefail

cd "$(dirname "$0")/.."
export JAVA_HOME=${JAVA_HOME:-$(ls -d /usr/lib/jvm/*temurin-25* 2>/dev/null | head -1)}
if [[ -z "$JAVA_HOME" || ! -x "$JAVA_HOME/bin/java" ]]; then
  echo "matmul.sh: no JDK 25 found; set JAVA_HOME to a JDK 25" >&2
  exit 1
fi
JAVA="$JAVA_HOME/bin/java"

if [[ -n "${QUICK:-}" ]]; then
  DEFAULT_ARGS="-f 1 -wi 3 -i 3 -w 1 -r 1"
else
  DEFAULT_ARGS="-f 3 -wi 10 -i 5 -w 1 -r 1"
fi
OUT=${OUT:-jmh/target/matmul.json}
if [[ -z "${SKIP_JMH:-}" ]]; then
  mvn -q -pl jmh -am -DskipTests package
  # shellcheck disable=SC2086
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$JAVA" -cp "jmh/target/fovea-jmh-0.1.0-SNAPSHOT.jar:jmh/target/lib/*" org.openjdk.jmh.Main \
    ${JMH_ARGS:-$DEFAULT_ARGS} -rf json -rff "$OUT" "${BENCH:-GemmBench|GemvBench}" 1>&2
fi

PY=$(command -v python3 || true)
if [[ -z "$PY" ]]; then
  echo "matmul.sh: python3 is needed to summarise $OUT" >&2
  exit 1
fi
"$PY" - "$OUT" <<'PYEOF'
import json, sys

rows = json.load(open(sys.argv[1]))
score = {}  # (benchmark, params...) -> mean time
for r in rows:
    p = r.get("params", {})
    name = r["benchmark"].rsplit(".", 2)[-2]
    unit = r["primaryMetric"]["scoreUnit"]
    s = r["primaryMetric"]["score"]
    s_sec = s * {"ms/op": 1e-3, "us/op": 1e-6, "ns/op": 1e-9, "s/op": 1.0}[unit]
    if name == "GemmBench":
        if p.get("dtype", "F32") == "F32":
            score[("gemm", p["shape"], p["impl"], p["threads"])] = s_sec
    else:
        score[("gemv", p["kind"], p["threads"])] = s_sec

K, N = 4096, 11008
weight_bytes = {"f32": 4 * K * N, "sgemv": 4 * K * N, "bf16": 2 * K * N,
                "q8_0": K * N // 32 * 34, "q4_0": K * N // 32 * 18}
lines = []
shapes = sorted({key[1] for key in score if key[0] == "gemm"},
                key=lambda s: tuple(map(int, s.split("x"))))
for shape in shapes:
    tag = "1024" if shape == "1024x1024x1024" else shape
    for t in ("1", "2"):
        ours = score.get(("gemm", shape, "fovea", t))
        blas = score.get(("gemm", shape, "openblas", t))
        if ours and blas:
            lines.append(f"gemm_{tag}_t{t}_ratio: {blas / ours:.2f}")
        if ours:
            m, k, n = map(int, shape.split("x"))
            lines.append(f"gemm_{tag}_t{t}_gflops: {2 * m * n * k / ours / 1e9:.1f}")
for t in ("1", "2"):
    f32 = score.get(("gemv", "f32", t))
    blas = score.get(("gemv", "sgemv", t))
    if f32 and blas:
        lines.append(f"gemv_4096x11008_f32_t{t}_ratio: {blas / f32:.2f}")
    for kind in ("bf16", "q8_0", "q4_0"):
        s = score.get(("gemv", kind, t))
        if s and f32:
            lines.append(f"gemv_4096x11008_{kind}_t{t}_rows_ratio_to_f32: {f32 / s:.2f}")
    for kind in ("f32", "bf16", "q8_0", "q4_0", "sgemv"):
        s = score.get(("gemv", kind, t))
        if s:
            lines.append(f"gemv_4096x11008_{kind}_t{t}_gbps: {weight_bytes[kind] / s / 1e9:.1f}")
print("\n".join(lines))
PYEOF
