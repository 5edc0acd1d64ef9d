#!/usr/bin/python3
"""Reference outputs of a tiny random InstructBLIP (Vicuna flavour) for fovea's llm tests.

Run with Debian's interpreter (python3-torch 1.13, numpy; no transformers), from the repository root:

    /usr/bin/python3 tools/reference/instructblip/make_instructblip_reference.py

The forward is Hugging Face's InstructBlipForConditionalGeneration (transformers
src/transformers/models/instructblip/modeling_instructblip.py; spec models-formats.md section 4) written out
in plain float32 torch here; the LLaMA decoder is tools/reference/llama/make_llama_reference.py's (imported).

  1. vision (EVA ViT-g style, InstructBlipVisionModel): patch conv with bias, CLS, + position_embedding, no LN
     before the blocks; pre-LN blocks with ONE fused qkv Linear whose bias is [q_bias, 0, v_bias]; exact GELU;
     post_layernorm on every token -> image_embeds [N, Dv]
  2. Q-Former (InstructBlipQFormerModel, post-LN BERT): embeddings = LN([query_tokens ; word_emb[ids] + pos_emb[0..T-1]]);
     per layer: self-attention over all Q+T positions (bidirectional, all-ones mask), then for layers with
     index % cross_attention_frequency == 0 cross-attention of the Q query positions over image_embeds, then
     the feed-forward split by position (intermediate_query/output_query for queries, intermediate/output
     for the text)
  3. language_projection of the first Q positions -> [Q, C]
  4. LLaMA over [projected queries ; embed(prompt ids)], positions 0..Q+L-1 (older HF / LAVIS assembly;
     the prompt starts with LAVIS's BOS = </s> = 2)

Writes llm/src/test/resources/instructblip-reference/tiny/: config.json (InstructBlipConfig with vision_config,
qformer_config, text_config), model.safetensors (HF names of Salesforce/instructblip-vicuna-7b),
preprocessor_config.json (BlipImageProcessor), tokenizer.bin (llama2.c stories260k tok512 from ../shared),
qformer_tokenizer/vocab.txt (a small WordPiece vocabulary, bert-base-uncased's special ids 0, 100..103),
and reference.safetensors (below). tiny-lavis/ holds the same weights under LAVIS's names (instruct_blip_vicuna7b.pth,
torch.save of {"model": state_dict}, q_bias/v_bias apart, with the position_ids and rotary inv_freq buffers) and the same
config.json. reference.safetensors:

  pixels               F32 [1, 3, S, S]
  qformer_ids          I32 [Tq]           [CLS] ... [SEP] of the instruction (random ids)
  prompt_ids           I32 [L]            BOS 2 then random ids
  vision.hidden.{i}    F32 [N, Dv]        hidden states after embeddings (0) and after each layer (1..)
  vision.image_embeds  F32 [N, Dv]        post_layernorm
  qformer.hidden       F32 [Q + Tq, Hq]   last hidden state
  qformer.cross.{l}    F32 [Hh, Q, N]     cross-attention probabilities of layer l (every cross layer)
  qformer.self.{l}     F32 [Hh, Q+Tq, Q+Tq]
  query_output         F32 [Q, C]         language_projection(first Q rows)
  logits               F32 [Q + L, V]
  attn.{l}             F32 [H, Q+L, Q+L]  decoder attention probabilities
  greedy_ids           I32 [G]
reference.json: sizes and the smallest greedy top-1/top-2 logit gap.
"""
import json
import math
import shutil
import sys
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "llama"))
import make_llama_reference as llama  # noqa: E402

torch.set_num_threads(1)
REPO = HERE.parents[2]
OUT = REPO / "llm" / "src" / "test" / "resources" / "instructblip-reference" / "tiny"
CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]

VISION = {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2, "image_size": 56,
          "patch_size": 14, "layer_norm_eps": 1e-6, "hidden_act": "gelu", "qkv_bias": True, "model_type": "instructblip_vision_model"}
WORDS = ["what", "is", "the", "in", "this", "image", "a", "cat", "dog", "there", "of", "color", "describe", "picture", "?", ".", ","]
QVOCAB = (["[PAD]"] + [f"[unused{i}]" for i in range(99)] + ["[UNK]", "[CLS]", "[SEP]", "[MASK]"] + WORDS
          + [chr(c) for c in range(ord("a"), ord("z") + 1)] + ["##" + chr(c) for c in range(ord("a"), ord("z") + 1)])
QFORMER = {"vocab_size": len(QVOCAB) + 1, "hidden_size": 32, "num_hidden_layers": 6, "num_attention_heads": 4,
           "intermediate_size": 64, "hidden_act": "gelu", "max_position_embeddings": 64, "layer_norm_eps": 1e-12,
           "cross_attention_frequency": 2, "encoder_hidden_size": 32, "pad_token_id": 0, "model_type": "instructblip_qformer"}
TEXT = {"vocab_size": 576, "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4,
        "num_key_value_heads": 4, "head_dim": 16, "rms_norm_eps": 1e-6, "rope_theta": 10000.0, "rope_scaling": None,
        "max_position_embeddings": 128, "tie_word_embeddings": False}
QUERIES = 8
GREEDY = 16
SEED = 31
# ViCrop on InstructBLIP (spec methods-vicrop-avc-vcd.md 1.3.4; the released blip_methods.py): the Q-Former map is
# the cross-attention at index CROSS_INDEX of the tuple of cross-attending layers (HF's qformer_outputs.cross_attentions,
# which lists only layers with i % cross_attention_frequency == 0: index 2 = Q-Former layer 4), the LLM map its
# attention at LLM_LAYER (15 of 32 in the real model; the tiny decoder has 2 layers).
CROSS_INDEX = 2
LLM_LAYER = 1


def build(seed):
    g = torch.Generator().manual_seed(seed)

    def lin(o, i):
        return torch.randn(o, i, generator=g) / math.sqrt(i)

    def vec(n, s=0.1):
        return s * torch.randn(n, generator=g)

    def norm(n):
        return 1 + 0.1 * torch.randn(n, generator=g)

    W = {}
    D, F, P, S = VISION["hidden_size"], VISION["intermediate_size"], VISION["patch_size"], VISION["image_size"]
    N = (S // P) ** 2 + 1
    v = "vision_model."
    W[v + "embeddings.class_embedding"] = torch.randn(1, 1, D, generator=g)
    W[v + "embeddings.patch_embedding.weight"] = torch.randn(D, 3, P, P, generator=g) / math.sqrt(3 * P * P)
    W[v + "embeddings.patch_embedding.bias"] = vec(D)
    W[v + "embeddings.position_embedding"] = 0.5 * torch.randn(1, N, D, generator=g)
    for i in range(VISION["num_hidden_layers"]):
        p = f"{v}encoder.layers.{i}."
        W[p + "layer_norm1.weight"], W[p + "layer_norm1.bias"] = norm(D), vec(D)
        W[p + "self_attn.qkv.weight"] = lin(3 * D, D)
        W[p + "self_attn.qkv.bias"] = torch.cat([vec(D), torch.zeros(D), vec(D)])  # EVA: no key bias
        W[p + "self_attn.projection.weight"], W[p + "self_attn.projection.bias"] = lin(D, D), vec(D)
        W[p + "layer_norm2.weight"], W[p + "layer_norm2.bias"] = norm(D), vec(D)
        W[p + "mlp.fc1.weight"], W[p + "mlp.fc1.bias"] = lin(F, D), vec(F)
        W[p + "mlp.fc2.weight"], W[p + "mlp.fc2.bias"] = lin(D, F), vec(D)
    W[v + "post_layernorm.weight"], W[v + "post_layernorm.bias"] = norm(D), vec(D)

    Hq, Fq, E = QFORMER["hidden_size"], QFORMER["intermediate_size"], QFORMER["encoder_hidden_size"]
    W["query_tokens"] = torch.randn(1, QUERIES, Hq, generator=g)
    q = "qformer."
    W[q + "embeddings.word_embeddings.weight"] = torch.randn(QFORMER["vocab_size"], Hq, generator=g)
    W[q + "embeddings.position_embeddings.weight"] = 0.5 * torch.randn(QFORMER["max_position_embeddings"], Hq, generator=g)
    W[q + "embeddings.layernorm.weight"], W[q + "embeddings.layernorm.bias"] = norm(Hq), vec(Hq)

    def attention(p, kv):
        W[p + "attention.query.weight"], W[p + "attention.query.bias"] = lin(Hq, Hq), vec(Hq)
        W[p + "attention.key.weight"], W[p + "attention.key.bias"] = lin(Hq, kv), vec(Hq)
        W[p + "attention.value.weight"], W[p + "attention.value.bias"] = lin(Hq, kv), vec(Hq)
        W[p + "output.dense.weight"], W[p + "output.dense.bias"] = lin(Hq, Hq), vec(Hq)
        W[p + "output.LayerNorm.weight"], W[p + "output.LayerNorm.bias"] = norm(Hq), vec(Hq)

    for i in range(QFORMER["num_hidden_layers"]):
        p = f"{q}encoder.layer.{i}."
        attention(p + "attention.", Hq)
        if i % QFORMER["cross_attention_frequency"] == 0:
            attention(p + "crossattention.", E)
        for suffix in ("", "_query"):
            W[p + f"intermediate{suffix}.dense.weight"], W[p + f"intermediate{suffix}.dense.bias"] = lin(Fq, Hq), vec(Fq)
            W[p + f"output{suffix}.dense.weight"], W[p + f"output{suffix}.dense.bias"] = lin(Hq, Fq), vec(Hq)
            W[p + f"output{suffix}.LayerNorm.weight"], W[p + f"output{suffix}.LayerNorm.bias"] = norm(Hq), vec(Hq)
    C = TEXT["hidden_size"]
    W["language_projection.weight"], W["language_projection.bias"] = lin(C, Hq), vec(C)
    for k, t in llama.build(TEXT, seed + 7).items():
        W["language_model." + k] = t
    return W


def ln(x, W, name, eps):
    return torch.nn.functional.layer_norm(x, x.shape[-1:], W[name + ".weight"], W[name + ".bias"], eps)


def linear(x, W, name):
    return torch.nn.functional.linear(x, W[name + ".weight"], W[name + ".bias"])


def vision_forward(W, pixels, rec):
    """InstructBlipVisionModel: pixels [1, 3, S, S] -> image_embeds [1, N, D]."""
    D, H, eps = VISION["hidden_size"], VISION["num_attention_heads"], VISION["layer_norm_eps"]
    hd = D // H
    v = "vision_model."
    x = torch.nn.functional.conv2d(pixels, W[v + "embeddings.patch_embedding.weight"], W[v + "embeddings.patch_embedding.bias"],
                                   stride=VISION["patch_size"])
    x = x.flatten(2).transpose(1, 2)
    x = torch.cat([W[v + "embeddings.class_embedding"].expand(x.shape[0], 1, D), x], dim=1)
    x = x + W[v + "embeddings.position_embedding"][:, : x.shape[1]]
    rec["vision.hidden.0"] = x[0]
    B, T, _ = x.shape
    for i in range(VISION["num_hidden_layers"]):
        p = f"{v}encoder.layers.{i}."
        r = x
        h = ln(x, W, p + "layer_norm1", eps)
        qkv = linear(h, W, p + "self_attn.qkv").reshape(B, T, 3, H, hd).permute(2, 0, 3, 1, 4)
        probs = torch.softmax(qkv[0] @ qkv[1].transpose(-1, -2) * hd ** -0.5, dim=-1)
        a = (probs @ qkv[2]).transpose(1, 2).reshape(B, T, D)
        x = linear(a, W, p + "self_attn.projection") + r
        r = x
        h = ln(x, W, p + "layer_norm2", eps)
        x = linear(torch.nn.functional.gelu(linear(h, W, p + "mlp.fc1")), W, p + "mlp.fc2") + r
        rec[f"vision.hidden.{i + 1}"] = x[0]
    x = ln(x, W, v + "post_layernorm", eps)
    rec["vision.image_embeds"] = x[0]
    return x


def qformer_attention(x, ctx, W, p, mask, rec=None, key=None):
    """InstructBlipQFormerAttention: LayerNorm(dense(attn(x, ctx)) + x); ctx None for self-attention."""
    H = QFORMER["num_attention_heads"]
    B, T, C = x.shape
    hd = C // H
    src = x if ctx is None else ctx

    def heads(t):
        return t.view(t.shape[0], t.shape[1], H, hd).permute(0, 2, 1, 3)

    q = heads(linear(x, W, p + "attention.query"))
    k = heads(linear(src, W, p + "attention.key"))
    v = heads(linear(src, W, p + "attention.value"))
    scores = q @ k.transpose(-1, -2) / math.sqrt(hd)
    if mask is not None:
        scores = scores + mask
    probs = torch.softmax(scores, dim=-1)
    if rec is not None:
        rec[key] = probs  # [1, H, Tq, Tk], part of the graph (grad-att differentiates with respect to it)
    c = (probs @ v).permute(0, 2, 1, 3).reshape(B, T, C)
    return ln(linear(c, W, p + "output.dense") + x, W, p + "output.LayerNorm", QFORMER["layer_norm_eps"])


def feed_forward(x, W, p, suffix):
    h = torch.nn.functional.gelu(linear(x, W, p + f"intermediate{suffix}.dense"))
    return ln(linear(h, W, p + f"output{suffix}.dense") + x, W, p + f"output{suffix}.LayerNorm", QFORMER["layer_norm_eps"])


def qformer_forward(W, ids, image_embeds, rec):
    """InstructBlipQFormerModel with query_embeds = query_tokens; all-ones masks."""
    q = "qformer."
    Q = W["query_tokens"].shape[1]
    T = ids.shape[1]
    words = W[q + "embeddings.word_embeddings.weight"][ids] + W[q + "embeddings.position_embeddings.weight"][torch.arange(T)][None]
    x = torch.cat([W["query_tokens"].expand(ids.shape[0], -1, -1), words], dim=1)
    x = ln(x, W, q + "embeddings.layernorm", QFORMER["layer_norm_eps"])
    mask = torch.zeros(1, 1, 1, Q + T)  # (1 - all-ones mask) * large negative = 0
    for i in range(QFORMER["num_hidden_layers"]):
        p = f"{q}encoder.layer.{i}."
        a = qformer_attention(x, None, W, p + "attention.", mask, rec, f"qformer.self.{i}")
        qa = a[:, :Q]
        if i % QFORMER["cross_attention_frequency"] == 0:
            qa = qformer_attention(qa, image_embeds, W, p + "crossattention.", None, rec, f"qformer.cross.{i}")
        out = feed_forward(qa, W, p, "_query")
        if T > 0:
            out = torch.cat([out, feed_forward(a[:, Q:], W, p, "")], dim=1)
        x = out
    rec["qformer.hidden"] = x[0]
    return x


def lm_logits(W, query_output, ids, attn=None):
    lm = {k[len("language_model."):]: t for k, t in W.items() if k.startswith("language_model.")}
    e = lm["model.embed_tokens.weight"][torch.tensor(ids)]
    x = torch.cat([query_output, e[None]], dim=1)
    return llama.forward(lm, TEXT, x, attn)[0]


def cross_layer(index):
    layers = [i for i in range(QFORMER["num_hidden_layers"]) if i % QFORMER["cross_attention_frequency"] == 0]
    return layers[index]


def chained(W, pixels, qids, prompt, grad):
    """ViCrop's chained map of one prompt, the intended formulation (spec 1.3.4).

    C = cross-attention probabilities [H, Q, N] of the chosen cross layer, key 0 (CLS) dropped; a = LLM attention
    probabilities of the last row at LLM_LAYER over the Q visual positions 0..Q-1 [Hl, Q]. rel-att: the head means
    chained, abar^T . Cbar -> [N - 1]. grad-att: each attention first replaced by A * relu(dv/dA), v = log softmax
    of the last logits at their argmax. Returns (map, the LLM row over keys 0..K-1 as the released code slices it,
    with K = NUM_IMG_TOKENS = the number of patches)."""
    rec = {}
    with torch.set_grad_enabled(grad):
        if grad:
            pixels = pixels.clone().requires_grad_(True)  # so that a graph is recorded (the weights are plain tensors)
        image = vision_forward(W, pixels, {})
        hidden = qformer_forward(W, torch.tensor([qids]), image, rec)
        qo = linear(hidden[:, :QUERIES], W, "language_projection")
        attn = []
        logits = lm_logits(W, qo, prompt, attn)
        C = rec[f"qformer.cross.{cross_layer(CROSS_INDEX)}"]  # [1, H, Q, N]
        A = attn[LLM_LAYER]  # [1, Hl, T, T]
        if grad:
            lp = torch.log_softmax(logits[-1], dim=-1)
            v = lp[int(torch.argmax(lp))]
            gC, gA = torch.autograd.grad(v, [C, A])
            C = C * torch.relu(gC)
            A = A * torch.relu(gA)
        C, A = C[0], A[0]
        C = C.detach()[:, :, 1:].mean(0)  # [Q, N - 1]
        row = A.detach()[:, -1]  # [Hl, T]
        a = row[:, :QUERIES].mean(0)  # [Q]: the visual positions 0..Q-1
        released = row[:, : C.shape[1]].mean(0)  # blip_methods.py: lm_atts[...][:, -1, :NUM_IMG_TOKENS]
        return a @ C, released, C


def vicrop(W, pixels, rng, ref, meta):
    Q = QUERIES
    qq = [101] + [int(x) for x in rng.randint(104, len(QVOCAB), size=5)] + [102]
    qg = [101] + [int(x) for x in rng.randint(104, len(QVOCAB), size=7)] + [102]
    pq = [2] + [int(x) for x in rng.randint(3, 512, size=9)]
    pg = [2] + [int(x) for x in rng.randint(3, 512, size=6)]
    mq, rel_q, Cq = chained(W, pixels, qq, pq, False)
    mg, _, _ = chained(W, pixels, qg, pg, False)
    gq, _, _ = chained(W, pixels, qq, pq, True)
    for k, v in {"q.qformer_ids": qq, "g.qformer_ids": qg, "q.prompt_ids": pq, "g.prompt_ids": pg}.items():
        ref["vicrop." + k] = np.array(v, dtype=np.int32)
    ref["vicrop.q.map"] = mq.numpy()
    ref["vicrop.g.map"] = mg.numpy()
    ref["vicrop.rel_att"] = (mq / mg).numpy()  # no epsilon, as the reference
    ref["vicrop.grad_att"] = gq.numpy()
    # pure-grad's pixel part (spec 1.3.3 / 1.3.4): per-pixel L2 norm over the channels of dv/dpixels, v = log softmax of
    # the last logits at their argmax, for Pq (the edge mask and pooling are the LLaVA code's, tested there)
    px = pixels.clone().requires_grad_(True)
    h = qformer_forward(W, torch.tensor([qq]), vision_forward(W, px, {}), {})
    lp = torch.log_softmax(lm_logits(W, linear(h[:, :Q], W, "language_projection"), pq)[-1], dim=-1)
    lp[int(torch.argmax(lp))].backward()
    ref["vicrop.q.pixel_grad_norms"] = px.grad[0].norm(dim=0).reshape(-1).numpy()
    # the released code multiplies [1, 1, K] (K = NUM_IMG_TOKENS key positions) by [1, Q, K]: torch refuses unless K == Q
    try:
        torch.bmm(rel_q[None, None], Cq[None])
        released = "ok"
    except RuntimeError as e:
        released = str(e).splitlines()[0]
    meta["vicrop"] = {"cross_index": CROSS_INDEX, "qformer_layer": cross_layer(CROSS_INDEX), "llm_layer": LLM_LAYER,
                      "grid": VISION["image_size"] // VISION["patch_size"], "released_bmm": released}
    print("vicrop: rel-att", (mq / mg).numpy().round(3).tolist(), "released:", released)


def two_images(W, pixels, rng, ref, meta):
    """ViCrop's answer prompt (spec 1.6): both images through ViT + Q-Former with the same instruction, 2Q projected
    queries (original first) before the prompt; the logits of the last position and a greedy continuation."""
    g = torch.Generator().manual_seed(SEED + 2)
    crop = torch.randn(1, 3, VISION["image_size"], VISION["image_size"], generator=g)
    qids = [101] + [int(x) for x in rng.randint(104, len(QVOCAB), size=4)] + [102]
    prompt = [2] + [int(x) for x in rng.randint(3, 512, size=5)]
    with torch.no_grad():
        parts = []
        for px in (pixels, crop):
            h = qformer_forward(W, torch.tensor([qids]), vision_forward(W, px, {}), {})
            parts.append(linear(h[:, :QUERIES], W, "language_projection"))
        qo = torch.cat(parts, dim=1)  # [1, 2Q, C]
        seq, gaps = list(prompt), []
        for i in range(8):
            l = lm_logits(W, qo, seq)
            if i == 0:
                ref["crop.last_logits"] = l[-1].numpy()
            top2 = torch.topk(l[-1], 2).values
            gaps.append(float(top2[0] - top2[1]))
            seq.append(int(torch.argmax(l[-1])))
    ref["crop.pixels"] = crop.numpy()
    ref["crop.qformer_ids"] = np.array(qids, dtype=np.int32)
    ref["crop.prompt_ids"] = np.array(prompt, dtype=np.int32)
    ref["crop.greedy_ids"] = np.array(seq[len(prompt):], dtype=np.int32)
    meta["crop"] = {"min_greedy_top2_gap": min(gaps)}
    print("two images: greedy", seq[len(prompt):], "min gap", min(gaps))


def avc(W, pixels, qids, prompt, ref, meta, P=0.5, LAMBDA=1.0, ALPHA=1.0, BETA=0.1):
    """AVC's first step on InstructBLIP (spec methods-vicrop-avc-vcd.md 2.2-2.5) over the Q query positions 0..Q-1,
    for the reference prompt: layers by top-P of each layer's summed head-mean attention of the last position to the
    queries, a = their mean over the chosen layers, blind = a >= mean + lambda * std (N - 1), V* = the input with every
    non-blind query row zeroed, z / z* = the last logits of both inputs, d = (1 + alpha) z - alpha z* cut where
    z < log(beta) + max z."""
    Q = QUERIES
    with torch.no_grad():
        h = qformer_forward(W, torch.tensor([qids]), vision_forward(W, pixels, {}), {})
        qo = linear(h[:, :Q], W, "language_projection")
        lm = {k[len("language_model."):]: t for k, t in W.items() if k.startswith("language_model.")}
        e = torch.cat([qo, lm["model.embed_tokens.weight"][torch.tensor(prompt)][None]], dim=1)
        attn = []
        z = llama.forward(lm, TEXT, e, attn)[0, -1]
        hm = [a[0, :, -1, :Q].mean(dim=0) for a in attn]
        s = torch.stack([x.sum() for x in hm])
        p = s / s.sum()
        csum = torch.cumsum(torch.sort(p, descending=True)[0], dim=0)
        k = int((csum < P).sum()) + 1
        layers = torch.topk(p, k).indices
        a = torch.stack([hm[int(l)] for l in layers]).mean(dim=0)
        tau = a.mean() + LAMBDA * a.std()
        blind = torch.where(a >= tau)[0]
        e2 = e.clone()
        for i in range(Q):
            if i not in blind.tolist():
                e2[0, i] = 0
        zs = llama.forward(lm, TEXT, e2)[0, -1]
        d = (1 + ALPHA) * z - ALPHA * zs
        d = d.masked_fill(z < torch.log(torch.tensor(BETA)) + z.max(), -float("inf"))
    ref["avc.z"] = z.numpy()
    ref["avc.z_blind"] = zs.numpy()
    ref["avc.contrasted"] = d.numpy()
    ref["avc.blind"] = blind.numpy().astype(np.int32)
    meta["avc"] = {"layers": sorted(int(l) for l in layers), "layer_shares": p.tolist(), "tau": float(tau),
                   "tau_margin": float((a - tau).abs().min() / tau), "layer_margin": float((csum - P).abs().min())}
    print("avc: layers", meta["avc"]["layers"], "blind", blind.tolist(), "tau margin", meta["avc"]["tau_margin"])


def vcd(W, pixels, qids, prompt, ref, meta, T=500, ALPHA=1.0, BETA=0.1):
    """VCD's first step on InstructBLIP (spec 3.1-3.2): x' = sqrt(abar_T) x + sqrt(1 - abar_T) eps (schedule in float64,
    coefficients rounded to float32), both images through ViT + Q-Former with the same instruction, z / z' the last
    logits, d = (1 + alpha) z - alpha z' cut where z < log(beta) + max z."""
    g = torch.Generator().manual_seed(SEED + 3)
    eps = torch.randn(pixels.shape, generator=g)
    k = np.arange(1000, dtype=np.float64)
    beta = 1 / (1 + np.exp(-(-6 + 12.0 * k / 999))) * (5e-3 - 1e-5) + 1e-5
    abar = np.cumprod(1 - beta)[T]
    distorted = np.float32(np.sqrt(abar)) * pixels + np.float32(np.sqrt(1 - abar)) * eps
    out = []
    with torch.no_grad():
        for px in (pixels, distorted):
            h = qformer_forward(W, torch.tensor([qids]), vision_forward(W, px, {}), {})
            out.append(lm_logits(W, linear(h[:, :QUERIES], W, "language_projection"), prompt)[-1])
    z, zd = out
    d = ((1 + ALPHA) * z - ALPHA * zd).masked_fill(z < torch.log(torch.tensor(BETA)) + z.max(), -float("inf"))
    # AGLA's second branch (spec methods-abs-agla.md B.7) is the same prompt over another image: its first-step logits
    # for crop.pixels standing in for the masked image
    with torch.no_grad():
        h = qformer_forward(W, torch.tensor([qids]), vision_forward(W, torch.tensor(ref["crop.pixels"]), {}), {})
        ref["agla.z_masked"] = lm_logits(W, linear(h[:, :QUERIES], W, "language_projection"), prompt)[-1].numpy()
    ref["vcd.noise"] = eps.numpy()
    ref["vcd.z"] = z.numpy()
    ref["vcd.z_distorted"] = zd.numpy()
    ref["vcd.contrasted"] = d.numpy()
    meta["vcd"] = {"noise_step": T, "coefficients": [float(np.sqrt(abar)), float(np.sqrt(1 - abar))]}


def lavis_names(W):
    """The same tensors under LAVIS's blip2_vicuna_instruct names (convert_instructblip_original_to_pytorch.py in reverse),
    plus buffers a LAVIS state dict carries and a loader must skip."""
    out = {}
    D = VISION["hidden_size"]
    for k, t in W.items():
        if k.startswith("vision_model."):
            r = k[len("vision_model."):]
            r = {"embeddings.class_embedding": "visual_encoder.cls_token", "embeddings.position_embedding": "visual_encoder.pos_embed",
                 "embeddings.patch_embedding.weight": "visual_encoder.patch_embed.proj.weight",
                 "embeddings.patch_embedding.bias": "visual_encoder.patch_embed.proj.bias",
                 "post_layernorm.weight": "ln_vision.weight", "post_layernorm.bias": "ln_vision.bias"}.get(r, r)
            if r.startswith("encoder.layers."):
                i, rest = r[len("encoder.layers."):].split(".", 1)
                p = f"visual_encoder.blocks.{i}."
                if rest == "self_attn.qkv.bias":
                    out[p + "attn.q_bias"] = t[:D].clone()
                    out[p + "attn.v_bias"] = t[2 * D:].clone()
                    continue
                rest = rest.replace("layer_norm1.", "norm1.").replace("layer_norm2.", "norm2.").replace("self_attn.qkv.", "attn.qkv.")
                rest = rest.replace("self_attn.projection.", "attn.proj.")
                r = p + rest
            out[r] = t
        elif k.startswith("qformer."):
            r = k[len("qformer."):].replace("embeddings.layernorm.", "embeddings.LayerNorm.").replace("attention.attention.", "attention.self.")
            out["Qformer.bert." + r] = t
        elif k.startswith("language_projection."):
            out["llm_proj." + k[len("language_projection."):]] = t
        elif k.startswith("language_model."):
            out["llm_model." + k[len("language_model."):]] = t
        else:
            out[k] = t  # query_tokens
    out["Qformer.bert.embeddings.position_ids"] = torch.arange(QFORMER["max_position_embeddings"])[None]
    hd = TEXT["head_dim"]
    for l in range(TEXT["num_hidden_layers"]):
        out[f"llm_model.model.layers.{l}.self_attn.rotary_emb.inv_freq"] = 1.0 / (TEXT["rope_theta"] ** (torch.arange(0, hd, 2).float() / hd))
    return out


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    W = build(SEED)
    g = torch.Generator().manual_seed(SEED + 1)
    S = VISION["image_size"]
    pixels = torch.randn(1, 3, S, S, generator=g)
    rng = np.random.RandomState(SEED)
    qids = [101] + [int(x) for x in rng.randint(104, len(QVOCAB), size=6)] + [102]
    prompt = [2] + [int(x) for x in rng.randint(3, 512, size=7)]
    rec, meta = {}, {"seed": SEED, "torch": torch.__version__, "queries": QUERIES}
    with torch.no_grad():
        image = vision_forward(W, pixels, rec)
        hidden = qformer_forward(W, torch.tensor([qids]), image, rec)
        query_output = linear(hidden[:, :QUERIES], W, "language_projection")
        rec["query_output"] = query_output[0]
        attn = []
        logits = lm_logits(W, query_output, prompt, attn)
        rec["logits"] = logits
        for l, a in enumerate(attn):
            rec[f"attn.{l}"] = a[0]
        seq, gaps = list(prompt), []
        for _ in range(GREEDY):
            l = lm_logits(W, query_output, seq)[-1]
            top2 = torch.topk(l, 2).values
            gaps.append(float(top2[0] - top2[1]))
            seq.append(int(torch.argmax(l)))
    ref = {k: (t[0] if k.startswith("qformer.self.") or k.startswith("qformer.cross.") else t).contiguous().numpy() for k, t in rec.items()}
    vicrop(W, pixels, rng, ref, meta)
    two_images(W, pixels, rng, ref, meta)
    avc(W, pixels, qids, prompt, ref, meta)
    vcd(W, pixels, qids, prompt, ref, meta)
    ref["pixels"] = pixels.numpy()
    ref["qformer_ids"] = np.array(qids, dtype=np.int32)
    ref["prompt_ids"] = np.array(prompt, dtype=np.int32)
    ref["greedy_ids"] = np.array(seq[len(prompt):], dtype=np.int32)
    meta.update({"min_greedy_top2_gap": min(gaps), "qformer_ids": qids, "prompt_ids": prompt, "greedy_ids": seq[len(prompt):]})
    print("greedy", seq[len(prompt):], "min gap", min(gaps))

    text_cfg = {k: t for k, t in TEXT.items() if k != "head_dim"}
    text_cfg.update({"model_type": "llama", "hidden_act": "silu", "bos_token_id": 1, "eos_token_id": 2, "pad_token_id": 512})
    config = {"architectures": ["InstructBlipForConditionalGeneration"], "model_type": "instructblip", "torch_dtype": "float32",
              "num_query_tokens": QUERIES, "use_decoder_only_language_model": True, "initializer_factor": 1.0,
              "initializer_range": 0.02, "vision_config": VISION, "qformer_config": QFORMER, "text_config": text_cfg}
    (OUT / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    pre = {"do_resize": True, "size": {"height": S, "width": S}, "resample": 3, "do_rescale": True, "rescale_factor": 1 / 255,
           "do_normalize": True, "image_mean": CLIP_MEAN, "image_std": CLIP_STD, "do_convert_rgb": True,
           "image_processor_type": "BlipImageProcessor", "processor_class": "InstructBlipProcessor"}
    (OUT / "preprocessor_config.json").write_text(json.dumps(pre, indent=2) + "\n")
    tok = REPO / ".." / "shared" / "data" / "tokenizers" / "stories260k" / "tok512.bin"
    shutil.copyfile(tok, OUT / "tokenizer.bin")
    (OUT / "qformer_tokenizer").mkdir(exist_ok=True)
    (OUT / "qformer_tokenizer" / "vocab.txt").write_text("\n".join(QVOCAB) + "\n")
    llama.write_safetensors(OUT / "model.safetensors", {k: t.contiguous().numpy() for k, t in W.items()})
    lavis = OUT.parent / "tiny-lavis"
    lavis.mkdir(exist_ok=True)
    torch.save({"model": {k: t.contiguous().clone() for k, t in lavis_names(W).items()}}, lavis / "instruct_blip_vicuna7b.pth")
    shutil.copyfile(OUT / "config.json", lavis / "config.json")
    llama.write_safetensors(OUT / "reference.safetensors", ref)
    (OUT / "reference.json").write_text(json.dumps(meta, indent=2) + "\n")


if __name__ == "__main__":
    main()
