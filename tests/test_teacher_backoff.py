"""Unseen words' stand-ins from the teacher (workshop only): nearest trained phrases above a cosine floor,
then WordNet's terms; and the lexicon recipe that ships."""

from __future__ import annotations

import numpy as np

from expclip_train.teacher.backoff import (
    lexicon_recipe,
    merge_stand_ins,
    names_one_emotion,
    same_word,
    teacher_stand_ins,
)
from expclip_train.training.text_data import Teacher


def _teacher(rows: dict[str, list[float]]) -> Teacher:
    texts = list(rows)
    return Teacher(texts, ["wordnet_word"] * len(texts), np.asarray([rows[t] for t in texts], np.float16))


TEACHER = _teacher({
    "crabby": [1.0, 0.2, 0.0],
    "cranky": [0.9, 0.3, 0.0],
    "grumpy": [0.8, 0.0, 0.3],
    "parcel": [0.0, 0.0, 1.0],
    "Cheerful": [0.0, 1.0, 0.0],
    "glad": [0.1, 0.9, 0.1],
})  # fmt: skip
PHRASES = {"cranky": "cranky", "grumpy": "grumpy", "Cheerful": "cheerful", "not embedded": "x"}


def test_nearest_phrases_first_and_only_above_the_floor() -> None:
    near = teacher_stand_ins(TEACHER, ["crabby", "parcel", "glad", "unknown"], PHRASES, 2, 0.5)
    assert near["crabby"] == ["cranky", "grumpy"]  # cosine 0.99 then 0.77
    assert near["glad"] == ["cheerful"]  # matched case-insensitively; the grumpy row is below the floor
    assert "parcel" not in near  # nothing within the floor: a situation's noun stays unexpanded
    assert "unknown" not in near  # not embedded by the teacher
    assert teacher_stand_ins(TEACHER, ["crabby"], PHRASES, 1, 0.5) == {"crabby": ["cranky"]}
    assert teacher_stand_ins(TEACHER, ["crabby"], PHRASES, 0, 0.5) == {}


def test_a_word_is_never_its_own_stand_in() -> None:
    assert teacher_stand_ins(TEACHER, ["cranky"], PHRASES, 1, 0.5) == {}
    assert teacher_stand_ins(TEACHER, ["cranky"], PHRASES, 2, 0.5) == {"cranky": ["grumpy"]}
    # Nor a form of it: "animate" (an instruction in "please animate a stoic face") is not "animated".
    teacher = _teacher({"animate": [1.0, 0.0], "animated": [0.95, 0.1], "lively": [0.7, 0.5]})
    assert teacher_stand_ins(teacher, ["animate"], {"animated": "animated", "lively": "lively"}, 1, 0.5) == {}
    assert same_word("animated", "animate") and same_word("angrily", "angry") and same_word("Sad", "sad")
    assert not same_word("sobbing", "whimpering") and not same_word("smugness", "smug")


def test_blends_of_two_emotions_stand_in_for_no_word() -> None:
    assert not names_one_emotion("spooked and shocked") and not names_one_emotion("hurt and angry")
    assert names_one_emotion("spooked") and names_one_emotion("candid") and names_one_emotion("sandy")


def test_merge_keeps_the_teachers_first_then_wordnets_up_to_the_limit() -> None:
    merged = merge_stand_ins(
        {"crabby": ["cranky"]}, {"crabby": ["grumpy", "cranky", "cross", "sour"], "fed up": ["disgusted"]}, 2
    )
    assert merged == {"crabby": ["cranky", "grumpy", "cross"], "fed up": ["disgusted"]}
    assert list(merged) == sorted(merged)


def test_the_shipped_recipe_reads() -> None:
    recipe = lexicon_recipe()
    assert recipe.teacher_stand_ins >= 0 and 0.0 <= recipe.teacher_min_similarity < 1.0
