#!/usr/bin/python3
"""Reference outputs for fovea's image decoding, PIL resize and CLIP/LLaVA/BLIP preprocessing.

Run with Debian's system interpreter (python3-pil 9.4, python3-numpy), from anywhere:

    /usr/bin/python3 tools/reference/image/make_reference.py

It writes vit/src/test/resources/image-reference/:
  fixtures/      small random images of odd sizes and several PIL modes (PNG, BMP, GIF, JPEG),
                 generated with a fixed seed; the real images stay in ../shared/data/images
  arrays/        raw uint8 HWC arrays (.u8.gz, gzip) and float32 CHW little-endian arrays (.f32)
  index.json     one entry per image: decoded pixels, PIL resizes, CLIP crops, LLaVA pad, BLIP

transformers is not installed here, so the HF "slow" (PIL) CLIPImageProcessor / BlipImageProcessor
path is written out from the spec (shared/specs/models-formats.md 1.8, 2.5, 4.6, 5.6, 8.2):
  convert("RGB") -> resize shortest edge to S with new_long = int(S * long / short), PIL BICUBIC,
  reducing_gap=None -> centre crop with floor offsets (HF) -> uint8 * (1/255) in float64 -> float32
  -> (x - mean) / std in float32 -> CHW.
"""
import gzip
import hashlib
import json
import math
import os
import struct
import sys
import zlib

import numpy as np
import PIL
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
SHARED_IMAGES = os.path.abspath(os.path.join(REPO, "..", "shared", "data", "images"))
OUT = os.path.join(REPO, "vit", "src", "test", "resources", "image-reference")
FIXTURES = os.path.join(OUT, "fixtures")
ARRAYS = os.path.join(OUT, "arrays")

CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]
RESCALE = 1 / 255  # HF's default rescale_factor, 0.00392156862745098
FILTERS = {"BOX": Image.BOX, "BILINEAR": Image.BILINEAR, "HAMMING": Image.HAMMING,
           "BICUBIC": Image.BICUBIC, "LANCZOS": Image.LANCZOS}

# Arrays bigger than this are recorded by checksum only (keeps the resources small).
MAX_STORED_BYTES = 16 * 1024


def sha256(a):
    return hashlib.sha256(np.ascontiguousarray(a, dtype=np.uint8).tobytes()).hexdigest()


def store_u8(name, a):
    a = np.ascontiguousarray(a, dtype=np.uint8)
    path = os.path.join(ARRAYS, name + ".u8.gz")
    with open(path, "wb") as f:
        # mtime=0 so that regenerating gives byte-identical files
        with gzip.GzipFile(fileobj=f, mode="wb", mtime=0) as g:
            g.write(a.tobytes())
    return "arrays/" + name + ".u8.gz"


def store_f32(name, a):
    a = np.ascontiguousarray(a, dtype="<f4")
    path = os.path.join(ARRAYS, name + ".f32")
    with open(path, "wb") as f:
        f.write(a.tobytes())
    return "arrays/" + name + ".f32"


def u8_record(name, a, force=False):
    """Checksum, shape, and the array itself when it is small (or forced)."""
    rec = {"shape": list(a.shape), "sha256": sha256(a)}
    if force or a.nbytes <= MAX_STORED_BYTES:
        rec["file"] = store_u8(name, a)
    return rec


# ----------------------------------------------------------------------------- HF slow path

def shortest_edge_size(w, h, s):
    """transformers get_resize_output_image_size(default_to_square=False): truncation."""
    short, long = (w, h) if w <= h else (h, w)
    new_short, new_long = s, int(s * long / short)
    return (new_short, new_long) if w <= h else (new_long, new_short)  # (width, height)


def pil_resize(img, w, h, resample=Image.BICUBIC):
    return img.resize((w, h), resample=resample, reducing_gap=None)


def hf_center_crop(a, ch, cw):
    """transformers image_transforms.center_crop on HWC, including its zero padding branch.
    Returns (array, box) with box = (left, top) in the (possibly padded) resized image."""
    oh, ow = a.shape[:2]
    top = (oh - ch) // 2
    left = (ow - cw) // 2
    bottom, right = top + ch, left + cw
    if top >= 0 and bottom <= oh and left >= 0 and right <= ow:
        return a[top:bottom, left:right], [left, top]
    nh, nw = max(ch, oh), max(cw, ow)
    n = np.zeros((nh, nw) + a.shape[2:], dtype=a.dtype)
    tp = math.ceil((nh - oh) / 2)
    lp = math.ceil((nw - ow) / 2)
    n[tp:tp + oh, lp:lp + ow] = a
    top += tp
    bottom += tp
    left += lp
    right += lp
    return n[max(0, top):min(nh, bottom), max(0, left):min(nw, right)], [left - lp, top - tp]


def tv_crop_offsets(h, w, ch, cw):
    """torchvision center_crop offsets (round half to even) when no padding is needed."""
    return [int(round((w - cw) / 2.0)), int(round((h - ch) / 2.0))]


def rescale_normalize(a, mean=CLIP_MEAN, std=CLIP_STD):
    """HF rescale (float64 multiply, then float32) and normalize (float32), HWC -> CHW."""
    x = (a.astype(np.float64) * RESCALE).astype(np.float32)
    x = (x - np.array(mean, dtype=np.float32)) / np.array(std, dtype=np.float32)
    return np.ascontiguousarray(x.transpose(2, 0, 1))


def clip_prepare(img, s, crop=None):
    crop = s if crop is None else crop
    w, h = shortest_edge_size(img.width, img.height, s)
    r = pil_resize(img, w, h)
    a, (left, top) = hf_center_crop(np.asarray(r), crop, crop)
    return a, [w, h], [left, top, left + crop, top + crop]


def expand2square(img, fill):
    """LLaVA's expand2square (haotian-liu/LLaVA llava/mm_utils.py)."""
    w, h = img.size
    if w == h:
        return img, [0, 0]
    if w > h:
        res = Image.new(img.mode, (w, w), fill)
        off = [0, (w - h) // 2]
    else:
        res = Image.new(img.mode, (h, h), fill)
        off = [(h - w) // 2, 0]
    res.paste(img, tuple(off))
    return res, off


# ----------------------------------------------------------------------------- fixtures

def write_png_raw(path, w, h, bitdepth, colortype, rows):
    """A PNG written by hand (for layouts PIL cannot save from numpy, e.g. 16-bit RGB)."""
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
    data = b"".join(b"\x00" + r for r in rows)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, bitdepth, colortype, 0, 0, 0)))
        f.write(chunk(b"IDAT", zlib.compress(data, 9)))
        f.write(chunk(b"IEND", b""))


def smooth(rng, h, w, c):
    """A smooth random image (plus a little noise) so JPEG fixtures look like photos."""
    yy, xx = np.mgrid[0:h, 0:w]
    out = np.zeros((h, w, c))
    for k in range(c):
        fx, fy, ph = rng.uniform(0.02, 0.2), rng.uniform(0.02, 0.2), rng.uniform(0, 6)
        out[..., k] = 128 + 100 * np.sin(fx * xx + ph) * np.cos(fy * yy) + rng.normal(0, 6, (h, w))
    return np.clip(out, 0, 255).astype(np.uint8)


def make_fixtures():
    """Returns [(file name, pil mode after open, note)]."""
    rng = np.random.default_rng(20240611)
    made = []

    def save(name, im, note, **kw):
        im.save(os.path.join(FIXTURES, name), **kw)
        made.append((name, note))

    for (w, h) in [(97, 61), (50, 80), (300, 201), (33, 17)]:
        a = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        save(f"rgb_{w}x{h}.png", Image.fromarray(a, "RGB"), "random RGB")
    save("rgba_45x31.png", Image.fromarray(rng.integers(0, 256, (31, 45, 4), dtype=np.uint8), "RGBA"),
         "RGBA: alpha dropped")
    save("la_29x40.png", Image.fromarray(rng.integers(0, 256, (40, 29, 2), dtype=np.uint8), "LA"),
         "gray + alpha")
    save("l_41x27.png", Image.fromarray(rng.integers(0, 256, (27, 41), dtype=np.uint8), "L"), "gray")
    p = Image.fromarray(rng.integers(0, 200, (23, 37), dtype=np.uint8), "P")
    p.putpalette(rng.integers(0, 256, 768, dtype=np.uint8).tobytes())
    save("p_37x23.png", p, "palette, 200 used entries")
    save("p_trns_37x23.png", p, "palette with a transparent entry", transparency=3)
    a16 = rng.integers(0, 600, (19, 23), dtype=np.uint16)
    a16[0, :6] = [0, 254, 255, 256, 30000, 65535]
    save("i16_23x19.png", Image.fromarray(a16), "16-bit gray: PIL opens as mode I, convert('RGB') clips to 255")
    save("bit1_19x13.png", Image.fromarray(rng.integers(0, 2, (13, 19), dtype=np.uint8).astype(bool)),
         "1-bit")
    rgb_t = rng.integers(0, 256, (14, 21, 3), dtype=np.uint8)
    save("rgb_trns_21x14.png", Image.fromarray(rgb_t, "RGB"), "RGB with a tRNS colour",
         transparency=tuple(int(v) for v in rgb_t[0, 0]))
    save("l_trns_17x11.png", Image.fromarray(rng.integers(0, 256, (11, 17), dtype=np.uint8), "L"),
         "gray with a tRNS value", transparency=5)
    # 16-bit RGB, 4-bit and 2-bit gray by hand
    v16 = rng.integers(0, 65536, (9, 13, 3), dtype=np.uint16)
    write_png_raw(os.path.join(FIXTURES, "rgb16_13x9.png"), 13, 9, 16, 2,
                  [v16[y].astype(">u2").tobytes() for y in range(9)])
    made.append(("rgb16_13x9.png", "16-bit RGB: PIL keeps the high byte"))
    g4 = rng.integers(0, 16, (7, 10), dtype=np.uint8)
    write_png_raw(os.path.join(FIXTURES, "gray4_10x7.png"), 10, 7, 4, 0,
                  [bytes((g4[y, 2 * i] << 4) | g4[y, 2 * i + 1] for i in range(5)) for y in range(7)])
    made.append(("gray4_10x7.png", "4-bit gray: scaled by 17"))
    g2 = rng.integers(0, 4, (5, 8), dtype=np.uint8)
    write_png_raw(os.path.join(FIXTURES, "gray2_8x5.png"), 8, 5, 2, 0,
                  [bytes((g2[y, 4 * i] << 6) | (g2[y, 4 * i + 1] << 4) | (g2[y, 4 * i + 2] << 2) | g2[y, 4 * i + 3]
                         for i in range(2)) for y in range(5)])
    made.append(("gray2_8x5.png", "2-bit gray: scaled by 85"))
    save("rgb_31x22.bmp", Image.fromarray(rng.integers(0, 256, (22, 31, 3), dtype=np.uint8), "RGB"), "BMP 24-bit")
    g = Image.fromarray(rng.integers(0, 64, (18, 26), dtype=np.uint8), "P")
    g.putpalette(rng.integers(0, 256, 192, dtype=np.uint8).tobytes())
    save("p_26x18.gif", g, "GIF, palette")
    save("smooth_80x60.jpg", Image.fromarray(smooth(rng, 60, 80, 3), "RGB"), "JPEG 4:2:0 q90", quality=90)
    save("smooth_422_90x70.jpg", Image.fromarray(smooth(rng, 70, 90, 3), "RGB"), "JPEG 4:2:2 q85",
         quality=85, subsampling=1)
    save("smooth_prog_444_75x45.jpg", Image.fromarray(smooth(rng, 45, 75, 3), "RGB"), "progressive JPEG 4:4:4 q75",
         quality=75, subsampling=0, progressive=True)
    ex = Image.Exif()
    ex[0x0112] = 6  # EXIF orientation: rotate 90 clockwise to display (not applied by the processors)
    save("exif6_24x16.jpg", Image.fromarray(smooth(rng, 16, 24, 3), "RGB"), "JPEG with EXIF orientation 6",
         quality=95, exif=ex.tobytes())
    save("smooth_l_64x48.jpg", Image.fromarray(smooth(rng, 48, 64, 1)[..., 0], "L"), "gray JPEG", quality=90)
    return made


# ----------------------------------------------------------------------------- records

def samples(a, n, rng):
    h, w = a.shape[:2]
    pts = [(0, 0), (w - 1, h - 1), (w // 2, h // 3)] + [(int(rng.integers(0, w)), int(rng.integers(0, h)))
                                                        for _ in range(n)]
    return [[x, y] + [int(v) for v in a[y, x]] for (x, y) in pts]


def record(name, path, source, small):
    rng = np.random.default_rng(sum(name.encode()))
    stem = os.path.splitext(name)[0].replace(".", "_")
    im = Image.open(path)
    rec = {"name": name, "source": source, "format": im.format, "mode": im.mode,
           "width": im.width, "height": im.height}
    rgb = im.convert("RGB")
    a = np.asarray(rgb)
    is_jpeg = im.format == "JPEG"
    dec = u8_record(stem + "_decoded", a, force=small and is_jpeg)  # JPEG: PIL's pixels drive the exact checks
    dec["samples"] = samples(a, 6, rng)
    if is_jpeg and not small:
        stride = 4
        sub = a[::stride, ::stride]
        dec["subsample"] = {"stride": stride, "file": store_u8(stem + "_decoded_sub" + str(stride), sub),
                            "shape": list(sub.shape)}
    rec["decoded"] = dec

    # PIL resizes, down and up, with every separable filter on the small images
    w, h = rgb.size
    targets = [(max(1, w * 2 // 5), max(1, h * 2 // 5)), (w * 3 // 2 + 1, h * 7 // 4), (max(1, w // 3), h * 2),
               (w, h), (w, max(1, h // 2)), (1, 1), (w + 7, h)]
    filters = list(FILTERS) if small and w * h <= 10_000 else ["BICUBIC", "BILINEAR"]
    res = []
    for fname in filters:
        for (tw, th) in (targets if small else targets[:3]):
            r = np.asarray(pil_resize(rgb, tw, th, FILTERS[fname]))
            rr = u8_record(f"{stem}_resize_{fname.lower()}_{tw}x{th}", r, force=False)
            rr.update({"filter": fname, "width": tw, "height": th})
            res.append(rr)
    rec["resize"] = res

    # CLIP (HF slow path), S = 224 and 336; a tiny S for the random images to keep float32 in full
    clips = []
    sizes = [224, 336] + ([16] if small else [])
    for s in sizes:
        u8, rsz, box = clip_prepare(rgb, s)
        x = rescale_normalize(u8)
        c = u8_record(f"{stem}_clip{s}", u8, force=(is_jpeg and not small and s == 224))
        c.update({"size": s, "resize": rsz, "crop": box,
                  "tvCrop": tv_crop_offsets(rsz[1], rsz[0], s, s),
                  "channelMean": [float(x[k].astype(np.float64).mean()) for k in range(3)]})
        pts = [(0, 0, 0), (1, s - 1, s - 1), (2, s // 2, s // 3)] + [
            (int(rng.integers(0, 3)), int(rng.integers(0, s)), int(rng.integers(0, s))) for _ in range(5)]
        c["normalized"] = [[k, y, xx, float(x[k, y, xx])] for (k, y, xx) in pts]
        if s == 16:
            c["normalizedFile"] = store_f32(f"{stem}_clip{s}", x)
        clips.append(c)
    # a crop bigger than the resize (HF pads with zeros): shortest edge 20, crop 24
    if small:
        u8, rsz, box = clip_prepare(rgb, 20, crop=24)
        c = u8_record(f"{stem}_clip20crop24", u8, force=True)
        c.update({"size": 20, "cropSize": 24, "resize": rsz, "crop": box})
        clips.append(c)
    rec["clip"] = clips

    # original LLaVA-1.5: expand2square with the mean colour, then CLIP at 336
    fill = tuple(int(x * 255) for x in CLIP_MEAN)
    sq, off = expand2square(rgb, fill)
    u8, rsz, box = clip_prepare(sq, 336)
    lp = u8_record(f"{stem}_llavapad336", u8)
    lp.update({"size": 336, "fill": list(fill), "side": sq.width, "offset": off, "resize": rsz, "crop": box})
    sqa = np.asarray(sq)
    lp["squareSha256"] = sha256(sqa)
    rec["llavaPad"] = lp

    # BLIP: straight to S x S, bicubic
    blip = []
    for s in [384] + ([24] if small else []):
        u8 = np.asarray(pil_resize(rgb, s, s))
        b = u8_record(f"{stem}_blip{s}", u8)
        b["size"] = s
        b["normalized"] = [[k, y, xx, float(rescale_normalize(u8)[k, y, xx])]
                           for (k, y, xx) in [(0, 0, 0), (2, s - 1, s - 1), (1, s // 2, s // 5)]]
        blip.append(b)
    rec["blip"] = blip
    return rec


def main():
    os.makedirs(FIXTURES, exist_ok=True)
    os.makedirs(ARRAYS, exist_ok=True)
    for d in (FIXTURES, ARRAYS):
        for f in os.listdir(d):
            os.remove(os.path.join(d, f))
    made = make_fixtures()
    entries = []
    for name, note in made:
        r = record(name, os.path.join(FIXTURES, name), "fixture", small=True)
        r["note"] = note
        entries.append(r)
    if not os.path.isdir(SHARED_IMAGES):
        sys.exit("missing " + SHARED_IMAGES)
    for name in sorted(os.listdir(SHARED_IMAGES)):
        path = os.path.join(SHARED_IMAGES, name)
        try:
            Image.open(path).convert("RGB")
        except Exception as e:  # truncated.jpg
            print("skipping", name, "->", type(e).__name__, e)
            continue
        entries.append(record(name, path, "shared", small=False))
    index = {
        "generator": "tools/reference/image/make_reference.py",
        "pillow": PIL.__version__, "numpy": np.__version__,
        "clipMean": CLIP_MEAN, "clipStd": CLIP_STD, "rescaleFactor": RESCALE,
        "images": entries,
    }
    with open(os.path.join(OUT, "index.json"), "w") as f:
        json.dump(index, f, indent=1)
    total = sum(os.path.getsize(os.path.join(dp, f)) for dp, _, fs in os.walk(OUT) for f in fs)
    print(f"wrote {len(entries)} entries, {total / 1e6:.2f} MB under {OUT}")


if __name__ == "__main__":
    main()
