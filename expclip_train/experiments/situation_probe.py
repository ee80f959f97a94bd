"""Experiment, not shipped: do the text side's embeddings know the unseen situations' emotions?

A multinomial logistic probe (``evaluation.text_probe.fit_logistic``) fitted on the bundled model's
embeddings of TEAD's training situation descriptions (a seeded 12,000 of the distinct ones, with their
expression's emotion class), read on the strict held-out split's situation descriptions (distinct texts),
beside the face path on the same texts (``faces()`` -> ``facs.read_emotions``, as the report reads them).
Two embeddings: the style embedding the faces are decoded from (``embed_text``) and the sentence encoder's
features before the projection. If the probe reads the held-out situations no better than the face path,
what is missing is in the text side, not in the decoder or the reader.

    .venv/bin/python -m expclip_train.experiments.situation_probe

What it measured is in docs/experiments.md.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import numpy as np

TRAIN_TEXTS = 12000


def _situations(tead, split: str, cap: int | None, seed: int = 0) -> tuple[list[str], list[str]]:
    """Distinct (text, emotion) situation descriptions of ``split``, at most ``cap`` (seeded draw)."""
    idx, texts = tead.select(split, ["situation"])
    emotions = tead.emotions  # built from the metadata on every access
    rows = list(dict.fromkeys((t, emotions[e]) for e, t in zip(idx, texts, strict=True)))
    rows = [(t, e) for t, e in rows if e is not None]
    if cap is not None and len(rows) > cap:
        keep = np.random.default_rng(seed).choice(len(rows), cap, replace=False)
        rows = [rows[i] for i in sorted(keep)]
    return [t for t, _ in rows], [e for _, e in rows]


def main(argv: list[str] | None = None) -> int:
    import torch

    import expclip_blender as ex
    from expclip_blender.facs import read_emotions

    from ..evaluation.text_probe import fit_logistic
    from ..tead.build import build_tead

    tead = build_tead(seed=0)
    train_texts, train_labels = _situations(tead, "train", TRAIN_TEXTS)
    test_texts, test_labels = _situations(tead, "heldout", None)
    classes = sorted(set(train_labels))
    y_train = np.array([classes.index(e) for e in train_labels])
    y_test = np.array([classes.index(e) if e in classes else -1 for e in test_labels])
    model = ex.load()
    embeddings: dict[str, Callable[[list[str]], np.ndarray]] = {
        "style embedding": model.embed_text,
        "sentence features": model.text_encoder.encode,
    }
    print(f"{len(train_texts)} training and {len(test_texts)} strict held-out situation texts")
    for name, embed in embeddings.items():
        probe = fit_logistic(np.asarray(embed(train_texts), np.float32), y_train, len(classes))
        with torch.no_grad():
            scores = probe(torch.from_numpy(np.asarray(embed(test_texts), np.float32)))
        print(f"  probe on the {name}: {np.mean(scores.argmax(1).numpy() == y_test):.1%}")
    read = read_emotions(model.faces(test_texts))
    right = np.mean([r == t for r, t in zip(read, test_labels, strict=True)])
    print(f"  face path (faces -> emotion reader): {right:.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
