#!/usr/bin/python3
"""Reference outputs of a tiny random LLaVA-1.5 for fovea's llm tests.

Run with Debian's interpreter (python3-torch, numpy, PIL; no transformers):

    /usr/bin/python3 tools/reference/llava/make_llava_reference.py llm/src/test/resources/llava-reference

The forward is Hugging Face's LlavaForConditionalGeneration (transformers src/transformers/models/llava/
modeling_llava.py, spec models-formats.md section 2.3) in plain float32 torch, built from the two other
generators: the CLIP vision tower of tools/reference/clip/make_clip_reference.py (vision_forward) and the
LLaMA decoder of tools/reference/llama/make_llama_reference.py (forward), both imported.

  1. vision tower on pixels [1, 3, S, S]; features = hidden_states[vision_feature_layer] (no post_layernorm)
  2. "default" strategy: drop the CLS row -> [N, Dv]
  3. projector linear_2(gelu(linear_1(x))) (exact erf GELU) -> [N, C]
  4. the prompt ids carry N copies of image_token_index per image (the HF processor's expansion); embed
     every id, then overwrite the image rows with the features in order (masked_scatter)
  5. LLaMA decoder over the merged embeddings, positions 0..L-1.

It writes one HF folder "tiny" in the OLD llava-hf naming (language_model.model.*, language_model.lm_head.*,
vision_tower.vision_model.*, multi_modal_projector.*), config.json with vision_config/text_config,
preprocessor_config.json, tokenizer.bin (llama2.c stories260k tok512, copied from ../shared) with the
added tokens of a llava-hf folder (tokenizer_config.json's added_tokens_decoder and added_tokens.json:
<image> = 512, <pad> = 513), and reference.safetensors:

  one.prompt_ids      I32 [T0]          prompt with ONE image marker per image (fovea's input form)
  one.pixels          F32 [1, 3, S, S]  the image (random, already normalized)
  one.features        F32 [N, C]        projected image features
  one.logits          F32 [L, V]        logits at every position of the merged sequence
  one.attn.{l}        F32 [H, L, L]     decoder attention probabilities of every layer
  one.greedy_ids      I32 [G]           greedy continuation
  one.grad_pixels     F32 [1, 3, S, S]  d log p(top next token) / d pixels
  two.*               the same (no grad) for a prompt with two images, pixels [2, 3, S, S]
  reference.json      image spans, sizes, min greedy top-1/top-2 gap

The same weights are also written in the ORIGINAL haotian-liu layout (liuhaotian/llava-v1.5-7b, spec
models-formats.md 2.6), so the same reference outputs check fovea's reader of that layout:

  tiny-original/       config.json with the LLaMA keys at the top level and the mm_* keys
                       (mm_vision_tower names a hub id, "openai/clip-vit-tiny-reference"), two .bin shards
                       with pytorch_model.bin.index.json, names model.* / lm_head.* / model.mm_projector.{0,2}.*
                       plus the rotary inv_freq buffers that checkpoints of that era carry, tokenizer.bin
  tiny-original-clip/  the vision tower as a full CLIP folder (CLIPConfig, vision_model.* and text_model.*
                       weights, CLIPImageProcessor preprocessor_config.json), as openai/clip-vit-* ship
"""
import json
import os
import shutil
import sys
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "clip"))
sys.path.insert(0, str(HERE.parent / "llama"))
import make_clip_reference as clip  # noqa: E402
import make_llama_reference as llama  # noqa: E402

torch.set_num_threads(1)

VISION = {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 3, "num_attention_heads": 2, "num_channels": 3,
          "image_size": 28, "patch_size": 14, "hidden_act": "quick_gelu", "layer_norm_eps": 1e-5, "projection_dim": 32,
          "model_type": "clip_vision_model"}
TEXT = {"vocab_size": 576, "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4,
        "num_key_value_heads": 2, "head_dim": 16, "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "rope_scaling": None,
        "max_position_embeddings": 128, "tie_word_embeddings": False}
IMAGE_TOKEN = 512
PAD_TOKEN = 513
FEATURE_LAYER = -2
GREEDY = 24


def build(seed):
    g = torch.Generator().manual_seed(seed)
    W = {}
    vp = clip.make_params({"vision_config": VISION, "text_config": dict(VISION, vocab_size=8, max_position_embeddings=4),
                           "projection_dim": 32}, seed)
    for k, v in vp.items():
        if k.startswith("vision_model."):
            W["vision_tower." + k] = v
    Dv, C = VISION["hidden_size"], TEXT["hidden_size"]
    W["multi_modal_projector.linear_1.weight"] = torch.randn(C, Dv, generator=g) / Dv ** 0.5
    W["multi_modal_projector.linear_1.bias"] = 0.1 * torch.randn(C, generator=g)
    W["multi_modal_projector.linear_2.weight"] = torch.randn(C, C, generator=g) / C ** 0.5
    W["multi_modal_projector.linear_2.bias"] = 0.1 * torch.randn(C, generator=g)
    for k, v in llama.build(TEXT, seed + 7).items():
        W[("language_model." + k)] = v
    return W


def sub(W, prefix):
    return {k[len(prefix):]: v for k, v in W.items() if k.startswith(prefix)}


def image_features(W, pixels):
    rec = {}
    clip.vision_forward(sub(W, "vision_tower."), VISION, pixels, rec)
    idx = FEATURE_LAYER % (VISION["num_hidden_layers"] + 1)
    f = rec[f"vision.hidden_states.{idx}"][:, 1:]  # "default": drop CLS
    f = torch.nn.functional.linear(f, W["multi_modal_projector.linear_1.weight"], W["multi_modal_projector.linear_1.bias"])
    f = torch.nn.functional.gelu(f)
    f = torch.nn.functional.linear(f, W["multi_modal_projector.linear_2.weight"], W["multi_modal_projector.linear_2.bias"])
    return f.reshape(-1, f.shape[-1])  # [images * N, C]


def expand(prompt, n):
    out = []
    for t in prompt:
        out.extend([t] * n if t == IMAGE_TOKEN else [t])
    return out


def lm_logits(W, ids, feats, attn=None):
    lm = sub(W, "language_model.")
    e = lm["model.embed_tokens.weight"][torch.tensor(ids)].clone()
    mask = torch.tensor(ids) == IMAGE_TOKEN
    assert int(mask.sum()) == feats.shape[0]
    e = e.masked_scatter(mask[:, None].expand_as(e), feats)
    return llama.forward(lm, TEXT, e[None], attn)[0]


def case(W, ref, meta, tag, prompt, pixels, grad):
    n = (VISION["image_size"] // VISION["patch_size"]) ** 2
    ids = expand(prompt, n)
    spans, i = [], 0
    while i < len(ids):
        if ids[i] == IMAGE_TOKEN:
            spans.append([i, i + n])
            i += n
        else:
            i += 1
    ref[f"{tag}.prompt_ids"] = np.array(prompt, dtype=np.int32)
    ref[f"{tag}.pixels"] = pixels.numpy()
    with torch.no_grad():
        feats = image_features(W, pixels)
        ref[f"{tag}.features"] = feats.numpy()
        attn = []
        logits = lm_logits(W, ids, feats, attn)
        ref[f"{tag}.logits"] = logits.numpy()
        for l, a in enumerate(attn):
            ref[f"{tag}.attn.{l}"] = a[0].numpy()
        seq, gaps = list(ids), []
        for _ in range(GREEDY):
            l = lm_logits(W, seq, feats)[-1]
            top2 = torch.topk(l, 2).values
            gaps.append(float(top2[0] - top2[1]))
            seq.append(int(torch.argmax(l)))
        ref[f"{tag}.greedy_ids"] = np.array(seq[len(ids):], dtype=np.int32)
    if grad:
        px = pixels.clone().requires_grad_(True)
        lp = torch.log_softmax(lm_logits(W, ids, image_features(W, px))[-1], dim=-1)
        lp[int(torch.argmax(lp))].backward()
        ref[f"{tag}.grad_pixels"] = px.grad.numpy()
    meta[tag] = {"image_spans": spans, "length": len(ids), "min_greedy_top2_gap": min(gaps)}
    print(tag, "length", len(ids), "spans", spans, "greedy", ref[f"{tag}.greedy_ids"].tolist(), "min gap", min(gaps))


def main():
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "llm/src/test/resources/llava-reference") / "tiny"
    out.mkdir(parents=True, exist_ok=True)
    seed = 2024
    W = build(seed)
    text_cfg = {k: v for k, v in TEXT.items() if k != "head_dim"}
    text_cfg.update({"model_type": "llama", "hidden_act": "silu", "bos_token_id": 1, "eos_token_id": 2, "pad_token_id": PAD_TOKEN})
    config = {"architectures": ["LlavaForConditionalGeneration"], "model_type": "llava", "torch_dtype": "float32",
              "image_token_index": IMAGE_TOKEN, "pad_token_id": PAD_TOKEN, "projector_hidden_act": "gelu",
              "vision_feature_layer": FEATURE_LAYER, "vision_feature_select_strategy": "default",
              "image_seq_length": (VISION["image_size"] // VISION["patch_size"]) ** 2, "multimodal_projector_bias": True,
              "tie_word_embeddings": False, "vision_config": VISION, "text_config": text_cfg}
    (out / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    S = VISION["image_size"]
    pre = {"do_resize": True, "size": {"shortest_edge": S}, "resample": 3, "do_center_crop": True,
           "crop_size": {"height": S, "width": S}, "do_rescale": True, "rescale_factor": 1 / 255, "do_normalize": True,
           "image_mean": clip.CLIP_MEAN, "image_std": clip.CLIP_STD, "do_convert_rgb": True,
           "image_processor_type": "CLIPImageProcessor", "processor_class": "LlavaProcessor"}
    (out / "preprocessor_config.json").write_text(json.dumps(pre, indent=2) + "\n")
    tok = HERE.parents[2] / ".." / "shared" / "data" / "tokenizers" / "stories260k" / "tok512.bin"
    shutil.copyfile(tok, out / "tokenizer.bin")
    # the added tokens a llava-hf folder declares beside its tokenizer (<image>, <pad>)
    added = {str(i): {"content": c, "lstrip": False, "normalized": False, "rstrip": False, "single_word": False, "special": True}
             for i, c in ((IMAGE_TOKEN, "<image>"), (PAD_TOKEN, "<pad>"))}
    (out / "tokenizer_config.json").write_text(json.dumps(
        {"added_tokens_decoder": added, "add_bos_token": True, "add_eos_token": False, "legacy": True, "pad_token": "<pad>",
         "processor_class": "LlavaProcessor", "tokenizer_class": "LlamaTokenizer"}, indent=2) + "\n")
    (out / "added_tokens.json").write_text(json.dumps({"<image>": IMAGE_TOKEN, "<pad>": PAD_TOKEN}, indent=2) + "\n")
    llama.write_safetensors(out / "model.safetensors", {k: v.contiguous().numpy() for k, v in W.items()})

    rng = np.random.RandomState(seed)
    g = torch.Generator().manual_seed(seed + 1)
    ref, meta = {}, {"seed": seed, "torch": torch.__version__, "image_token_index": IMAGE_TOKEN}
    p1 = [1] + list(rng.randint(3, 512, size=4)) + [IMAGE_TOKEN] + list(rng.randint(3, 512, size=6))
    case(W, ref, meta, "one", [int(x) for x in p1], torch.randn(1, 3, S, S, generator=g), grad=True)
    p2 = [1] + list(rng.randint(3, 512, size=3)) + [IMAGE_TOKEN] + list(rng.randint(3, 512, size=2)) + [IMAGE_TOKEN] + \
        list(rng.randint(3, 512, size=5))
    case(W, ref, meta, "two", [int(x) for x in p2], torch.randn(2, 3, S, S, generator=g), grad=False)
    llama.write_safetensors(out / "reference.safetensors", ref)
    (out / "reference.json").write_text(json.dumps(meta, indent=2) + "\n")
    write_original(out.parent, W, text_cfg, pre, tok, seed)


ORIGINAL_TOWER = "openai/clip-vit-tiny-reference"


def write_original(root, W, text_cfg, pre, tok, seed):
    """The original-layout folders (renames of convert_llava_weights_to_hf.py, applied in reverse)."""
    out = root / "tiny-original"
    tower = root / "tiny-original-clip"
    for d in (out, tower):
        d.mkdir(parents=True, exist_ok=True)
        for old in d.iterdir():
            old.unlink()
    orig = {}
    for k, v in W.items():
        if k.startswith("language_model."):
            orig[k[len("language_model."):]] = v  # model.* and lm_head.*
        elif k.startswith("multi_modal_projector.linear_1."):
            orig["model.mm_projector.0." + k.rsplit(".", 1)[1]] = v
        elif k.startswith("multi_modal_projector.linear_2."):
            orig["model.mm_projector.2." + k.rsplit(".", 1)[1]] = v
    head = TEXT["head_dim"]
    inv = 1.0 / (TEXT["rope_theta"] ** (torch.arange(0, head, 2, dtype=torch.float32) / head))
    for l in range(TEXT["num_hidden_layers"]):
        orig[f"model.layers.{l}.self_attn.rotary_emb.inv_freq"] = inv
    names = sorted(orig)
    shards = [names[: len(names) // 2], names[len(names) // 2:]]
    weight_map, total = {}, 0
    for i, part in enumerate(shards):
        fname = f"pytorch_model-{i + 1:05d}-of-{len(shards):05d}.bin"
        torch.save({k: orig[k].clone().contiguous() for k in part}, out / fname)
        for k in part:
            weight_map[k] = fname
            total += orig[k].numel() * 4
    (out / "pytorch_model.bin.index.json").write_text(
        json.dumps({"metadata": {"total_size": total}, "weight_map": weight_map}, indent=2) + "\n")
    config = {k: v for k, v in text_cfg.items() if k != "model_type"}
    config.update({"_name_or_path": "tiny-original", "architectures": ["LlavaLlamaForCausalLM"], "model_type": "llava",
                   "torch_dtype": "float32", "pad_token_id": 0, "mm_vision_tower": ORIGINAL_TOWER,
                   "mm_hidden_size": VISION["hidden_size"], "mm_projector_type": "mlp2x_gelu",
                   "mm_vision_select_layer": FEATURE_LAYER, "mm_vision_select_feature": "patch",
                   "image_aspect_ratio": "pad", "mm_use_im_start_end": False, "mm_use_im_patch_token": False,
                   "mm_patch_merge_type": "flat", "freeze_mm_mlp_adapter": False, "tune_mm_mlp_adapter": False,
                   "tokenizer_model_max_length": 2048, "tokenizer_padding_side": "right", "use_cache": True})
    (out / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    shutil.copyfile(tok, out / "tokenizer.bin")
    # the tower: every CLIP parameter (text tower too, as a full openai/clip-vit-* checkpoint carries)
    vp = clip.make_params({"vision_config": VISION, "text_config": dict(VISION, vocab_size=8, max_position_embeddings=4),
                           "projection_dim": 32}, seed)
    for k, v in vp.items():
        if k.startswith("vision_model."):
            assert torch.equal(v, W["vision_tower." + k]), k
    text = dict(VISION, vocab_size=8, max_position_embeddings=4, model_type="clip_text_model")
    del text["image_size"], text["patch_size"], text["num_channels"]
    clip_cfg = {"architectures": ["CLIPModel"], "model_type": "clip", "projection_dim": 32, "logit_scale_init_value": 2.6592,
                "vision_config": VISION, "text_config": text}
    clip_pre = {k: v for k, v in pre.items() if k != "processor_class"}
    clip.write_model_folder(str(tower), clip_cfg, {k: v.contiguous() for k, v in vp.items()}, "safetensors", clip_pre)
    print("original layout:", out, tower, len(orig), "tensors in", len(shards), "shards")


if __name__ == "__main__":
    main()
