#!/usr/bin/env python3
"""Golden values for tests/test_model_hrm_golden.cpp: HRM proper and the TRM single-z variant.

A compact restatement, in plain PyTorch, of the Hierarchical Reasoning Model's ACT v1 math
(sapientinc/HRM models/hrm/hrm_act_v1.py: two networks H_level and L_level, H_cycles x L_cycles
low-level updates with a high-level update after each cycle, everything under no-grad except the
last L_level and H_level calls, Q-learning halting q_halt > q_continue with the Q-continue target
from a second no-grad pass) and of the TRM single-z ablation (trm_singlez.py: only z, L_cycles
updates z = f(z + x) then z = f(z), heads on z). Layer math, initialiser and loss come from
golden_common.py. Two ACT steps in training mode (exploration off) are written to HDF5.

Usage: /usr/bin/python3 tools/golden/gen_hrm_golden.py [out.h5]
"""
import math
import sys

import torch
import torch.nn.functional as F

from golden_common import (attention, finish_weights, golden_file, io_weights, output_heads, rms,
                           rope_tables, swiglu, swiglu_inter, trunc_normal, write_variant)

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
    D = cfg["hidden"]
    w = io_weights(cfg)
    if cfg["kind"] == "hrm":
        block_weights(w, "inner.H_level", cfg["H_layers"], D, cfg["expansion"])
    block_weights(w, "inner.L_level", cfg["L_layers"], D, cfg["expansion"])
    return finish_weights(w, D)


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
    return (y.detach(), z.detach()) + output_heads(w, out, P)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "tools/golden/hrm_golden.h5"
    with golden_file(out, "tools/golden/gen_hrm_golden.py") as h5:
        for name, cfg in VARIANTS.items():
            write_variant(h5, name, cfg, init_weights, inner_step, cfg["seq_len"] + cfg["emb_len"],
                          perturb_seed=4321, carry_keys=("y", "z"))


if __name__ == "__main__":
    main()
