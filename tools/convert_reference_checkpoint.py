#!/usr/bin/env python3
"""Convert checkpoints between the Python reference (SamsungSAILMontreal/TinyRecursiveModels) and
trm-dist, and check trm-dist checkpoint files.

  to-trm REF.pt OUT.h5 [--config RUN.toml] [--seq-len N]
      A reference checkpoint (torch.save of the model's state_dict, keys such as
      _orig_mod.model.inner.L_level.layers.0.mlp.gate_up_proj.weight, or the newer dict with
      "model"/"step"/"ema_helper") -> a trm-dist checkpoint usable by trm-eval and --init-from.
  to-reference IN.h5 OUT.pt [--raw] [--no-compile-prefix]
      A trm-dist checkpoint -> a state_dict the reference loads (load_checkpoint). The EMA weights
      are exported when the file has them (the reference saves its EMA copy), --raw takes /model.
  verify FILE.h5
      Checks the format attributes and the CRC32 checksum; exit status 1 when damaged.
  make-reference OUT_PREFIX --config RUN.toml --dataset DIR
      A small reference-style model (the golden math) for the [arch] of RUN.toml and the shape of
      the dataset: OUT_PREFIX.pt (reference checkpoint) and OUT_PREFIX.h5 (converted, with
      RUN.toml as /config), for an end-to-end check with trm-eval.
  check-eval-outputs CHECKPOINT.h5 EVAL_OUTPUTS.h5
      Runs the Python model (golden math, weights and [arch] from the checkpoint) on the inputs
      trm-eval saved with --save-outputs and compares the predictions; exit status 1 on any
      difference.
  selftest OUT_DIR
      Builds small reference-style models (the math of tools/golden/gen_model_golden.py), saves
      their reference checkpoints, converts them to trm-dist and back (must be identical), and
      writes a batch with the Python model's evaluation predictions for tests/test_ckpt_interop.

Format of trm-dist checkpoints: docs/CHECKPOINTS.md (the CRC is zlib.crc32 chained over the
sorted dataset paths and their raw bytes). Run with Debian's /usr/bin/python3 (torch, h5py, numpy).
"""
import argparse
import importlib
import math
import os
import sys
import zlib

import h5py
import numpy as np
import torch

FORMAT_NAME = "trm-dist-checkpoint"
FORMAT_VERSION = 1
PUZZLE_TABLE = "inner.puzzle_emb.weights"
PREFIXES = ("_orig_mod.", "model.")  # torch.compile wrapper, then the ACT loss head wrapper

# torch dtypes HDF5 cannot represent: stored as raw unsigned words plus a torch_dtype attribute.
RAW_DTYPES = {torch.bool: ("bool", np.uint8, torch.uint8), torch.bfloat16: ("bfloat16", np.uint16, torch.int16),
              torch.float16: ("float16", np.uint16, torch.int16)}
RAW_BACK = {"bool": torch.bool, "bfloat16": torch.bfloat16, "float16": torch.float16}


# --- trm-dist checkpoint files -----------------------------------------------------------------

def tensor_to_array(t):
    """(numpy array in the file's representation, torch_dtype attribute or None)."""
    t = t.detach().cpu().contiguous()
    if t.dtype in RAW_DTYPES:
        name, np_type, view_type = RAW_DTYPES[t.dtype]
        raw = t.to(torch.uint8) if t.dtype == torch.bool else t.view(view_type)
        return raw.numpy().view(np_type), name
    return t.numpy(), None


def array_to_tensor(a, torch_dtype):
    if torch_dtype is None:
        return torch.from_numpy(np.array(a))
    if torch_dtype == "bool":
        return torch.from_numpy(np.array(a)).to(torch.bool)
    return torch.from_numpy(np.array(a).view(np.int16)).view(RAW_BACK[torch_dtype])


def write_trm_checkpoint(path, tensors, ints=None, floats=None, texts=None, blobs=None):
    """tensors: {group: {name: torch.Tensor}}; ints/floats/blobs (bytes) under /state; texts at
    the root. Written to a temporary name and renamed, like trm-dist does."""
    items = {}
    for group, named in tensors.items():
        for name, t in named.items():
            assert "/" not in name, name
            items[f"{group}/{name}"] = tensor_to_array(t)
    for key, v in (ints or {}).items():
        items[f"state/{key}"] = (np.array(v, dtype=np.int64), None)
    for key, v in (floats or {}).items():
        items[f"state/{key}"] = (np.array(v, dtype=np.float64), None)
    for key, blob in (blobs or {}).items():
        items[f"state/{key}"] = (np.frombuffer(bytes(blob), dtype=np.uint8), None)
    for key, text in (texts or {}).items():
        items[key] = (np.frombuffer(text.encode(), dtype=np.uint8), None)
    tmp = os.path.join(os.path.dirname(os.path.abspath(path)), "." + os.path.basename(path) + ".tmp")
    crc = 0
    with h5py.File(tmp, "w") as f:
        for p in sorted(items):
            arr, torch_dtype = items[p]
            ds = f.create_dataset(p, data=arr)
            if torch_dtype:
                ds.attrs["torch_dtype"] = np.bytes_(torch_dtype)
            crc = zlib.crc32(p.encode(), crc)
            crc = zlib.crc32(np.ascontiguousarray(arr).tobytes(), crc)
        f.attrs["format"] = np.bytes_(FORMAT_NAME)
        f.attrs["format_version"] = np.int64(FORMAT_VERSION)
        f.attrs["checksum_crc32"] = np.uint32(crc)
        f.attrs["created_by"] = np.bytes_("tools/convert_reference_checkpoint.py")
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _attr_str(v):
    return v.decode() if isinstance(v, (bytes, np.bytes_)) else str(v)


def read_trm_checkpoint(path, verify=True, with_blobs=False):
    """-> (tensors {group: {name: tensor}}, ints, floats, texts[, blobs]). Raises ValueError if
    damaged."""
    with h5py.File(path, "r") as f:
        if _attr_str(f.attrs.get("format", b"")) != FORMAT_NAME:
            raise ValueError(f"{path} is not a trm-dist checkpoint")
        if int(f.attrs.get("format_version", -1)) != FORMAT_VERSION:
            raise ValueError(f"{path} has format version {f.attrs.get('format_version')}")
        paths = []
        f.visititems(lambda name, obj: paths.append(name) if isinstance(obj, h5py.Dataset) else None)
        tensors, ints, floats, texts, blobs, crc = {}, {}, {}, {}, {}, 0
        for p in sorted(paths):
            ds = f[p]
            arr = ds[()]
            crc = zlib.crc32(p.encode(), crc)
            crc = zlib.crc32(np.ascontiguousarray(arr).tobytes(), crc)
            if "/" not in p:
                texts[p] = bytes(arr).decode()
            elif p.startswith("state/"):
                key = p[len("state/"):]
                if arr.dtype == np.int64 and arr.ndim == 0:
                    ints[key] = int(arr)
                elif arr.dtype == np.float64 and arr.ndim == 0:
                    floats[key] = float(arr)
                elif arr.dtype == np.uint8 and arr.ndim == 1:
                    blobs[key] = bytes(arr)
            else:
                group, name = p.rsplit("/", 1)
                torch_dtype = _attr_str(ds.attrs["torch_dtype"]) if "torch_dtype" in ds.attrs else None
                tensors.setdefault(group, {})[name] = array_to_tensor(arr, torch_dtype)
        if verify and crc != int(f.attrs["checksum_crc32"]):
            raise ValueError(f"{path} is damaged: CRC32 {crc} != stored {int(f.attrs['checksum_crc32'])}")
    if with_blobs:
        return tensors, ints, floats, texts, blobs
    return tensors, ints, floats, texts


# --- reference <-> trm-dist --------------------------------------------------------------------

def strip_prefixes(name):
    for p in PREFIXES:
        if name.startswith(p):
            name = name[len(p):]
    return name


def load_reference(path):
    """-> (state dict with trm-dist names, ema dict or None, step)."""
    data = torch.load(path, map_location="cpu")
    step, ema = 0, None
    if isinstance(data, dict) and "model" in data and isinstance(data["model"], dict):
        step = int(data.get("step", 0))
        ema_state = data.get("ema_helper")
        if isinstance(ema_state, dict) and all(torch.is_tensor(v) for v in ema_state.values()):
            ema = {strip_prefixes(k): v for k, v in ema_state.items()}
        data = data["model"]
    state = {strip_prefixes(k): v for k, v in data.items()}
    bad = [k for k in state if not k.startswith("inner.")]
    if bad:
        raise ValueError(f"{path}: not a TRM state dict (unexpected keys {bad[:3]})")
    return state, ema, step


def infer_data_shape(state, seq_len):
    shape = {"data.vocab_size": state["inner.embed_tokens.embedding_weight"].shape[0],
             "data.num_puzzle_identifiers": state[PUZZLE_TABLE].shape[0] if PUZZLE_TABLE in state else 1}
    if seq_len is not None:
        shape["data.seq_len"] = seq_len
    return shape


def to_trm(ref_path, out_path, config_path=None, seq_len=None):
    state, ema, step = load_reference(ref_path)
    tensors = {"model": {k: v for k, v in state.items() if k != PUZZLE_TABLE}}
    if PUZZLE_TABLE in state:
        tensors["puzzle_emb"] = {PUZZLE_TABLE: state[PUZZLE_TABLE]}
    if ema:
        tensors["ema"] = {k: v for k, v in ema.items() if k in tensors["model"]}
    texts = {}
    if config_path:
        with open(config_path) as fh:
            texts["config"] = fh.read()
    ints = dict(step=step, **infer_data_shape(state, seq_len))
    if seq_len is None:
        print("warning: no --seq-len: trm-eval needs /state/data.seq_len (900 ARC/maze, 81 Sudoku)",
              file=sys.stderr)
    write_trm_checkpoint(out_path, tensors, ints=ints, texts=texts)
    print(f"wrote {out_path}: {sum(len(v) for v in tensors.values())} tensors, step {step}")


def to_reference(in_path, out_path, raw=False, compile_prefix=True):
    tensors, ints, _, _ = read_trm_checkpoint(in_path)
    state = dict(tensors["model"])
    state.update(tensors.get("puzzle_emb", {}))
    if not raw and "ema" in tensors:
        state.update(tensors["ema"])
    prefix = ("_orig_mod." if compile_prefix else "") + "model."
    torch.save({prefix + k: v for k, v in state.items()}, out_path)
    print(f"wrote {out_path}: {len(state)} tensors ({'raw' if raw or 'ema' not in tensors else 'EMA'} weights)")


# --- selftest: a small reference-style model ---------------------------------------------------

def golden_module(name="gen_model_golden"):
    """A module of tools/golden/, the compact restatement of the reference math kept for model
    tests: gen_model_golden (TRM's construction order and recursion) or golden_common (layers,
    loss, batches)."""
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden"))
    return importlib.import_module(name)


def evaluate(g, w, cfg, batch):
    """Evaluation as the reference runs it: every sample does halt_max_steps supervision steps
    from the initial carry; predictions are the argmax of the last step's logits."""
    B = batch["inputs"].shape[0]
    positions = cfg["seq_len"] + g.emb_len(cfg)
    y = w["inner.H_init"].expand(B, positions, cfg["hidden"]).clone()
    z = w["inner.L_init"].expand(B, positions, cfg["hidden"]).clone()
    rows = w[PUZZLE_TABLE][batch["puzzle_identifiers"].long()]
    with torch.no_grad():
        for _ in range(cfg["halt_max_steps"]):
            y, z, logits, q_halt, _ = g.inner_step(w, cfg, y, z, batch, rows)
    return logits.argmax(-1).to(torch.int32), logits.float(), q_halt.float()


def arch_cfg(config_text, shape):
    """The golden model's cfg dict from a trm-dist TOML [arch] and a data shape."""
    import tomllib
    arch = tomllib.loads(config_text).get("arch", {})
    hidden = arch.get("hidden_size", 512)
    ndim = arch.get("puzzle_emb_ndim", -1)
    ndim = hidden if ndim < 0 else ndim
    if ndim == 0:
        raise ValueError("the Python restatement needs a puzzle embedding (puzzle_emb_ndim > 0)")
    return dict(hidden=hidden, heads=arch.get("num_heads", 8), expansion=arch.get("expansion", 4.0),
                L_layers=arch.get("L_layers", 2), H_cycles=arch.get("H_cycles", 3),
                L_cycles=arch.get("L_cycles", 6), seq_len=shape["seq_len"], vocab=shape["vocab_size"],
                num_puzzle_ids=shape["num_puzzle_identifiers"], emb_ndim=ndim,
                emb_len=arch.get("puzzle_emb_len", 16), pos=arch.get("pos_encodings", "rope"),
                mlp_t=arch.get("mlp_t", False), halt_max_steps=arch.get("halt_max_steps", 16))


def perturbed_init(g, cfg, seed):
    """Initial weights (reference construction order) perturbed at each tensor's own scale (the
    zero-initialised ones at 0.1), so a swapped or missing tensor shows while the recursion
    stays well-conditioned."""
    torch.manual_seed(seed)
    w = g.init_weights(cfg)
    gen = torch.Generator().manual_seed(seed + 99)
    return {k: v + 0.1 * (v.std().item() if v.numel() > 1 and v.std() > 0 else 0.1) *
            torch.randn(v.shape, generator=gen) for k, v in w.items()}


def make_reference(prefix, config_path, dataset_dir, seed=0):
    import glob
    g = golden_module()
    shard = sorted(glob.glob(os.path.join(dataset_dir, "train", "*.h5")))[0]
    with h5py.File(shard, "r") as f:
        shape = {k: int(f.attrs[k]) for k in ("seq_len", "vocab_size", "num_puzzle_identifiers")}
    with open(config_path) as fh:
        cfg = arch_cfg(fh.read(), shape)
    w = perturbed_init(g, cfg, seed)
    torch.save({"_orig_mod.model." + k: v for k, v in w.items()}, prefix + ".pt")
    to_trm(prefix + ".pt", prefix + ".h5", config_path, shape["seq_len"])


def check_eval_outputs(checkpoint, outputs):
    g = golden_module()
    torch.set_num_threads(1)
    tensors, ints, _, texts = read_trm_checkpoint(checkpoint)
    shape = {k: ints["data." + k] for k in ("seq_len", "vocab_size", "num_puzzle_identifiers")}
    cfg = arch_cfg(texts["config"], shape)
    w = dict(tensors["model"])
    w.update(tensors.get("puzzle_emb", {}))
    w.update(tensors.get("ema", {}))
    with h5py.File(outputs, "r") as f:
        batch = {k: torch.from_numpy(f[k][()]) for k in ("inputs", "puzzle_identifiers")}
        cpp_preds = torch.from_numpy(f["preds"][()])
        cpp_q = torch.from_numpy(f["q_halt_logits"][()])
    preds, _, q_halt = evaluate(g, w, cfg, batch)
    differ = int((preds != cpp_preds).any(-1).sum())
    q_err = float((q_halt - cpp_q).abs().max())
    print(f"{len(preds)} examples: {differ} with different predictions, max |q_halt diff| {q_err:.2e}")
    return 0 if differ == 0 and q_err < 1e-3 else 1


def selftest(out_dir):
    g = golden_module()
    torch.set_num_threads(1)
    os.makedirs(out_dir, exist_ok=True)
    # The batches and the Python model's outputs, as a trm-dist file so the C++ test reads them
    # through the checkpoint reader (which also checks this script's CRC).
    expected = {}
    for name, cfg in g.VARIANTS.items():
        w = perturbed_init(g, cfg, 0)
        gen = torch.Generator().manual_seed(7)
        ref_path = os.path.join(out_dir, f"{name}_reference.pt")
        torch.save({"_orig_mod.model." + k: v for k, v in w.items()}, ref_path)

        trm_path = os.path.join(out_dir, f"{name}.h5")
        to_trm(ref_path, trm_path, seq_len=cfg["seq_len"])
        back_path = os.path.join(out_dir, f"{name}_back.pt")
        to_reference(trm_path, back_path)
        original, back = torch.load(ref_path), torch.load(back_path)
        assert original.keys() == back.keys(), "round trip changed the key set"
        for k in original:
            assert original[k].dtype == back[k].dtype and torch.equal(original[k], back[k]), k

        batch = golden_module("golden_common").make_batch(cfg, gen)
        preds, logits, q_halt = evaluate(g, w, cfg, batch)
        expected[name] = dict(batch, preds=preds, logits=logits, q_halt_logits=q_halt)
        print(f"{name}: round trip exact, predictions {preds[0].tolist()}")
    write_trm_checkpoint(os.path.join(out_dir, "interop_expected.h5"), expected)
    print("selftest passed")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("to-trm")
    a.add_argument("reference")
    a.add_argument("out")
    a.add_argument("--config", help="trm-dist TOML stored as /config (the run's settings)")
    a.add_argument("--seq-len", type=int, help="dataset seq_len stored as /state/data.seq_len")
    b = sub.add_parser("to-reference")
    b.add_argument("checkpoint")
    b.add_argument("out")
    b.add_argument("--raw", action="store_true", help="export /model even when /ema exists")
    b.add_argument("--no-compile-prefix", action="store_true", help="keys model.inner.* (no _orig_mod.)")
    c = sub.add_parser("verify")
    c.add_argument("checkpoint")
    m = sub.add_parser("make-reference")
    m.add_argument("prefix")
    m.add_argument("--config", required=True)
    m.add_argument("--dataset", required=True)
    m.add_argument("--seed", type=int, default=0)
    e = sub.add_parser("check-eval-outputs")
    e.add_argument("checkpoint")
    e.add_argument("outputs")
    d = sub.add_parser("selftest")
    d.add_argument("out_dir")
    args = ap.parse_args(argv)
    if args.cmd == "to-trm":
        to_trm(args.reference, args.out, args.config, args.seq_len)
    elif args.cmd == "to-reference":
        to_reference(args.checkpoint, args.out, args.raw, not args.no_compile_prefix)
    elif args.cmd == "verify":
        try:
            tensors, ints, _, _ = read_trm_checkpoint(args.checkpoint)
        except (ValueError, OSError, KeyError) as e:
            print(f"damaged: {e}")
            return 1
        print(f"ok: {args.checkpoint}: groups {sorted(tensors)}, step {ints.get('step')}")
    elif args.cmd == "make-reference":
        make_reference(args.prefix, args.config, args.dataset, args.seed)
    elif args.cmd == "check-eval-outputs":
        return check_eval_outputs(args.checkpoint, args.outputs)
    else:
        selftest(args.out_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
