"""Training sentences in each covered language, from the language's own frequent words.

The words come from ``wordfreq`` (its code Apache-2.0; its word-frequency data CC-BY-SA 4.0, built from
Wikipedia, subtitles, news, books, web text and more; see its README): the most frequent words of each
language, less numbers, punctuation and single Latin letters. Sentences string 2-9 words into 1-3
clauses joined by commas, semicolons and full stops (so espeak-ng pauses), drawn with a Zipf-like bias
towards the frequent words. Japanese keeps only words written in kana (espeak-ng 1.51 reads kanji as
English "Chinese letter"); Mandarin words become numbered pinyin (``pypinyin``, MIT) for espeak-ng's
``cmn-latn-pinyin`` voice, since the plain ``cmn`` voice reads many hanzi as English tone numbers.
Deterministic from the seed.

Held-out sentences (``part="holdout"``) use words the training sentences (``part="train"``) never do:
one in ten of the words past the 100 most frequent (chosen by a hash of the word, so the split does not
depend on the seed) is held out; held-out sentences draw from the 100 most frequent words (mostly
function words, which no sentence can avoid) and the held-out words.
"""

from __future__ import annotations

import tomllib
import unicodedata
import zlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

__all__ = ["LANGUAGES", "PARTS", "Language", "MultilingualTextGenerator", "language_words", "split_words"]

_LANGUAGES_FILE = Path(__file__).with_name("phoneme_tables") / "languages.toml"
_CONNECTORS = (", ", ", ", "; ", ". ", "... ")
_ENDINGS = (".", ".", ".", "!", "?")
PARTS = ("all", "train", "holdout")
_SHARED_TOP = 100  # the most frequent words, in both parts
_HOLDOUT_MODULUS = 10  # one word in this many of the rest is held out


@dataclass(frozen=True)
class Language:
    """One covered language: its key, name, espeak-ng voice, wordfreq language and script; ``trained``:
    whether the lip-sync corpus trains on it (False: held-out check clips only)."""

    key: str
    name: str
    voice: str
    words: str
    script: str = ""
    trained: bool = True


def _load_languages() -> dict[str, Language]:
    data = tomllib.loads(_LANGUAGES_FILE.read_text(encoding="utf-8"))
    return {key: Language(key=key, **entry) for key, entry in data.items()}


LANGUAGES: dict[str, Language] = _load_languages()


def _is_word(word: str) -> bool:
    # Letters and combining marks only (Devanagari vowel signs are marks); no digits or punctuation.
    return all(ch.isalpha() or unicodedata.category(ch).startswith("M") for ch in word)


def _is_kana(word: str) -> bool:
    return all(
        "HIRAGANA" in unicodedata.name(ch, "") or "KATAKANA" in unicodedata.name(ch, "") for ch in word
    )


@cache
def language_words(key: str, count: int = 5000) -> tuple[str, ...]:
    """The language's most frequent words (up to ``count`` of wordfreq's list), ready for espeak-ng."""
    import wordfreq  # the train extra; imported here so the module loads without it

    lang = LANGUAGES[key]
    words = [w for w in wordfreq.top_n_list(lang.words, count) if _is_word(w)]
    words = [w for w in words if len(w) > 1 or not w.isascii()]
    if lang.script == "kana":
        words = [w for w in words if _is_kana(w)]
    elif lang.script == "pinyin":
        from pypinyin import Style, lazy_pinyin

        words = [
            "".join(lazy_pinyin(w, style=Style.TONE3, neutral_tone_with_five=True, v_to_u=True))
            for w in words
        ]
        words = [w for w in words if w.isascii() or "ü" in w]
    return tuple(dict.fromkeys(words))  # pinyin can merge homophones


@cache
def split_words(key: str) -> dict[str, tuple[str, ...]]:
    """The language's words by part: ``all``, ``train`` (less the held-out words) and ``holdout`` (the
    shared most frequent words and the held-out ones), each in frequency order."""
    words = language_words(key)
    held = {w for w in words[_SHARED_TOP:] if zlib.crc32(w.encode()) % _HOLDOUT_MODULUS == 0}
    return {
        "all": words,
        "train": tuple(w for w in words if w not in held),
        "holdout": tuple(w for w in words if w in held or w in words[:_SHARED_TOP]),
    }


class MultilingualTextGenerator:
    """Random sentences in one covered language from its frequent words; deterministic from ``seed``.

    ``part``: ``all`` the words, ``train`` or ``holdout`` (see the module docstring).
    """

    def __init__(self, language: str, seed: int = 0, part: str = "all") -> None:
        if part not in PARTS:
            raise ValueError(f"part must be one of {PARTS}, got {part!r}")
        self.language = LANGUAGES[language]
        self.words = split_words(language)[part]
        self.rng = np.random.default_rng(seed)
        # Zipf-like weights: frequent words come often, the tail still shows up for phonetic variety.
        ranks = np.arange(1, len(self.words) + 1, dtype=np.float64)
        self._weights = ranks**-0.6 / np.sum(ranks**-0.6)

    def clause(self) -> str:
        """2-6 words."""
        n = int(self.rng.integers(2, 7))
        picks = self.rng.choice(len(self.words), size=n, p=self._weights)
        return " ".join(self.words[int(i)] for i in picks)

    def sentence(self) -> str:
        """1-3 clauses joined by pausing punctuation, with a final stop, exclamation or question mark."""
        n = int(self.rng.choice([1, 2, 2, 3]))
        parts = []
        for k in range(n):
            parts.append(self.clause())
            parts.append(_CONNECTORS[int(self.rng.integers(len(_CONNECTORS)))] if k < n - 1 else "")
        text = "".join(parts) + _ENDINGS[int(self.rng.integers(len(_ENDINGS)))]
        return text[0].upper() + text[1:]
