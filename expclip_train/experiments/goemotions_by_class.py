"""Experiment, not shipped: where GoEmotions through the face loses, class by class.

The report gives one macro-F1 for GoEmotions dev read through the face (text -> style -> decoded face ->
emotion reader). This prints what is behind it: the confusion matrix and each class's precision, recall
and F1; how strongly the decoded faces move (the strongest action unit, which the reader compares with
``facs.NEUTRAL_THRESHOLD`` to call a face neutral) by the sentence's class; the same on a sample of
GoEmotions *train* sentences (what the heads were trained on: a class read as badly there is not fitted,
rather than not generalised); and, as a diagnosis only, the neutral class's F1 and the macro-F1 had the
reader's threshold been higher (the reader is the evaluation's and is not changed).

    python -m expclip_train.experiments.goemotions_by_class [--models FOLDER] [--train-sample 400]

What it measured is in docs/experiments.md.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

import numpy as np

from ..evaluation.expclip_report import GOEMOTIONS_CLASSES, goemotions_sentences, macro_f1
from ..tead.build import DEFAULT_GOEMOTIONS_DIR, build_tead
from ..tead.goemotions import load_goemotions

#: Reader thresholds tried in the diagnosis (the reader's own first).
THRESHOLDS = (0.2, 0.25, 0.3, 0.35, 0.4)


def activity(faces: np.ndarray) -> np.ndarray:
    """The strongest action unit of each face, 0..1: what the reader compares with its threshold."""
    from expclip_blender.facs import emotion_strength

    return 1.0 - np.asarray(emotion_strength(np.asarray(faces, np.float64), "neutral"))


def class_lines(truth: list[str], predicted: list[str], strength: np.ndarray) -> list[str]:
    """Confusion matrix rows, then precision / recall / F1 and activity quartiles per class."""
    classes = GOEMOTIONS_CLASSES
    t, p = np.array(truth), np.array(predicted)
    width = max(len(c) for c in classes)
    out = [f"{'read as ->':>{width}}  " + " ".join(f"{c[:7]:>7}" for c in classes) + "      n"]
    for c in classes:
        row = [int(np.sum((t == c) & (p == d))) for d in classes]
        out.append(f"{c:>{width}}  " + " ".join(f"{x:>7}" for x in row) + f" {int(np.sum(t == c)):>6}")
    out.append("")
    out.append(f"{'class':>{width}}  precision  recall     F1   activity 25/50/75 %")
    for c in classes:
        tp, fp, fn = np.sum((t == c) & (p == c)), np.sum((t != c) & (p == c)), np.sum((t == c) & (p != c))
        quart = np.percentile(strength[t == c], [25, 50, 75]) if np.any(t == c) else [np.nan] * 3
        out.append(
            f"{c:>{width}}  {tp / max(tp + fp, 1):>9.3f}  {tp / max(tp + fn, 1):>6.3f}  "
            f"{2 * tp / max(2 * tp + fp + fn, 1):>5.3f}   " + " / ".join(f"{q:.2f}" for q in quart)
        )
    return out


def main(argv: list[str] | None = None) -> int:
    from expclip_blender.api import load
    from expclip_blender.facs import NEUTRAL_THRESHOLD, read_emotions

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--models", type=Path, default=None, help="model files (default: bundled)")
    parser.add_argument("--train-sample", type=int, default=400, help="train sentences per class (0: none)")
    parser.add_argument("--goemotions", type=Path, default=DEFAULT_GOEMOTIONS_DIR, help="GoEmotions folder")
    args = parser.parse_args(argv)
    model = load(models_dir=args.models)
    texts, truth = goemotions_sentences(build_tead(seed=0, goemotions_dir=args.goemotions))
    if not texts:
        parser.error(f"no GoEmotions dev sentences: is '{args.goemotions}' the GoEmotions folder?")
    faces = model.faces(texts)
    predicted, strength = read_emotions(faces), activity(faces)
    print(f"GoEmotions dev through the face: {len(texts)} sentences, macro-F1 "
          f"{macro_f1(truth, predicted, GOEMOTIONS_CLASSES):.3f}; the reader calls a face neutral when no "
          f"unit reaches {NEUTRAL_THRESHOLD}")  # fmt: skip
    print("\n".join(class_lines(truth, predicted, strength)))

    neutral = np.array(truth) == "neutral"
    print("\nDiagnosis only (the reader is not changed): neutral F1 and macro-F1 had its threshold been")
    for threshold in (NEUTRAL_THRESHOLD, *THRESHOLDS):
        called = strength < threshold
        tp, fp, fn = np.sum(called & neutral), np.sum(called & ~neutral), np.sum(~called & neutral)
        relabelled = ["neutral" if c else r for c, r in zip(called, predicted, strict=True)]
        print(
            f"  {threshold:.2f}: neutral {2 * tp / max(2 * tp + fp + fn, 1):.3f}, "
            f"macro {macro_f1(truth, relabelled, GOEMOTIONS_CLASSES):.3f}"
        )

    if args.train_sample > 0:
        by_class: dict[str, list[str]] = {}
        for s in load_goemotions(args.goemotions, "train"):
            if s.emotion in GOEMOTIONS_CLASSES:
                by_class.setdefault(s.emotion, []).append(s.text)
        print(f"\nGoEmotions train (what the heads were trained on), up to {args.train_sample} per class:")
        for c in GOEMOTIONS_CLASSES:
            sample = random.Random(f"goemotions-by-class-{c}").sample(
                by_class.get(c, []), min(args.train_sample, len(by_class.get(c, [])))
            )
            if not sample:
                continue
            train_faces = model.faces(sample)
            recall = np.mean([r == c for r in read_emotions(train_faces)])
            print(f"  {c:>9}: recall {recall:.3f}, median activity {np.median(activity(train_faces)):.2f} "
                  f"({len(sample)} sentences)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
