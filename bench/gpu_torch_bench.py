"""PyTorch's numbers for bench/gpu-check.sh: the same shapes and steps as dev.fovea.gpu.Bench.

TinyLlama-1.1B decode (F32 and BF16 weights; single-token steps after a 128-token prefill, the
logits copied to the host each step), TinyLlama prefill of 512 tokens (F32), CLIP ViT-L/14-336
encode (F32, 577 tokens). Random weights, one layer's set shared by every layer, as in Bench.java.
F32 matmuls without TF32, as fovea's cuBLAS calls.

    python3 bench/gpu_torch_bench.py [--device cuda] [--steps 32] [--small]

--small runs tiny shapes (a dry run of this script on a CPU).
"""
import argparse
import math
import time

import torch
import torch.nn.functional as F


def llama_shapes(small):
    # dim, layers, heads, kv heads, ffn, vocab
    return (64, 2, 4, 2, 172, 101) if small else (2048, 22, 32, 4, 5632, 32000)


def vit_shapes(small):
    # dim, layers, heads, mlp, image, patch
    return (64, 2, 4, 256, 28, 14) if small else (1024, 24, 16, 4096, 336, 14)


def sync(dev):
    if dev.type == "cuda":
        torch.cuda.synchronize()


def sdpa(q, k, v, is_causal=False):
    if hasattr(F, "scaled_dot_product_attention"):  # torch >= 2.0 (the GPU machine's 2.11)
        return F.scaled_dot_product_attention(q, k, v, is_causal=is_causal)
    s = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])  # older torch (a CPU dry run)
    if is_causal:
        s = s + torch.full(s.shape[-2:], float("-inf"), device=s.device).triu(1)
    return s.softmax(-1) @ v


def rms_norm(x, w, eps):
    # F.rms_norm exists only in newer torch; the same formula as fovea's (LLaMA's)
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def rope_tables(pos, t, d, dev):
    inv = 1.0 / (10000 ** (torch.arange(0, d, 2, dtype=torch.float32, device=dev) / d))
    ang = torch.arange(pos, pos + t, dtype=torch.float32, device=dev)[:, None] * inv[None, :]
    return ang.cos(), ang.sin()


def rope(x, c, s):
    h = x.shape[-1] // 2
    x1, x2 = x[..., :h], x[..., h:]
    return torch.cat([x1 * c - x2 * s, x2 * c + x1 * s], dim=-1)


class Llama:
    def __init__(self, shape, dtype, dev):
        dim, self.layers, self.heads, self.kv, ffn, vocab = shape
        self.dim, self.hd = dim, dim // self.heads
        g = torch.Generator(device="cpu").manual_seed(1)

        def w(*s, scale):
            return ((torch.rand(*s, generator=g) * 2 - 1) * scale).to(dtype).to(dev)

        a, f = 1 / math.sqrt(dim), 1 / math.sqrt(ffn)
        kvd = self.kv * self.hd
        self.wq, self.wk, self.wv, self.wo = w(dim, dim, scale=a), w(kvd, dim, scale=a), w(kvd, dim, scale=a), w(dim, dim, scale=a)
        self.gate, self.up, self.down = w(ffn, dim, scale=a), w(ffn, dim, scale=a), w(dim, ffn, scale=f)
        self.n1 = torch.ones(dim, device=dev)
        self.n2 = torch.ones(dim, device=dev)
        self.norm = torch.ones(dim, device=dev)
        self.embed = ((torch.rand(vocab, dim, generator=g) * 2 - 1)).to(dev)
        self.dtype, self.dev = dtype, dev

    def lin(self, x, wt):
        # F32 activations, weights widened to F32 (fovea computes in F32 whatever the stored dtype)
        return x @ wt.float().t() if wt.dtype != torch.float32 else x @ wt.t()

    def forward(self, ids, pos, cache):
        t = ids.shape[0]
        x = self.embed[ids]
        c, s = rope_tables(pos, t, self.hd, self.dev)
        for l in range(self.layers):
            h = rms_norm(x, self.n1, 1e-5)
            q = self.lin(h, self.wq).view(1, t, self.heads, self.hd).transpose(1, 2)
            k = self.lin(h, self.wk).view(1, t, self.kv, self.hd).transpose(1, 2)
            v = self.lin(h, self.wv).view(1, t, self.kv, self.hd).transpose(1, 2)
            q, k = rope(q, c, s), rope(k, c, s)
            if cache is not None:
                cache[0][l][:, :, pos:pos + t] = k
                cache[1][l][:, :, pos:pos + t] = v
                k, v = cache[0][l][:, :, :pos + t], cache[1][l][:, :, :pos + t]
            rep = self.heads // self.kv
            k, v = k.repeat_interleave(rep, dim=1), v.repeat_interleave(rep, dim=1)
            # prefills start at position 0 (t == keys: causal); decode steps see every cached key
            a = sdpa(q, k, v, is_causal=t > 1)
            x = x + self.lin(a.transpose(1, 2).reshape(t, self.dim), self.wo)
            h2 = rms_norm(x, self.n2, 1e-5)
            x = x + self.lin(F.silu(self.lin(h2, self.gate)) * self.lin(h2, self.up), self.down)
        return rms_norm(x, self.norm, 1e-5) @ self.embed.t()


def bench_llama(dev, dtype, steps, small):
    shape = llama_shapes(small)
    m = Llama(shape, dtype, dev)
    maxt = 128 + steps + 8
    cache = ([torch.zeros(1, m.kv, maxt, m.hd, device=dev) for _ in range(m.layers)],
             [torch.zeros(1, m.kv, maxt, m.hd, device=dev) for _ in range(m.layers)])
    gen = torch.Generator().manual_seed(128)
    prompt = torch.randint(0, shape[5], (128,), generator=gen).to(dev)
    with torch.no_grad():
        m.forward(prompt, 0, cache)
        pos = 128
        for i in range(4):
            m.forward(torch.tensor([i], device=dev), pos, cache)
            pos += 1
        sync(dev)
        t0 = time.perf_counter()
        for i in range(steps):
            m.forward(torch.tensor([i % 1000], device=dev), pos, cache).cpu()
            pos += 1
        sec = time.perf_counter() - t0
    name = "F32" if dtype == torch.float32 else "BF16"
    print(f"bench  torch  tinyllama decode {name:<4} {steps / sec:8.1f} tokens/s ({steps} steps after a 128-token prefill)", flush=True)
    if dtype == torch.float32:
        ids = torch.randint(0, shape[5], (512,), generator=gen).to(dev)
        best = float("inf")
        with torch.no_grad():
            for _ in range(3):
                sync(dev)
                t0 = time.perf_counter()
                m.forward(ids, 0, None)
                sync(dev)
                best = min(best, time.perf_counter() - t0)
        print(f"bench  torch  tinyllama prefill F32  {512 / best:8.1f} tokens/s (512 tokens, best of 3)", flush=True)


def bench_vit(dev, small):
    dim, layers, heads, mlp, image, patch = vit_shapes(small)
    g = torch.Generator().manual_seed(2)

    def w(*s, scale):
        return ((torch.rand(*s, generator=g) * 2 - 1) * scale).to(dev)

    a, f = 1 / math.sqrt(dim), 1 / math.sqrt(mlp)
    pw = w(dim, 3, patch, patch, scale=1 / math.sqrt(3 * patch * patch))
    tokens = (image // patch) ** 2 + 1
    cls, posemb = w(dim, scale=1), w(tokens, dim, scale=0.1)
    wq, wk, wv, wo = (w(dim, dim, scale=a) for _ in range(4))
    bq, bk, bv, bo = (w(dim, scale=0.1) for _ in range(4))
    fc1, b1, fc2, b2 = w(mlp, dim, scale=a), w(mlp, scale=0.1), w(dim, mlp, scale=f), w(dim, scale=0.1)
    ones, zeros = torch.ones(dim, device=dev), torch.zeros(dim, device=dev)
    hd = dim // heads
    px = torch.randn(1, 3, image, image, generator=g).to(dev)

    def forward():
        x = F.conv2d(px, pw, stride=patch).flatten(2).transpose(1, 2)[0]
        x = torch.cat([cls[None], x], 0) + posemb
        x = F.layer_norm(x, (dim,), ones, zeros, 1e-5)
        for _ in range(layers):
            h = F.layer_norm(x, (dim,), ones, zeros, 1e-5)
            q = F.linear(h, wq, bq).view(1, tokens, heads, hd).transpose(1, 2)
            k = F.linear(h, wk, bk).view(1, tokens, heads, hd).transpose(1, 2)
            v = F.linear(h, wv, bv).view(1, tokens, heads, hd).transpose(1, 2)
            att = sdpa(q, k, v)
            x = x + F.linear(att.transpose(1, 2).reshape(tokens, dim), wo, bo)
            h2 = F.layer_norm(x, (dim,), ones, zeros, 1e-5)
            u = F.linear(h2, fc1, b1)
            x = x + F.linear(u * torch.sigmoid(1.702 * u), fc2, b2)
        return F.layer_norm(x[:1], (dim,), ones, zeros, 1e-5)

    best = float("inf")
    with torch.no_grad():
        for _ in range(4):
            sync(dev)
            t0 = time.perf_counter()
            forward()
            sync(dev)
            best = min(best, time.perf_counter() - t0)
    print(f"bench  torch  vit-l14-336 encode F32 {best * 1e3:8.1f} ms/image ({tokens} tokens, best of 4)", flush=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--device", default="cuda")
    p.add_argument("--steps", type=int, default=32)
    p.add_argument("--small", action="store_true")
    args = p.parse_args()
    dev = torch.device(args.device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        print("bench  torch  skipped: torch sees no CUDA device", flush=True)
        return
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    name = torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu"
    print(f"bench  torch  {torch.__version__} on {name}", flush=True)
    for dtype in (torch.float32, torch.bfloat16):
        bench_llama(dev, dtype, args.steps, args.small)
    bench_vit(dev, args.small)


if __name__ == "__main__":
    main()
