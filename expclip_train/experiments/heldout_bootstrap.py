"""Experiment, not shipped: how precisely the real-English held-out check measures the figures it marks.

The generator report scores 20 held-out clips of two real speakers (71 rounded vowels for the rounding
figure). This resamples those clips with replacement (a clip bootstrap: every resample is a check of the
same size drawn from the same speakers) and prints, for each real-English target figure, the figure, its
95 % interval, and the share of resamples that meet the target; the same for the closure lost under the
report's 10 dB babble and music (the report's own degraded clips: same pool, same seeds), as a paired
difference. With two speakers only, speaker-to-speaker spread is not in the interval: the figure on each
speaker's clips alone is printed beside it. With several ``--models`` folders, the difference of each
against the first is bootstrapped the same way (paired: the same resampled clips for both).

    .venv/bin/python -m expclip_train.experiments.heldout_bootstrap --corpus build/corpus \\
        [--models FOLDER ...] [--resamples 2000]     # about 5 minutes a folder on 2 cores

What it measured is in docs/experiments.md.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..evaluation.generator_report import FPS, load_heldout, neutral_animation, oracle_weights, run_system
from ..evaluation.robustness import babble_pool, degraded_clips
from ..evaluation.targets import generator_targets
from ..speech.metrics import pooled_metrics

FIGURES = ("bilabial_closure_rate", "open_bilabial_auc", "rounding_auc", "openness_correlation")
NOISES = ("babble", "music")
SHORT = {
    "bilabial_closure_rate": "closure",
    "open_bilabial_auc": "open/bilabial AUC",
    "rounding_auc": "rounding AUC",
    "openness_correlation": "openness r",
}


def pooled(weights: Sequence[np.ndarray], clips: Sequence, idx: Sequence[int]) -> dict[str, float]:
    """:func:`pooled_metrics` of the clips at ``idx`` (repeats allowed)."""
    return pooled_metrics((weights[i], clips[i].phones, FPS) for i in idx)


def bootstrap(
    runs: dict[str, list[np.ndarray]], clips: Sequence, resamples: int, seed: int
) -> dict[str, np.ndarray]:
    """Each run's figures (``FIGURES``, in that order) on ``resamples`` clip resamples: name -> (B, F)."""
    rng = np.random.default_rng(seed)
    n = len(clips)
    out = {name: np.empty((resamples, len(FIGURES))) for name in runs}
    for b in range(resamples):
        idx = rng.integers(0, n, n)
        for name, weights in runs.items():
            figs = pooled(weights, clips, idx)
            out[name][b] = [figs[k] for k in FIGURES]
    return out


def interval(values: np.ndarray) -> tuple[float, float]:
    """The central 95 % of ``values`` (NaNs left out)."""
    v = values[np.isfinite(values)]
    return (float(np.percentile(v, 2.5)), float(np.percentile(v, 97.5))) if v.size else (math.nan, math.nan)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m expclip_train.experiments.heldout_bootstrap")
    parser.add_argument("--corpus", type=Path, default=Path("build/corpus"))
    parser.add_argument(
        "--models", type=Path, nargs="*", default=[None], help="model folders (default: shipped)"
    )
    parser.add_argument("--resamples", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)

    import torch

    from expclip_blender import api

    torch.set_num_threads(args.threads)
    clips, _, _ = load_heldout(args.corpus)
    if not clips:
        parser.error(f"{args.corpus} has no aligned held-out clip")
    targets = generator_targets()["english"]
    pool = babble_pool(args.corpus)
    noisy = {name: degraded_clips(clips, name, pool) for name in NOISES}  # the report's own
    runs: dict[str, list[np.ndarray]] = {"oracle (training targets)": [oracle_weights(c) for c in clips]}
    labels: list[str] = []
    for folder in args.models:
        label = str(folder) if folder is not None else "shipped"
        model = api.load(device="cpu", models_dir=folder)
        runs[label] = run_system(neutral_animation(model), clips).weights
        for name in NOISES:
            runs[f"{label} | {name}"] = run_system(neutral_animation(model), noisy[name]).weights
        labels.append(label)
    by_speaker: dict[str, list[int]] = {}
    for i, c in enumerate(clips):
        by_speaker.setdefault(str(c.meta.get("speaker")), []).append(i)
    counts = pooled(runs[labels[0]], clips, range(len(clips)))
    print(
        f"{len(clips)} aligned held-out clips, speakers {', '.join(sorted(by_speaker))}: "
        f"{counts['n_bilabial']} bilabials, {counts['n_open']} open vowels, "
        f"{counts['n_rounded']} rounded and {counts['n_spread']} spread vowels; "
        f"{args.resamples} clip resamples"
    )
    boot = bootstrap(runs, clips, args.resamples, args.seed)
    for label in ["oracle (training targets)", *labels]:
        whole = pooled(runs[label], clips, range(len(clips)))
        print(f"\n{label}")
        for f, key in enumerate(FIGURES):
            lo, hi = interval(boot[label][:, f])
            target = targets.get(key)
            met = (
                ""
                if target is None
                else f"; target {target}: met in {np.mean(boot[label][:, f] >= target):.0%}"
            )
            alone = [f"{s} {pooled(runs[label], clips, ix)[key]:.3f}" for s, ix in by_speaker.items()]
            per_speaker = ", ".join(alone)
            print(f"  {SHORT[key]:<18} {whole[key]:.3f}  95 % {lo:.3f}-{hi:.3f}{met}  ({per_speaker})")
        if label == "oracle (training targets)":
            continue
        closure = FIGURES.index("bilabial_closure_rate")
        for name in NOISES:
            drop = boot[f"{label} | {name}"][:, closure] - boot[label][:, closure]
            noisy_whole = pooled(runs[f"{label} | {name}"], clips, range(len(clips)))
            lo, hi = interval(drop)
            change = noisy_whole["bilabial_closure_rate"] - whole["bilabial_closure_rate"]
            print(
                f"  closure change, {name} 10 dB: {change:+.3f}  95 % {lo:+.3f}-{hi:+.3f}; "
                f"within 0.05 in {np.mean(drop >= -0.05):.0%}"
            )
    for label in labels[1:]:
        print(f"\n{label} minus {labels[0]} (paired)")
        diff = boot[label] - boot[labels[0]]
        for f, key in enumerate(FIGURES):
            lo, hi = interval(diff[:, f])
            print(f"  {SHORT[key]:<18} {np.nanmedian(diff[:, f]):+.3f}  95 % {lo:+.3f}-{hi:+.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
