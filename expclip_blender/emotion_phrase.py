"""The one emotion phrase of a prompt, so it can be read on its own as well as in its sentence.

MiniLM mean-pools every token, so the words around an emotion word move the sentence
embedding: trained words in sentence frames the projection never saw ("please animate a stoic face",
"honestly, she is a tiny bit judgy") decoded to the right emotion 83% of the time, the same words in
trained frames 95%. When a prompt holds exactly one emotion phrase the projection was trained on (with
its intensity words: "a tiny bit judgy"), :class:`EmotionPhraseFinder` returns it and the API blends the
style of that phrase alone with the style of the whole prompt (:data:`PHRASE_SHARE`).

Nothing is read apart when it could change the meaning: prompts that negate ("not angry at all"), that
hold two emotion phrases ("happy but a little surprised": the mixture is the point) or none (situations,
physical descriptions). An unseen word with WordNet stand-ins (:mod:`.lexicon`) counts as a phrase: the
stand-ins that are trained emotion phrases are read, each with the word's intensity words.

A phrase with an intensity word is also read with other words of the same grade (:data:`GRADE_VARIANTS`):
TEAD writes any word of a grade's group for a face of that grade, so they mean the same to the model,
but MiniLM reads single pairings oddly ("absolutely" leans happy: "absolutely livid" alone decoded a
half smile, while "extremely livid" and "utterly livid" decoded rage).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from .lexicon import LEXICON_FILE, Lexicon, bundled_lexicon, tokens

__all__ = [
    "GRADE_VARIANTS",
    "PHRASE_APART_MAX_WORDS",
    "PHRASE_EMBEDDINGS_FILE",
    "PHRASE_SHARE",
    "EmotionPhraseFinder",
    "bundled_phrase_embeddings",
    "bundled_phrase_finder",
    "load_phrase_embeddings",
    "read_whole",
    "write_phrase_embeddings",
]

#: The shipped text encoder's sentence embeddings of the trained emotion phrases, each encoded alone
#: (float16; the header names the encoder, :attr:`.text_encoder.MiniLMEncoder.identity`). A first-time
#: prompt such as "smug half smile" then costs one encoder call, not a batch of two.
PHRASE_EMBEDDINGS_FILE = LEXICON_FILE.parent / "phrase_embeddings.safetensors"

#: Share of the emotion phrase's own style in the prompt's style (the rest is the whole prompt's). On the
#: text stage's validation split, shares 0.25-0.75 read emotion words and situations within a point of each
#: other; 0.75 keeps short prompts made of several phrases as they read (the "Sarcastic" preset's eye roll),
#: and without the phrase an intensity ladder breaks (docs/experiments.md).
PHRASE_SHARE = 0.75

#: Prompts of more words than this are read whole: in a sentence the words around the phrase carry the
#: meaning ("I was so happy it was over" is relief). Chosen on the text stage's validation split with the
#: fine-tuned encoder (docs/experiments.md): GoEmotions macro-F1 0.457 -> 0.473, emotion words and situations
#: as before, and every prompt of up to 10 words (what animators type, the presets) read as before.
PHRASE_APART_MAX_WORDS = 10


def read_whole(prompt: str, max_words: int = PHRASE_APART_MAX_WORDS) -> bool:
    """Whether ``prompt`` is a sentence too long to read its emotion phrase apart (more than ``max_words``
    whitespace-separated words)."""
    return len(prompt.split()) > max_words


#: How many other intensity words of its grade a phrase is also read with, the group's first (its most
#: trained: TEAD v1's words come first): "absolutely livid" -> "extremely livid", "utterly livid". Each
#: costs about 3 ms the first time a prompt's phrase is read; 3 read the ladders no better than 2.
GRADE_VARIANTS = 2

_NEGATION = re.compile(r"(?<![\w-])(?:not|no|never|without|nor|hardly)(?![\w-])|n't")
# Pronoun slots of the vocabulary ("rolling {pos} eyes") match any pronoun a prompt may use there.
_SLOTS = {
    "{pos}": "(?:her|his|their|my|your|its|our)",
    "{obj}": "(?:her|him|them|me|you|it|us)",
    "{refl}": "(?:herself|himself|themselves|themself|myself|yourself|itself|ourselves)",
}


def _alternation(items: Sequence[str]) -> str:
    return "|".join(sorted(items, key=len, reverse=True))  # longest first: "a little bit" before "a little"


def _phrase_pattern(phrase: str) -> str:
    out = re.escape(phrase.lower())
    for slot, pattern in _SLOTS.items():
        out = out.replace(re.escape(slot), pattern)
    return out


class EmotionPhraseFinder:
    """Finds the single trained emotion phrase (with its intensity words) of a prompt."""

    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon
        self._intensity = _alternation([re.escape(w) for w in lexicon.intensity_words])
        self._leading_intensity = re.compile(rf"({self._intensity})\s+(.+)") if self._intensity else None
        # A word in two groups ("a little": an adverb and a noun modifier) has no variants: the adverbs'
        # would not fit before a noun ("slightly anger").
        groups = [(w, g) for g in lexicon.intensity_groups for w in g]
        counts = Counter(w for w, _ in groups)
        self._group = {w: g for w, g in groups if counts[w] == 1}
        self._phrases = {p.lower() for p in lexicon.phrases}
        body = _alternation([_phrase_pattern(p) for p in lexicon.phrases])
        self._pattern = (
            re.compile(rf"(?<![\w-])(?:(?:{self._intensity})\s+)?(?:{body})(?![\w-])") if body else None
        )

    def find(self, prompt: str) -> list[str]:
        """The texts to read on their own for ``prompt``: its one trained emotion phrase, or the trained
        stand-ins of its one unseen emotion word; ``[]`` when there is none, more than one, or a negation."""
        text = prompt.lower().strip()
        if self._pattern is None or not text or _NEGATION.search(text):
            return []
        found = list(self._pattern.finditer(text))
        inside = {w for m in found for w in tokens(m.group(0))}
        unseen = [(w, terms) for w, terms in self.lexicon.unseen(text) if not inside & set(w.split())]
        if len(found) + len(unseen) != 1:
            return []
        if found:
            return [found[0].group(0)]
        word, terms = unseen[0]
        spaced = r"\s+".join(re.escape(w) for w in word.split())
        before = re.search(rf"(?<![\w-])({self._intensity})\s+{spaced}(?![\w-])", text)
        prefix = f"{before.group(1)} " if before else ""
        return [prefix + t for t in terms if t.lower() in self._phrases]

    def grade_variants(self, phrase: str) -> list[str]:
        """``phrase`` with its leading intensity word swapped for the first :data:`GRADE_VARIANTS` other
        words of its grade ("absolutely livid" -> "extremely livid", ...); ``[]`` without one."""
        match = self._leading_intensity.fullmatch(phrase) if self._leading_intensity else None
        if match is None:
            return []
        word, rest = match.groups()
        others = [w for w in self._group.get(word, ()) if w != word][:GRADE_VARIANTS]
        return [f"{w} {rest}" for w in others]

    def read_apart(self, prompt: str, variants: bool = True) -> list[str]:
        """What :meth:`find` returns (with its :meth:`grade_variants` when there is one phrase), less the
        prompt itself: a prompt that is its own emotion phrase ("furious") needs no second reading."""
        whole = prompt.lower().strip()
        found = self.find(prompt)
        if variants and len(found) == 1:
            found += self.grade_variants(found[0])
        return [f for f in found if f != whole]


def write_phrase_embeddings(
    phrases: Sequence[str], encoder, path: str | Path = PHRASE_EMBEDDINGS_FILE
) -> int:
    """Encode each phrase without pronoun slots alone with ``encoder`` (a ``MiniLMEncoder``) and save
    them as float16 safetensors (phrases and the encoder's identity in the header, rows in phrase order).
    Returns how many were written."""
    from safetensors.numpy import save_file

    kept = sorted({p.lower() for p in phrases if "{" not in p})
    rows = np.stack([encoder.encode([p])[0] for p in kept]) if kept else np.zeros((0, 384), np.float32)
    metadata = {"phrases": json.dumps(kept), "text_encoder": encoder.identity}
    save_file({"embeddings": rows.astype(np.float16)}, str(path), metadata=metadata)
    return len(kept)


def load_phrase_embeddings(
    path: str | Path = PHRASE_EMBEDDINGS_FILE, identity: str | None = None
) -> dict[str, np.ndarray]:
    """``{phrase: (384,) float32 sentence embedding}`` from a file of :func:`write_phrase_embeddings`;
    ``{}`` when ``identity`` is given and the file was written by another encoder (the phrases are then
    encoded live, by the encoder in use)."""
    from .model_files import ModelFileError, read_safetensors

    tensors, metadata = read_safetensors(path, "Phrase embedding")
    if identity is not None and metadata.get("text_encoder", "") != identity:
        return {}
    if "embeddings" not in tensors:
        raise ModelFileError(f"Phrase embeddings '{path}' have no tensor 'embeddings'; rebuild the lexicon")
    phrases = json.loads(metadata.get("phrases", "[]"))
    rows = tensors["embeddings"].astype(np.float32)
    if len(phrases) != len(rows):
        raise ModelFileError(
            f"Phrase embeddings '{path}': {len(phrases)} phrases for {len(rows)} embeddings; "
            "rebuild the lexicon"
        )
    if not np.isfinite(rows).all():
        raise ModelFileError(
            f"Phrase embeddings '{path}': tensor 'embeddings' contains NaN or infinite values; "
            "rebuild the lexicon"
        )
    return dict(zip(phrases, rows, strict=True))


@lru_cache(maxsize=2)
def bundled_phrase_embeddings(identity: str = "") -> dict[str, np.ndarray]:
    """The shipped phrase embeddings when they are those of the encoder ``identity`` (``MiniLMEncoder.
    identity``), or ``{}`` (absent, or another encoder's: the phrases are then encoded live)."""
    return load_phrase_embeddings(identity=identity) if PHRASE_EMBEDDINGS_FILE.is_file() else {}


@lru_cache(maxsize=1)
def bundled_phrase_finder() -> EmotionPhraseFinder | None:
    """The finder over the shipped lexicon table (built once: its pattern takes ~0.1 s to compile)."""
    lexicon = bundled_lexicon()
    return EmotionPhraseFinder(lexicon) if lexicon is not None else None
