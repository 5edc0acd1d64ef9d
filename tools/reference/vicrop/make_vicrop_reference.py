#!/usr/bin/python3
"""Reference ViCrop runs on a tiny random LLaVA-1.5 for fovea's methods tests.

Run with Debian's interpreter (python3-torch, numpy, PIL; no transformers, torchvision or scipy):

    /usr/bin/python3 tools/reference/vicrop/make_vicrop_reference.py methods/src/test/resources/vicrop-reference

Follows spec methods-vicrop-avc-vcd.md section 1 and the reference functions it describes
(saccharomycetes/mllms_know llava_methods.py / utils.py), in plain float32 torch:

  rel-att    layer-l attention of the last prompt position over the image tokens, head mean,
             question prompt / generic prompt (no epsilon)
  grad-att   A_l * relu(d v / d A_l) at the last row, image columns, head mean, where
             v = log softmax(z)[argmax z] of the last position's logits (full-sequence backward)
  pure-grad  per-pixel L2 norm over channels of d v / d pixels, question / generic, times the
             high-pass edge mask (PIL bilinear resize of the original image to S x S, [0,1] floats,
             torchvision-style 3x3 Gaussian blur sigma 0.8 with reflect padding, magnitude of
             image - blur over channels, scipy-style 7x7 median filter with 'reflect' (edge-repeating)
             borders, mask = value > numpy median), 14x14 block mean
  box        bbox_from_att_image_adaptive on the map (sums in float64)
  answer     greedy answer (max 20 new tokens, stops at EOS) to "<image><image>\\nUSER: Q ..." with
             [original, crop]; the crop is PIL's image.crop(box)
  high-res   tiles of the 1.5 split (threshold given per case), per-tile rel-att maps, stitched.

The model is the LLaVA of tools/reference/llava/make_llava_reference.py with a 84 px / patch 14 vision
tower (6 x 6 = 36 image tokens) and a 3-layer decoder; maps are taken at decoder layer 1. Prompts are
tokenized with llama2.c's BPE (tok512 of stories260K, from ../shared) re-implemented below from run.c:
BOS, a dummy-prefix " " for non-empty text, code points or byte fallback (+3), then greedy merges of the
best-scoring adjacent pair. Text between <image> markers is encoded chunk by chunk (BOS on the first only).

Writes the model folder "tiny" (config.json, preprocessor_config.json, tokenizer.bin, model.safetensors)
and reference.safetensors + reference.json with, per case c:
  c.map_ids / c.generic_ids / c.answer_ids   I32  the prompt ids (one marker per image)
  c.map                                      F32  [g, g] (or stitched) importance map
  c.answer_tokens, c.baseline_tokens         I32  greedy tokens with [original, crop] / [original]
and in reference.json: image, question, method, box, tiles, selection margins.
"""
import json
import math
import os
import shutil
import struct
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "llava"))
sys.path.insert(0, str(HERE.parent / "clip"))
sys.path.insert(0, str(HERE.parent / "llama"))
sys.path.insert(0, str(HERE))
import make_llava_reference as lv  # noqa: E402
import make_clip_reference as clip  # noqa: E402
import make_llama_reference as llama  # noqa: E402
import make_geometry_reference as geometry  # noqa: E402  (box selection, tiling, edge mask: spec 1.3.3-1.5)

torch.set_num_threads(1)

lv.VISION = dict(lv.VISION, image_size=84, num_hidden_layers=3)
lv.TEXT = dict(lv.TEXT, num_hidden_layers=3, max_position_embeddings=320)
S = lv.VISION["image_size"]
PATCH = lv.VISION["patch_size"]
GRID = S // PATCH
N = GRID * GRID
LAYER = 1
BASE = 224
RATIOS = [1.0, 1.2, 1.4, 1.6, 1.8, 2.0]
GENERIC = "Write a general description of the image."
TEMPLATE = "{images}\nUSER: {question} Answer the question using a single word or phrase.\nASSISTANT:"
MAX_NEW = 20
EOS = 2
SHARED = HERE.parents[2] / ".." / "shared" / "data"


# ----------------------------------------------------------------------------- tokenizer (llama2.c run.c)

class Llama2cBpe:
    def __init__(self, path):
        data = Path(path).read_bytes()
        off = 4
        self.vocab, self.scores = [], []
        while off < len(data):
            score, n = struct.unpack_from("<fi", data, off)
            off += 8
            self.vocab.append(data[off:off + n].decode("utf-8", errors="surrogateescape"))
            self.scores.append(score)
            off += n
        self.lookup = {}
        for i, v in enumerate(self.vocab):
            self.lookup.setdefault(v, i)

    def encode(self, text, bos):
        ids = [1] if bos else []
        if text:
            ids.append(self.lookup[" "])
        for ch in text:
            if ch in self.lookup:
                ids.append(self.lookup[ch])
            else:
                ids.extend(b + 3 for b in ch.encode("utf-8"))
        while True:
            best, best_id, best_i = -1e10, -1, -1
            start = 1 if bos else 0
            for i in range(start, len(ids) - 1):
                merged = self.vocab[ids[i]] + self.vocab[ids[i + 1]]
                j = self.lookup.get(merged, -1)
                if j != -1 and self.scores[j] > best:
                    best, best_id, best_i = self.scores[j], j, i
            if best_i == -1:
                return ids
            ids[best_i:best_i + 2] = [best_id]


def prompt_ids(tok, images, question):
    text = TEMPLATE.replace("{images}", "<image>" * images).replace("{question}", question)
    ids, first = [], True
    for k, chunk in enumerate(text.split("<image>")):
        if k > 0:
            ids.append(lv.IMAGE_TOKEN)
        ids.extend(tok.encode(chunk, first))
        first = False
    return ids


# ----------------------------------------------------------------------------- model passes

def last_logits_and_attn(W, ids, feats):
    attn = []
    logits = lv.lm_logits(W, lv.expand(ids, N), feats, attn)
    return logits[-1], attn


def span_of(ids):
    e = lv.expand(ids, N)
    start = e.index(lv.IMAGE_TOKEN)
    return start, start + N


def decision(z):
    lp = torch.log_softmax(z, dim=-1)
    return lp[int(torch.argmax(lp))]


def rel_att(W, tok, img, question):
    with torch.no_grad():
        feats = lv.image_features(W, clip.clip_pixels(img, S)[None])
        rows = []
        for q in (question, GENERIC):
            ids = prompt_ids(tok, 1, q)
            _, attn = last_logits_and_attn(W, ids, feats)
            a, b = span_of(ids)
            rows.append(attn[LAYER][0, :, -1, a:b].mean(dim=0))
        return (rows[0] / rows[1]).reshape(GRID, GRID).numpy()


def grad_att(W, tok, img, question):
    ids = prompt_ids(tok, 1, question)
    with torch.no_grad():
        feats = lv.image_features(W, clip.clip_pixels(img, S)[None])
    z, attn = last_logits_and_attn(W, ids, feats.requires_grad_(True))  # puts every attention in the graph
    g = torch.autograd.grad(decision(z), attn[LAYER])[0]
    a, b = span_of(ids)
    w = attn[LAYER] * torch.relu(g)
    return w[0, :, -1, a:b].mean(dim=0).detach().reshape(GRID, GRID).numpy()


def pixel_grad_norm(W, tok, img, question):
    ids = prompt_ids(tok, 1, question)
    px = clip.clip_pixels(img, S)[None].clone().requires_grad_(True)
    z, _ = last_logits_and_attn(W, ids, lv.image_features(W, px))
    g = torch.autograd.grad(decision(z), px)[0][0]  # [3, S, S]
    return g.norm(dim=0).numpy()  # per-pixel L2 over channels


def pure_grad(W, tok, img, question):
    ratio = pixel_grad_norm(W, tok, img, question) / pixel_grad_norm(W, tok, img, GENERIC)
    _, _, mask = geometry.edge_mask(img, S)
    return geometry.block_mean(ratio * mask, PATCH).astype(np.float32)


MAPS = {"rel-att": rel_att, "grad-att": grad_att, "pure-grad": pure_grad}


# ----------------------------------------------------------------------------- box selection, tiling

def select_box(m, width, height):
    """The box of make_geometry_reference.select_box on the float64 map, and the margin between the
    sharpest and the second sharpest ratio (how far the choice is from a tie)."""
    box, _, trace = geometry.select_box(m.astype(np.float64), width, height, BASE, RATIOS)
    s = sorted(t["sharpness"] for t in trace if t is not None)
    return box, float(s[-1] - s[-2]) if len(s) > 1 else float("inf")


def tiles(width, height, thr):
    p = geometry.tile_plan(width, height, thr)
    tw, th = p["tileWidth"], p["tileHeight"]
    return p["rows"], p["cols"], [(i * tw, j * th, (i + 1) * tw, (j + 1) * th) for j in range(p["rows"]) for i in range(p["cols"])]


def greedy(W, ids, images):
    with torch.no_grad():
        feats = lv.image_features(W, torch.stack([clip.clip_pixels(im, S) for im in images]))
        seq, out, gaps = lv.expand(ids, N), [], []
        for _ in range(MAX_NEW):
            z = lv.lm_logits(W, seq, feats)[-1]
            top2 = torch.topk(z, 2).values
            gaps.append(float(top2[0] - top2[1]))
            t = int(torch.argmax(z))
            if t == EOS:
                break
            out.append(t)
            seq.append(t)
        return out, min(gaps)


# ----------------------------------------------------------------------------- cases

CASES = [
    # name, image, question, method, high-res threshold (None: plain)
    ("cats_rel", "000000039769.png", "What color is the couch?", "rel-att", None),
    ("cats_grad", "000000039769.png", "What color is the couch?", "grad-att", None),
    ("cats_pure", "000000039769.png", "What color is the couch?", "pure-grad", None),
    ("chelsea_rel", "chelsea.png", "What animal is this?", "rel-att", None),
    ("chelsea_grad", "chelsea.png", "What animal is this?", "grad-att", None),
    ("coffee_pure", "coffee.png", "What is in the cup?", "pure-grad", None),
    ("coffee_grad", "coffee.png", "What is in the cup?", "grad-att", None),
    ("cats_rel_high", "000000039769.png", "How many cats are there?", "rel-att", 300),
]


def main():
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "methods/src/test/resources/vicrop-reference")
    model_dir = out / "tiny"
    model_dir.mkdir(parents=True, exist_ok=True)
    seed = 2025
    W = lv.build(seed)
    text_cfg = {k: v for k, v in lv.TEXT.items() if k != "head_dim"}
    text_cfg.update({"model_type": "llama", "hidden_act": "silu", "bos_token_id": 1, "eos_token_id": EOS, "pad_token_id": lv.PAD_TOKEN})
    config = {"architectures": ["LlavaForConditionalGeneration"], "model_type": "llava", "torch_dtype": "float32",
              "image_token_index": lv.IMAGE_TOKEN, "pad_token_id": lv.PAD_TOKEN, "projector_hidden_act": "gelu",
              "vision_feature_layer": lv.FEATURE_LAYER, "vision_feature_select_strategy": "default", "image_seq_length": N,
              "multimodal_projector_bias": True, "tie_word_embeddings": False, "vision_config": lv.VISION, "text_config": text_cfg}
    (model_dir / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    pre = {"do_resize": True, "size": {"shortest_edge": S}, "resample": 3, "do_center_crop": True,
           "crop_size": {"height": S, "width": S}, "do_rescale": True, "rescale_factor": 1 / 255, "do_normalize": True,
           "image_mean": clip.CLIP_MEAN, "image_std": clip.CLIP_STD, "do_convert_rgb": True,
           "image_processor_type": "CLIPImageProcessor", "processor_class": "LlavaProcessor"}
    (model_dir / "preprocessor_config.json").write_text(json.dumps(pre, indent=2) + "\n")
    tok_file = SHARED / "tokenizers" / "stories260k" / "tok512.bin"
    shutil.copyfile(tok_file, model_dir / "tokenizer.bin")
    llama.write_safetensors(model_dir / "model.safetensors", {k: v.contiguous().numpy() for k, v in W.items()})
    tok = Llama2cBpe(tok_file)

    ref = {}
    meta = {"seed": seed, "torch": torch.__version__, "layer": LAYER, "base_size": BASE, "ratios": RATIOS, "max_new_tokens": MAX_NEW,
            "grid": GRID, "cases": {}}
    for name, file, question, method, thr in CASES:
        img = Image.open(SHARED / "images" / file).convert("RGB")
        Wi, Hi = img.size
        if thr is None:
            m, grid_tiles = MAPS[method](W, tok, img, question), [1, 1]
        else:
            vs, hs, boxes = tiles(Wi, Hi, thr)
            maps = [MAPS[method](W, tok, img.crop(b), question) for b in boxes]
            m = np.block([maps[j * hs:(j + 1) * hs] for j in range(vs)])
            grid_tiles = [vs, hs]
        box, margin = select_box(m, Wi, Hi)
        crop = img.crop(box)
        answer_ids = prompt_ids(tok, 2, question)
        answer, gap = greedy(W, answer_ids, [img, crop])
        baseline_ids = prompt_ids(tok, 1, question)
        baseline, gap1 = greedy(W, baseline_ids, [img])
        ref[f"{name}.map_ids"] = np.array(prompt_ids(tok, 1, question), dtype=np.int32)
        ref[f"{name}.generic_ids"] = np.array(prompt_ids(tok, 1, GENERIC), dtype=np.int32)
        ref[f"{name}.answer_ids"] = np.array(answer_ids, dtype=np.int32)
        ref[f"{name}.map"] = np.ascontiguousarray(m, dtype=np.float32)
        ref[f"{name}.answer_tokens"] = np.array(answer, dtype=np.int32)
        ref[f"{name}.baseline_tokens"] = np.array(baseline, dtype=np.int32)
        meta["cases"][name] = {"image": file, "question": question, "method": method, "high_res_threshold": thr, "tiles": grid_tiles,
                               "box": list(box), "sharpness_margin": margin, "answer_min_top2_gap": gap,
                               "baseline_min_top2_gap": gap1}
        print(name, method, "tiles", grid_tiles, "box", box, "margin", margin, "answer", answer, "gap %.3g" % min(gap, gap1))
    llama.write_safetensors(out / "reference.safetensors", ref)
    (out / "reference.json").write_text(json.dumps(meta, indent=2) + "\n")


if __name__ == "__main__":
    main()
