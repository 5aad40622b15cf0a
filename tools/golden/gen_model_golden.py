#!/usr/bin/env python3
"""Golden values for tests/test_model_golden.cpp.

An independent, compact restatement of the reference TRM math (SamsungSAILMontreal/
TinyRecursiveModels: trm.py, layers.py, losses.py, sparse_embedding.py, common.py) in plain
PyTorch: this file holds TRM's construction order and recursion, golden_common.py the layers,
initialiser, loss and ACT step. It builds two tiny configurations, draws their initial weights
with the reference's initialiser and construction order (seed 0), perturbs the zero-initialised
parts (q_head, puzzle table) so every path carries signal, runs two ACT supervision steps in
training mode with exploration off, and writes weights, batches, outputs, losses and gradients
to HDF5.

Usage: /usr/bin/python3 tools/golden/gen_model_golden.py [out.h5]
(Debian's python3-torch 1.13, python3-h5py, python3-numpy.)
"""
import math
import sys

import torch
import torch.nn.functional as F

from golden_common import (attention, finish_weights, golden_file, io_weights, output_heads, rms,
                           rope_tables, swiglu, swiglu_inter, trunc_normal, write_variant)

VARIANTS = {
    # attention + RoPE, stablemax, halting on q_halt > 0, puzzle rows zero-padded (8 of 16)
    "attn_rope": dict(hidden=8, heads=2, expansion=4.0, L_layers=2, H_cycles=2, L_cycles=2,
                      seq_len=9, vocab=6, num_puzzle_ids=5, emb_ndim=8, emb_len=2,
                      pos="rope", mlp_t=False, halt_max_steps=3, no_act_continue=True,
                      loss="stablemax", batch=4, q_bias=0.85),
    # MLP over the sequence + learned positions, softmax CE, Q-continue target path
    "mlpt_learned": dict(hidden=8, heads=2, expansion=4.0, L_layers=2, H_cycles=2, L_cycles=2,
                         seq_len=9, vocab=6, num_puzzle_ids=5, emb_ndim=16, emb_len=0,
                         pos="learned", mlp_t=True, halt_max_steps=3, no_act_continue=False,
                         loss="softmax", batch=4, q_bias=-0.4),
}


def emb_len(cfg):
    return cfg["emb_len"] if cfg["emb_len"] else -(-cfg["emb_ndim"] // cfg["hidden"])


def init_weights(cfg):
    """State dict in the reference's construction order (so the RNG stream matches)."""
    D = cfg["hidden"]
    P = emb_len(cfg)
    positions = cfg["seq_len"] + P
    w = io_weights(cfg)
    if cfg["pos"] == "learned":
        w["inner.embed_pos.embedding_weight"] = trunc_normal((positions, D), 1 / math.sqrt(D))
    for i in range(cfg["L_layers"]):
        pre = f"inner.L_level.layers.{i}."
        if cfg["mlp_t"]:
            it = swiglu_inter(positions, cfg["expansion"])
            w[pre + "mlp_t.gate_up_proj.weight"] = trunc_normal((2 * it, positions), positions ** -0.5)
            w[pre + "mlp_t.down_proj.weight"] = trunc_normal((positions, it), it ** -0.5)
        else:
            w[pre + "self_attn.qkv_proj.weight"] = trunc_normal((3 * D, D), D ** -0.5)
            w[pre + "self_attn.o_proj.weight"] = trunc_normal((D, D), D ** -0.5)
        it = swiglu_inter(D, cfg["expansion"])
        w[pre + "mlp.gate_up_proj.weight"] = trunc_normal((2 * it, D), D ** -0.5)
        w[pre + "mlp.down_proj.weight"] = trunc_normal((D, it), it ** -0.5)
    return finish_weights(w, D)


def net(w, cfg, h, injection, cos_sin):
    h = h + injection
    for i in range(cfg["L_layers"]):
        pre = f"inner.L_level.layers.{i}."
        if cfg["mlp_t"]:
            t = h.transpose(1, 2)
            t = rms(t + swiglu(t, w[pre + "mlp_t.gate_up_proj.weight"], w[pre + "mlp_t.down_proj.weight"]))
            h = t.transpose(1, 2)
        else:
            h = rms(h + attention(h, w[pre + "self_attn.qkv_proj.weight"],
                                  w[pre + "self_attn.o_proj.weight"], cfg["heads"], cos_sin))
        h = rms(h + swiglu(h, w[pre + "mlp.gate_up_proj.weight"], w[pre + "mlp.down_proj.weight"]))
    return h


def inner_step(w, cfg, y, z, batch, local_rows):
    """One supervision step of the inner model; local_rows: gathered puzzle rows [B, ndim]."""
    D, P = cfg["hidden"], emb_len(cfg)
    emb = F.embedding(batch["inputs"].long(), w["inner.embed_tokens.embedding_weight"])
    rows = F.pad(local_rows, (0, P * D - local_rows.shape[-1]))
    emb = torch.cat((rows.view(-1, P, D), emb), dim=-2)
    if cfg["pos"] == "learned":
        emb = 0.707106781 * (emb + w["inner.embed_pos.embedding_weight"])
    x = math.sqrt(D) * emb
    cs = rope_tables(D // cfg["heads"], cfg["seq_len"] + P) if cfg["pos"] == "rope" else None
    with torch.no_grad():
        for _ in range(cfg["H_cycles"] - 1):
            for _ in range(cfg["L_cycles"]):
                z = net(w, cfg, z, y + x, cs)
            y = net(w, cfg, y, z, cs)
    for _ in range(cfg["L_cycles"]):
        z = net(w, cfg, z, y + x, cs)
    y = net(w, cfg, y, z, cs)
    return (y.detach(), z.detach()) + output_heads(w, y, P)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "tools/golden/model_golden.h5"
    with golden_file(out, "tools/golden/gen_model_golden.py") as h5:
        for i, (name, cfg) in enumerate(VARIANTS.items()):
            write_variant(h5, name, cfg, init_weights, inner_step, cfg["seq_len"] + emb_len(cfg),
                          perturb_seed=1234, with_init=(i == 0))


if __name__ == "__main__":
    main()
