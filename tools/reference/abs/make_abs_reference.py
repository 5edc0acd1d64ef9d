#!/usr/bin/python3
"""Reference data for ABS (issue 20; spec shared/specs/methods-abs-agla.md part A) and for the DINO ViT.

Run with Debian's system interpreter (python3-torch 1.13, numpy, PIL), from anywhere:

    /usr/bin/python3 tools/reference/abs/make_abs_reference.py

transformers and torchvision are not installed here, so everything is plain torch written from the
published code: HF transformers src/transformers/models/vit/modeling_vit.py (ViTModel: ViTEmbeddings,
ViTLayer = layernorm_before, ViTSelfAttention, ViTSelfOutput, layernorm_after, ViTIntermediate with
exact GELU, ViTOutput; final layernorm), HF ViTFeatureExtractor (PIL resize to S x S, rescale,
normalise), torchvision's Resize/CenterCrop rules (int(S * long / short); top = int(round((h - S) / 2))),
and BIT-DA/ABS at 5ba77c6 (main.py custom_loader; clip/model.py Transformer.forward_with_attention;
main.py's soft matching). The tiny CLIP forward and tokenizer are reused from
tools/reference/clip/make_clip_reference.py.

Writes
  vit/src/test/resources/dino-reference/
    tiny-dino/       ViTModel layout, config.json (model_type vit, image 56, patch 4: a 14 x 14 grid as
                     dino-vitb16's, width 32, 2 layers, 4 heads, MLP 64, gelu, eps 1e-12), model.safetensors,
                     preprocessor_config.json (ViTFeatureExtractor, size 56, resample 2, ImageNet mean/std)
    tiny-dino-bin/   the same weights as pytorch_model.bin under "vit." names plus a pooler (ignored by ViTModel)
    dino.ref.*       pixel inputs, hidden_states 0..L, the last layer's attention, last_hidden_state; the DINO
                     processor's output on a shared image
    bicubic.ref.*    torch.nn.functional.interpolate(bicubic, align_corners=False) on random grids
    crops.json       torchvision center-crop offsets for odd and even sizes
  methods/src/test/resources/abs-reference/
    tiny-clip14/     CLIPModel, image 56, patch 4 (grid 14), vision 32 x 2 x 4, text 32 x 2 x 2, proj 16,
                     with a tokenizer learnt on the descriptions below
    tiny-dino/       the DINO above
    classes.json, descriptions.json, templates.json
    abs.ref.json / abs.ref.safetensors: per image the recorded random draws (top-k, multinomial samples,
                     randints, in the order the Java code draws them), boxes, windows, every view's
                     embedding, per-view scores S[k, c], the ABS logits and the baselines' logits.
"""
import json
import os
import random
import sys

import numpy as np
import torch
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, os.path.join(REPO, "tools", "reference", "clip"))
import make_clip_reference as C  # noqa: E402

VIT_OUT = os.path.join(REPO, "vit", "src", "test", "resources", "dino-reference")
ABS_OUT = os.path.join(REPO, "methods", "src", "test", "resources", "abs-reference")
IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]
GELU = torch.nn.functional.gelu  # exact (erf)

# ----------------------------------------------------------------------------- DINO ViT

DINO_CFG = {"architectures": ["ViTModel"], "model_type": "vit", "hidden_size": 32, "num_hidden_layers": 2,
            "num_attention_heads": 4, "intermediate_size": 64, "hidden_act": "gelu", "hidden_dropout_prob": 0.0,
            "attention_probs_dropout_prob": 0.0, "initializer_range": 0.02, "layer_norm_eps": 1e-12,
            "image_size": 56, "patch_size": 4, "num_channels": 3, "qkv_bias": True}
DINO_PRE = {"do_normalize": True, "do_resize": True, "feature_extractor_type": "ViTFeatureExtractor",
            "image_mean": IMAGENET_MEAN, "image_std": IMAGENET_STD, "resample": 2, "size": 56}


def dino_params(cfg, seed):
    g = torch.Generator().manual_seed(seed)

    def rnd(*shape, std=1.0, mean=0.0):
        return (torch.randn(*shape, generator=g) * std + mean).float()

    D, F, P = cfg["hidden_size"], cfg["intermediate_size"], cfg["patch_size"]
    N = (cfg["image_size"] // P) ** 2 + 1
    p = {"embeddings.cls_token": rnd(1, 1, D),
         "embeddings.position_embeddings": rnd(1, N, D, std=0.5),
         "embeddings.patch_embeddings.projection.weight": rnd(D, 3, P, P, std=(3 * P * P) ** -0.5),
         "embeddings.patch_embeddings.projection.bias": rnd(D, std=0.1)}
    for i in range(cfg["num_hidden_layers"]):
        lp = f"encoder.layer.{i}"
        for n in ["attention.attention.query", "attention.attention.key", "attention.attention.value", "attention.output.dense"]:
            # larger query/key weights make the attention peaky, as a trained DINO's is
            s = 3.0 if n.endswith(("query", "key")) else 1.0
            p[f"{lp}.{n}.weight"] = rnd(D, D, std=s * D ** -0.5)
            p[f"{lp}.{n}.bias"] = rnd(D, std=0.1)
        p[f"{lp}.intermediate.dense.weight"] = rnd(F, D, std=D ** -0.5)
        p[f"{lp}.intermediate.dense.bias"] = rnd(F, std=0.1)
        p[f"{lp}.output.dense.weight"] = rnd(D, F, std=F ** -0.5)
        p[f"{lp}.output.dense.bias"] = rnd(D, std=0.1)
        for n in ["layernorm_before", "layernorm_after"]:
            p[f"{lp}.{n}.weight"] = rnd(D, std=0.1, mean=1.0)
            p[f"{lp}.{n}.bias"] = rnd(D, std=0.1)
    p["layernorm.weight"] = rnd(D, std=0.1, mean=1.0)
    p["layernorm.bias"] = rnd(D, std=0.1)
    return p


def dino_forward(p, cfg, pixels, rec):
    """HF ViTModel.forward(pixel_values, output_hidden_states=True, output_attentions=True), eval mode."""
    D, P, H = cfg["hidden_size"], cfg["patch_size"], cfg["num_attention_heads"]
    eps = cfg["layer_norm_eps"]
    B = pixels.shape[0]
    x = torch.nn.functional.conv2d(pixels, p["embeddings.patch_embeddings.projection.weight"],
                                   p["embeddings.patch_embeddings.projection.bias"], stride=P)
    x = x.flatten(2).transpose(1, 2)
    x = torch.cat([p["embeddings.cls_token"].expand(B, -1, -1), x], dim=1) + p["embeddings.position_embeddings"]
    rec["hidden_states.0"] = x
    T = x.shape[1]
    d = D // H
    for i in range(cfg["num_hidden_layers"]):
        lp = f"encoder.layer.{i}"
        h = C.layer_norm(x, p, lp + ".layernorm_before", eps)
        q = C.linear(h, p, lp + ".attention.attention.query").view(B, T, H, d).permute(0, 2, 1, 3)
        k = C.linear(h, p, lp + ".attention.attention.key").view(B, T, H, d).permute(0, 2, 1, 3)
        v = C.linear(h, p, lp + ".attention.attention.value").view(B, T, H, d).permute(0, 2, 1, 3)
        scores = torch.matmul(q, k.transpose(-1, -2)) / (d ** 0.5)
        probs = torch.softmax(scores, dim=-1)
        rec[f"attentions.{i}"] = probs
        ctx = torch.matmul(probs, v).permute(0, 2, 1, 3).reshape(B, T, D)
        x = x + C.linear(ctx, p, lp + ".attention.output.dense")
        h = C.layer_norm(x, p, lp + ".layernorm_after", eps)
        x = x + C.linear(GELU(C.linear(h, p, lp + ".intermediate.dense")), p, lp + ".output.dense")
        rec[f"hidden_states.{i + 1}"] = x
    rec["last_hidden_state"] = C.layer_norm(x, p, "layernorm", eps)
    return rec


def dino_pixels(img, S):
    """HF ViTFeatureExtractor: PIL resize to S x S (bilinear), x * (1/255) in float64 -> float32, (x - mean) / std in float32."""
    if img.mode != "RGB":
        img = img.convert("RGB")
    img = img.resize((S, S), Image.BILINEAR)
    a = (np.asarray(img, dtype=np.uint8).astype(np.float64) * (1 / 255)).astype(np.float32)
    a = (a - np.array(IMAGENET_MEAN, dtype=np.float32)) / np.array(IMAGENET_STD, dtype=np.float32)
    return torch.from_numpy(np.ascontiguousarray(a.transpose(2, 0, 1)))


def tv_clip_pixels(img, S):
    """OpenAI clip._transform(S) with torchvision on PIL: Resize(S, BICUBIC) (long side int(S * long / short)),
    CenterCrop(S) with top = int(round((h - S) / 2.0)), ToTensor, Normalize (float32)."""
    if img.mode != "RGB":
        img = img.convert("RGB")
    w, h = img.size
    if w <= h:
        nw, nh = S, int(S * h / w)
    else:
        nw, nh = int(S * w / h), S
    if (nw, nh) != (w, h):
        img = img.resize((nw, nh), Image.BICUBIC)
    top, left = int(round((nh - S) / 2.0)), int(round((nw - S) / 2.0))
    img = img.crop((left, top, left + S, top + S))
    a = torch.from_numpy(np.asarray(img, dtype=np.uint8).copy()).permute(2, 0, 1).float().div(255)
    mean = torch.tensor(C.CLIP_MEAN).view(3, 1, 1)
    std = torch.tensor(C.CLIP_STD).view(3, 1, 1)
    return (a - mean) / std


def shared(name):
    local = os.path.join(ABS_OUT, name)
    return Image.open(local if os.path.exists(local) else os.path.join(C.SHARED_IMAGES, name)).convert("RGB")


def synthetic_image(path, w, h):
    """A smooth random RGB picture with a bright blob (so DINO's attention has somewhere to go)."""
    g = torch.Generator().manual_seed(61)
    low = torch.rand(1, 3, 5, 7, generator=g)
    a = torch.nn.functional.interpolate(low, size=(h, w), mode="bilinear", align_corners=False)[0]
    yy, xx = torch.meshgrid(torch.arange(h).float(), torch.arange(w).float(), indexing="ij")
    a = a + 0.8 * torch.exp(-((xx - 0.7 * w) ** 2 + (yy - 0.35 * h) ** 2) / (2 * 8.0 ** 2))
    a = (a.clamp(0, 1) * 255).round().byte().permute(1, 2, 0).numpy()
    Image.fromarray(a, "RGB").save(path)


def write_dino_folder(folder, params, fmt):
    os.makedirs(folder, exist_ok=True)
    for old in os.listdir(folder):
        os.remove(os.path.join(folder, old))
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(DINO_CFG, f, indent=2)
    with open(os.path.join(folder, "preprocessor_config.json"), "w") as f:
        json.dump(DINO_PRE, f, indent=2)
    if fmt == "safetensors":
        C.write_safetensors(os.path.join(folder, "model.safetensors"), params)
    else:
        D = DINO_CFG["hidden_size"]
        g = torch.Generator().manual_seed(99)
        named = {"vit." + k: v.clone() for k, v in params.items()}
        named["vit.pooler.dense.weight"] = torch.randn(D, D, generator=g)
        named["vit.pooler.dense.bias"] = torch.randn(D, generator=g)
        torch.save(named, os.path.join(folder, "pytorch_model.bin"))


def save(out, name, tensors, meta):
    C.write_safetensors(os.path.join(out, name + ".ref.safetensors"), {k: v.detach().float().contiguous() for k, v in tensors.items()})
    meta = dict(meta)
    meta["records"] = sorted(tensors)
    meta["torch"] = torch.__version__
    with open(os.path.join(out, name + ".ref.json"), "w") as f:
        json.dump(meta, f)


def make_vit_fixtures(dp):
    os.makedirs(VIT_OUT, exist_ok=True)
    write_dino_folder(os.path.join(VIT_OUT, "tiny-dino"), dp, "safetensors")
    write_dino_folder(os.path.join(VIT_OUT, "tiny-dino-bin"), dp, "bin")
    g = torch.Generator().manual_seed(5)
    px = torch.randn(2, 3, 56, 56, generator=g)
    rec = dino_forward(dp, DINO_CFG, px, {})
    t = {"random/pixel_values": px}
    last = f"attentions.{DINO_CFG['num_hidden_layers'] - 1}"
    t.update({"random/" + k: v for k, v in rec.items() if not k.startswith("attentions.") or k == last})
    t["processor/chelsea"] = dino_pixels(shared("chelsea.png"), 56)
    save(VIT_OUT, "dino", t, {"config": "tiny-dino", "processor_images": {"processor/chelsea": "chelsea.png"}})

    # token-grid bicubic: [1, D, h, w] -> [1, D, oh, ow]
    g = torch.Generator().manual_seed(6)
    cases = [(9, 9, 14, 14), (11, 13, 14, 14), (5, 7, 14, 14), (13, 13, 14, 14), (14, 14, 14, 14), (3, 3, 7, 7),
             (4, 6, 16, 16), (20, 17, 14, 14), (1, 1, 14, 14), (2, 9, 5, 3)]
    bt, names = {}, []
    for (h, w, oh, ow) in cases:
        x = torch.randn(1, 24, h, w, generator=g) * 3
        y = torch.nn.functional.interpolate(x, size=(oh, ow), mode="bicubic", align_corners=False)
        n = f"{h}x{w}-{oh}x{ow}"
        names.append(n)
        bt[n + "/in"] = x
        bt[n + "/out"] = y
    save(VIT_OUT, "bicubic", bt, {"cases": names})

    # torchvision CenterCrop offsets (functional.center_crop: int(round((h - crop) / 2.0)), Python's round half to even)
    crops = []
    for (h, w, ch, cw) in [(224, 298, 224, 224), (225, 301, 224, 224), (224, 299, 224, 224), (227, 224, 224, 224),
                           (229, 231, 224, 224), (56, 85, 56, 56), (57, 84, 56, 56), (101, 100, 98, 97), (10, 11, 7, 8)]:
        crops.append({"height": h, "width": w, "crop_height": ch, "crop_width": cw,
                      "top": int(round((h - ch) / 2.0)), "left": int(round((w - cw) / 2.0))})
    with open(os.path.join(VIT_OUT, "crops.json"), "w") as f:
        json.dump(crops, f, indent=1)


# ----------------------------------------------------------------------------- ABS

CLASSES = ["tabby_cat", "remote control", "sofa"]
DESCRIPTIONS = {
    "tabby cat": ["A tabby cat has a striped coat.", "A small cat with stripes lying down.", "Tabby cats have an M on the forehead.",
                  "A pet cat with green eyes.", "A striped house cat sleeping.", "A grey and brown cat."],
    "remote control": ["A remote control is a small black device.", "A remote has many buttons.",
                       "A television remote on a couch.", "A plastic remote with rubber keys.", "A rectangular handheld remote.",
                       "A remote lying next to a cat."],
    "sofa": ["A sofa is a long soft seat.", "A pink couch with cushions.", "A sofa in a living room.",
             "A comfortable couch for two people.", "A fabric sofa with armrests.", "A red sofa with a blanket."],
}
TEMPLATES = ["a photo of a {}.", "a blurry photo of the {}.", "a drawing of a {}."]
ABS_IMAGES = ["synthetic-100x61.png", "chelsea.png"]  # the first is written into the fixture folder
M_CAP = 5  # descriptions per class in the test (the reference's 50 scaled down to the fixture)
NUM_CROPS = 50
TOP_K = 20


def encode_texts(p, cfg, tok, texts):
    ids, mask = C.pad_batch([tok.encode(t) for t in texts], tok.eot)
    with torch.no_grad():
        t = C.linear(C.text_forward(p, cfg["text_config"], ids, mask, {}), p, "text_projection", bias=False)
    return t / t.norm(dim=-1, keepdim=True)


def vision_blocks(p, vc, pixels, upto):
    """Embeddings, pre_layrnorm and encoder layers [0, upto): the residual stream entering layer `upto`."""
    rec = {}
    one = dict(vc)
    one["num_hidden_layers"] = upto
    P = vc["patch_size"]
    B = pixels.shape[0]
    patches = torch.nn.functional.conv2d(pixels, p["vision_model.embeddings.patch_embedding.weight"], stride=P).flatten(2).transpose(1, 2)
    emb = torch.cat([p["vision_model.embeddings.class_embedding"].expand(B, 1, -1), patches], dim=1)
    emb = emb + p["vision_model.embeddings.position_embedding.weight"]
    h = C.layer_norm(emb, p, "vision_model.pre_layrnorm", vc["layer_norm_eps"])
    return C.encoder(h, p, "vision_model", one, None, rec, "v")


def last_block(p, vc, x, layer):
    """Only encoder layer `layer` on sequences x, then post_layernorm on CLS (as in make_clip_reference.encoder)."""
    eps, heads = vc["layer_norm_eps"], vc["num_attention_heads"]
    B, T, D = x.shape
    d = D // heads
    lp = f"vision_model.encoder.layers.{layer}"
    h = C.layer_norm(x, p, lp + ".layer_norm1", eps)
    q = C.linear(h, p, lp + ".self_attn.q_proj").view(B, T, heads, d).transpose(1, 2)
    k = C.linear(h, p, lp + ".self_attn.k_proj").view(B, T, heads, d).transpose(1, 2)
    v = C.linear(h, p, lp + ".self_attn.v_proj").view(B, T, heads, d).transpose(1, 2)
    a = torch.softmax(torch.matmul(q, k.transpose(-1, -2)) * d ** -0.5, dim=-1)
    x = x + C.linear(torch.matmul(a, v).transpose(1, 2).reshape(B, T, D), p, lp + ".self_attn.out_proj")
    h = C.layer_norm(x, p, lp + ".layer_norm2", eps)
    x = x + C.linear(C.quick_gelu(C.linear(h, p, lp + ".mlp.fc1")), p, lp + ".mlp.fc2")
    return C.layer_norm(x[:, 0, :], p, "vision_model.post_layernorm", eps)


def encode_image(p, vc, pixels):
    with torch.no_grad():
        img = C.linear(C.vision_forward(p, vc, pixels, {}), p, "visual_projection", bias=False)
    return img / img.norm(dim=-1, keepdim=True)


def abs_image(name, cp, ccfg, dp, T, rec, meta):
    vc = ccfg["vision_config"]
    S = vc["image_size"]
    G = S // vc["patch_size"]
    L = vc["num_hidden_layers"]
    img = shared(name)
    W, H = img.size
    # DINO attention: last layer, CLS row over the patch keys, mean over heads (A.3)
    drec = dino_forward(dp, DINO_CFG, dino_pixels(img, DINO_CFG["image_size"]).unsqueeze(0), {})
    att = drec[f"attentions.{DINO_CFG['num_hidden_layers'] - 1}"][0, :, 0, 1:].float().mean(dim=0)
    rec["att_map"] = att
    crop_size = DINO_CFG["image_size"] // DINO_CFG["patch_size"]  # 14, the reference's crop_size
    patch_size = DINO_CFG["patch_size"]
    # ---- raw crops (main.py custom_loader)
    topk_values, topk_indices = torch.topk(att.flatten(), TOP_K)
    topk_probs = torch.softmax(topk_values / 0.03, dim=0)
    rec["topk_indices"] = topk_indices.float()
    rec["topk_probs"] = topk_probs
    raw_samples = torch.multinomial(topk_probs, NUM_CROPS, replacement=True)
    sampled = topk_indices[raw_samples]
    boxes, raw_ints, crops = [], [], []
    for s in sampled:
        i, j = s // crop_size, s % crop_size
        x0 = int(j * patch_size * (W / (crop_size * patch_size)))
        y0 = int(i * patch_size * (H / (crop_size * patch_size)))
        x1 = min(x0 + int(patch_size * (W / (crop_size * patch_size))), W)
        y1 = min(y0 + int(patch_size * (H / (crop_size * patch_size))), H)
        cx, cy = (x0 + x1) // 2, (y0 + y1) // 2
        cw = random.randint(int(W * 0.6), int(W * 0.9))
        ch = random.randint(int(H * 0.6), int(H * 0.9))
        raw_ints += [cw, ch]
        box = [max(cx - cw // 2, 0), max(cy - ch // 2, 0), min(cx + cw // 2, W), min(cy + ch // 2, H)]
        boxes.append(box)
        crops.append(tv_clip_pixels(img.crop(tuple(box)), S))
    glob = tv_clip_pixels(img, S)
    rec["global_pixels"] = glob
    raw_emb = encode_image(cp, vc, torch.stack(crops))
    # ---- feature crops (clip/model.py forward_with_attention at layer2 = L - 1)
    with torch.no_grad():
        x = vision_blocks(cp, vc, glob.unsqueeze(0), L - 1)[0]  # [1 + G*G, D]
    rec["split_input"] = x
    tv2, ti2 = torch.topk(att.flatten(), 20)
    tp2 = torch.softmax(tv2 / 0.03, dim=0)
    feat_samples = torch.multinomial(tp2, NUM_CROPS, replacement=True)
    centres = ti2[feat_samples]
    r1, r2 = int(G * 0.6), int(G * 0.9)
    if r1 == r2:
        r2 += 1
    D = x.shape[1]
    grid = x[1:].view(1, G, G, D)
    seqs, windows, feat_ints = [x], [], []
    for c in centres:
        cropsize = random.randint(r1, r2)
        feat_ints.append(cropsize)
        row, col = int(c) // G, int(c) % G
        half = cropsize // 2
        r0, r1e = max(0, row - half), min(G, row + half + 1)
        c0, c1e = max(0, col - half), min(G, col + half + 1)
        windows.append([r0, c0, r1e, c1e])
        sub = grid[:, r0:r1e, c0:c1e, :]
        res = torch.nn.functional.interpolate(sub.permute(0, 3, 1, 2), size=(G, G), mode="bicubic", align_corners=False).permute(0, 2, 3, 1)
        seqs.append(torch.cat([x[:1], res.reshape(G * G, D)], dim=0))
    with torch.no_grad():
        pooled = last_block(cp, vc, torch.stack(seqs), L - 1)
        f = C.linear(pooled, cp, "visual_projection", bias=False)
        f = f / f.norm(dim=-1, keepdim=True)
    rec["global_embed"] = f[0]
    rec["global_embed_full"] = encode_image(cp, vc, glob.unsqueeze(0))[0]
    views = torch.cat([f[1:], raw_emb], dim=0)  # patch_features: feature views first, then raw views
    rec["views"] = views
    # ---- soft matching (main.py, method "ours")
    Cn, M, E = T.shape
    z = (views @ T.reshape(-1, E).t()) / 0.03
    pi = z.log_softmax(dim=-1).exp()
    Sk = (pi * z).reshape(views.shape[0], Cn, M).sum(dim=-1)
    rec["view_scores"] = Sk
    rec["logits"] = Sk.sum(dim=0)
    meta.update({"width": W, "height": H, "raw_samples": raw_samples.tolist(), "raw_randints": raw_ints, "boxes": boxes,
                 "feature_samples": feat_samples.tolist(), "feature_randints": feat_ints, "windows": windows,
                 "raw_centres": sampled.tolist(), "feature_centres": centres.tolist()})
    return f[0]


def make_abs_fixtures(dp):
    os.makedirs(ABS_OUT, exist_ok=True)
    write_dino_folder(os.path.join(ABS_OUT, "tiny-dino"), dp, "safetensors")
    synthetic_image(os.path.join(ABS_OUT, ABS_IMAGES[0]), 100, 61)
    names = [c.replace("_", " ") for c in CLASSES]
    corpus = [s for n in names for s in DESCRIPTIONS[n]] + [t.format(n) for n in names for t in TEMPLATES]
    tok = C.TinyClipTokenizer(C.learn_merges(corpus))
    assert tok.eot < 1000
    ccfg = {"architectures": ["CLIPModel"], "model_type": "clip", "projection_dim": 16, "logit_scale_init_value": 2.6592,
            "text_config": C.text_config(32, 2, 2, 2, 40, 16), "vision_config": C.vision_config(32, 2, 4, 56, 4, 16)}
    cp = C.make_params(ccfg, seed=141)
    C.write_model_folder(os.path.join(ABS_OUT, "tiny-clip14"), ccfg, cp, "safetensors", C.preprocessor_config(56), tok)
    with open(os.path.join(ABS_OUT, "classes.json"), "w") as f:
        json.dump(CLASSES, f, indent=1)
    with open(os.path.join(ABS_OUT, "descriptions.json"), "w") as f:
        json.dump(DESCRIPTIONS, f, indent=1)
    with open(os.path.join(ABS_OUT, "templates.json"), "w") as f:
        json.dump(TEMPLATES, f, indent=1)
    # text bank T [C, M, E] (helper.zeroshot_classifier, method "ours": texts[:M], each normalised)
    T = torch.stack([encode_texts(cp, ccfg, tok, DESCRIPTIONS[n][:M_CAP]) for n in names])
    # baselines: one averaged, renormalised vector per class
    def avg(texts):
        e = encode_texts(cp, ccfg, tok, texts).mean(dim=0)
        return e / e.norm()
    wb = {"clip": torch.stack([avg([f"a photo of a {n}."]) for n in names]),
          "clip-e": torch.stack([avg([t.format(n) for t in TEMPLATES]) for n in names]),
          "cupl": torch.stack([avg(DESCRIPTIONS[n]) for n in names])}
    tensors = {"bank": T}
    meta = {"classes": CLASSES, "images": ABS_IMAGES, "descriptions_per_class": M_CAP, "num_crops": NUM_CROPS, "top_k": TOP_K,
            "temperature": 0.03, "tau": 0.03, "crop_ratio": [0.6, 0.9], "seed": 1, "per_image": {}}
    for name in ABS_IMAGES:
        rec, m = {}, {}
        g = abs_image(name, cp, ccfg, dp, T, rec, m)
        for b, w in wb.items():
            rec["baseline." + b] = g @ w.t()
        for k, v in rec.items():
            tensors[f"{name}/{k}"] = v
        meta["per_image"][name] = m
    for b, w in wb.items():
        tensors["weights." + b] = w
    save(ABS_OUT, "abs", tensors, meta)


def main():
    torch.set_num_threads(1)
    random.seed(1)
    torch.manual_seed(1)
    dp = dino_params(DINO_CFG, seed=16)
    make_vit_fixtures(dp)
    make_abs_fixtures(dp)
    for out in (VIT_OUT, ABS_OUT):
        total = sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(out) for f in fs)
        print(f"wrote {out} ({total / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
