"""Experiment, not shipped: where the generator's lip-sync misses come from, phone by phone.

Two readings of the generator report's held-out clips (neutral prompt, 30 fps, the report's own metrics):

* ``--langs ja,tr``: per language of the multilingual check, bilabial closure by IPA phoneme and the
  rounding AUC of each rounded phoneme against all spread vowels (and of each spread vowel against all
  rounded ones), so a language's miss can be traced to the sounds behind it;
* ``--compare FOLDER``: the real-English rounding AUC of the bundled generator against the one in FOLDER,
  with a paired bootstrap over clips (the held-out check has a few dozen rounded vowels).

    python -m expclip_train.experiments.lipsync_by_phone --corpus build/corpus [--langs ja,tr,cmn]
        [--compare FOLDER] [--resamples 2000]

What it measured is in docs/experiments.md.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

from ..evaluation.generator_report import FPS, NEUTRAL_PROMPT, load_heldout
from ..evaluation.languages import load_multilingual
from ..speech import metrics
from ..speech.coarticulation import mouth_aperture
from ..speech.phones import BILABIALS, ROUNDED, SPREAD_VOWELS


def _weights(model, clip) -> np.ndarray:
    return model.animate(clip.audio, 16000, prompt=NEUTRAL_PROMPT, fps=FPS, blinks=False, gaze=False)


def by_phoneme(model, clips) -> dict[str, dict[str, list[float]]]:
    """{"closed" | "rounded" | "spread": {IPA: per-phone values}} over ``clips`` (closure as 0/1)."""
    out: dict[str, dict[str, list[float]]] = {k: defaultdict(list) for k in ("closed", "rounded", "spread")}
    for clip in clips:
        w = _weights(model, clip)
        ap, rounding = mouth_aperture(w), metrics.lip_rounding(w)
        n = len(ap)
        phones = metrics._phones(clip.phones, n, FPS)
        ref = metrics.reference_aperture(ap, phones, FPS)
        ipa_at = {round(p["s"], 3): p["p"] for p in clip.meta.get("ipa_phones", [])}
        for p in phones:
            ipa = ipa_at.get(round(p.start, 3), p.label)
            centre = float(np.interp(p.center * FPS, np.arange(n), rounding))
            if p.label in BILABIALS:
                closed = ap[metrics.phone_frames(p, FPS, n)].min() <= metrics.CLOSED_FRACTION * ref
                out["closed"][ipa].append(float(closed))
            if p.label in ROUNDED:
                out["rounded"][ipa].append(centre)
            if p.label in SPREAD_VOWELS:
                out["spread"][ipa].append(centre)
    return out


def _print_language(lang: str, values: dict[str, dict[str, list[float]]]) -> None:
    spread = np.concatenate([np.asarray(v) for v in values["spread"].values()] or [np.zeros(0)])
    rounded = np.concatenate([np.asarray(v) for v in values["rounded"].values()] or [np.zeros(0)])
    print(f"{lang}: closure by phoneme (share closed / count):")
    print("   " + ", ".join(f"{k} {np.mean(v):.2f}/{len(v)}" for k, v in sorted(values["closed"].items())))
    print(f"{lang}: rounding AUC of each rounded phoneme against every spread vowel:")
    print(
        "   "
        + ", ".join(f"{k} {metrics.roc_auc(v, spread):.2f}/{len(v)}" for k, v in values["rounded"].items())
    )
    print(f"{lang}: each spread vowel against every rounded one (low: rounded like them):")
    print(
        "   "
        + ", ".join(f"{k} {metrics.roc_auc(rounded, v):.2f}/{len(v)}" for k, v in values["spread"].items())
    )


def _rounding_stats(model, clips) -> list[tuple[np.ndarray, np.ndarray]]:
    out = []
    for clip in clips:
        r = metrics.lip_rounding(_weights(model, clip))
        phones = metrics._phones(clip.phones, len(r), FPS)
        out.append(
            (
                metrics._stats(r, phones, FPS, ROUNDED, "centre"),
                metrics._stats(r, phones, FPS, SPREAD_VOWELS, "centre"),
            )
        )
    return out


def _auc(stats, idx) -> float:
    return metrics.roc_auc(
        np.concatenate([stats[i][0] for i in idx]), np.concatenate([stats[i][1] for i in idx])
    )


def compare_rounding(bundled, other, clips, resamples: int, seed: int = 0) -> dict[str, float]:
    """Rounding AUC of both models on ``clips`` and a paired bootstrap over clips of their difference."""
    a, b = _rounding_stats(bundled, clips), _rounding_stats(other, clips)
    rng, n = np.random.default_rng(seed), len(clips)
    diffs = []
    for _ in range(resamples):
        pick = rng.integers(0, n, n)
        diffs.append(_auc(a, pick) - _auc(b, pick))
    d = np.asarray(diffs)
    lo, hi = np.percentile(d, [2.5, 97.5])
    return {"bundled": _auc(a, range(n)), "other": _auc(b, range(n)), "low": float(lo), "high": float(hi),
            "share_below": float((d < 0).mean()), "rounded": float(sum(len(s[0]) for s in a))}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    from expclip_blender import api

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--langs", default="", help="languages of the multilingual check, comma-separated")
    parser.add_argument("--compare", type=Path, default=None, help="a models folder to compare rounding with")
    parser.add_argument("--resamples", type=int, default=2000)
    args = parser.parse_args(argv)
    model = api.load()
    langs = [x for x in args.langs.split(",") if x]
    if langs:
        clips = load_multilingual(args.corpus)
        for lang in langs:
            _print_language(lang, by_phoneme(model, [c for c in clips if c.meta.get("lang") == lang]))
    if args.compare is not None:
        aligned, _, _ = load_heldout(args.corpus)
        r = compare_rounding(model, api.load(models_dir=args.compare), aligned, args.resamples)
        print(
            f"real English rounding AUC ({int(r['rounded'])} rounded phones, {len(aligned)} clips): bundled "
            f"{r['bundled']:.3f}, {args.compare} {r['other']:.3f}; difference 95% interval "
            f"[{r['low']:+.3f}, {r['high']:+.3f}], share of resamples where the bundled one is lower "
            f"{r['share_below']:.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
