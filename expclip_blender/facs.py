"""FACS action units <-> ARKit blendshapes, the emotion prototypes, and the emotion reader.

* :func:`au_to_arkit` composes a face from action units (after the ICT FaceKit table, see
  docs FACTS.md); ``"R12"`` / ``"L12"`` put an action unit on one side of the face only (the subject's
  left and right, as ARKit's ``Left`` / ``Right``).
* :func:`arkit_to_au` reads the action units back off 52 ARKit weights.
* :data:`PROTOTYPES` (EMFACS, Ekman & Friesen) and :data:`COMPOUNDS` (Du, Tao & Martinez, PNAS 2014).
* :func:`read_emotion` / :func:`read_emotions` is THE emotion reader every evaluation uses: it compares the
  action units present in a face with each prototype's and answers one of :data:`EMOTIONS`.

numpy and the standard library only; never imports bpy.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .arkit import ARKIT_INDEX, NUM_ARKIT

# --------------------------------------------------------------------------------------------------
# Intensity grades: FACS scores intensity A (trace) to E (maximum). The numeric scale is the level an
# action unit reaches at that grade when its prototype weight is 1.
GRADES: tuple[str, ...] = ("A", "B", "C", "D", "E")
GRADE_VALUES: dict[str, float] = {"A": 0.2, "B": 0.4, "C": 0.6, "D": 0.8, "E": 1.0}

# --------------------------------------------------------------------------------------------------
# The AU -> ARKit table. Bilateral units name a Left/Right channel pair ("{S}" = Left or Right);
# sided codes ("L4", "R12") drive one half only.
_BILATERAL: dict[str, tuple[tuple[str, float], ...]] = {
    "2": (("browOuterUp{S}", 1.0),),  # outer brow raiser
    "4": (("browDown{S}", 1.0),),  # brow lowerer
    "5": (("eyeWide{S}", 1.0),),  # upper lid raiser
    "6": (("cheekSquint{S}", 1.0),),  # cheek raiser
    "7": (("eyeSquint{S}", 1.0),),  # lid tightener
    "9": (("noseSneer{S}", 1.0),),  # nose wrinkler
    "10": (("mouthUpperUp{S}", 1.0),),  # upper lip raiser
    "11": (("mouthUpperUp{S}", 0.3),),  # nasolabial deepener: no ARKit shape; a little upper-lip raise
    "12": (("mouthSmile{S}", 1.0),),  # lip corner puller
    "14": (("mouthDimple{S}", 1.0),),  # dimpler
    "15": (("mouthFrown{S}", 1.0),),  # lip corner depressor
    "16": (("mouthLowerDown{S}", 1.0),),  # lower lip depressor
    "20": (("mouthStretch{S}", 1.0),),  # lip stretcher
    "23": (("mouthPress{S}", 0.6),),  # lip tightener: ARKit has only the press shape
    "24": (("mouthPress{S}", 1.0),),  # lip pressor
    "25": (("mouthLowerDown{S}", 0.25),),  # lips part (plus a little jaw, below)
    "41": (("eyeBlink{S}", 0.35),),  # lid droop
    "42": (("eyeBlink{S}", 0.6),),  # slit
    "43": (("eyeBlink{S}", 1.0),),  # eyes closed
    "45": (("eyeBlink{S}", 1.0),),  # blink
    "46": (("eyeBlink{S}", 1.0),),  # wink (use it sided: "L46")
}
# Units on channels ARKit does not split. A sided code drives them at half strength (a rig with one
# browInnerUp cannot raise one inner brow alone).
_CENTRAL: dict[str, tuple[tuple[str, float], ...]] = {
    "1": (("browInnerUp", 1.0),),  # inner brow raiser
    "17": (("mouthShrugLower", 1.0),),  # chin raiser
    "18": (("mouthPucker", 1.0),),  # lip pucker
    "19": (("tongueOut", 1.0),),  # tongue show
    "22": (("mouthFunnel", 1.0),),  # lip funneler
    "25": (("jawOpen", 0.1),),  # lips part: the jaw share
    "26": (("jawOpen", 0.6),),  # jaw drop
    "27": (("jawOpen", 1.0),),  # mouth stretch (jaw wide open)
    "28": (("mouthRollLower", 1.0), ("mouthRollUpper", 1.0)),  # lip suck
    "29": (("jawForward", 1.0),),  # jaw thrust
    "33": (("cheekPuff", 1.0),),  # cheek blow
}
# Units that only exist one way round (no L/R variants).
_FIXED: dict[str, tuple[tuple[str, float], ...]] = {
    "L30": (("jawLeft", 1.0),),  # jaw sideways, to the subject's left
    "R30": (("jawRight", 1.0),),
    "61": (("eyeLookOutLeft", 1.0), ("eyeLookInRight", 1.0)),  # eyes turn to the subject's left
    "62": (("eyeLookInLeft", 1.0), ("eyeLookOutRight", 1.0)),  # eyes turn to the subject's right
    "63": (("eyeLookUpLeft", 1.0), ("eyeLookUpRight", 1.0)),  # eyes up
    "64": (("eyeLookDownLeft", 1.0), ("eyeLookDownRight", 1.0)),  # eyes down
}


def _build_table() -> dict[str, dict[str, float]]:
    table: dict[str, dict[str, float]] = {}

    def add(code: str, channel: str, coef: float) -> None:
        entry = table.setdefault(code, {})
        entry[channel] = entry.get(channel, 0.0) + coef

    for au, parts in _BILATERAL.items():
        for pattern, coef in parts:
            for side, word in (("L", "Left"), ("R", "Right")):
                add(au, pattern.format(S=word), coef)
                add(side + au, pattern.format(S=word), coef)
    for au, parts in _CENTRAL.items():
        for channel, coef in parts:
            add(au, channel, coef)
            for side in "LR":
                add(side + au, channel, 0.5 * coef)
    for code, parts in _FIXED.items():
        for channel, coef in parts:
            add(code, channel, coef)
    return table


#: Every accepted AU code -> {ARKit channel: weight at full intensity}.
AU_TABLE: dict[str, dict[str, float]] = _build_table()
_AU_MATRIX_CACHE: dict[str, np.ndarray] = {}


def au_row(code: str) -> np.ndarray:
    """The ARKit weights (52,) of one action unit at full intensity (read-only; ``code`` canonical)."""
    return _au_row(normalize_au(code))


def _au_row(code: str) -> np.ndarray:
    row = _AU_MATRIX_CACHE.get(code)
    if row is None:
        row = np.zeros(NUM_ARKIT, dtype=np.float64)
        for channel, coef in AU_TABLE[code].items():
            row[ARKIT_INDEX[channel]] = coef
        row.flags.writeable = False
        _AU_MATRIX_CACHE[code] = row
    return row


@functools.lru_cache(maxsize=1024)
def normalize_au(code: str | int) -> str:
    """Canonical AU code: ``12``, ``"AU12"``, ``"au12"`` -> ``"12"``; ``"r12"`` -> ``"R12"``."""
    text = str(code).strip().upper()
    side = ""
    if text[:1] in ("L", "R") and not text.startswith("AU"):
        side, text = text[0], text[1:]
    if text.startswith("AU"):
        text = text[2:]
    text = text.lstrip("0") or "0"
    key = side + text
    if key not in AU_TABLE:
        if text == "30":
            raise KeyError("AU30 (jaw sideways) needs a side: 'L30' or 'R30'")
        raise KeyError(f"unknown action unit {code!r}; known: {sorted(AU_TABLE, key=_au_sort_key)}")
    return key


def _au_sort_key(code: str) -> tuple[int, str]:
    digits = code.lstrip("LR")
    return (int(digits), code[: len(code) - len(digits)])


def au_to_arkit(aus: Mapping[str, float] | Mapping[int, float] | Mapping[str | int, float]) -> np.ndarray:
    """52 ARKit weights (float32, in [0, 1]) of a face made of the given action units.

    ``aus`` maps AU codes (``"12"``, ``"AU12"``, ``12``, ``"R12"`` for the right side only) to intensities in
    [0, 1] (see :data:`GRADE_VALUES`). Units that share a channel add up; the sum is clipped to [0, 1].
    """
    out = np.zeros(NUM_ARKIT, dtype=np.float64)
    for code, level in aus.items():
        out += float(level) * _au_row(normalize_au(code))
    return np.clip(out, 0.0, 1.0).astype(np.float32)


# --------------------------------------------------------------------------------------------------
# Reading action units back off ARKit weights.


@dataclass(frozen=True)
class _ReadUnit:
    name: str
    left: tuple[str, ...]  # channels averaged for the left side (or the whole unit when not bilateral)
    right: tuple[str, ...]  # empty for central units
    scale: float  # channel value at full intensity


# Units shared by several AUs read as one: 23/24 -> "24" (lips pressed), 25/26/27 -> "26" (mouth open),
# 41-46 -> "43" (lids closing), 11 folds into 10.
_READ_UNITS: tuple[_ReadUnit, ...] = (
    _ReadUnit("1", ("browInnerUp",), (), 1.0),
    _ReadUnit("2", ("browOuterUpLeft",), ("browOuterUpRight",), 1.0),
    _ReadUnit("4", ("browDownLeft",), ("browDownRight",), 1.0),
    _ReadUnit("5", ("eyeWideLeft",), ("eyeWideRight",), 1.0),
    _ReadUnit("6", ("cheekSquintLeft",), ("cheekSquintRight",), 1.0),
    _ReadUnit("7", ("eyeSquintLeft",), ("eyeSquintRight",), 1.0),
    _ReadUnit("9", ("noseSneerLeft",), ("noseSneerRight",), 1.0),
    _ReadUnit("10", ("mouthUpperUpLeft",), ("mouthUpperUpRight",), 1.0),
    _ReadUnit("12", ("mouthSmileLeft",), ("mouthSmileRight",), 1.0),
    _ReadUnit("14", ("mouthDimpleLeft",), ("mouthDimpleRight",), 1.0),
    _ReadUnit("15", ("mouthFrownLeft",), ("mouthFrownRight",), 1.0),
    _ReadUnit("16", ("mouthLowerDownLeft",), ("mouthLowerDownRight",), 1.0),
    _ReadUnit("17", ("mouthShrugLower",), (), 1.0),
    _ReadUnit("18", ("mouthPucker",), (), 1.0),
    _ReadUnit("19", ("tongueOut",), (), 1.0),
    _ReadUnit("20", ("mouthStretchLeft",), ("mouthStretchRight",), 1.0),
    _ReadUnit("22", ("mouthFunnel",), (), 1.0),
    _ReadUnit("24", ("mouthPressLeft",), ("mouthPressRight",), 1.0),
    _ReadUnit("26", ("jawOpen",), (), 0.6),
    _ReadUnit("28", ("mouthRollLower", "mouthRollUpper"), (), 1.0),
    _ReadUnit("29", ("jawForward",), (), 1.0),
    _ReadUnit("30", ("jawLeft",), ("jawRight",), 1.0),
    _ReadUnit("33", ("cheekPuff",), (), 1.0),
    _ReadUnit("43", ("eyeBlinkLeft",), ("eyeBlinkRight",), 1.0),
    _ReadUnit("61", ("eyeLookOutLeft", "eyeLookInRight"), (), 1.0),
    _ReadUnit("62", ("eyeLookInLeft", "eyeLookOutRight"), (), 1.0),
    _ReadUnit("63", ("eyeLookUpLeft", "eyeLookUpRight"), (), 1.0),
    _ReadUnit("64", ("eyeLookDownLeft", "eyeLookDownRight"), (), 1.0),
)

#: Bilateral reading units (they also read per side as "L<n>" / "R<n>").
BILATERAL_READ_AUS: tuple[str, ...] = tuple(u.name for u in _READ_UNITS if u.right)


def _read_columns() -> tuple[tuple[str, ...], np.ndarray]:
    names: list[str] = []
    rows: list[np.ndarray] = []

    def row(channels: tuple[str, ...], scale: float) -> np.ndarray:
        r = np.zeros(NUM_ARKIT)
        for ch in channels:
            r[ARKIT_INDEX[ch]] = 1.0 / (len(channels) * scale)
        return r

    for u in _READ_UNITS:
        if u.right:
            names += [u.name, "L" + u.name, "R" + u.name]
            rows += [0.5 * (row(u.left, u.scale) + row(u.right, u.scale)), row(u.left, u.scale)]
            rows.append(row(u.right, u.scale))
        else:
            names.append(u.name)
            rows.append(row(u.left, u.scale))
    return tuple(names), np.stack(rows, axis=1)


#: Columns of :func:`arkit_to_au_array`: every reading unit, bilateral ones also per side.
AU_READ_NAMES: tuple[str, ...]
_READ_MATRIX: np.ndarray  # (52, K)
AU_READ_NAMES, _READ_MATRIX = _read_columns()
AU_READ_INDEX: dict[str, int] = {n: i for i, n in enumerate(AU_READ_NAMES)}

#: Action units of the upper face (brows, eyes, cheeks, nose): what still shows emotion while the mouth
#: is busy with speech.
UPPER_FACE_AUS: tuple[str, ...] = ("1", "2", "4", "5", "6", "7", "9")
#: Action units of the lower face (mouth and jaw).
LOWER_FACE_AUS: tuple[str, ...] = ("10", "12", "14", "15", "16", "17", "18", "20", "22", "24", "26", "28")


def arkit_to_au_array(weights: np.ndarray) -> np.ndarray:
    """Action-unit intensities read off ARKit weights: (..., 52) -> (..., K), columns :data:`AU_READ_NAMES`.

    Units that ARKit cannot tell apart read as one (23/24 as "24", 25/26/27 as "26", 41-46 as "43").
    A bilateral unit reads as the mean of its two sides, and per side as "L<n>" / "R<n>".
    """
    w = np.asarray(weights, dtype=np.float64)
    if w.shape[-1] != NUM_ARKIT:
        raise ValueError(f"expected {NUM_ARKIT} ARKit weights on the last axis, got shape {w.shape}")
    return np.clip(w @ _READ_MATRIX, 0.0, 1.0)


def arkit_to_au(weights: np.ndarray, threshold: float = 0.0) -> dict[str, float]:
    """Action units of one face (52 weights) as ``{code: intensity}``, keeping those above ``threshold``."""
    values = arkit_to_au_array(np.asarray(weights).reshape(NUM_ARKIT))
    return {n: float(v) for n, v in zip(AU_READ_NAMES, values, strict=True) if v > threshold}


# --------------------------------------------------------------------------------------------------
# Prototypes. Recipes give each AU's level relative to the expression's intensity grade.

EMOTIONS: tuple[str, ...] = (
    "neutral",
    "happiness",
    "sadness",
    "surprise",
    "fear",
    "anger",
    "disgust",
    "contempt",
)

#: EMFACS prototypes (Ekman & Friesen), FACTS.md: relative AU levels (a letter in the table, e.g. 5B,
#: becomes a lower relative level). Contempt is one-sided (R12A+R14A); mirror it for the left side.
PROTOTYPES: dict[str, dict[str, float]] = {
    "neutral": {},
    "happiness": {"6": 0.85, "12": 1.0},
    "sadness": {"1": 0.9, "4": 0.6, "15": 1.0},
    "surprise": {"1": 0.9, "2": 1.0, "5": 0.55, "26": 1.0},
    "fear": {"1": 0.85, "2": 0.6, "4": 0.6, "5": 1.0, "7": 0.4, "20": 0.9, "26": 0.7},
    "anger": {"4": 1.0, "5": 0.6, "7": 0.8, "23": 1.0},
    "disgust": {"9": 1.0, "15": 0.6, "16": 0.6},
    "contempt": {"R12": 0.8, "R14": 0.8},
}


@dataclass(frozen=True)
class Compound:
    """A compound expression (Du, Tao & Martinez 2014, table 1) and the two emotions it mixes."""

    principal: tuple[str, ...]
    secondary: tuple[str, ...]
    components: tuple[str, str]


#: The fifteen compound expressions, FACTS.md (principal AUs, secondary AUs in brackets there).
COMPOUNDS: dict[str, Compound] = {
    "happily surprised": Compound(("1", "2", "12", "25"), ("5", "26"), ("happiness", "surprise")),
    "happily disgusted": Compound(("10", "12", "25"), ("4", "6", "9"), ("happiness", "disgust")),
    "sadly fearful": Compound(("1", "4", "20", "25"), ("2", "5", "6", "15"), ("sadness", "fear")),
    "sadly angry": Compound(("4", "15"), ("6", "7", "11", "17"), ("sadness", "anger")),
    "sadly surprised": Compound(("1", "4", "25", "26"), ("2", "6"), ("sadness", "surprise")),
    "sadly disgusted": Compound(("4", "10"), ("1", "6", "9", "11", "15", "17", "25"), ("sadness", "disgust")),
    "fearfully angry": Compound(("4", "20", "25"), ("5", "7", "10", "11"), ("fear", "anger")),
    "fearfully surprised": Compound(
        ("1", "2", "5", "20", "25"), ("4", "10", "11", "26"), ("fear", "surprise")
    ),
    "fearfully disgusted": Compound(
        ("1", "4", "10", "20", "25"), ("6", "9", "15", "26"), ("fear", "disgust")
    ),
    "angrily surprised": Compound(("4", "25", "26"), ("5", "7", "10"), ("anger", "surprise")),
    "angrily disgusted": Compound(("4", "10", "17"), ("7", "9", "24"), ("anger", "disgust")),
    "disgustedly surprised": Compound(
        ("1", "2", "5", "10"), ("4", "9", "17", "24", "26"), ("disgust", "surprise")
    ),
    "appalled": Compound(("4", "10"), ("6", "9", "17", "24"), ("disgust", "anger")),
    "hatred": Compound(("4", "10"), ("7", "9", "17", "24"), ("anger", "disgust")),
    "awed": Compound(("1", "2", "5", "25"), ("4", "20", "26"), ("surprise", "fear")),
}

# --------------------------------------------------------------------------------------------------
# The emotion reader.
#
# A face becomes a profile of action units: for each bilateral unit its symmetric part min(L, R) and its
# one-sided part |L - R| ("~12"), central units as read. Each emotion has a reference profile (its
# prototype's principal AUs at weight ~1, the common EMFACS variants' AUs lower); the face reads as the
# emotion whose profile it matches best (cosine), or "neutral" when no unit of the region is clearly on.
# Blinks, gaze and the tongue are left out: they come and go with speech and attention, not emotion.

_FEATURE_AUS: tuple[str, ...] = (
    "1", "2", "4", "5", "6", "7", "9", "10", "12", "14", "15", "16", "17", "18", "20", "22", "24", "26", "28",
)  # fmt: skip
_BILATERAL_FEATURES = tuple(a for a in _FEATURE_AUS if a in BILATERAL_READ_AUS)
FEATURE_NAMES: tuple[str, ...] = _FEATURE_AUS + tuple("~" + a for a in _BILATERAL_FEATURES)
_FEATURE_INDEX = {n: i for i, n in enumerate(FEATURE_NAMES)}

#: Reference AU profiles of the reader (feature -> weight); "~12" = one-sided lip corner puller.
READER_PROFILES: dict[str, dict[str, float]] = {
    "happiness": {"12": 1.0, "6": 0.8},
    "sadness": {"1": 0.85, "4": 0.6, "15": 1.0, "17": 0.35},
    "surprise": {"1": 0.85, "2": 1.0, "5": 0.55, "26": 0.9},
    "fear": {"1": 0.75, "2": 0.5, "4": 0.6, "5": 1.0, "7": 0.35, "20": 1.0, "26": 0.55},
    "anger": {"4": 1.0, "5": 0.55, "7": 0.8, "24": 0.9, "10": 0.2, "17": 0.3},
    "disgust": {"9": 1.0, "10": 0.8, "15": 0.5, "16": 0.5, "17": 0.2, "4": 0.2},
    "contempt": {"~12": 1.0, "~14": 0.9},
}

_REGIONS: dict[str, tuple[str, ...]] = {
    "full": _FEATURE_AUS,
    "upper": UPPER_FACE_AUS,
    "lower": LOWER_FACE_AUS,
}

#: A face reads as neutral when none of the region's action units (as read) reaches this intensity:
#: grade A of a prototype AU is 0.2, resting tone and noise stay below it.
NEUTRAL_THRESHOLD = 0.15


def au_features(weights: np.ndarray) -> np.ndarray:
    """The reader's AU profile: (..., 52) -> (..., F), columns :data:`FEATURE_NAMES`."""
    au = arkit_to_au_array(weights)
    cols = []
    for a in _FEATURE_AUS:
        if a in BILATERAL_READ_AUS:
            cols.append(np.minimum(au[..., AU_READ_INDEX["L" + a]], au[..., AU_READ_INDEX["R" + a]]))
        else:
            cols.append(au[..., AU_READ_INDEX[a]])
    for a in _BILATERAL_FEATURES:
        cols.append(np.abs(au[..., AU_READ_INDEX["L" + a]] - au[..., AU_READ_INDEX["R" + a]]))
    return np.stack(cols, axis=-1)


def _region_mask(region: str) -> np.ndarray:
    try:
        aus = _REGIONS[region]
    except KeyError:
        raise ValueError(f"region must be one of {sorted(_REGIONS)}, got {region!r}") from None
    return np.array([n.lstrip("~") in aus for n in FEATURE_NAMES])


def _profile_matrix(region: str) -> tuple[tuple[str, ...], np.ndarray]:
    mask = _region_mask(region)
    names: list[str] = []
    rows: list[np.ndarray] = []
    for emotion, profile in READER_PROFILES.items():
        row = np.zeros(len(FEATURE_NAMES))
        for feat, w in profile.items():
            row[_FEATURE_INDEX[feat]] = w
        row *= mask
        if row.any():  # contempt has nothing in the upper face: it cannot be read there
            names.append(emotion)
            rows.append(row / np.linalg.norm(row))
    return tuple(names), np.stack(rows)


def emotion_scores(weights: np.ndarray, region: str = "full") -> tuple[tuple[str, ...], np.ndarray]:
    """Cosine match of each face to each emotion's AU profile: (..., 52) -> names, (..., n_emotions)."""
    names, profiles = _profile_matrix(region)
    feats = au_features(weights) * _region_mask(region)
    norm = np.linalg.norm(feats, axis=-1, keepdims=True)
    return names, (feats @ profiles.T) / np.maximum(norm, 1e-9)


def read_emotions(weights: np.ndarray, region: str = "full") -> list[str]:
    """The emotion each face of (N, 52) weights shows, one of :data:`EMOTIONS`; see :func:`read_emotion`."""
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim != 2:
        raise ValueError(f"expected (N, {NUM_ARKIT}) weights, got shape {w.shape}")
    names, scores = emotion_scores(w, region)
    activity = (au_features(w) * _region_mask(region)).max(axis=-1)
    best = scores.argmax(axis=-1)
    return ["neutral" if act < NEUTRAL_THRESHOLD else names[b] for act, b in zip(activity, best, strict=True)]


def read_emotion(weights: np.ndarray, region: str = "full") -> str | list[str]:
    """The emotion a face shows: one of ``neutral happiness sadness surprise fear anger disgust contempt``.

    Compares the action units present in the face with each emotion's prototype profile (cosine of AU
    profiles, one-sided units counted apart so contempt is told from happiness); a face where no unit of
    the region reaches :data:`NEUTRAL_THRESHOLD` reads as neutral. ``region="upper"`` looks at brows, eyes,
    cheeks and nose only (use it while the mouth speaks; contempt is then unreadable), ``"lower"`` at the
    mouth and jaw only. A (52,) input gives a string, an (N, 52) input a list.
    """
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim == 1:
        return read_emotions(w[None, :], region)[0]
    return read_emotions(w, region)


def emotion_strength(weights: np.ndarray, emotion: str, region: str = "full") -> float | np.ndarray:
    """How strongly the emotion's own action units are on: the profile-weighted mean AU intensity, 0..1.

    Grows with the intensity grade of that emotion (use it to check "slightly sad" < "sad" < "devastated").
    ``neutral`` scores 1 minus the strongest unit. (52,) -> float, (N, 52) -> (N,).
    """
    w = np.asarray(weights, dtype=np.float64)
    feats = au_features(w) * _region_mask(region)
    if emotion == "neutral":
        out = 1.0 - feats.max(axis=-1)
    else:
        if emotion not in READER_PROFILES:
            raise ValueError(f"emotion must be one of {EMOTIONS}, got {emotion!r}")
        row = np.zeros(len(FEATURE_NAMES))
        for feat, wt in READER_PROFILES[emotion].items():
            row[_FEATURE_INDEX[feat]] = wt
        row *= _region_mask(region)
        if not row.any():
            raise ValueError(f"{emotion!r} has no action units in the {region!r} region")
        out = feats @ row / row.sum()
    return float(out) if np.ndim(out) == 0 else out


def prototype_face(emotion: str, grade: str | float = "C", side: str = "R") -> np.ndarray:
    """The clean prototype face of an emotion (52,) at a grade ("A".."E") or a numeric intensity 0..1.

    ``side`` puts one-sided units (contempt's R12+R14) on the subject's "R" or "L" side.
    """
    level = GRADE_VALUES[grade] if isinstance(grade, str) else float(grade)
    recipe = PROTOTYPES[emotion]
    aus: dict[str, float] = {}
    for code, rel in recipe.items():
        if side == "L" and code[0] in "LR":
            code = ("L" if code[0] == "R" else "R") + code[1:]
        aus[code] = rel * level
    return au_to_arkit(aus)


def compound_face(name: str, grade: str | float = "C", secondary: float = 0.5) -> np.ndarray:
    """The clean face of a compound expression: principal AUs at the grade, secondary ones at ``secondary``
    times it."""
    level = GRADE_VALUES[grade] if isinstance(grade, str) else float(grade)
    comp = COMPOUNDS[name]
    aus = {a: level for a in comp.principal}
    for a in comp.secondary:
        aus.setdefault(a, secondary * level)
    return au_to_arkit(aus)
