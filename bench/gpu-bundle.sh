#!/usr/bin/env bash
# Builds what travels to the GPU machine (which has no Java and no network) into .gpu-bundle/ at
# the repository root (ignored by git):
#   .gpu-bundle/jdk/   a jlink-ed JDK 25 runtime with only the modules jdeps finds (plus
#                      jdk.incubator.vector and jdk.unsupported), debug symbols and headers stripped
#   .gpu-bundle/lib/   fovea-tensor and fovea-gpu jars (kernels.ptx inside when nvcc was found),
#                      their dependencies, and the JavaCPP + CUDA presets jars for linux-x86_64 only
#                      (no -platform, no -redist: the CUDA libraries come from the machine's
#                      PyTorch virtual environment, see bench/gpu-check.sh)
# and prints its size. The device tool's working tree limit is 64 MiB in all, the tracked files
# (about 32 MiB) included, so the bundle must stay under about 30 MiB.
#
# Then, from the checkout the device tool sends (the session's own checkout), one call:
#   run(command="bash bench/gpu-check.sh", carry=[".gpu-bundle"], timeout_s=480)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root="$PWD"
out="$root/.gpu-bundle"
java_ok() { [ -x "$1/bin/jlink" ] && "$1/bin/java" -version 2>&1 | grep -qE 'version "25'; }
if [ -z "${JAVA_HOME:-}" ] || ! java_ok "$JAVA_HOME"; then
  JAVA_HOME=""
  for d in /usr/lib/jvm/*temurin-25* /usr/lib/jvm/*-25*; do
    if [ -d "$d" ] && java_ok "$d"; then JAVA_HOME="$d"; break; fi
  done
fi
[ -n "$JAVA_HOME" ] || { echo "gpu-bundle: needs a JDK 25 with jlink (set JAVA_HOME)" >&2; exit 2; }
export JAVA_HOME

echo "gpu-bundle: building fovea-tensor and fovea-gpu"
nice -n 15 mvn -B -q ${MVN_OFFLINE:--o} -DskipTests -pl gpu -am package
rm -rf "$out"
mkdir -p "$out/lib"
cp tensor/target/fovea-tensor-*.jar gpu/target/fovea-gpu-*.jar "$out/lib/"
nice -n 15 mvn -B -q ${MVN_OFFLINE:--o} -pl gpu dependency:copy-dependencies -DincludeScope=runtime -DexcludeGroupIds=dev.fovea -DoutputDirectory="$out/lib"
if ! unzip -l "$out"/lib/fovea-gpu-*.jar | grep -q kernels.ptx; then
  echo "gpu-bundle: note: no kernels.ptx in the jar (no nvcc here); the GPU machine will compile kernels.cu with NVRTC"
fi

echo "gpu-bundle: finding the JDK modules with jdeps"
mods=$("$JAVA_HOME/bin/jdeps" --multi-release 25 --ignore-missing-deps --print-module-deps --class-path "$out/lib/*" "$out"/lib/*.jar)
mods="$mods,jdk.incubator.vector,jdk.unsupported"
echo "gpu-bundle: modules $mods"
"$JAVA_HOME/bin/jlink" --add-modules "$mods" --output "$out/jdk" \
  --strip-debug --no-header-files --no-man-pages --compress zip-9 --strip-native-commands 2>/dev/null \
  || "$JAVA_HOME/bin/jlink" --add-modules "$mods" --output "$out/jdk" --strip-debug --no-header-files --no-man-pages --compress zip-9
# libjvm.so carries a symbol table that the JVM does not need to run
if command -v strip >/dev/null; then
  find "$out/jdk" -name '*.so' -exec strip --strip-unneeded {} + 2>/dev/null || true
fi
[ -x "$out/jdk/bin/java" ] || { echo "gpu-bundle: jlink made no bin/java" >&2; exit 1; }
"$out/jdk/bin/java" --add-modules jdk.incubator.vector -version 2>&1 | head -1
echo "gpu-bundle: $(du -sb "$out/jdk" | cut -f1) bytes jdk, $(du -sb "$out/lib" | cut -f1) bytes jars"
echo "gpu-bundle: total $(du -sb "$out" | cut -f1) bytes ($(du -sh "$out" | cut -f1)) in $out"
