"""The unseen-word backoff: WordNet reader, table builder, the shipped table, and the API using it."""

from __future__ import annotations

import gzip
import json

import pytest

from expclip_blender.lexicon import (
    LEXICON_FILE,
    MAX_PROMPT_WORDS,
    Lexicon,
    bundled_lexicon,
    inflection_candidates,
    tokens,
)
from expclip_train.tead.wordnet import WordNet, build_backoff, derivation_backoff, expressions

# A tiny WordNet in the database format: "crabby" is a satellite of a head synset ("ill-natured") with
# a synonym "grumpy"; "glum" is in a noun.artifact-like file we do not keep (lexname 6).
DATA_ADJ = [
    "  1 This software and database is being provided to you, the LICENSEE, by Princeton University",
    "00000100 00 a 01 ill-natured 0 001 & 00000200 a 0000 | having an irritable disposition",
    "00000200 00 s 03 crabby 0 grumpy 0 cross 0 001 & 00000100 a 0000 | annoyed and irritable",
    "00000300 06 a 01 glum 0 000 | not a feeling in this fixture",
    "00000400 00 s 02 snooty 0 stuck-up 0 001 & 00000500 a 0000 | haughty",
    "00000500 00 a 01 proud 0 001 & 00000400 a 0000 | feeling self-respect",
    "00000600 00 a 02 fed_up 0 disgusted 0 000 | having a strong distaste from surfeit",
    "00000700 01 a 01 emotional 0 000 | of or relating to emotion (a pertainym: lexicographer file 1)",
    "00000900 00 a 02 haughty 0 arrogant 0 001 + 00001000 n 0101 | having or showing arrogant superiority",
]
# Lexicographer file 5 is noun.animal: never kept, although its number sits between the kept ones.
DATA_NOUN = [
    "00000800 05 n 02 sea_star 0 starfish 0 000 | an echinoderm",
    # noun.attribute (07), a file the WordNet backoff does not keep: derivations are read from every file.
    # The link is word to word ("0101": haughty, the first word, to haughtiness, the first word).
    "00001000 07 n 02 haughtiness 0 arrogance 0 001 + 00000900 a 0101 | overbearing pride",
]
INDEX_NOUN = [
    "sea_star n 1 0 1 0 00000800",
    "starfish n 1 0 1 0 00000800",
    "haughtiness n 1 1 + 1 0 00001000",
    "arrogance n 1 0 1 0 00001000",
]
INDEX_ADJ = [
    "  1 This software and database is being provided to you",
    "crabby a 1 1 & 1 0 00000200",
    "grumpy a 1 1 & 1 0 00000200",
    "cross a 1 1 & 1 0 00000200",
    "ill-natured a 1 1 & 1 0 00000100",
    "glum a 1 0 1 0 00000300",
    "snooty a 1 1 & 1 0 00000400",
    "stuck-up a 1 1 & 1 0 00000400",
    "proud a 1 1 & 1 0 00000500",
    "fed_up a 1 0 1 0 00000600",
    "disgusted a 1 0 1 0 00000600",
    "emotional a 1 0 1 0 00000700",
    "haughty a 1 1 + 1 0 00000900",
    "arrogant a 1 0 1 0 00000900",
]


@pytest.fixture(scope="module")
def expclip_model():
    import expclip_blender as ex

    return ex.load(device="cpu")


@pytest.fixture()
def wordnet() -> WordNet:
    return WordNet(
        {"data.adj": DATA_ADJ, "index.adj": INDEX_ADJ, "data.noun1": DATA_NOUN, "index.noun": INDEX_NOUN}
    )


def test_reader_parses_synsets_and_sense_index(wordnet: WordNet) -> None:
    crabby = next(wordnet.senses("crabby"))
    assert crabby.words == ("crabby", "grumpy", "cross")
    assert crabby.gloss == "annoyed and irritable"
    assert [s.words for s in wordnet.related(crabby)] == [("ill-natured",)]
    assert list(wordnet.senses("glum")) == []  # lexicographer file not kept
    assert list(wordnet.senses("starfish")) == []  # noun.animal (file 5) is not kept either
    assert list(wordnet.senses("emotional")) == []  # nor adj.pert (file 1): "relating to emotion"
    assert next(wordnet.senses("fed up")).words == ("fed up", "disgusted")
    assert list(wordnet.senses("nonexistent")) == []


def test_backoff_maps_unseen_words_to_known_synonyms_then_related(wordnet: WordNet) -> None:
    table = build_backoff(wordnet, known={"grumpy", "ill-natured", "proud", "happy"})
    assert table["crabby"] == ["grumpy", "ill-natured"]  # synonym first, then the head synset's word
    assert table["snooty"] == ["proud"]  # only through the similar-to link
    assert "grumpy" not in table and "proud" not in table  # known words are never backed off
    assert "glum" not in table  # kept out with its lexicographer file
    assert build_backoff(wordnet, known=set()) == {}  # nothing known: nothing to back off to


def test_backoff_has_multi_word_expressions_unless_trained(wordnet: WordNet) -> None:
    assert expressions(wordnet) == {"fed up"}  # "sea star" is an animal
    assert build_backoff(wordnet, known={"disgusted"})["fed up"] == ["disgusted"]
    assert "fed up" not in build_backoff(wordnet, known={"disgusted"}, known_expressions={"fed up"})


def test_derivations_link_words_not_synsets(wordnet: WordNet) -> None:
    derived = wordnet.derivations()
    assert derived["haughtiness"] == {"haughty"} and derived["haughty"] == {"haughtiness"}
    assert "arrogance" not in derived and "arrogant" not in derived  # the link names its two words only


def test_derivation_backoff_fills_words_without_a_stand_in(wordnet: WordNet) -> None:
    assert derivation_backoff(wordnet, ["haughty", "proud"], known={"haughty"}) == {
        "haughtiness": ["haughty"]
    }
    # A word training knows, or one the table already has, is left as it is; no phrase, no stand-in.
    assert derivation_backoff(wordnet, ["haughty"], known={"haughty", "haughtiness"}) == {}
    assert derivation_backoff(wordnet, ["haughty"], known=set(), skip={"haughtiness"}) == {}
    assert derivation_backoff(wordnet, ["proud"], known=set()) == {}
    assert derivation_backoff(wordnet, ["haughty"], known=set(), count=0) == {}


def test_wordnet_open_reports_missing_files(tmp_path) -> None:
    (tmp_path / "data.adj").write_text("\n".join(DATA_ADJ))
    with pytest.raises(FileNotFoundError, match="WordNet files missing"):
        WordNet.open(tmp_path)
    with pytest.raises(FileNotFoundError, match="not a WordNet dict folder"):
        WordNet.open(tmp_path / "data.adj")


def test_inflection_candidates() -> None:
    assert "sob" in inflection_candidates("sobbing")
    assert "grumpy" in inflection_candidates("grumpier")
    assert "angry" in inflection_candidates("angrily")
    assert "smile" in inflection_candidates("smiled")
    assert inflection_candidates("sad") == ["sad"]
    assert tokens("Feeling CRABBY, wide-eyed!") == ["feeling", "crabby", "wide-eyed"]


def test_expand_appends_known_stand_ins_only_for_unseen_words() -> None:
    lex = Lexicon(
        known={"feeling", "grumpy", "grouchy", "sob", "a", "bit"}, backoff={"crabby": ["grumpy", "grouchy"]}
    )
    assert lex.expand("feeling crabby") == "feeling crabby (grumpy, grouchy)"
    assert lex.expand("a bit crabbier") == "a bit crabbier (grumpy, grouchy)"  # through its base form
    assert lex.expand("a bit flummoxed") == "a bit flummoxed"  # nothing known or backed off
    assert lex.expand("sobbing") == "sobbing (sob)"  # an inflection of a known word
    assert lex.expand("feeling grumpy") == "feeling grumpy"
    assert lex.expand("très en colère") == "très en colère"
    assert lex.expand("") == ""
    long_prompt = " ".join(["crabby"] * (MAX_PROMPT_WORDS + 1))
    assert lex.expand(long_prompt) == long_prompt  # sentences are read as written


def test_multi_word_expressions_are_looked_up_before_their_words() -> None:
    lex = Lexicon(
        known={"fed", "up", "so", "off", "annoyed", "put", "disgusted"},
        backoff={"fed up": ["disgusted"], "ticked off": ["annoyed"], "ticked": ["checked"]},
    )
    assert lex.unseen("so fed up") == [("fed up", ["disgusted"])]  # its words are known, it is not
    assert lex.expand("so Fed  Up!") == "so Fed  Up! (disgusted)"
    assert lex.unseen("ticked off, fed up") == [("ticked off", ["annoyed"]), ("fed up", ["disgusted"])]
    assert lex.unseen("ticked") == [("ticked", ["checked"])]  # alone, the word's own entry
    assert lex.unseen("put up") == []


def test_save_load_round_trip_is_deterministic(tmp_path) -> None:
    lex = Lexicon(known={"b", "a"}, backoff={"z": ["a"], "y": ["b", "a"]})
    lex.save(tmp_path / "one.json.gz", source="test")
    lex.save(tmp_path / "two.json.gz", source="test")
    assert (tmp_path / "one.json.gz").read_bytes() == (tmp_path / "two.json.gz").read_bytes()
    again = Lexicon.load(tmp_path / "one.json.gz")
    assert again.known == {"a", "b"} and again.backoff == {"y": ["b", "a"], "z": ["a"]}


def test_shipped_table_is_consistent() -> None:
    assert LEXICON_FILE.is_file(), "run: python -m expclip_train.data lexicon --wordnet ..."
    assert (LEXICON_FILE.parent / "WORDNET-LICENSE.txt").read_text().startswith("WordNet Release 3.0")
    with gzip.open(LEXICON_FILE, "rt", encoding="utf-8") as f:
        data = json.load(f)
    known = set(data["known"])
    assert len(known) > 10_000 and len(data["backoff"]) > 5_000
    assert not known & data["backoff"].keys()
    # A stand-in is a known word or a trained phrase (the teacher's nearest) made of known words.
    assert all(terms and all(set(tokens(t)) <= known for t in terms) for terms in data["backoff"].values())
    assert "teacher all-mpnet-base-v2" in data["source"]
    lex = bundled_lexicon()
    assert lex is not None and {"grumpy", "grouchy"} & set(lex.terms("crabby"))
    # The teacher's phrase comes first, WordNet's words after it; a blend of two emotions never stands in.
    assert lex.terms("crabby")[0] == "cranky" and len(lex.terms("crabby")) <= 4
    assert not any(" and " in t for terms in data["backoff"].values() for t in terms)
    # Idioms neither WordNet nor the teacher holds take the thesaurus's nearest trained phrase.
    assert "Moby Thesaurus II" in data["source"]
    assert (LEXICON_FILE.parent / "moby-thesaurus-notice.txt").read_text().startswith("Moby Thesaurus II")
    assert lex.unseen("totally ticked off") == [("ticked off", ["incensed"])]
    assert lex.unseen("on cloud nine") == [("on cloud nine", ["overjoyed"])]
    # Words with no other stand-in take the trained phrase WordNet derives them from, before the thesaurus.
    assert "WordNet derivations" in data["source"]
    assert lex.terms("giddiness") == ["giddy"] and lex.terms("disdainfulness") == ["disdainful"]


def test_api_reads_unseen_words_through_known_ones(expclip_model) -> None:
    from expclip_train.evaluation.expclip_report import read_emotions

    assert "grumpy" in expclip_model.with_known_words("feeling crabby")
    assert expclip_model.with_known_words("furious") == "furious"
    face = expclip_model.expression("feeling crabby")
    assert read_emotions(face[None])[0] == "anger"
    # An idiom whose words are each known: read whole (without the lookup: neutral, anger, sadness).
    assert (
        expclip_model.with_known_words("a bit fed up") == "a bit fed up (frustrated, disgusted, displeased)"
    )
    faces = [expclip_model.expression(p) for p in ("a bit fed up", "fed up", "utterly fed up")]
    assert read_emotions(faces) == ["disgust"] * 3
