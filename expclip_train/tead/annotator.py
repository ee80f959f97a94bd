"""The offline annotator: prompt-like descriptions of a TEAD expression, from rules and vocabularies.

The paper had an LLM describe each face; this one runs offline and writes four kinds of description:

* ``emotion_word``: emotion words and synonyms with intensity words that agree with the face's grade
  ("slightly annoyed" only at A/B, "absolutely livid" only at E);
* ``physical``: the action units actually active in the weights, read off the vector itself
  ("brows drawn together, lips pressed thin");
* ``situation``: what might have just happened ("she just heard the worst news of her life");
* ``mixture``: compounds and blends ("happy but a little surprised").

Held-out vocabulary: a fixed share of synonyms, nouns, situations and physical phrases (chosen by a
fixed generator, the same for every seed) is marked held out; every description that uses one is held
out, so the held-out split tests unseen phrasings, not unseen faces.

Two passes (build.py): ``Annotator()`` describes each face exactly as TEAD v1 did; ``Annotator(wide=True)``
adds the vocabulary's ``v2`` set (more synonyms, idioms, situations, intensity words, frames) and writes
further descriptions (``EXTRA_COUNTS``) from the v1 and v2 lists together.
"""

from __future__ import annotations

import functools
import random
import re
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from expclip_blender.facs import AU_READ_INDEX, BILATERAL_READ_AUS, GRADES, arkit_to_au_array

from .expressions import ExpressionMeta
from .vocabulary import SETS, Situation, Vocabulary, Word, load

KINDS: tuple[str, ...] = ("emotion_word", "physical", "situation", "mixture", "goemotions")

#: An action unit is "active" (and may be described) from this intensity as read off the face.
ACTIVE_THRESHOLD = 0.15
_LOW, _HIGH = 0.35, 0.7  # physical phrase levels: low < 0.35 <= mid < 0.7 <= high

V: Vocabulary = load()  # the vocabulary files (vocabulary/*.toml, docs/tead-vocabulary.md)
_ALL_ADVERBS = {g: (*V.adverbs["v1"][g], *V.adverbs["v2"][g]) for g in GRADES}
_ALL_NOUN_MODIFIERS = {g: (*V.noun_modifiers["v1"][g], *V.noun_modifiers["v2"][g]) for g in GRADES}
#: Intensity words that only ever appear at grades A/B, and those only at grade E (for checks).
DIMINISHERS: tuple[str, ...] = tuple(
    sorted({w for g in "AB" for w in (*_ALL_ADVERBS[g], *_ALL_NOUN_MODIFIERS[g]) if w}, key=len, reverse=True)
)
MAXIMISERS: tuple[str, ...] = tuple(sorted({w for w in (*_ALL_ADVERBS["E"], *_ALL_NOUN_MODIFIERS["E"]) if w}))
#: Interchangeable intensity words: one group per grade for adverbs and one for noun modifiers, each in
#: vocabulary order. The annotator writes any word of a group for a face of that grade.
INTENSITY_GROUPS: tuple[tuple[str, ...], ...] = tuple(
    tuple(w for w in d[g] if w) for d in (_ALL_ADVERBS, _ALL_NOUN_MODIFIERS) for g in sorted(d)
)
#: Every intensity word and noun modifier of the vocabulary, at any grade ("a tiny bit", "utter").
INTENSITY_WORDS: tuple[str, ...] = tuple(sorted({w for group in INTENSITY_GROUPS for w in group}))

# How many descriptions of each kind an expression gets, by category.
DEFAULT_COUNTS: dict[str, dict[str, int]] = {
    "neutral": {"emotion_word": 6, "physical": 2, "situation": 4},
    "prototype": {"emotion_word": 6, "physical": 3, "situation": 3},
    "state": {"emotion_word": 5, "physical": 3, "situation": 3},
    "compound": {"emotion_word": 2, "mixture": 5, "physical": 3, "situation": 2},
    "blend": {"mixture": 6, "physical": 2},
}
# How many more descriptions the second, wide pass adds per expression (v2). Emotion words and situations
# only: physical descriptions already generalise (v1 held-out physical accuracy 90 %), and every extra
# text costs a MiniLM embedding at training time.
EXTRA_COUNTS: dict[str, dict[str, int]] = {
    "neutral": {"emotion_word": 8, "situation": 6},
    "prototype": {"emotion_word": 10, "situation": 7},
    "state": {"emotion_word": 4, "situation": 3},
    "compound": {"emotion_word": 1, "mixture": 2, "situation": 1},
    "blend": {"mixture": 2},
}
# The second held-out split ("heldout_phrasing"): known words and situations in sentence frames that no
# training description uses, for the faces that have an emotion class of their own.
PHRASING_COUNTS: dict[str, dict[str, int]] = {
    "neutral": {"emotion_word": 2, "situation": 2},
    "prototype": {"emotion_word": 2, "situation": 2},
}
# Each list's held-out share is drawn by a generator seeded with the list's key (prefix + list name), so
# these strings are part of the dataset's definition. A v1 list keeps at least two training entries, a
# v2 list at least one (its first).
_HOLDOUT_PREFIX = {"v1": "", "v2": "more-"}
_HOLDOUT_KEEP = {"v1": 2, "v2": 0}


@dataclass(frozen=True)
class Entry:
    """A vocabulary item: text, grade range (1 = A .. 5 = E), usage flags, held out or not."""

    text: str
    lo: int = 1
    hi: int = 5
    pred_only: bool = False  # only after a verb ("looks in pain")
    no_adverb: bool = False  # carries its own intensity
    verb: bool = False  # an -ing phrase: "she is laughing", never "looking laughing"
    heldout: bool = False

    def fits(self, g: int) -> bool:
        return self.lo <= g <= self.hi


@dataclass(frozen=True)
class Description:
    """One description of one expression."""

    text: str
    kind: str
    heldout: bool
    aus: tuple[str, ...] = ()  # physical: the action units the text mentions (as read, "L2" = left only)


def _word_entry(word: Word) -> Entry:
    return Entry(word.text, word.lo, word.hi, word.after_verb, word.own_intensity, word.ing)


def _situation_entry(situation: Situation) -> Entry:
    return Entry(situation.text, situation.lo, situation.hi)


def _hold_out(key: str, entries: list[Entry], rate: float, keep: int = 2) -> list[Entry]:
    """Mark a fixed share of a list held out, the same whatever the build seed (keyed by the list's name)."""
    n = len(entries)
    n_hold = min(int(rate * n + 0.5), max(0, n - keep), n - 1)
    if n_hold == 0:
        return entries
    # Never the first entry: it is the label's head word ("embarrassed"), which animators will type.
    picks = set((1 + np.random.default_rng(zlib.crc32(key.encode())).permutation(n - 1)[:n_hold]).tolist())
    return [
        Entry(e.text, e.lo, e.hi, e.pred_only, e.no_adverb, e.verb, i in picks) for i, e in enumerate(entries)
    ]


def _choice(rng: random.Random, seq: Sequence):
    return seq[int(rng.random() * len(seq))]


def _article(phrase: str) -> str:
    return "an" if phrase[:1].lower() in "aeiou" else "a"


def _clean(text: str) -> str:
    return " ".join(text.split()).replace(" ,", ",")


class Annotator:
    """Writes descriptions of TEAD expressions; deterministic given the ``random.Random`` it is handed.

    ``holdout_rate``: share of each synonym / noun / situation list held out. ``physical_holdout``: share
    of the physical phrase lists (of 3 or more phrases) that lose one phrase to the held-out split.
    ``wide``: add the vocabulary's v2 set; each v2 list is held out apart, keyed by its own name, so the
    v1 lists keep exactly their v1 held-out entries. ``phrasing``: write in the ``heldout_phrasing``
    frames of the second held-out split only, with training vocabulary only.
    """

    def __init__(
        self,
        holdout_rate: float = 0.1,
        physical_holdout: float = 0.3,
        counts: dict[str, dict[str, int]] | None = None,
        wide: bool = False,
        phrasing: bool = False,
    ):
        wide = wide or phrasing
        self.wide, self.phrasing = wide, phrasing
        self.counts = counts or (PHRASING_COUNTS if phrasing else EXTRA_COUNTS if wide else DEFAULT_COUNTS)
        r = holdout_rate
        sets = SETS if wide else ("v1",)

        def table(prefix: str, by_set: Mapping[str, Mapping[str, tuple]], make) -> dict[str, list[Entry]]:
            out: dict[str, list[Entry]] = {}
            for s in sets:
                for label, items in by_set[s].items():
                    entries = [make(item) for item in items]
                    key = f"{_HOLDOUT_PREFIX[s]}{prefix}:{label}"
                    out[label] = out.get(label, []) + _hold_out(key, entries, r, keep=_HOLDOUT_KEEP[s])
            return out

        self.words = table("w", V.words, _word_entry)
        self.nouns = table("n", V.nouns, _word_entry)
        self.situations = table("s", V.situations, _situation_entry)
        self.neutral_phrases = [
            e
            for s in sets
            for e in _hold_out(
                f"{_HOLDOUT_PREFIX[s]}neutral-phrases",
                [Entry(t) for t in V.neutral_phrases[s]],
                r,
                keep=_HOLDOUT_KEEP[s],
            )
        ]
        self._hold_out_whole_words()
        # Intensity words and frames: v1's, plus v2's in the wide pass; the phrasing split's own frames.
        self.adverbs = _ALL_ADVERBS if wide else V.adverbs["v1"]
        self.noun_modifiers = _ALL_NOUN_MODIFIERS if wide else V.noun_modifiers["v1"]
        self.not_attributive = frozenset().union(*(V.not_attributive[s] for s in sets))
        frame_sets = ("heldout_phrasing",) if phrasing else sets
        self.adj_frames = tuple(f for s in frame_sets for f in V.adjective_frames[s])
        noun_frames = tuple(f for s in frame_sets for f in V.noun_frames[s])
        self.situation_frames = tuple(f for s in frame_sets for f in V.situation_frames[s])
        # Frames that fit a word, by (pred_only, verb); noun frames by whether the modifier is adjectival.
        self.adj_frames_for = {
            (pred, verb): tuple(
                f for f in self.adj_frames if f.use == "any" or (f.use == "pred" and not verb) or not pred
            )
            for pred in (False, True)
            for verb in (False, True)
        }
        self.noun_frames_for = {
            adj: tuple(f.frame for f in noun_frames if adj or not f.needs_adjective_modifier)
            for adj in (False, True)
        }
        self.physical: dict[str, dict[str, list[Entry]]] = {}
        pick = random.Random(20240101)  # fixed: the held-out phrases are the same for every build seed
        for unit, levels in (
            *V.physical.items(),
            *((f"{a}+{b}", v) for (a, b), v in V.physical_pairs.items()),
        ):
            self.physical[unit] = {}
            for lvl, texts in levels.items():
                entries = [Entry(t) for t in texts]
                if len(entries) >= 3 and pick.random() < physical_holdout:
                    k = pick.randrange(len(entries))
                    entries[k] = Entry(entries[k].text, heldout=True)
                self.physical[unit][lvl] = entries
        self.resting = [Entry(t) for t in V.resting_phrases]
        self.faint = [Entry(t) for t in V.faint_phrases]

    def _hold_out_whole_words(self) -> None:
        """Hold out every word or noun of a label that contains a held-out one ("lost" -> "completely
        lost"), so a held-out synonym never reaches training inside a longer phrase."""
        for label in set(self.words) | set(self.nouns):
            lists = [self.words.get(label, []), self.nouns.get(label, [])]
            held = {e.text for entries in lists for e in entries if e.heldout}
            if not held:
                continue
            pattern = re.compile(r"(?<![\w-])(" + "|".join(re.escape(h) for h in held) + r")(?![\w-])")
            for entries in lists:
                for i, e in enumerate(entries):
                    if not e.heldout and pattern.search(e.text):
                        entries[i] = Entry(e.text, e.lo, e.hi, e.pred_only, e.no_adverb, e.verb, True)

    # ----------------------------------------------------------------------------------------------
    def heldout_vocabulary(self) -> dict[str, list[str]]:
        """The held-out synonyms, nouns, situations and phrases, by list (for the datasheet)."""
        out: dict[str, list[str]] = {}
        for name, table in (("words", self.words), ("nouns", self.nouns), ("situations", self.situations)):
            for label, entries in table.items():
                held = [e.text for e in entries if e.heldout]
                if held:
                    out[f"{name}: {label}"] = held
        out["physical phrases"] = [
            e.text for levels in self.physical.values() for es in levels.values() for e in es if e.heldout
        ]
        out["neutral phrases"] = [e.text for e in self.neutral_phrases if e.heldout]
        return out

    def emotion_phrases(self) -> list[str]:
        """The trained emotion words and nouns (held-out ones left out), as the vocabulary writes them
        (``{pos}`` slots kept): what :mod:`..emotion_phrase` may read on its own inside a longer prompt."""
        # One-word entries the body vocabulary also uses ("down", "tense") would be found inside physical
        # descriptions ("mouth corners pulled down"), where they are not the prompt's emotion.
        physical = {
            w for levels in (*V.physical.values(), *V.physical_pairs.values()) for texts in levels.values()
            for text in texts for w in re.findall(r"[a-z][a-z'-]*", text.lower())
        }  # fmt: skip
        phrases = {
            e.text for table in (self.words, self.nouns) for entries in table.values() for e in entries
            if not e.heldout and e.text.lower() not in physical
        }  # fmt: skip
        return sorted(phrases)

    def trained_phrases(self, known: set[str], kept_out: Iterable[str] = ()) -> list[str]:
        """The :meth:`emotion_phrases` heads were trained on: not among ``kept_out`` (lower case), and every
        word of them in ``known`` (the heads' training texts' tokens)."""
        from expclip_blender.lexicon import tokens

        left_out = {e.lower() for e in kept_out}
        return [
            p for p in self.emotion_phrases()
            if p.lower() not in left_out and set(tokens(self.display(p))) <= known
        ]  # fmt: skip

    def display(self, text: str) -> str:
        """A vocabulary entry with its pronoun slots filled (for reading)."""
        return V.subjects[0].fill(text.replace("{side}", "left"))

    def describe(
        self,
        face: np.ndarray,
        meta: ExpressionMeta,
        rng: random.Random,
        au: np.ndarray | None = None,
        exclude: Iterable[str] = (),
    ) -> list[Description]:
        """Several distinct descriptions of one face, of the kinds its category gets (``self.counts``).

        ``au``: the face's action units as read (facs.arkit_to_au_array), when already computed.
        ``exclude``: texts this face already has (an earlier pass); none of them is written again.
        """
        out: list[Description] = []
        seen: set[str] = {t.lower() for t in exclude}
        g = GRADES.index(meta.grade) + 1 if meta.grade else 3
        units = None
        for kind, n in self.counts.get(meta.category, {}).items():
            if kind == "physical":
                units = self.active_units(face if au is None else au, read=au is None)
            made = 0
            for _ in range(6 * n):
                if made == n:
                    break
                if kind == "emotion_word":
                    d = (
                        self.neutral(rng)
                        if meta.label == "neutral"
                        else self.emotion_word(meta.label, g, rng)
                    )
                elif kind == "situation":
                    d = self.situation(meta.label, g, rng)
                elif kind == "physical":
                    d = self.physical_description(units, rng)
                elif kind == "mixture":
                    a, b = meta.components
                    if meta.category == "blend":
                        d = self.blend(a, g, b, GRADES.index(meta.secondary_grade) + 1, rng)
                    else:
                        d = self.mixture(a, b, g, rng)
                else:
                    raise ValueError(f"unknown description kind {kind!r}")
                if d is None:
                    break
                if self.phrasing and d.heldout:
                    continue  # the phrasing split tests known vocabulary; unseen words are the strict split's
                key = d.text.lower()
                if key not in seen:
                    seen.add(key)
                    out.append(d)
                    made += 1
        return out

    # ----------------------------------------------------------------------------------------------
    # Emotion words.
    @functools.lru_cache(maxsize=4096)  # noqa: B019 - one annotator per build; the cache dies with it
    def _words(self, label: str, g: int, use: str = "any") -> tuple[Entry, ...]:
        """Words of a label that fit grade g and a frame use ("any", "pred", "attr", "mix")."""
        out = []
        for w in self.words.get(label, ()):
            if not w.fits(g):
                continue
            if (use in ("attr", "plain") and w.pred_only) or (use == "pred" and w.verb):
                continue
            if use == "plain" and w.no_adverb:
                continue
            out.append(w)
        return tuple(out)

    @functools.lru_cache(maxsize=4096)  # noqa: B019
    def _nouns(self, label: str, g: int) -> tuple[Entry, ...]:
        return tuple(n for n in self.nouns.get(label, ()) if n.fits(g))

    def _adjective(self, word: Entry, g: int, rng: random.Random, attributive: bool = False) -> str:
        """The word with an intensity adverb that agrees with grade g (1..5)."""
        if word.no_adverb:
            return word.text
        options = [a for a in self.adverbs[GRADES[g - 1]] if not (attributive and a in self.not_attributive)]
        if g == 3:
            options += [""] * 4
        elif (g == 2 and word.hi <= 2) or (g == 4 and word.lo >= 4) or (g == 5 and word.lo >= 5):
            options += ["", ""]  # a word that is mild (or strong) by itself needs no adverb
        adv = _choice(rng, options)
        return f"{adv} {word.text}" if adv else word.text

    def _noun_phrase(self, noun: Entry, g: int, rng: random.Random) -> str:
        """The noun with a modifier that agrees with grade g ("a hint of anger", "pure rage")."""
        mod = _choice(rng, self.noun_modifiers[GRADES[g - 1]])
        return f"{mod} {noun.text}" if mod else noun.text

    def emotion_word(self, label: str, g: int, rng: random.Random) -> Description | None:
        """An emotion word or noun for ``label`` at grade g, in a short prompt-like frame."""
        words, nouns = self._words(label, g), self._nouns(label, g)
        if not words and not nouns:
            return None
        subj = _choice(rng, V.subjects)
        if nouns and (not words or rng.random() < 0.25):
            noun = _choice(rng, nouns)
            frame = _choice(rng, self.noun_frames_for[g >= 3])
            text = frame.replace("{np}", self._noun_phrase(noun, g, rng))
            return Description(_clean(subj.fill(text)), "emotion_word", noun.heldout)
        word = _choice(rng, words)
        frame = _choice(rng, self.adj_frames_for[(word.pred_only, word.verb)])
        phrase = self._adjective(word, g, rng, attributive=frame.use == "attr")
        text = frame.frame.replace("{an}", _article(phrase)).replace("{a}", phrase)
        return Description(_clean(subj.fill(text)), "emotion_word", word.heldout)

    def neutral(self, rng: random.Random) -> Description:
        """A description of a neutral face (no intensity words: neutral has no grade)."""
        if rng.random() < 0.45 and not self.phrasing:
            e = _choice(rng, self.neutral_phrases)
            return Description(e.text, "emotion_word", e.heldout)
        word = _choice(rng, self.words["neutral"])
        frame = _choice(rng, self.adj_frames).frame
        text = frame.replace("{an}", _article(word.text)).replace("{a}", word.text)
        return Description(_clean(_choice(rng, V.subjects).fill(text)), "emotion_word", word.heldout)

    # ----------------------------------------------------------------------------------------------
    def situation(self, label: str, g: int, rng: random.Random) -> Description | None:
        """A situation that would cause this expression at about this grade."""
        options = [s for s in self.situations.get(label, ()) if s.fits(g) or label == "neutral"]
        if not options:
            return None
        sit = _choice(rng, options)
        subj = _choice(rng, V.subjects)
        frame = _choice(rng, self.situation_frames)
        text = frame.replace("{vp}", subj.fill(sit.text)).replace("{vp_someone}", V.someone.fill(sit.text))
        return Description(_clean(subj.fill(text)), "situation", sit.heldout)

    # ----------------------------------------------------------------------------------------------
    # Mixtures.
    def mixture(self, a: str, b: str, g: int, rng: random.Random) -> Description | None:
        """Two emotions at once, both at grade g (the compound expressions): "happily surprised"."""
        words_a, words_b = self._words(a, g, "pred"), self._words(b, g, "pred")
        if not words_a or not words_b:
            return None
        plain_a, plain_b = self._words(a, g, "plain"), self._words(b, g, "plain")
        nouns_a, nouns_b = self._nouns(a, g), self._nouns(b, g)
        frames = [f for f in V.mixture_frames if (nouns_a and nouns_b) or "{n" not in f.lower()]
        if g >= 3 and plain_a and plain_b:
            frames += [f for f in V.plain_mixture_frames if "{m}" not in f or a in V.manner]
        frame = _choice(rng, frames)
        text, used = frame, []
        if "{m}" in text:  # Du et al.'s naming: "happily surprised"
            text = text.replace("{m}", _choice(rng, V.manner[a]))
        for key, pool in (("{a}", plain_a), ("{b}", plain_b)):
            if key in text:
                e = _choice(rng, pool)
                text, used = text.replace(key, e.text), [*used, e]
        for key, pool in (("{A}", words_a), ("{B}", words_b)):
            if key in text:
                e = _choice(rng, pool)
                text, used = text.replace(key, self._adjective(e, g, rng)), [*used, e]
        if "{mix}" in text:
            mix = _choice(rng, V.mix_modifiers[GRADES[g - 1]])
            text = text.replace("{mix}", f"{mix} {_choice(rng, ('mix', 'blend', 'combination'))}")
        for key, pool, modified in (
            ("{NA}", nouns_a, True),
            ("{na}", nouns_a, False),
            ("{nb}", nouns_b, False),
        ):
            if key in text:
                e = _choice(rng, pool)
                text, used = (
                    text.replace(key, self._noun_phrase(e, g, rng) if modified else e.text),
                    [*used, e],
                )
        text = _clean(_choice(rng, V.subjects).fill(text))
        return Description(text, "mixture", any(e.heldout for e in used))

    def blend(self, a: str, ga: int, b: str, gb: int, rng: random.Random) -> Description | None:
        """A strong ``a`` (grade ga) with a weaker ``b`` (grade gb): "happy but a little surprised"."""
        words_a, words_b = self._words(a, ga, "pred"), self._words(b, gb, "pred")
        if not words_a or not words_b:
            return None
        plain_a = self._words(a, ga, "plain")
        nouns_a, nouns_b = self._nouns(a, ga), self._nouns(b, gb)
        frames = [
            f
            for f in V.blend_frames
            if ("{a}" not in f or plain_a) and ("{NA}" not in f or nouns_a) and ("{nb}" not in f or nouns_b)
        ]
        frame = _choice(rng, frames)
        text, used = frame, []
        if "{b}" in text:
            e = _choice(rng, words_b)
            text, used = text.replace("{b}", self._adjective(e, gb, rng)), [*used, e]
        if "{A}" in text:
            e = _choice(rng, words_a)
            text, used = text.replace("{A}", self._adjective(e, ga, rng)), [*used, e]
        if "{a}" in text:
            e = _choice(rng, plain_a)
            text, used = text.replace("{a}", e.text), [*used, e]
        if "{NA}" in text:
            e = _choice(rng, nouns_a)
            text, used = text.replace("{NA}", self._noun_phrase(e, ga, rng)), [*used, e]
        if "{nb}" in text:
            e = _choice(rng, nouns_b)
            text, used = text.replace("{nb}", self._noun_phrase(e, gb, rng)), [*used, e]
        text = _clean(_choice(rng, V.subjects).fill(text))
        return Description(text, "mixture", any(e.heldout for e in used))

    # ----------------------------------------------------------------------------------------------
    # Physical descriptions.
    def active_units(
        self, face: np.ndarray, read: bool = True
    ) -> list[tuple[float, tuple[str, ...], str, str]]:
        """The describable action units of a face: (strength, codes, level, side) in top-to-bottom order.

        ``face``: 52 ARKit weights, or (``read=False``) the action units already read off them.
        ``codes`` are reading codes: "4" for both sides, "L2"/"R2" for one side only; ``level`` is
        "low"/"mid"/"high" or "side"; ``side`` is "left"/"right" (the subject's) for one-sided units.
        """
        au = (arkit_to_au_array(face) if read else face).tolist()  # plain floats: much faster to index
        items: list[tuple[float, tuple[str, ...], str, str]] = []
        for unit, phrases in V.physical.items():
            if unit in BILATERAL_READ_AUS:
                left, right = au[AU_READ_INDEX["L" + unit]], au[AU_READ_INDEX["R" + unit]]
                strong = max(left, right)
                if strong < ACTIVE_THRESHOLD:
                    continue
                mean = 0.5 * (left + right)
                if min(left, right) >= 0.4 * strong and mean >= ACTIVE_THRESHOLD and "low" in phrases:
                    items.append((mean, (unit,), _level(mean), ""))
                elif "side" in phrases:
                    side = "L" if left >= right else "R"
                    items.append((strong, (side + unit,), "side", "left" if side == "L" else "right"))
            else:
                v = au[AU_READ_INDEX[unit]]
                if v >= ACTIVE_THRESHOLD:
                    items.append((v, (unit,), _level(v), ""))
        # Two units that read as one movement ("eyebrows raised" for 1+2).
        for a, b in V.physical_pairs:
            ia = next((it for it in items if it[1] == (a,)), None)
            ib = next((it for it in items if it[1] == (b,)), None)
            if ia and ib:
                level = min(ia[0], ib[0])
                items = [it for it in items if it is not ia and it is not ib]
                items.append((level, (a, b), _level(level), ""))
        items.sort(key=lambda it: _ORDER[it[1][0].lstrip("LR")])
        if not items:
            # Nothing to name: tell a face at rest from one that moves too faintly to describe.
            faint = max(au[i] for i in _EXPRESSIVE) >= 0.5 * ACTIVE_THRESHOLD
            items = [(0.0, (), "faint" if faint else "rest", "")]
        return items

    def physical_description(self, units: list, rng: random.Random) -> Description:
        """What the face does, from its active units (:meth:`active_units`), top to bottom."""
        if not units[0][1]:
            e = _choice(rng, self.faint if units[0][2] == "faint" else self.resting)
            return Description(e.text, "physical", e.heldout, ())
        # Always the strongest unit, then a few others, the stronger ones more likely.
        strongest = max(range(len(units)), key=lambda i: units[i][0])
        k = min(len(units), _choice(rng, (1, 2, 2, 3, 3, 3, 4, 4)))
        chosen = {strongest}
        others = [i for i in range(len(units)) if i != strongest]
        while len(chosen) < k:
            i = rng.choices(others, weights=[units[j][0] for j in others])[0]
            chosen.add(i)
            others.remove(i)
        phrases: list[str] = []
        codes: list[str] = []
        held = False
        for i in sorted(chosen):
            _strength, aus, level, side = units[i]
            entry = _choice(rng, self.physical["+".join(u.lstrip("LR") for u in aus)][level])
            phrases.append(entry.text.replace("{side}", side))
            held |= entry.heldout
            codes += aus
        if len(phrases) == 1:
            body = phrases[0]
        else:
            style = _choice(rng, (", ", " and ", "; "))
            if style == " and ":
                body = ", ".join(phrases[:-1]) + " and " + phrases[-1]
            else:
                body = style.join(phrases)
        text = _choice(rng, V.physical_frames).replace("{list}", body)
        return Description(_clean(text), "physical", held, tuple(codes))


_ORDER = {u: i for i, u in enumerate(V.physical)}
# Reading columns of the units that show expression (not gaze): what "too faint to name" looks at.
_EXPRESSIVE = tuple(AU_READ_INDEX[u] for u in V.physical if u not in ("61", "62", "63", "64"))


def _level(v: float) -> str:
    return "low" if v < _LOW else "mid" if v < _HIGH else "high"
