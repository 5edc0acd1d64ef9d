#!/usr/bin/env bash
# Compiles the CUDA kernels to PTX at build time: build-ptx.sh SOURCE.cu OUT.ptx
# Where no nvcc exists the build goes on without PTX and the backend compiles SOURCE with NVRTC at
# run time (KernelSource). PTX for compute_75 (the oldest target nvcc 13 keeps); the driver
# compiles it for the GPU it runs on (sm_90 on the H100/H200) when the module loads.
set -euo pipefail
src="$1"
out="$2"
nvcc="${NVCC:-$(command -v nvcc || true)}"
if [ -z "$nvcc" ] && [ -x /usr/local/cuda/bin/nvcc ]; then nvcc=/usr/local/cuda/bin/nvcc; fi
if [ -z "$nvcc" ]; then
  echo "build-ptx: no nvcc on PATH or in /usr/local/cuda: kernels.ptx not built; NVRTC will compile kernels.cu at run time"
  rm -f "$out"
  exit 0
fi
mkdir -p "$(dirname "$out")"
if [ -f "$out" ] && [ "$out" -nt "$src" ]; then
  exit 0
fi
"$nvcc" -ptx -arch=compute_75 -o "$out" "$src"
echo "build-ptx: $(basename "$out") built with $("$nvcc" --version | tail -1)"
