#!/usr/bin/python3
"""Reference training runs for fovea's training library (nn/src/main/java/dev/fovea/nn/train).

Run with Debian's interpreter (python3-torch 1.13, numpy; transformers is not installed):

    /usr/bin/python3 tools/reference/train/make_train_reference.py nn/src/test/resources/train-reference

Everything is plain float32 torch on one thread:

  schedule  transformers' get_cosine_schedule_with_warmup and get_cosine_with_min_lr_schedule_with_warmup
            (optimization.py), written out below since transformers is not installed:
              s < warmup:  s / max(1, warmup)
              else:        p = (s - warmup) / max(1, total - warmup)
                           f = 0.5 (1 + cos(pi * 2 * 0.5 * p)); f = f (1 - min_rate) + min_rate; max(0, f)
            used through torch.optim.lr_scheduler.LambdaLR, so optimizer step k (1-based) runs at
            base_lr * f(k - 1): the first step of a warm-up runs at lr 0, as in the HF Trainer.
  clipping  torch.nn.utils.clip_grad_norm_(params, max_norm) (2-norm over the parameters that have a
            gradient; returns the total norm before clipping; scales by max_norm / (total + 1e-6) when < 1)
  AdamW     torch.optim.AdamW (foreach=False, the 1.13 default on the CPU) with two parameter groups:
            weight decay for tensors of rank >= 2, none for biases and norm weights (rank < 2)

Case "optim": the optimizer alone on prescribed gradients. Six named tensors of assorted shapes,
N_OPT steps; each step's gradients are random with a scale that varies so clipping is active on some
steps only, and "embed.weight" gets no gradient (None) on steps 3, 8, 13, ... so AdamW skips it (its
own step count lags). Writes optim.init.<name>, optim.grad.<name> [N, ...] (before clipping),
optim.param.<name> [N, ...] (after each step), optim.exp_avg.<name>, optim.exp_avg_sq.<name>,
optim.step.<name> (final); reference.json's series: optim.lr [N] (each step's lr), optim.norm [N]
(each step's total norm).

Case "optim_noclip": the same start and gradients without clipping (optim_noclip.param/exp_avg/exp_avg_sq/
step.<name>): the gradients reach AdamW exactly as torch's, so the updates can be compared bit for bit.

Case "mlp": a small token classifier trained end to end, in HF state-dict names:
    embed.weight [V, C] -> norm (LayerNorm, eps 1e-5) -> fc1 [H, C] + bias -> GELU (erf) -> fc2 [V, H] + bias
trained with cross-entropy over targets where about a third are -100 (ignore_index), two micro-batches
per step (gradient accumulation: (loss / 2).backward() for each), N_MLP steps. Writes mlp.init.<name>,
mlp.final.<name>, mlp.ids / mlp.targets [N, 2, B, T] (I32); series mlp.loss [N] (the step's mean micro
loss), mlp.norm [N], mlp.lr [N].

Case "schedule": f(s) for s = 0..total+4 of both schedules (series schedule.cosine, schedule.cosine_min).

The hyperparameters and the series (float64, exact as JSON numbers) go to reference.json.
"""
import json
import math
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "llama"))
from make_llama_reference import write_safetensors  # noqa: E402  (F32/I32 safetensors writer)

torch.set_num_threads(1)

N_OPT = 40
OPT = dict(lr=3e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.1, warmup=6, total=40, min_lr_rate=0.1, max_norm=1.0)
N_MLP = 30
MLP = dict(lr=1e-2, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01, warmup=3, total=30, min_lr_rate=0.0, max_norm=1.0,
           vocab=12, dim=8, hidden=16, batch=4, seq=6, accumulation=2, layer_norm_eps=1e-5)
SCHED = dict(warmup=5, total=20, min_lr_rate=0.1)


def cosine_with_warmup(warmup, total, min_lr_rate=0.0, num_cycles=0.5):
    """transformers.get_cosine_with_min_lr_schedule_with_warmup's lambda (min_lr_rate 0: get_cosine_schedule_with_warmup)."""
    def f(s):
        if s < warmup:
            return float(s) / float(max(1, warmup))
        progress = float(s - warmup) / float(max(1, total - warmup))
        factor = 0.5 * (1.0 + math.cos(math.pi * float(num_cycles) * 2.0 * progress))
        factor = factor * (1 - min_lr_rate) + min_lr_rate
        return max(0.0, factor)
    return f


def groups(named, weight_decay):
    decay = [p for n, p in named if p.dim() >= 2]
    no_decay = [p for n, p in named if p.dim() < 2]
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def optimizer_case(out, series, prefix="optim", clip=True):
    g = torch.Generator().manual_seed(1234)
    shapes = {"layer.weight": (7, 5), "layer.bias": (7,), "norm.weight": (5,), "conv.weight": (3, 2, 2, 2),
              "embed.weight": (11, 4), "head.weight": (3, 7)}
    named = [(n, torch.randn(s, generator=g).requires_grad_()) for n, s in shapes.items()]
    for n, p in named:
        if clip:  # optim_noclip starts from the same values, with the same gradients
            out[prefix + ".init." + n] = p.detach().numpy().copy()
    opt = torch.optim.AdamW(groups(named, OPT["weight_decay"]), lr=OPT["lr"], betas=OPT["betas"], eps=OPT["eps"], foreach=False)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, cosine_with_warmup(OPT["warmup"], OPT["total"], OPT["min_lr_rate"]))
    grads = {n: [] for n, _ in named}
    params = {n: [] for n, _ in named}
    lrs, norms = [], []
    for step in range(N_OPT):
        scale = [0.02, 0.3, 1.5, 0.05][step % 4]
        for n, p in named:
            gr = torch.randn(p.shape, generator=g) * scale
            if n == "embed.weight" and step % 5 == 3:
                p.grad = None
                grads[n].append(np.full(p.shape, np.nan, dtype=np.float32))  # NaN marks "no gradient"
            else:
                p.grad = gr.clone()
                grads[n].append(gr.numpy().copy())
        lrs.append(opt.param_groups[0]["lr"])
        with_grad = [p for _, p in named if p.grad is not None]
        if clip:
            norms.append(float(torch.nn.utils.clip_grad_norm_(with_grad, OPT["max_norm"])))
        opt.step()
        sched.step()
        for n, p in named:
            params[n].append(p.detach().numpy().copy())
    for n, p in named:
        if clip:
            out[prefix + ".grad." + n] = np.stack(grads[n])
        out[prefix + ".param." + n] = np.stack(params[n])
        st = opt.state[p]
        out[prefix + ".exp_avg." + n] = st["exp_avg"].numpy().copy()
        out[prefix + ".exp_avg_sq." + n] = st["exp_avg_sq"].numpy().copy()
        out[prefix + ".step." + n] = np.array([int(st["step"].item())], dtype=np.int32)
    series[prefix + ".lr"] = lrs
    if clip:
        series[prefix + ".norm"] = norms


def mlp_case(out, series):
    c = MLP
    g = torch.Generator().manual_seed(99)
    v, d, h = c["vocab"], c["dim"], c["hidden"]
    init = {
        "embed.weight": torch.randn(v, d, generator=g),
        "norm.weight": 1 + 0.1 * torch.randn(d, generator=g),
        "norm.bias": 0.1 * torch.randn(d, generator=g),
        "fc1.weight": torch.randn(h, d, generator=g) / math.sqrt(d),
        "fc1.bias": 0.1 * torch.randn(h, generator=g),
        "fc2.weight": torch.randn(v, h, generator=g) / math.sqrt(h),
        "fc2.bias": 0.1 * torch.randn(v, generator=g),
    }
    named = [(n, t.clone().requires_grad_()) for n, t in init.items()]
    P = dict(named)
    for n, p in named:
        out["mlp.init." + n] = p.detach().numpy().copy()
    acc, b, t = c["accumulation"], c["batch"], c["seq"]
    ids = torch.randint(0, v, (N_MLP, acc, b, t), generator=g)
    # targets: a deterministic function of the ids (so there is something to learn) with a third ignored
    targets = (ids * 5 + 3) % v
    ignore = torch.rand((N_MLP, acc, b, t), generator=g) < 0.33
    ignore[:, :, 0, 0] = False  # every micro-batch keeps at least one target
    targets = torch.where(ignore, torch.full_like(targets, -100), targets)
    opt = torch.optim.AdamW(groups(named, c["weight_decay"]), lr=c["lr"], betas=c["betas"], eps=c["eps"], foreach=False)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, cosine_with_warmup(c["warmup"], c["total"], c["min_lr_rate"]))

    def forward(x):
        e = F.embedding(x, P["embed.weight"])
        e = F.layer_norm(e, (d,), P["norm.weight"], P["norm.bias"], c["layer_norm_eps"])
        return F.linear(F.gelu(F.linear(e, P["fc1.weight"], P["fc1.bias"])), P["fc2.weight"], P["fc2.bias"])

    losses, norms, lrs = [], [], []
    for step in range(N_MLP):
        opt.zero_grad(set_to_none=True)
        total = 0.0
        for m in range(acc):
            logits = forward(ids[step, m])
            loss = F.cross_entropy(logits.reshape(-1, v), targets[step, m].reshape(-1), ignore_index=-100)
            (loss / acc).backward()
            total += float(loss) / acc
        losses.append(total)
        lrs.append(opt.param_groups[0]["lr"])
        norms.append(float(torch.nn.utils.clip_grad_norm_([p for _, p in named], c["max_norm"])))
        opt.step()
        sched.step()
    for n, p in named:
        out["mlp.final." + n] = p.detach().numpy().copy()
    out["mlp.ids"] = ids.numpy().astype(np.int32)
    out["mlp.targets"] = targets.numpy().astype(np.int32)
    series["mlp.loss"] = losses
    series["mlp.norm"] = norms
    series["mlp.lr"] = lrs
    print(f"mlp: loss {losses[0]:.4f} -> {losses[-1]:.4f} over {N_MLP} steps")


def schedule_case(series):
    f = cosine_with_warmup(SCHED["warmup"], SCHED["total"])
    fm = cosine_with_warmup(SCHED["warmup"], SCHED["total"], SCHED["min_lr_rate"])
    series["schedule.cosine"] = [f(s) for s in range(SCHED["total"] + 5)]
    series["schedule.cosine_min"] = [fm(s) for s in range(SCHED["total"] + 5)]


def main():
    dest = Path(sys.argv[1] if len(sys.argv) > 1 else "nn/src/test/resources/train-reference")
    dest.mkdir(parents=True, exist_ok=True)
    out = {}
    series = {}
    optimizer_case(out, series)
    optimizer_case(out, series, "optim_noclip", clip=False)
    mlp_case(out, series)
    schedule_case(series)
    write_safetensors(dest / "reference.safetensors", out)
    meta = {"torch": torch.__version__, "optim": dict(OPT, steps=N_OPT), "mlp": dict(MLP, steps=N_MLP), "schedule": SCHED,
            "series": series}
    (dest / "reference.json").write_text(json.dumps(meta, indent=2) + "\n")
    print(f"wrote {dest}/reference.safetensors ({len(out)} tensors) and reference.json")


if __name__ == "__main__":
    main()
