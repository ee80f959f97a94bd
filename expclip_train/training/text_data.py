"""What the text-encoder stage trains and chooses its recipe on, built from TEAD in memory (TEAD's files
are never changed).

* **Validation split** (``VALIDATION``): a seeded share of the *training* emotion words, nouns, neutral
  phrases and situations (whole vocabulary items: every training description that uses one, of any kind,
  GoEmotions included, leaves training), plus a seeded share of the GoEmotions training sentences. It is
  disjoint from the strict held-out split (only training items are drawn, only training pairs move) and
  from training (a description that contains a validation item never stays in training). Recipes are
  chosen on it; the held-out figures are reported once per shipped model.
* **All of GoEmotions train**: TEAD pairs the single-class sentences with one face of their class; the
  sentences whose labels span several classes are added here, once per class, each drawn at 1/k of a
  sentence's weight (k classes), so that in expectation their contrastive target is spread evenly over
  their classes' faces (a soft target).
* **The teacher's vocabulary** for distillation (:func:`read_teacher`): texts and their L2-normalised
  all-mpnet-base-v2 embeddings, less every text that is a description outside training.
"""

from __future__ import annotations

import dataclasses
import json
import random
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..tead.annotator import Annotator
from ..tead.build import Pair, PhraseFinder, Tead, heldout_finder, heldout_forms, normalize_text
from ..tead.goemotions import EKMAN_TO_EMOTION, is_goemotions_dir, load_goemotions
from ..tead.vocabulary import load as load_vocabulary

VALIDATION = "validation"
#: The validation split recipes of the text side are chosen on: shares of the training items and of
#: GoEmotions train kept out of stages 2 and 3 (``--exclude-validation``, ``--validation-share``).
VALIDATION_SHARES = {"validation_share": 0.1, "goemotions_validation_share": 0.1}
#: The file a teacher folder holds (texts, kinds, embeddings), as the teacher command writes it.
TEACHER_FILE = "teacher.npz"


@dataclass
class TextStageData:
    """TEAD with the validation split and the multi-label GoEmotions pairs, and each training pair's
    share of a draw (1, or 1/k for a sentence with k classes), in ``tead.train_pairs()`` order."""

    tead: Tead
    share: np.ndarray
    validation_items: dict[str, list[str]]
    multi_label_texts: set[str] = field(default_factory=set)
    info: dict = field(default_factory=dict)


def _body_words() -> set[str]:
    """Words of the physical vocabulary: one-word emotion entries among them ("tense", "down") would pull
    body descriptions into the validation split."""
    v = load_vocabulary()
    return {
        w for levels in (*v.physical.values(), *v.physical_pairs.values()) for texts in levels.values()
        for text in texts for w in re.findall(r"[a-z][a-z'-]*", text.lower())
    }  # fmt: skip


def validation_vocabulary(seed: int, share: float) -> dict[str, list[str]]:
    """The validation items, by list ("words: anger", "situations: fear", "neutral phrases"): a seeded
    ``share`` of each list's training entries (randomised rounding, so small lists lose one now and then),
    never a list's first entry (the head word animators type), a held-out entry or a one-word body term."""
    annotator = Annotator(wide=True)
    body = _body_words()
    lists = {
        f"{name}: {label}": entries
        for name, table in (("words", annotator.words), ("nouns", annotator.nouns),
                            ("situations", annotator.situations))
        for label, entries in table.items()
    }  # fmt: skip
    lists["neutral phrases"] = annotator.neutral_phrases
    out: dict[str, list[str]] = {}
    for key, entries in sorted(lists.items()):
        eligible = sorted(
            {e.text for e in entries[1:] if not e.heldout and e.text.lower() not in body}
            - {e.text for e in entries if e.heldout}
        )
        rng = np.random.default_rng([seed, zlib.crc32(key.encode())])
        n = int(share * len(eligible) + rng.random())
        if n:
            out[key] = sorted(eligible[i] for i in rng.permutation(len(eligible))[:n])
    return out


def _goemotions_validation(text: str, seed: int, share: float) -> bool:
    """Whether a GoEmotions training sentence is in the validation split (by its text, so duplicates stay
    together, and whatever the order of the file)."""
    return zlib.crc32(f"{seed}:{normalize_text(text)}".encode()) < share * 2**32


def split_validation(tead: Tead, items: dict[str, list[str]], seed: int, goemotions_share: float) -> Tead:
    """A copy of ``tead`` whose training pairs that use a validation item (or are GoEmotions sentences
    drawn for validation) are in the ``VALIDATION`` split."""
    finder = PhraseFinder(heldout_forms(items))
    pairs = []
    for p in tead.pairs:
        if p.split == "train" and (
            finder.search(p.text) is not None
            or (p.kind == "goemotions" and _goemotions_validation(p.text, seed, goemotions_share))
        ):
            p = dataclasses.replace(p, split=VALIDATION)
        pairs.append(p)
    return Tead(tead.expressions, tead.meta, pairs, {**tead.info, "validation_seed": seed})


def _class_pools(tead: Tead) -> dict[str, list[int]]:
    """The faces a GoEmotions sentence of each class is paired with (as TEAD pairs them: prototypes at
    grades B-E, neutral faces)."""
    pools: dict[str, list[int]] = {}
    for m in tead.meta:
        if m.category == "neutral":
            pools.setdefault("neutral", []).append(m.index)
        elif m.category == "prototype" and m.grade != "A":
            pools.setdefault(m.label, []).append(m.index)
    return pools


def multi_label_pairs(
    tead: Tead, directory: Path, seed: int, goemotions_share: float
) -> tuple[list[Pair], list[float], dict]:
    """GoEmotions training sentences whose labels span several classes: one pair per class (a face of
    that class), each with share 1/k; the same exclusions as TEAD's (dev texts, held-out vocabulary)."""
    mapping = json.loads((Path(directory) / "ekman_mapping.json").read_text(encoding="utf-8"))
    ekman = {fine: EKMAN_TO_EMOTION[coarse] for coarse, fines in mapping.items() for fine in fines}
    ekman["neutral"] = "neutral"
    dev = {normalize_text(s.text) for s in load_goemotions(directory, "dev")}
    unseen = heldout_finder(Annotator(wide=True).heldout_vocabulary())
    pools = _class_pools(tead)
    rng = random.Random(f"tead-go-multi-{seed}")
    pairs: list[Pair] = []
    shares: list[float] = []
    dropped = {"same text as a dev sentence": 0, "uses held-out vocabulary": 0}
    for s in load_goemotions(directory, "train"):
        if s.emotion is not None:
            continue  # single-class: TEAD has it
        if normalize_text(s.text) in dev:
            dropped["same text as a dev sentence"] += 1
            continue
        if unseen.search(s.text):
            dropped["uses held-out vocabulary"] += 1
            continue
        classes = sorted({ekman[label] for label in s.labels if label in ekman})
        split = VALIDATION if _goemotions_validation(s.text, seed, goemotions_share) else "train"
        for c in classes:
            pool = pools[c]
            pairs.append(Pair(pool[rng.randrange(len(pool))], s.text, "goemotions", split, (), c))
            shares.append(1.0 / len(classes))
    sentences = len({p.text for p in pairs})
    return (
        pairs,
        shares,
        {"multi_label_sentences": sentences, "multi_label_pairs": len(pairs), "dropped": dropped},
    )


def as_trained(
    tead: Tead, heads_metadata: dict[str, str], goemotions_dir: Path | None
) -> tuple[Tead, set[str]]:
    """TEAD as heads saw it, and the vocabulary entries they never saw (lower case): heads trained with
    the validation split kept out (header ``validation_split``) never saw its items."""
    split = json.loads(heads_metadata.get("validation_split", "null"))
    if not split:
        return tead, set()
    data = text_stage_data(
        tead, split["seed"], split["validation_share"], split["goemotions_validation_share"], goemotions_dir
    )
    return data.tead, {e.lower() for items in data.validation_items.values() for e in items}


def text_stage_data(
    tead: Tead, seed: int, validation_share: float, goemotions_share: float, goemotions_dir: Path | None
) -> TextStageData:
    """TEAD re-split for the text-encoder stage, with all of GoEmotions train when its folder is there."""
    items = validation_vocabulary(seed, validation_share)
    extra, extra_shares, go_info = [], [], {}
    in_tead = {p.text for p in tead.pairs if p.kind == "goemotions" and p.weight < 1.0}
    if in_tead:
        # TEAD already writes the multi-label sentences as weighted pairs (its `weight` field)
        go_info = {"multi_label_sentences": len(in_tead), "multi_label_pairs_in_tead": True}
    elif (
        goemotions_dir is not None
        and is_goemotions_dir(Path(goemotions_dir))
        and any(p.kind == "goemotions" for p in tead.pairs)
    ):
        extra, extra_shares, go_info = multi_label_pairs(tead, Path(goemotions_dir), seed, goemotions_share)
    base = Tead(tead.expressions, tead.meta, [*tead.pairs, *extra], tead.info)
    split = split_validation(base, items, seed, goemotions_share)
    shares = [p.weight for p in tead.pairs] + extra_shares
    share = np.array([s for s, p in zip(shares, split.pairs, strict=True) if p.split == "train"])
    counts: dict[str, int] = {}
    for p in split.pairs:
        if p.split == VALIDATION:
            counts[p.kind] = counts.get(p.kind, 0) + 1
    info = {
        "validation_share": validation_share,
        "goemotions_validation_share": goemotions_share,
        "validation_items": sum(len(v) for v in items.values()),
        "validation_pairs": counts,
        "train_pairs": len(share),
        **go_info,
    }
    return TextStageData(split, share, items, {p.text for p in extra} | in_tead, info)


@dataclass
class Teacher:
    """Distillation targets: texts, their kinds and (N, D) float16 L2-normalised teacher embeddings."""

    texts: list[str]
    kinds: list[str]
    embeddings: np.ndarray


def read_teacher(path: str | Path) -> Teacher:
    """The teacher's vocabulary from ``path``: an .npz file or a folder holding ``teacher.npz`` (arrays
    ``texts``, ``embeddings`` and optionally ``kinds``; no pickle)."""
    path = Path(path)
    file = path / TEACHER_FILE if path.is_dir() else path
    if not file.is_file():
        raise FileNotFoundError(f"no teacher embeddings at '{file}' (an .npz of texts and embeddings)")
    with np.load(file, allow_pickle=False) as data:
        texts = [str(t) for t in data["texts"]]
        embeddings = np.asarray(data["embeddings"])
        kinds = [str(k) for k in data["kinds"]] if "kinds" in data.files else ["text"] * len(texts)
    if embeddings.ndim != 2 or len(embeddings) != len(texts) or len(kinds) != len(texts):
        raise ValueError(f"'{file}': {len(texts)} texts, {len(kinds)} kinds, embeddings {embeddings.shape}")
    if not np.isfinite(embeddings.astype(np.float32)).all():
        raise ValueError(f"'{file}': the embeddings contain NaN or infinite values")
    return Teacher(texts, kinds, embeddings)


def distillation_set(teacher: Teacher, tead: Tead) -> tuple[Teacher, int]:
    """``teacher`` less every text that is a description outside training (held-out, validation,
    GoEmotions dev) in TEAD's comparison form; and how many were dropped."""
    outside = {normalize_text(p.text) for p in tead.pairs if p.split != "train"}
    keep = [i for i, t in enumerate(teacher.texts) if normalize_text(t) not in outside]
    kept = Teacher(
        [teacher.texts[i] for i in keep], [teacher.kinds[i] for i in keep], teacher.embeddings[keep]
    )
    return kept, len(teacher.texts) - len(keep)
