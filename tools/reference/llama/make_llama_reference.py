#!/usr/bin/python3
"""Reference outputs of tiny random LLaMA decoders for fovea's llm tests.

Run with Debian's interpreter (python3-torch 1.13, numpy; no transformers):

    /usr/bin/python3 tools/reference/llama/make_llama_reference.py llm/src/test/resources/llama-reference

The forward is Hugging Face's LlamaForCausalLM (transformers src/transformers/models/llama/
modeling_llama.py: LlamaRMSNorm, LlamaRotaryEmbedding + rotate_half, repeat_kv, eager attention with
a float32 softmax, LlamaMLP) written out in plain torch, in float32. For each model it writes an HF
folder (config.json + model.safetensors with the checkpoint's real names) and:

  reference.safetensors
    prompt_ids        I32 [T]          BOS then random ids
    logits            F32 [T, V]       prefill logits at every prompt position
    attn.{L}          F32 [H, T, T]    post-softmax attention probabilities of layer L
    greedy_ids        I32 [N]          32 greedy tokens after the prompt
    greedy_logits     F32 [N, V]       logits that chose each greedy token
    sample_ids        I32 [N]          tokens sampled with those draws (settings in reference.json)
    grad_attn.{L}     F32 [H, T, T]    d log p(top token | prompt) / d attention probabilities of layer L
    grad_embeds       F32 [T, C]       the same w.r.t. the input embeddings
  reference.json      sampler settings and its uniform draws (exact decimal repr), the layer of grad_attn, the smallest top-1/top-2 logit gap seen

The sampler is torch-independent (float64 numpy), the same definition as fovea's Sampler:
repetition penalty (HF: l<0 ? l*r : l/r over ids seen), temperature, top-k (keep values >= the
k-th largest), top-p (descending order, keep a token while the mass before it is < p), then walk
the kept tokens in descending order (ties: lower id first) and take the first whose cumulative
normalized probability exceeds u.
"""
import json
import math
import struct
import sys
from pathlib import Path

import numpy as np
import torch

torch.set_num_threads(1)


# ------------------------------------------------------------------ tiny safetensors writer
def write_safetensors(path, tensors):
    header = {}
    blobs = []
    offset = 0
    codes = {np.float32: "F32", np.int32: "I32", np.float64: "F64", np.float16: "F16", np.uint8: "U8"}
    for name, arr in tensors.items():
        arr = np.ascontiguousarray(arr)
        code = codes[arr.dtype.type]
        b = arr.tobytes()
        header[name] = {"dtype": code, "shape": list(arr.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


# ------------------------------------------------------------------ the HF forward, plain torch
def rms_norm(x, w, eps):
    xf = x.to(torch.float32)
    var = xf.pow(2).mean(-1, keepdim=True)
    return w * (xf * torch.rsqrt(var + eps)).to(x.dtype)


def inv_freq(cfg):
    d = cfg["head_dim"]
    inv = 1.0 / (cfg["rope_theta"] ** (torch.arange(0, d, 2, dtype=torch.int64).float() / d))
    rs = cfg.get("rope_scaling")
    if rs is None:
        return inv
    if rs["rope_type"] == "linear":
        return inv / rs["factor"]
    assert rs["rope_type"] == "llama3"
    factor, lo, hi, old = rs["factor"], rs["low_freq_factor"], rs["high_freq_factor"], rs["original_max_position_embeddings"]
    low_wavelen = old / lo
    high_wavelen = old / hi
    wavelen = 2 * math.pi / inv
    inv_l = torch.where(wavelen > low_wavelen, inv / factor, inv)
    smooth = (old / wavelen - lo) / (hi - lo)
    smoothed = (1 - smooth) * inv_l / factor + smooth * inv_l
    medium = ~(wavelen < high_wavelen) * ~(wavelen > low_wavelen)
    return torch.where(medium, smoothed, inv_l)


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


def forward(W, cfg, embeds, keep_attn=None):
    """embeds [1, T, C] -> logits [1, T, V]; keep_attn collects each layer's probabilities."""
    B, T, C = embeds.shape
    H, Hkv, D = cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["head_dim"]
    eps = cfg["rms_norm_eps"]
    pos = torch.arange(T)[None, :].float()
    freqs = (inv_freq(cfg)[None, :, None] @ pos[:, None, :]).transpose(1, 2)  # [1, T, D/2]
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos()[:, None], emb.sin()[:, None]  # [1, 1, T, D]
    mask = torch.full((T, T), torch.finfo(torch.float32).min).triu(1)
    h = embeds
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        x = rms_norm(h, W[p + "input_layernorm.weight"], eps)
        q = (x @ W[p + "self_attn.q_proj.weight"].T).view(B, T, H, D).transpose(1, 2)
        k = (x @ W[p + "self_attn.k_proj.weight"].T).view(B, T, Hkv, D).transpose(1, 2)
        v = (x @ W[p + "self_attn.v_proj.weight"].T).view(B, T, Hkv, D).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = k[:, :, None].expand(B, Hkv, H // Hkv, T, D).reshape(B, H, T, D)  # repeat_kv
        v = v[:, :, None].expand(B, Hkv, H // Hkv, T, D).reshape(B, H, T, D)
        scores = q @ k.transpose(2, 3) / math.sqrt(D) + mask
        probs = torch.softmax(scores, dim=-1, dtype=torch.float32)
        if keep_attn is not None:
            keep_attn.append(probs)
        a = (probs @ v).transpose(1, 2).reshape(B, T, H * D)
        h = h + a @ W[p + "self_attn.o_proj.weight"].T
        x = rms_norm(h, W[p + "post_attention_layernorm.weight"], eps)
        g = x @ W[p + "mlp.gate_proj.weight"].T
        u = x @ W[p + "mlp.up_proj.weight"].T
        h = h + (torch.nn.functional.silu(g) * u) @ W[p + "mlp.down_proj.weight"].T
    h = rms_norm(h, W["model.norm.weight"], eps)
    head = W["model.embed_tokens.weight"] if cfg["tie_word_embeddings"] else W["lm_head.weight"]
    return h @ head.T


# ------------------------------------------------------------------ torch-independent sampler
def sample(logits, history, u, temperature, top_k, top_p, rep):
    l = logits.astype(np.float64).copy()
    for t in set(history):
        l[t] = l[t] * rep if l[t] < 0 else l[t] / rep
    l /= temperature
    if top_k > 0 and top_k < len(l):
        kth = np.sort(l)[::-1][top_k - 1]
        l[l < kth] = -np.inf
    order = sorted(range(len(l)), key=lambda i: (-l[i], i))
    m = l[order[0]]
    p = np.exp(l - m)
    p /= p.sum()
    kept, before = [], 0.0
    for i in order:
        if p[i] == 0 or (kept and before >= top_p):
            break
        kept.append(i)
        before += p[i]
    total = sum(p[i] for i in kept)
    acc = 0.0
    for i in kept:
        acc += p[i] / total
        if u < acc:
            return i
    return kept[-1]


def build(cfg, seed):
    g = torch.Generator().manual_seed(seed)
    C, F, V = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    H, Hkv, D = cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["head_dim"]

    def lin(o, i):
        return torch.randn(o, i, generator=g) / math.sqrt(i)

    def norm(n):
        return 1 + 0.1 * torch.randn(n, generator=g)

    W = {"model.embed_tokens.weight": torch.randn(V, C, generator=g)}
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        W[p + "input_layernorm.weight"] = norm(C)
        W[p + "self_attn.q_proj.weight"] = lin(H * D, C)
        W[p + "self_attn.k_proj.weight"] = lin(Hkv * D, C)
        W[p + "self_attn.v_proj.weight"] = lin(Hkv * D, C)
        W[p + "self_attn.o_proj.weight"] = lin(C, H * D)
        W[p + "post_attention_layernorm.weight"] = norm(C)
        W[p + "mlp.gate_proj.weight"] = lin(F, C)
        W[p + "mlp.up_proj.weight"] = lin(F, C)
        W[p + "mlp.down_proj.weight"] = lin(C, F)
    W["model.norm.weight"] = norm(C)
    if not cfg["tie_word_embeddings"]:
        W["lm_head.weight"] = lin(V, C)
    return W


def make(out, name, cfg, seed, prompt_len=12, new=32, grad_layer=1):
    d = Path(out) / name
    d.mkdir(parents=True, exist_ok=True)
    W = build(cfg, seed)
    hf_cfg = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_act": "silu", "torch_dtype": "float32",
              "bos_token_id": 1, "eos_token_id": 2, "attention_bias": False, "mlp_bias": False}
    hf_cfg.update({k: v for k, v in cfg.items() if k != "head_dim"})
    (d / "config.json").write_text(json.dumps(hf_cfg, indent=2) + "\n")
    write_safetensors(d / "model.safetensors", {k: v.numpy() for k, v in W.items()})

    rng = np.random.RandomState(seed)
    V = cfg["vocab_size"]
    prompt = [1] + list(rng.randint(3, V, size=prompt_len - 1))
    embed = W["model.embed_tokens.weight"]
    ref = {"prompt_ids": np.array(prompt, dtype=np.int32)}

    with torch.no_grad():
        attn = []
        logits = forward(W, cfg, embed[torch.tensor(prompt)][None], attn)[0]
        ref["logits"] = logits.numpy()
        for i, a in enumerate(attn):
            ref[f"attn.{i}"] = a[0].numpy()
        ids, gl, gaps = list(prompt), [], []
        for _ in range(new):
            l = forward(W, cfg, embed[torch.tensor(ids)][None])[0, -1]
            top2 = torch.topk(l, 2).values
            gaps.append(float(top2[0] - top2[1]))
            gl.append(l.numpy())
            ids.append(int(torch.argmax(l)))
        ref["greedy_ids"] = np.array(ids[len(prompt):], dtype=np.int32)
        ref["greedy_logits"] = np.stack(gl)

        settings = {"temperature": 0.8, "top_k": 40, "top_p": 0.9, "repetition_penalty": 1.1}
        u = np.random.RandomState(seed + 1).random_sample(new)
        ids = list(prompt)
        for s in range(new):
            l = forward(W, cfg, embed[torch.tensor(ids)][None])[0, -1].numpy()
            ids.append(sample(l, ids, u[s], settings["temperature"], settings["top_k"], settings["top_p"], settings["repetition_penalty"]))
        ref["sample_ids"] = np.array(ids[len(prompt):], dtype=np.int32)

    # gradient of the top next-token log-probability w.r.t. one layer's probabilities and the embeddings
    e = embed[torch.tensor(prompt)][None].clone().requires_grad_(True)
    attn = []
    logits = forward(W, cfg, e, attn)
    for a in attn:
        a.retain_grad()
    lp = torch.log_softmax(logits[0, -1], dim=-1)
    lp[int(torch.argmax(lp))].backward()
    ref[f"grad_attn.{grad_layer}"] = attn[grad_layer].grad[0].numpy()
    ref["grad_embeds"] = e.grad[0].numpy()

    write_safetensors(d / "reference.safetensors", ref)
    meta = {"seed": seed, "sampling": settings, "sample_uniforms": [float(x) for x in u], "grad_layer": grad_layer, "min_greedy_top2_gap": min(gaps),
            "torch": torch.__version__}
    (d / "reference.json").write_text(json.dumps(meta, indent=2) + "\n")
    print(name, "greedy", ref["greedy_ids"].tolist(), "sampled", ref["sample_ids"].tolist(), "min gap", min(gaps))


if __name__ == "__main__":
    out = sys.argv[1] if len(sys.argv) > 1 else "llm/src/test/resources/llama-reference"
    base = {"vocab_size": 512, "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 3, "num_attention_heads": 4,
            "num_key_value_heads": 2, "head_dim": 16, "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "rope_scaling": None,
            "max_position_embeddings": 256, "tie_word_embeddings": False}
    make(out, "tiny", base, seed=1234)
    tied = dict(base, num_hidden_layers=2, num_key_value_heads=4, tie_word_embeddings=True, rope_theta=500000.0,
                rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                              "original_max_position_embeddings": 64})
    make(out, "tied-llama3", tied, seed=99)
