"""Phones: the ARPAbet set, visemes, vowel openness and the categories the lip-sync metrics use.

The phone set is CMUdict's (what pocketsphinx's English model and dictionary use): 39 phones with the
stress digits stripped, plus ``SIL`` for silence and non-speech (pocketsphinx's ``SIL``, ``<sil>``,
``+NSN+``, ``+SPN+``...). Viseme classes follow the common 15-class convention (sil, PP, FF, TH, DD, kk,
CH, SS, nn, RR, aa, E, ih, oh, ou). Synthesisers name their phones differently: :func:`from_espeak` and
:func:`ipa_to_arpabet` turn espeak-ng mnemonics and espeak IPA (what Piper uses) into ARPAbet.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "BILABIALS",
    "CONSONANTS",
    "LABIODENTALS",
    "OPENNESS",
    "OPEN_VOWELS",
    "PHONES",
    "ROUNDED",
    "SIL",
    "SPREAD_VOWELS",
    "VISEMES",
    "VISEME_OF",
    "VOWELS",
    "Phone",
    "from_espeak",
    "ipa_to_arpabet",
    "load_phones",
    "normalize_label",
    "normalize_timeline",
    "openness",
    "openness_class",
    "phones_from_dicts",
    "phones_to_dicts",
    "save_phones",
    "viseme",
]

SIL = "SIL"

VOWELS: tuple[str, ...] = (
    "AA", "AE", "AH", "AO", "AW", "AY", "EH", "ER", "EY", "IH", "IY", "OW", "OY", "UH", "UW",
)  # fmt: skip
CONSONANTS: tuple[str, ...] = (
    "B", "CH", "D", "DH", "F", "G", "HH", "JH", "K", "L", "M", "N", "NG", "P", "R", "S", "SH", "T",
    "TH", "V", "W", "Y", "Z", "ZH",
)  # fmt: skip
PHONES: tuple[str, ...] = (SIL, *VOWELS, *CONSONANTS)

# The metric categories (the evaluation's definitions; keep them in sync with metrics.py's docstring).
BILABIALS = frozenset({"P", "B", "M"})
LABIODENTALS = frozenset({"F", "V"})
ROUNDED = frozenset({"UW", "OW", "W"})
SPREAD_VOWELS = frozenset({"IY", "IH", "EH"})
OPEN_VOWELS = frozenset({"AA", "AE", "AH", "AO", "AW", "AY"})

VISEMES: tuple[str, ...] = (
    "sil", "PP", "FF", "TH", "DD", "kk", "CH", "SS", "nn", "RR", "aa", "E", "ih", "oh", "ou",
)  # fmt: skip
VISEME_OF: dict[str, str] = {
    SIL: "sil",
    "P": "PP", "B": "PP", "M": "PP",
    "F": "FF", "V": "FF",
    "TH": "TH", "DH": "TH",
    "T": "DD", "D": "DD",
    "K": "kk", "G": "kk", "NG": "kk", "HH": "kk",  # HH has no lip shape of its own: the nearest class
    "CH": "CH", "JH": "CH", "SH": "CH", "ZH": "CH",
    "S": "SS", "Z": "SS",
    "N": "nn", "L": "nn",
    "R": "RR", "ER": "RR",
    "AA": "aa", "AE": "aa", "AH": "aa", "AW": "aa", "AY": "aa",
    "EH": "E", "EY": "E",
    "IH": "ih", "IY": "ih", "Y": "ih",
    "AO": "oh", "OW": "oh", "OY": "oh",
    "UH": "ou", "UW": "ou", "W": "ou",
}  # fmt: skip

# How far each phone opens the jaw, 0 (closed) to 1 (the most open vowel): the jaw TARGET of the
# coarticulation model. Vowels after the classic height classes (low AA/AE > mid > high IY/UW);
# consonants after where the jaw sits during them (velars and HH, nearly transparent to the jaw there,
# carry mid values). The lip-sync metrics' openness curve is coarser and ordered by class instead
# (:func:`openness_class`, metrics.OPENNESS_LEVELS): a high vowel there is more open than any consonant.
OPENNESS: dict[str, float] = {
    SIL: 0.0,
    "AA": 1.0, "AE": 0.9, "AW": 0.9, "AY": 0.85, "AO": 0.85, "AH": 0.7,
    "OY": 0.6, "OW": 0.55, "EH": 0.6, "EY": 0.5, "ER": 0.4,
    "IH": 0.35, "UH": 0.35, "IY": 0.25, "UW": 0.25,
    "HH": 0.45, "K": 0.3, "G": 0.3, "NG": 0.3, "L": 0.3, "R": 0.25, "Y": 0.2, "W": 0.15,
    "T": 0.2, "D": 0.2, "N": 0.2, "TH": 0.2, "DH": 0.2,
    "CH": 0.15, "JH": 0.15, "SH": 0.15, "ZH": 0.15, "S": 0.1, "Z": 0.1,
    "F": 0.1, "V": 0.1, "P": 0.0, "B": 0.0, "M": 0.0,
}  # fmt: skip

_SILENCE_LABELS = {"", "SIL", "<SIL>", "SP", "SPN", "PAU", "_", "<S>", "</S>", "NSN"}


@dataclass(frozen=True)
class Phone:
    """One phone: ARPAbet label (stress stripped, or ``SIL``) and its start and end in seconds."""

    label: str
    start: float
    end: float

    @property
    def duration(self) -> float:
        return self.end - self.start

    @property
    def center(self) -> float:
        return 0.5 * (self.start + self.end)


def normalize_label(label: str) -> str:
    """Canonical ARPAbet label: upper case, stress digits stripped, silence and noise markers -> ``SIL``.

    Raises ValueError for a label that is not an ARPAbet phone.
    """
    lab = label.strip().upper()
    if lab.startswith("+") or lab.strip("<>/") in _SILENCE_LABELS or lab in _SILENCE_LABELS:
        return SIL  # pocketsphinx's fillers: +NSN+ (noise), +SPN+ (spoken noise), <sil>, sil
    lab = lab.rstrip("012")
    if lab not in OPENNESS:
        raise ValueError(f"{label!r} is not an ARPAbet phone (expected one of {', '.join(PHONES)})")
    return lab


def viseme(label: str) -> str:
    """The 15-class viseme of a phone label."""
    return VISEME_OF[normalize_label(label)]


def openness(label: str) -> float:
    """Jaw openness (0..1) of a phone label."""
    return OPENNESS[normalize_label(label)]


def openness_class(label: str) -> str:
    """The openness class the lip-sync metrics use (the classes of ipa_visemes.toml): "pause", "bilabial",
    "open vowel" (:data:`OPEN_VOWELS`), "vowel" (the other vowels) or "consonant"."""
    lab = normalize_label(label)
    if lab == SIL:
        return "pause"
    if lab in BILABIALS:
        return "bilabial"
    if lab in OPEN_VOWELS:
        return "open vowel"
    return "vowel" if lab in VOWELS else "consonant"


def normalize_timeline(
    phones: Iterable[Phone], duration: float | None = None, min_gap: float = 1e-4
) -> list[Phone]:
    """Sorted, non-overlapping phones covering [0, duration]: gaps become ``SIL``, adjacent ``SIL`` merge.

    Labels are normalised. Overlaps (an aligner rounding) are cut at the later phone's start; phones of
    zero or negative length are dropped. ``duration`` (default: the last end) extends or trims the end.
    """
    items = sorted(
        (Phone(normalize_label(p.label), float(p.start), float(p.end)) for p in phones),
        key=lambda p: (p.start, p.end),
    )
    if duration is None:
        duration = max((p.end for p in items), default=0.0)
    out: list[Phone] = []
    t = 0.0

    def push(label: str, start: float, end: float) -> None:
        if end - start <= 0:
            return
        if out and out[-1].label == SIL and label == SIL:
            out[-1] = Phone(SIL, out[-1].start, end)
        else:
            out.append(Phone(label, start, end))

    for p in items:
        start, end = max(p.start, t), min(p.end, duration)
        if start >= duration:
            break
        if start - t > min_gap:
            push(SIL, t, start)
        elif out:
            start = t  # close sub-millisecond gaps so the timeline has no holes
        else:
            start = max(start, 0.0)
            if start > 0:
                push(SIL, 0.0, start)
        push(p.label, start, end)
        t = max(t, end)
    if duration - t > 0:
        push(SIL, t, duration)
    return out


def phones_to_dicts(phones: Sequence[Phone]) -> list[dict]:
    """JSON-ready list of {"p": label, "s": start, "e": end} (times rounded to 0.1 ms)."""
    return [{"p": p.label, "s": round(p.start, 4), "e": round(p.end, 4)} for p in phones]


def phones_from_dicts(items: Iterable[dict]) -> list[Phone]:
    """Inverse of :func:`phones_to_dicts`."""
    return [Phone(normalize_label(d["p"]), float(d["s"]), float(d["e"])) for d in items]


def save_phones(path: str | os.PathLike, phones: Sequence[Phone], **meta) -> None:
    """Write phones (and any JSON-serialisable metadata) to a JSON file, atomically."""
    path = Path(path)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps({**meta, "phones": phones_to_dicts(phones)}, separators=(",", ":")))
    os.replace(tmp, path)


def load_phones(path: str | os.PathLike) -> tuple[list[Phone], dict]:
    """Read a file written by :func:`save_phones`: (phones, the other fields)."""
    data = json.loads(Path(path).read_text())
    phones = phones_from_dicts(data.pop("phones"))
    return phones, data


# --- espeak-ng mnemonics (what its phoneme events and `espeak-ng -x` print) --------------------------
# Collected from espeak-ng 1.51's English voices speaking 6,000 CMUdict words; composite phonemes (r-
# coloured and centring diphthongs) become two ARPAbet phones, as CMUdict spells them.
_ESPEAK: dict[str, tuple[str, ...]] = {
    "@": ("AH",), "@2": ("AH",), "@5": ("AH",), "@-": ("AH",), "@L": ("AH", "L"), "a#": ("AH",),
    "V": ("AH",), "3": ("ER",), "3:": ("ER",), "VR": ("ER",), "a": ("AE",), "aa": ("AE",),
    "A:": ("AA",), "A": ("AA",), "0": ("AA",), "A@": ("AA", "R"), "aI": ("AY",), "aI2": ("AY",),
    "aI3": ("AY", "ER"), "aI@": ("AY", "ER"), "aU": ("AW",), "aU@": ("AW", "ER"),
    "e": ("EH",), "E": ("EH",), "E2": ("EH",), "E3": ("EH",), "e@": ("EH", "R"), "eI": ("EY",),
    "i": ("IY",), "i:": ("IY",), "i@": ("IH", "R"), "i@3": ("IY", "ER"), "I": ("IH",), "I#": ("IH",),
    "I2": ("IH",), "IR": ("IH", "R"), "O": ("AO",), "O:": ("AO",), "O2": ("AO",), "O@": ("AO", "R"),
    "o@": ("AO", "R"), "OI": ("OY",), "oU": ("OW",), "o:": ("OW",), "u:": ("UW",), "u": ("UW",),
    "U": ("UH",), "U@": ("UH", "R"),
    "p": ("P",), "b": ("B",), "t": ("T",), "t2": ("T",), "t[": ("T",), "t#": ("D",), "d": ("D",),
    "d#": ("D",), "k": ("K",), "g": ("G",), "x": ("K",), "?": ("T",), "f": ("F",), "v": ("V",),
    "T": ("TH",), "D": ("DH",), "s": ("S",), "z": ("Z",), "S": ("SH",), "Z": ("ZH",), "h": ("HH",),
    "tS": ("CH",), "dZ": ("JH",), "m": ("M",), "n": ("N",), "n-": ("N",), "N": ("NG",), "l": ("L",),
    "l#": ("L",), "l/": ("L",), "r": ("R",), "r-": ("R",), "w": ("W",), "w#": ("W",), "j": ("Y",),
    "_": (SIL,), "_:": (SIL,), "_!": (SIL,), "_|": (SIL,), "_;": (SIL,), "_^_": (SIL,),
}  # fmt: skip
_ESPEAK_ZERO = {";", "'", ",", "%", "=", "#"}  # modifiers and stress marks: no duration of their own


def from_espeak(mnemonic: str) -> tuple[str, ...]:
    """ARPAbet phones for one espeak-ng phoneme mnemonic; () for modifiers that take no time.

    Unknown mnemonics fall back to their stem (the name without diacritic suffixes such as ``:``, ``#``,
    ``-``, digits); ValueError if even that is unknown.
    """
    m = mnemonic.strip()
    if m in _ESPEAK_ZERO or not m:
        return ()
    if m in _ESPEAK:
        return _ESPEAK[m]
    stem = re.sub(r"[:#\-/\[\]0-9;]+$", "", m)
    if stem in _ESPEAK:
        return _ESPEAK[stem]
    if stem.startswith("_"):
        return (SIL,)
    raise ValueError(f"unknown espeak-ng phoneme {mnemonic!r}")


# --- espeak IPA (Piper's phonemes, one code point each) ---------------------------------------------
_IPA_MULTI: dict[str, tuple[str, ...]] = {
    "aɪ": ("AY",), "aʊ": ("AW",), "eɪ": ("EY",), "oʊ": ("OW",), "əʊ": ("OW",), "ɔɪ": ("OY",),
    "tʃ": ("CH",), "dʒ": ("JH",), "ɪə": ("IH", "R"), "ɛə": ("EH", "R"), "ʊə": ("UH", "R"),
    "aɪə": ("AY", "ER"), "aʊə": ("AW", "ER"),
}  # fmt: skip
_IPA_SINGLE: dict[str, str] = {
    "ɑ": "AA", "ɒ": "AA", "æ": "AE", "a": "AE", "ʌ": "AH", "ə": "AH", "ɐ": "AH", "ɔ": "AO", "ɛ": "EH",
    "e": "EH", "ɜ": "ER", "ɚ": "ER", "ɝ": "ER", "ɪ": "IH", "ᵻ": "IH", "ɨ": "IH", "i": "IY", "ʊ": "UH",
    "u": "UW", "o": "OW", "ɵ": "OW",
    "b": "B", "d": "D", "ð": "DH", "f": "F", "ɡ": "G", "g": "G", "h": "HH", "j": "Y", "k": "K",
    "l": "L", "ɫ": "L", "m": "M", "n": "N", "ŋ": "NG", "p": "P", "ɹ": "R", "r": "R", "ɾ": "D",
    "s": "S", "ʃ": "SH", "t": "T", "θ": "TH", "v": "V", "w": "W", "z": "Z", "ʒ": "ZH", "ʔ": "T",
    "x": "K", "ç": "HH", "ʍ": "W",
}  # fmt: skip
IPA_PAUSES = frozenset('.,;:!?—–-…()"')
IPA_ATTACH_NEXT = frozenset("ˈˌ")  # stress marks: Piper's model spends their time on the next sound
IPA_ATTACH_PREV = frozenset("ːˑ\u0329\u032f\u0303\u02de")  # length, syllabic, non-syllabic, nasal, r-hook


def ipa_to_arpabet(units: Sequence[str]) -> list[tuple[str, list[int]]]:
    """Group IPA code points into ARPAbet phones: [(phone, [indices of the code points it covers])].

    Stress marks join the following sound, length and combining marks the preceding one, diphthongs and
    affricates are matched longest first; pauses (punctuation) map to ``SIL``. Spaces and unknown code
    points are left out (the caller decides where their time goes).
    """
    out: list[tuple[str, list[int]]] = []
    pending: list[int] = []  # stress marks waiting for their sound
    i, n = 0, len(units)
    while i < n:
        u = units[i]
        if u in IPA_ATTACH_NEXT:
            pending.append(i)
            i += 1
            continue
        if u in IPA_ATTACH_PREV:
            if out:
                out[-1][1].append(i)
            i += 1
            continue
        if u in IPA_PAUSES:
            out.append((SIL, [*pending, i]))
            pending = []
            i += 1
            continue
        matched = False
        for size in (3, 2):
            # Compare without the length marks in between ("oːʊ" is not produced, but "ɑːɹ" is).
            idx, j = [], i
            while j < n and len(idx) < size:
                if units[j] in IPA_ATTACH_PREV and idx:
                    j += 1
                    continue
                idx.append(j)
                j += 1
            key = "".join(units[k] for k in idx)
            if len(idx) == size and key in _IPA_MULTI:
                phs, span = _IPA_MULTI[key], [*pending, *range(i, j)]
                pending = []
                if len(phs) == 1:
                    out.append((phs[0], span))
                else:  # an r-coloured or centring diphthong: its two phones share the time
                    half = (len(span) + 1) // 2
                    out.extend([(phs[0], span[:half]), (phs[1], span[half:])])
                i = j
                matched = True
                break
        if matched:
            continue
        if u in _IPA_SINGLE:
            out.append((_IPA_SINGLE[u], [*pending, i]))
            pending = []
        i += 1
    return out
