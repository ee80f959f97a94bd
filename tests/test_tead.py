"""TEAD, the text-expression alignment dataset: size, coverage, splits, annotator honesty, determinism."""

from __future__ import annotations

import hashlib
import itertools
import json
import random
import re

import numpy as np
import pytest

from expclip_blender.facs import AU_READ_INDEX, BILATERAL_READ_AUS, COMPOUNDS, GRADES, arkit_to_au_array
from expclip_train import data as data_cli
from expclip_train.tead import build_tead, load_tead
from expclip_train.tead.annotator import ACTIVE_THRESHOLD, DIMINISHERS, MAXIMISERS, Annotator
from expclip_train.tead.build import (
    DEFAULT_GOEMOTIONS_DIR,
    PhraseFinder,
    Tead,
    heldout_finder,
    normalize_text,
)
from expclip_train.tead.expressions import BLEND_COMPONENTS, CATEGORIES, RECIPES, ExpressionConfig
from expclip_train.tead.goemotions import is_goemotions_dir, load_goemotions, single_emotion
from expclip_train.tead.vocabulary import load as load_vocabulary

VOCAB = load_vocabulary()
SMALL = ExpressionConfig(individuals=6, per_grade=1, mirrored_per_grade=1, neutral=4, blends_per_pair=1)
ASKED_FOR = (  # states animators ask for (awe is the compound "awed", shy is "embarrassed")
    "calm", "bored", "tired", "sleepy", "skeptical", "smug", "confused", "concentrating", "in pain",
    "embarrassed", "flirtatious", "determined", "worried", "disappointed", "pouting", "laughing", "crying",
    "shouting", "awed", "relieved",
)  # fmt: skip


@pytest.fixture(scope="module")
def tead() -> Tead:
    """The full dataset, without GoEmotions (it must reach its size on its own)."""
    return build_tead(seed=0, goemotions_dir=None)


def _pattern(words) -> re.Pattern:
    return re.compile(r"\b(" + "|".join(re.escape(w) for w in words) + r")\b")


def test_size_shapes_and_values(tead):
    assert len(tead.pairs) >= 50_000
    e = tead.expressions
    assert e.dtype == np.float32 and e.shape == (len(tead.meta), 52)
    assert float(e.min()) >= 0.0 and float(e.max()) <= 1.0
    assert all(m.index == i for i, m in enumerate(tead.meta))
    assert all(0 <= p.expr < len(e) for p in tead.pairs)
    assert tead.info["goemotions"] == {"used": False}
    # Every face is described, several ways.
    per_face = np.bincount([p.expr for p in tead.pairs], minlength=len(e))
    assert per_face.min() >= 4


def test_every_category_label_grade_and_kind(tead):
    assert {m.category for m in tead.meta} == set(CATEGORIES)
    labels = {m.label for m in tead.meta}
    assert set(RECIPES) <= labels
    assert set(COMPOUNDS) <= labels and set(ASKED_FOR) <= labels
    for label in RECIPES:
        if label != "neutral":
            assert {m.grade for m in tead.meta if m.label == label} == set(GRADES), label
    assert {p.kind for p in tead.pairs} == {"emotion_word", "physical", "situation", "mixture"}
    # Not one template per word: faces of one label and grade differ (individuals, variation).
    angry_c = tead.expressions[[m.index for m in tead.meta if m.label == "anger" and m.grade == "C"]]
    assert len(angry_c) >= 10 and np.unique(angry_c.round(4), axis=0).shape[0] == len(angry_c)
    # One-sided expressions come in both orientations.
    assert any(m.mirrored for m in tead.meta if m.label == "contempt")
    assert any(not m.mirrored for m in tead.meta if m.label == "contempt")


def test_heldout_texts_never_in_train(tead):
    train = {normalize_text(t) for t in tead.train_pairs()[1]}
    idx, held = tead.heldout_pairs()
    assert len(held) == len(idx) > 0
    assert not any(normalize_text(t) in train for t in held)
    share = len(held) / len(tead.pairs)
    assert 0.05 <= share <= 0.2, share
    assert {p.kind for p in tead.pairs if p.split == "heldout"} == {
        "emotion_word",
        "physical",
        "situation",
        "mixture",
    }
    # Whole synonyms are held out: a held-out word of a label never shows in that label's training texts.
    held_words = {
        k.split(": ", 1)[1]: ws for k, ws in tead.info["heldout_vocabulary"].items() if k.startswith("words:")
    }
    assert len(held_words) > 20
    for label, words in held_words.items():
        train_texts = " | ".join(
            p.text
            for p in tead.pairs
            if p.split == "train" and p.kind == "emotion_word" and tead.meta[p.expr].label == label
        )
        for word in words:
            assert not re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", train_texts), (label, word)


def test_no_heldout_vocabulary_in_any_training_text(tead):
    """Strict: a held-out word, noun, situation or phrase never reaches training, in any template and
    through any label's list ("sick" held out for nauseous never trains inside "sick to the stomach")."""
    finder = heldout_finder(Annotator(wide=True).heldout_vocabulary())
    train = [p.text for p in tead.pairs if p.split == "train"]
    assert not [t for t in train if finder.search(t)][:5]
    held = [p for p in tead.pairs if p.split == "heldout" and p.kind in ("emotion_word", "situation")]
    assert sum(bool(finder.search(p.text)) for p in held) >= 0.95 * len(held)
    assert tead.info["train_moved_to_heldout"] < 0.01 * len(train)


def test_phrase_finder_matches_whole_words_and_every_subject():
    finder = PhraseFinder(["shy", "put off", "wide-eyed"])
    assert finder.search("A SHY smile") == "shy" and finder.search("she is put off.") == "put off"
    assert finder.search("shy-looking") is None and finder.search("shyly") is None
    assert finder.search("wide-eyed-ish") is None and finder.search("very wide-eyed") == "wide-eyed"
    held = heldout_finder({"situations: x": ["found a hair in {pos} soup", "{is} watching paint dry"]})
    assert held.search("when they found a hair in their soup") and held.search("I am watching paint dry")
    assert held.search("found a hair in the soup") is None


def test_phrase_finder_finds_the_same_phrase_whatever_the_order():
    # Training weights depend on it (word_balance_weights): a set's order changes with the hash seed.
    phrases = ["scared", "scared stiff", "scared silly"]
    for order in (phrases, phrases[::-1]):
        assert PhraseFinder(order).search("mood: scared stiff") == "scared stiff"
        assert PhraseFinder(order).search("so scared") == "scared"


def test_second_pass_keeps_the_first_and_widens_it():
    """The v1 pass is untouched (its texts and held-out vocabulary are all still there); the wide pass
    adds emotion words and situations per face, in more words than v1 had."""
    t = build_tead(seed=3, goemotions_dir=None, config=SMALL)
    v1, rng = Annotator(), random.Random("tead-annotator-3")
    au = arkit_to_au_array(t.expressions)
    by_face: dict[int, set[str]] = {}
    for p in t.pairs:
        by_face.setdefault(p.expr, set()).add(p.text)
    n_first = 0
    for i, m in enumerate(t.meta):
        first = {d.text for d in v1.describe(t.expressions[i], m, rng, au=au[i])}
        assert first <= by_face[i], m.label
        n_first += len(first)
    assert sum(map(len, by_face.values())) > 1.4 * n_first
    vocab_v1, vocab_v2 = v1.heldout_vocabulary(), Annotator(wide=True).heldout_vocabulary()
    for key, items in vocab_v1.items():
        assert set(items) <= set(vocab_v2[key]), key
    words = {w for p in t.pairs if p.kind == "emotion_word" for w in p.text.lower().split()}
    assert {"snotty", "apoplectic", "woebegone", "flabbergasted"} & words


def test_v2_vocabulary_is_new_and_clear_of_v1_heldout_words():
    """The wider vocabulary repeats no v1 entry and shares no word stem with a v1 held-out word (no
    "snootily" next to a held-out "snooty"), so the v1 held-out words stay as unseen as they were."""
    v1_text = {e.text for table in (VOCAB.words, VOCAB.nouns) for es in table["v1"].values() for e in es}
    held = Annotator().heldout_vocabulary()
    held_words = [w for k, ws in held.items() if k.startswith(("words:", "nouns:")) for w in ws]
    stems = [w[:5] for w in held_words if " " not in w]
    phrases = [w for w in held_words if " " in w]
    for label, entries in (*VOCAB.words["v2"].items(), *VOCAB.nouns["v2"].items()):
        for entry in entries:
            assert entry.text not in v1_text, (label, entry.text)
            tokens = re.split(r"[ -]", entry.text)
            assert not any(tok.startswith(stem) for tok in tokens for stem in stems), entry.text
            assert not PhraseFinder(phrases).search(entry.text), entry.text
    v2_situations = [s.text for v in VOCAB.situations["v2"].values() for s in v]
    assert len(set(v2_situations)) == len(v2_situations)
    v1_situations = {s.text for v in VOCAB.situations["v1"].values() for s in v}
    assert not set(v2_situations) & v1_situations


def test_intensity_words_agree_with_grades(tead):
    dim, top = _pattern(DIMINISHERS), _pattern(MAXIMISERS)
    seen_dim = seen_top = 0
    for p in tead.pairs:
        if p.kind != "emotion_word":
            continue
        grade = tead.meta[p.expr].grade
        if dim.search(p.text):
            assert grade in ("A", "B"), (p.text, grade)
            seen_dim += 1
        if top.search(p.text):
            assert grade == "E", (p.text, grade)
            seen_top += 1
    assert seen_dim > 1000 and seen_top > 1000
    texts = [p.text for p in tead.pairs if p.kind == "emotion_word"]
    assert any("absolutely" in t for t in texts) and any("slightly" in t for t in texts)
    assert any("livid" in t for t in texts)


def test_physical_descriptions_mention_only_active_units(tead):
    au = arkit_to_au_array(tead.expressions)
    phys = [p for p in tead.pairs if p.kind == "physical"]
    assert len(phys) > 5000
    smile = re.compile(r"smil|grin")
    for p in phys:
        a = au[p.expr]
        for code in p.aus:  # "4": both sides (their mean) is on; "L2": the left side is on
            assert code.lstrip("LR") in BILATERAL_READ_AUS or code[0] not in "LR"
            assert a[AU_READ_INDEX[code]] >= ACTIVE_THRESHOLD, (p.text, code)
        if not p.aus:  # "a relaxed face": nothing may be on
            expressive = [
                AU_READ_INDEX[c] for c in ("1", "2", "4", "5", "6", "7", "9", "10", "12", "15", "26")
            ]
            assert a[expressive].max() < ACTIVE_THRESHOLD, p.text
        if smile.search(p.text):
            assert {"12", "L12", "R12"} & set(p.aus), p.text
        if "brow" in p.text and p.aus:
            assert {"1", "2", "4", "L2", "R2", "L4", "R4"} & set(p.aus), p.text
        if "nose" in p.text:
            assert {"9", "L9", "R9"} & set(p.aus), p.text


def test_mixtures_for_compounds_and_blends(tead):
    mix_labels = {tead.meta[p.expr].label for p in tead.pairs if p.kind == "mixture"}
    assert set(COMPOUNDS) <= mix_labels
    blends = [p for p in tead.pairs if p.kind == "mixture" and tead.meta[p.expr].category == "blend"]
    assert len(blends) > 1000
    assert {tead.meta[p.expr].components[0] for p in blends} == set(BLEND_COMPONENTS)
    dim = _pattern(DIMINISHERS)
    # "happy but a little surprised": a main emotion with a weak second one.
    assert any(" but " in p.text and dim.search(p.text) for p in blends)
    assert any(re.search(r"\b(happily|joyfully|pleasantly) surprised\b", p.text) for p in tead.pairs)


def test_situations_and_emotion_words_fit_their_label(tead):
    sad_e = [p.text for p in tead.pairs if p.kind == "emotion_word" and tead.meta[p.expr].label == "sadness"]
    assert any("devastated" in t for t in sad_e)
    assert not any(re.search(r"\b(happy|furious|disgusted)\b", t) for t in sad_e)
    sit = [p.text for p in tead.pairs if p.kind == "situation"]
    assert not any("{" in t or "}" in t for t in sit)
    assert any("worst news of" in t for t in sit)


def test_helpers(tead):
    idx, texts = tead.train_pairs()
    assert idx.dtype == np.int64 and len(idx) == len(texts) == sum(p.split == "train" for p in tead.pairs)
    idx, texts = tead.train_pairs(kinds=["physical"])
    assert len(texts) == sum(p.split == "train" and p.kind == "physical" for p in tead.pairs)
    assert len(tead.goemotions_dev()[0]) == 0
    assert len(tead.emotions) == len(tead.meta)


# SHA-256 of the seed-0 build without GoEmotions (pairs.jsonl, meta.jsonl, info.json less its build time).
# Any change to the vocabulary files, the annotator or the build that changes the dataset changes these.
REFERENCE_SHA256 = {
    "pairs.jsonl": "348ae5fcceaa9ee8460594a0332914c698c2bd7371f3959d0a26e3e5ba4c878d",
    "meta.jsonl": "5cc716028692fef28c5b7d544aafcd24b03c7b40605843e79306aff4b007d474",
    "info.json": "dd5cc2620b5e48cf115d6b8e715ce58672bef010d7c216212cd6b2af69a8e31f",
}
# What the soft-target pairs (third pass, GoEmotions rows of several classes) must leave exactly as it was,
# as digests of the seed-0 build they were appended to: the faces (expressions.npy, byte for byte: the
# speech generator is conditioned on them), both held-out splits and the GoEmotions dev split (so that
# figures stay comparable), and every earlier pair (the first lines of pairs.jsonl).
FACES_SHA256 = "35015246006a3a608cd816b555f1d7bb71131055b1dc9219d6a41118945a5bb2"
SPLIT_SHA256 = {
    "heldout": "a728337e38f27bf9979d583ce520b6302aa8d5ac4f78d842c5602fb73b80d853",
    "heldout_phrasing": "210b1bc1ce66c5dcc8dbb8862ebef7579e22b283e30f59e3f988ed290c4a2834",
}
GOEMOTIONS_DEV_SHA256 = "d8a28f6c72b0a39e161b87a03226a2ce67eb7e58bbe023d786e3bc63282b1dfe"
# (lines, SHA-256 of those lines of pairs.jsonl): without GoEmotions, and with it.
EARLIER_PAIRS = (102516, "9e3234f76e79b68c447c959b03a47fa6f2bcbb8f9f0c3fb5fad04887b4de4884")
EARLIER_PAIRS_GOEMOTIONS = (146506, "bf143842ae42d70a82251bcc2f2238ac6d54b965ee349c2fd6da416a2478b3f9")


def split_sha256(tead: Tead, split: str) -> str:
    """SHA-256 of a split's pairs, one sorted-key JSON line each, in dataset order."""
    lines = (
        json.dumps(p.to_json(), ensure_ascii=False, sort_keys=True) + "\n"
        for p in tead.pairs
        if p.split == split
    )
    return hashlib.sha256("".join(lines).encode()).hexdigest()


def _earlier_pairs_sha256(directory, lines: int) -> str:
    return hashlib.sha256(
        b"".join((directory / "pairs.jsonl").read_bytes().splitlines(True)[:lines])
    ).hexdigest()


def test_faces_heldout_splits_and_earlier_pairs_stay_as_they_were(tead, tmp_path):
    out = tead.save(tmp_path / "tead")
    assert hashlib.sha256((out / "expressions.npy").read_bytes()).hexdigest() == FACES_SHA256
    assert {s: split_sha256(tead, s) for s in SPLIT_SHA256} == SPLIT_SHA256
    assert _earlier_pairs_sha256(out, EARLIER_PAIRS[0]) == EARLIER_PAIRS[1]
    assert all(p.split == "train" and p.weight <= 1 for p in tead.pairs[EARLIER_PAIRS[0] :])


def test_seed_0_builds_the_reference_dataset(tead, tmp_path):
    out = tead.save(tmp_path / "tead")
    info = {k: v for k, v in tead.info.items() if k != "build_seconds"}
    found = {
        "pairs.jsonl": hashlib.sha256((out / "pairs.jsonl").read_bytes()).hexdigest(),
        "meta.jsonl": hashlib.sha256((out / "meta.jsonl").read_bytes()).hexdigest(),
        "info.json": hashlib.sha256(json.dumps(info, indent=2, sort_keys=True).encode()).hexdigest(),
    }
    assert found == REFERENCE_SHA256


def test_deterministic_from_seed():
    a = build_tead(seed=5, goemotions_dir=None, config=SMALL)
    b = build_tead(seed=5, goemotions_dir=None, config=SMALL)
    c = build_tead(seed=6, goemotions_dir=None, config=SMALL)
    np.testing.assert_array_equal(a.expressions, b.expressions)
    assert a.pairs == b.pairs
    assert [m.to_json() for m in a.meta] == [m.to_json() for m in b.meta]
    assert a.expressions.shape == c.expressions.shape
    assert not np.array_equal(a.expressions, c.expressions)
    assert [p.text for p in a.pairs] != [p.text for p in c.pairs]
    # The held-out vocabulary does not depend on the seed.
    assert a.info["heldout_vocabulary"] == c.info["heldout_vocabulary"]


def test_save_and_load(tmp_path):
    small = build_tead(seed=1, goemotions_dir=None, config=SMALL)
    out = small.save(tmp_path / "tead")
    for name in ("expressions.npy", "meta.jsonl", "pairs.jsonl", "datasheet.md", "info.json"):
        assert (out / name).is_file(), name
    loaded = load_tead(out)
    np.testing.assert_array_equal(loaded.expressions, small.expressions)
    assert loaded.pairs == small.pairs
    assert [m.to_json() for m in loaded.meta] == [m.to_json() for m in small.meta]
    sheet = (out / "datasheet.md").read_text(encoding="utf-8")
    assert "## Expressions" in sheet and "## Pairs" in sheet and "## Held-out split" in sheet
    assert "Held-out texts that also occur in train: **0**" in sheet
    first = json.loads((out / "pairs.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert set(first) >= {"expr", "text", "kind", "split"}


def test_command_line(tmp_path, monkeypatch, capsys):
    real = build_tead
    monkeypatch.setattr(data_cli, "build_tead", lambda **kw: real(**kw, config=SMALL))
    assert data_cli.main(["tead", "--out", str(tmp_path / "d"), "--seed", "2", "--no-goemotions"]) == 0
    out = capsys.readouterr().out
    assert "pairs" in out and "wrote" in out and "--no-goemotions" in out
    assert load_tead(tmp_path / "d").info["seed"] == 2


def test_vocabulary_intensity_words_sit_at_their_grades():
    """A word that itself contains "slightly" or "completely" must only be used at A/B or E."""
    dim, top = _pattern(DIMINISHERS), _pattern(MAXIMISERS)
    ann = Annotator(wide=True)
    for table in (ann.words, ann.nouns):
        for label, entries in table.items():
            for e in entries:
                if dim.search(e.text):
                    assert e.hi <= 2, (label, e.text)
                if top.search(e.text):
                    assert e.lo == 5, (label, e.text)


def test_annotator_heldout_choice_spares_head_words():
    vocab = Annotator().heldout_vocabulary()
    held = {w for k, ws in vocab.items() if k.startswith("words:") for w in ws}
    for head in ("happy", "sad", "angry", "embarrassed", "tired", "pouting", "neutral"):
        assert head not in held


def test_goemotions_label_mapping():
    ekman = {"joy": "joy", "amusement": "joy", "anger": "anger", "annoyance": "anger", "fear": "fear"}
    assert single_emotion(("joy", "amusement"), ekman) == "happiness"
    assert single_emotion(("anger", "annoyance"), ekman) == "anger"
    assert single_emotion(("joy", "anger"), ekman) is None
    assert single_emotion(("neutral",), ekman) == "neutral"
    assert single_emotion(("neutral", "joy"), ekman) is None


@pytest.mark.skipif(
    not is_goemotions_dir(DEFAULT_GOEMOTIONS_DIR), reason=f"GoEmotions not found at {DEFAULT_GOEMOTIONS_DIR}"
)
def test_with_goemotions():
    t = build_tead(seed=0, goemotions_dir=DEFAULT_GOEMOTIONS_DIR, config=SMALL)
    go = [p for p in t.pairs if p.kind == "goemotions"]
    assert t.info["goemotions"]["used"] and len(go) > 30_000
    assert {p.split for p in go} == {"train", "goemotions_dev"}
    for p in go:  # each sentence is paired with a face of its own emotion
        assert t.meta[p.expr].emotion == p.emotion and t.meta[p.expr].category in ("prototype", "neutral")
    _idx, texts, emotions = t.goemotions_dev()
    assert len(texts) > 4000 and set(emotions) <= {"neutral", "happiness", "sadness", "surprise", "fear",
                                                    "anger", "disgust"}  # fmt: skip
    dev = {normalize_text(x) for x in texts}
    assert not any(normalize_text(p.text) in dev for p in go if p.split == "train")
    # Known rows: "WHY THE FUCK IS BAYLESS ISOING" is labelled anger (2); a neutral-only comment.
    by_text = {p.text: p for p in go}
    assert by_text["WHY THE FUCK IS BAYLESS ISOING"].emotion == "anger"
    assert by_text["WHY THE FUCK IS BAYLESS ISOING"].split == "train"
    raw = load_goemotions(DEFAULT_GOEMOTIONS_DIR, "dev")
    single = [s for s in raw if s.emotion is not None]
    assert len(texts) == len(single)
    assert all(by_text[s.text].emotion == s.emotion for s in single[:200] if s.text in by_text)
    # Held-out texts still never occur in train, GoEmotions included; nor do held-out words.
    train = {normalize_text(p.text) for p in t.pairs if p.split == "train"}
    assert not any(normalize_text(p.text) in train for p in t.pairs if p.split == "heldout")
    finder = heldout_finder(Annotator(wide=True).heldout_vocabulary())
    assert not any(finder.search(p.text) for p in go if p.split == "train")
    assert t.info["goemotions"]["dropped"]["train: uses held-out vocabulary"] > 50
    # Training sentences of several classes: soft targets, one face per class, the shares summing to 1.
    soft = [p for p in go if p.weight != 1.0]
    assert len(soft) > 5000 and {p.split for p in soft} == {"train"}
    rows = [sum(p.weight for p in group) for _, group in itertools.groupby(soft, key=lambda p: p.text)]
    assert all(abs(total - 1.0) < 1e-9 for total in rows)  # a sentence's pairs lie together
    assert not any(normalize_text(p.text) in dev for p in soft)
    several = t.info["goemotions"]["several_classes"]
    assert several["kept"] == len(rows) > 3000 and several["pairs"] == len(soft)
    row = next(p for p in soft if p.text == "Ok, then what the actual fuck is your plan?")
    assert row.weight == 0.5 and {p.emotion for p in soft if p.text == row.text} == {"anger", "surprise"}


@pytest.mark.skipif(
    not is_goemotions_dir(DEFAULT_GOEMOTIONS_DIR), reason=f"GoEmotions not found at {DEFAULT_GOEMOTIONS_DIR}"
)
def test_with_goemotions_the_splits_and_earlier_pairs_stay_as_they_were(tmp_path):
    t = build_tead(seed=0, goemotions_dir=DEFAULT_GOEMOTIONS_DIR)
    out = t.save(tmp_path / "tead")
    assert hashlib.sha256((out / "expressions.npy").read_bytes()).hexdigest() == FACES_SHA256
    assert {s: split_sha256(t, s) for s in SPLIT_SHA256} == SPLIT_SHA256
    assert split_sha256(t, "goemotions_dev") == GOEMOTIONS_DEV_SHA256
    assert _earlier_pairs_sha256(out, EARLIER_PAIRS_GOEMOTIONS[0]) == EARLIER_PAIRS_GOEMOTIONS[1]
