#!/usr/bin/python3
"""PyTorch baseline for bench/decode.sh: the same LLaMA shapes as jmh LlamaBench (TinyLlama-1.1B:
hidden 2048, intermediate 5632, 32 heads, 4 KV heads, vocabulary 32000; --layers of them) with
random weights, HF's forward (modeling_llama.py: RMSNorm, rotate_half RoPE, repeat_kv, float32
softmax, SwiGLU) with a preallocated KV cache, under torch.inference_mode.

Prints one JSON object per (dtype, threads): prefill seconds for --context tokens (median of
--reps) and decode seconds per token at that context (median of --steps steps, cache rolled back).
"""
import argparse
import json
import math
import statistics
import time

import torch

p = argparse.ArgumentParser()
p.add_argument("--layers", type=int, default=22)
p.add_argument("--context", type=int, default=600)
p.add_argument("--dtypes", default="f32,bf16")
p.add_argument("--threads", default="1,2")
p.add_argument("--reps", type=int, default=3)
p.add_argument("--steps", type=int, default=10)
a = p.parse_args()

from tinyllama import C, D, F, H, HKV, V  # noqa: E402 (bench/ is this script's directory)
EPS = 1e-5


def rms(x, w):
    xf = x.float()
    return w * (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + EPS)).to(x.dtype)


def rot(x):
    return torch.cat((-x[..., D // 2:], x[..., :D // 2]), -1)


class Model:
    def __init__(self, dt):
        g = torch.Generator().manual_seed(0)

        def w(*shape):
            return torch.empty(*shape, dtype=dt).uniform_(-1, 1, generator=g)

        self.embed = w(V, C)
        self.layers = [dict(n1=torch.ones(C, dtype=dt), q=w(H * D, C), k=w(HKV * D, C), v=w(HKV * D, C), o=w(C, H * D),
                            n2=torch.ones(C, dtype=dt), g=w(F, C), u=w(F, C), d=w(C, F)) for _ in range(a.layers)]
        self.norm = torch.ones(C, dtype=dt)
        self.head = w(V, C)
        self.dt = dt
        inv = 1.0 / (10000.0 ** (torch.arange(0, D, 2).float() / D))
        ang = torch.arange(4096).float()[:, None] * inv[None]
        emb = torch.cat((ang, ang), -1)
        self.cos, self.sin = emb.cos(), emb.sin()

    def new_cache(self, n):
        return [(torch.zeros(1, HKV, n, D, dtype=self.dt), torch.zeros(1, HKV, n, D, dtype=self.dt)) for _ in range(a.layers)], [0]

    def forward(self, ids, cache):
        kv, pos = cache
        T = ids.shape[0]
        p0 = pos[0]
        h = self.embed[ids][None]
        cos = self.cos[p0:p0 + T].to(self.dt)[None, None]
        sin = self.sin[p0:p0 + T].to(self.dt)[None, None]
        for L, (kc, vc) in zip(self.layers, kv):
            x = rms(h, L["n1"])
            q = (x @ L["q"].T).view(1, T, H, D).transpose(1, 2)
            k = (x @ L["k"].T).view(1, T, HKV, D).transpose(1, 2)
            v = (x @ L["v"].T).view(1, T, HKV, D).transpose(1, 2)
            q = q * cos + rot(q) * sin
            k = k * cos + rot(k) * sin
            kc[:, :, p0:p0 + T] = k
            vc[:, :, p0:p0 + T] = v
            S = p0 + T
            kk = kc[:, :, :S, None].expand(1, HKV, S, H // HKV, D).transpose(2, 3).reshape(1, H, S, D)
            vv = vc[:, :, :S, None].expand(1, HKV, S, H // HKV, D).transpose(2, 3).reshape(1, H, S, D)
            s = q @ kk.transpose(2, 3) / math.sqrt(D)
            if T > 1:
                s = s + torch.full((T, S), float("-inf"), dtype=s.dtype).triu(p0 + 1)
            pr = torch.softmax(s, -1, dtype=torch.float32).to(self.dt)
            h = h + (pr @ vv).transpose(1, 2).reshape(1, T, C) @ L["o"].T
            x = rms(h, L["n2"])
            h = h + (torch.nn.functional.silu(x @ L["g"].T) * (x @ L["u"].T)) @ L["d"].T
        pos[0] += T
        return rms(h[:, -1:], self.norm) @ self.head.T


ids = torch.tensor([(i * 7919 + 3) % V for i in range(a.context)])
for dname in a.dtypes.split(","):
    dt = {"f32": torch.float32, "bf16": torch.bfloat16}[dname]
    m = Model(dt)
    for t in [int(x) for x in a.threads.split(",")]:
        torch.set_num_threads(t)
        with torch.inference_mode():
            times = []
            for r in range(a.reps + 1):
                cache = m.new_cache(a.context + 8)
                t0 = time.perf_counter()
                m.forward(ids, cache)
                if r > 0:  # the first run warms up
                    times.append(time.perf_counter() - t0)
            prefill = statistics.median(times)
            steps = []
            for s in range(a.steps + 2):
                cache[1][0] = a.context
                t0 = time.perf_counter()
                m.forward(torch.tensor([17]), cache)
                if s >= 2:
                    steps.append(time.perf_counter() - t0)
            decode = statistics.median(steps)
        print(json.dumps({"dtype": dname, "threads": t, "layers": a.layers, "context": a.context, "prefill_s": prefill, "decode_s": decode}),
              flush=True)
    del m
