"""Build, save and load TEAD (the text-expression alignment dataset); write its datasheet.

``build_tead(seed)`` -> :class:`Tead`: ARKit-52 expressions (expressions.py), several descriptions of each
from the offline annotator (annotator.py) and, when the folder is there, real GoEmotions sentences paired
through their labels (goemotions.py). Everything is deterministic from the seed; nothing is downloaded.

Two annotator passes: the first describes every face exactly as TEAD v1 did (v1 vocabulary, v1 random
stream); the second (its own random stream) adds ``annotator.EXTRA_COUNTS`` descriptions per face from
the wider v2 vocabulary. TEAD v1 therefore stays a subset of v2, text for text. A third, situation pass
(situations_v3.py, its own random stream) and the GoEmotions training sentences whose labels span several
emotion classes add training pairs with soft targets: one text paired with faces of several emotions, each
pair weighted (``Pair.weight``; the weights of one text sum to 1). They are appended after everything
else and never touch the faces, the other pairs or the held-out splits.

Splits: ``train``; ``heldout``, the strict held-out split (descriptions that use held-out synonyms,
situations or phrasings; no held-out text ever occurs in train, and no held-out word, noun, situation or
phrase occurs in any training text, GoEmotions included); ``heldout_phrasing``, a second, easier held-out
split (training words and situations in sentence frames no training text uses; neutral and prototype
faces); ``goemotions_dev`` (GoEmotions dev sentences, the evaluation set for "GoEmotions dev macro-F1").
"""

from __future__ import annotations

import json
import random
import re
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from expclip_blender.arkit import NUM_ARKIT
from expclip_blender.facs import EMOTIONS, GRADES, arkit_to_au_array, read_emotions

from .annotator import KINDS, Annotator
from .expressions import CATEGORIES, ExpressionConfig, ExpressionMeta, generate_expressions
from .goemotions import GoSentence, is_goemotions_dir, load_goemotions
from .situations_v3 import third_pass
from .vocabulary import load as load_vocabulary

VERSION = "2"
SPLITS: tuple[str, ...] = ("train", "heldout", "heldout_phrasing", "goemotions_dev")
#: Where GoEmotions lies next to a checkout of the repository (../shared/data/goemotions).
DEFAULT_GOEMOTIONS_DIR = Path(__file__).resolve().parents[3] / "shared" / "data" / "goemotions"


@dataclass(frozen=True, slots=True)
class Pair:
    """One (expression, description) pair."""

    expr: int  # row of Tead.expressions
    text: str
    kind: str  # one of annotator.KINDS
    split: str  # one of SPLITS
    aus: tuple[str, ...] = ()  # physical: the action units the text mentions
    emotion: str | None = None  # goemotions: the emotion class of the pair's face (facs.EMOTIONS)
    weight: float = 1.0  # a soft target's share: the pairs of one text with faces of several emotions

    def to_json(self) -> dict:
        d: dict = {"expr": self.expr, "text": self.text, "kind": self.kind, "split": self.split}
        if self.aus:
            d["aus"] = list(self.aus)
        if self.emotion is not None:
            d["emotion"] = self.emotion
        if self.weight != 1.0:  # written only where it says something: older files have none
            d["weight"] = self.weight
        return d

    @classmethod
    def from_json(cls, d: dict) -> Pair:
        return cls(
            d["expr"], d["text"], d["kind"], d["split"], tuple(d.get("aus", ())), d.get("emotion"),
            float(d.get("weight", 1.0)),
        )  # fmt: skip


@dataclass
class Tead:
    """The dataset: expressions (E, 52) float32 in [0, 1], their metadata, and the description pairs."""

    expressions: np.ndarray
    meta: list[ExpressionMeta]
    pairs: list[Pair]
    info: dict = field(default_factory=dict)

    def select(self, split: str, kinds: Iterable[str] | None = None) -> tuple[np.ndarray, list[str]]:
        """(expression indices, texts) of the pairs in ``split``, optionally only some kinds."""
        wanted = set(kinds) if kinds is not None else None
        chosen = [p for p in self.pairs if p.split == split and (wanted is None or p.kind in wanted)]
        return np.array([p.expr for p in chosen], dtype=np.int64), [p.text for p in chosen]

    def weights(self, split: str, kinds: Iterable[str] | None = None) -> np.ndarray:
        """The weight of each pair :meth:`select` returns, in its order (1 except for soft targets)."""
        wanted = set(kinds) if kinds is not None else None
        return np.array(
            [p.weight for p in self.pairs if p.split == split and (wanted is None or p.kind in wanted)],
            dtype=np.float64,
        )

    def train_pairs(self, kinds: Iterable[str] | None = None) -> tuple[np.ndarray, list[str]]:
        """(expression indices, texts) for training."""
        return self.select("train", kinds)

    def train_weights(self, kinds: Iterable[str] | None = None) -> np.ndarray:
        """The weight of each pair of :meth:`train_pairs`, in its order: a trainer draws (or weighs the
        loss of) a soft target's pairs by it, so that one text's faces share one text's worth."""
        return self.weights("train", kinds)

    def heldout_pairs(self, kinds: Iterable[str] | None = None) -> tuple[np.ndarray, list[str]]:
        """(expression indices, texts) whose wording never occurs in training."""
        return self.select("heldout", kinds)

    def goemotions_dev(self) -> tuple[np.ndarray, list[str], list[str]]:
        """(expression indices, texts, emotion classes) of the GoEmotions dev sentences (may be empty)."""
        chosen = [p for p in self.pairs if p.split == "goemotions_dev"]
        return (
            np.array([p.expr for p in chosen], dtype=np.int64),
            [p.text for p in chosen],
            [p.emotion or "" for p in chosen],
        )

    @property
    def emotions(self) -> list[str | None]:
        """Per expression: the class the emotion reader should answer, None where no single class fits."""
        return [m.emotion for m in self.meta]

    def save(self, directory: str | Path) -> Path:
        """Write expressions.npy, meta.jsonl, pairs.jsonl, info.json and datasheet.md (no pickle)."""
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        np.save(out / "expressions.npy", self.expressions.astype(np.float32), allow_pickle=False)
        _write_jsonl(out / "meta.jsonl", (m.to_json() for m in self.meta))
        _write_jsonl(out / "pairs.jsonl", (p.to_json() for p in self.pairs))
        (out / "info.json").write_text(
            json.dumps(self.info, indent=2, sort_keys=True) + "\n", encoding="utf-8"
        )
        self.write_datasheet(out / "datasheet.md")
        return out

    def write_datasheet(self, path: str | Path) -> Path:
        """Write the datasheet (markdown) to ``path``."""
        path = Path(path)
        path.write_text(datasheet(self), encoding="utf-8")
        return path


def load_tead(directory: str | Path) -> Tead:
    """Load a dataset written by :meth:`Tead.save`."""
    d = Path(directory)
    expressions = np.load(d / "expressions.npy", allow_pickle=False)
    meta = [ExpressionMeta.from_json(r) for r in _read_jsonl(d / "meta.jsonl")]
    pairs = [Pair.from_json(r) for r in _read_jsonl(d / "pairs.jsonl")]
    info_path = d / "info.json"
    info = json.loads(info_path.read_text(encoding="utf-8")) if info_path.is_file() else {}
    if expressions.shape != (len(meta), NUM_ARKIT):
        raise ValueError(f"{d}: expressions.npy is {expressions.shape}, meta.jsonl has {len(meta)} rows")
    return Tead(expressions, meta, pairs, info)


def _write_jsonl(path: Path, rows: Iterable[dict]) -> None:
    with path.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def _read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def normalize_text(text: str) -> str:
    """The form texts are compared in (case, spacing and end punctuation ignored)."""
    return " ".join(text.lower().split()).rstrip(".!? ")


# --------------------------------------------------------------------------------------------------


def build_tead(
    seed: int = 0,
    goemotions_dir: Path | str | None = DEFAULT_GOEMOTIONS_DIR,
    *,
    config: ExpressionConfig | None = None,
) -> Tead:
    """Build TEAD from ``seed`` (same seed, same dataset). Takes a few seconds.

    ``goemotions_dir``: the GoEmotions folder (train.tsv, dev.tsv, emotions.txt, ekman_mapping.json); its
    single-emotion sentences are added when the folder exists. ``None`` builds without them.
    ``config``: how many faces to make (the default makes the full dataset; smaller ones suit tests).
    """
    start = time.perf_counter()
    expressions, meta = generate_expressions(seed, config)
    au = arkit_to_au_array(expressions)
    annotator, wide, phrasing = Annotator(), Annotator(wide=True), Annotator(phrasing=True)
    rng = random.Random(f"tead-annotator-{seed}")  # str seeds hash with SHA-512: stable across runs
    rng_wide = random.Random(f"tead-annotator-v2-{seed}")  # its own stream: the v1 pass stays as it was
    rng_phrasing = random.Random(f"tead-annotator-phrasing-{seed}")
    pairs: list[Pair] = []
    phrased: list[Pair] = []
    for i, m in enumerate(meta):
        first = annotator.describe(expressions[i], m, rng, au=au[i])
        more = wide.describe(expressions[i], m, rng_wide, au=au[i], exclude=[d.text for d in first])
        for d in (*first, *more):
            pairs.append(Pair(i, d.text, d.kind, "heldout" if d.heldout else "train", d.aus))
        for d in phrasing.describe(expressions[i], m, rng_phrasing, au=au[i]):
            phrased.append(Pair(i, d.text, d.kind, "heldout_phrasing", d.aus))

    held_vocabulary = wide.heldout_vocabulary()
    unseen = heldout_finder(held_vocabulary)
    go_info: dict = {"used": False}
    several: list[GoSentence] = []
    if goemotions_dir is not None and is_goemotions_dir(Path(goemotions_dir)):
        go_pairs, go_info, several = _goemotions_pairs(
            Path(goemotions_dir), meta, random.Random(f"tead-go-{seed}"), unseen
        )
        pairs += go_pairs

    # No held-out text may occur in training: a held-out description whose text a training one also
    # has (two phrasings that happen to coincide) moves to training.
    train_texts = {normalize_text(p.text) for p in pairs if p.split == "train"}
    moved = 0
    for k, p in enumerate(pairs):
        if p.split == "heldout" and normalize_text(p.text) in train_texts:
            pairs[k] = Pair(p.expr, p.text, p.kind, "train", p.aus, p.emotion)
            moved += 1
    # And no training description may contain held-out wording that reached it through another label's
    # list ("sick" held out for nauseous, inside disgust's "sick to the stomach"): such a description
    # describes its own face with an unseen word, so it is held out too.
    moved_out = 0
    for k, p in enumerate(pairs):
        if p.split == "train" and p.kind != "goemotions" and unseen.search(p.text):
            pairs[k] = Pair(p.expr, p.text, p.kind, "heldout", p.aus, p.emotion)
            moved_out += 1
    # The phrasing split: only texts that occur nowhere else (a frame can coincide with a training text).
    taken = {normalize_text(p.text) for p in pairs}
    pairs += [p for p in phrased if normalize_text(p.text) not in taken]
    # Soft targets last: only training pairs, kept off every held-out and dev text and held-out word.
    not_train = {normalize_text(p.text) for p in pairs if p.split != "train"}
    v3_pairs, v3_info = _third_pass_pairs(meta, random.Random(f"tead-annotator-v3-{seed}"), unseen, not_train)
    pairs += v3_pairs
    if go_info.get("used"):
        soft, go_info["several_classes"] = _goemotions_soft_pairs(
            several, meta, random.Random(f"tead-go-soft-{seed}"), unseen, not_train
        )
        pairs += soft

    info = {
        "version": VERSION,
        "seed": seed,
        "expressions": len(meta),
        "pairs": len(pairs),
        "heldout_moved_to_train": moved,
        "train_moved_to_heldout": moved_out,
        "goemotions": go_info,
        "situations_v3": v3_info,
        "heldout_vocabulary": {k: [wide.display(t) for t in v] for k, v in held_vocabulary.items()},
        "build_seconds": round(time.perf_counter() - start, 2),
    }
    return Tead(expressions, meta, pairs, info)


class PhraseFinder:
    """Finds any of a set of phrases in a text, case-insensitively, at word boundaries (a hyphen counts as
    part of a word: "shy" is not found in "shy-looking"). Indexed by the phrases' first words, so that
    checking 100,000 texts against thousands of phrases takes a second, not the minute a regular
    expression alternation takes."""

    _WORD = re.compile(r"(?<![\w-])[\w-]+")

    def __init__(self, phrases: Iterable[str]) -> None:
        self.by_first: dict[str, list[str]] = {}
        # Longest first, then alphabetical: the same phrase is found whatever the process's hash seed.
        for phrase in sorted({p.lower() for p in phrases}, key=lambda p: (-len(p), p)):
            first = self._WORD.match(phrase)
            if first:
                self.by_first.setdefault(first.group(), []).append(phrase)

    def search(self, text: str) -> str | None:
        """The first phrase found in ``text`` (lower case; the longest of those starting there), or None."""
        low = text.lower()
        for word in self._WORD.finditer(low):
            for phrase in self.by_first.get(word.group(), ()):
                end = word.start() + len(phrase)
                if low.startswith(phrase, word.start()) and (
                    end == len(low) or not (low[end].isalnum() or low[end] in "_-")
                ):
                    return phrase
        return None


def heldout_forms(vocabulary: dict[str, list[str]]) -> dict[str, str]:
    """``{form: entry}`` for every held-out word, noun, situation and phrase of ``vocabulary``
    (annotator.heldout_vocabulary()): entries with slots are expanded for every subject and side
    ("{pos} soup" -> her/his/their/my/your soup), each form pointing back at its entry (lower case)."""
    words = load_vocabulary()
    forms: dict[str, str] = {}
    for items in vocabulary.values():
        for text in items:
            for side in ("left", "right"):
                for subject in (*words.subjects, words.someone):
                    form = subject.fill(text.replace("{side}", side))
                    forms.setdefault(form.lower(), text.lower())
    return forms


def heldout_finder(vocabulary: dict[str, list[str]]) -> PhraseFinder:
    """A :class:`PhraseFinder` for every form of :func:`heldout_forms`."""
    return PhraseFinder(heldout_forms(vocabulary))


def _goemotions_faces(meta: Sequence[ExpressionMeta]) -> dict[str, list[int]]:
    """The faces a GoEmotions sentence of each class may take: the class's prototype faces at grades B-E
    (a comment rarely names its intensity); neutral faces for neutral."""
    pools: dict[str, list[int]] = {e: [] for e in EMOTIONS}
    for m in meta:
        if m.category == "neutral":
            pools["neutral"].append(m.index)
        elif m.category == "prototype" and m.grade != "A":
            pools[m.label].append(m.index)
    return pools


def _goemotions_pairs(
    directory: Path, meta: Sequence[ExpressionMeta], rng: random.Random, unseen: PhraseFinder | None = None
) -> tuple[list[Pair], dict, list[GoSentence]]:
    """GoEmotions sentences with one emotion class, each paired with a face of that emotion (faces:
    :func:`_goemotions_faces`); and the training sentences whose labels span several classes, for
    :func:`_goemotions_soft_pairs`.

    Train sentences that also occur in dev are dropped so the dev evaluation never scores a sentence seen
    in training; so are train sentences that use held-out vocabulary (``unseen``), so that the held-out
    words stay unseen. Dev sentences with several classes are left out (dev scores one class).
    """
    pools = _goemotions_faces(meta)
    dev = load_goemotions(directory, "dev")
    train = load_goemotions(directory, "train")
    dev_texts = {normalize_text(s.text) for s in dev}
    pairs: list[Pair] = []
    counts: dict[str, Counter] = {"train": Counter(), "goemotions_dev": Counter()}
    dropped = Counter()
    several: list[GoSentence] = []
    for split, sentences in (("train", train), ("goemotions_dev", dev)):
        for s in sentences:
            if s.emotion is None and split == "train":
                several.append(s)
                continue
            if s.emotion is None:
                dropped[f"{split}: labels span several emotion classes"] += 1
                continue
            if split == "train" and normalize_text(s.text) in dev_texts:
                dropped["train: same text as a dev sentence"] += 1
                continue
            if split == "train" and unseen is not None and unseen.search(s.text):
                dropped["train: uses held-out vocabulary"] += 1
                continue
            pool = pools[s.emotion]
            pairs.append(Pair(pool[rng.randrange(len(pool))], s.text, "goemotions", split, (), s.emotion))
            counts[split][s.emotion] += 1
    info = {
        "used": True,
        "sentences": {"train": len(train), "dev": len(dev)},
        "kept": {k: dict(sorted(v.items())) for k, v in counts.items()},
        "dropped": dict(sorted(dropped.items())),
    }
    return pairs, info, several


def _goemotions_soft_pairs(
    sentences: Sequence[GoSentence],
    meta: Sequence[ExpressionMeta],
    rng: random.Random,
    unseen: PhraseFinder,
    not_train: set[str],
) -> tuple[list[Pair], dict]:
    """GoEmotions training sentences whose labels span several emotion classes, as soft targets: one pair
    per class, with a face of that class, weighted by the class's share of the labels
    (``GoSentence.weights``). Dropped like single-class sentences: a text of a held-out, phrasing or dev
    pair (``not_train``), or one that uses held-out vocabulary."""
    pools = _goemotions_faces(meta)
    pairs: list[Pair] = []
    dropped: Counter[str] = Counter()
    kept = 0
    for s in sentences:
        why = _drop_reason(s.text, unseen, not_train)
        if why:
            dropped[why] += 1
        else:
            kept += 1
            for emotion, weight in s.weights:
                pool = pools[emotion]
                pairs.append(
                    Pair(pool[rng.randrange(len(pool))], s.text, "goemotions", "train", (), emotion, weight)
                )
    by_class: dict[str, float] = dict.fromkeys(EMOTIONS, 0.0)
    for p in pairs:
        by_class[p.emotion or "neutral"] += p.weight
    info = {
        "sentences": len(sentences),
        "kept": kept,
        "pairs": len(pairs),
        "weight_by_class": {e: round(by_class[e], 2) for e in EMOTIONS if by_class[e]},
        "dropped": dict(sorted(dropped.items())),
    }
    return pairs, info


def _drop_reason(text: str, unseen: PhraseFinder, not_train: set[str]) -> str:
    """Why a soft-target text may not train ("" if it may): it is a held-out, phrasing or dev text, or it
    uses held-out vocabulary."""
    if normalize_text(text) in not_train:
        return "same text as a held-out or dev text"
    return "uses held-out vocabulary" if unseen.search(text) else ""


def _third_pass_pairs(
    meta: Sequence[ExpressionMeta], rng: random.Random, unseen: PhraseFinder, not_train: set[str]
) -> tuple[list[Pair], dict]:
    """The third pass's situation pairs (situations_v3.py), training only: a description that is also a
    held-out, phrasing or dev text, or that meets held-out vocabulary, is dropped (none is expected: the
    vocabulary is checked against the held-out entries)."""
    pairs: list[Pair] = []
    dropped: Counter[str] = Counter()
    situations: dict[str, float] = {}
    texts: set[str] = set()
    problem: dict[str, str] = {}  # per text (one per face it is paired with): why it is dropped, or ""
    for wp in third_pass(meta, rng):
        if wp.text not in problem:
            problem[wp.text] = _drop_reason(wp.text, unseen, not_train)
        if problem[wp.text]:
            dropped[problem[wp.text]] += 1
        else:
            pairs.append(Pair(wp.expr, wp.text, "situation", "train", (), None, wp.weight))
            texts.add(wp.text)
            situations[wp.label] = situations.get(wp.label, 0.0) + wp.weight
    vocabulary = load_vocabulary().situations_v3
    info = {
        "situations": sum(len(v) for v in vocabulary.values()),
        "weighted_situations": sum(len(e.emotions) > 1 for v in vocabulary.values() for e in v),
        "texts": len(texts),
        "pairs": len(pairs),
        "texts_by_label": {k: round(v) for k, v in situations.items()},
        "dropped": dict(sorted(dropped.items())),
    }
    return pairs, info


# --------------------------------------------------------------------------------------------------
# The datasheet.


def _table(header: Sequence[str], rows: Iterable[Sequence]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def datasheet(tead: Tead) -> str:
    """The datasheet of a built dataset (markdown): what it is, how it was made, counts, checks."""
    meta, pairs, info = tead.meta, tead.pairs, tead.info
    kinds = [k for k in KINDS if any(p.kind == k for p in pairs)]
    splits = [s for s in SPLITS if any(p.split == s for p in pairs)]
    train_texts = {normalize_text(p.text) for p in pairs if p.split == "train"}
    out = [
        *_datasheet_intro(info),
        *_datasheet_expressions(meta),
        *_datasheet_pairs(meta, pairs, kinds, splits),
        *_datasheet_heldout(pairs, info, train_texts),
        *_datasheet_reader(tead),
        *_datasheet_goemotions(pairs, info, train_texts),
        *_datasheet_soft(pairs, info),
        *_datasheet_examples(meta, pairs, kinds),
    ]
    return "\n".join(out)


def _datasheet_intro(info: dict) -> list[str]:
    """The datasheet's title, provenance and "What is in it"."""
    return [
        "# TEAD datasheet\n",
        "Text-expression alignment dataset for ExpCLIP (Zhong et al., AAAI 2024), built offline by "
        "`python -m expclip_train.data tead`. "
        f"Version {info.get('version')}, seed {info.get('seed')}, built in {info.get('build_seconds')} s.\n",
        "## What is in it\n",
        "- **Expressions**: ARKit-52 blendshape weight vectors in [0, 1] (Apple's names and order), "
        "composed from FACS action units (AU -> ARKit after the ICT FaceKit table): the neutral face, the "
        "seven EMFACS prototypes (Ekman & Friesen; contempt one-sided), the fifteen compound expressions "
        "of Du, Tao & Martinez (PNAS 2014), states animators ask for (tired, skeptical, laughing, ...), and "
        "blends of two expressions (one strong, one weak). Each at FACS intensity grades A-E "
        "(A=0.2 ... E=1.0), rendered on individuals with their own AU gains, left/right imbalance and "
        "resting tone, with optional secondary units, stray low-level units and noise; one-sided "
        "expressions also come mirrored.\n"
        "- **Descriptions** by an offline rule-based annotator (the paper used an LLM): `emotion_word` "
        "(synonyms with intensity words that agree with the grade: 'slightly' only at A/B, 'extremely', "
        "'absolutely' only at E), `physical` (the action units actually active in that vector, read off "
        "it), `situation` (what just happened), `mixture` (compounds and blends: 'happy but a little "
        "surprised'). Two passes: the first writes exactly TEAD v1's descriptions (v1 vocabulary and "
        "random stream); the second adds more emotion words and situations per face from a much wider v2 "
        "vocabulary (more synonyms, idioms, nouns, situations, intensity words and sentence frames). A "
        "third, situation pass writes the hand-written situations of `situations_v3.toml` (short and "
        "narrated, verb phrases and whole clauses), many with several plausible emotions as soft targets: "
        "each description is paired with a face of every emotion listed, each pair weighted by its share.\n"
        "- **GoEmotions** (Demszky et al., ACL 2020; CC BY 4.0, Google Research): real Reddit comments "
        "whose labels fall in one Ekman class (the authors' mapping) or are neutral alone, paired with a "
        "prototype face of that emotion (grades B-E). Dev sentences form the `goemotions_dev` split. "
        "Training sentences whose labels span several classes are soft targets: one pair per class, "
        "weighted by the class's share of the labels.\n",
    ]


def _datasheet_expressions(meta: list[ExpressionMeta]) -> list[str]:
    """The "Expressions" section: counts per category and per FACS grade."""
    cat_count = Counter(m.category for m in meta)
    grade_count = Counter(m.grade or "-" for m in meta)
    return [
        "## Expressions\n",
        _table(
            ["category", "expressions", "labels"],
            [
                (c, cat_count[c], len({m.label for m in meta if m.category == c}))
                for c in CATEGORIES
                if cat_count[c]
            ],
        ),
        f"\nTotal: {len(meta)} expressions.\n",
        _table(
            ["grade", *GRADES, "- (neutral)"], [["expressions", *(grade_count[g] for g in (*GRADES, "-"))]]
        ),
        "",
    ]


def _datasheet_pairs(
    meta: list[ExpressionMeta], pairs: list[Pair], kinds: list[str], splits: list[str]
) -> list[str]:
    """The "Pairs" section: pairs by kind, source, expression category and label."""
    by = Counter((p.kind, p.split) for p in pairs)
    src = Counter(("goemotions" if p.kind == "goemotions" else "annotator", p.split) for p in pairs)
    cat_count = Counter(m.category for m in meta)
    cat_of = [m.category for m in meta]
    bc = Counter((cat_of[p.expr], p.kind) for p in pairs)
    label_pairs = Counter(meta[p.expr].label for p in pairs if meta[p.expr].category != "blend")
    label_expr = Counter(m.label for m in meta if m.category != "blend")
    return [
        "## Pairs\n",
        f"Total: {len(pairs)} (expression, description) pairs.\n",
        _table(
            ["kind", *splits, "total"],
            [(k, *(by[(k, s)] for s in splits), sum(by[(k, s)] for s in splits)) for k in kinds],
        ),
        "",
        _table(
            ["source", *splits, "total"],
            [
                (s, *(src[(s, sp)] for sp in splits), sum(src[(s, sp)] for sp in splits))
                for s in ("annotator", "goemotions")
                if any(src[(s, sp)] for sp in splits)
            ],
        ),
        "",
        "Pairs by expression category and kind:\n",
        _table(
            ["category", *kinds, "total"],
            [
                (c, *(bc[(c, k)] for k in kinds), sum(bc[(c, k)] for k in kinds))
                for c in CATEGORIES
                if cat_count[c]
            ],
        ),
        "",
        "Per label (blends left out; GoEmotions pairs counted on their face's label):\n",
        _table(
            ["label", "category", "emotion class", "expressions", "pairs"],
            [
                (
                    lab,
                    next(m.category for m in meta if m.label == lab),
                    next(m.emotion for m in meta if m.label == lab) or "-",
                    label_expr[lab],
                    label_pairs[lab],
                )
                for lab in label_expr
            ],
        ),
        f"\nUnique description texts: {len({p.text for p in pairs})}.\n",
    ]


def _datasheet_heldout(pairs: list[Pair], info: dict, train_texts: set[str]) -> list[str]:
    """The "Held-out split" section: its size, its overlap with train (none expected) and its vocabulary."""
    held = [p for p in pairs if p.split == "heldout"]
    overlap = sum(normalize_text(p.text) in train_texts for p in held)
    out = [
        "## Held-out split\n",
        f"{len(held)} pairs ({100 * len(held) / max(1, len(pairs)):.1f} % of all, "
        f"{100 * len(held) / max(1, sum(p.kind != 'goemotions' for p in pairs)):.1f} % of the annotator's) "
        "use held-out vocabulary: a fixed share of the synonyms, nouns, situations and physical phrasings "
        "(the same for every seed). Held-out texts that also occur in train: "
        f"**{overlap}** (compared case- and punctuation-insensitively); "
        f"{info.get('heldout_moved_to_train', 0)} coinciding held-out pairs were moved to train, and "
        f"{info.get('train_moved_to_heldout', 0)} descriptions that contain another label's held-out word "
        "were moved to the held-out split, so that no held-out word, noun, situation or phrase occurs in "
        "any training text (GoEmotions training sentences that contain one are dropped).\n",
    ]
    out += [
        f"- {name}: " + "; ".join(items)
        for name, items in info.get("heldout_vocabulary", {}).items()
        if items
    ]
    out.append("")
    phrased = sum(p.split == "heldout_phrasing" for p in pairs)
    if phrased:
        out.append(
            f"A second, easier held-out split, `heldout_phrasing` ({phrased} pairs, neutral and prototype "
            "faces), puts training words and situations into sentence frames that no training text uses "
            "(the `heldout_phrasing` frames of `frames.toml`); it is reported beside the strict split, "
            "never instead of it.\n"
        )
    return out


def _datasheet_reader(tead: Tead) -> list[str]:
    """The emotion reader's agreement with the faces' emotion classes, per grade and as a confusion table."""
    out = ["## Emotion reader agreement (facs.read_emotions)\n"]
    rows = [(i, m) for i, m in enumerate(tead.meta) if m.emotion is not None]
    if not rows:
        return out
    read = read_emotions(tead.expressions[[i for i, _ in rows]])
    per_grade: dict[str, list[int]] = {}
    conf = Counter()
    for (_i, m), r in zip(rows, read, strict=True):
        per_grade.setdefault(m.grade or "-", []).append(int(r == m.emotion))
        conf[(m.emotion, r)] += 1
    return [
        *out,
        "The reader compares the AUs present in a face with each emotion's prototype profile. On this "
        "dataset's own faces (individual variation, stray units, noise), for expressions that have an "
        "emotion class:\n",
        _table(
            ["grade", "faces", "read correctly"],
            [(g, len(v), f"{100 * sum(v) / len(v):.1f} %") for g, v in sorted(per_grade.items())],
        ),
        "\nConfusion (rows: expected, columns: read):\n",
        _table(
            ["expected", *EMOTIONS],
            [(e, *(conf[(e, r)] for r in EMOTIONS)) for e in EMOTIONS if any(conf[(e, r)] for r in EMOTIONS)],
        ),
        "",
    ]


def _datasheet_goemotions(pairs: list[Pair], info: dict, train_texts: set[str]) -> list[str]:
    """The "GoEmotions" section: sentences read, kept per class and dropped, and dev/train overlap."""
    go = info.get("goemotions", {})
    if not go.get("used"):
        return ["## GoEmotions\n", "Not used in this build (folder absent or `--no-goemotions`).\n"]
    kept = go["kept"]
    dev_texts = {normalize_text(p.text) for p in pairs if p.split == "goemotions_dev"}
    return [
        "## GoEmotions\n",
        f"Read: {go['sentences']['train']} train and {go['sentences']['dev']} dev sentences.\n",
        _table(
            ["emotion", "train", "goemotions_dev"],
            [(e, kept["train"].get(e, 0), kept["goemotions_dev"].get(e, 0)) for e in EMOTIONS],
        ),
        "\nDropped: " + ", ".join(f"{k}: {v}" for k, v in go["dropped"].items()) + ".\n",
        f"Dev sentences whose text also occurs in train: {len(dev_texts & train_texts)}.\n",
    ]


def _datasheet_soft(pairs: list[Pair], info: dict) -> list[str]:
    """The "Soft targets" section: the third pass's situations by label and the weighted pairs by source."""
    v3 = info.get("situations_v3")
    if not v3:
        return []
    soft = Counter(p.kind for p in pairs if p.weight != 1.0)
    out = [
        "## Third pass and soft targets\n",
        f"`situations_v3.toml`: {v3['situations']} situations, {v3['weighted_situations']} of them with "
        f"several weighted emotions; {v3['texts']} descriptions, {v3['pairs']} training pairs (none held "
        "out; dropped for meeting held-out text or vocabulary: "
        + (", ".join(f"{k}: {v}" for k, v in v3["dropped"].items()) or "none")
        + "). Descriptions by the label the situation is listed under:\n",
        _table(["label", "descriptions"], sorted(v3["texts_by_label"].items(), key=lambda kv: -kv[1])),
        "\nPairs with a weight below 1 (soft targets), by kind: "
        + ", ".join(f"{k} {n}" for k, n in sorted(soft.items()))
        + ". A trainer draws each pair in proportion to its weight, so a text paired with faces of several "
        "emotions counts as one text, shared out among them.\n",
    ]
    several = info.get("goemotions", {}).get("several_classes")
    if several:
        out.append(
            f"GoEmotions training sentences whose labels span several classes: {several['sentences']} read, "
            f"{several['kept']} kept as {several['pairs']} weighted pairs (summed weight per class: "
            + ", ".join(f"{k} {v}" for k, v in several["weight_by_class"].items())
            + "; dropped: "
            + (", ".join(f"{k}: {v}" for k, v in several["dropped"].items()) or "none")
            + ").\n"
        )
    return out


def _datasheet_examples(meta: list[ExpressionMeta], pairs: list[Pair], kinds: list[str]) -> list[str]:
    """Up to six example pairs per kind (a fixed draw) and the "Files" section."""
    out = ["## Examples\n"]
    ex_rng = random.Random(0)
    for k in kinds:
        chosen = [p for p in pairs if p.kind == k]
        for p in ex_rng.sample(chosen, min(6, len(chosen))):
            m = meta[p.expr]
            grade = f" {m.grade}" if m.grade else ""
            out.append(f'- `{k}` / {p.split} — {m.label}{grade}: "{p.text}"')
    return [
        *out,
        "",
        "## Files\n",
        "`expressions.npy` (E x 52 float32, ARKit order), `meta.jsonl` (one line per expression: category, "
        "label, emotion, grade, intensity, individual, mirrored, components, secondary_grade, aus), "
        "`pairs.jsonl` (expr, text, kind, split; aus for physical, emotion for goemotions; weight where it "
        "is not 1: a soft target's share, the weights of one text summing to 1), `info.json`, "
        "this datasheet. GoEmotions text is CC BY 4.0 (Google Research); the rest is generated.\n",
    ]
