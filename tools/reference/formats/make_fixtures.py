#!/usr/bin/python3
"""Writes the small weight-file fixtures of tensor/src/test/resources/formats/.

Run with Debian's interpreter (it sees python3-torch and python3-numpy):

    /usr/bin/python3 tools/reference/formats/make_fixtures.py tensor/src/test/resources/formats

Every fixture FOO comes with FOO.expected.json: for each tensor, the shape, the dtype the Java
reader exposes, and the values that reader must return -- float tensors as the raw bits of the
float32 values (so the comparison is bit-exact and NaN-safe), integer tensors as integers.

* safetensors: written by the tiny writer below (format: u64 LE header length, JSON, raw bytes),
  ordered like the reference writer (descending alignment, then name; header padded to 8 bytes).
* PyTorch .bin: torch.save (zip format), with views sharing a storage, non-contiguous and offset
  views, a Parameter, a Module state_dict (OrderedDict with _metadata), and a pickle that asks
  for os.system (which the reader must refuse).
* GGUF: an independent writer following ggml's docs/gguf.md with struct.pack; quantized blocks
  are random bytes with finite fp16 scales, and the expected values are dequantized here with
  numpy in float32 following ggml-quants.c (dequantize_row_*) operation by operation.
"""
import collections
import io
import json
import os
import struct
import sys
import zipfile

import warnings

import numpy as np
import torch

OUT = sys.argv[1] if len(sys.argv) > 1 else "tensor/src/test/resources/formats"
rng = np.random.default_rng(1234)
warnings.filterwarnings("ignore", "overflow encountered in cast")
torch.manual_seed(1234)


def f32_bits(a):
    return np.ascontiguousarray(np.asarray(a, dtype=np.float32)).reshape(-1).view(np.uint32).tolist()


def expect(shape, dtype, values, is_float):
    if not is_float:
        values = [int(v) for v in np.asarray(values).reshape(-1)]
    return {"shape": list(shape), "dtype": dtype, ("bits" if is_float else "ints"): values}


def write_json(name, obj):
    with open(os.path.join(OUT, name), "w") as f:
        json.dump(obj, f, indent=1, sort_keys=True)
        f.write("\n")


# ----------------------------------------------------------------------------------- safetensors

ST_SIZE = {"BOOL": 1, "U8": 1, "I8": 1, "I16": 2, "U16": 2, "F16": 2, "BF16": 2, "I32": 4, "U32": 4,
           "F32": 4, "F64": 8, "I64": 8}


def bf16_bytes(a32):
    """float32 -> bfloat16 bytes (round to nearest even), as torch does."""
    return torch.from_numpy(np.asarray(a32, dtype=np.float32)).bfloat16().view(torch.int16).numpy().tobytes()


def write_safetensors(path, tensors, metadata=None):
    """tensors: name -> (dtype string, shape, raw bytes)."""
    order = sorted(tensors, key=lambda n: (-ST_SIZE[tensors[n][0]], n))
    header = {}
    if metadata is not None:
        header["__metadata__"] = metadata
    off = 0
    for n in order:
        dt, shape, raw = tensors[n]
        header[n] = {"dtype": dt, "shape": list(shape), "data_offsets": [off, off + len(raw)]}
        off += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for n in order:
            f.write(tensors[n][2])


def st_basic():
    t, e = {}, {}
    a = rng.standard_normal((3, 5)).astype(np.float32)
    t["f32"] = ("F32", a.shape, a.tobytes()); e["f32"] = expect(a.shape, "F32", f32_bits(a), True)
    a = rng.standard_normal((2, 3)).astype(np.float16)
    t["f16"] = ("F16", a.shape, a.tobytes()); e["f16"] = expect(a.shape, "F16", f32_bits(a.astype(np.float32)), True)
    a = rng.standard_normal(7).astype(np.float32)
    raw = bf16_bytes(a)
    back = (np.frombuffer(raw, dtype=np.uint16).astype(np.uint32) << 16).view(np.float32)
    t["bf16"] = ("BF16", a.shape, raw); e["bf16"] = expect(a.shape, "BF16", f32_bits(back), True)
    a = rng.integers(-2**31, 2**31, size=(4,), dtype=np.int32)
    t["i32"] = ("I32", a.shape, a.tobytes()); e["i32"] = expect(a.shape, "I32", a.tolist(), False)
    a = rng.integers(-2**62, 2**62, size=(2, 2), dtype=np.int64)
    t["i64"] = ("I64", a.shape, a.tobytes()); e["i64"] = expect(a.shape, "I64", a.tolist(), False)
    a = np.array([0, 1, 128, 255, 7], dtype=np.uint8)
    t["u8"] = ("U8", a.shape, a.tobytes()); e["u8"] = expect(a.shape, "I32", a.tolist(), False)
    a = np.array([[True, False, True]], dtype=np.bool_)
    t["mask"] = ("BOOL", a.shape, a.tobytes()); e["mask"] = expect(a.shape, "I32", a.astype(int).tolist(), False)
    a = np.array([-128, 127, 0], dtype=np.int8)
    t["i8"] = ("I8", a.shape, a.tobytes()); e["i8"] = expect(a.shape, "I32", a.tolist(), False)
    a = np.array([-32768, 32767], dtype=np.int16)
    t["i16"] = ("I16", a.shape, a.tobytes()); e["i16"] = expect(a.shape, "I32", a.tolist(), False)
    a = np.array([65535, 1], dtype=np.uint16)
    t["u16"] = ("U16", a.shape, a.tobytes()); e["u16"] = expect(a.shape, "I32", a.tolist(), False)
    a = np.array([4294967295, 3], dtype=np.uint32)
    t["u32"] = ("U32", a.shape, a.tobytes()); e["u32"] = expect(a.shape, "I64", a.tolist(), False)
    a = np.array([1.0 / 3.0, -2.5e300], dtype=np.float64)  # the second rounds to -inf in float32
    t["f64"] = ("F64", a.shape, a.tobytes()); e["f64"] = expect(a.shape, "F32", f32_bits(a.astype(np.float32)), True)
    a = np.array(3.5, dtype=np.float32)
    t["scalar"] = ("F32", (), a.tobytes()); e["scalar"] = expect((), "F32", f32_bits(a), True)
    t["empty"] = ("F16", (0, 4), b""); e["empty"] = expect((0, 4), "F16", [], True)
    md = {"format": "pt", "note": "fovea fixture \u2713"}
    write_safetensors(os.path.join(OUT, "basic.safetensors"), t, md)
    write_json("basic.safetensors.expected.json", {"metadata": md, "tensors": e})


def st_sharded():
    d = os.path.join(OUT, "sharded")
    os.makedirs(d, exist_ok=True)
    names = ["model.embed_tokens.weight"]
    for i in range(2):
        for p in ["self_attn.q_proj", "self_attn.k_proj", "mlp.up_proj"]:
            names.append(f"model.layers.{i}.{p}.weight")
        names.append(f"model.layers.{i}.input_layernorm.weight")
    names += ["model.norm.weight", "lm_head.weight"]
    shards = [{}, {}, {}]
    weight_map, e, total = {}, {}, 0
    for k, n in enumerate(names):
        shape = (8,) if "norm" in n else (6, 8)
        a = rng.standard_normal(shape).astype(np.float32)
        dt = "F32"
        if "proj" in n:
            a = a.astype(np.float16)
            dt = "F16"
        s = min(k * 3 // len(names), 2)
        fn = f"model-{s + 1:05d}-of-00003.safetensors"
        shards[s][n] = (dt, a.shape, a.tobytes())
        weight_map[n] = fn
        total += a.nbytes
        e[n] = expect(shape, dt, f32_bits(a.astype(np.float32)), True)
    for s in range(3):
        write_safetensors(os.path.join(d, f"model-{s + 1:05d}-of-00003.safetensors"), shards[s], {"format": "pt"})
    with open(os.path.join(d, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2)
    write_json("sharded.expected.json", {"tensors": e})


# ------------------------------------------------------------------------------------ torch .bin

def torch_expect(t):
    t = t.detach()
    dt = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.float64: "F32",
          torch.int64: "I64", torch.int32: "I32", torch.int16: "I32", torch.int8: "I32", torch.uint8: "I32",
          torch.bool: "I32"}[t.dtype]
    if t.dtype.is_floating_point:
        return expect(t.shape, dt, f32_bits(t.float().numpy()), True)
    return expect(t.shape, dt, t.long().reshape(-1).tolist(), False)


def torch_bin():
    sd = collections.OrderedDict()
    sd["f32"] = torch.randn(3, 4)
    sd["f16"] = torch.randn(2, 3).half()
    sd["bf16"] = torch.randn(5).bfloat16()
    sd["f64"] = torch.randn(2, dtype=torch.float64)
    sd["i64"] = torch.arange(6).reshape(2, 3)
    sd["i32"] = torch.tensor([1, -2, 3], dtype=torch.int32)
    sd["i16"] = torch.tensor([-300, 300], dtype=torch.int16)
    sd["i8"] = torch.tensor([-128, 5], dtype=torch.int8)
    sd["u8"] = torch.tensor([0, 255, 7], dtype=torch.uint8)
    sd["bool"] = torch.tensor([True, False, True])
    base = torch.randn(4, 6)
    sd["base"] = base
    sd["transposed"] = base.t()             # non-contiguous view of base's storage
    sd["offset_view"] = base[1:3, 2:5]      # storage offset 8, strides (6, 1)
    sd["strided"] = base[::2, ::3]          # strides (12, 3)
    sd["param"] = torch.nn.Parameter(torch.randn(2, 2))
    sd["scalar"] = torch.tensor(2.5)
    sd["empty"] = torch.zeros(0, 3)
    h = torch.randn(4, 4).half()
    sd["half_t"] = h.t()
    torch.save(sd, os.path.join(OUT, "basic.bin"))
    write_json("basic.bin.expected.json", {"tensors": {k: torch_expect(v) for k, v in sd.items()}})

    lin = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.LayerNorm(2))
    st = lin.state_dict()
    torch.save(st, os.path.join(OUT, "module_state.bin"))
    write_json("module_state.bin.expected.json", {"tensors": {k: torch_expect(v) for k, v in st.items()}})

    # A zip shaped like torch's whose pickle asks for os.system: the reader must refuse it.
    evil = b"\x80\x02cos\nsystem\nq\x00X\x04\x00\x00\x00echoq\x01\x85q\x02Rq\x03."
    with zipfile.ZipFile(os.path.join(OUT, "foreign_global.bin"), "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", evil)
        z.writestr("archive/byteorder", "little")
        z.writestr("archive/version", "3\n")


# ------------------------------------------------------------------------------------------ GGUF

GT = dict(UINT8=0, INT8=1, UINT16=2, INT16=3, UINT32=4, INT32=5, FLOAT32=6, BOOL=7, STRING=8, ARRAY=9,
          UINT64=10, INT64=11, FLOAT64=12)
PACK = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}
GGML = dict(F32=(0, 1, 4), F16=(1, 1, 2), Q4_0=(2, 32, 18), Q4_1=(3, 32, 20), Q5_0=(6, 32, 22),
            Q5_1=(7, 32, 24), Q8_0=(8, 32, 34), Q4_K=(12, 256, 144), Q5_K=(13, 256, 176),
            Q6_K=(14, 256, 210), BF16=(30, 1, 2))


def gstr(s):
    b = s.encode("utf-8")
    return struct.pack("<Q", len(b)) + b


def gval(t, v):
    if t == GT["STRING"]:
        return gstr(v)
    if t == GT["ARRAY"]:
        et, items = v
        return struct.pack("<IQ", et, len(items)) + b"".join(gval(et, x) for x in items)
    return struct.pack(PACK[t], v)


def write_gguf(path, kvs, tensors, version=3, alignment=32):
    """kvs: list of (key, type, value); tensors: list of (name, ggml type name, torch shape, bytes)."""
    out = io.BytesIO()
    out.write(b"GGUF" + struct.pack("<IQQ", version, len(tensors), len(kvs)))
    for k, t, v in kvs:
        out.write(gstr(k) + struct.pack("<I", t) + gval(t, v))
    off = 0
    offsets = []
    for name, tn, shape, raw in tensors:
        ne = list(reversed(shape))
        out.write(gstr(name) + struct.pack("<I", len(ne)) + b"".join(struct.pack("<Q", n) for n in ne))
        out.write(struct.pack("<IQ", GGML[tn][0], off))
        offsets.append(off)
        off += len(raw) + (-len(raw)) % alignment
    out.write(b"\x00" * ((-out.tell()) % alignment))
    for _, _, _, raw in tensors:
        out.write(raw + b"\x00" * ((-len(raw)) % alignment))
    with open(path, "wb") as f:
        f.write(out.getvalue())


def f16_scales(n, lo=-1.0, hi=1.0):
    return rng.uniform(lo, hi, n).astype(np.float16)


def rand_u8(*shape):
    return rng.integers(0, 256, size=shape, dtype=np.uint8)


def q8_0(nb):
    d = f16_scales(nb); q = rng.integers(-128, 128, size=(nb, 32), dtype=np.int8)
    raw = b"".join(d[i].tobytes() + q[i].tobytes() for i in range(nb))
    y = q.astype(np.float32) * d.astype(np.float32)[:, None]
    return raw, y.reshape(-1)


def q4_0(nb):
    d = f16_scales(nb); qs = rand_u8(nb, 16)
    raw = b"".join(d[i].tobytes() + qs[i].tobytes() for i in range(nb))
    x0 = (qs & 0xF).astype(np.int32) - 8; x1 = (qs >> 4).astype(np.int32) - 8
    df = d.astype(np.float32)[:, None]
    y = np.concatenate([x0.astype(np.float32) * df, x1.astype(np.float32) * df], axis=1)
    return raw, y.reshape(-1)


def q4_1(nb):
    d = f16_scales(nb); m = f16_scales(nb); qs = rand_u8(nb, 16)
    raw = b"".join(d[i].tobytes() + m[i].tobytes() + qs[i].tobytes() for i in range(nb))
    df = d.astype(np.float32)[:, None]; mf = m.astype(np.float32)[:, None]
    x0 = (qs & 0xF).astype(np.float32); x1 = (qs >> 4).astype(np.float32)
    y = np.concatenate([x0 * df + mf, x1 * df + mf], axis=1)
    return raw, y.reshape(-1)


def q5(nb, with_min):
    d = f16_scales(nb); m = f16_scales(nb); qs = rand_u8(nb, 16)
    qh = rng.integers(0, 2**32, size=nb, dtype=np.uint64).astype(np.uint32)
    raw = b"".join(d[i].tobytes() + (m[i].tobytes() if with_min else b"") + struct.pack("<I", int(qh[i])) + qs[i].tobytes()
                   for i in range(nb))
    y = np.zeros((nb, 32), dtype=np.float32)
    for i in range(nb):
        h = int(qh[i])
        for j in range(16):
            xh0 = ((h >> j) << 4) & 0x10
            xh1 = (h >> (j + 12)) & 0x10
            x0 = (int(qs[i, j]) & 0xF) | xh0
            x1 = (int(qs[i, j]) >> 4) | xh1
            if with_min:
                y[i, j] = np.float32(x0) * np.float32(d[i]) + np.float32(m[i])
                y[i, j + 16] = np.float32(x1) * np.float32(d[i]) + np.float32(m[i])
            else:
                y[i, j] = np.float32(x0 - 16) * np.float32(d[i])
                y[i, j + 16] = np.float32(x1 - 16) * np.float32(d[i])
    return raw, y.reshape(-1)


def scale_min_k4(j, q):
    if j < 4:
        return q[j] & 63, q[j + 4] & 63
    return (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4), (q[j + 4] >> 4) | ((q[j] >> 6) << 4)


def qk(nb, five):
    d = f16_scales(nb, 0.0, 0.1); dmin = f16_scales(nb, 0.0, 0.1)
    raw, ys = b"", []
    for i in range(nb):
        sc = [int(x) for x in rand_u8(12)]
        qh = [int(x) for x in rand_u8(32)]
        qs = [int(x) for x in rand_u8(128)]
        raw += d[i].tobytes() + dmin[i].tobytes() + bytes(sc) + (bytes(qh) if five else b"") + bytes(qs)
        df, mf = np.float32(d[i]), np.float32(dmin[i])
        y, ql, is_, u1, u2 = [], 0, 0, 1, 2
        for j in range(0, 256, 64):
            s, mm = scale_min_k4(is_ + 0, sc); d1 = df * np.float32(s); m1 = mf * np.float32(mm)
            s, mm = scale_min_k4(is_ + 1, sc); d2 = df * np.float32(s); m2 = mf * np.float32(mm)
            for l in range(32):
                q = (qs[ql + l] & 0xF) + ((16 if qh[l] & u1 else 0) if five else 0)
                y.append(d1 * np.float32(q) - m1)
            for l in range(32):
                q = (qs[ql + l] >> 4) + ((16 if qh[l] & u2 else 0) if five else 0)
                y.append(d2 * np.float32(q) - m2)
            ql += 32; is_ += 2; u1 <<= 2; u2 <<= 2
        ys.append(np.array(y, dtype=np.float32))
    return raw, np.concatenate(ys)


def q6_k(nb):
    raw, ys = b"", []
    for i in range(nb):
        ql = [int(x) for x in rand_u8(128)]
        qh = [int(x) for x in rand_u8(64)]
        sc = rng.integers(-128, 128, size=16, dtype=np.int8)
        d = f16_scales(1, -0.1, 0.1)[0]
        raw += bytes(ql) + bytes(qh) + sc.tobytes() + d.tobytes()
        df = np.float32(d)
        y = np.zeros(256, dtype=np.float32)
        for n in range(2):
            L, H, S, Y = 64 * n, 32 * n, 8 * n, 128 * n
            for l in range(32):
                is_ = l // 16
                q1 = ((ql[L + l] & 0xF) | (((qh[H + l] >> 0) & 3) << 4)) - 32
                q2 = ((ql[L + l + 32] & 0xF) | (((qh[H + l] >> 2) & 3) << 4)) - 32
                q3 = ((ql[L + l] >> 4) | (((qh[H + l] >> 4) & 3) << 4)) - 32
                q4 = ((ql[L + l + 32] >> 4) | (((qh[H + l] >> 6) & 3) << 4)) - 32
                y[Y + l] = df * np.float32(sc[S + is_]) * np.float32(q1)
                y[Y + l + 32] = df * np.float32(sc[S + is_ + 2]) * np.float32(q2)
                y[Y + l + 64] = df * np.float32(sc[S + is_ + 4]) * np.float32(q3)
                y[Y + l + 96] = df * np.float32(sc[S + is_ + 6]) * np.float32(q4)
        ys.append(y)
    return raw, np.concatenate(ys)


def llama_permute(w, n_head):
    """llama.cpp convert_hf_to_gguf.py LlamaModel.permute: HF half-split rows -> GGUF interleaved rows."""
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def gguf_fixtures():
    hd, n_head, n_kv, dim = 4, 2, 1, 8
    kvs = [
        ("general.architecture", GT["STRING"], "llama"),
        ("general.alignment", GT["UINT32"], 64),
        ("general.name", GT["STRING"], "fovea tiny \u2713"),
        ("llama.context_length", GT["UINT32"], 64),
        ("llama.embedding_length", GT["UINT32"], dim),
        ("llama.block_count", GT["UINT32"], 1),
        ("llama.feed_forward_length", GT["UINT32"], 16),
        ("llama.rope.dimension_count", GT["UINT32"], hd),
        ("llama.attention.head_count", GT["UINT32"], n_head),
        ("llama.attention.head_count_kv", GT["UINT32"], n_kv),
        ("llama.attention.layer_norm_rms_epsilon", GT["FLOAT32"], 1e-5),
        ("tokenizer.ggml.model", GT["STRING"], "llama"),
        ("tokenizer.ggml.tokens", GT["ARRAY"], (GT["STRING"], ["<unk>", "<s>", "</s>", "\u2581a"])),
        ("tokenizer.ggml.scores", GT["ARRAY"], (GT["FLOAT32"], [0.0, 0.0, 0.0, -1.5])),
        ("tokenizer.ggml.token_type", GT["ARRAY"], (GT["INT32"], [2, 3, 3, 1])),
        ("tokenizer.ggml.bos_token_id", GT["UINT32"], 1),
        ("tokenizer.ggml.eos_token_id", GT["UINT32"], 2),
        ("tokenizer.ggml.add_bos_token", GT["BOOL"], True),
        ("test.u8", GT["UINT8"], 200), ("test.i8", GT["INT8"], -5), ("test.u16", GT["UINT16"], 60000),
        ("test.i16", GT["INT16"], -30000), ("test.u32", GT["UINT32"], 4000000000),
        ("test.i32", GT["INT32"], -2000000000), ("test.f32", GT["FLOAT32"], 1.5), ("test.bool", GT["BOOL"], False),
        ("test.u64", GT["UINT64"], 2**63 + 5), ("test.i64", GT["INT64"], -2**40), ("test.f64", GT["FLOAT64"], 3.25e100),
        ("test.nested", GT["ARRAY"], (GT["ARRAY"], [(GT["UINT8"], [1, 2]), (GT["STRING"], ["x"]), (GT["INT64"], [])])),
        ("test.empty", GT["ARRAY"], (GT["FLOAT32"], [])),
        ("test.bools", GT["ARRAY"], (GT["BOOL"], [True, False])),
    ]
    tensors, e = [], {}

    def add(name, tn, shape, raw, values):
        tensors.append((name, tn, shape, raw))
        e[name] = expect(shape, {"F32": "F32", "F16": "F16", "BF16": "BF16", "Q8_0": "Q8_0", "Q4_0": "Q4_0"}.get(tn, "F32"),
                         f32_bits(values), True)

    a = rng.standard_normal((4, dim)).astype(np.float32)
    add("token_embd.weight", "F32", a.shape, a.tobytes(), a)
    q_hf = rng.standard_normal((n_head * hd, dim)).astype(np.float32)
    q_gguf = llama_permute(q_hf, n_head)
    add("blk.0.attn_q.weight", "F32", q_gguf.shape, q_gguf.tobytes(), q_gguf)
    k_hf = rng.standard_normal((n_kv * hd, dim)).astype(np.float16)
    k_gguf = llama_permute(k_hf, n_kv)
    add("blk.0.attn_k.weight", "F16", k_gguf.shape, k_gguf.tobytes(), k_gguf.astype(np.float32))
    a = rng.standard_normal((n_kv * hd, dim)).astype(np.float32)
    raw = bf16_bytes(a)
    back = (np.frombuffer(raw, dtype=np.uint16).astype(np.uint32) << 16).view(np.float32).reshape(a.shape)
    add("blk.0.attn_v.weight", "BF16", a.shape, raw, back)
    a = rng.standard_normal(dim).astype(np.float32)
    add("blk.0.attn_norm.weight", "F32", a.shape, a.tobytes(), a)
    raw, y = q8_0(4); add("blk.0.ffn_gate.weight", "Q8_0", (2, 64), raw, y)
    raw, y = q4_0(3); add("blk.0.ffn_up.weight", "Q4_0", (3, 32), raw, y)
    raw, y = q4_1(2); add("t.q4_1", "Q4_1", (2, 32), raw, y)
    raw, y = q5(4, False); add("t.q5_0", "Q5_0", (2, 64), raw, y)
    raw, y = q5(1, True); add("t.q5_1", "Q5_1", (1, 32), raw, y)
    raw, y = qk(2, False); add("t.q4_k", "Q4_K", (2, 256), raw, y)
    raw, y = qk(1, True); add("t.q5_k", "Q5_K", (1, 256), raw, y)
    raw, y = q6_k(2); add("t.q6_k", "Q6_K", (2, 256), raw, y)
    write_gguf(os.path.join(OUT, "tiny.gguf"), kvs, tensors, version=3, alignment=64)
    hf = {"model.layers.0.self_attn.q_proj.weight": expect(q_hf.shape, "F32", f32_bits(q_hf), True),
          "model.layers.0.self_attn.k_proj.weight": expect(k_hf.shape, "F16", f32_bits(k_hf.astype(np.float32)), True)}
    write_json("tiny.gguf.expected.json", {"tensors": e, "huggingface": hf})

    # GGUF v2 (same layout as v3), default alignment 32, no general.alignment key.
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    write_gguf(os.path.join(OUT, "v2.gguf"), [("general.architecture", GT["STRING"], "llama")],
               [("w", "F32", a.shape, a.tobytes())], version=2)
    write_json("v2.gguf.expected.json", {"tensors": {"w": expect(a.shape, "F32", f32_bits(a), True)}})


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    st_basic()
    st_sharded()
    torch_bin()
    gguf_fixtures()
    print("fixtures written to", OUT)
