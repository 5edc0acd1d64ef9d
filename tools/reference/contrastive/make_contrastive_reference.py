#!/usr/bin/python3
"""Reference AVC and VCD runs on the tiny random LLaVA-1.5 of the ViCrop fixtures, for fovea's methods tests.

Run with Debian's interpreter (python3-torch, numpy, PIL; no transformers):

    /usr/bin/python3 tools/reference/contrastive/make_contrastive_reference.py methods/src/test/resources/contrastive-reference

Written from spec methods-vicrop-avc-vcd.md sections 2 (AVC) and 3 (VCD) and the reference sampling
loops they describe (sangminwoo/AvisC avisc_utils/avisc_sample.py, DAMO-NLP-SG/VCD vcd_utils/vcd_sample.py
and vcd_add_noise.py), in plain float32 torch, every step a full forward of the whole sequence (no cache):

  prompt   llava_v1 template: system sentence + " USER: <image>\\n" + question + " ASSISTANT:", tokenized
           with llama2.c's BPE (tok512 of stories260K) as the ViCrop generator does
  AVC      at the prompt's last position, per layer the head mean of the attention to the image positions;
           layer shares p = s / sum s; k = #(cumsum(sorted p, descending) < P) + 1 (torch.topk picks the layers);
           a = mean of the selected layers' head means; tau = mean(a) + lambda std(a) (unbiased);
           blind = a >= tau; the second branch zeroes the input embeddings of the non-blind image positions
  VCD      eps ~ N(0, 1) of the pixels' shape from a seeded torch generator (recorded);
           x' = sqrt(abar_T) x + sqrt(1 - abar_T) eps, the 1000-step sigmoid schedule computed in float64 and
           each coefficient rounded to float32 (the VCD code computes the schedule in float32: printed below)
  step     d = (1 + alpha) z - alpha z' ; d[z < log(beta) + max z] = -inf ; the draw is llama's torch-independent
           sampler (temperature 1, top-p 1) with recorded uniforms u (float32 values), so both sides draw alike;
           both branches are fed the same token; EOS ends the answer
  parity   VCD with the reference's cache reuse: from the second token on z' = z (vcd_sample.py resets the
           distorted branch's kwargs to the first branch's, whose cache it then reads)

Writes reference.safetensors + reference.json (per case c: c.ids, c.pixels, c.noise, c.uniforms, and for m in
avc, vcd: c.m.logits [steps, V] contrasted logits, c.m.tokens; c.avc.layer_shares, c.avc.layers,
c.avc.attention, c.avc.blind; c.parity.tokens). The model is methods/src/test/resources/vicrop-reference/tiny.
"""
import json
import math
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "vicrop"))
import make_vicrop_reference as vr  # noqa: E402  (sets the tiny model's sizes)

lv, clip, llama = vr.lv, vr.clip, vr.llama
torch.set_num_threads(1)

SYSTEM = ("A chat between a curious human and an artificial intelligence assistant. "
          "The assistant gives helpful, detailed, and polite answers to the human's questions.")
TEMPLATE = SYSTEM + " USER: <image>\n{question} ASSISTANT:"
ALPHA, BETA, P, LAMBDA, STEP = 1.0, 0.1, 0.5, 1.0, 500
MAX_NEW = 16
CASES = [
    ("cats", "000000039769.png", "Is there a cat in the image?", 11),
    ("chelsea", "chelsea.png", "Describe this image.", 12),
    ("coffee", "coffee.png", "Is there a cup in the image?", 13),
]


def prompt_ids(tok, question):
    text = TEMPLATE.replace("{question}", question)
    ids = []
    for k, chunk in enumerate(text.split("<image>")):
        if k > 0:
            ids.append(lv.IMAGE_TOKEN)
        ids.extend(tok.encode(chunk, k == 0))
    return ids


def embeds(W, ids, feats):
    lm = lv.sub(W, "language_model.")
    e = lm["model.embed_tokens.weight"][torch.tensor(ids)].clone()
    mask = torch.tensor(ids) == lv.IMAGE_TOKEN
    return e.masked_scatter(mask[:, None].expand_as(e), feats)


def token_embedding(W, t):
    return W["language_model.model.embed_tokens.weight"][t][None]


def last_logits(W, e, attn=None):
    return llama.forward(lv.sub(W, "language_model."), lv.TEXT, e[None], attn)[0][-1]


def schedule(step):
    x = np.linspace(-6, 6, 1000, dtype=np.float64)
    betas = 1 / (1 + np.exp(-x)) * (5e-3 - 1e-5) + 1e-5
    abar = np.cumprod(1 - betas)
    c64 = (math.sqrt(abar[step]), math.sqrt(1 - abar[step]))
    b32 = torch.sigmoid(torch.linspace(-6, 6, 1000)) * (0.5e-2 - 1e-5) + 1e-5
    a32 = torch.cumprod(1 - b32, dim=0)
    c32 = (float(torch.sqrt(a32[step])), float(torch.sqrt(1 - a32[step])))
    return c64, c32


def contrast(z, zc):
    d = (1 + ALPHA) * z - ALPHA * zc
    cut = torch.log(torch.tensor(BETA, dtype=torch.float32)) + z.max()
    margin = float((z - cut).abs().min())
    return d.masked_fill(z < cut, -float("inf")), margin


def draw_margin(d, u):
    """Distance of u to the nearest cumulative-probability boundary of the draw (top-p 1, temperature 1)."""
    l = d.numpy().astype(np.float64)
    order = sorted(range(len(l)), key=lambda i: (-l[i], i))
    p = np.exp(l - l[order[0]])
    p /= p.sum()
    acc, best = 0.0, 1.0
    for i in order:
        if p[i] == 0:
            break
        acc += p[i]
        best = min(best, abs(u - acc))
    return best


def decode(W, e0, e1, uniforms, parity=False):
    seqs = [e0.clone(), e1.clone()]
    tokens, rows, cut_margin, u_margin = [], [], float("inf"), float("inf")
    for step in range(MAX_NEW):
        z = last_logits(W, seqs[0])
        zc = z if (parity and step > 0) else last_logits(W, seqs[1])
        d, m = contrast(z, zc)
        cut_margin = min(cut_margin, m)
        u = float(uniforms[step])
        t = llama.sample(d.numpy(), [], u, 1.0, 0, 1.0, 1.0)
        u_margin = min(u_margin, draw_margin(d, u))
        rows.append(d.numpy())
        if t == vr.EOS:
            break
        tokens.append(t)
        for i in range(2):
            seqs[i] = torch.cat([seqs[i], token_embedding(W, t)], dim=0)
    return tokens, np.stack(rows).astype(np.float32), cut_margin, u_margin


def blind_tokens(attn, span):
    a0, a1 = span
    hm = [a[0, :, -1, a0:a1].mean(dim=0) for a in attn]  # per layer [N]
    s = torch.stack([h.sum() for h in hm])
    p = s / s.sum()
    srt = torch.sort(p, descending=True)[0]
    csum = torch.cumsum(srt, dim=0)
    k = int((csum < P).sum()) + 1
    layers = torch.topk(p, k).indices
    a = torch.stack([hm[int(l)] for l in layers]).mean(dim=0)
    tau = a.mean() + a.std() * LAMBDA
    blind = torch.where(a >= tau)[0]
    layer_margin = float(min((csum - P).abs()))
    tau_margin = float((a - tau).abs().min() / tau)
    return p, layers, a, blind, layer_margin, tau_margin


def main():
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "methods/src/test/resources/contrastive-reference")
    out.mkdir(parents=True, exist_ok=True)
    W = lv.build(2025)  # the model of vicrop-reference/tiny
    tok = vr.Llama2cBpe(vr.SHARED / "tokenizers" / "stories260k" / "tok512.bin")
    c64, c32 = schedule(STEP)
    coef = (np.float32(c64[0]), np.float32(c64[1]))
    print("schedule at step", STEP, "float64", c64, "float32 (as the VCD code)", c32)
    ref = {}
    meta = {"alpha": ALPHA, "beta": BETA, "layer_p": P, "lambda": LAMBDA, "noise_step": STEP, "max_new_tokens": MAX_NEW,
            "torch": torch.__version__, "schedule_float64": c64, "schedule_float32": c32, "cases": {}}
    for name, file, question, seed in CASES:
        img = Image.open(vr.SHARED / "images" / file).convert("RGB")
        px = clip.clip_pixels(img, vr.S)[None]  # [1, 3, S, S]
        ids = prompt_ids(tok, question)
        full = lv.expand(ids, vr.N)
        span = (full.index(lv.IMAGE_TOKEN), full.index(lv.IMAGE_TOKEN) + vr.N)
        uniforms = np.random.default_rng(seed).random(MAX_NEW).astype(np.float32)
        eps = torch.randn(px.shape, generator=torch.Generator().manual_seed(seed))
        with torch.no_grad():
            e = embeds(W, full, lv.image_features(W, px))
            attn = []
            last_logits(W, e, attn)
            p, layers, a, blind, layer_margin, tau_margin = blind_tokens(attn, span)
            e_avc = e.clone()
            keep = set(int(i) for i in blind)
            for i in range(vr.N):
                if i not in keep:
                    e_avc[span[0] + i] = 0.0
            avc = decode(W, e, e_avc, uniforms)
            px_cd = torch.tensor(coef[0]) * px + torch.tensor(coef[1]) * eps
            e_vcd = embeds(W, full, lv.image_features(W, px_cd))
            vcd = decode(W, e, e_vcd, uniforms)
            parity = decode(W, e, e_vcd, uniforms, parity=True)
        ref[f"{name}.ids"] = np.array(ids, dtype=np.int32)
        ref[f"{name}.pixels"] = px.numpy()
        ref[f"{name}.noise"] = eps.numpy()
        ref[f"{name}.uniforms"] = uniforms
        ref[f"{name}.avc.layer_shares"] = p.numpy()
        ref[f"{name}.avc.layers"] = layers.numpy().astype(np.int32)
        ref[f"{name}.avc.attention"] = a.numpy()
        ref[f"{name}.avc.blind"] = blind.numpy().astype(np.int32)
        for m, r in (("avc", avc), ("vcd", vcd)):
            ref[f"{name}.{m}.tokens"] = np.array(r[0], dtype=np.int32)
            ref[f"{name}.{m}.logits"] = r[1]
        ref[f"{name}.parity.tokens"] = np.array(parity[0], dtype=np.int32)
        meta["cases"][name] = {"image": file, "question": question, "seed": seed, "image_span": list(span), "length": len(full),
                               "layer_margin": layer_margin, "tau_margin": tau_margin,
                               "avc_cut_margin": avc[2], "avc_draw_margin": avc[3], "vcd_cut_margin": vcd[2], "vcd_draw_margin": vcd[3],
                               "parity_draw_margin": parity[3]}
        print(name, "length", len(full), "span", span, "layers", layers.tolist(), "blind", blind.tolist(),
              "avc", avc[0], "vcd", vcd[0], "parity", parity[0],
              "margins layer %.3g tau %.3g cut %.3g/%.3g draw %.3g/%.3g/%.3g" % (layer_margin, tau_margin, avc[2], vcd[2], avc[3], vcd[3], parity[3]))
    llama.write_safetensors(out / "reference.safetensors", ref)
    (out / "reference.json").write_text(json.dumps(meta, indent=2) + "\n")


if __name__ == "__main__":
    main()
