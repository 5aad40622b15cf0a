#!/usr/bin/python3
"""Writes the seed corpora of tests/fuzz/corpus/ (docs/FUZZING.md). Tiny, made-up inputs only:
ARC puzzles invented here, Sudoku/Maze rows, a configs/ file with overrides, and small HDF5
files in the exact layouts of datasets/SCHEMA.md (a trm-convert shard: chunked + deflate) and
docs/CHECKPOINTS.md (with its CRC32), written with h5py on Debian's libhdf5.
Run from the repository root with Debian's python: /usr/bin/python3 tests/fuzz/make_seeds.py"""
import json, os, random, zlib

import h5py
import numpy as np

ROOT = os.path.join("tests", "fuzz", "corpus")
SEP = b"\x1e"  # separates the parts of one input (see the fuzz_*.cpp headers)


def put(target, name, data):
    os.makedirs(os.path.join(ROOT, target), exist_ok=True)
    with open(os.path.join(ROOT, target, name), "wb") as f:
        f.write(data)


def arc():
    a = {"train": [{"input": [[0, 1], [1, 0]], "output": [[1, 0], [0, 1]]}],
         "test": [{"input": [[1, 1], [0, 0]]}]}
    b = {"train": [{"input": [[3]], "output": [[3, 3]]}, {"input": [[5]], "output": [[5, 5]]}],
         "test": [{"input": [[7]]}, {"input": [[9]]}]}
    challenges = json.dumps({"0000aaaa": a, "0000bbbb": b}).encode()
    solutions = json.dumps({"0000aaaa": [[[0, 0], [1, 1]]], "0000bbbb": [[[7, 7]], [[9, 9]]]}).encode()
    put("arc_json", "kaggle", challenges + SEP + solutions)
    put("arc_json", "challenges_only", challenges)
    task = dict(a, test=[{"input": [[1, 1], [0, 0]], "output": [[0, 0], [1, 1]]}])
    put("arc_json", "task", json.dumps(task, indent=1).encode())


def config():
    for name, overrides in [("test_tiny.toml", b"arch.L_cycles=2\ntrain.epochs=3"),
                            ("sudoku_mlp.toml", b"arch.mlp_t=false"),
                            ("hrm_maze.toml", b"")]:
        with open(os.path.join("configs", name), "rb") as f:
            put("config_toml", name, f.read() + SEP + overrides)


def csv():
    q = "..3.2.6..9..3.5..1..18.64....81.29..7.......8..67.82....26.95..8..2.3..9..5.1.3.."
    a = "483921657967345821251876493548132976729564138136798245372689514814253769695417382"
    put("csv_readers", "sudoku", f"source,question,answer,rating\nx,{q},{a},3\ny,\"{q}\",{a},0\n".encode())
    mq, ma = "#S  # ##  G ####", "#Soo#o##oooG####"
    put("csv_readers", "maze", f"source,question,answer,rating\nm,{mq},{ma},1\r\nn,{mq},{mq},0\n".encode())


def dataset_shard(path, rng):
    seq, groups = 6, [[2, 1], [1]]  # examples per puzzle, puzzles per group
    pidx, gidx, ids = [0], [0], []
    for g in groups:
        for n in g:
            pidx.append(pidx[-1] + n)
            ids.append(len(ids) + 1)
        gidx.append(gidx[-1] + len(g))
    rows = pidx[-1]
    with h5py.File(path, "w") as f:
        meta = dict(format_version=1, seq_len=seq, vocab_size=11, pad_id=0, ignore_label_id=0,
                    blank_identifier_id=0, num_puzzle_identifiers=len(ids) + 1,
                    total_groups=len(groups), total_puzzles=len(ids), total_examples=rows,
                    num_shards=1, shard_index=0, shard_groups=len(groups), shard_puzzles=len(ids),
                    shard_examples=rows, first_group=0, first_puzzle=0, first_example=0,
                    chunk_rows=2)
        for k, v in meta.items():
            f.attrs[k] = np.int64(v)
        for k, v in dict(kind="sudoku", split="train", sets="all").items():
            f.attrs[k] = np.bytes_(v)
        f.attrs["mean_puzzle_examples"] = np.float64(rows / len(ids))
        f["puzzle_indices"] = np.array(pidx, np.int64)
        f["group_indices"] = np.array(gidx, np.int64)
        f["puzzle_identifiers"] = np.array(ids, np.int32)
        for name in ("inputs", "labels"):
            f.create_dataset(name, data=rng.integers(1, 11, (rows, seq), dtype=np.uint8),
                             chunks=(2, seq), maxshape=(None, seq), compression="gzip")


def checkpoint(path, rng):
    items = {
        "config": np.frombuffer(b'[arch]\nhidden_size = 8\n', np.uint8),
        "model/inner.lm_head.weight": rng.standard_normal((3, 4)).astype(np.float32),
        "model/inner.q_head.bias": np.array([0.5, -1.0], np.float32),
        "puzzle_emb/inner.puzzle_emb.weights": np.zeros((2, 4), np.float32),
        "optim/m/inner.lm_head.weight": np.ones((3, 4), np.float32),
        "state/step": np.int64(7),
        "state/lr": np.float64(1e-4),
        "state/sampler": np.frombuffer(b"\x01\x02\x03", np.uint8),
        "carry/rank0/steps": np.array([1, 2], np.int32),
    }
    with h5py.File(path, "w") as f:
        crc = 0
        for name in sorted(items):
            f[name] = items[name]
            crc = zlib.crc32(name.encode(), crc)
            crc = zlib.crc32(np.ascontiguousarray(items[name]).tobytes(), crc)
        f.attrs["format"] = np.bytes_("trm-dist-checkpoint")
        f.attrs["format_version"] = np.int64(1)
        f.attrs["checksum_crc32"] = np.uint32(crc)
        f.attrs["created_by"] = np.bytes_("make_seeds.py")


def structured(target, rng):
    for i in range(4):  # decoded by FuzzedDataProvider: any bytes are a valid description
        put(target, f"random{i}", bytes(rng.integers(0, 256, 32 * (i + 1), dtype=np.uint8)))


def main():
    rng = np.random.default_rng(0)
    arc(); config(); csv()
    os.makedirs(os.path.join(ROOT, "dataset_raw"), exist_ok=True)
    dataset_shard(os.path.join(ROOT, "dataset_raw", "shard.h5"), rng)
    os.makedirs(os.path.join(ROOT, "ckpt_raw"), exist_ok=True)
    checkpoint(os.path.join(ROOT, "ckpt_raw", "step.h5"), rng)
    structured("dataset_struct", rng)
    structured("ckpt_struct", rng)


if __name__ == "__main__":
    main()
