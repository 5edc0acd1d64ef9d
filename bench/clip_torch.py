#!/usr/bin/python3
"""PyTorch baseline for bench/clip.sh: the CLIP vision tower (HF CLIPVisionTransformer, plain torch,
random weights) at the shapes of ClipVisionBench, in inference mode.

    clip_torch.py <model> <batch> <intra_op_threads> <repeats> [<warm-up runs, default 1>]

Thread settings come from the caller (OMP_NUM_THREADS / OPENBLAS_NUM_THREADS must be set before
torch is imported). Prints one line: `<model> <batch> <threads> <median seconds> <min seconds>`."""
import statistics
import sys
import time

import torch

CONFIGS = {  # hidden, intermediate, layers, heads, image, patch
    "vit_b16_224": (768, 3072, 12, 12, 224, 16),
    "vit_l14_336": (1024, 4096, 24, 16, 336, 14),
}


def build(model):
    D, F, L, H, S, P = CONFIGS[model]
    g = torch.Generator().manual_seed(42)
    r = lambda *s: torch.randn(*s, generator=g) * 0.02
    N = (S // P) ** 2 + 1
    w = {"patch": r(D, 3, P, P), "cls": r(D), "pos": r(N, D), "ln_pre": (torch.ones(D), torch.zeros(D)),
         "ln_post": (torch.ones(D), torch.zeros(D)), "layers": []}
    for _ in range(L):
        w["layers"].append({"ln1": (torch.ones(D), torch.zeros(D)), "ln2": (torch.ones(D), torch.zeros(D)),
                            "q": (r(D, D), r(D)), "k": (r(D, D), r(D)), "v": (r(D, D), r(D)), "o": (r(D, D), r(D)),
                            "fc1": (r(F, D), r(F)), "fc2": (r(D, F), r(D))})
    return w


def forward(w, model, x):
    D, F, L, H, S, P = CONFIGS[model]
    B = x.shape[0]
    lin = torch.nn.functional.linear
    ln = lambda t, p: torch.nn.functional.layer_norm(t, (D,), p[0], p[1], 1e-5)
    h = torch.nn.functional.conv2d(x, w["patch"], stride=P).flatten(2).transpose(1, 2)
    h = torch.cat([w["cls"].expand(B, 1, D), h], dim=1) + w["pos"]
    h = ln(h, w["ln_pre"])
    T = h.shape[1]
    for l in w["layers"]:
        y = ln(h, l["ln1"])
        q = lin(y, *l["q"]).view(B, T, H, D // H).transpose(1, 2)
        k = lin(y, *l["k"]).view(B, T, H, D // H).transpose(1, 2)
        v = lin(y, *l["v"]).view(B, T, H, D // H).transpose(1, 2)
        a = torch.softmax(q @ k.transpose(-1, -2) * (D // H) ** -0.5, dim=-1) @ v
        h = h + lin(a.transpose(1, 2).reshape(B, T, D), *l["o"])
        y = lin(ln(h, l["ln2"]), *l["fc1"])
        h = h + lin(y * torch.sigmoid(1.702 * y), *l["fc2"])
    return ln(h[:, 0], w["ln_post"])


def main():
    model, batch, threads, repeats = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    warmup = int(sys.argv[5]) if len(sys.argv) > 5 else 1
    torch.set_num_threads(threads)
    w = build(model)
    S = CONFIGS[model][4]
    x = torch.randn(batch, 3, S, S, generator=torch.Generator().manual_seed(1))
    times = []
    with torch.inference_mode():
        for _ in range(warmup):
            forward(w, model, x)
        for _ in range(repeats):
            t0 = time.perf_counter()
            forward(w, model, x)
            times.append(time.perf_counter() - t0)
    print(model, batch, threads, f"{statistics.median(times):.4f}", f"{min(times):.4f}")


if __name__ == "__main__":
    main()
