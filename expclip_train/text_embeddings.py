"""Frozen MiniLM sentence embeddings in bulk, for training and evaluation, kept in a cache.

The encoder is frozen, so each text is embedded once (with transformers' BertModel, fast in bulk; the same
numbers as the numpy encoder used at inference, which the tests check) and kept in
``cache_dir/minilm-cache.npz`` (texts and vectors, no pickle) across runs and dataset revisions.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from expclip_blender.text_encoder import EMBED_DIM


def embed_texts_cached(texts: list[str], cache_dir: Path) -> np.ndarray:
    """MiniLM embeddings of ``texts``; the encoder is frozen, so each text is embedded once and kept in
    ``cache_dir/minilm-cache.npz`` (texts and vectors, no pickle) across runs and dataset revisions."""
    path = cache_dir / "minilm-cache.npz"
    known: dict[str, np.ndarray] = {}
    if path.is_file():
        with np.load(path, allow_pickle=False) as cached:
            known = dict(zip(cached["texts"].tolist(), cached["embeddings"], strict=True))
    missing = sorted({t for t in texts if t not in known})
    if missing:
        start = time.time()
        fresh = embed_texts_transformers(missing)
        print(f"embedded {len(missing):,} new texts with MiniLM in {time.time() - start:.0f} s")
        known.update(zip(missing, fresh, strict=True))
        cache_dir.mkdir(parents=True, exist_ok=True)
        all_texts = sorted(known)
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, texts=np.array(all_texts), embeddings=np.stack([known[t] for t in all_texts]))
        tmp.replace(path)
    return np.stack([known[t] for t in texts]).astype(np.float32)


def embed_texts_transformers(texts: list[str], batch_size: int = 256) -> np.ndarray:
    """MiniLM sentence embeddings with transformers' BertModel (fast in bulk; same numbers as the numpy
    encoder used at inference, which the tests check)."""
    from transformers import BertModel, BertTokenizerFast

    from expclip_blender.text_encoder import MAX_TOKENS, minilm_dir

    tokenizer = BertTokenizerFast.from_pretrained(minilm_dir())
    model = BertModel.from_pretrained(minilm_dir()).eval()
    out = np.zeros((len(texts), EMBED_DIM), dtype=np.float32)
    order = np.argsort([len(t) for t in texts])
    with torch.inference_mode():
        for start in range(0, len(texts), batch_size):
            idx = order[start : start + batch_size]
            batch = tokenizer(
                [texts[i] for i in idx],
                padding=True,
                truncation=True,
                max_length=MAX_TOKENS,
                return_tensors="pt",
            )
            hidden = model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).float()
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            out[idx] = nn.functional.normalize(pooled, dim=-1).numpy()
    return out
