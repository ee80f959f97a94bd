"""FACS action units <-> ARKit, the prototypes, and the emotion reader every evaluation uses (no bpy)."""

from __future__ import annotations

import itertools
from collections import Counter

import numpy as np
import pytest

from expclip_blender.arkit import ARKIT_INDEX, ARKIT_NAMES
from expclip_blender.facs import (
    AU_READ_INDEX,
    AU_TABLE,
    COMPOUNDS,
    EMOTIONS,
    GRADE_VALUES,
    GRADES,
    PROTOTYPES,
    READER_PROFILES,
    UPPER_FACE_AUS,
    arkit_to_au,
    arkit_to_au_array,
    au_to_arkit,
    compound_face,
    emotion_strength,
    prototype_face,
    read_emotion,
    read_emotions,
)
from expclip_train.tead.expressions import ExpressionConfig, generate_expressions

BASIC = [e for e in EMOTIONS if e != "neutral"]


def test_au_table_names_and_sides():
    for code, channels in AU_TABLE.items():
        assert channels, code
        for name, coef in channels.items():
            assert name in ARKIT_INDEX, (code, name)
            assert 0.0 < coef <= 1.0, (code, name, coef)
        if code[0] == "L" and code != "L30":
            assert not any(n.endswith("Right") for n in channels), code
        if code[0] == "R" and code != "R30":
            assert not any(n.endswith("Left") for n in channels), code
    # The FACTS.md table.
    assert AU_TABLE["1"] == {"browInnerUp": 1.0}
    assert AU_TABLE["12"] == {"mouthSmileLeft": 1.0, "mouthSmileRight": 1.0}
    assert AU_TABLE["R12"] == {"mouthSmileRight": 1.0}
    assert set(AU_TABLE["9"]) == {"noseSneerLeft", "noseSneerRight"}
    assert set(AU_TABLE["28"]) == {"mouthRollLower", "mouthRollUpper"}
    assert set(AU_TABLE["45"]) == {"eyeBlinkLeft", "eyeBlinkRight"}
    assert set(AU_TABLE["63"]) == {"eyeLookUpLeft", "eyeLookUpRight"}


def test_au_to_arkit_spellings_sides_and_clipping():
    smile = au_to_arkit({"12": 0.5})
    assert smile.shape == (52,) and smile.dtype == np.float32
    assert smile[ARKIT_INDEX["mouthSmileLeft"]] == pytest.approx(0.5)
    assert smile[ARKIT_INDEX["mouthSmileRight"]] == pytest.approx(0.5)
    assert np.count_nonzero(smile) == 2
    np.testing.assert_array_equal(au_to_arkit({12: 0.5}), smile)
    np.testing.assert_array_equal(au_to_arkit({"AU12": 0.5}), smile)
    np.testing.assert_array_equal(au_to_arkit({"L12": 0.5, "R12": 0.5}), smile)
    right = au_to_arkit({"r12": 0.7})
    assert (
        right[ARKIT_INDEX["mouthSmileRight"]] == pytest.approx(0.7)
        and right[ARKIT_INDEX["mouthSmileLeft"]] == 0
    )
    # Units sharing a channel add up, and the sum is clipped.
    assert au_to_arkit({"23": 1.0, "24": 1.0})[ARKIT_INDEX["mouthPressLeft"]] == pytest.approx(1.0)
    assert au_to_arkit({"26": 1.0})[ARKIT_INDEX["jawOpen"]] == pytest.approx(0.6)
    assert au_to_arkit({"27": 1.0})[ARKIT_INDEX["jawOpen"]] == pytest.approx(1.0)
    with pytest.raises(KeyError, match="unknown action unit"):
        au_to_arkit({"99": 1.0})
    with pytest.raises(KeyError, match="needs a side"):
        au_to_arkit({"30": 1.0})


@pytest.mark.parametrize(
    "code", ["1", "2", "4", "5", "6", "7", "9", "10", "12", "14", "15", "17", "18", "20", "28"]
)
def test_arkit_to_au_reads_single_units_back(code):
    au = arkit_to_au(au_to_arkit({code: 0.6}), threshold=0.01)
    assert au[code] == pytest.approx(0.6, abs=1e-6)
    assert {k.lstrip("LR") for k in au} == {code}


def test_arkit_to_au_sides_and_shared_units():
    au = arkit_to_au(au_to_arkit({"R12": 0.8, "L2": 0.5}), threshold=0.01)
    assert au["R12"] == pytest.approx(0.8) and "L12" not in au and au["12"] == pytest.approx(0.4)
    assert au["L2"] == pytest.approx(0.5) and "R2" not in au
    assert arkit_to_au(au_to_arkit({"24": 0.5}))["24"] == pytest.approx(0.5)  # 23/24 read as "24"
    assert arkit_to_au(au_to_arkit({"26": 1.0}))["26"] == pytest.approx(1.0)  # 25/26/27 read as "26"
    batch = arkit_to_au_array(np.stack([au_to_arkit({"4": 0.3}), au_to_arkit({"4": 0.9})]))
    assert batch.shape == (2, len(AU_READ_INDEX))
    assert batch[:, AU_READ_INDEX["4"]] == pytest.approx([0.3, 0.9])


def test_prototype_and_compound_tables():
    assert set(PROTOTYPES) == set(EMOTIONS)
    assert PROTOTYPES["neutral"] == {}
    assert set(PROTOTYPES["happiness"]) == {"6", "12"}
    assert set(PROTOTYPES["sadness"]) == {"1", "4", "15"}
    assert set(PROTOTYPES["surprise"]) == {"1", "2", "5", "26"}
    assert set(PROTOTYPES["fear"]) == {"1", "2", "4", "5", "7", "20", "26"}
    assert set(PROTOTYPES["anger"]) == {"4", "5", "7", "23"}
    assert set(PROTOTYPES["disgust"]) == {"9", "15", "16"}
    assert set(PROTOTYPES["contempt"]) == {"R12", "R14"}  # one-sided
    assert len(COMPOUNDS) == 15
    assert COMPOUNDS["happily surprised"].principal == ("1", "2", "12", "25")
    assert COMPOUNDS["awed"].secondary == ("4", "20", "26")
    for name, comp in COMPOUNDS.items():
        assert set(comp.components) <= set(BASIC)
        face = compound_face(name, "E")
        assert face.max() <= 1.0 and face.min() >= 0.0 and face.any()
    assert set(READER_PROFILES) == set(BASIC)


@pytest.mark.parametrize("emotion", BASIC)
@pytest.mark.parametrize("grade", ["B", "C", "D", "E"])
@pytest.mark.parametrize("side", ["R", "L"])
def test_reader_on_clean_prototypes(emotion, grade, side):
    face = prototype_face(emotion, grade, side)
    assert read_emotion(face) == emotion
    # Upper face only (brows, eyes, cheeks, nose): contempt lives in the mouth corners and cannot show.
    assert read_emotion(face, region="upper") == (emotion if emotion != "contempt" else "neutral")


def test_reader_neutral_and_batches():
    assert read_emotion(np.zeros(52)) == "neutral"
    assert read_emotion(np.full(52, 0.05)) == "neutral"  # faint resting tone everywhere
    faces = np.stack([prototype_face(e, "D") for e in EMOTIONS])
    assert read_emotions(faces) == list(EMOTIONS)
    assert read_emotion(faces) == list(EMOTIONS)
    assert read_emotions(faces, region="upper")[EMOTIONS.index("contempt")] == "neutral"
    with pytest.raises(ValueError, match="region"):
        read_emotions(faces, region="ears")
    assert set(UPPER_FACE_AUS) == {"1", "2", "4", "5", "6", "7", "9"}


@pytest.mark.parametrize("emotion", BASIC)
def test_emotion_strength_grows_with_grade(emotion):
    strengths = [emotion_strength(prototype_face(emotion, g), emotion) for g in GRADES]
    assert all(a < b for a, b in itertools.pairwise(strengths)), strengths
    assert strengths[0] >= 0.0 and strengths[-1] <= 1.0
    # Another emotion's face scores lower on this emotion's units than this emotion's own face.
    other = next(e for e in BASIC if e != emotion)
    assert emotion_strength(prototype_face(other, "E"), emotion) < strengths[-1]
    batch = emotion_strength(np.stack([prototype_face(emotion, g) for g in GRADES]), emotion)
    assert batch == pytest.approx(strengths)


def test_emotion_strength_of_neutral():
    assert emotion_strength(np.zeros(52), "neutral") == pytest.approx(1.0)
    assert emotion_strength(prototype_face("anger", "E"), "neutral") < 0.5
    with pytest.raises(ValueError):
        emotion_strength(np.zeros(52), "boredom")


def test_reader_on_noisy_variants():
    """The dataset's own faces (individual gains, asymmetry, optional and stray units, noise), B-E."""
    faces, meta = generate_expressions(3, ExpressionConfig(individuals=20, per_grade=5, blends_per_pair=0))
    rows = [i for i, m in enumerate(meta) if m.category == "prototype" and m.grade != "A"]
    read = read_emotions(faces[rows])
    confusion = Counter((meta[i].emotion, r) for i, r in zip(rows, read, strict=True))
    accuracy = sum(v for (e, r), v in confusion.items() if e == r) / len(rows)
    assert accuracy >= 0.97, confusion
    # Harsher variation than the dataset's: per-unit gains 0.5-1.5, strong lopsidedness, more stray units.
    rng = np.random.default_rng(0)
    hits = total = 0
    for emotion in BASIC:
        for grade in ("C", "D", "E"):
            for _ in range(30):
                aus = {}
                for code, rel in PROTOTYPES[emotion].items():
                    level = rel * GRADE_VALUES[grade] * rng.uniform(0.5, 1.5)
                    if code[0] in "LR":
                        aus[code] = level
                    else:  # lopsided by up to 30 %
                        tilt = rng.uniform(-0.3, 0.3)
                        aus["L" + code if code not in ("1", "26") else code] = level * (1 + tilt)
                        if code not in ("1", "26"):
                            aus["R" + code] = level * (1 - tilt)
                for stray in rng.choice(["2", "4", "6", "7", "10", "14", "17", "24"], size=3, replace=False):
                    aus.setdefault(str(stray), rng.uniform(0.0, 0.15))
                face = np.clip(au_to_arkit(aus) + rng.uniform(0, 0.03, 52), 0, 1)
                hits += read_emotion(face) == emotion
                total += 1
    assert hits / total >= 0.85, hits / total


def test_names_are_arkit():
    assert len(ARKIT_NAMES) == 52
