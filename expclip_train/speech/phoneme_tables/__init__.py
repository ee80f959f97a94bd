"""espeak-ng phonemes of every covered language -> the project's visemes, through IPA.

Each ``<table>.toml`` here lists every phoneme an espeak-ng phoneme table can emit (its own and the
inherited ones) with its type and IPA; ``../ipa_visemes.toml`` maps IPA to visemes, with the openness
class and rounding. Both are data: the tables are written by ``python -m expclip_train.speech.phoneme_tables
build`` (:mod:`.build`), the IPA map by hand. Pauses are ``sil``; stress marks have no duration of their
own (None), as :func:`..phones.from_espeak` has them for English. See docs/phoneme-tables.md.
"""

from __future__ import annotations

import tomllib
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from ..multilingual_text import LANGUAGES
from ..phones import SIL, VISEME_OF, VISEMES

__all__ = [
    "IPA_CLASSES",
    "IpaViseme",
    "TablePhoneme",
    "arpabet_of",
    "ipa_viseme",
    "labels_of_events",
    "load_table",
    "table_names",
    "table_of",
    "viseme_of",
    "visemes_of_events",
]

TABLE_DIR = Path(__file__).parent
_IPA_FILE = TABLE_DIR.parent / "ipa_visemes.toml"
IPA_CLASSES = ("open vowel", "vowel", "consonant", "bilabial", "pause")
# Marks that change no viseme: stress, length, tone letters, espeak-ng's ASCII marks and tone digits.
_DROP = set('ˈˌːˑ˥˦˧˨˩-^".0123456789')


@dataclass(frozen=True)
class IpaViseme:
    """Where an IPA sound puts the face: viseme, openness class, rounded lips, and the ARPAbet phone that
    stands in for it where the pipeline reads ARPAbet labels (same viseme, same metric category)."""

    viseme: str
    cls: str
    rounded: bool = False
    arpabet: str = ""


@dataclass(frozen=True)
class TablePhoneme:
    """One phoneme of an espeak-ng table: mnemonic, espeak-ng type, IPA and where the IPA came from."""

    mnemonic: str
    type: str
    ipa: str
    source: str


@cache
def _ipa_map() -> tuple[dict[str, IpaViseme], dict[str, IpaViseme]]:
    data = tomllib.loads(_IPA_FILE.read_text(encoding="utf-8"))

    def entries(section: str) -> dict[str, IpaViseme]:
        out = {}
        for key, e in data[section].items():
            item = IpaViseme(e["viseme"], e["class"], bool(e.get("rounded", False)), e["arpabet"])
            if item.viseme not in VISEMES or item.cls not in IPA_CLASSES:
                raise ValueError(f"{_IPA_FILE.name}: {key!r} has an unknown viseme or class")
            if VISEME_OF.get(item.arpabet) != item.viseme:
                raise ValueError(
                    f"{_IPA_FILE.name}: {key!r}: ARPAbet {item.arpabet!r} is not a {item.viseme}"
                )
            out[key] = item
        return out

    return entries("segments"), entries("sequences")


def _strip(ipa: str) -> str:
    # Combining marks (nasal, syllabic, dental...) and modifier letters (ʰ ʲ ʷ) keep the viseme.
    return "".join(
        ch
        for ch in unicodedata.normalize("NFD", ipa)
        if ch not in _DROP and unicodedata.category(ch) not in ("Mn", "Lm")
    )


@cache
def ipa_viseme(ipa: str) -> IpaViseme:
    """The viseme of one phoneme's IPA (KeyError when ``ipa_visemes.toml`` has no entry for it)."""
    segments, sequences = _ipa_map()
    if ipa in sequences:
        return sequences[ipa]
    bare = unicodedata.normalize("NFC", _strip(ipa))
    if bare in sequences:
        return sequences[bare]
    if bare and bare[0] in segments:
        return segments[bare[0]]
    raise KeyError(f"no viseme for IPA {ipa!r} (add it to {_IPA_FILE.name})")


@cache
def load_table(table: str) -> dict[str, TablePhoneme]:
    """The phonemes of one espeak-ng table (``fr``, ``en-us``, ``pt-pt``), by mnemonic."""
    data = tomllib.loads((TABLE_DIR / f"{table}.toml").read_text(encoding="utf-8"))
    return {m: TablePhoneme(m, e["type"], e["ipa"], e["source"]) for m, e in data["phonemes"].items()}


@cache
def _voices() -> dict[str, str]:
    """espeak-ng voice -> its table, from the generated tables (no espeak-ng needed)."""
    out = {}
    for name in table_names():
        data = tomllib.loads((TABLE_DIR / f"{name}.toml").read_text(encoding="utf-8"))
        out.update({voice: name for voice in data["voices"]})
    return out


def table_names() -> list[str]:
    """The generated tables."""
    skip = {"languages", "overrides"}
    return sorted(p.stem for p in TABLE_DIR.glob("*.toml") if p.stem not in skip)


def table_of(lang: str) -> str:
    """The table a covered language key (``pt-br``), an espeak-ng voice or a table name speaks with."""
    if lang in LANGUAGES:
        return _voices()[LANGUAGES[lang].voice]
    if lang in _voices():
        return _voices()[lang]
    if lang in table_names():
        return lang
    raise KeyError(f"no phoneme table for {lang!r}")


def viseme_of(lang: str, mnemonic: str) -> str | None:
    """The viseme of an espeak-ng mnemonic spoken in ``lang``; None for stress marks (no duration).

    KeyError for a mnemonic the language's table does not have.
    """
    ph = load_table(table_of(lang))[mnemonic]
    if ph.type == "stress":
        return None
    if ph.type == "pause":
        return "sil"
    return ipa_viseme(ph.ipa).viseme


def arpabet_of(lang: str, mnemonic: str) -> tuple[str, str] | None:
    """(ARPAbet stand-in, IPA) of an espeak-ng mnemonic spoken in ``lang``: ``SIL`` for pauses, None for
    stress marks (no duration). KeyError for a mnemonic the language's table does not have."""
    ph = load_table(table_of(lang))[mnemonic]
    if ph.type == "stress":
        return None
    if ph.type == "pause":
        return SIL, ""
    return ipa_viseme(ph.ipa).arpabet, ph.ipa


def _follow_switches(lang: str, mnemonics: Iterable[str]) -> Iterable[tuple[str, str] | None]:
    """(table, mnemonic) per event, following the ``(en)`` language switches (those give None)."""
    table = table_of(lang)
    for m in mnemonics:
        if m.startswith("(") and m.endswith(")"):
            table = m[1:-1]
            yield None
        else:
            yield table, m


def labels_of_events(lang: str, mnemonics: Iterable[str]) -> list[tuple[str, str] | None]:
    """(ARPAbet stand-in, IPA) per phoneme event, following language switches; None for switches and
    stress marks (events without a duration of their own)."""
    return [arpabet_of(*e) if e else None for e in _follow_switches(lang, mnemonics)]


def visemes_of_events(lang: str, mnemonics: Iterable[str]) -> list[str | None]:
    """Visemes of a phoneme-event stream, following its ``(en)`` language switches (those give None)."""
    return [viseme_of(*e) if e else None for e in _follow_switches(lang, mnemonics)]
