#!/usr/bin/python3
"""Reference outputs for fovea's ViCrop geometry (methods/.../vicrop: BoxSelection, Tiling, EdgeMask).

Run with Debian's interpreter (python3-torch 1.13, python3-numpy, python3-pil 9.4), from anywhere:

    /usr/bin/python3 tools/reference/vicrop/make_geometry_reference.py

Nothing of saccharomycetes/mllms_know is imported or copied: torchvision, scipy and scikit-image
are not installed here, so every step is written out from the spec
(shared/specs/methods-vicrop-avc-vcd.md 1.3.3, 1.4, 1.5) and from those libraries' documented
semantics:

  box selection   spec 1.4 (`bbox_from_att_image_adaptive`): float block sizes W/Wm, H/Hm,
                  window int(S0*r/bw) capped at the map, x-outer/y-inner strictly-greater argmax,
                  up/down/left/right neighbour mean, first-max ratio, trunc centre, floor(S*/2)
                  half side, clamps. Two documented generalisations that fovea shares: a window of
                  0 cells is widened to 1 (the reference would slide empty windows), and the
                  "full image" rule applies to the FIRST ratio (the reference tests r == 1, which
                  is the first of its default ratios).
  tiling          spec 1.5 with the portrait guard cols = max(1, floor(rows * W / H)).
  edge mask       torchvision TF.resize(PIL, (336, 336)) = PIL resize BILINEAR; TF.to_tensor =
                  uint8 -> float32 / 255; TF.gaussian_blur(kernel 3) = 1-D kernel from
                  linspace(-1, 1, 3), exp(-0.5 (x / sigma)^2), sigma = 0.3 ((k - 1) 0.5 - 1) + 0.8,
                  normalised, outer product, torch reflect padding, depthwise conv2d; magnitude
                  sqrt(sum_c (x - blur)^2) in float32; scipy.ndimage.median_filter(size=7,
                  mode='reflect') = 7 x 7 window over a symmetric ("d c b a | a b c d") padding,
                  np.median per window; mask = value > np.median(all values).
  block mean      skimage.measure.block_reduce(x, (b, b), np.mean): non-overlapping b x b blocks,
                  np.mean over the block axes of the float32 array.

It writes methods/src/test/resources/vicrop-geometry/:

  boxes.json      26 cases: map size, image size, base size, ratios, the expected box, the chosen
                  ratio's index (null: full image) and the per-ratio trace (null: skipped).
  boxes.safetensors
                  {case name}       F32 [rows, cols]  the random map of each case. The map
                  values are float32 numbers with few significant bits (multiples of 2^-20 below
                  1, or 12-bit mantissas in [2^-10, 2^10], or quarters), so every window sum is
                  exact in float64 whatever the order of summation: Java and numpy must agree
                  exactly.
  tiling.json     tile plans for a list of image sizes and thresholds.
  edges.json      per image: the threshold (median), row and column sums of the filtered
                  magnitudes (float64), which rows/columns are stored in full, the pure-grad
                  block mean of a synthetic ratio (formula below) under the reference mask.
  edges.safetensors
                  {image}.mask      U8 [res*res/8]   np.packbits of the mask (first pixel = MSB)
                  {image}.rows      F32 [nr, res]    filtered magnitudes of the stored rows
                  {image}.cols      F32 [res, nc]    filtered magnitudes of the stored columns
                  (the full 336 x 336 float32 arrays would take ~900 KB; rows, columns, the exact
                  mask and the row/column sums cover every pixel at a fraction of that)

Synthetic pure-grad ratio (exact in float32): ratio[y, x] = ((37 x + 101 y) mod 251) / 64 + 0.5.
"""
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

torch.set_num_threads(1)

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "llama"))
from make_llama_reference import write_safetensors  # noqa: E402  (the tiny safetensors writer)
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
SHARED_IMAGES = os.path.abspath(os.path.join(REPO, "..", "shared", "data", "images"))
OUT = os.path.join(REPO, "methods", "src", "test", "resources", "vicrop-geometry")

DEFAULT_RATIOS = [1, 1.2, 1.4, 1.6, 1.8, 2]


# ----------------------------------------------------------------------------- box selection
def select_box(m, width, height, base, ratios):
    """Spec 1.4 on a float64 map m [Hm, Wm]; returns (box, chosen index or None, trace)."""
    hm, wm = m.shape
    bw = width / wm
    bh = height / hm
    trace = []
    for i, r in enumerate(ratios):
        side = base * r
        nx = max(1, min(int(side / bw), wm))
        ny = max(1, min(int(side / bh), hm))
        if nx == wm and ny == hm:
            if i == 0:
                return (0, 0, width, height), None, [None] * len(ratios)
            trace.append(None)
            continue
        gh, gw = hm - ny + 1, wm - nx + 1
        scores = np.zeros((gh, gw))
        best, bx, by = -np.inf, 0, 0
        for x in range(gw):
            for y in range(gh):
                s = m[y:y + ny, x:x + nx].sum()
                scores[y, x] = s
                if s > best:
                    best, bx, by = s, x, y
        near = []
        if bx > 0:
            near.append(scores[by, bx - 1])
        if bx < gw - 1:
            near.append(scores[by, bx + 1])
        if by > 0:
            near.append(scores[by - 1, bx])
        if by < gh - 1:
            near.append(scores[by + 1, bx])
        mean = np.mean(near)
        sharp = (best - mean) / (nx * ny)
        trace.append({"ratio": float(r), "nx": nx, "ny": ny, "bestX": bx, "bestY": by,
                      "bestScore": float(best), "neighbourMean": float(mean), "sharpness": float(sharp)})
    sharps = [t["sharpness"] for t in trace if t is not None]
    k = int(np.argmax(sharps))  # evaluated ratios are a prefix of the ascending list
    t = trace[k]
    half = (base * ratios[k]) // 2
    cx = int(t["bestX"] * bw + bw * t["nx"] / 2)
    cy = int(t["bestY"] * bh + bh * t["ny"] / 2)
    cx = half if cx < half else cx
    cy = half if cy < half else cy
    cx = width - half if cx > width - half else cx
    cy = height - half if cy > height - half else cy
    box = (max(0, cx - half), max(0, cy - half), min(width, cx + half), min(height, cy + half))
    assert all(float(v).is_integer() for v in box)
    return tuple(int(v) for v in box), k, trace


def random_map(rng, kind, rows, cols):
    if kind == "uniform":  # multiples of 2^-20 in [0, 1)
        v = rng.integers(0, 1 << 20, size=(rows, cols)) / float(1 << 20)
    elif kind == "coarse":  # quarters 0..1: many ties
        v = rng.integers(0, 5, size=(rows, cols)) / 4.0
    elif kind == "lognormal":  # heavy tail like attention ratios, 12-bit mantissa, [2^-10, 2^10]
        v = np.clip(np.exp(rng.normal(0.0, 1.5, size=(rows, cols))), 2.0 ** -10, 2.0 ** 10)
        e = np.floor(np.log2(v))
        v = np.round(v / 2.0 ** (e - 11)) * 2.0 ** (e - 11)
    elif kind == "blob":  # a smooth hot spot plus noise, multiples of 2^-20
        cy, cx = rng.uniform(0, rows), rng.uniform(0, cols)
        yy, xx = np.mgrid[0:rows, 0:cols]
        s = max(1.0, min(rows, cols) / 6)
        g = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * s * s)) + 0.1 * rng.random((rows, cols))
        v = np.floor(g / g.max() * (1 << 20)) / float(1 << 20)
    else:
        raise ValueError(kind)
    v = v.astype(np.float32)
    assert np.all(v.astype(np.float64) == v)
    return v


def box_cases():
    rng = np.random.default_rng(20250217)
    # (map rows, map cols, image W, image H, base, ratios)
    setups = [
        (24, 24, 640, 480, 336, DEFAULT_RATIOS),
        (24, 24, 1024, 768, 336, DEFAULT_RATIOS),
        (24, 24, 500, 375, 336, DEFAULT_RATIOS),
        (24, 24, 800, 600, 336, DEFAULT_RATIOS),
        (24, 24, 1920, 1080, 336, DEFAULT_RATIOS),
        (24, 24, 336, 900, 336, DEFAULT_RATIOS),   # narrow: only y windows slide
        (24, 24, 700, 336, 336, DEFAULT_RATIOS),   # flat: only x windows slide
        (24, 24, 4000, 3000, 336, DEFAULT_RATIOS),
        (16, 16, 640, 427, 224, DEFAULT_RATIOS),
        (16, 16, 1280, 960, 224, DEFAULT_RATIOS),
        (16, 16, 300, 250, 224, DEFAULT_RATIOS),
        (48, 48, 2246, 1582, 336, DEFAULT_RATIOS),  # V*-like, 2 x 2 tiles
        (24, 72, 3000, 1000, 336, DEFAULT_RATIOS),  # 1 x 3 tiles
        (48, 24, 1000, 2000, 336, DEFAULT_RATIOS),  # 2 x 1 tiles
        (5, 7, 900, 700, 100, DEFAULT_RATIOS),
        (9, 4, 333, 777, 120, DEFAULT_RATIOS),
        (1, 8, 2000, 300, 336, DEFAULT_RATIOS),     # one map row
        (24, 24, 640, 480, 336, [1.0, 1.5, 2.5]),
        (24, 24, 12000, 500, 336, DEFAULT_RATIOS),  # a block wider than the window: nx 0 -> 1
        (24, 24, 1000, 1000, 336, [0.5, 0.75, 1.0]),
        (24, 24, 336, 336, 336, DEFAULT_RATIOS),    # not larger than S0: full image
        (16, 16, 200, 150, 224, DEFAULT_RATIOS),    # full image
    ]
    kinds = ["uniform", "coarse", "lognormal", "blob"]
    cases = []
    maps = {}
    for n, (rows, cols, w, h, base, ratios) in enumerate(setups):
        kind = kinds[n % len(kinds)]
        for extra in ([kind, "coarse"] if n in (0, 8, 11, 12) else [kind]):
            m = random_map(rng, extra, rows, cols)
            box, k, trace = select_box(m.astype(np.float64), w, h, base, ratios)
            guard = any(int(base * r / (w / cols)) == 0 or int(base * r / (h / rows)) == 0 for r in ratios)
            name = "case%02d-%s-%dx%d-map%dx%d-S%d" % (len(cases), extra, w, h, rows, cols, base)
            maps[name] = m
            cases.append({
                "name": name, "rows": rows, "cols": cols, "width": w, "height": h, "base": base,
                "ratios": [float(r) for r in ratios], "zeroWindowGuard": guard,
                "box": list(box), "chosen": k, "trace": trace,
            })
    # the spec's worked examples, as maps
    ex = np.ones((24, 24), np.float32)
    ex[5, 18] = 10
    b, k, t = select_box(ex.astype(np.float64), 1024, 768, 336, DEFAULT_RATIOS)
    assert b == (493, 0, 829, 336), b
    ex = np.ones((24, 24), np.float32)
    ex[10:13, 2:5] = 5
    b, k, t = select_box(ex.astype(np.float64), 640, 480, 336, DEFAULT_RATIOS)
    assert b == (0, 0, 336, 336), b
    return cases, maps


# ----------------------------------------------------------------------------- tiling
def tile_plan(width, height, threshold):
    rows = math.ceil(height / threshold)
    cols = max(1, int(rows * width / height))
    return {"width": width, "height": height, "threshold": threshold, "rows": rows, "cols": cols,
            "tileWidth": math.ceil(width / cols), "tileHeight": math.ceil(height / rows)}


def tiling_cases():
    sizes = [(2246, 1582, 1024), (3000, 1000, 1024), (1000, 2000, 1024), (800, 1000, 1024),
             (640, 480, 1024), (1024, 1024, 1024), (1025, 1025, 1024), (4000, 3000, 1024),
             (5000, 700, 1024), (333, 4000, 1024), (2246, 1582, 512), (1920, 1080, 336),
             (1, 5000, 1000), (7, 3, 2)]
    return [tile_plan(*s) for s in sizes]


# ----------------------------------------------------------------------------- edge mask
def gaussian_kernel2d(k):
    sigma = 0.3 * ((k - 1) * 0.5 - 1) + 0.8
    half = (k - 1) * 0.5
    x = torch.linspace(-half, half, steps=k)
    pdf = torch.exp(-0.5 * (x / sigma).pow(2))
    k1 = pdf / pdf.sum()
    return torch.mm(k1[:, None], k1[None, :])


def median_filter_reflect(a, size):
    """scipy.ndimage.median_filter(a, size, mode='reflect') for odd size <= the image sides."""
    r = size // 2
    h, w = a.shape
    ys = np.arange(-r, h + r)
    xs = np.arange(-r, w + r)
    # scipy 'reflect': the edge sample is repeated (d c b a | a b c d | d c b a)
    ys = np.where(ys < 0, -ys - 1, np.where(ys >= h, 2 * h - ys - 1, ys))
    xs = np.where(xs < 0, -xs - 1, np.where(xs >= w, 2 * w - xs - 1, xs))
    p = a[ys][:, xs]
    win = np.lib.stride_tricks.sliding_window_view(p, (size, size))
    return np.median(win, axis=(-2, -1)).astype(a.dtype)


def edge_mask(image, res=336, km=7, kh=3):
    im = image.resize((res, res), Image.BILINEAR)
    x = torch.from_numpy(np.array(im, dtype=np.uint8)).permute(2, 0, 1).contiguous()
    x = x.to(dtype=torch.float32).div(255).unsqueeze(0)
    k2 = gaussian_kernel2d(kh).expand(3, 1, kh, kh)
    p = kh // 2
    blur = F.conv2d(F.pad(x, [p, p, p, p], mode="reflect"), k2, groups=3)
    high = (x - blur).squeeze(0).numpy()
    mag = np.sqrt(np.square(high).sum(axis=0))
    assert mag.dtype == np.float32
    filtered = median_filter_reflect(mag, km)
    thr = np.median(filtered)
    return filtered, thr, filtered > thr


def block_mean(a, b):
    h, w = a.shape
    assert h % b == 0 and w % b == 0
    blocks = a.reshape(h // b, b, w // b, b).transpose(0, 2, 1, 3)
    return np.mean(blocks, axis=(2, 3))


def synthetic_ratio(res):
    yy, xx = np.mgrid[0:res, 0:res]
    return (((37 * xx + 101 * yy) % 251) / 64.0 + 0.5).astype(np.float32)


def edge_cases(res=336):
    stored_rows = sorted(set([0, 1, 2, 3, 4, 167, 168] + list(range(0, res, 12)) + list(range(res - 5, res))))
    stored_cols = [0, 1, 2, 3, 168, res - 4, res - 3, res - 2, res - 1]
    meta = {"resolution": res, "medianKernel": 7, "blurKernel": 3, "block": 14,
            "storedRows": stored_rows, "storedCols": stored_cols,
            "ratioFormula": "((37 x + 101 y) mod 251) / 64 + 0.5", "images": {}}
    arrays = {}
    for name in ["000000039769.png", "chelsea.png"]:
        img = Image.open(os.path.join(SHARED_IMAGES, name)).convert("RGB")
        filtered, thr, mask = edge_mask(img, res)
        near = int(np.sum(np.abs(filtered - thr) <= 1e-6))
        grad = synthetic_ratio(res) * mask
        pooled = block_mean(grad, 14)
        meta["images"][name] = {
            "width": img.width, "height": img.height,
            "threshold": float(thr), "maskCount": int(mask.sum()), "nearThreshold": near,
            "rowSums": [float(s) for s in filtered.astype(np.float64).sum(axis=1)],
            "colSums": [float(s) for s in filtered.astype(np.float64).sum(axis=0)],
            "pureGrad": [float(v) for v in pooled.astype(np.float32).reshape(-1)],
        }
        arrays[name + ".mask"] = np.packbits(mask.reshape(-1))
        arrays[name + ".rows"] = np.ascontiguousarray(filtered[stored_rows, :])
        arrays[name + ".cols"] = np.ascontiguousarray(filtered[:, stored_cols])
        print("%s: threshold %.9g, %d of %d pixels above, %d within 1e-6 of the threshold"
              % (name, thr, mask.sum(), mask.size, near))
    return meta, arrays


def write_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, separators=(",", ":"))
        f.write("\n")


def main():
    os.makedirs(OUT, exist_ok=True)
    cases, maps = box_cases()
    write_json(os.path.join(OUT, "boxes.json"), {"cases": cases})
    write_safetensors(os.path.join(OUT, "boxes.safetensors"), maps)
    print("%d box cases (%d full image, %d with the zero-window guard)"
          % (len(cases), sum(c["chosen"] is None for c in cases), sum(c["zeroWindowGuard"] for c in cases)))
    write_json(os.path.join(OUT, "tiling.json"), {"plans": tiling_cases()})
    meta, arrays = edge_cases()
    write_json(os.path.join(OUT, "edges.json"), meta)
    write_safetensors(os.path.join(OUT, "edges.safetensors"), arrays)
    for f in sorted(os.listdir(OUT)):
        print("  %-20s %8d bytes" % (f, os.path.getsize(os.path.join(OUT, f))))


if __name__ == "__main__":
    main()
