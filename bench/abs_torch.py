#!/usr/bin/python3
"""ABS on one image in PyTorch (Debian python3-torch 1.13, F32, CPU), the same pipeline and shapes as
jmh AbsBench: CLIP ViT-B/16 and DINO ViT-B/16 at 224 with random weights (the plain-torch forwards of
tools/reference/abs/make_abs_reference.py and tools/reference/clip/make_clip_reference.py), a 500 x 375
random image, a bank of 1000 x 50 random unit rows. Batching as BIT-DA/ABS: DINO on the one image, the
50 raw crops (PIL crop + torchvision-style resize/crop/normalise) as one batch through the CLIP tower,
the global view through blocks 0..10 once and 51 sequences through block 11, the soft matching of the
100 views as one [100, 50000] product.

    bench/abs_torch.py --threads 2 --repeats 3 [--crops 50] [--classes 1000]

Prints `seconds_per_image: <best>` and `images_per_second: <1 / best>` for the thread count given.
"""
import argparse
import os
import random
import sys
import time

import numpy as np
import torch
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools", "reference", "abs"))
import make_abs_reference as R  # noqa: E402

C = R.C


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--crops", type=int, default=50)
    ap.add_argument("--classes", type=int, default=1000)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    random.seed(1)
    torch.manual_seed(1)
    dcfg = dict(R.DINO_CFG, hidden_size=768, num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072,
                image_size=224, patch_size=16)
    dp = R.dino_params(dcfg, seed=17)
    ccfg = {"projection_dim": 512, "text_config": C.text_config(64, 1, 1, 2, 16, 512),
            "vision_config": C.vision_config(768, 12, 12, 224, 16, 512)}
    ccfg["vision_config"]["intermediate_size"] = 3072
    ccfg["text_config"]["vocab_size"] = 1000
    cp = C.make_params(ccfg, seed=16)
    vc = ccfg["vision_config"]
    g = torch.Generator().manual_seed(3)
    img = Image.fromarray(torch.randint(0, 256, (375, 500, 3), generator=g, dtype=torch.uint8).numpy(), "RGB")
    bank = torch.randn(a.classes * 50, 512, generator=g)
    bank = bank / bank.norm(dim=-1, keepdim=True)
    saved_mean = R.IMAGENET_MEAN

    def run_once():
        W, H = img.size
        with torch.inference_mode():
            rec = R.dino_forward(dp, dcfg, R.dino_pixels(img, 224).unsqueeze(0), {})
            att = rec["attentions.11"][0, :, 0, 1:].mean(dim=0)
            tv, ti = torch.topk(att, 20)
            probs = torch.softmax(tv / 0.03, dim=0)
            centres = ti[torch.multinomial(probs, a.crops, replacement=True)]
            crops = []
            for s in centres:
                i, j = int(s) // 14, int(s) % 14
                x0 = int(j * 16 * (W / 224))
                y0 = int(i * 16 * (H / 224))
                x1 = min(x0 + int(16 * (W / 224)), W)
                y1 = min(y0 + int(16 * (H / 224)), H)
                cx, cy = (x0 + x1) // 2, (y0 + y1) // 2
                cw = random.randint(int(W * 0.6), int(W * 0.9))
                ch = random.randint(int(H * 0.6), int(H * 0.9))
                box = (max(cx - cw // 2, 0), max(cy - ch // 2, 0), min(cx + cw // 2, W), min(cy + ch // 2, H))
                crops.append(R.tv_clip_pixels(img.crop(box), 224))
            glob = R.tv_clip_pixels(img, 224)
            raw = C.linear(C.vision_forward(cp, vc, torch.stack(crops), {}), cp, "visual_projection", bias=False)
            raw = raw / raw.norm(dim=-1, keepdim=True)
            x = R.vision_blocks(cp, vc, glob.unsqueeze(0), 11)[0]
            grid = x[1:].view(1, 14, 14, 768)
            seqs = [x]
            fc = ti[torch.multinomial(probs, a.crops, replacement=True)]
            for c in fc:
                half = random.randint(8, 12) // 2
                r, cc = int(c) // 14, int(c) % 14
                sub = grid[:, max(0, r - half):min(14, r + half + 1), max(0, cc - half):min(14, cc + half + 1), :]
                res = torch.nn.functional.interpolate(sub.permute(0, 3, 1, 2), size=(14, 14), mode="bicubic", align_corners=False)
                seqs.append(torch.cat([x[:1], res.permute(0, 2, 3, 1).reshape(196, 768)], dim=0))
            f = C.linear(R.last_block(cp, vc, torch.stack(seqs), 11), cp, "visual_projection", bias=False)
            f = f / f.norm(dim=-1, keepdim=True)
            views = torch.cat([f[1:], raw], dim=0)
            z = views @ bank.t() / 0.03
            s = (z.log_softmax(dim=-1).exp() * z).reshape(views.shape[0], a.classes, 50).sum(-1)
            return s.sum(0)

    assert saved_mean is R.IMAGENET_MEAN
    run_once()  # warm-up
    times = []
    for _ in range(a.repeats):
        t0 = time.perf_counter()
        run_once()
        times.append(time.perf_counter() - t0)
    best = min(times)
    print(f"threads {a.threads}: " + " ".join(f"{t:.3f}" for t in times) + " s", file=sys.stderr)
    print(f"seconds_per_image: {best:.4f}")
    print(f"images_per_second: {1 / best:.4f}")


if __name__ == "__main__":
    main()
