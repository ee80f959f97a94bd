"""Experiment, not shipped: how well the mouth aperture follows the phones' openness, targets and models.

The generator can follow the sounds no better than the coarticulation targets it is trained on, so this
prints the targets' own correlation (the ceiling) beside the loudness envelope's (what a loudness meter
gets) and, with ``--models``, the generators' (``animate(..., prompt="neutral")``), on the real clips of a
corpus whose phones come from forced alignment. Correlation: the aperture
(:func:`..speech.coarticulation.mouth_aperture`) against the phones' openness at each frame
(:func:`..speech.metrics.openness_curve`), 30 fps, the clips' normalised cross-correlations summed
(weighted by length) and read at their best lag within +-10 frames; the lag is printed beside it.

    .venv/bin/python -m expclip_train.experiments.openness_ceiling --corpus build/corpus [--all-real]
        [--models FOLDER ...]

``--all-real`` adds the training speakers' aligned clips (the targets are not trained on, so more clips
only steady the figure). What it measured is in docs/experiments.md.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from expclip_blender.frames import frame_times, num_frames
from expclip_blender.loudness import loudness_envelope

from ..speech.coarticulation import mouth_aperture, targets
from ..speech.metrics import openness_curve, pooled_metrics
from ..speech.phones import normalize_timeline

FPS = 30.0
MAX_LAG = 10  # frames
ALIGNED = "pocketsphinx-align"


def correlation(pairs: Iterable[tuple[np.ndarray, np.ndarray]], max_lag: int = MAX_LAG) -> tuple[float, int]:
    """(best correlation, its lag in frames) of (signal, openness) pairs: per-clip normalised
    cross-correlations (lag > 0: the signal late), summed weighted by length."""
    total, weight = np.zeros(2 * max_lag + 1), 0
    for sig, cur in pairs:
        a, o, n = sig - sig.mean(), cur - cur.mean(), len(sig)
        if n <= max_lag or a.std() < 1e-9 or o.std() < 1e-9:
            continue
        xc = [
            np.dot(a[k:], o[: n - k]) if k >= 0 else np.dot(a[: n + k], o[-k:])
            for k in range(-max_lag, max_lag + 1)
        ]
        total += np.asarray(xc) / (a.std() * o.std())
        weight += n
    if weight == 0:
        return float("nan"), 0
    k = int(np.argmax(total))
    return float(total[k] / weight), k - max_lag


def _clips(corpus: Path, all_real: bool) -> list:
    from ..speech.corpus import iter_clips

    splits = ("holdout", "train") if all_real else ("holdout",)
    return [
        c
        for s in splits
        for c in iter_clips(corpus, split=s)
        if c.meta.get("source") == "real" and c.meta.get("timing") == ALIGNED
    ]


def _line(name: str, items: list[tuple[np.ndarray, list]]) -> str:
    r, lag = correlation((mouth_aperture(w), openness_curve(ph, FPS, len(w))) for w, ph in items)
    pm = pooled_metrics([(w, ph, FPS) for w, ph in items])
    return (
        f"{name:<28} {r:.3f} (lag {lag:+d})   closure {pm['bilabial_closure_rate']:.3f}  AUC "
        f"{pm['open_bilabial_auc']:.3f}  pauses {pm['pause_rest_rate']:.3f}  "
        f"rounding {pm['rounding_auc']:.3f}"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m expclip_train.experiments.openness_ceiling",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--corpus", type=Path, default=Path("build/corpus"))
    ap.add_argument("--all-real", action="store_true", help="also the training speakers' aligned clips")
    ap.add_argument("--models", nargs="*", default=[], help="model folders ('bundled': the shipped weights)")
    args = ap.parse_args(argv)
    clips = _clips(args.corpus, args.all_real)
    if not clips:
        ap.error(f"{args.corpus} has no real clips with aligned phones")
    print(
        f"{len(clips)} clips, {sum(len(c.audio) for c in clips) / 16000:.0f} s; aperture/openness correlation"
    )
    loud = []
    for c in clips:
        n = num_frames(len(c.audio) / 16000, FPS)
        env_t, env = loudness_envelope(c.audio, 16000)
        phones = normalize_timeline(c.phones, n / FPS)
        loud.append((np.interp(frame_times(n, FPS), env_t, env), openness_curve(phones, FPS, n)))
    r, lag = correlation(loud)
    print(f"{'loudness envelope':<28} {r:.3f} (lag {lag:+d})")
    items = []
    for c in clips:
        w = targets(c.phones, FPS, len(c.audio) / 16000, c.audio, 16000, nonspeech=False)
        items.append((w, normalize_timeline(c.phones, len(w) / FPS)))
    print(_line("coarticulation targets", items))
    for folder in args.models:
        import torch

        from expclip_blender import api

        torch.set_num_threads(1)
        ex = api.load(device="cpu", models_dir=None if folder == "bundled" else Path(folder))
        runs = [
            ex.animate(c.audio, 16000, prompt="neutral", fps=FPS, blinks=False, gaze=False) for c in clips
        ]
        print(
            _line(
                f"model {folder}",
                [(w, normalize_timeline(c.phones, len(w) / FPS)) for w, c in zip(runs, clips, strict=True)],
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
