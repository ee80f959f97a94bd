"""Unseen prompt words backed off to words and phrases the text projection was trained on.

The text encoder is a MiniLM that places rare words by their spelling more than by their meaning
("crabby" lands near "seasick"). Words the projection never saw in training are therefore looked up in a
table and the prompt reaches the encoder with known stand-ins appended: "feeling crabby" -> "feeling
crabby (cranky, cross, grouchy, grumpy)". A word's first stand-in is the trained emotion phrase nearest to
it in a larger sentence encoder's space (all-mpnet-base-v2, used at build time only, where it clears a
similarity floor); WordNet's synonyms and related known words follow. A word with neither takes the
trained phrase WordNet derives it from ("giddiness" -> "giddy"), else the one nearest in the Moby
thesaurus. Training texts contain known words only, so they are unchanged by this and training and
inference agree. WordNet's idioms are looked up
whole ("fed up" -> "frustrated, disgusted, displeased"), before their words.

The table (``lexicon/backoff.json.gz``) holds the training vocabulary and the stand-ins; its words are
Princeton WordNet 3.0's (licence in ``lexicon/WORDNET-LICENSE.txt``). It is rebuilt with
``python -m expclip_train.data lexicon`` (recipe ``expclip_train/recipes/lexicon.toml``).
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

__all__ = [
    "LEXICON_FILE",
    "MAX_EXPRESSION_WORDS",
    "MAX_PROMPT_WORDS",
    "TOKEN",
    "Lexicon",
    "bundled_lexicon",
    "inflection_candidates",
    "tokens",
]

LEXICON_FILE = Path(__file__).resolve().parent / "lexicon" / "backoff.json.gz"
# Only short prompts are expanded: there one word carries the meaning, where in a sentence ("she is
# riding the train to work") the context does, and stand-ins for its rarer words mostly add noise.
MAX_PROMPT_WORDS = 6
# Longest multi-word expression looked up ("hot under the collar").
MAX_EXPRESSION_WORDS = 4
TOKEN = re.compile(r"[a-z][a-z'-]*")


def tokens(text: str) -> list[str]:
    """Lower-case word tokens (letters, apostrophes, hyphens) of a text."""
    return TOKEN.findall(text.lower())


def inflection_candidates(word: str) -> list[str]:
    """The word and plausible base forms (comparatives, adverbs in -ly, past tenses, gerunds, plurals)."""
    out = [word]
    for suffix, base in (
        ("ily", "y"), ("ly", ""), ("ier", "y"), ("iest", "y"), ("er", ""), ("est", ""), ("ied", "y"),
        ("ed", ""), ("ed", "e"), ("ing", ""), ("ing", "e"), ("ies", "y"), ("es", ""), ("s", ""),
    ):  # fmt: skip
        if word.endswith(suffix) and len(word) > len(suffix) + 2:
            out.append(word[: -len(suffix)] + base)
    # Doubled final consonant: "sobbing" -> "sobb" -> "sob".
    out += [w[:-1] for w in out[1:] if len(w) > 3 and w[-1] == w[-2] and w[-1] not in "aeiouls"]
    return list(dict.fromkeys(out))


class Lexicon:
    """Known training vocabulary plus ``{unseen word: known words}``."""

    def __init__(
        self,
        known: set[str],
        backoff: dict[str, list[str]],
        phrases: Sequence[str] = (),
        intensity_groups: Sequence[Sequence[str]] = (),
    ) -> None:
        self.known = known
        self.backoff = backoff
        # The trained emotion words and nouns, and the intensity words before them, in groups of words
        # training uses interchangeably (one grade each; see .emotion_phrase).
        self.phrases = tuple(phrases)
        self.intensity_groups = tuple(tuple(g) for g in intensity_groups)

    @property
    def intensity_words(self) -> tuple[str, ...]:
        """Every intensity word of :attr:`intensity_groups`, sorted."""
        return tuple(sorted({w for group in self.intensity_groups for w in group}))

    @classmethod
    def load(cls, path: str | Path = LEXICON_FILE) -> Lexicon:
        with gzip.open(path, "rt", encoding="utf-8") as f:
            data = json.load(f)
        return cls(
            set(data["known"]),
            {k: list(v) for k, v in data["backoff"].items()},
            data.get("phrases", ()),
            data.get("intensity_groups", ()),
        )

    def save(self, path: str | Path, source: str) -> None:
        """Write the table (sorted, so a rebuild from the same inputs gives the same bytes)."""
        data = {
            "source": source,
            "known": sorted(self.known),
            "backoff": dict(sorted(self.backoff.items())),
            "phrases": sorted(self.phrases),
            "intensity_groups": [list(g) for g in self.intensity_groups],  # in order: the first are read
        }
        raw = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as f, gzip.GzipFile(filename="", fileobj=f, mode="wb", mtime=0) as gz:
            gz.write(raw)

    def terms(self, word: str) -> list[str]:
        """Known words standing in for ``word`` ([] when it is known, or nothing is found)."""
        if word in self.known:
            return []
        for form in inflection_candidates(word):
            if form != word and form in self.known:
                return [form]  # an inflection of a known word: its base form is enough
            if form in self.backoff:
                return self.backoff[form]
        return []

    def unseen(self, text: str) -> list[tuple[str, list[str]]]:
        """The unseen words and multi-word expressions of ``text`` with their known stand-ins, in order.

        A multi-word expression of the table ("fed up", "weighed down") is looked up before its words:
        each of them may be known ("fed", "up"), the expression is not."""
        words = tokens(text)
        out: list[tuple[str, list[str]]] = []
        i = 0
        while i < len(words):
            for n in range(min(MAX_EXPRESSION_WORDS, len(words) - i), 1, -1):
                expression = " ".join(words[i : i + n])
                if expression in self.backoff:
                    out.append((expression, self.backoff[expression]))
                    i += n
                    break
            else:
                terms = self.terms(words[i])
                if terms:
                    out.append((words[i], terms))
                i += 1
        return out

    def expand(self, text: str) -> str:
        """``text`` with the known stand-ins of its unseen words appended in brackets (or unchanged).

        Prompts of more than ``MAX_PROMPT_WORDS`` words are left as they are."""
        if len(tokens(text)) > MAX_PROMPT_WORDS:
            return text
        found: list[str] = []
        for _, terms in self.unseen(text):
            found += [t for t in terms if t not in found]
        return f"{text} ({', '.join(found)})" if found else text


@lru_cache(maxsize=1)
def bundled_lexicon() -> Lexicon | None:
    """The shipped table, or None when it is absent (a prompt then reaches the encoder as typed)."""
    return Lexicon.load() if LEXICON_FILE.is_file() else None
