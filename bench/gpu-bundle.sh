#!/usr/bin/env bash
# Builds what travels to the GPU machine (which has no Java and no network) into .gpu-bundle/ at
# the repository root (ignored by git):
# packed as .gpu-bundle/fovea-gpu-bundle.tar.xz (bench/gpu-check.sh unpacks it under /tmp):
#   jdk/   a jlink-ed JDK 25 runtime with only the modules jdeps finds (plus
#                      jdk.incubator.vector and jdk.unsupported), debug symbols and headers stripped
#   lib/   fovea-tensor, -gpu, -nn, -vit and -llm jars (kernels.ptx inside when nvcc was found;
#                      nn/vit/llm for the tiny LLaVA run end to end on the device),
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

echo "gpu-bundle: building fovea-tensor, fovea-gpu and fovea-llm (with nn, vit)"
nice -n 15 mvn -B -q ${MVN_OFFLINE:--o} -DskipTests -pl gpu,llm -am package 2>&1 | grep -v "^WARNING" || true
[ -f gpu/target/fovea-gpu-0.1.0-SNAPSHOT.jar ] || { echo "gpu-bundle: the build failed" >&2; exit 1; }
rm -rf "$out"
mkdir -p "$out/lib"
cp tensor/target/fovea-tensor-0*[0-9T].jar gpu/target/fovea-gpu-0*[0-9T].jar nn/target/fovea-nn-0*[0-9T].jar vit/target/fovea-vit-0*[0-9T].jar \
  llm/target/fovea-llm-0*[0-9T].jar "$out/lib/"
nice -n 15 mvn -B -q ${MVN_OFFLINE:--o} -pl gpu,llm dependency:copy-dependencies -DincludeScope=runtime -DexcludeGroupIds=dev.fovea -DoutputDirectory="$out/lib"
if ! unzip -l "$out"/lib/fovea-gpu-*.jar | grep -q kernels.ptx; then
  echo "gpu-bundle: note: no kernels.ptx in the jar (no nvcc here); the GPU machine will compile kernels.cu with NVRTC"
fi

echo "gpu-bundle: finding the JDK modules with jdeps"
# Our jars and JavaCPP's (jackson-databind's java.desktop and java.sql uses are optional, guarded
# inside jackson, so the jackson jar is not scanned; fovea-vit's image decoding (ImageIO) names
# java.desktop itself, which the tiny LLaVA check's classes need: the bundle is 25 MB with it, 17 without).
mods=$(for j in "$out"/lib/fovea-*.jar "$out"/lib/javacpp-[0-9]*.jar; do
  "$JAVA_HOME/bin/jdeps" --multi-release 25 --ignore-missing-deps --print-module-deps "$j" 2>/dev/null | tail -1
done | tr ',' '\n' | grep -E '^(java|jdk)\.' | sort -u | paste -sd, -)
mods=$(printf '%s\n' "$mods" jdk.incubator.vector jdk.unsupported | tr ',' '\n' | sort -u | paste -sd, -)
echo "gpu-bundle: modules $mods"
"$JAVA_HOME/bin/jlink" --add-modules "$mods" --output "$out/jdk" --strip-debug --no-header-files --no-man-pages --compress zip-0
# libjvm.so ships with its symbol table, which the JVM does not need to run (24 -> ~20 MiB)
chmod -R u+w "$out/jdk"
find "$out/jdk" -name '*.so' -exec strip --strip-unneeded {} +
[ -x "$out/jdk/bin/java" ] || { echo "gpu-bundle: jlink made no bin/java" >&2; exit 1; }
"$out/jdk/bin/java" --add-modules jdk.incubator.vector -version 2>&1 | grep -v incubator | head -1

# The CUDA presets' natives jar holds JNI libraries for every CUDA library (NPP, cuDNN, cuFFT...):
# keep cudart, cublas and nvrtc, the three the backend loads.
cudajar=$(ls "$out"/lib/cuda-*-linux-x86_64.jar)
slim=$(mktemp -d)
(cd "$slim" && unzip -q "$cudajar" && find org -name '*.so' ! -name 'libjnicudart.so' ! -name 'libjnicublas.so' ! -name 'libjninvrtc.so' -delete \
  && rm -f "$cudajar" && zip -qr -X "$cudajar" .)
rm -rf "$slim"

# One xz tarball: jlink's own compression leaves the module image at 12 MiB, xz over the
# uncompressed image does better, and the machine unpacks it in a second or two.
(cd "$out" && tar -cf - jdk lib | xz -9 -T2 > fovea-gpu-bundle.tar.xz)
echo "gpu-bundle: unpacked $(du -sb "$out/jdk" | cut -f1) bytes jdk + $(du -sb "$out/lib" | cut -f1) bytes jars"
rm -rf "$out/jdk" "$out/lib"
echo "gpu-bundle: $(du -b "$out/fovea-gpu-bundle.tar.xz" | cut -f1) bytes ($(du -h "$out/fovea-gpu-bundle.tar.xz" | cut -f1)) in $out/fovea-gpu-bundle.tar.xz"
echo "gpu-bundle: tracked files $(git ls-files -z | xargs -0 du -cb 2>/dev/null | tail -1 | cut -f1) bytes; the device tool carries at most 64 MiB in all"
