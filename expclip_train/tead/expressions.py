"""TEAD's expression set: ARKit-52 faces composed from FACS action units, deterministic from a seed.

Every face is a *recipe* (action units at relative levels) rendered at an intensity grade (FACS A-E) on
an *individual*: each individual has their own gain per action unit, a lopsidedness per bilateral unit
and a resting tone; each rendering adds per-instance jitter, optional secondary units (the EMFACS and
Du et al. variants) and a few low-level stray units. One-sided recipes also come mirrored. Blends mix
two recipes, one at a strong grade and one at a weak one ("happy but a little surprised").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from expclip_blender.arkit import MIRROR_ORDER, NUM_ARKIT
from expclip_blender.facs import AU_TABLE, COMPOUNDS, GRADE_VALUES, GRADES, PROTOTYPES, au_row, normalize_au

CATEGORIES: tuple[str, ...] = ("neutral", "prototype", "compound", "state", "blend")


@dataclass(frozen=True)
class Recipe:
    """An expression as action units: ``principal`` always on, each ``optional`` unit on half the time."""

    label: str
    category: str  # one of CATEGORIES
    emotion: str | None  # what the emotion reader should answer (facs.EMOTIONS), None for other states
    principal: Mapping[str, float]
    optional: Mapping[str, float] = field(default_factory=dict)
    components: tuple[str, ...] = ()  # the two emotions of a compound

    @property
    def one_sided(self) -> bool:
        return any(code[0] in "LR" for code in (*self.principal, *self.optional))


# EMFACS variants of the prototypes (Ekman & Friesen): units that often come along.
_PROTOTYPE_OPTIONAL: dict[str, dict[str, float]] = {
    "happiness": {"25": 0.7, "26": 0.3, "7": 0.25},
    "sadness": {"17": 0.5, "64": 0.4, "41": 0.4, "11": 0.4},
    "surprise": {"25": 0.6},
    "fear": {"25": 0.6},
    "anger": {"10": 0.4, "17": 0.5, "24": 0.6, "9": 0.25, "25": 0.5},
    "disgust": {"10": 0.7, "17": 0.4, "4": 0.3, "7": 0.3, "25": 0.4},
    "contempt": {"41": 0.3},
}

# The states animators ask for beyond the basic emotions. Levels are relative to the grade's value.
# Gaze units: 61 left, 62 right, 63 up, 64 down; 41/42/43 lids drooping/slit/closed; "L46" a left wink.
_STATES: dict[str, tuple[str | None, dict[str, float], dict[str, float]]] = {
    "calm": (None, {"41": 0.6, "12": 0.25}, {"1": 0.15, "25": 0.3}),
    "bored": (None, {"41": 0.9, "17": 0.45, "15": 0.3}, {"24": 0.4, "63": 0.4, "61": 0.4, "R14": 0.3}),
    "tired": (None, {"41": 1.0, "1": 0.4, "15": 0.25}, {"25": 0.6, "64": 0.4, "7": 0.2}),
    "sleepy": (None, {"42": 1.0, "1": 0.3, "26": 0.25}, {"64": 0.4, "25": 0.6}),
    "yawning": (None, {"27": 1.0, "43": 0.8, "1": 0.4, "20": 0.3}, {"6": 0.4, "4": 0.3, "2": 0.3}),
    "skeptical": (None, {"R2": 1.0, "L4": 0.5, "7": 0.3}, {"R14": 0.5, "17": 0.4, "24": 0.3}),
    "suspicious": (None, {"7": 0.9, "4": 0.4, "24": 0.4}, {"61": 0.6, "L14": 0.3}),
    "smug": (None, {"R12": 0.8, "R14": 0.6, "41": 0.35}, {"17": 0.3, "2": 0.2}),
    "mischievous": (None, {"R12": 0.7, "12": 0.3, "6": 0.4, "4": 0.25}, {"41": 0.3, "61": 0.3}),
    "confused": (
        None,
        {"4": 0.6, "1": 0.4, "R2": 0.4},
        {"7": 0.3, "L14": 0.3, "24": 0.3, "17": 0.3, "25": 0.4},
    ),
    "concentrating": (None, {"4": 0.7, "7": 0.6, "24": 0.5}, {"17": 0.3, "64": 0.3, "28": 0.3, "19": 0.3}),
    "pensive": (None, {"4": 0.3, "17": 0.4, "63": 0.5}, {"R14": 0.3, "24": 0.3, "41": 0.3, "61": 0.3}),
    "in pain": (None, {"4": 0.9, "6": 0.7, "7": 0.9, "9": 0.5, "10": 0.6, "43": 0.6}, {"20": 0.5, "25": 0.5}),
    "embarrassed": (None, {"12": 0.5, "24": 0.4, "64": 0.7}, {"14": 0.4, "1": 0.3, "61": 0.3, "6": 0.3}),
    "flirtatious": (None, {"12": 0.6, "6": 0.4, "41": 0.4, "R2": 0.3}, {"61": 0.4, "R12": 0.2}),
    "winking": (None, {"L46": 1.0, "L6": 0.6, "12": 0.5, "L12": 0.3}, {"R2": 0.3}),
    "determined": (None, {"4": 0.6, "7": 0.5, "24": 0.7, "17": 0.5}, {"29": 0.3, "9": 0.2}),
    "worried": (None, {"1": 0.9, "4": 0.6, "24": 0.3}, {"20": 0.3, "15": 0.2, "5": 0.2, "28": 0.3}),
    "disappointed": (
        "sadness",
        {"1": 0.5, "15": 0.8, "17": 0.6},
        {"4": 0.3, "41": 0.4, "64": 0.4, "24": 0.3},
    ),
    "pouting": (None, {"17": 0.9, "18": 0.6, "15": 0.5}, {"1": 0.4, "4": 0.3, "64": 0.3}),
    "laughing": ("happiness", {"6": 1.0, "12": 1.0, "26": 0.8, "25": 1.0}, {"43": 0.5, "7": 0.3, "1": 0.2}),
    "crying": (
        "sadness",
        {"1": 1.0, "4": 0.7, "15": 0.9, "17": 0.6},
        {"6": 0.5, "7": 0.5, "20": 0.4, "25": 0.6, "43": 0.5},
    ),
    "shouting": (None, {"27": 0.9, "4": 0.7, "7": 0.4, "10": 0.5}, {"5": 0.4, "20": 0.3, "9": 0.3}),
    "relieved": (None, {"1": 0.4, "12": 0.5, "41": 0.4}, {"25": 0.4, "22": 0.3, "33": 0.3}),
    "excited": (None, {"12": 0.9, "6": 0.6, "1": 0.5, "2": 0.6, "5": 0.5, "25": 1.0}, {"26": 0.6}),
    "proud": (None, {"12": 0.5, "17": 0.4, "24": 0.3}, {"41": 0.2, "2": 0.2}),
    "sneering": (None, {"R10": 0.9, "R9": 0.5}, {"4": 0.3, "7": 0.3}),
    "nauseous": (
        None,
        {"9": 0.4, "15": 0.5, "33": 0.6, "24": 0.4, "1": 0.4},
        {"43": 0.4, "4": 0.3, "16": 0.2},
    ),
    "kissing": (None, {"18": 1.0, "22": 0.4}, {"43": 0.8, "2": 0.3}),
    "dreamy": (None, {"12": 0.4, "1": 0.4, "41": 0.6}, {"63": 0.4, "61": 0.3, "25": 0.3}),
    "eye roll": (None, {"63": 1.0, "R14": 0.4, "2": 0.3}, {"41": 0.3, "24": 0.3, "17": 0.3}),
    "awkward": (None, {"20": 0.7, "12": 0.4, "25": 0.6, "4": 0.3}, {"7": 0.3, "1": 0.3, "61": 0.3}),
    "pleading": (None, {"1": 1.0, "5": 0.3, "15": 0.3, "24": 0.3}, {"18": 0.3, "17": 0.3, "63": 0.3}),
}


def _recipes() -> list[Recipe]:
    out = [Recipe("neutral", "neutral", "neutral", {})]
    for emotion, aus in PROTOTYPES.items():
        if emotion != "neutral":
            out.append(Recipe(emotion, "prototype", emotion, dict(aus), _PROTOTYPE_OPTIONAL.get(emotion, {})))
    for name, comp in COMPOUNDS.items():
        # Du et al.: principal units define the compound; secondary ones appear in some people.
        principal = dict.fromkeys(comp.principal, 1.0)
        optional = {a: 0.6 for a in comp.secondary if a not in principal}
        out.append(Recipe(name, "compound", None, principal, optional, comp.components))
    for name, (emotion, principal, optional) in _STATES.items():
        out.append(Recipe(name, "state", emotion, principal, optional))
    return out


#: Every recipe by label: the neutral face, 7 prototypes, 15 compounds and the states.
RECIPES: dict[str, Recipe] = {r.label: r for r in _recipes()}

#: Expressions that blends mix (a strong one with a weak one).
BLEND_COMPONENTS: tuple[str, ...] = (
    "happiness", "sadness", "surprise", "fear", "anger", "disgust", "contempt",
    "tired", "bored", "confused", "worried", "skeptical", "determined", "embarrassed", "calm",
)  # fmt: skip

_MIRROR = np.array(MIRROR_ORDER)
_BILATERAL_BASES = sorted(
    {
        code[1:]
        for code in AU_TABLE
        if code[0] in "LR" and code[1:] in AU_TABLE and code not in ("L30", "R30")
    },
    key=int,
)
# Every AU code and its ARKit row, as a matrix.
_CODES: tuple[str, ...] = tuple(AU_TABLE)
_CODE_INDEX: dict[str, int] = {c: i for i, c in enumerate(_CODES)}
_CODE_MATRIX = np.stack([au_row(c) for c in _CODES])
# Units a stray twitch may come from (the face's expressive units, not gaze or the tongue).
_STRAY_UNITS: tuple[str, ...] = ("1", "2", "4", "5", "6", "7", "9", "10", "12", "14", "15", "17", "20", "24")


@dataclass(frozen=True)
class Individual:
    """One person's way of making faces: gain per action unit, lopsidedness, resting tone."""

    gain: dict[str, float]  # AU (base code) -> multiplier on its level
    asym: dict[str, float]  # bilateral AU -> left/right imbalance, + = stronger on the left
    rest: np.ndarray  # (52,) resting tone added to every face


def make_individuals(n: int, rng: np.random.Generator) -> list[Individual]:
    """``n`` individuals with natural variation (lognormal gains, small asymmetries, faint resting tone)."""
    bases = sorted({c.lstrip("LR") for c in AU_TABLE}, key=int)
    people = []
    for _ in range(n):
        gain = {b: float(np.exp(rng.normal(0.0, 0.15))) for b in bases}
        asym = {b: float(np.clip(rng.normal(0.0, 0.06), -0.15, 0.15)) for b in _BILATERAL_BASES}
        rest = np.zeros(NUM_ARKIT)
        for ch in rng.choice(NUM_ARKIT, size=3, replace=False):
            rest[ch] = rng.uniform(0.0, 0.04)
        people.append(Individual(gain, asym, rest))
    return people


def _render_clean(
    recipe: Recipe, level: float, person: Individual, rng: np.random.Generator
) -> tuple[np.ndarray, dict[str, float]]:
    """A recipe on one individual (before stray units and noise): (52,) weights and the AU levels used."""
    aus: dict[str, float] = dict(recipe.principal)
    for code, rel in recipe.optional.items():
        if rng.random() < 0.5:
            aus[code] = rel * rng.uniform(0.6, 1.0)
    used: dict[str, float] = {}
    levels = [0.0] * len(_CODES)  # per AU code; one product with the AU table makes the face
    jitter = np.exp(rng.normal(0.0, 0.08, len(aus))).tolist()
    tilts = rng.normal(0.0, 0.03, len(aus)).tolist()
    for (code, rel), jit, tilt in zip(aus.items(), jitter, tilts, strict=True):
        key = normalize_au(code)
        base = key.lstrip("LR")
        lvl = min(1.0, max(0.0, rel * level * person.gain[base] * jit))
        used[key] = round(lvl, 3)
        if key == base and base in person.asym:
            # Natural lopsidedness: the same unit a little stronger on one side.
            t = person.asym[base] + tilt
            levels[_CODE_INDEX["L" + base]] += lvl * (1.0 + t)
            levels[_CODE_INDEX["R" + base]] += lvl * (1.0 - t)
        else:
            levels[_CODE_INDEX[key]] += lvl
    return np.clip(np.array(levels) @ _CODE_MATRIX, 0.0, 1.0), used


def _finish(
    face: np.ndarray, person: Individual, rng: np.random.Generator, recipe_aus: set[str]
) -> np.ndarray:
    """Add the individual's resting tone, a few stray low-level units and channel noise; clip to [0, 1]."""
    out = face + person.rest
    strays = [u for u in _STRAY_UNITS if u not in recipe_aus]
    order = rng.permutation(len(strays))[: int(rng.integers(0, 4))]
    for k in order:
        out = out + rng.uniform(0.02, 0.1) * au_row(strays[k])
    out = out + np.abs(rng.normal(0.0, 0.006, NUM_ARKIT)) * (rng.random(NUM_ARKIT) < 0.3)
    return np.clip(out, 0.0, 1.0)


@dataclass
class ExpressionMeta:
    """What one TEAD expression is: its recipe, grade and who made it."""

    index: int
    category: str  # one of CATEGORIES
    label: str  # recipe label ("anger", "happily surprised", "tired") or "main+secondary" for blends
    emotion: str | None  # class the emotion reader should answer, None where no single class fits
    grade: str | None  # FACS grade letter A-E (None for neutral)
    intensity: float  # the grade's numeric value (0 for neutral)
    individual: int
    mirrored: bool = False
    components: tuple[str, ...] = ()  # compounds: their two emotions; blends: (main, secondary)
    secondary_grade: str | None = None  # blends: grade of the weaker component
    aus: dict[str, float] = field(default_factory=dict)  # AU levels as rendered (before stray units)

    @property
    def one_sided(self) -> bool:
        """Whether the face's recipe (a blend's main or secondary one) acts on one side of the face."""
        labels = self.components if self.category == "blend" else (self.label,)
        return any(label in RECIPES and RECIPES[label].one_sided for label in labels)

    def to_json(self) -> dict:
        d = dict(self.__dict__)
        d["components"] = list(self.components)
        return d

    @classmethod
    def from_json(cls, d: Mapping) -> ExpressionMeta:
        d = dict(d)
        d["components"] = tuple(d.get("components", ()))
        return cls(**d)


@dataclass(frozen=True)
class ExpressionConfig:
    """How many faces to make."""

    individuals: int = 40  # size of the pool of individuals
    per_grade: int = 16  # faces per (recipe, grade)
    mirrored_per_grade: int = 8  # extra mirrored faces per (one-sided recipe, grade)
    neutral: int = 80  # neutral faces
    blends_per_pair: int = 3  # faces per ordered pair of BLEND_COMPONENTS


def generate_expressions(
    seed: int = 0, config: ExpressionConfig | None = None
) -> tuple[np.ndarray, list[ExpressionMeta]]:
    """The TEAD expression set: (E, 52) float32 weights in [0, 1] and one :class:`ExpressionMeta` each.

    Deterministic from ``seed``. Order: neutral, prototypes, compounds, states (each A..E), then blends.
    """
    cfg = config or ExpressionConfig()
    rng = np.random.default_rng([seed, 0])
    people = make_individuals(cfg.individuals, rng)
    faces: list[np.ndarray] = []
    metas: list[ExpressionMeta] = []

    def add(face: np.ndarray, **kw) -> None:
        metas.append(ExpressionMeta(index=len(faces), **kw))
        faces.append(face)

    who = 0  # individuals take turns so every recipe and grade meets many of them
    for recipe in RECIPES.values():
        if recipe.category == "neutral":
            for _ in range(cfg.neutral):
                person = people[who % len(people)]
                face = _finish(np.zeros(NUM_ARKIT), person, rng, set())
                add(face, category="neutral", label="neutral", emotion="neutral", grade=None, intensity=0.0,
                    individual=who % len(people))  # fmt: skip
                who += 1
            continue
        for grade in GRADES:
            n_mirror = cfg.mirrored_per_grade if recipe.one_sided else 0
            for k in range(cfg.per_grade + n_mirror):
                person = people[who % len(people)]
                level = GRADE_VALUES[grade] + rng.uniform(-0.04, 0.04)
                clean, used = _render_clean(recipe, level, person, rng)
                face = _finish(clean, person, rng, {c.lstrip("LR") for c in used})
                mirrored = k >= cfg.per_grade
                if mirrored:
                    face = face[_MIRROR]
                    used = {_mirror_code(c): v for c, v in used.items()}
                add(face, category=recipe.category, label=recipe.label, emotion=recipe.emotion, grade=grade,
                    intensity=GRADE_VALUES[grade], individual=who % len(people), mirrored=mirrored,
                    components=recipe.components, aus=used)  # fmt: skip
                who += 1
    for main in BLEND_COMPONENTS:
        for second in BLEND_COMPONENTS:
            if main == second:
                continue
            for _ in range(cfg.blends_per_pair):
                person = people[who % len(people)]
                i1 = int(rng.integers(2, 5))  # main: C, D or E
                g1, g2 = GRADES[i1], GRADES[min(int(rng.integers(0, i1)), 2)]  # secondary: weaker, A-C
                f1, u1 = _render_clean(RECIPES[main], GRADE_VALUES[g1], person, rng)
                f2, u2 = _render_clean(RECIPES[second], GRADE_VALUES[g2], person, rng)
                used = dict(u2)
                for c, v in u1.items():
                    used[c] = max(v, used.get(c, 0.0))
                mirrored = bool(rng.random() < 0.5)
                face = _finish(np.maximum(f1, f2), person, rng, {c.lstrip("LR") for c in used})
                if mirrored:
                    face = face[_MIRROR]
                    used = {_mirror_code(c): v for c, v in used.items()}
                add(face, category="blend", label=f"{main}+{second}", emotion=None, grade=g1,
                    intensity=GRADE_VALUES[g1], individual=who % len(people), mirrored=mirrored,
                    components=(main, second), secondary_grade=g2, aus=used)  # fmt: skip
                who += 1
    return np.stack(faces).astype(np.float32), metas


def _mirror_code(code: str) -> str:
    if code[0] == "L":
        return "R" + code[1:]
    if code[0] == "R":
        return "L" + code[1:]
    return {"61": "62", "62": "61"}.get(code, code)
