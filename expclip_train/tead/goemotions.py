"""Optional GoEmotions loader (Demszky et al., ACL 2020; CC BY 4.0, Google Research).

Real Reddit comments with human emotion labels, mapped onto the emotion reader's classes through the
dataset authors' Ekman grouping. Sentences whose labels all fall in one Ekman class (or that are labelled
neutral alone) have one emotion class; the others spread over several classes, in shares of their labels
(``GoSentence.weights``), for soft targets. The data is read where it lies at build time and never copied
into the project.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

#: Ekman class (the authors' mapping file) -> the emotion reader's class name (facs.EMOTIONS).
EKMAN_TO_EMOTION: dict[str, str] = {
    "anger": "anger",
    "disgust": "disgust",
    "fear": "fear",
    "joy": "happiness",
    "sadness": "sadness",
    "surprise": "surprise",
    "neutral": "neutral",
}
SPLITS: tuple[str, ...] = ("train", "dev")


@dataclass(frozen=True)
class GoSentence:
    """One GoEmotions comment: text, its fine-grained labels and the single emotion class they map to."""

    text: str
    labels: tuple[str, ...]
    emotion: str | None  # facs.EMOTIONS name, None when the labels span several Ekman classes
    comment_id: str
    weights: tuple[tuple[str, float], ...] = ()  # (class, share of the labels), heaviest first


def is_goemotions_dir(path: Path | None) -> bool:
    """Whether ``path`` holds the GoEmotions files this loader needs."""
    return path is not None and all(
        (Path(path) / f).is_file() for f in ("train.tsv", "dev.tsv", "emotions.txt", "ekman_mapping.json")
    )


def single_emotion(labels: tuple[str, ...], ekman: dict[str, str]) -> str | None:
    """The one emotion class of a label set, or None if it spans several (neutral counts only alone)."""
    if labels == ("neutral",):
        return "neutral"
    classes = {ekman.get(label) for label in labels}
    if len(classes) != 1 or None in classes:
        return None
    return EKMAN_TO_EMOTION[classes.pop()]


def emotion_weights(labels: tuple[str, ...], ekman: dict[str, str]) -> tuple[tuple[str, float], ...]:
    """The emotion classes of a label set with each one's share of the labels (neutral is a class here:
    raters who chose it disagreed with the others), heaviest first, ties in ``EKMAN_TO_EMOTION`` order."""
    known = [c for label in labels if (c := EKMAN_TO_EMOTION.get(ekman.get(label, label))) is not None]
    if not known:
        return ()
    order = list(EKMAN_TO_EMOTION.values())
    shares = {c: known.count(c) / len(known) for c in set(known)}
    return tuple(sorted(shares.items(), key=lambda kv: (-kv[1], order.index(kv[0]))))


def load_goemotions(directory: Path, split: str) -> list[GoSentence]:
    """The comments of one split ("train" or "dev"), labels resolved, with their single emotion class."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    directory = Path(directory)
    names = (directory / "emotions.txt").read_text(encoding="utf-8").split()
    mapping = json.loads((directory / "ekman_mapping.json").read_text(encoding="utf-8"))
    ekman = {fine: coarse for coarse, fines in mapping.items() for fine in fines}
    out: list[GoSentence] = []
    with (directory / f"{split}.tsv").open(encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 2 or not parts[0].strip():
                continue
            labels = tuple(names[int(i)] for i in parts[1].split(","))
            cid = parts[2] if len(parts) > 2 else ""
            emotion = single_emotion(labels, ekman)
            weights = ((emotion, 1.0),) if emotion is not None else emotion_weights(labels, ekman)
            out.append(GoSentence(parts[0].strip(), labels, emotion, cid, weights))
    return out
