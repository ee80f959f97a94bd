"""The frozen lower layers' output per text, computed once and kept on disk for the text-encoder stage.

The bottom layers of MiniLM never change while its top layers train, so a text's hidden states after them
are the same every time it is drawn. They are computed the first time a text is drawn and kept in a
float16 memory-mapped file (tokens x 384, packed in text order) with a flag per text; a resumed run finds
them there. The file is named by a digest of the texts, the base model and the number of frozen layers,
so another vocabulary or split never reads stale rows. float16 moves the sentence embedding by < 1e-4.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import torch

from expclip_blender.text_encoder import base_model_sha256

from .minilm_torch import MiniLMTorch, Tokens

CHUNK = 256  # texts per no-grad forward pass when filling


def cache_key(texts: list[str], first_trained: int) -> str:
    """Digest of what the cached rows depend on: the texts in order, the base model, the frozen depth."""
    digest = hashlib.sha256(f"{base_model_sha256()}|{first_trained}\n".encode())
    for text in texts:
        digest.update(text.encode() + b"\n")
    return digest.hexdigest()[:16]


class BottomCache:
    """``hidden(rows)``: the bottom layers' packed output for texts ``rows`` of ``tokens``; with
    ``directory`` None nothing is kept (every call runs the bottom layers)."""

    def __init__(self, model: MiniLMTorch, tokens: Tokens, texts: list[str], directory: Path | None) -> None:
        self.model, self.tokens = model, tokens
        self.rows = self.filled = None
        self.computed = 0
        if directory is None:
            return
        directory.mkdir(parents=True, exist_ok=True)
        stem = directory / f"minilm-bottom-{cache_key(texts, model.first_trained)}"
        rows_path, flags_path = stem.with_suffix(".f16"), stem.with_suffix(".filled")
        shape = (int(tokens.offsets[-1]), int(model.embeddings.word_embeddings.embedding_dim))
        fresh = not (rows_path.is_file() and flags_path.is_file())
        mode = "w+" if fresh else "r+"
        self.rows = np.memmap(rows_path, dtype=np.float16, mode=mode, shape=shape)
        self.filled = np.memmap(flags_path, dtype=np.bool_, mode=mode, shape=(len(tokens),))

    def hidden(self, rows: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        """(packed float32 hidden states (tokens, 384), lengths) of texts ``rows``, in that order."""
        if self.rows is None:
            ids, lengths = self.tokens.batch(rows)
            self.computed += len(rows)
            return self.model.bottom(ids, lengths), lengths
        missing = np.unique(rows[~self.filled[rows]])
        for start in range(0, len(missing), CHUNK):
            chunk = missing[start : start + CHUNK]
            ids, lengths = self.tokens.batch(chunk)
            out = self.model.bottom(ids, lengths).numpy().astype(np.float16)
            at = 0
            for r, n in zip(chunk, lengths.tolist(), strict=True):
                self.rows[self.tokens.offsets[r] : self.tokens.offsets[r] + n] = out[at : at + n]
                at += n
            self.filled[chunk] = True
            self.computed += len(chunk)
        off = self.tokens.offsets
        packed = np.concatenate([self.rows[off[r] : off[r + 1]] for r in rows]).astype(np.float32)
        return torch.from_numpy(packed), torch.from_numpy(self.tokens.lengths[rows])

    def flush(self) -> None:
        """Write the rows filled so far to disk (at checkpoints: a resumed run keeps them)."""
        if self.rows is not None:
            self.rows.flush()
            self.filled.flush()
