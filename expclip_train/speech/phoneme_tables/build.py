"""Build the per-table phoneme files: every mnemonic a voice can emit, with its IPA, from espeak-ng itself.

The inventory comes from ``phontab`` (:mod:`.espeak_data`). The IPA of each mnemonic comes from
espeak-ng: the same texts are spoken twice, once with phoneme events naming mnemonics (this process) and
once naming IPA (a spawned process initialised with ``espeakINITIALIZE_PHONEME_IPA``), and the two event
streams pair up one to one. The texts are each phoneme of the inventory as phoneme input in a few
contexts (``[[X]]``, ``[[X@]]``, ``[[@X@]]``, ``[[taXa]]``), so phonemes no word uses get their IPA
too, and 150 generated sentences per language (:mod:`..multilingual_text`), which also find the tables
the voice switches to for foreign words (``(en)`` events). An IPA depends a little on context (espeak-ng
phoneme programs may pick another IPA before a vowel, say): the most frequent one is kept.

Variants that only espeak-ng's phoneme programs produce (``l/``, ``r/``, ``@2``, ``E#``: phoneme input
drops a ``/`` and trailing digits) are not always met in the sentences; they take the IPA of their base
phoneme (the name before ``/``, less trailing digits, ``#`` and ``%``), which is what espeak-ng itself
prints for a phoneme without an IPA name of its own (``WritePhMnemonic``). ``overrides.toml`` holds any
that have no base; the build reports what is still unresolved.
"""

from __future__ import annotations

import json
import multiprocessing
import re
import tomllib
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path

from ..espeak import EspeakLib
from ..multilingual_text import LANGUAGES, MultilingualTextGenerator
from .espeak_data import data_dir, inventory, voice_table

__all__ = ["TABLE_DIR", "build", "collect_ipa", "switch_table"]

TABLE_DIR = Path(__file__).parent
_CONTEXTS = ("[[{}]]", "[[{}@]]", "[[@{}@]]", "[[ta{}a]]")
_SENTENCES = 150
_SPEECH = (175, 50, 50, 0)  # rate, pitch, range, word gap: the defaults, the IPA does not depend on them


def switch_table(mnemonic: str) -> str | None:
    """The table a ``(name)`` language-switch event turns to; None for a phoneme."""
    return mnemonic[1:-1] if mnemonic.startswith("(") and mnemonic.endswith(")") else None


def _speak(jobs: Sequence[tuple[str, str]], ipa: bool) -> list[list[str]]:
    lib = EspeakLib(ipa=True) if ipa else EspeakLib.get()
    return [
        [m for _, m in lib.synth(text, voice, *_SPEECH, phoneme_input=text.startswith("[["))[1]]
        for voice, text in jobs
    ]


def _speak_ipa(jobs: Sequence[tuple[str, str]]) -> list[list[str]]:
    return _speak(jobs, ipa=True)


def collect_ipa(jobs: Sequence[tuple[str, str, str]]) -> dict[str, dict[str, Counter[str]]]:
    """(voice, its table, text) spoken twice -> table -> mnemonic -> Counter of the IPA names seen."""
    pairs = [(voice, text) for voice, _, text in jobs]
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        pending = pool.apply_async(_speak_ipa, (pairs,))
        names = _speak(pairs, ipa=False)
        ipas = pending.get()
    seen: dict[str, dict[str, Counter[str]]] = defaultdict(lambda: defaultdict(Counter))
    for (_, table, _), mnems, ipa in zip(jobs, names, ipas, strict=True):
        if len(mnems) != len(ipa):
            continue  # the two runs disagree (never seen): no pairing to trust
        current = table
        for m, i in zip(mnems, ipa, strict=True):
            current = switch_table(m) or current
            # An empty name is espeak-ng's "no IPA name"; "?" is not IPA (German UR and iR print "??").
            if switch_table(m) is None and i and "?" not in i:
                seen[current][m][i] += 1
    return seen


def _voice_of_table(table: str) -> str:
    """A voice that speaks with ``table`` (for tables only reached by language switches)."""
    for path in sorted((data_dir() / "lang").rglob("*")):
        if path.is_file() and voice_table(path.name) == table:
            return path.name
    raise KeyError(f"no espeak-ng voice uses phoneme table {table!r}")


def _phoneme_jobs(table: str, voice: str) -> list[tuple[str, str, str]]:
    spoken = [ph.mnemonic for ph in inventory(table) if ph.type not in ("pause", "stress")]
    return [(voice, table, ctx.format(m)) for m in spoken for ctx in _CONTEXTS]


def _stem(mnemonic: str) -> str:
    return re.sub(r"[0-9#%]+$", "", mnemonic.split("/")[0])


def _resolve(
    table: str, seen: dict[str, Counter[str]], overrides: dict[str, str]
) -> dict[str, tuple[str, str]]:
    """mnemonic -> (IPA, where it came from: espeak, base or override) for the table's spoken phonemes."""
    out = {m: (c.most_common(1)[0][0], "espeak") for m, c in seen.items()}
    for ph in inventory(table):
        if ph.type in ("pause", "stress") or ph.mnemonic in out:
            continue
        base = _stem(ph.mnemonic)
        if base in seen:
            out[ph.mnemonic] = (out[base][0], "base")
        elif ph.mnemonic in overrides:
            out[ph.mnemonic] = (overrides[ph.mnemonic], "override")
    return out


def _toml_str(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _format_table(table: str, voices: Iterable[str], ipa: dict[str, tuple[str, str]]) -> str:
    lines = [
        f"# espeak-ng phoneme table {table!r}: every phoneme it can emit (its own and inherited), with IPA.",
        "# Generated by `python -m expclip_train.speech.phoneme_tables build` from espeak-ng "
        "(see docs/phoneme-tables.md); do not edit.",
        f'table = "{table}"',
        f"voices = [{', '.join(_toml_str(v) for v in sorted(voices))}]",
        "",
        "[phonemes]",
    ]
    for ph in inventory(table):
        value, source = ipa.get(ph.mnemonic, ("", "none"))
        # JSON strings are TOML basic strings (escapes included: mnemonics may hold \\ " or controls)
        lines.append(
            f"{_toml_str(ph.mnemonic)} = {{ type = {_toml_str(ph.type)}, ipa = {_toml_str(value)}, "
            f"source = {_toml_str(source)} }}"
        )
    return "\n".join(lines) + "\n"


def build(out_dir: Path = TABLE_DIR, seed: int = 0) -> dict[str, list[str]]:
    """Write ``<table>.toml`` for every table the covered voices use or switch to; returns the unresolved."""
    overrides = tomllib.loads((TABLE_DIR / "overrides.toml").read_text(encoding="utf-8"))
    voices: dict[str, set[str]] = defaultdict(set)
    jobs: list[tuple[str, str, str]] = []
    for lang in LANGUAGES.values():
        table = voice_table(lang.voice)
        voices[table].add(lang.voice)
        gen = MultilingualTextGenerator(lang.key, seed)
        jobs += [(lang.voice, table, gen.sentence()) for _ in range(_SENTENCES)]
    seen = collect_ipa(jobs)
    for table in set(seen) - set(voices):  # reached through language switches only
        voices[table].add(_voice_of_table(table))
    jobs = [job for table in voices for job in _phoneme_jobs(table, min(voices[table]))]
    for table, found in collect_ipa(jobs).items():
        for m, counts in found.items():
            seen[table][m].update(counts)
    unresolved: dict[str, list[str]] = {}
    for table in sorted(voices):
        ipa = _resolve(table, seen[table], overrides.get(table, {}))
        missing = [
            ph.mnemonic for ph in inventory(table)
            if ph.type not in ("pause", "stress") and ph.mnemonic not in ipa
        ]  # fmt: skip
        if missing:
            unresolved[table] = missing
        (out_dir / f"{table}.toml").write_text(_format_table(table, voices[table], ipa), encoding="utf-8")
    return unresolved
