#!/usr/bin/env python3
"""Golden values for tests/test_model_hrm_golden.cpp: HRM proper and the TRM single-z variant.

A compact restatement, in plain PyTorch, of the Hierarchical Reasoning Model's ACT v1 math
(sapientinc/HRM models/hrm/hrm_act_v1.py: two networks H_level and L_level, H_cycles x L_cycles
low-level updates with a high-level update after each cycle, everything under no-grad except the
last L_level and H_level calls, Q-learning halting q_halt > q_continue with the Q-continue target
from a second no-grad pass) and of the TRM single-z ablation (trm_singlez.py: only z, L_cycles
updates z = f(z + x) then z = f(z), heads on z). Layer math, initialiser and loss come from
gen_model_golden.py. Two ACT steps in training mode (exploration off) are written to HDF5.

Usage: /usr/bin/python3 tools/golden/gen_hrm_golden.py [out.h5]
"""
import math
import os
import sys

import h5py
import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_model_golden import (attention, loss_head, make_batch, put, rms, rope_tables,  # noqa: E402
                              swiglu, swiglu_inter, trunc_normal)

VARIANTS = {
    # HRM: 2-layer H_level, 1-layer L_level (different depths catch a swapped network),
    # puzzle_emb_len derived as ceil(ndim / hidden) = 1 as HRM does, Q-learning ACT.
    "hrm": dict(kind="hrm", hidden=8, heads=2, expansion=4.0, H_layers=2, L_layers=1,
                H_cycles=2, L_cycles=3, seq_len=9, vocab=6, num_puzzle_ids=5, emb_ndim=8,
                emb_len=1, pos="rope", mlp_t=False, halt_max_steps=3, no_act_continue=False,
                loss="stablemax", batch=4, q_bias=-1.0),
    # TRM with a single latent z (shared network, full gradient through the last cycle).
    "single_z": dict(kind="single_z", hidden=8, heads=2, expansion=4.0, H_layers=0, L_layers=2,
                     H_cycles=2, L_cycles=2, seq_len=9, vocab=6, num_puzzle_ids=5, emb_ndim=8,
                     emb_len=2, pos="rope", mlp_t=False, halt_max_steps=3, no_act_continue=True,
                     loss="stablemax", batch=4, q_bias=0.0),
}


def block_weights(w, prefix, n_layers, D, expansion):
    it = swiglu_inter(D, expansion)
    for i in range(n_layers):
        pre = f"{prefix}.layers.{i}."
        w[pre + "self_attn.qkv_proj.weight"] = trunc_normal((3 * D, D), D ** -0.5)
        w[pre + "self_attn.o_proj.weight"] = trunc_normal((D, D), D ** -0.5)
        w[pre + "mlp.gate_up_proj.weight"] = trunc_normal((2 * it, D), D ** -0.5)
        w[pre + "mlp.down_proj.weight"] = trunc_normal((D, it), it ** -0.5)


def init_weights(cfg):
    """State dict in HRM's construction order: I/O, puzzle table, H_level, L_level, inits."""
    D, V = cfg["hidden"], cfg["vocab"]
    w = {}
    w["inner.embed_tokens.embedding_weight"] = trunc_normal((V, D), 1 / math.sqrt(D))
    w["inner.lm_head.weight"] = trunc_normal((V, D), 1 / math.sqrt(D))
    w["inner.q_head.weight"] = trunc_normal((2, D), 1 / math.sqrt(D))
    w["inner.q_head.bias"] = torch.zeros(2)
    w["inner.puzzle_emb.weights"] = torch.zeros(cfg["num_puzzle_ids"], cfg["emb_ndim"])
    if cfg["kind"] == "hrm":
        block_weights(w, "inner.H_level", cfg["H_layers"], D, cfg["expansion"])
    block_weights(w, "inner.L_level", cfg["L_layers"], D, cfg["expansion"])
    w["inner.H_init"] = trunc_normal((D,), 1.0)
    w["inner.L_init"] = trunc_normal((D,), 1.0)
    w["inner.q_head.weight"].zero_()
    w["inner.q_head.bias"].fill_(-5.0)
    return w


def level(w, cfg, prefix, n_layers, h, injection, cs):
    h = h + injection
    for i in range(n_layers):
        pre = f"{prefix}.layers.{i}."
        h = rms(h + attention(h, w[pre + "self_attn.qkv_proj.weight"],
                              w[pre + "self_attn.o_proj.weight"], cfg["heads"], cs))
        h = rms(h + swiglu(h, w[pre + "mlp.gate_up_proj.weight"], w[pre + "mlp.down_proj.weight"]))
    return h


def inner_step(w, cfg, y, z, batch, local_rows):
    D, P = cfg["hidden"], cfg["emb_len"]
    emb = F.embedding(batch["inputs"].long(), w["inner.embed_tokens.embedding_weight"])
    rows = F.pad(local_rows, (0, P * D - local_rows.shape[-1]))
    x = math.sqrt(D) * torch.cat((rows.view(-1, P, D), emb), dim=-2)
    cs = rope_tables(D // cfg["heads"], cfg["seq_len"] + P)
    H, L = cfg["H_cycles"], cfg["L_cycles"]

    def f_L(h, inj):
        return level(w, cfg, "inner.L_level", cfg["L_layers"], h, inj, cs)

    if cfg["kind"] == "hrm":
        def f_H(h, inj):
            return level(w, cfg, "inner.H_level", cfg["H_layers"], h, inj, cs)
        with torch.no_grad():
            for h_step in range(H):
                for l_step in range(L):
                    if not (h_step == H - 1 and l_step == L - 1):
                        z = f_L(z, y + x)
                if h_step != H - 1:
                    y = f_H(y, z)
        z = f_L(z, y + x)
        y = f_H(y, z)
        out = y
    else:
        with torch.no_grad():
            for _ in range(H - 1):
                for _ in range(L):
                    z = f_L(z, x)
                z = f_L(z, 0)
        for _ in range(L):
            z = f_L(z, x)
        z = f_L(z, 0)
        out = z
    logits = F.linear(out, w["inner.lm_head.weight"])[:, P:]
    q = F.linear(out[:, 0], w["inner.q_head.weight"], w["inner.q_head.bias"])
    return y.detach(), z.detach(), logits, q[..., 0], q[..., 1]


def act_step(w, cfg, carry, batch):
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


def run_variant(name, cfg, h5):
    grp = h5.create_group(name)
    torch.manual_seed(0)
    init = init_weights(cfg)
    for k, v in init.items():  # fingerprints: the C++ seeded init must draw the same numbers
        flat = v.flatten().double()
        put(grp, "init_head/" + k, flat[:16].numpy())
        put(grp, "init_sum/" + k, np.array([flat.sum().item(), flat.square().sum().item()]))
    gen = torch.Generator().manual_seed(4321)
    w = {k: v.clone() for k, v in init.items()}
    w["inner.q_head.weight"] = 0.3 * torch.randn(w["inner.q_head.weight"].shape, generator=gen)
    w["inner.q_head.bias"] = torch.tensor([cfg["q_bias"], -0.05])
    w["inner.puzzle_emb.weights"] = 0.5 * torch.randn(w["inner.puzzle_emb.weights"].shape, generator=gen)
    for k, v in w.items():
        put(grp, "weights/" + k, v.numpy())
    buffers = {"inner.H_init", "inner.L_init", "inner.puzzle_emb.weights"}
    params = {k: v.requires_grad_() for k, v in w.items() if k not in buffers}

    B, positions = cfg["batch"], cfg["seq_len"] + cfg["emb_len"]
    carry = dict(y=torch.zeros(B, positions, cfg["hidden"]), z=torch.zeros(B, positions, cfg["hidden"]),
                 steps=torch.zeros(B, dtype=torch.int32), halted=torch.ones(B, dtype=torch.bool),
                 cur={k: torch.zeros_like(v) for k, v in make_batch(cfg, gen).items()})
    margin = float("inf")
    for step in (1, 2):
        batch = make_batch(cfg, gen, all_ignored_row=(step == 2))
        for k, v in batch.items():
            put(grp, f"batch{step}/{k}", v.numpy())
        carry, out, local = act_step(w, cfg, carry, batch)
        loss, metrics, preds = loss_head(cfg, carry, out)
        for p in params.values():
            p.grad = None
        loss.backward()
        s = grp.create_group(f"step{step}")
        for k, v in out.items():
            put(s, k, v.detach().numpy())
        put(s, "loss", np.array(loss.item()))
        put(s, "metrics", metrics.numpy())
        put(s, "preds", preds.numpy())
        put(s, "halted", carry["halted"].numpy().astype(np.int8))
        put(s, "steps", carry["steps"].numpy())
        put(s, "y", carry["y"].numpy())
        put(s, "z", carry["z"].numpy())
        put(s, "puzzle_local_grad", local.grad.numpy())
        for k, p in params.items():
            put(s, "grads/" + k, p.grad.numpy())
        gap = out["q_halt_logits"] - (0 if cfg["no_act_continue"] else out["q_continue_logits"])
        margin = min(margin, gap.abs().min().item())
        print(f"{name} step {step}: loss {loss.item():.6f} halted {carry['halted'].tolist()} "
              f"steps {carry['steps'].tolist()}")
    assert margin > 1e-3, f"{name}: halting margin {margin} too small, change the seed"


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "tools/golden/hrm_golden.h5"
    torch.set_num_threads(1)
    with h5py.File(out, "w", libver=("earliest", "v110")) as h5:
        h5.attrs["generator"] = "tools/golden/gen_hrm_golden.py"
        for name, cfg in VARIANTS.items():
            run_variant(name, cfg, h5)
    print("wrote", out)


if __name__ == "__main__":
    main()
