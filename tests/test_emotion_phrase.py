"""The emotion phrase a prompt is also read by on its own (expclip_blender.emotion_phrase)."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pytest

from expclip_blender.emotion_phrase import (
    GRADE_VARIANTS,
    PHRASE_APART_MAX_WORDS,
    PHRASE_SHARE,
    EmotionPhraseFinder,
)
from expclip_blender.lexicon import LEXICON_FILE, Lexicon, tokens
from expclip_train.tead.annotator import INTENSITY_GROUPS, INTENSITY_WORDS, Annotator


@pytest.fixture(scope="module")
def expclip_model():
    import expclip_blender as ex

    return ex.load(device="cpu")


@pytest.fixture(scope="module")
def finder() -> EmotionPhraseFinder:
    lexicon = Lexicon(
        known={"stoic", "judgy", "furious", "happy", "surprised", "stuck-up", "snob", "face", "rolling"},
        backoff={"snooty": ["stuck-up", "proud", "snob"], "fed up": ["snob", "furious"]},
        phrases=["stoic", "judgy", "furious", "happy", "surprised", "stuck-up", "snob", "rolling {pos} eyes"],
        intensity_groups=[
            ["a tiny bit", "a tiny"],
            ["slightly", "a little"],
            ["extremely", "utterly", "totally"],
        ],
    )
    return EmotionPhraseFinder(lexicon)


@pytest.mark.parametrize(
    ("prompt", "found"),
    [
        ("please animate a stoic face", ["stoic"]),
        ("Honestly, she is a tiny bit judgy", ["a tiny bit judgy"]),  # longest intensity words win
        ("she keeps rolling her eyes at me", ["rolling her eyes"]),  # pronoun slots match any pronoun
        ("furious", ["furious"]),
        ("draw him looking slightly snooty", ["slightly stuck-up", "slightly snob"]),  # trained ones only
        ("utterly  fed up with him", ["utterly snob", "utterly furious"]),  # an unseen expression
        ("happy but a little surprised", []),  # a mixture stays whole
        ("happy and snooty", []),  # a trained phrase and an unseen word: two emotions
        ("not furious at all", []),  # negation changes the meaning
        ("she isn't happy", []),
        ("she just heard the worst news of her life", []),
        ("unfurious", []),  # whole words only
        ("", []),
    ],
)
def test_finds_the_one_emotion_phrase(finder, prompt, found) -> None:
    assert finder.find(prompt) == found


def test_an_empty_lexicon_finds_nothing() -> None:
    assert EmotionPhraseFinder(Lexicon(known=set(), backoff={})).find("furious") == []


def test_phrases_are_the_trained_vocabulary_without_held_out_or_body_words() -> None:
    annotator = Annotator(wide=True)
    phrases = set(annotator.emotion_phrases())
    held = {e.text for table in (annotator.words, annotator.nouns) for es in table.values() for e in es
            if e.heldout}  # fmt: skip
    assert len(phrases) > 1000 and not phrases & held
    assert "furious" in phrases and "down" not in phrases  # "mouth corners pulled down" is not sadness
    with gzip.open(LEXICON_FILE, "rt", encoding="utf-8") as f:
        data = json.load(f)
    # Trained: the heads' training texts (the table's known words) hold every word of the phrase.
    known = set(data["known"])
    trained = sorted(p for p in phrases if set(tokens(annotator.display(p))) <= known)
    assert len(trained) > 1000 and "furious" in trained
    assert data["phrases"] == trained, "rebuild: python -m expclip_train.data lexicon --wordnet ..."
    assert data["intensity_groups"] == [list(g) for g in INTENSITY_GROUPS]
    assert Lexicon.load().intensity_words == tuple(sorted(INTENSITY_WORDS))


def test_a_phrase_is_also_read_with_other_intensity_words_of_its_grade(finder) -> None:
    assert finder.grade_variants("utterly furious") == ["extremely furious", "totally furious"]
    assert finder.grade_variants("a tiny bit judgy") == ["a tiny judgy"]
    assert finder.grade_variants("furious") == []
    # The prompt itself is read whole; its variants are read apart.
    assert finder.read_apart("utterly furious") == ["extremely furious", "totally furious"]
    assert finder.read_apart("utterly furious", variants=False) == []
    assert finder.read_apart("she is slightly happy") == ["slightly happy", "a little happy"]
    assert finder.read_apart("happy but a little surprised") == []  # no single phrase: no variants
    assert finder.read_apart("furious") == []
    groups = [["slightly", "a little", "a bit"], ["a little", "a touch of"]]
    two_groups = Lexicon(set(), {}, ["anger"], groups)
    assert EmotionPhraseFinder(two_groups).grade_variants("a little anger") == []  # not "slightly anger"
    assert EmotionPhraseFinder(two_groups).grade_variants("a touch of anger") == ["a little anger"]


def test_every_intensity_group_is_one_grade_with_variants_to_read() -> None:
    from expclip_train.tead.annotator import _ALL_ADVERBS, _ALL_NOUN_MODIFIERS

    grades = {w: g for d in (_ALL_ADVERBS, _ALL_NOUN_MODIFIERS) for g, ws in d.items() for w in ws if w}
    for group in INTENSITY_GROUPS:
        assert len(group) > GRADE_VARIANTS and len({grades[w] for w in group}) == 1, group


def test_api_blends_the_phrase_into_the_prompt(expclip_model) -> None:
    m = expclip_model
    prompt = "please animate a stoic face"
    assert m.phrase_finder.find(prompt) == ["stoic"]
    whole = m.heads.project_text(m.text_encoder.encode([prompt]))[0]
    alone = m.heads.project_text(m.phrase_embeddings["stoic"][None])[0]  # shipped: not encoded again
    expected = (1 - PHRASE_SHARE) * whole + PHRASE_SHARE * alone
    np.testing.assert_allclose(m.embed_text(prompt)[0], expected / np.linalg.norm(expected), atol=1e-5)
    # Same styles whether the phrase style was kept from an earlier call or not, alone or in a batch.
    m._phrase_styles.clear()
    batch = m.embed_text([prompt, "furious", "honestly, they are a tiny bit judgy"])
    np.testing.assert_allclose(batch[0], m.embed_text(prompt)[0], atol=1e-5)
    np.testing.assert_allclose(batch[1], m.embed_text("furious")[0], atol=1e-6)
    # A prompt that is its own phrase, or has none, is read as before.
    for text in ("furious", "she just heard the worst news of her life", "not angry"):
        plain = m.heads.project_text(m.text_encoder.encode([m.with_known_words(text)]))[0]
        np.testing.assert_allclose(m.embed_text(text)[0], plain, atol=1e-6)


def test_api_reads_sentences_whole(expclip_model) -> None:
    m = expclip_model
    short = "honestly, they are a tiny bit judgy"
    long = "honestly, after the meeting this morning they are a tiny bit judgy"
    assert len(short.split()) <= PHRASE_APART_MAX_WORDS < len(long.split())
    assert m.phrase_finder.find(long) == m.phrase_finder.find(short) == ["a tiny bit judgy"]
    plain = m.heads.project_text(m.text_encoder.encode([m.with_known_words(long)]))[0]
    np.testing.assert_allclose(m.embed_text(long)[0], plain, atol=1e-6)
    assert not np.allclose(
        m.embed_text(short)[0], m.heads.project_text(m.text_encoder.encode([short]))[0], atol=1e-3
    )


def test_api_reads_a_phrase_with_its_grade_variants(expclip_model) -> None:
    m = expclip_model
    prompt = "absolutely livid"
    variants = m.phrase_finder.read_apart(prompt)
    assert variants == ["extremely livid", "utterly livid"][:GRADE_VARIANTS]
    styles = m.heads.project_text(m.text_encoder.encode([prompt, *variants]))
    alone = styles[1:].mean(axis=0)
    alone /= np.linalg.norm(alone)
    expected = (1 - PHRASE_SHARE) * styles[0] + PHRASE_SHARE * alone
    np.testing.assert_allclose(m.embed_text(prompt)[0], expected / np.linalg.norm(expected), atol=1e-5)


def test_shipped_phrase_embeddings_are_the_encoders_own() -> None:
    from expclip_blender.emotion_phrase import PHRASE_EMBEDDINGS_FILE, load_phrase_embeddings
    from expclip_blender.expclip import load_heads
    from expclip_blender.model_folder import EXPCLIP_FILE, MODELS_DIR, TEXT_ENCODER_FILE
    from expclip_blender.text_encoder import load_text_encoder

    assert PHRASE_EMBEDDINGS_FILE.is_file(), "rebuild: python -m expclip_train.data lexicon --wordnet ..."
    # The encoder the shipped heads were trained with (fine-tuned layers and all) wrote them.
    encoder = load_text_encoder(
        load_heads(MODELS_DIR / EXPCLIP_FILE).metadata, MODELS_DIR / TEXT_ENCODER_FILE
    )
    stored = load_phrase_embeddings(identity=encoder.identity)
    assert stored, "the phrases were encoded by another text encoder: rebuild the lexicon"
    phrases = Lexicon.load().phrases
    assert sorted(stored) == sorted({p.lower() for p in phrases if "{" not in p})
    sample = ["furious", "stoic", "a bit judgy", "on the verge of tears", "smug"]
    sample = [p for p in sample if p in stored]
    assert len(sample) >= 3
    live = encoder.encode(sample)
    for phrase, row in zip(sample, live, strict=True):
        # float16 storage: well under the differences between phrases (cosine of neighbours < 0.99)
        np.testing.assert_allclose(stored[phrase], row, atol=2e-3)
        assert float(stored[phrase] @ row) > 0.9999


def test_a_first_time_phrase_with_a_stored_embedding_costs_no_second_encoding(expclip_model) -> None:
    m = expclip_model
    m._phrase_styles.clear()
    calls: list[list[str]] = []
    encode = m.text_encoder.encode
    m.text_encoder.encode = lambda texts, **kw: calls.append(list(texts)) or encode(texts, **kw)
    try:
        m.embed_text("smug half smile")  # "smug" is stored: one text encoded
        m.embed_text("she is slightly smug")  # "slightly smug" and its variants are not: one batch
        m.embed_text("they look slightly smug")  # kept from the call before: only the prompt
    finally:
        del m.text_encoder.encode
    assert calls == [
        ["smug half smile"],
        ["she is slightly smug", "a bit smug", "a little smug", "slightly smug"],
        ["they look slightly smug"],
    ]


@pytest.mark.parametrize(
    ("prompt", "emotion"),
    [("please animate a stoic face", "neutral"), ("honestly, they are really disdainful", "contempt")],
)
def test_framed_trained_words_read_right(expclip_model, prompt, emotion) -> None:
    from expclip_blender.facs import read_emotion

    assert read_emotion(expclip_model.expression(prompt)) == emotion
