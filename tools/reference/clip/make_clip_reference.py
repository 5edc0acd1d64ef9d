#!/usr/bin/python3
"""Tiny CLIP checkpoints with random weights and their reference outputs, for fovea's CLIP tests.

Run with Debian's system interpreter (python3-torch 1.13, python3-numpy, python3-pil), from anywhere:

    /usr/bin/python3 tools/reference/clip/make_clip_reference.py

transformers is not installed here, so the forward is written in plain torch from the published
huggingface/transformers src/transformers/models/clip/modeling_clip.py (CLIPVisionEmbeddings with
interpolate_pos_encoding, CLIPTextTransformer, CLIPModel.forward) and shared/specs/models-formats.md 1.
Parameter names and shapes are HF's exactly; the folders look like openai/clip-vit-* folders.

It writes vit/src/test/resources/clip-reference/:
  tiny-p32/        CLIPConfig, image 64, patch 32 (2x2 grid), vision 32 wide x 2 layers x 4 heads,
                   text 32 x 2 x 2, projection 24, vocab 1000, 32 positions, eos_token_id 2 (the
                   legacy hub value: pooling takes the argmax of the ids). model.safetensors (written
                   by the small writer below), preprocessor_config.json, and a tiny CLIP BPE
                   tokenizer (vocab.json + merges.txt: the 512 byte symbols, merges learnt from the
                   label/template corpus below, <|startoftext|>, <|endoftext|>; all ids < 1000).
  tiny-p14/        CLIPConfig, image 42, patch 14 (3x3 grid), vision 48 x 3 x 4, text 32 x 2 x 4,
                   projection 16, eos_token_id 7 (the newer rule: pooling takes the first position
                   of id 7), weights as pytorch_model.bin (torch.save, zip format).
  tiny-vision/     vision-only CLIPVisionConfig (model_type clip_vision_model, as LLaVA folders carry)
                   with the vision_model.* weights of tiny-p32.
  <model>.ref.safetensors   every recorded tensor (float32), named as listed in <model>.ref.json.
  <model>.ref.json          the inputs (image names, token ids, attention masks) and the record names.

Recorded per model, for each input set: vision hidden_states (L+1: embeddings after pre_layrnorm,
then each layer), every layer's attention probabilities, last_hidden_state, pooler_output,
image_embeds (projected, before and after L2 normalisation), the same for the text tower (with a
right-padded batch and its attention mask), logit_scale, logits_per_image; and the gradient of
logits_per_image[0, 1] with respect to the pixels and to each layer's attention probabilities of
both towers (retain_grad). tiny-p14 is also run at other image sizes (56x56 and 42x70) through
interpolate_pos_encoding (bicubic, align_corners=False, size=(h/P, w/P), no antialias).
Zero-shot: for tiny-p32, prompts built from labels x templates with the tokenizer below, averaged as
CLIP's notebook does (normalise each, mean, renormalise), softmax(exp(logit_scale) * cos).
"""
import json
import math
import os
import re
import struct

import numpy as np
import torch
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
SHARED_IMAGES = os.path.abspath(os.path.join(REPO, "..", "shared", "data", "images"))
OUT = os.path.join(REPO, "vit", "src", "test", "resources", "clip-reference")

CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]
IMAGES = ["000000039769.png", "astronaut.png", "chelsea.png"]

LABELS = ["cat", "dog", "astronaut", "rocket", "coffee"]
TEMPLATES = ["a photo of a {}.", "a blurry photo of the {}."]


# ----------------------------------------------------------------------------- writers

def write_safetensors(path, tensors):
    """Minimal safetensors writer: 8-byte little-endian header length, JSON header, raw data."""
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        a = t.detach().contiguous().cpu().numpy()
        dtype = {np.float32: "F32", np.int64: "I64"}[a.dtype.type]
        b = a.astype(a.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": dtype, "shape": list(a.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


# ----------------------------------------------------------------------------- tokenizer

def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


BYTE_ENC = bytes_to_unicode()
# ASCII-only version of the CLIP pre-tokenizer regex (the corpus and prompts are ASCII)
SPLIT = re.compile(r"<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[a-z]+|[0-9]|[^\sa-z0-9]+", re.IGNORECASE)


def pieces(text):
    text = re.sub(r"\s+", " ", text).strip().lower()
    return ["".join(BYTE_ENC[b] for b in p.encode()) for p in SPLIT.findall(text)]


def word_symbols(piece):
    syms = list(piece)
    syms[-1] = syms[-1] + "</w>"
    return syms


def learn_merges(corpus):
    """Greedy BPE on the corpus words until every word is one symbol (ties: first seen)."""
    words = {}
    for text in corpus:
        for p in pieces(text):
            words[p] = words.get(p, 0) + 1
    seqs = {w: word_symbols(w) for w in words}
    merges = []
    while True:
        counts = {}
        for w, s in seqs.items():
            for a, b in zip(s, s[1:]):
                counts[(a, b)] = counts.get((a, b), 0) + words[w]
        if not counts:
            return merges
        best = max(counts.items(), key=lambda kv: kv[1])[0]
        merges.append(best)
        for w, s in seqs.items():
            out, i = [], 0
            while i < len(s):
                if i + 1 < len(s) and (s[i], s[i + 1]) == best:
                    out.append(s[i] + s[i + 1])
                    i += 2
                else:
                    out.append(s[i])
                    i += 1
            seqs[w] = out


class TinyClipTokenizer:
    """openai/CLIP simple_tokenizer.py's algorithm over a small merge list (no ftfy: ASCII inputs)."""

    def __init__(self, merges):
        syms = list(BYTE_ENC.values())
        vocab = syms + [s + "</w>" for s in syms] + ["".join(m) for m in merges] + ["<|startoftext|>", "<|endoftext|>"]
        self.encoder = {v: i for i, v in enumerate(vocab)}
        self.ranks = {m: i for i, m in enumerate(merges)}
        self.merges = merges
        self.sot = self.encoder["<|startoftext|>"]
        self.eot = self.encoder["<|endoftext|>"]

    def bpe(self, piece):
        word = word_symbols(piece)
        while len(word) > 1:
            pairs = set(zip(word, word[1:]))
            best = min(pairs, key=lambda p: self.ranks.get(p, float("inf")))
            if best not in self.ranks:
                break
            out, i = [], 0
            while i < len(word):
                if i + 1 < len(word) and (word[i], word[i + 1]) == best:
                    out.append(word[i] + word[i + 1])
                    i += 2
                else:
                    out.append(word[i])
                    i += 1
            word = out
        return word

    def encode(self, text):
        return [self.sot] + [self.encoder[s] for p in pieces(text) for s in self.bpe(p)] + [self.eot]


# ----------------------------------------------------------------------------- model

def quick_gelu(x):
    return x * torch.sigmoid(1.702 * x)


def layer_norm(x, p, name, eps):
    return torch.nn.functional.layer_norm(x, (x.shape[-1],), p[name + ".weight"], p[name + ".bias"], eps)


def linear(x, p, name, bias=True):
    return torch.nn.functional.linear(x, p[name + ".weight"], p.get(name + ".bias") if bias else None)


def encoder(h, p, prefix, cfg, mask, rec, tag):
    """CLIPEncoder: pre-LN layers; records hidden states and the attention probabilities (kept in the graph)."""
    heads = cfg["num_attention_heads"]
    eps = cfg["layer_norm_eps"]
    B, T, C = h.shape
    d = C // heads
    for i in range(cfg["num_hidden_layers"]):
        lp = f"{prefix}.encoder.layers.{i}"
        x = layer_norm(h, p, lp + ".layer_norm1", eps)
        q = linear(x, p, lp + ".self_attn.q_proj").view(B, T, heads, d).transpose(1, 2)
        k = linear(x, p, lp + ".self_attn.k_proj").view(B, T, heads, d).transpose(1, 2)
        v = linear(x, p, lp + ".self_attn.v_proj").view(B, T, heads, d).transpose(1, 2)
        scores = torch.matmul(q, k.transpose(-1, -2)) * d ** -0.5
        if mask is not None:
            scores = scores + mask
        probs = torch.softmax(scores, dim=-1)
        if probs.requires_grad:
            probs.retain_grad()
        rec[f"{tag}.attentions.{i}"] = probs
        a = torch.matmul(probs, v).transpose(1, 2).reshape(B, T, C)
        h = h + linear(a, p, lp + ".self_attn.out_proj")
        x = layer_norm(h, p, lp + ".layer_norm2", eps)
        h = h + linear(quick_gelu(linear(x, p, lp + ".mlp.fc1")), p, lp + ".mlp.fc2")
        rec[f"{tag}.hidden_states.{i + 1}"] = h
    return h


def vision_forward(p, cfg, pixels, rec, tag="vision"):
    P = cfg["patch_size"]
    D = cfg["hidden_size"]
    B, _, H, W = pixels.shape
    patches = torch.nn.functional.conv2d(pixels, p["vision_model.embeddings.patch_embedding.weight"], stride=P)
    patches = patches.flatten(2).transpose(1, 2)  # [B, N-1, D]
    cls = p["vision_model.embeddings.class_embedding"].expand(B, 1, -1)
    emb = torch.cat([cls, patches], dim=1)
    pos = p["vision_model.embeddings.position_embedding.weight"]  # [N, D]
    grid = cfg["image_size"] // P
    nh, nw = H // P, W // P
    if (nh, nw) != (grid, grid):
        # HF interpolate_pos_encoding: bicubic, align_corners=False, size=(h/P, w/P), no antialias
        patch_pos = pos[1:].reshape(1, grid, grid, D).permute(0, 3, 1, 2)
        patch_pos = torch.nn.functional.interpolate(patch_pos, size=(nh, nw), mode="bicubic", align_corners=False)
        patch_pos = patch_pos.permute(0, 2, 3, 1).reshape(1, -1, D)
        pos = torch.cat([pos[:1].unsqueeze(0), patch_pos], dim=1)[0]
    emb = emb + pos
    h = layer_norm(emb, p, "vision_model.pre_layrnorm", cfg["layer_norm_eps"])
    rec[f"{tag}.hidden_states.0"] = h
    h = encoder(h, p, "vision_model", cfg, None, rec, tag)
    rec[f"{tag}.last_hidden_state"] = h
    pooled = layer_norm(h[:, 0, :], p, "vision_model.post_layernorm", cfg["layer_norm_eps"])
    rec[f"{tag}.pooler_output"] = pooled
    return pooled


def text_forward(p, cfg, ids, attention_mask, rec, tag="text"):
    B, T = ids.shape
    h = p["text_model.embeddings.token_embedding.weight"][ids] + p["text_model.embeddings.position_embedding.weight"][:T]
    rec[f"{tag}.hidden_states.0"] = h
    # causal mask plus the padding mask over keys (HF create_causal_mask), additive, float32 min
    neg = torch.finfo(torch.float32).min
    causal = torch.triu(torch.full((T, T), neg), diagonal=1)
    pad = (1.0 - attention_mask[:, None, None, :].float()) * neg
    mask = torch.clamp(causal[None, None] + pad, min=neg)
    h = encoder(h, p, "text_model", cfg, mask, rec, tag)
    h = layer_norm(h, p, "text_model.final_layer_norm", cfg["layer_norm_eps"])
    rec[f"{tag}.last_hidden_state"] = h
    rows = torch.arange(B)
    if cfg["eos_token_id"] == 2 or bool(torch.all(ids.max(dim=-1).values == 49407)):
        idx = ids.argmax(dim=-1)  # legacy: the EOT is the largest id
    else:
        idx = (ids == cfg["eos_token_id"]).int().argmax(dim=-1)  # first eos_token_id
    pooled = h[rows, idx]
    rec[f"{tag}.pooler_output"] = pooled
    return pooled


def clip_forward(p, config, pixels, ids, attention_mask, rec):
    img = vision_forward(p, config["vision_config"], pixels, rec)
    txt = text_forward(p, config["text_config"], ids, attention_mask, rec)
    img = linear(img, p, "visual_projection", bias=False)
    txt = linear(txt, p, "text_projection", bias=False)
    rec["image_embeds_unnormalized"] = img
    rec["text_embeds_unnormalized"] = txt
    img = img / img.norm(p=2, dim=-1, keepdim=True)
    txt = txt / txt.norm(p=2, dim=-1, keepdim=True)
    rec["image_embeds"] = img
    rec["text_embeds"] = txt
    logits_per_text = torch.matmul(txt, img.t()) * p["logit_scale"].exp()
    rec["logits_per_text"] = logits_per_text
    rec["logits_per_image"] = logits_per_text.t()
    return logits_per_text.t()


def make_params(config, seed):
    """Random weights with HF's names and shapes (scaled so activations stay O(1))."""
    g = torch.Generator().manual_seed(seed)

    def rnd(*shape, std=1.0, mean=0.0):
        return (torch.randn(*shape, generator=g) * std + mean).float()

    p = {}
    vc, tc = config["vision_config"], config["text_config"]
    E = config["projection_dim"]

    def tower(prefix, c):
        C, F = c["hidden_size"], c["intermediate_size"]
        for i in range(c["num_hidden_layers"]):
            lp = f"{prefix}.encoder.layers.{i}"
            for n in ["layer_norm1", "layer_norm2"]:
                p[f"{lp}.{n}.weight"] = rnd(C, std=0.1, mean=1.0)
                p[f"{lp}.{n}.bias"] = rnd(C, std=0.1)
            for n in ["q_proj", "k_proj", "v_proj", "out_proj"]:
                p[f"{lp}.self_attn.{n}.weight"] = rnd(C, C, std=C ** -0.5)
                p[f"{lp}.self_attn.{n}.bias"] = rnd(C, std=0.1)
            p[f"{lp}.mlp.fc1.weight"] = rnd(F, C, std=C ** -0.5)
            p[f"{lp}.mlp.fc1.bias"] = rnd(F, std=0.1)
            p[f"{lp}.mlp.fc2.weight"] = rnd(C, F, std=F ** -0.5)
            p[f"{lp}.mlp.fc2.bias"] = rnd(C, std=0.1)

    D, P = vc["hidden_size"], vc["patch_size"]
    N = (vc["image_size"] // P) ** 2 + 1
    p["vision_model.embeddings.class_embedding"] = rnd(D)
    p["vision_model.embeddings.patch_embedding.weight"] = rnd(D, 3, P, P, std=(3 * P * P) ** -0.5)
    p["vision_model.embeddings.position_embedding.weight"] = rnd(N, D, std=0.5)
    p["vision_model.pre_layrnorm.weight"] = rnd(D, std=0.1, mean=1.0)
    p["vision_model.pre_layrnorm.bias"] = rnd(D, std=0.1)
    tower("vision_model", vc)
    p["vision_model.post_layernorm.weight"] = rnd(D, std=0.1, mean=1.0)
    p["vision_model.post_layernorm.bias"] = rnd(D, std=0.1)
    W = tc["hidden_size"]
    p["text_model.embeddings.token_embedding.weight"] = rnd(tc["vocab_size"], W)
    p["text_model.embeddings.position_embedding.weight"] = rnd(tc["max_position_embeddings"], W, std=0.5)
    tower("text_model", tc)
    p["text_model.final_layer_norm.weight"] = rnd(W, std=0.1, mean=1.0)
    p["text_model.final_layer_norm.bias"] = rnd(W, std=0.1)
    p["visual_projection.weight"] = rnd(E, D, std=D ** -0.5)
    p["text_projection.weight"] = rnd(E, W, std=W ** -0.5)
    p["logit_scale"] = torch.tensor(math.log(1 / 0.07), dtype=torch.float32)
    return p


# ----------------------------------------------------------------------------- inputs

def clip_pixels(name, S):
    """HF slow CLIPImageProcessor (spec 1.8): RGB, shortest edge S (int truncation), PIL bicubic,
    floor centre crop, x * (1/255) in float64 -> float32, (x - mean) / std in float32, CHW.
    name: a file in the shared images folder, or a PIL image."""
    img = name if isinstance(name, Image.Image) else Image.open(os.path.join(SHARED_IMAGES, name))
    if img.mode != "RGB":
        img = img.convert("RGB")
    w, h = img.size
    if w <= h:
        nw, nh = S, int(S * h / w)
    else:
        nw, nh = int(S * w / h), S
    if (nw, nh) != (w, h):
        img = img.resize((nw, nh), Image.BICUBIC, reducing_gap=None)
    top, left = (nh - S) // 2, (nw - S) // 2
    img = img.crop((left, top, left + S, top + S))
    a = (np.asarray(img, dtype=np.uint8).astype(np.float64) * (1 / 255)).astype(np.float32)
    a = (a - np.array(CLIP_MEAN, dtype=np.float32)) / np.array(CLIP_STD, dtype=np.float32)
    return torch.from_numpy(np.ascontiguousarray(a.transpose(2, 0, 1)))


def pad_batch(seqs, pad_id):
    T = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), T), pad_id, dtype=torch.long)
    mask = torch.zeros((len(seqs), T), dtype=torch.long)
    for i, s in enumerate(seqs):
        ids[i, :len(s)] = torch.tensor(s)
        mask[i, :len(s)] = 1
    return ids, mask


def run_case(p, config, pixels, ids, mask, grad):
    rec = {}
    pixels = pixels.clone().requires_grad_(grad)
    # weights as leaves that require grad, so the text tower's attention probabilities join the graph too
    p = {k: v.detach().clone().requires_grad_(grad and v.is_floating_point()) for k, v in p.items()}
    logits = clip_forward(p, config, pixels, ids, mask, rec)
    rec["logit_scale"] = p["logit_scale"]
    out = {k: v for k, v in rec.items()}
    if grad:
        logits[0, 1].backward()
        out["grad.pixels"] = pixels.grad
        for k, v in rec.items():
            if ".attentions." in k:
                out["grad." + k] = v.grad
    return out


def vision_case(p, config, pixels):
    rec = {}
    pooled = vision_forward(p, config["vision_config"], pixels, rec)
    img = linear(pooled, p, "visual_projection", bias=False)
    rec["image_embeds_unnormalized"] = img
    rec["image_embeds"] = img / img.norm(p=2, dim=-1, keepdim=True)
    return rec


def write_model_folder(folder, config, params, fmt, preprocessor, tokenizer=None):
    os.makedirs(folder, exist_ok=True)
    for old in os.listdir(folder):
        os.remove(os.path.join(folder, old))
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    if fmt == "safetensors":
        write_safetensors(os.path.join(folder, "model.safetensors"), params)
    else:
        torch.save({k: v.clone() for k, v in params.items()}, os.path.join(folder, "pytorch_model.bin"))
    if preprocessor is not None:
        with open(os.path.join(folder, "preprocessor_config.json"), "w") as f:
            json.dump(preprocessor, f, indent=2)
    if tokenizer is not None:
        with open(os.path.join(folder, "vocab.json"), "w") as f:
            json.dump(tokenizer.encoder, f, ensure_ascii=False)
        with open(os.path.join(folder, "merges.txt"), "w") as f:
            f.write("#version: 0.2\n")
            for a, b in tokenizer.merges:
                f.write(f"{a} {b}\n")


def preprocessor_config(S):
    return {"crop_size": {"height": S, "width": S}, "do_center_crop": True, "do_convert_rgb": True,
            "do_normalize": True, "do_rescale": True, "do_resize": True, "image_mean": CLIP_MEAN,
            "image_processor_type": "CLIPImageProcessor", "image_std": CLIP_STD, "resample": 3,
            "rescale_factor": 0.00392156862745098, "size": {"shortest_edge": S}}


def text_config(hidden, layers, heads, eos, positions, proj):
    return {"vocab_size": 1000, "hidden_size": hidden, "intermediate_size": 2 * hidden, "num_hidden_layers": layers,
            "num_attention_heads": heads, "max_position_embeddings": positions, "hidden_act": "quick_gelu",
            "layer_norm_eps": 1e-5, "bos_token_id": 0, "eos_token_id": eos, "pad_token_id": 1, "projection_dim": proj,
            "model_type": "clip_text_model"}


def vision_config(hidden, layers, heads, image, patch, proj):
    return {"hidden_size": hidden, "intermediate_size": 2 * hidden, "num_hidden_layers": layers,
            "num_attention_heads": heads, "num_channels": 3, "image_size": image, "patch_size": patch,
            "hidden_act": "quick_gelu", "layer_norm_eps": 1e-5, "projection_dim": proj, "model_type": "clip_vision_model"}


def save_ref(name, records, meta):
    tensors = {}
    for case, rec in records.items():
        for k, v in rec.items():
            assert v is not None, f"{case}/{k}"
            tensors[f"{case}/{k}"] = v.detach().float()
    write_safetensors(os.path.join(OUT, name + ".ref.safetensors"), tensors)
    meta = dict(meta)
    meta["records"] = sorted(tensors)
    meta["torch"] = torch.__version__
    with open(os.path.join(OUT, name + ".ref.json"), "w") as f:
        json.dump(meta, f)


def main():
    torch.set_num_threads(1)
    os.makedirs(OUT, exist_ok=True)

    # ---- tokenizer shared by tiny-p32 (classify fixture)
    corpus = [t.format(l) for l in LABELS for t in TEMPLATES] + ["a photo of a cat", "a photo of a dog", "two cats on a sofa"]
    tok = TinyClipTokenizer(learn_merges(corpus))
    assert tok.eot < 1000

    # ---- tiny-p32: safetensors, legacy eos_token_id 2 (argmax pooling)
    cfg32 = {"architectures": ["CLIPModel"], "model_type": "clip", "projection_dim": 24, "logit_scale_init_value": 2.6592,
             "text_config": text_config(32, 2, 2, 2, 32, 24), "vision_config": vision_config(32, 2, 4, 64, 32, 24)}
    p32 = make_params(cfg32, seed=32)
    write_model_folder(os.path.join(OUT, "tiny-p32"), cfg32, p32, "safetensors", preprocessor_config(64), tok)
    # vision-only folder (CLIPVisionConfig at the top level) with the same vision weights
    vis_only = dict(cfg32["vision_config"])
    vis_only["architectures"] = ["CLIPVisionModel"]
    write_model_folder(os.path.join(OUT, "tiny-vision"), vis_only,
                       {k: v for k, v in p32.items() if k.startswith("vision_model.")}, "safetensors", None)

    px = torch.stack([clip_pixels(IMAGES[0], 64), clip_pixels(IMAGES[1], 64)])
    prompts = ["a photo of a cat", "a dog", "two cats on a sofa in a photo"]
    seqs = [tok.encode(t) for t in prompts]
    ids, mask = pad_batch(seqs, tok.eot)  # HF pads with <|endoftext|>
    g = torch.Generator().manual_seed(7)
    rnd_px = torch.randn(3, 3, 64, 64, generator=g)
    rnd_seqs = [[tok.sot] + torch.randint(3, 600, (n,), generator=g).tolist() + [tok.eot] for n in (5, 9)]
    rnd_ids, rnd_mask = pad_batch(rnd_seqs, tok.eot)
    records = {
        "images": run_case(p32, cfg32, px, ids, mask, grad=True),
        "random": run_case(p32, cfg32, rnd_px, rnd_ids, rnd_mask, grad=False),
    }
    records["images"]["pixel_values"] = px
    records["random"]["pixel_values"] = rnd_px
    # zero-shot over labels x templates for the cats image
    with torch.no_grad():
        emb = []
        for label in LABELS:
            lids, lmask = pad_batch([tok.encode(t.format(label)) for t in TEMPLATES], tok.eot)
            r = {}
            t = linear(text_forward(p32, cfg32["text_config"], lids, lmask, r), p32, "text_projection", bias=False)
            t = t / t.norm(dim=-1, keepdim=True)
            m = t.mean(dim=0)
            emb.append(m / m.norm())
        emb = torch.stack(emb)
        img = records["images"]["image_embeds"][:1].detach()
        zs = torch.softmax(p32["logit_scale"].exp() * img @ emb.t(), dim=-1)[0]
    records["zeroshot"] = {"class_embeds": emb, "probs": zs}
    save_ref("tiny-p32", records, {
        "config": "tiny-p32", "images": IMAGES[:2], "image_size": 64,
        "prompts": prompts, "ids": ids.tolist(), "attention_mask": mask.tolist(),
        "random_ids": rnd_ids.tolist(), "random_attention_mask": rnd_mask.tolist(),
        "zeroshot": {"image": IMAGES[0], "labels": LABELS, "templates": TEMPLATES},
        "gradient_of": "logits_per_image[0, 1]"})

    # ---- tiny-p14: pytorch_model.bin, eos_token_id 7 (first-eos pooling), interpolated sizes
    cfg14 = {"architectures": ["CLIPModel"], "model_type": "clip", "projection_dim": 16, "logit_scale_init_value": 2.6592,
             "text_config": text_config(32, 2, 4, 7, 16, 16), "vision_config": vision_config(48, 3, 4, 42, 14, 16)}
    p14 = make_params(cfg14, seed=14)
    p14["logit_scale"] = torch.tensor(3.9, dtype=torch.float32)
    write_model_folder(os.path.join(OUT, "tiny-p14"), cfg14, p14, "bin", preprocessor_config(42))
    g = torch.Generator().manual_seed(14)
    # ids in [8, 1000) before the eos (7), padded with 7: argmax would pick another position
    seqs14 = [[0] + torch.randint(8, 1000, (n,), generator=g).tolist() + [7] for n in (3, 8, 12)]
    ids14, mask14 = pad_batch(seqs14, 7)
    px14 = torch.stack([clip_pixels(IMAGES[0], 42), clip_pixels(IMAGES[2], 42)])
    records14 = {"images": run_case(p14, cfg14, px14, ids14, mask14, grad=True)}
    records14["images"]["pixel_values"] = px14
    for (h, w) in [(56, 56), (42, 70)]:
        rp = torch.randn(2, 3, h, w, generator=g)
        rec = vision_case(p14, cfg14, rp)
        rec["pixel_values"] = rp
        records14[f"size{h}x{w}"] = rec
    save_ref("tiny-p14", records14, {
        "config": "tiny-p14", "images": [IMAGES[0], IMAGES[2]], "image_size": 42,
        "ids": ids14.tolist(), "attention_mask": mask14.tolist(), "sizes": ["size56x56", "size42x70"],
        "gradient_of": "logits_per_image[0, 1]"})
    total = 0
    for root, _, files in os.walk(OUT):
        total += sum(os.path.getsize(os.path.join(root, f)) for f in files)
    print(f"wrote {OUT} ({total / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
