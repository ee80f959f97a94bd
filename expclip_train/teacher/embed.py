"""Embed a vocabulary with the teacher, in resumable shards.

Texts are sorted by length (so a batch pads little) and cut into shards of ``shard_size``; each finished
shard is written as ``shards/NNNNN.npz`` (the texts' positions and their float16 embeddings) and skipped
when the command runs again. When all shards are there, ``teacher.npz`` gathers them in vocabulary
order: ``texts``, ``kinds``, ``embeddings`` (N x dim float16, unit length).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

__all__ = ["OUTPUT_FILE", "embed_sharded", "load_teacher_embeddings", "vocabulary_digest"]

OUTPUT_FILE = "teacher.npz"
EncodeFn = Callable[[list[str]], np.ndarray]


def vocabulary_digest(texts: list[str], kinds: list[str]) -> str:
    """SHA-256 of the texts and kinds in order: shards are only reused for the same vocabulary."""
    digest = hashlib.sha256()
    for text, kind in zip(texts, kinds, strict=True):
        digest.update(f"{kind}\t{text}\n".encode())
    return digest.hexdigest()


def _shard_plan(texts: list[str], shard_size: int, lengths: list[int] | None = None) -> list[np.ndarray]:
    key = lengths if lengths is not None else [len(t) for t in texts]
    order = sorted(range(len(texts)), key=lambda i: (key[i], i))
    return [np.array(order[i : i + shard_size], dtype=np.int64) for i in range(0, len(order), shard_size)]


def _check_manifest(out: Path, digest: str, n: int) -> None:
    manifest = out / "vocabulary.json"
    if manifest.is_file():
        old = json.loads(manifest.read_text(encoding="utf-8"))
        if old.get("digest") != digest:
            raise ValueError(
                f"{out} holds shards of a different vocabulary ({old.get('texts')} texts); "
                "use another --out folder or delete this one"
            )
    else:
        out.mkdir(parents=True, exist_ok=True)
        manifest.write_text(json.dumps({"digest": digest, "texts": n}) + "\n", encoding="utf-8")


def embed_sharded(
    texts: list[str],
    kinds: list[str],
    encode: EncodeFn,
    out: Path,
    *,
    shard_size: int = 2000,
    lengths: list[int] | None = None,
    log: Callable[[str], None] = print,
) -> dict:
    """Embed ``texts`` into ``out`` (resuming finished shards), write ``teacher.npz``; returns run figures.
    ``lengths``: each text's length in tokens, to sort by (default: in characters)."""
    out = Path(out)
    _check_manifest(out, vocabulary_digest(texts, kinds), len(texts))
    shard_dir = out / "shards"
    shard_dir.mkdir(parents=True, exist_ok=True)
    plan = _shard_plan(texts, shard_size, lengths)
    t0, embedded, reused = time.perf_counter(), 0, 0
    for k, index in enumerate(plan):
        path = shard_dir / f"{k:05d}.npz"
        if path.is_file():
            with np.load(path, allow_pickle=False) as old:
                if np.array_equal(old["index"], index):
                    reused += len(index)
                    continue
        emb = np.asarray(encode([texts[i] for i in index]), dtype=np.float32)
        if emb.shape[0] != len(index) or not np.isfinite(emb).all():
            raise ValueError(f"shard {k}: the encoder returned {emb.shape} or non-finite values")
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, index=index, emb=emb.astype(np.float16))
        tmp.replace(path)  # a shard is there whole or not at all
        embedded += len(index)
        rate = embedded / (time.perf_counter() - t0)
        left = sum(len(p) for p in plan[k + 1 :])
        log(
            f"{time.strftime('%H:%M:%S')} shard {k + 1}/{len(plan)}: {embedded + reused}/{len(texts)} texts, "
            f"{rate:.1f} texts/s, "
            f"about {left / rate / 60:.1f} min left"
        )
    seconds = time.perf_counter() - t0
    _gather(texts, kinds, plan, shard_dir, out / OUTPUT_FILE)
    return {"embedded": embedded, "reused": reused, "seconds": round(seconds, 1)}


def _gather(texts: list[str], kinds: list[str], plan: list[np.ndarray], shard_dir: Path, path: Path) -> None:
    emb = None
    for k, index in enumerate(plan):
        with np.load(shard_dir / f"{k:05d}.npz", allow_pickle=False) as shard:
            if emb is None:
                emb = np.zeros((len(texts), shard["emb"].shape[1]), np.float16)
            emb[index] = shard["emb"]
    if emb is None:
        emb = np.zeros((0, 0), np.float16)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, texts=np.array(texts, dtype=str), kinds=np.array(kinds, dtype=str), embeddings=emb)
    tmp.replace(path)


def load_teacher_embeddings(directory: Path) -> tuple[list[str], list[str], np.ndarray]:
    """(texts, kinds, embeddings float32) from ``directory/teacher.npz``."""
    with np.load(Path(directory) / OUTPUT_FILE, allow_pickle=False) as data:
        return list(data["texts"]), list(data["kinds"]), data["embeddings"].astype(np.float32)
