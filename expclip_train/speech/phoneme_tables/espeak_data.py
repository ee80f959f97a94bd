"""espeak-ng's compiled phoneme inventories (``phontab``) and which table each voice speaks with.

``phontab`` (written by espeak-ng's phoneme compiler, read by ``LoadPhData`` in ``synthdata.c``) is: a
little-endian int32 table count, then per table a header of 4 bytes (phoneme count, 1 + the index of the
table it includes or 0, two unused), a 32-byte NUL-padded name, and one 16-byte ``PHONEME_TAB`` per
phoneme (uint32 mnemonic of up to 4 UTF-8 bytes, first byte lowest; uint32 flags; uint16 program;
uint8 code, type, start type, end type, standard length, length group). A voice selects a table and
espeak-ng fills its phoneme codes from the included tables first, then from the table itself
(``SetUpPhonemeTable``), so a voice's inventory is the chain flattened by code, later tables winning.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from ..espeak import _espeak_data_dir

__all__ = ["PHONEME_TYPES", "EspeakPhoneme", "inventory", "phoneme_tables", "voice_table"]

# phoneme.h's phVOWEL etc.; 9 (virtual) only steers rules, 14/15 are deleted/invalid: none is spoken.
PHONEME_TYPES: dict[int, str] = {
    0: "pause", 1: "stress", 2: "vowel", 3: "liquid", 4: "stop", 5: "voiced stop", 6: "fricative",
    7: "voiced fricative", 8: "nasal", 9: "virtual", 14: "deleted", 15: "invalid",
}  # fmt: skip
_UNSPOKEN = {"virtual", "deleted", "invalid"}
_TABLE_NAME_BYTES, _PHONEME_STRUCT = 32, struct.Struct("<IIHBBBBBB")


@dataclass(frozen=True)
class EspeakPhoneme:
    """One phoneme of a flattened table: its code, mnemonic, type, and the table that defines it."""

    code: int
    mnemonic: str
    type: str
    table: str


def data_dir() -> Path:
    """espeak-ng's data folder (FileNotFoundError when espeak-ng is not installed)."""
    found = _espeak_data_dir()
    if found is None or not (found / "phontab").is_file():
        raise FileNotFoundError("espeak-ng's data (phontab) was not found: apt-get install espeak-ng")
    return found


@cache
def phoneme_tables() -> dict[str, tuple[str | None, tuple[EspeakPhoneme, ...]]]:
    """Every table in ``phontab``: name -> (included table or None, its own phonemes)."""
    raw = (data_dir() / "phontab").read_bytes()
    headers: list[tuple[str, int, list[EspeakPhoneme]]] = []
    pos = 4
    for _ in range(struct.unpack_from("<i", raw, 0)[0]):
        count, includes = raw[pos], raw[pos + 1]
        name = raw[pos + 4 : pos + 4 + _TABLE_NAME_BYTES].split(b"\0")[0].decode()
        pos += 4 + _TABLE_NAME_BYTES
        own = []
        for _ in range(count):
            mnem, _flags, _prog, code, kind, *_ = _PHONEME_STRUCT.unpack_from(raw, pos)
            pos += _PHONEME_STRUCT.size
            text = mnem.to_bytes(4, "little").rstrip(b"\0").decode("utf-8", "replace")
            if text:  # empty slots pad the code numbering
                own.append(EspeakPhoneme(code, text, PHONEME_TYPES.get(kind, "invalid"), name))
        headers.append((name, includes, own))
    if pos != len(raw):
        raise ValueError(f"phontab: parsed {pos} of {len(raw)} bytes (an unknown format version?)")
    return {name: (headers[inc - 1][0] if inc else None, tuple(own)) for name, inc, own in headers}


@cache
def inventory(table: str) -> tuple[EspeakPhoneme, ...]:
    """The phonemes a voice speaking with ``table`` can emit (virtual and deleted ones left out)."""
    tables = phoneme_tables()
    chain: list[str] = []
    name: str | None = table
    while name is not None:
        chain.append(name)
        name = tables[name][0]
    by_code: dict[int, EspeakPhoneme] = {}
    for name in reversed(chain):  # base first: a language's own definition replaces the base's
        for ph in tables[name][1]:
            by_code[ph.code] = ph
    return tuple(ph for _, ph in sorted(by_code.items()) if ph.type not in _UNSPOKEN)


def voice_table(voice: str) -> str:
    """The phoneme table a voice (``fr``, ``pt-br``, ``cmn-latn-pinyin``) speaks with.

    As ``LoadVoice`` in ``voices.c`` decides: the voice file's ``phonemes`` line, else its first
    ``language`` line up to the first hyphen.
    """
    files = {p.name.lower(): p for p in (data_dir() / "lang").rglob("*") if p.is_file()}
    path = files.get(voice.lower())
    if path is None:
        raise KeyError(f"espeak-ng has no voice file {voice!r}")
    text = path.read_text(encoding="latin-1")
    explicit = re.search(r"^phonemes\s+(\S+)", text, re.MULTILINE)
    if explicit:
        return explicit.group(1)
    language = re.search(r"^language\s+(\S+)", text, re.MULTILINE)
    if language is None:
        raise ValueError(f"espeak-ng voice file {path} names no language")
    return language.group(1).split("-")[0]
