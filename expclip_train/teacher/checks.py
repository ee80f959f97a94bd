"""Offline checks of the reassembled teacher against what its model card describes (``teacher check``).

The card gives no reference vectors or benchmark numbers that can be reproduced offline, so these check
its stated structure (768-d, mean pooling, L2 norm, 384 word pieces) and its stated purpose (near meanings
score a higher cosine than unrelated text); docs/teacher.md lists what remains unverified.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import numpy as np

from .mpnet import MODEL_INFO, MpnetTeacher

CHECKS: dict = tomllib.loads(Path(__file__).with_name("checks.toml").read_text(encoding="utf-8"))


def _config_checks(model_dir: Path) -> list[tuple[str, bool, str]]:
    pooling = json.loads((model_dir / "1_Pooling" / "config.json").read_text(encoding="utf-8"))
    st = json.loads((model_dir / "sentence_bert_config.json").read_text(encoding="utf-8"))
    modules = [m["type"].rsplit(".", 1)[-1] for m in json.loads((model_dir / "modules.json").read_text())]
    stack = ["Transformer", "Pooling", "Normalize"]
    return [
        ("pooling is the mean over tokens", bool(pooling.get("pooling_mode_mean_tokens")), str(pooling)),
        ("max_seq_length 384", st.get("max_seq_length") == MODEL_INFO["max_seq_length"], str(st)),
        ("modules Transformer, Pooling, Normalize", modules == stack, str(modules)),
        ("dimension 768", pooling.get("word_embedding_dimension") == MODEL_INFO["dim"], str(pooling)),
    ]  # fmt: skip


def behaviour_checks(teacher: MpnetTeacher) -> list[tuple[str, bool, str]]:
    """(name, passed, detail) for the card's example, truncation and the near/unrelated triples."""
    out = []
    example = teacher.encode(CHECKS["card_example"])
    norms = np.linalg.norm(example, axis=1)
    shaped = example.shape == (2, MODEL_INFO["dim"]) and bool(np.isfinite(example).all())
    detail = f"shape {example.shape}, norms {np.round(norms, 5).tolist()}"
    out.append(
        ("card example: (2, 768), finite, unit length", shaped and np.allclose(norms, 1, atol=1e-4), detail)
    )
    long_text = " ".join(["word"] * 1000)
    n_tokens = teacher.token_lengths([long_text])[0]
    long_emb = teacher.encode([long_text])
    truncated = n_tokens == MODEL_INFO["max_seq_length"] and bool(np.isfinite(long_emb).all())
    out.append(("1000 words truncate to 384 word pieces", truncated, f"{n_tokens} tokens"))
    triples = CHECKS["triples"]
    emb = teacher.encode([t for triple in triples for t in triple]).reshape(len(triples), 3, -1)
    near = np.einsum("td,td->t", emb[:, 0], emb[:, 1])
    far = np.einsum("td,td->t", emb[:, 0], emb[:, 2])
    for (anchor, a, b), n, f in zip(triples, near, far, strict=True):
        out.append((f"{anchor!r}: {a!r} nearer than {b!r}", bool(n > f), f"cos {n:.3f} vs {f:.3f}"))
    return out


def run_checks(teacher: MpnetTeacher, model_dir: Path) -> int:
    """Print every check; returns how many failed."""
    results = _config_checks(Path(model_dir)) + behaviour_checks(teacher)
    for name, passed, detail in results:
        print(f"{'ok  ' if passed else 'FAIL'} {name} ({detail})")
    failed = sum(not passed for _, passed, _ in results)
    print(f"{len(results) - failed}/{len(results)} checks passed")
    return failed
