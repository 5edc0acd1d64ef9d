#!/usr/bin/python3
"""A tiny BLIP image-text-matching checkpoint with random weights and its reference outputs, for fovea's tests.

Run with Debian's interpreter (python3-torch 1.13, numpy, PIL; no transformers, scipy or skimage), from the
repository root:

    /usr/bin/python3 tools/reference/agla/make_blip_reference.py

The forward and AGLA's image-prompt matching are in blip_reference.py (plain torch / numpy, written from the
published BLIP and AGLA code as described in shared/specs/methods-abs-agla.md part B). Writes
vit/src/test/resources/blip-reference/:

  tiny/          HF BlipForImageTextRetrieval folder: config.json (vision 32 wide x 2 layers x 2 heads, 96 px,
                 patch 16 = 6x6 grid; text 16 wide x 3 layers x 2 heads, cross-attention over width 32,
                 vocab 30524; embed 8), model.safetensors (HF names), preprocessor_config.json (BlipImageProcessor
                 at 96), vocab.txt (bert-base-uncased from ../shared).
  tiny-lavis/    model_base_retrieval_coco.pth, LAVIS's layout (torch.save of {"model": state_dict}): the same tensors
                 under the LAVIS / original BLIP names plus momentum copies and queues that a
                 loader must skip (visual_encoder_m.*, text_queue, temp, ...), and the same config.json (no vocab.txt:
                 one copy in tiny/).
  blip.ref.safetensors  per case c: c.pixels, c.ids, c.image_embeds, c.itm_logits ([ENC] at 0), c.itm_logits_hf
                 (first token kept, as HF's class does), c.itc, c.cross_attention and c.cross_attention_grad
                 (layer LAYER, [1, H, T, 37]), c.mask (I32 0/1, 96x96), c.augmented (U8 [96, 96, 3]).
  blip.stages.f64 (+ .json index)  float64: c.R (the GxG map), c.A (min-max), c.U (spline), c.Bl (blur), c.Bn;
                 and "full.*": a random 24x24 map taken through the real 384 recipe (U, Bl subsampled every 5th
                 row and column).
  blip.ref.json  questions, cleaned text, ids, sim, rho, theta, kept pixels, and the smallest |Bn - theta|.
"""
import json
import math
import shutil
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import blip_reference as br  # noqa: E402

torch.set_num_threads(1)
REPO = HERE.parents[2]
SHARED = REPO / ".." / "shared" / "data"
OUT = REPO / "vit" / "src" / "test" / "resources" / "blip-reference"

VISION = {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2, "image_size": 96,
          "patch_size": 16, "layer_norm_eps": 1e-5, "hidden_act": "gelu"}
TEXT = {"vocab_size": 30524, "hidden_size": 16, "encoder_hidden_size": 32, "intermediate_size": 32, "num_hidden_layers": 3,
        "num_attention_heads": 2, "max_position_embeddings": 40, "layer_norm_eps": 1e-12, "hidden_act": "gelu",
        "bos_token_id": 30522, "pad_token_id": 0, "sep_token_id": 102}
EMBED = 8
LAYER = 1
SEED = 23
CASES = [
    ("cats", "000000039769.png", "Is there a cat in the image?"),
    ("chelsea", "chelsea.png", "Is there a dog in the image?"),
    ("coffee", "coffee.png", "Please describe this image in detail."),
]


def config():
    return {"architectures": ["BlipForImageTextRetrieval"], "model_type": "blip", "image_text_hidden_size": EMBED,
            "projection_dim": EMBED, "text_config": TEXT, "vision_config": VISION}


def preprocessor(S):
    return {"do_resize": True, "size": {"height": S, "width": S}, "resample": 3, "do_rescale": True,
            "rescale_factor": 1 / 255, "do_normalize": True, "image_mean": br.CLIP_MEAN, "image_std": br.CLIP_STD,
            "do_convert_rgb": True, "image_processor_type": "BlipImageProcessor", "processor_class": "BlipProcessor"}


def write_folder(folder, tensors, vocab=True, pth=None):
    folder.mkdir(parents=True, exist_ok=True)
    if pth is None:
        br.write_safetensors(folder / "model.safetensors", tensors)
    else:  # LAVIS's layout: torch.save({"model": state_dict}) (zip format)
        torch.save({"model": {k: v.contiguous() for k, v in tensors.items()}}, folder / pth)
    (folder / "config.json").write_text(json.dumps(config(), indent=2) + "\n")
    (folder / "preprocessor_config.json").write_text(json.dumps(preprocessor(VISION["image_size"]), indent=2) + "\n")
    if vocab:
        shutil.copyfile(SHARED / "tokenizers" / "bert" / "bert-base-uncased-vocab.txt", folder / "vocab.txt")


def run_case(p, tok, name, file, question):
    S = VISION["image_size"]
    img = Image.open(SHARED / "images" / file).convert("RGB")
    text = br.clean_caption(question)
    ids = torch.tensor([tok.encode(text)])
    px = br.blip_pixels(img, S)[None]
    R, rec = br.gradcam(p, VISION, TEXT, px, ids, LAYER)
    with torch.no_grad():
        image = rec["image_embeds"]
        mask = torch.ones_like(ids)
        hf = br.itm_logits(p, TEXT, ids, mask, image, enc=False)
        sim = float(br.itc_cosine(p, TEXT, ids, mask, image)[0])
    A, U, Bl, Bn = br.relevance(R, S)
    rho, theta, M, aug = br.mask_image(img, Bn, sim, S)
    gap = float(np.abs(Bn - theta)[Bn != theta].min())
    t = {f"{name}.pixels": px, f"{name}.ids": ids.to(torch.int32), f"{name}.image_embeds": image,
         f"{name}.itm_logits": rec["itm_logits"], f"{name}.itm_logits_hf": hf, f"{name}.itc": torch.tensor([sim]),
         f"{name}.cross_attention": rec["cross_attention"], f"{name}.cross_attention_grad": rec["cross_attention_grad"],
         f"{name}.mask": M.astype(np.int32), f"{name}.augmented": aug}
    stages = {f"{name}.R": R, f"{name}.A": A, f"{name}.U": U, f"{name}.Bl": Bl, f"{name}.Bn": Bn}
    meta = {"image": file, "question": question, "text": text, "ids": ids[0].tolist(), "sim": sim, "rho": rho,
            "theta": float(theta), "kept": int(M.sum()), "theta_gap": gap}
    print(name, text, ids[0].tolist(), "itm", rec["itm_logits"][0].tolist(), "itc %.6f" % sim, "kept", int(M.sum()), "of", S * S,
          "gap %.3g" % gap)
    return t, stages, meta


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    p = br.make_params(VISION, TEXT, EMBED, SEED)
    write_folder(OUT / "tiny", p)
    lavis = br.lavis_names(p, VISION["num_hidden_layers"])
    g = torch.Generator().manual_seed(SEED + 1)
    extra = {"visual_encoder_m.cls_token": torch.randn(1, 1, VISION["hidden_size"], generator=g),
             "text_encoder_m.embeddings.LayerNorm.weight": torch.randn(TEXT["hidden_size"], generator=g),
             "vision_proj_m.weight": torch.randn(EMBED, VISION["hidden_size"], generator=g),
             "image_queue": torch.randn(EMBED, 4, generator=g), "text_queue": torch.randn(EMBED, 4, generator=g),
             "idx_queue": torch.zeros(1, 4, dtype=torch.int64), "ptr_queue": torch.zeros(1, dtype=torch.int64),
             "temp": torch.tensor(0.07)}
    # the tests read the vocabulary from tiny/
    write_folder(OUT / "tiny-lavis", {**lavis, **extra}, vocab=False, pth="model_base_retrieval_coco.pth")
    tok = br.WordPiece(SHARED / "tokenizers" / "bert" / "bert-base-uncased-vocab.txt")
    tensors, stages, meta = {}, {}, {"layer": LAYER, "torch": torch.__version__, "cases": {}}
    for name, file, question in CASES:
        t, s, m = run_case(p, tok, name, file, question)
        tensors.update(t)
        stages.update(s)
        meta["cases"][name] = m
    # the real sizes: a random 24x24 map through the 384 recipe (sigma 7.68, radius 31)
    R = np.random.default_rng(SEED).random((24, 24)) ** 3
    A, U, Bl, Bn = br.relevance(R, 384)
    stages.update({"full.R": R, "full.A": A, "full.U5": U[::5, ::5], "full.Bl5": Bl[::5, ::5], "full.Bn5": Bn[::5, ::5]})
    flat = np.sort(Bn.reshape(-1))[::-1]
    meta["full"] = {"theta_at_0.8": float(flat[int(math.floor(384 * 384 * 0.8))]),
                    "kept_at_0.8": int((Bn >= flat[int(math.floor(384 * 384 * 0.8))]).sum()), "U_sum": float(U.sum()),
                    "Bl_sum": float(Bl.sum())}
    br.write_safetensors(OUT / "blip.ref.safetensors", tensors)
    br.write_f64(OUT / "blip.stages.f64", stages)
    (OUT / "blip.ref.json").write_text(json.dumps(meta, indent=2) + "\n")


if __name__ == "__main__":
    main()
