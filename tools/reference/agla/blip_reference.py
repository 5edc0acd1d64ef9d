#!/usr/bin/python3
"""Plain-torch / numpy BLIP image-text matching and AGLA's image-prompt matching (IPM), for fovea's tests.

Imported by make_blip_reference.py and make_agla_reference.py. Written for this project from the published
descriptions (shared/specs/methods-abs-agla.md part B, models-formats.md section 5): HF
BlipForImageTextRetrieval (modeling_blip.py / modeling_blip_text.py) and LAVIS blip_image_text_matching
(compute_gradcam), lavis/common/gradcam.py getAttMap and Lackel/AGLA eval/augmentation.py. No transformers,
scipy or skimage: the two image operations AGLA takes from them are rebuilt here from their definitions,
in a different way from the Java code:

  spline   skimage.transform.resize(order=3, mode="constant") = scipy.ndimage.zoom(order=3,
           mode="grid-constant", grid_mode=True) then clip: the map is padded with 12 zeros per side (scipy's
           fixed pre-pad), its cubic B-spline coefficients c solve the banded system
           s[k] = (c[k-1] + 4 c[k] + c[k+1]) / 6 with mirror ends (c[-1] = c[1], c[n] = c[n-2]) by a dense
           numpy solve (the Java side runs the recursive filter with the pole sqrt(3) - 2), and the spline is
           evaluated at x = (o + 0.5) * in / out - 0.5 + 12 as sum_k c[k] beta3(x - k), beta3 written out.
  blur     scipy.ndimage.gaussian_filter(sigma, truncate 4, mode "reflect"): radius int(4 sigma + 0.5),
           weights exp(-x^2 / 2 sigma^2) normalised, as an explicit (rows then columns) sum over
           half-sample-symmetric indices.
"""
import json
import math
import struct

import numpy as np
import torch
from PIL import Image

CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]
PAD_ID, UNK_ID, CLS_ID, SEP_ID = 0, 100, 101, 102
DEC_ID, ENC_ID = 30522, 30523


# ----------------------------------------------------------------------------- tiny weights (HF names)

def make_params(vision, text, embed_dim, seed):
    g = torch.Generator().manual_seed(seed)

    def rnd(*shape, std=1.0):
        return torch.randn(*shape, generator=g) * std

    p = {}
    Dv, P, S = vision["hidden_size"], vision["patch_size"], vision["image_size"]
    N = (S // P) ** 2 + 1
    v = "vision_model."
    p[v + "embeddings.class_embedding"] = rnd(1, 1, Dv, std=0.5)
    p[v + "embeddings.patch_embedding.weight"] = rnd(Dv, 3, P, P, std=(3 * P * P) ** -0.5)
    p[v + "embeddings.patch_embedding.bias"] = rnd(Dv, std=0.1)
    p[v + "embeddings.position_embedding"] = rnd(1, N, Dv, std=0.5)
    F = vision["intermediate_size"]
    for i in range(vision["num_hidden_layers"]):
        l = f"{v}encoder.layers.{i}."
        p[l + "layer_norm1.weight"] = 1 + rnd(Dv, std=0.1)
        p[l + "layer_norm1.bias"] = rnd(Dv, std=0.1)
        p[l + "self_attn.qkv.weight"] = rnd(3 * Dv, Dv, std=1.5 * Dv ** -0.5)
        p[l + "self_attn.qkv.bias"] = rnd(3 * Dv, std=0.1)
        p[l + "self_attn.projection.weight"] = rnd(Dv, Dv, std=Dv ** -0.5)
        p[l + "self_attn.projection.bias"] = rnd(Dv, std=0.1)
        p[l + "layer_norm2.weight"] = 1 + rnd(Dv, std=0.1)
        p[l + "layer_norm2.bias"] = rnd(Dv, std=0.1)
        p[l + "mlp.fc1.weight"] = rnd(F, Dv, std=Dv ** -0.5)
        p[l + "mlp.fc1.bias"] = rnd(F, std=0.1)
        p[l + "mlp.fc2.weight"] = rnd(Dv, F, std=F ** -0.5)
        p[l + "mlp.fc2.bias"] = rnd(Dv, std=0.1)
    p[v + "post_layernorm.weight"] = 1 + rnd(Dv, std=0.1)
    p[v + "post_layernorm.bias"] = rnd(Dv, std=0.1)
    Dt, Ft, E = text["hidden_size"], text["intermediate_size"], text["encoder_hidden_size"]
    t = "text_encoder."
    p[t + "embeddings.word_embeddings.weight"] = rnd(text["vocab_size"], Dt)
    p[t + "embeddings.position_embeddings.weight"] = rnd(text["max_position_embeddings"], Dt, std=0.5)
    p[t + "embeddings.LayerNorm.weight"] = 1 + rnd(Dt, std=0.1)
    p[t + "embeddings.LayerNorm.bias"] = rnd(Dt, std=0.1)
    for i in range(text["num_hidden_layers"]):
        l = f"{t}encoder.layer.{i}."
        for a, kv in (("attention.", Dt), ("crossattention.", E)):
            p[l + a + "self.query.weight"] = rnd(Dt, Dt, std=1.5 * Dt ** -0.5)
            p[l + a + "self.query.bias"] = rnd(Dt, std=0.1)
            p[l + a + "self.key.weight"] = rnd(Dt, kv, std=1.5 * kv ** -0.5)
            p[l + a + "self.key.bias"] = rnd(Dt, std=0.1)
            p[l + a + "self.value.weight"] = rnd(Dt, kv, std=kv ** -0.5)
            p[l + a + "self.value.bias"] = rnd(Dt, std=0.1)
            p[l + a + "output.dense.weight"] = rnd(Dt, Dt, std=Dt ** -0.5)
            p[l + a + "output.dense.bias"] = rnd(Dt, std=0.1)
            p[l + a + "output.LayerNorm.weight"] = 1 + rnd(Dt, std=0.1)
            p[l + a + "output.LayerNorm.bias"] = rnd(Dt, std=0.1)
        p[l + "intermediate.dense.weight"] = rnd(Ft, Dt, std=Dt ** -0.5)
        p[l + "intermediate.dense.bias"] = rnd(Ft, std=0.1)
        p[l + "output.dense.weight"] = rnd(Dt, Ft, std=Ft ** -0.5)
        p[l + "output.dense.bias"] = rnd(Dt, std=0.1)
        p[l + "output.LayerNorm.weight"] = 1 + rnd(Dt, std=0.1)
        p[l + "output.LayerNorm.bias"] = rnd(Dt, std=0.1)
    p["vision_proj.weight"] = rnd(embed_dim, Dv, std=Dv ** -0.5)
    shared = rnd(embed_dim)  # a common direction in both projections' biases: ITC cosines of about 0.3-0.8, so masks bite
    p["vision_proj.bias"] = shared + rnd(embed_dim, std=0.1)
    p["text_proj.weight"] = rnd(embed_dim, Dt, std=Dt ** -0.5)
    p["text_proj.bias"] = shared + rnd(embed_dim, std=0.1)
    p["itm_head.weight"] = rnd(2, Dt, std=Dt ** -0.5)
    p["itm_head.bias"] = rnd(2, std=0.1)
    return p


def lavis_names(p, layers):
    """HF -> LAVIS / original BLIP names (convert_blip_original_pytorch_to_hf.py, read backwards)."""
    out = {}
    for k, t in p.items():
        n = k
        if k.startswith("vision_model."):
            n = k.replace("vision_model.embeddings.class_embedding", "visual_encoder.cls_token")
            n = n.replace("vision_model.embeddings.position_embedding", "visual_encoder.pos_embed")
            n = n.replace("vision_model.embeddings.patch_embedding", "visual_encoder.patch_embed.proj")
            n = n.replace("vision_model.post_layernorm", "visual_encoder.norm")
            n = n.replace("vision_model.encoder.layers.", "visual_encoder.blocks.")
            n = n.replace(".layer_norm1.", ".norm1.").replace(".layer_norm2.", ".norm2.")
            n = n.replace(".self_attn.qkv.", ".attn.qkv.").replace(".self_attn.projection.", ".attn.proj.")
        out[n] = t
    return out


# ----------------------------------------------------------------------------- forward (plain torch)

def linear(x, p, name):
    return torch.nn.functional.linear(x, p[name + ".weight"], p[name + ".bias"])


def layer_norm(x, p, name, eps):
    return torch.nn.functional.layer_norm(x, x.shape[-1:], p[name + ".weight"], p[name + ".bias"], eps)


def vision_forward(p, cfg, pixels):
    """HF BlipVisionModel: patch conv (bias) + CLS + positions, pre-LN blocks (fused qkv), post_layernorm on all tokens."""
    v = "vision_model."
    B, D, H = pixels.shape[0], cfg["hidden_size"], cfg["num_attention_heads"]
    eps = cfg["layer_norm_eps"]
    x = torch.nn.functional.conv2d(pixels, p[v + "embeddings.patch_embedding.weight"], p[v + "embeddings.patch_embedding.bias"],
                                   stride=cfg["patch_size"])
    x = x.flatten(2).transpose(1, 2)
    x = torch.cat([p[v + "embeddings.class_embedding"].expand(B, 1, D), x], dim=1) + p[v + "embeddings.position_embedding"]
    T, hd = x.shape[1], D // H
    for i in range(cfg["num_hidden_layers"]):
        l = f"{v}encoder.layers.{i}."
        h = layer_norm(x, p, l + "layer_norm1", eps)
        qkv = linear(h, p, l + "self_attn.qkv").reshape(B, T, 3, H, hd).permute(2, 0, 3, 1, 4)
        a = torch.softmax(qkv[0] @ qkv[1].transpose(-1, -2) * hd ** -0.5, dim=-1)
        ctx = (a @ qkv[2]).permute(0, 2, 1, 3).reshape(B, T, D)
        x = x + linear(ctx, p, l + "self_attn.projection")
        h = layer_norm(x, p, l + "layer_norm2", eps)
        x = x + linear(torch.nn.functional.gelu(linear(h, p, l + "mlp.fc1")), p, l + "mlp.fc2")
    return layer_norm(x, p, v + "post_layernorm", eps)


def bert_attention(x, ctx, p, name, heads, bias, keep=None):
    """BlipTextSelfAttention + BlipTextSelfOutput (post-LN). keep: list receiving the probabilities."""
    B, T, D = x.shape
    hd = D // heads
    q = linear(x, p, name + "self.query").reshape(B, T, heads, hd).transpose(1, 2)
    k = linear(ctx, p, name + "self.key").reshape(B, ctx.shape[1], heads, hd).transpose(1, 2)
    v = linear(ctx, p, name + "self.value").reshape(B, ctx.shape[1], heads, hd).transpose(1, 2)
    s = q @ k.transpose(-1, -2) / math.sqrt(hd)
    if bias is not None:
        s = s + bias
    a = torch.softmax(s, dim=-1)
    if keep is not None:
        a.retain_grad()
        keep.append(a)
    c = (a @ v).transpose(1, 2).reshape(B, T, D)
    return c


def text_forward(p, cfg, ids, mask, image=None, keep=None, keep_layer=-1):
    """BlipTextModel (no pooler), bidirectional; cross-attention in every layer when image states are given."""
    t = "text_encoder."
    eps, H = cfg["layer_norm_eps"], cfg["num_attention_heads"]
    T = ids.shape[1]
    x = p[t + "embeddings.word_embeddings.weight"][ids] + p[t + "embeddings.position_embeddings.weight"][:T]
    x = layer_norm(x, p, t + "embeddings.LayerNorm", eps)
    bias = (1.0 - mask[:, None, None, :].float()) * -10000.0
    for i in range(cfg["num_hidden_layers"]):
        l = f"{t}encoder.layer.{i}."
        c = bert_attention(x, x, p, l + "attention.", H, bias)
        x = layer_norm(linear(c, p, l + "attention.output.dense") + x, p, l + "attention.output.LayerNorm", eps)
        if image is not None:
            c = bert_attention(x, image, p, l + "crossattention.", H, None, keep if i == keep_layer else None)
            x = layer_norm(linear(c, p, l + "crossattention.output.dense") + x, p, l + "crossattention.output.LayerNorm", eps)
        h = torch.nn.functional.gelu(linear(x, p, l + "intermediate.dense"))
        x = layer_norm(linear(h, p, l + "output.dense") + x, p, l + "output.LayerNorm", eps)
    return x


def itm_logits(p, text_cfg, ids, mask, image, enc=True, keep=None, keep_layer=-1):
    """LAVIS match_head='itm' (position 0 replaced by [ENC] when enc) / HF use_itm_head=True (enc=False)."""
    ids = ids.clone()
    if enc:
        ids[:, 0] = ENC_ID
    h = text_forward(p, text_cfg, ids, mask, image, keep, keep_layer)
    return linear(h[:, 0], p, "itm_head")


def itc_cosine(p, text_cfg, ids, mask, image):
    h = text_forward(p, text_cfg, ids, mask)
    i = torch.nn.functional.normalize(linear(image[:, 0], p, "vision_proj"), dim=-1)
    t = torch.nn.functional.normalize(linear(h[:, 0], p, "text_proj"), dim=-1)
    return (i * t).sum(-1)


# ----------------------------------------------------------------------------- text and image inputs

def clean_caption(text, max_words=50):
    """LAVIS BlipCaptionProcessor.pre_caption (spec B.2)."""
    import re
    s = re.sub(r"([.!\"()*#:;~])", " ", text.lower())
    s = re.sub(r"\s{2,}", " ", s)
    s = s.rstrip("\n").strip(" ")
    words = s.split(" ")
    if len(words) > max_words:
        s = " ".join(words[:max_words])
    return s


class WordPiece:
    """bert-base-uncased WordPiece for plain lower-case ASCII text: whitespace split, punctuation split,
    greedy longest-match with ## pieces (enough for the questions used here; the Java tokenizer is
    checked on the shared BERT cases separately)."""

    def __init__(self, vocab_path):
        self.vocab = {}
        with open(vocab_path, encoding="utf-8") as f:
            for i, line in enumerate(f):
                self.vocab[line.rstrip("\n")] = i

    def words(self, text):
        out = []
        for w in text.lower().split():
            cur = ""
            for ch in w:
                if (33 <= ord(ch) <= 47) or (58 <= ord(ch) <= 64) or (91 <= ord(ch) <= 96) or (123 <= ord(ch) <= 126):
                    if cur:
                        out.append(cur)
                    out.append(ch)
                    cur = ""
                else:
                    cur += ch
            if cur:
                out.append(cur)
        return out

    def encode(self, text, max_len=35):
        ids = []
        for w in self.words(text):
            start, pieces = 0, []
            while start < len(w):
                end, found = len(w), None
                while start < end:
                    sub = w[start:end] if start == 0 else "##" + w[start:end]
                    if sub in self.vocab:
                        found = self.vocab[sub]
                        break
                    end -= 1
                if found is None:
                    pieces = [UNK_ID]
                    break
                pieces.append(found)
                start = end
            ids.extend(pieces)
        ids = [CLS_ID] + ids[: max_len - 2] + [SEP_ID]
        return ids


def blip_pixels(img, S):
    """LAVIS blip_image_eval / HF BlipImageProcessor: RGB, PIL bicubic to S x S, /255, CLIP mean/std, CHW."""
    img = img.convert("RGB").resize((S, S), Image.BICUBIC)
    a = (np.asarray(img, dtype=np.uint8).astype(np.float64) * (1 / 255)).astype(np.float32)
    a = (a - np.array(CLIP_MEAN, dtype=np.float32)) / np.array(CLIP_STD, dtype=np.float32)
    return torch.from_numpy(np.ascontiguousarray(a.transpose(2, 0, 1)))


# ----------------------------------------------------------------------------- IPM (spec B.4-B.6)

def gradcam(p, vision_cfg, text_cfg, pixels, ids, layer):
    """LAVIS compute_gradcam for one image: returns (map R [G, G] float64, records)."""
    image = vision_forward(p, vision_cfg, pixels).detach()
    p = {k: v.detach().clone().requires_grad_(k.startswith("text_encoder.") or k.startswith("itm_head")) for k, v in p.items()}
    mask = torch.ones_like(ids)
    keep = []
    logits = itm_logits(p, text_cfg, ids, mask, image, True, keep, layer)
    logits[:, 1].sum().backward()
    P, Gd = keep[0].detach(), keep[0].grad.detach()  # [1, H, T, N]
    G = vision_cfg["image_size"] // vision_cfg["patch_size"]
    H, T = P.shape[1], P.shape[2]
    cams = P[:, :, :, 1:].reshape(1, H, T, G, G)
    grads = Gd[:, :, :, 1:].clamp(0).reshape(1, H, T, G, G)
    cam = (cams * grads)[0].mean(0)  # [T, G, G]
    n = T - 2
    R = cam[1:n + 1].sum(0) / n
    return R.double().numpy(), {"image_embeds": image, "itm_logits": logits.detach(), "cross_attention": P, "cross_attention_grad": Gd}


def beta3(x):
    a = np.abs(x)
    return np.where(a < 1, 2 / 3 - a ** 2 + a ** 3 / 2, np.where(a < 2, (2 - a) ** 3 / 6, 0.0))


def spline_coefficients_mirror(s):
    """Solve s[k] = (c[k-1] + 4c[k] + c[k+1]) / 6 with c[-1] = c[1], c[n] = c[n-2] (dense solve)."""
    n = len(s)
    A = np.zeros((n, n))
    for k in range(n):
        A[k, k] += 4 / 6
        for j in (k - 1, k + 1):
            jj = 1 if j == -1 else (n - 2 if j == n else j)
            A[k, jj] += 1 / 6
    return np.linalg.solve(A, s)


def spline_upsample(A, out):
    """skimage resize(order=3, mode='constant') of a square map to out x out (see the module comment)."""
    n = A.shape[0]
    pad = 12
    P = np.pad(A, pad)
    C = np.apply_along_axis(spline_coefficients_mirror, 0, P)
    C = np.apply_along_axis(spline_coefficients_mirror, 1, C)
    x = (np.arange(out) + 0.5) * (n / out) - 0.5 + pad
    k = np.arange(P.shape[0])
    W = beta3(x[:, None] - k[None, :])  # [out, n + 24]
    U = W @ C @ W.T
    lo, hi = min(0.0, A.min()), max(0.0, A.max())
    return np.clip(U, lo, hi)


def reflect_index(i, n):
    """scipy 'reflect' (d c b a | a b c d | d c b a)."""
    period = 2 * n
    i = i % period
    return i if i < n else period - 1 - i


def gaussian_blur(B, sigma):
    radius = int(4.0 * sigma + 0.5)
    x = np.arange(-radius, radius + 1)
    w = np.exp(-0.5 * x ** 2 / sigma ** 2)
    w /= w.sum()
    n0, n1 = B.shape
    R = np.zeros_like(B)
    for i in range(n0):  # along axis 0
        R[i] = sum(w[j] * B[reflect_index(i + x[j], n0)] for j in range(len(x)))
    Out = np.zeros_like(R)
    for c in range(n1):  # along axis 1
        Out[:, c] = sum(w[j] * R[:, reflect_index(c + x[j], n1)] for j in range(len(x)))
    return Out


def relevance(R, S):
    """getAttMap(blur=True, overlap=False) in float64: min-max, spline to S x S, blur sigma 0.02 S, min-max."""
    A = R - R.min()
    if A.max() > 0:
        A = A / A.max()
    U = spline_upsample(A, S)
    Bl = gaussian_blur(U, 0.02 * S)
    Bn = (Bl - Bl.min()) / (Bl.max() - Bl.min())
    return A, U, Bl, Bn


def mask_image(img, Bn, sim, S):
    """AGLA augmentation: keep ratio rho = min(1 - sim/2, 1 - 1e-5), theta = sorted desc [floor(S*S*rho)],
    keep B >= theta; PIL bicubic S x S image * mask, x255 truncated."""
    rho = min(1 - sim / 2, 1 - 1e-5)
    flat = np.sort(Bn.reshape(-1))[::-1]
    theta = flat[int(math.floor(S * S * rho))]
    M = (Bn >= theta).astype(np.float64)
    I = np.asarray(img.convert("RGB").resize((S, S), Image.BICUBIC), dtype=np.uint8).astype(np.float32) / 255.0
    aug = I * M[:, :, None].astype(np.float32)
    out = (aug * 255).astype(np.uint8)  # ToPILImage: mul(255).byte() truncates
    return rho, theta, M, out


# ----------------------------------------------------------------------------- files

def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    codes = {np.float32: "F32", np.int32: "I32", np.int64: "I64", np.uint8: "U8"}
    for name, t in tensors.items():
        a = t.detach().contiguous().numpy() if isinstance(t, torch.Tensor) else np.ascontiguousarray(t)
        b = a.astype(a.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": codes[a.dtype.type], "shape": list(a.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def write_f64(path, arrays):
    """float64 arrays for the map stages: JSON index {name: [offset, shape]} + raw little-endian doubles."""
    index, blobs, offset = {}, [], 0
    for name, a in arrays.items():
        a = np.ascontiguousarray(a, dtype="<f8")
        index[name] = {"offset": offset, "shape": list(a.shape)}
        blobs.append(a.tobytes())
        offset += a.size
    with open(str(path) + ".json", "w") as f:
        json.dump(index, f, indent=1)
    with open(path, "wb") as f:
        for b in blobs:
            f.write(b)
