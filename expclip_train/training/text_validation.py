"""Figures of the text-encoder stage's validation split, on which its recipes are chosen.

    python -m expclip_train.training.text_validation [--models DIR] [--json OUT.json]

The split (:mod:`.text_data`) follows from the seed and shares recorded in the weights' header
(``text_encoder_stage``), else from the shipped stage-3 recipe. Figures, each read off the decoded face as
the report reads them: emotion accuracy per kind of description, emotion words and situations also per
validation item; macro-F1 on the validation GoEmotions sentences with one emotion class. Each figure
twice: ``api`` through everything the API does around the heads (lexicon, phrase read apart), ``heads``
through the encoder and heads alone. The API's lexicon was built with the validation items counted as
known words, so ``api`` reads them with help a held-out word does not get: choose the encoder's recipe
on ``heads``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from expclip_blender.facs import read_emotions

from ..evaluation.expclip_report import GOEMOTIONS_CLASSES, by_item, macro_f1

KINDS = ("emotion_word", "situation", "mixture")


def _faces(model, texts: list[str], path: str) -> np.ndarray:
    if path == "api":
        return model.decode(model.embed_text(texts))
    return model.heads.decode(model.heads.project_text(model.text_encoder.encode(texts)))


def validation_figures(model, data, path: str = "heads") -> dict:
    """The validation figures of ``model`` (an :class:`expclip_blender.api.ExpClip`) on ``data``
    (a :class:`.text_data.TextStageData`), read through ``path`` ("api" or "heads")."""
    from ..tead.build import PhraseFinder, heldout_forms
    from .text_data import VALIDATION

    tead, emotions = data.tead, data.tead.emotions
    forms = heldout_forms(data.validation_items)
    finder = PhraseFinder(forms)
    out: dict = {}
    for kind in KINDS:
        idx, texts = tead.select(VALIDATION, [kind])
        keep = [i for i, e in enumerate(idx) if emotions[e] is not None]
        if not keep:
            continue
        truth = [emotions[idx[i]] for i in keep]
        predicted = read_emotions(_faces(model, [texts[i] for i in keep], path))
        right = np.array([t == p for t, p in zip(truth, predicted, strict=True)])
        out[kind] = {"n": len(keep), "accuracy": float(right.mean())}
        if kind != "mixture":
            found = [finder.search(texts[i]) for i in keep]
            out[kind]["items"] = by_item([forms[f] if f else None for f in found], truth, predicted)
    single = [
        p for p in tead.pairs
        if p.split == VALIDATION and p.kind == "goemotions" and p.text not in data.multi_label_texts
    ]  # fmt: skip
    if single:
        predicted = read_emotions(_faces(model, [p.text for p in single], path))
        truth = [p.emotion or "" for p in single]
        out["goemotions"] = {"n": len(single), "macro_f1": macro_f1(truth, predicted, GOEMOTIONS_CLASSES)}
    return out


def format_validation(figures: dict[str, dict]) -> str:
    """Both paths' figures as lines of text."""
    lines = ["Validation split (training items kept out; recipes are chosen on it):"]
    for path, fig in figures.items():
        parts = []
        for kind in KINDS:
            if kind in fig:
                r = fig[kind]
                mostly = ""
                if "items" in r:
                    good = sum(v["accuracy"] > 0.5 for v in r["items"].values())
                    mostly = f", {good}/{len(r['items'])} items"
                parts.append(f"{kind} {r['accuracy']:.1%} of {r['n']}{mostly}")
        if "goemotions" in fig:
            parts.append(
                f"GoEmotions macro-F1 {fig['goemotions']['macro_f1']:.3f} of {fig['goemotions']['n']}"
            )
        lines.append(f"  {path:5s} " + "; ".join(parts))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from expclip_blender.api import load

    from ..recipes import recipe_values
    from ..tead.build import DEFAULT_GOEMOTIONS_DIR, build_tead
    from .text_data import text_stage_data

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--models", type=Path, default=None, help="folder with the weights (default: bundled)"
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the figures as JSON")
    args = parser.parse_args(argv)
    model = load(models_dir=args.models)
    recipe = json.loads(model.heads.metadata.get("text_encoder_stage", "null")) or recipe_values(
        "expclip-text"
    )
    seed = recipe["seed"]
    tead = build_tead(seed=seed)
    data = text_stage_data(
        tead, seed, recipe["validation_share"], recipe["goemotions_validation_share"], DEFAULT_GOEMOTIONS_DIR
    )
    figures = {path: validation_figures(model, data, path) for path in ("heads", "api")}
    print(format_validation(figures))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
