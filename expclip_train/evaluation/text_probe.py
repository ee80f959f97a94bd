"""The text-only baseline of the GoEmotions figure: a logistic-regression probe on sentence embeddings.

A multinomial logistic regression (L2, ``C`` as in scikit-learn's default of 1) on the frozen MiniLM
sentence embeddings of GoEmotions train (every sentence whose labels fall in one Ekman class, through the
authors' ``ekman_mapping.json``, or that is neutral alone; sentences that also occur in dev left out),
read on dev. It is what a text classifier on the same features reaches without going through a face, so
the model's figure (text -> style -> decoded face -> emotion reader) is read beside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..tead.build import normalize_text
from ..tead.goemotions import is_goemotions_dir, load_goemotions
from ..text_embeddings import embed_texts_cached


def fit_logistic(x: np.ndarray, y: np.ndarray, n_classes: int, c: float = 1.0, steps: int = 200) -> nn.Linear:
    """Multinomial logistic regression on (N, D) features: mean cross-entropy + ||W||^2 / (2 C N)."""
    gen = torch.Generator().manual_seed(0)
    layer = nn.Linear(x.shape[1], n_classes)
    nn.init.normal_(layer.weight, std=0.01, generator=gen)
    nn.init.zeros_(layer.bias)
    xt, yt = torch.from_numpy(np.asarray(x, np.float32)), torch.from_numpy(np.asarray(y, np.int64))
    opt = torch.optim.LBFGS(layer.parameters(), lr=1.0, max_iter=steps, line_search_fn="strong_wolfe")
    penalty = 0.5 / (c * len(xt))

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = nn.functional.cross_entropy(layer(xt), yt) + penalty * (layer.weight**2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    return layer.eval()


def goemotions_probe(
    dev_texts: Sequence[str], classes: Sequence[str], goemotions_dir: Path, cache_dir: Path
) -> dict | None:
    """``{"predicted": [class per dev text], "n_train": int}`` of the probe, or None without GoEmotions."""
    if not is_goemotions_dir(goemotions_dir):
        return None
    dev = {normalize_text(t) for t in dev_texts}
    train = [
        s
        for s in load_goemotions(goemotions_dir, "train")
        if s.emotion in classes and normalize_text(s.text) not in dev
    ]
    x = embed_texts_cached([s.text for s in train], cache_dir)
    y = np.array([list(classes).index(s.emotion) for s in train])
    layer = fit_logistic(x, y, len(classes))
    with torch.no_grad():
        logits = layer(torch.from_numpy(embed_texts_cached(list(dev_texts), cache_dir)))
    return {"predicted": [classes[j] for j in logits.argmax(1).tolist()], "n_train": len(train)}
