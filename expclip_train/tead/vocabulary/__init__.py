"""The offline annotator's vocabulary: read from the TOML files beside this module, checked, cached.

:func:`load` returns a :class:`Vocabulary`. The files are the source of truth; docs/tead-vocabulary.md
describes each file, field and slot. Sets: ``v1`` lists serve both annotator passes, ``v2`` lists only
the wide second pass, ``heldout_phrasing`` frames only the ``heldout_phrasing`` split; the ``v3``
situations (situations_v3.toml) only the third, situation pass, never held out. Order matters: the
annotator draws by position and picks each list's held-out share by position, so reordering a list (or
the labels, units or levels of a file) changes the dataset.
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from expclip_blender.facs import AU_READ_INDEX, BILATERAL_READ_AUS, GRADES

from ..expressions import RECIPES

#: Where the vocabulary files lie (inside the source tree: the workshop runs from the repository).
DIRECTORY = Path(__file__).resolve().parent
SETS: tuple[str, ...] = ("v1", "v2")
FRAME_SETS: tuple[str, ...] = (*SETS, "heldout_phrasing")
ADJECTIVE_USES: tuple[str, ...] = ("any", "pred", "attr")
LEVELS: tuple[str, ...] = ("low", "mid", "high", "side")

# The slots each kind of text may use ({name}); a text with another slot would fail when it is filled.
_SUBJECT_SLOTS = frozenset({"S", "pos", "obj", "refl", "is", "has", "was", "looks"})
_ENTRY_SLOTS = _SUBJECT_SLOTS - {"S"}
# A clause has its own subject ("{pos} flight got cancelled"): only the pronouns follow the description's.
_CLAUSE_SLOTS = frozenset({"pos", "obj", "refl"})
_SLOT = re.compile(r"\{([^{}]*)\}")


class VocabularyError(ValueError):
    """A vocabulary file that breaks the schema; the message names the file and the entry."""


@dataclass(frozen=True)
class Word:
    """An emotion word or noun, used at grades ``lo``..``hi`` (1 = A ... 5 = E)."""

    text: str
    lo: int = 1
    hi: int = 5
    after_verb: bool = False  # only after a verb: "looks in pain", never "an in pain face"
    own_intensity: bool = False  # takes no intensity adverb: it carries its own ("over the moon")
    ing: bool = False  # an -ing phrase ("laughing"): "she is laughing" or on its own


@dataclass(frozen=True)
class Situation:
    """What might have just happened (a verb phrase any subject fits), at grades ``lo``..``hi``."""

    text: str
    lo: int = 1
    hi: int = 5


@dataclass(frozen=True)
class WeightedSituation:
    """A situation of the third pass, at grades ``lo``..``hi``: a verb phrase like :class:`Situation`, or
    (``clause``) a whole clause with its own subject ("{pos} flight got cancelled"). ``emotions``: the
    expression labels people would read in it, with weights that sum to 1 (one label with weight 1 where
    readers would agree)."""

    text: str
    lo: int
    hi: int
    clause: bool
    emotions: tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class AdjectiveFrame:
    """A sentence around an adjective phrase ``{a}``; ``use`` says which words fit (ADJECTIVE_USES)."""

    frame: str
    use: str


@dataclass(frozen=True)
class NounFrame:
    """A sentence around a noun phrase ``{np}``; some only read well with an adjectival modifier (C-E)."""

    frame: str
    needs_adjective_modifier: bool = False


@dataclass(frozen=True)
class Subject:
    """Who a description is about: the words for the subject slots ({S}, {pos}, {is}, ...)."""

    subject: str
    pos: str
    obj: str
    refl: str
    is_: str
    has: str
    was: str
    looks: str

    def fill(self, text: str) -> str:
        """``text`` with its subject slots filled."""
        return text.format(
            S=self.subject, pos=self.pos, obj=self.obj, refl=self.refl, looks=self.looks,
            **{"is": self.is_, "has": self.has, "was": self.was},
        )  # fmt: skip


ByGrade = Mapping[str, tuple[str, ...]]  # grade letter (A..E) -> words
PhysicalLevels = Mapping[str, tuple[str, ...]]  # level (LEVELS) -> phrases


@dataclass(frozen=True)
class Vocabulary:
    """Everything the annotator writes with. Mappings keyed by set hold ``SETS`` (frames: ``FRAME_SETS``)."""

    adverbs: Mapping[str, ByGrade]  # set -> grade -> adverbs ("slightly")
    noun_modifiers: Mapping[str, ByGrade]  # set -> grade -> noun modifiers ("a hint of"; "" none)
    mix_modifiers: ByGrade  # grade -> "a faint" (mix of ...)
    not_attributive: Mapping[str, frozenset[str]]  # set -> adverbs left out of "attr" frames
    words: Mapping[str, Mapping[str, tuple[Word, ...]]]  # set -> label -> words
    nouns: Mapping[str, Mapping[str, tuple[Word, ...]]]  # set -> label -> nouns
    situations: Mapping[str, Mapping[str, tuple[Situation, ...]]]  # set -> label -> situations
    situations_v3: Mapping[str, tuple[WeightedSituation, ...]]  # main label -> third-pass situations
    clause_frames: tuple[str, ...]  # sentences around a clause {vp} (third pass)
    neutral_phrases: Mapping[str, tuple[str, ...]]  # set -> whole descriptions of a neutral face
    manner: Mapping[str, tuple[str, ...]]  # label -> manner adverbs ("happily")
    adjective_frames: Mapping[str, tuple[AdjectiveFrame, ...]]  # frame set -> frames
    noun_frames: Mapping[str, tuple[NounFrame, ...]]  # frame set -> frames
    situation_frames: Mapping[str, tuple[str, ...]]  # frame set -> frames
    mixture_frames: tuple[str, ...]  # compounds: both emotions at one grade
    plain_mixture_frames: tuple[str, ...]  # compounds in plain adjectives (grades C-E)
    blend_frames: tuple[str, ...]  # a strong main emotion and a weak secondary one
    subjects: tuple[Subject, ...]
    someone: Subject  # the subject of {vp_someone}
    physical: Mapping[str, PhysicalLevels]  # action unit -> level -> phrases
    physical_pairs: Mapping[tuple[str, str], PhysicalLevels]  # two units read as one movement
    faint_phrases: tuple[str, ...]  # a face that moves too faintly to name
    resting_phrases: tuple[str, ...]  # a face at rest
    physical_frames: tuple[str, ...]  # sentences around {list}, the units' phrases

    def intensity_words(self) -> frozenset[str]:
        """Every adverb, noun modifier and mix modifier, of every set and grade ("" left out)."""
        tables = (*self.adverbs.values(), *self.noun_modifiers.values(), self.mix_modifiers)
        return frozenset(w for table in tables for words in table.values() for w in words if w)


@functools.cache
def load(directory: Path = DIRECTORY) -> Vocabulary:
    """The vocabulary in ``directory``, checked; raises :class:`VocabularyError` naming file and entry."""
    intensity = _File(directory, "intensity.toml")
    intensity.keys(intensity.data, "", ("adverbs", "noun_modifiers", "mix_modifiers", "not_attributive"))
    for section in ("adverbs", "noun_modifiers", "not_attributive"):
        intensity.keys(intensity.table(section), f"[{section}]", SETS)
    frames = _File(directory, "frames.toml")
    frames.keys(frames.data, "", ("adjective", "noun", "situation", "mixture"))
    mixture = frames.get(frames.data, "mixture", dict)
    frames.keys(mixture, "[mixture]", ("compound", "plain", "blend"))
    mixture_slots = {"A", "B", "a", "b", "na", "nb", "NA", "mix", "m"} | _SUBJECT_SLOTS
    subjects = _File(directory, "subjects.toml")
    subjects.keys(subjects.data, "", ("subjects", "someone"))
    physical = _File(directory, "physical.toml")
    physical.keys(physical.data, "", ("frames", "faint", "resting", "units", "pairs"))
    neutral = _File(directory, "neutral_phrases.toml")
    neutral.keys(neutral.data, "", SETS)
    manner = _File(directory, "manner.toml")
    situations_v3 = _File(directory, "situations_v3.toml")
    return Vocabulary(
        adverbs=_freeze({s: intensity.by_grade(f"adverbs.{s}") for s in SETS}),
        noun_modifiers=_freeze({s: intensity.by_grade(f"noun_modifiers.{s}") for s in SETS}),
        mix_modifiers=intensity.by_grade("mix_modifiers"),
        not_attributive=_freeze(
            {s: frozenset(intensity.strings(intensity.table("not_attributive"), s)) for s in SETS}
        ),
        words=_by_set(_File(directory, "emotion_words.toml"), "word", _word),
        nouns=_by_set(_File(directory, "emotion_nouns.toml"), "noun", _word),
        situations=_by_set(_File(directory, "situations.toml"), "situation", _situation),
        situations_v3=_weighted_situations(situations_v3),
        clause_frames=situations_v3.strings(
            situations_v3.data, "clause_frames", "", _SUBJECT_SLOTS | {"vp"}, required={"vp"}
        ),
        neutral_phrases=_freeze({s: neutral.strings(neutral.data, s) for s in SETS}),
        manner=_freeze({manner.label(k): manner.strings(manner.data, k) for k in manner.data}),
        adjective_frames=frames.frame_sets("adjective", _adjective_frame),
        noun_frames=frames.frame_sets("noun", _noun_frame),
        situation_frames=frames.frame_sets("situation", _situation_frame),
        mixture_frames=frames.strings(mixture, "compound", "[mixture]", mixture_slots),
        plain_mixture_frames=frames.strings(mixture, "plain", "[mixture]", mixture_slots),
        blend_frames=frames.strings(mixture, "blend", "[mixture]", mixture_slots),
        subjects=tuple(
            _subject(subjects, row, f"subjects entry {i + 1}")
            for i, row in enumerate(subjects.get(subjects.data, "subjects", list))
        ),
        someone=_subject(subjects, subjects.get(subjects.data, "someone", dict), "someone"),
        physical=_freeze(
            {
                physical.unit(u, "units"): _levels(physical, v, f"[units.{u}]", u in BILATERAL_READ_AUS)
                for u, v in physical.table("units").items()
            }
        ),
        physical_pairs=_freeze(
            {
                _pair(physical, k): _levels(physical, v, f"[pairs.{k}]", one_sided=False)
                for k, v in physical.table("pairs").items()
            }
        ),
        faint_phrases=physical.strings(physical.data, "faint"),
        resting_phrases=physical.strings(physical.data, "resting"),
        physical_frames=physical.strings(physical.data, "frames", "", {"list"}, required={"list"}),
    )


# --------------------------------------------------------------------------------------------------
class _File:
    """One parsed vocabulary file, with checks that raise errors naming it."""

    def __init__(self, directory: Path, name: str):
        self.name = name
        path = directory / name
        try:
            self.data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as e:
            raise VocabularyError(f"{name}: cannot read {path}: {e}") from e

    def error(self, where: str, problem: str) -> VocabularyError:
        return VocabularyError(f"{self.name}: {where}: {problem}" if where else f"{self.name}: {problem}")

    def keys(self, table: dict, where: str, allowed: tuple[str, ...]) -> None:
        """Refuse keys other than ``allowed`` (a misspelt field would otherwise be silently ignored)."""
        unknown = [k for k in table if k not in allowed]
        if unknown:
            raise self.error(where, f"unknown field(s) {', '.join(map(repr, unknown))}; expected {allowed}")

    def get(self, table: dict, key: str, kind: type, where: str = ""):
        if key not in table:
            raise self.error(where, f"missing {key!r}")
        if not isinstance(table[key], kind):
            raise self.error(where, f"{key!r} must be a {kind.__name__}, not {table[key]!r}")
        return table[key]

    def table(self, dotted: str) -> dict:
        """The table at a dotted path ("adverbs.v1")."""
        table = self.data
        for part in dotted.split("."):
            table = self.get(table, part, dict, f"[{dotted}]")
        return table

    def strings(
        self,
        table: dict,
        key: str,
        where: str = "",
        slots: frozenset[str] | set[str] = frozenset(),
        required: set[str] | None = None,
    ) -> tuple[str, ...]:
        """A list of strings whose slots are all in ``slots`` (and include one of ``required``)."""
        items = self.get(table, key, list, where)
        for i, text in enumerate(items):
            entry = f"{where} {key} entry {i + 1}".strip()
            if not isinstance(text, str):
                raise self.error(entry, f"{text!r} is not a string")
            self.slots(text, f"{entry} ({text!r})", slots, required)
        return tuple(items)

    def slots(self, text: str, where: str, allowed, required: set[str] | None = None) -> None:
        used = set(_SLOT.findall(text))
        if used - set(allowed):
            bad = ", ".join("{" + s + "}" for s in sorted(used - set(allowed)))
            raise self.error(where, f"unknown slot(s) {bad}; allowed: {sorted(allowed)}")
        if required and not used & required:
            raise self.error(where, f"needs one of the slots {sorted(required)}")

    def by_grade(self, dotted: str) -> ByGrade:
        table = self.table(dotted)
        self.keys(table, f"[{dotted}]", GRADES)
        return _freeze({g: self.strings(table, g, f"[{dotted}]") for g in GRADES})

    def label(self, label: str) -> str:
        if label not in RECIPES:
            raise self.error(f"[{label}]", f"unknown expression label {label!r} (see expressions.RECIPES)")
        return label

    def unit(self, unit: str, where: str) -> str:
        if unit not in AU_READ_INDEX or unit[:1] in "LR":
            raise self.error(f"[{where}.{unit}]", f"unknown action unit {unit!r} (see facs.AU_READ_INDEX)")
        return unit

    def grades(self, entry: dict, where: str) -> tuple[int, int]:
        value = entry.get("grades", [1, 5])
        ok = isinstance(value, list) and len(value) == 2 and all(type(g) is int for g in value)
        if not ok or not 1 <= value[0] <= value[1] <= 5:
            raise self.error(
                where, f"grades {value!r}: expected [lo, hi] with 1 <= lo <= hi <= 5 (1 = A, 5 = E)"
            )
        return value[0], value[1]

    def flag(self, entry: dict, key: str, where: str) -> bool:
        value = entry.get(key, False)
        if not isinstance(value, bool):
            raise self.error(where, f"{key} must be true or false, not {value!r}")
        return value

    def entries(self, table: dict, key: str, where: str, main: str, fields: tuple[str, ...]):
        """(entry, where) for each inline table of a list; each must have ``main`` and only ``fields``."""
        for i, entry in enumerate(self.get(table, key, list, where)):
            at = f"{where} {key} entry {i + 1}"
            if not isinstance(entry, dict):
                raise self.error(at, f"{entry!r} is not a table ({{ {main} = ... }})")
            text = entry.get(main)
            if not isinstance(text, str) or not text.strip():
                raise self.error(at, f"missing or empty {main!r}")
            at = f"{at} ({text!r})"
            self.keys(entry, at, fields)
            yield entry, at

    def frame_sets(self, kind: str, make) -> Mapping[str, tuple]:
        table = self.get(self.data, kind, dict)
        self.keys(table, f"[{kind}]", FRAME_SETS)
        return _freeze({s: tuple(make(self, table, s, f"[{kind}]")) for s in FRAME_SETS})


def _freeze(d: dict) -> Mapping:
    return MappingProxyType(d)


def _by_set(f: _File, main: str, make) -> Mapping[str, Mapping[str, tuple]]:
    """``{set: {label: entries}}`` of a file of ``[label]`` tables with a list per set."""
    out: dict[str, dict[str, tuple]] = {s: {} for s in SETS}
    for label, table in f.data.items():
        f.label(label)
        if not isinstance(table, dict):
            raise f.error(f"[{label}]", "must be a table of lists (v1 = [...], v2 = [...])")
        f.keys(table, f"[{label}]", SETS)
        for s in SETS:
            if s in table:
                out[s][label] = tuple(
                    make(f, e, at, main) for e, at in f.entries(table, s, f"[{label}]", main, _FIELDS[main])
                )
    return _freeze({s: _freeze(v) for s, v in out.items()})


_FIELDS = {
    "word": ("word", "grades", "after_verb", "own_intensity", "ing"),
    "noun": ("noun", "grades"),
    "situation": ("situation", "grades"),
}


def _word(f: _File, entry: dict, where: str, main: str) -> Word:
    f.slots(entry[main], where, _ENTRY_SLOTS)
    ing = f.flag(entry, "ing", where)
    # An -ing phrase never follows "looks" and takes no adverb ("looking laughing", "very laughing").
    after_verb = f.flag(entry, "after_verb", where) or ing
    own_intensity = f.flag(entry, "own_intensity", where) or ing
    return Word(entry[main], *f.grades(entry, where), after_verb, own_intensity, ing)


def _situation(f: _File, entry: dict, where: str, main: str) -> Situation:
    f.slots(entry[main], where, _ENTRY_SLOTS)
    return Situation(entry[main], *f.grades(entry, where))


def _weighted_situations(f: _File) -> Mapping[str, tuple[WeightedSituation, ...]]:
    """``{label: entries}`` of situations_v3.toml: ``[label]`` tables with one list ``v3`` each."""
    out: dict[str, tuple[WeightedSituation, ...]] = {}
    for label, table in f.data.items():
        if label == "clause_frames":
            continue
        f.label(label)
        if not isinstance(table, dict):
            raise f.error(f"[{label}]", "must be a table with one list (v3 = [...])")
        f.keys(table, f"[{label}]", ("v3",))
        entries = f.get(table, "v3", list, f"[{label}]")
        out[label] = tuple(
            _weighted_situation(f, e, label, f"[{label}] v3 entry {i + 1}") for i, e in enumerate(entries)
        )
    return _freeze(out)


def _weighted_situation(f: _File, entry, label: str, where: str) -> WeightedSituation:
    if not isinstance(entry, dict):
        raise f.error(where, f"{entry!r} is not a table ({{ situation = ... }} or {{ clause = ... }})")
    main = [k for k in ("situation", "clause") if k in entry]
    if len(main) != 1 or not isinstance(entry[main[0]], str) or not entry[main[0]].strip():
        raise f.error(where, "needs exactly one of 'situation' and 'clause', a non-empty string")
    text = entry[main[0]]
    at = f"{where} ({text!r})"
    f.keys(entry, at, ("situation", "clause", "grades", "emotions"))
    clause = main[0] == "clause"
    f.slots(text, at, _CLAUSE_SLOTS if clause else _ENTRY_SLOTS)
    emotions = _emotion_weights(f, entry.get("emotions", {label: 1.0}), label, at)
    return WeightedSituation(text, *f.grades(entry, at), clause, emotions)


def _emotion_weights(f: _File, value, label: str, where: str) -> tuple[tuple[str, float], ...]:
    """The checked ``emotions`` table of an entry: known labels, weights in (0, 1] summing to 1, and the
    entry's own label among the heaviest (it is listed under the label people would read first)."""
    if not isinstance(value, dict) or not value:
        raise f.error(where, f"emotions {value!r}: expected a table of label = weight")
    for name, weight in value.items():
        if name not in RECIPES:
            raise f.error(where, f"emotions: unknown expression label {name!r} (see expressions.RECIPES)")
        if isinstance(weight, bool) or not isinstance(weight, int | float) or not 0 < weight <= 1:
            raise f.error(where, f"emotions: weight of {name!r} is {weight!r}: expected a number in (0, 1]")
    total = sum(value.values())
    if abs(total - 1.0) > 1e-6:
        raise f.error(where, f"emotions: the weights sum to {total:g}, expected 1")
    if value.get(label, 0) < max(value.values()):
        raise f.error(where, f"emotions: the entry's label {label!r} must have the largest weight")
    return tuple((name, float(weight)) for name, weight in value.items())


def _adjective_frame(f: _File, table: dict, s: str, where: str):
    for entry, at in f.entries(table, s, where, "frame", ("frame", "use")):
        f.slots(entry["frame"], at, _SUBJECT_SLOTS | {"a", "an"}, required={"a"})
        if entry.get("use") not in ADJECTIVE_USES:
            raise f.error(at, f"use {entry.get('use')!r}: expected one of {ADJECTIVE_USES}")
        yield AdjectiveFrame(entry["frame"], entry["use"])


def _noun_frame(f: _File, table: dict, s: str, where: str):
    for entry, at in f.entries(table, s, where, "frame", ("frame", "needs_adjective_modifier")):
        f.slots(entry["frame"], at, _SUBJECT_SLOTS | {"np"}, required={"np"})
        yield NounFrame(entry["frame"], f.flag(entry, "needs_adjective_modifier", at))


def _situation_frame(f: _File, table: dict, s: str, where: str):
    return f.strings(table, s, where, _SUBJECT_SLOTS | {"vp", "vp_someone"}, required={"vp", "vp_someone"})


def _subject(f: _File, row, where: str) -> Subject:
    names = ("S", "pos", "obj", "refl", "is", "has", "was", "looks")
    if not isinstance(row, dict):
        raise f.error(where, f"{row!r} is not a table")
    f.keys(row, where, names)
    for n in names:
        f.get(row, n, str, where)
    return Subject(*(row[n] for n in names))


def _levels(f: _File, levels, where: str, one_sided: bool) -> PhysicalLevels:
    """A unit's phrases by level; ``one_sided``: the unit is read on each side apart and may have ``side``."""
    if not isinstance(levels, dict):
        raise f.error(where, "must be a table of levels (low = [...], ...)")
    f.keys(levels, where, LEVELS if one_sided else LEVELS[:3])
    # The annotator names any strength of a unit it describes by level, so a unit has all three or none.
    if set(levels) - {"side"} not in (set(), {"low", "mid", "high"}) or not levels:
        raise f.error(
            where, "needs all of low, mid and high (a unit read on each side apart may have only side)"
        )
    return _freeze({lvl: f.strings(levels, lvl, where, {"side"}) for lvl in levels})


def _pair(f: _File, key: str) -> tuple[str, str]:
    units = key.split("+")
    if len(units) != 2:
        raise f.error(f"[pairs.{key}]", "a pair is written as two units joined by '+' (\"1+2\")")
    a, b = (f.unit(u, "pairs") for u in units)
    return a, b
