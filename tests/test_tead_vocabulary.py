"""The TEAD vocabulary files: every entry loads and fills, and a malformed entry is refused by name."""

from __future__ import annotations

import re
import shutil

import pytest

from expclip_train.tead.expressions import RECIPES
from expclip_train.tead.vocabulary import DIRECTORY, FRAME_SETS, SETS, VocabularyError, load


def test_every_entry_loads_with_its_grades_and_fills_for_every_subject():
    v = load()
    subjects = (*v.subjects, v.someone)
    assert len(v.subjects) == 6
    for table in (v.words, v.nouns, v.situations):
        assert set(table) == set(SETS)
        for entries in table.values():
            assert set(entries) <= set(RECIPES)
            for items in entries.values():
                assert items
                for e in items:
                    assert e.text.strip() == e.text and 1 <= e.lo <= e.hi <= 5
                    for subject in subjects:
                        assert "{" not in subject.fill(e.text), e.text
    assert set(v.words["v1"]) == set(RECIPES)  # every label has words to be described by
    assert (
        sum(len(es) for table in (v.words, v.nouns) for entries in table.values() for es in entries.values())
        > 1200
    )
    assert all(w.after_verb and w.own_intensity for es in v.words["v2"].values() for w in es if w.ing)
    for frames in (v.adjective_frames, v.noun_frames, v.situation_frames):
        assert set(frames) == set(FRAME_SETS) and all(frames.values())
    assert v.adverbs["v1"]["A"][0] == "barely" and "" in v.noun_modifiers["v1"]["C"]
    assert set(v.situations_v3) <= set(RECIPES) and all(v.situations_v3.values()) and v.clause_frames
    for label, entries in v.situations_v3.items():
        for e in entries:
            assert e.text.strip() == e.text and 1 <= e.lo <= e.hi <= 5 and label in dict(e.emotions)
            for subject in subjects:
                assert "{" not in subject.fill(e.text), e.text
    assert v.physical_pairs and all("+" not in u for u in v.physical)


def _broken(tmp_path, name: str, old: str, new: str):
    """A copy of the vocabulary with one edit in one file."""
    for path in DIRECTORY.glob("*.toml"):
        shutil.copy(path, tmp_path / path.name)
    text = (tmp_path / name).read_text(encoding="utf-8")
    assert text.count(old) >= 1, old
    (tmp_path / name).write_text(text.replace(old, new, 1), encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize(
    ("name", "old", "new", "message"),
    [
        (
            "emotion_words.toml",
            '{ word = "glad", grades = [1, 3] }',
            '{ word = "glad", grades = [0, 3] }',
            "emotion_words.toml: [happiness] v1 entry 2 ('glad'): grades [0, 3]",
        ),
        (
            "emotion_words.toml",
            '{ word = "glad", grades = [1, 3] }',
            '{ word = "glad", grades = [4, 3] }',
            "1 <= lo <= hi <= 5",
        ),
        (
            "emotion_words.toml",
            '{ word = "down", grades = [1, 3], after_verb = true }',
            '{ word = "down", grades = [1, 3], after_verbs = true }',
            "emotion_words.toml: [sadness] v1 entry 3 ('down'): unknown field(s) 'after_verbs'",
        ),
        (
            "emotion_words.toml",
            '{ word = "down", grades = [1, 3], after_verb = true }',
            '{ word = "down", grades = [1, 3], after_verb = "yes" }',
            "after_verb must be true or false",
        ),
        (
            "emotion_nouns.toml",
            "[sadness]",
            "[sadnes]",
            "emotion_nouns.toml: [sadnes]: unknown expression label",
        ),
        (
            "situations.toml",
            "[neutral]\nv1 =",
            "[neutral]\nv3 =",
            "situations.toml: [neutral]: unknown field(s) 'v3'",
        ),
        (
            "situations.toml",
            "just sat down at {pos} desk",
            "just sat down at {her} desk",
            "situations.toml: [neutral] v1 entry 7 ('just sat down at {her} desk'): ",
        ),
        (
            "frames.toml",
            'use = "pred"',
            'use = "predicative"',
            "frames.toml: [adjective] v1 entry 6 ('looking {a}'): use 'predicative'",
        ),
        ("frames.toml", '{ frame = "{np}" }', '{ frame = "{n}" }', "unknown slot"),
        (
            "intensity.toml",
            'A = ["barely"',
            'F = ["barely"',
            "intensity.toml: [adverbs.v1]: unknown field(s) 'F'",
        ),
        ("physical.toml", '[units."1"]', '[units."3"]', "physical.toml: [units.3]: unknown action unit '3'"),
        ("physical.toml", "low = [", "lo = [", "physical.toml: [units.1]: unknown field(s) 'lo'"),
        (
            "physical.toml",
            'low = ["chin slightly raised"]\n',
            "",
            "physical.toml: [units.17]: needs all of low",
        ),
        (
            "physical.toml",
            '[units."17"]\n',
            '[units."17"]\nside = ["x"]\n',
            "[units.17]: unknown field(s) 'side'",
        ),
        ("manner.toml", "happiness = ", "happyness = ", "manner.toml: [happyness]: unknown expression label"),
        (
            "subjects.toml",
            'S = "she"',
            'S = "she", it = "it"',
            "subjects.toml: subjects entry 1: unknown field",
        ),
        (
            "neutral_phrases.toml",
            "v1 = [",
            "v1 = [1, ",
            "neutral_phrases.toml: v1 entry 1: 1 is not a string",
        ),
        ("emotion_words.toml", "[happiness]", "[happiness", "emotion_words.toml: cannot read"),
        (
            "situations_v3.toml",
            '{ situation = "{is} brushing {pos} teeth" }',
            '{ situation = "{is} brushing {pos} teeth", emotions = { neutral = 0.5 } }',
            "situations_v3.toml: [neutral] v3 entry 1 ('{is} brushing {pos} teeth'): emotions: the weights "
            "sum to 0.5, expected 1",
        ),
        (
            "situations_v3.toml",
            '{ situation = "{is} brushing {pos} teeth" }',
            '{ situation = "{is} brushing {pos} teeth", emotions = { neutrl = 1.0 } }',
            "emotions: unknown expression label 'neutrl'",
        ),
        (
            "situations_v3.toml",
            '{ situation = "{is} brushing {pos} teeth" }',
            '{ situation = "{is} brushing {pos} teeth", emotions = { neutral = 0.4, bored = 0.6 } }',
            "emotions: the entry's label 'neutral' must have the largest weight",
        ),
        (
            "situations_v3.toml",
            '{ situation = "{is} brushing {pos} teeth" }',
            '{ situation = "{is} brushing {pos} teeth", emotions = { neutral = "most" } }',
            "emotions: weight of 'neutral' is 'most'",
        ),
        (
            "situations_v3.toml",
            '{ situation = "{is} brushing {pos} teeth" }',
            '{ situation = "{is} brushing {pos} teeth", clause = "x" }',
            "situations_v3.toml: [neutral] v3 entry 1: needs exactly one of 'situation' and 'clause'",
        ),
        (
            "situations_v3.toml",
            '{ clause = "the lift is working again" }',
            '{ clause = "{is} the lift working again" }',
            "unknown slot(s) {is}",
        ),
        (
            "situations_v3.toml",
            '"{vp}", "when {vp}"',
            '"{vp}", "when"',
            "situations_v3.toml: clause_frames entry 2 ('when'): needs one of the slots ['vp']",
        ),
        (
            "situations_v3.toml",
            "[neutral]\nv3 =",
            "[neutral]\nv2 =",
            "situations_v3.toml: [neutral]: unknown field(s) 'v2'",
        ),
    ],
)
def test_a_malformed_entry_is_refused_naming_file_and_entry(tmp_path, name, old, new, message):
    directory = _broken(tmp_path, name, old, new)
    with pytest.raises(VocabularyError, match=re.escape(message)):
        load(directory)


def test_the_shipped_files_load_from_a_copy(tmp_path):
    # Guards the test above: an unbroken copy loads, so each refusal comes from its one edit.
    for path in DIRECTORY.glob("*.toml"):
        shutil.copy(path, tmp_path / path.name)
    assert load(tmp_path) == load()
