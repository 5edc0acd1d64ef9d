#!/usr/bin/python3
"""Reference AGLA runs on the tiny random LLaVA-1.5 of the ViCrop fixtures and the tiny BLIP of make_blip_reference.py.

Run with Debian's interpreter (python3-torch, numpy, PIL; no transformers, scipy or skimage), from the repository root,
after make_blip_reference.py:

    /usr/bin/python3 tools/reference/agla/make_agla_reference.py methods/src/test/resources/agla-reference

Written from spec methods-abs-agla.md part B (Lackel/AGLA eval/augmentation.py, eval/sample.py, eval/run_llava.py), in
plain float32 torch for the models and float64 numpy for the map (blip_reference.py), every LLaVA step a full forward
of the whole sequence (no cache):

  IPM      BLIP ITM GradCAM on the text layer LAYER cross-attention ([ENC] at position 0), ITC cosine sim,
           relevance map (min-max, spline to 96, blur sigma 1.92, min-max), keep ratio rho = min(1 - sim/2, 1 - 1e-5),
           the masked PIL-bicubic 96x96 image truncated to 8 bits
  views    both images through the tiny LLaVA's CLIP processor (shortest edge 84, centre crop; no pad-to-square)
  prompt   llava_v1: system sentence + " USER: <image>\\n" + question + " Please answer this question with one word.
           ASSISTANT:" (the POPE suffix), tokenized with llama2.c's BPE (tok512 of stories260K)
  step     l = l_o + alpha l_a ; l[l_o < log(beta) + max l_o] = -inf ; draw with the torch-independent sampler
           (temperature 1, top-p 1) and recorded float32 uniforms; both branches are fed the drawn token; EOS ends
  parity   the released sampler's cache sharing: from the second token on l_a = l_o

Writes reference.safetensors + reference.json (per case c: c.ids, c.pixels [1,3,84,84], c.aug_pixels, c.augmented (U8
96x96x3), c.uniforms, c.R (the 6x6 map, float32), c.mask (I32), c.tokens, c.logits [steps, V], c.parity.tokens).
"""
import json
import math
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "contrastive"))
sys.path.insert(0, str(HERE.parent / "vicrop"))
import blip_reference as br  # noqa: E402
import make_blip_reference as mb  # noqa: E402
import make_contrastive_reference as cr  # noqa: E402  (tiny LLaVA, prompt, step helpers)

vr, lv, clip, llama = cr.vr, cr.lv, cr.clip, cr.llama
torch.set_num_threads(1)

ALPHA, BETA = 2.0, 0.5
MAX_NEW = 12
SUFFIX = " Please answer this question with one word."
CASES = [
    ("cats", "000000039769.png", "Is there a cat in the image?", 31),
    ("chelsea", "chelsea.png", "Is there a dog in the image?", 32),
    ("coffee", "coffee.png", "Please describe this image in detail.", 33),
]


def assemble(lo, la):
    l = lo + ALPHA * la
    cut = torch.log(torch.tensor(BETA, dtype=torch.float32)) + lo.max()
    margin = float((lo - cut).abs().min())
    return l.masked_fill(lo < cut, -float("inf")), margin


def decode(W, e0, e1, uniforms, parity=False):
    seqs = [e0.clone(), e1.clone()]
    tokens, rows, cut_margin, u_margin = [], [], float("inf"), float("inf")
    for step in range(MAX_NEW):
        lo = cr.last_logits(W, seqs[0])
        la = lo if (parity and step > 0) else cr.last_logits(W, seqs[1])
        l, m = assemble(lo, la)
        cut_margin = min(cut_margin, m)
        u = float(uniforms[step])
        t = llama.sample(l.numpy(), [], u, 1.0, 0, 1.0, 1.0)
        u_margin = min(u_margin, cr.draw_margin(l, u))
        rows.append(l.numpy())
        if t == vr.EOS:
            break
        tokens.append(t)
        for i in range(2):
            seqs[i] = torch.cat([seqs[i], cr.token_embedding(W, t)], dim=0)
    return tokens, np.stack(rows).astype(np.float32), cut_margin, u_margin


def main():
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "methods/src/test/resources/agla-reference")
    out.mkdir(parents=True, exist_ok=True)
    W = lv.build(2025)  # the model of vicrop-reference/tiny
    tok = vr.Llama2cBpe(vr.SHARED / "tokenizers" / "stories260k" / "tok512.bin")
    P = br.make_params(mb.VISION, mb.TEXT, mb.EMBED, mb.SEED)  # the model of blip-reference/tiny
    wp = br.WordPiece(mb.SHARED / "tokenizers" / "bert" / "bert-base-uncased-vocab.txt")
    S = mb.VISION["image_size"]
    ref, meta = {}, {"alpha": ALPHA, "beta": BETA, "max_new_tokens": MAX_NEW, "blip_layer": mb.LAYER, "suffix": SUFFIX,
                     "torch": torch.__version__, "cases": {}}
    for name, file, question, seed in CASES:
        img = Image.open(vr.SHARED / "images" / file).convert("RGB")
        ids_b = torch.tensor([wp.encode(br.clean_caption(question))])
        R, _ = br.gradcam(P, mb.VISION, mb.TEXT, br.blip_pixels(img, S)[None], ids_b, mb.LAYER)
        with torch.no_grad():
            image = br.vision_forward(P, mb.VISION, br.blip_pixels(img, S)[None])
            sim = float(br.itc_cosine(P, mb.TEXT, ids_b, torch.ones_like(ids_b), image)[0])
        A, U, Bl, Bn = br.relevance(R, S)
        rho, theta, M, aug = br.mask_image(img, Bn, sim, S)
        gap = float(np.abs(Bn - theta)[Bn != theta].min())
        px = clip.clip_pixels(img, vr.S)[None]
        px_aug = clip.clip_pixels(Image.fromarray(aug, "RGB"), vr.S)[None]
        ids = cr.prompt_ids(tok, question + SUFFIX)
        full = lv.expand(ids, vr.N)
        uniforms = np.random.default_rng(seed).random(MAX_NEW).astype(np.float32)
        with torch.no_grad():
            e = cr.embeds(W, full, lv.image_features(W, px))
            e_aug = cr.embeds(W, full, lv.image_features(W, px_aug))
            agla = decode(W, e, e_aug, uniforms)
            parity = decode(W, e, e_aug, uniforms, parity=True)
            plain = decode(W, e, e, uniforms)  # augmented = original: (1 + alpha) l_o with the cut
        ref[f"{name}.ids"] = np.array(ids, dtype=np.int32)
        ref[f"{name}.pixels"] = px.numpy()
        ref[f"{name}.aug_pixels"] = px_aug.numpy()
        ref[f"{name}.augmented"] = aug
        ref[f"{name}.mask"] = M.astype(np.int32)
        ref[f"{name}.R"] = R.astype(np.float32)
        ref[f"{name}.uniforms"] = uniforms
        ref[f"{name}.tokens"] = np.array(agla[0], dtype=np.int32)
        ref[f"{name}.logits"] = agla[1]
        ref[f"{name}.parity.tokens"] = np.array(parity[0], dtype=np.int32)
        ref[f"{name}.same.tokens"] = np.array(plain[0], dtype=np.int32)
        meta["cases"][name] = {"image": file, "question": question, "seed": seed, "sim": sim, "rho": rho, "theta": float(theta),
                               "kept": int(M.sum()), "theta_gap": gap, "cut_margin": agla[2], "draw_margin": agla[3],
                               "parity_draw_margin": parity[3], "same_draw_margin": plain[3]}
        print(name, "sim %.4f kept %d gap %.3g" % (sim, int(M.sum()), gap), "agla", agla[0], "parity", parity[0], "same", plain[0],
              "margins cut %.3g draw %.3g/%.3g/%.3g" % (agla[2], agla[3], parity[3], plain[3]))
    llama.write_safetensors(out / "reference.safetensors", ref)
    (out / "reference.json").write_text(json.dumps(meta, indent=2) + "\n")


if __name__ == "__main__":
    main()
