"""What the golden-value generators share: the reference's layer math, initialiser and loss,
the ACT step around a model's inner recursion, and the HDF5 layout the C++ golden tests read.

The math restates SamsungSAILMontreal/TinyRecursiveModels (layers.py, losses.py, common.py) in
plain PyTorch. Each generator (gen_model_golden.py, gen_hrm_golden.py) supplies its variants'
construction order (init_weights) and recursion (inner_step); write_variant draws and perturbs
the weights and records two ACT supervision steps in training mode with exploration off, under
/<variant>/{init_head,init_sum,weights,batch1,batch2,step1,step2} (tests/golden_file.hpp).
"""
import contextlib
import math
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np
import torch
import torch.nn.functional as F

IGNORE = -100


def trunc_normal(shape, std, dtype=torch.float32, lower=-2.0, upper=2.0):
    """The corrected (JAX-style) truncated normal of the reference's common.py."""
    t = torch.empty(shape, dtype=dtype)
    if std == 0:
        return t.zero_()
    r2 = math.sqrt(2.0)
    a, b = math.erf(lower / r2), math.erf(upper / r2)
    z = (b - a) / 2
    c = 1.0 / math.sqrt(2 * math.pi)
    p_lo, p_hi = c * math.exp(-0.5 * lower ** 2), c * math.exp(-0.5 * upper ** 2)
    std_c = std / math.sqrt(1 - (upper * p_lo - lower * p_hi) / z - ((p_lo - p_hi) / z) ** 2)
    with torch.no_grad():
        t.uniform_(a, b).erfinv_().mul_(r2 * std_c).clip_(lower * std_c, upper * std_c)
    return t


def swiglu_inter(hidden, expansion):
    n = round(expansion * hidden * 2 / 3)
    return ((n + 255) // 256) * 256


def rms(x, eps=1e-5):
    return x * torch.rsqrt(x.square().mean(-1, keepdim=True) + eps)


def swiglu(x, gu, dn):
    gate, up = F.linear(x, gu).chunk(2, dim=-1)
    return F.linear(F.silu(gate) * up, dn)


def rope_tables(head_dim, positions, base=10000.0):
    dtype = torch.get_default_dtype()  # float32, or float64 in the replay
    inv = 1.0 / (base ** (torch.arange(0, head_dim, 2, dtype=dtype) / head_dim))
    f = torch.outer(torch.arange(positions, dtype=dtype), inv)
    e = torch.cat((f, f), dim=-1)
    return e.cos(), e.sin()


def rot_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


def attention(x, qkv_w, o_w, heads, cos_sin):
    B, S, D = x.shape
    hd = D // heads
    qkv = F.linear(x, qkv_w).view(B, S, 3 * heads, hd)
    q, k, v = qkv[:, :, :heads], qkv[:, :, heads:2 * heads], qkv[:, :, 2 * heads:]
    if cos_sin is not None:
        c, s = cos_sin[0][:S, None, :], cos_sin[1][:S, None, :]
        q, k = q * c + rot_half(q) * s, k * c + rot_half(k) * s
    q, k, v = (t.permute(0, 2, 1, 3) for t in (q, k, v))
    p = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(hd), dim=-1)
    return F.linear((p @ v).permute(0, 2, 1, 3).reshape(B, S, D), o_w)


def stablemax_ce(logits, labels):
    x = logits.double()
    s = torch.where(x < 0, 1 / (1 - x + 1e-30), x + 1)
    logp = torch.log(s / s.sum(-1, keepdim=True))
    valid = labels != IGNORE
    picked = logp.gather(-1, torch.where(valid, labels, 0).long().unsqueeze(-1)).squeeze(-1)
    return -torch.where(valid, picked, 0)


def softmax_ce(logits, labels):
    x = logits.to(torch.promote_types(logits.dtype, torch.float32))  # the reference's .float()
    return F.cross_entropy(x.reshape(-1, logits.shape[-1]), labels.long().reshape(-1),
                           ignore_index=IGNORE, reduction="none").view(labels.shape)


def loss_head(cfg, carry, out):
    labels = carry["cur"]["labels"].long()
    labels = torch.where(labels == 0, IGNORE, labels)  # the dataset's ignore_label_id 0
    with torch.no_grad():
        mask = labels != IGNORE
        counts = mask.sum(-1)
        div = counts.clamp_min(1).unsqueeze(-1)
        preds = out["logits"].argmax(-1)
        correct = mask & (preds == labels)
        seq_ok = correct.sum(-1) == counts
        valid = carry["halted"] & (counts > 0)
        metrics = [valid.sum(), torch.where(valid, (correct.to(torch.get_default_dtype()) / div).sum(-1), 0).sum(),
                   (valid & seq_ok).sum(), (valid & ((out["q_halt_logits"] >= 0) == seq_ok)).sum(),
                   torch.where(valid, carry["steps"], 0).sum()]
    fn = stablemax_ce if cfg["loss"] == "stablemax" else softmax_ce
    lm = (fn(out["logits"], labels) / div).sum()
    q_halt = out["q_halt_logits"]
    qh = F.binary_cross_entropy_with_logits(q_halt, seq_ok.to(q_halt.dtype), reduction="sum")
    qc = 0
    if "target_q_continue" in out:
        qc = F.binary_cross_entropy_with_logits(out["q_continue_logits"], out["target_q_continue"], reduction="sum")
    total = lm + 0.5 * (qh + qc)
    metrics += [lm.detach(), qh.detach(), qc.detach() if torch.is_tensor(qc) else torch.tensor(0.0)]
    return total, torch.stack([torch.as_tensor(m).double() for m in metrics]), preds


def io_weights(cfg):
    """Token embedding, LM head, Q head and the zero puzzle table, drawn in the reference's
    construction order (they come before the recursion's blocks)."""
    D, V = cfg["hidden"], cfg["vocab"]
    return {
        "inner.embed_tokens.embedding_weight": trunc_normal((V, D), 1 / math.sqrt(D)),
        "inner.lm_head.weight": trunc_normal((V, D), 1 / math.sqrt(D)),
        "inner.q_head.weight": trunc_normal((2, D), 1 / math.sqrt(D)),
        "inner.q_head.bias": torch.zeros(2),
        "inner.puzzle_emb.weights": torch.zeros(cfg["num_puzzle_ids"], cfg["emb_ndim"]),
    }


def finish_weights(w, D):
    """The H/L init vectors (drawn after the blocks) and the Q head's reference init (zero
    weight, bias -5)."""
    w["inner.H_init"] = trunc_normal((D,), 1.0)
    w["inner.L_init"] = trunc_normal((D,), 1.0)
    w["inner.q_head.weight"].zero_()
    w["inner.q_head.bias"].fill_(-5.0)
    return w


def output_heads(w, h, P):
    """Logits of the answer positions (after the P puzzle rows), q_halt and q_continue."""
    logits = F.linear(h, w["inner.lm_head.weight"])[:, P:]
    q = F.linear(h[:, 0], w["inner.q_head.weight"], w["inner.q_head.bias"])
    return logits, q[..., 0], q[..., 1]


def make_batch(cfg, gen, all_ignored_row=False):
    B, S, V = cfg["batch"], cfg["seq_len"], cfg["vocab"]
    inputs = torch.randint(1, V, (B, S), generator=gen, dtype=torch.int32)
    labels = torch.randint(1, V, (B, S), generator=gen, dtype=torch.int32)
    labels[torch.rand(B, S, generator=gen) < 0.25] = 0
    if all_ignored_row:
        labels[-1] = 0
    ids = torch.randint(0, cfg["num_puzzle_ids"], (B,), generator=gen, dtype=torch.int32)
    return dict(inputs=inputs, labels=labels, puzzle_identifiers=ids)


def put(grp, path, data):
    data = np.asarray(data)
    if data.size > 64:
        grp.create_dataset(path, data=data, compression="gzip", compression_opts=9, shuffle=True)
    else:
        grp.create_dataset(path, data=data)


def act_step(w, cfg, carry, batch, inner_step):
    """Reset halted samples, run one inner step, apply the halting rule (exploration off).

    inner_step(w, cfg, y, z, batch, local_rows) -> (y, z, logits, q_halt, q_continue) is the
    model's recursion; y and z come back detached."""
    halted = carry["halted"]
    y = torch.where(halted.view(-1, 1, 1), w["inner.H_init"], carry["y"])
    z = torch.where(halted.view(-1, 1, 1), w["inner.L_init"], carry["z"])
    steps = torch.where(halted, 0, carry["steps"])
    cur = {k: torch.where(halted.view((-1,) + (1,) * (v.ndim - 1)), batch[k], carry["cur"][k])
           for k, v in carry["cur"].items()}
    local = w["inner.puzzle_emb.weights"][cur["puzzle_identifiers"].long()].detach().requires_grad_()
    y, z, logits, q_halt, q_cont = inner_step(w, cfg, y, z, cur, local)
    out = dict(logits=logits, q_halt_logits=q_halt, q_continue_logits=q_cont)
    with torch.no_grad():
        steps = steps + 1
        last = steps >= cfg["halt_max_steps"]
        if cfg["no_act_continue"]:
            new_halted = last | (q_halt > 0)
        else:
            new_halted = last | (q_halt > q_cont)
            rows = w["inner.puzzle_emb.weights"][cur["puzzle_identifiers"].long()]
            _, _, _, nq_halt, nq_cont = inner_step(w, cfg, y, z, cur, rows)
            out["target_q_continue"] = torch.sigmoid(torch.where(last, nq_halt, torch.maximum(nq_halt, nq_cont)))
    return dict(y=y, z=z, steps=steps, halted=new_halted, cur=cur), out, local


def write_variant(h5, name, cfg, init_weights, inner_step, positions, perturb_seed, with_init=True,
                  carry_keys=("y",)):
    """Writes one variant's group: init fingerprints (with_init), perturbed weights, two steps.

    init_weights(cfg) draws the state dict under seed 0 in the model's construction order;
    inner_step is the model's recursion (see act_step); positions = seq_len + puzzle rows;
    carry_keys names the latents recorded after each step."""
    grp = h5.create_group(name)
    torch.manual_seed(0)
    init = init_weights(cfg)
    if with_init:  # fingerprints of the seeded initialisation (the C++ one must draw the same)
        for k, v in init.items():
            flat = v.flatten().double()
            put(grp, "init_head/" + k, flat[:16].numpy())
            put(grp, "init_sum/" + k, np.array([flat.sum().item(), flat.square().sum().item()]))
    # The zero-initialised parts (q_head, puzzle table) get random values so every path carries
    # signal.
    gen = torch.Generator().manual_seed(perturb_seed)
    w = {k: v.clone() for k, v in init.items()}
    w["inner.q_head.weight"] = 0.3 * torch.randn(w["inner.q_head.weight"].shape, generator=gen)
    w["inner.q_head.bias"] = torch.tensor([cfg["q_bias"], -0.05])
    w["inner.puzzle_emb.weights"] = 0.5 * torch.randn(w["inner.puzzle_emb.weights"].shape, generator=gen)
    for k, v in w.items():
        put(grp, "weights/" + k, v.numpy())
    B = cfg["batch"]
    cur0 = {k: torch.zeros_like(v) for k, v in make_batch(cfg, gen).items()}
    batches = [make_batch(cfg, gen, all_ignored_row=(step == 2)) for step in (1, 2)]
    for step, batch in enumerate(batches, 1):
        for k, v in batch.items():
            put(grp, f"batch{step}/{k}", v.numpy())
    # The float32 run is what the C++ side replays; the float64 replay of the same weights and
    # batches is the exact answer both are measured against (tests/golden_file.hpp: the error
    # budget of each quantity is a multiple of PyTorch's own float32 error).
    runs = {}
    for suffix, dtype in (("", torch.float32), ("_f64", torch.float64)):
        torch.set_default_dtype(dtype)
        try:
            runs[suffix] = run_steps(cfg, {k: v.detach().to(dtype).clone() for k, v in w.items()},
                                     B, positions, cur0, batches, inner_step, carry_keys)
        finally:
            torch.set_default_dtype(torch.float32)
    for suffix, steps in runs.items():
        for step, rec in enumerate(steps, 1):
            s = grp.create_group(f"step{step}{suffix}")
            for k, v in rec.items():
                put(s, k, v)
    # Discrete outcomes must not hinge on rounding: the C++ side recomputes them.
    for step, (r32, r64) in enumerate(zip(runs[""], runs["_f64"]), 1):
        for k in ("preds", "halted", "steps"):
            assert np.array_equal(r32[k], r64[k]), f"{name} step {step}: float32 and float64 {k} differ"
        gap = r32["q_halt_logits"] - (0 if cfg["no_act_continue"] else r32["q_continue_logits"])
        assert np.abs(gap).min() > 1e-3, f"{name}: halting margin too small, change the seed"
        print(f"{name} step {step}: loss {float(r32['loss']):.6f} halted {r32['halted'].tolist()} "
              f"steps {r32['steps'].tolist()}")


def run_steps(cfg, w, B, positions, cur0, batches, inner_step, carry_keys):
    """Two ACT steps with loss and backward in the default dtype; what each step records."""
    buffers = {"inner.H_init", "inner.L_init", "inner.puzzle_emb.weights"}
    params = {k: v.requires_grad_() for k, v in w.items() if k not in buffers}
    carry = dict(y=torch.zeros(B, positions, cfg["hidden"]), z=torch.zeros(B, positions, cfg["hidden"]),
                 steps=torch.zeros(B, dtype=torch.int32), halted=torch.ones(B, dtype=torch.bool),
                 cur=dict(cur0))
    recorded = []
    for batch in batches:
        carry, out, local = act_step(w, cfg, carry, batch, inner_step)
        loss, metrics, preds = loss_head(cfg, carry, out)
        for p in params.values():
            p.grad = None
        loss.backward()
        rec = {k: v.detach().numpy() for k, v in out.items()}
        rec.update(loss=np.array(loss.item()), metrics=metrics.numpy(), preds=preds.numpy(),
                   halted=carry["halted"].numpy().astype(np.int8), steps=carry["steps"].numpy(),
                   puzzle_local_grad=local.grad.numpy())
        for k in carry_keys:
            rec[k] = carry[k].numpy()
        for k, p in params.items():
            rec["grads/" + k] = p.grad.numpy()
        recorded.append(rec)
    return recorded


# PyTorch's own float32 error moves with the kernels it runs (OpenBLAS and ATen pick them by CPU):
# on the single_z step-2 gradients by 6x between these settings. One run's error is one sample;
# the budget of a quantity is the largest of them (step<k>_spread/<key>, tests/golden_file.hpp).
DISPATCHES = (
    {"OPENBLAS_CORETYPE": "Nehalem", "ATEN_CPU_CAPABILITY": "default"},
    {"OPENBLAS_CORETYPE": "Sandybridge", "ATEN_CPU_CAPABILITY": "default"},
    {"OPENBLAS_CORETYPE": "Haswell", "ATEN_CPU_CAPABILITY": "avx2"},
    {"OPENBLAS_CORETYPE": "SkylakeX", "ATEN_CPU_CAPABILITY": "avx512"},
)
CHILD = "TRM_GOLDEN_CHILD"


def relative_errors(h5):
    """{(variant, step, key): max |float32 - float64| / max |float64|} of one golden file."""
    errors = {}

    def visit(name, obj):
        parts = name.split("/")
        if isinstance(obj, h5py.Dataset) and len(parts) > 2 and parts[1].startswith("step") \
                and "_" not in parts[1] and parts[1] + "_f64" in h5[parts[0]]:
            exact = h5[parts[0]][parts[1] + "_f64"]["/".join(parts[2:])][()]
            err = np.abs(obj[()].astype(np.float64) - exact).max()
            errors[name] = err / max(np.abs(exact).max(), 1e-12)

    h5.visititems(visit)
    return errors


def write_spread(h5):
    """Reruns this generator (sys.argv[0]) under each of DISPATCHES the CPU has and records each
    quantity's largest PyTorch float32 error, this run's included, as step<k>_spread/<key>."""
    worst = relative_errors(h5)
    flags = open("/proc/cpuinfo").read() if os.path.exists("/proc/cpuinfo") else ""
    with tempfile.TemporaryDirectory() as tmp:
        for i, env in enumerate(DISPATCHES):
            if env["ATEN_CPU_CAPABILITY"] == "avx512" and "avx512bw" not in flags:
                continue
            if env["ATEN_CPU_CAPABILITY"] == "avx2" and "avx2" not in flags:
                continue
            path = os.path.join(tmp, f"spread{i}.h5")
            subprocess.run([sys.executable, os.path.abspath(sys.argv[0]), path], check=True, stdout=subprocess.DEVNULL,
                           env=dict(os.environ, **env, **{CHILD: "1"}))
            with h5py.File(path, "r") as other:
                for name, err in relative_errors(other).items():
                    worst[name] = max(worst[name], err)
    for name, err in worst.items():
        parts = name.split("/")
        h5.create_dataset("/".join([parts[0], parts[1] + "_spread"] + parts[2:]), data=err)


@contextlib.contextmanager
def golden_file(out, generator):
    """The output file, opened for writing in the oldest format h5py can write; one thread, so
    reductions run in a fixed order and a rerun writes the same numbers."""
    torch.set_num_threads(1)
    with h5py.File(out, "w", libver=("earliest", "v110")) as h5:
        h5.attrs["generator"] = generator
        yield h5
        if not os.environ.get(CHILD):
            write_spread(h5)
    print("wrote", out)
