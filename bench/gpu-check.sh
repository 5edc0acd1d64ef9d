#!/usr/bin/env bash
# The CUDA backend's check, for the GPU machine (no Java, no network there): one call of the
# device tool from the checkout it sends, with the bundle that bench/gpu-bundle.sh built there:
#
#   run(command="bash bench/gpu-check.sh", carry=[".gpu-bundle"], timeout_s=480)
#
# 1. unpacks .gpu-bundle/fovea-gpu-bundle.tar.xz (a jlink-ed JDK 25 and the jars) under /tmp;
# 2. points JavaCPP at the CUDA 13 libraries of the machine's PyTorch (its nvidia-* packages:
#    libcudart.so.13, libcublas.so.13, libnvrtc.so.13) and the driver's libcuda.so.1;
# 3. runs dev.fovea.llm.llava.LlavaDeviceCheck: the checked-in tiny LLaVA-1.5 moved to cuda:0
#    (Module.to) against the CPU: image features and every prompt logit (1e-4 relative), the greedy
#    answer token for token with each step's logits (1e-4), the pixel gradient (1e-3);
#    and three decoding states (one stream each: a fork and an independent state) stepped in turn
#    give the single state's tokens and logits (1e-4);
# 4. runs dev.fovea.llm.check.ModelsDeviceCheck: the other tiny models of the test fixtures on
#    cuda:0 against the CPU: InstructBLIP (vision, Q-Former and its attention, queries, every prompt
#    logit, decoder attention, greedy answer), BLIP ITM (image states, ITM both conventions, ITC,
#    AGLA's cross-attention and its gradient), DINO (hidden states, attentions, ABS's CLS map), CLIP
#    (text and image embeddings, zero-shot class embeddings, probabilities, ranking); bound 1e-4
#    relative, 1e-3 for the gradient;
# 5. runs dev.fovea.gpu.GpuCheck: every op, the backward of a small graph, two streams stepped in
#    turn over reused memory, and tiny LLaMA/ViT blocks on the CPU and on cuda:0, printing the
#    largest relative difference of each (bound 1e-4; 5e-4 for the two-layer model blocks) and the
#    count of failures, then fovea's throughput at TinyLlama-1.1B (decode F32 and BF16, prefill 512)
#    and ViT-L/14-336 (encode) sizes;
# 6. runs bench/gpu_torch_bench.py: PyTorch-CUDA at the same shapes, for comparison.
# Exits non-zero when a case fails or the backend does not open; everything ends within eight
# minutes (timeouts below: 60 + 50 + 300 + 60 s at most, plus unpacking; the run call gives 480).
#
# Here, with no GPU: bash bench/gpu-check.sh --dry-run (the CPU half, the "no CUDA device" path,
# and the PyTorch script on the CPU at tiny shapes).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
dry=0
[ "${1:-}" = "--dry-run" ] && dry=1
bundle=.gpu-bundle/fovea-gpu-bundle.tar.xz
if [ ! -f "$bundle" ]; then
  echo "gpu-check: $bundle is missing: run bench/gpu-bundle.sh in this checkout and name .gpu-bundle in the run's carry" >&2
  exit 2
fi
work=/tmp/fovea-gpu-check
rm -rf "$work" && mkdir -p "$work"
tar -xJf "$bundle" -C "$work" || { echo "gpu-check: cannot unpack $bundle" >&2; exit 2; }

# CUDA libraries: the PyTorch venv's nvidia-* packages first, then the toolkit and the driver.
py=$(command -v python3 || true)
dirs=""
if [ -n "$py" ]; then
  for sp in $("$py" -c 'import site, sys; print(" ".join(site.getsitepackages() + [site.getusersitepackages()]))' 2>/dev/null); do
    [ -d "$sp/nvidia" ] || continue
    for lib in libcudart.so.13 libcublas.so.13 libcublasLt.so.13 libnvrtc.so.13 libnvrtc-builtins.so.13.0; do
      d=$(find "$sp/nvidia" -name "$lib*" -printf '%h\n' 2>/dev/null | head -1)
      [ -n "$d" ] && case ":$dirs:" in *":$d:"*) ;; *) dirs="$dirs:$d" ;; esac
    done
  done
fi
for d in /usr/local/cuda/lib64 /usr/local/nvidia/lib64 /usr/lib/x86_64-linux-gnu; do
  [ -d "$d" ] && dirs="$dirs:$d"
done
dirs="${dirs#:}"
export LD_LIBRARY_PATH="$dirs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
echo "gpu-check: CUDA libraries from $dirs"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader

# the PyTorch comparison needs a python3 that imports torch (on the GPU machine: the plain python3)
tpy="$py"
for cand in "$py" /usr/bin/python3; do
  if [ -n "$cand" ] && "$cand" -c 'import torch' 2>/dev/null; then tpy="$cand"; break; fi
done

java="$work/jdk/bin/java"
flags=(--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -XX:+UseParallelGC -Xmx64g
  -Dorg.bytedeco.javacpp.pathsFirst=true "-Djava.library.path=$dirs" -Dorg.bytedeco.javacpp.cachedir=/tmp/javacpp-cache
  -XX:CompileCommand=quiet "-XX:CompileCommand=inline,dev.fovea.tensor.cpu.CpuMath::*" -XX:PerMethodTrapLimit=10000)
status=0
if [ $dry = 1 ]; then
  timeout 300 "$java" "${flags[@]}" -cp "$work/lib/*" dev.fovea.gpu.GpuCheck --dry-run 2>&1 | grep -v "incubator modules" || status=1
  echo "gpu-check: the no-device path (must say 'no CUDA device' and exit 2):"
  timeout 60 "$java" "${flags[@]}" -cp "$work/lib/*" dev.fovea.gpu.GpuCheck --no-bench 2>&1 | grep -v "incubator modules"
  [ "${PIPESTATUS[0]}" = 2 ] || { echo "gpu-check: expected exit status 2 without a device"; status=1; }
  echo "gpu-check: the tiny LLaVA end to end, CPU against CPU (the harness):"
  timeout 90 "$java" "${flags[@]}" -cp "$work/lib/*" dev.fovea.llm.llava.LlavaDeviceCheck --device cpu --tokens 4 2>&1 | grep -v "incubator modules"
  [ "${PIPESTATUS[0]}" = 0 ] || status=1
  echo "gpu-check: InstructBLIP, BLIP/AGLA, DINO/ABS, CLIP, CPU against CPU (the harness):"
  timeout 120 "$java" "${flags[@]}" -cp "$work/lib/*" dev.fovea.llm.check.ModelsDeviceCheck --device cpu 2>&1 | grep -v "incubator modules"
  [ "${PIPESTATUS[0]}" = 0 ] || status=1
  timeout 120 "$tpy" bench/gpu_torch_bench.py --device cpu --small --steps 4 || status=1
else
  echo "gpu-check: the tiny LLaVA end to end on cuda:0 against the CPU:"
  timeout 60 "$java" "${flags[@]}" -cp "$work/lib/*" dev.fovea.llm.llava.LlavaDeviceCheck --device cuda:0 --tokens 8 2>&1 | grep -v "incubator modules"
  llava=${PIPESTATUS[0]}
  [ "$llava" = 124 ] && echo "gpu-check: LlavaDeviceCheck ran past its 60 s"
  echo "gpu-check: InstructBLIP, BLIP/AGLA, DINO/ABS, CLIP on cuda:0 against the CPU:"
  timeout 50 "$java" "${flags[@]}" -cp "$work/lib/*" dev.fovea.llm.check.ModelsDeviceCheck --device cuda:0 2>&1 | grep -v "incubator modules"
  models=${PIPESTATUS[0]}
  [ "$models" = 124 ] && echo "gpu-check: ModelsDeviceCheck ran past its 50 s"
  timeout 300 "$java" "${flags[@]}" -cp "$work/lib/*" dev.fovea.gpu.GpuCheck 2>&1 | grep -v "incubator modules"
  status=${PIPESTATUS[0]}
  [ "$status" = 124 ] && echo "gpu-check: GpuCheck ran past its 300 s (the ops' verdict is the 'cases: N passed, M failed' line, printed before the timings)"
  [ "$status" = 0 ] && [ "$llava" != 0 ] && status=$llava
  [ "$status" = 0 ] && [ "$models" != 0 ] && status=$models
  PYTHONUNBUFFERED=1 timeout 60 "$tpy" bench/gpu_torch_bench.py --device cuda --steps 32 || echo "gpu-check: the PyTorch comparison failed (not counted)"
fi
echo "gpu-check: exit status $status"
exit "$status"
