"""TEAD's third pass: the situations of situations_v3.toml are new (no near-copy of a held-out or existing
situation), weighted soundly, and written into soft-target training pairs that leave the rest of TEAD as it
was."""

from __future__ import annotations

import json
import random
import re
from collections import defaultdict

import pytest

from expclip_train.tead import build_tead, load_tead
from expclip_train.tead.annotator import Annotator
from expclip_train.tead.build import Pair, heldout_finder, normalize_text
from expclip_train.tead.expressions import RECIPES, ExpressionConfig, generate_expressions
from expclip_train.tead.situations_v3 import TEXTS_PER_SITUATION, describe_situation, third_pass
from expclip_train.tead.vocabulary import load

VOCAB = load()
V3 = [(label, e) for label, entries in VOCAB.situations_v3.items() for e in entries]
SMALL = ExpressionConfig(individuals=6, per_grade=1, mirrored_per_grade=1, neutral=4, blends_per_pair=1)
# Words that say nothing about what happened: compared content words leave them out.
_STOP = (
    "a an the and or but of to in on at by for with from into onto off up down out over under about after "
    "before as is am are was were be been being has have had do does did just then than that this these "
    "those it its their them they he him his she her i me my you your we our us who whom which what when "
    "where while all any some no not nobody someone something anyone everyone every each one own same so "
    "too very again still only ever never more most much many"
)
STOP_WORDS = frozenset(_STOP.split())
NEAR_COPY = 0.5  # Jaccard overlap of content words at which two situations count as the same one


def content_words(text: str) -> set[str]:
    """The content words of a situation, slots and stop words left out, crudely stemmed ("parked",
    "parking" -> "park")."""
    out = set()
    for w in re.findall(r"[a-z]+(?:'[a-z]+)?", re.sub(r"\{\w+\}", " ", text.lower())):
        w = w.removesuffix("'s")
        if w in STOP_WORDS:
            continue
        for suffix in ("ing", "ed", "es", "s"):
            if len(w) > 4 and w.endswith(suffix):
                w = w[: -len(suffix)]
                break
        out.add(w)
    return out


def jaccard(a: str, b: str) -> float:
    wa, wb = content_words(a), content_words(b)
    return len(wa & wb) / max(1, len(wa | wb))


def test_content_word_overlap():
    assert content_words("{is} waiting for the microwave") == {"wait", "microwave"}
    assert (
        jaccard("found someone parked across {pos} driveway", "found {pos} car parked in the driveway") >= 0.5
    )
    assert jaccard("lost {pos} keys again", "found a hair in {pos} soup") == 0


def test_no_v3_situation_near_copies_a_heldout_or_existing_one():
    """No third-pass situation shares half its content words with a held-out situation of the strict
    split, with any v1/v2 situation (the second split puts those in unseen frames) or with another
    third-pass one."""
    held = [e.text for es in Annotator(wide=True).situations.values() for e in es if e.heldout]
    assert len(held) > 40
    existing = [s.text for st in ("v1", "v2") for es in VOCAB.situations[st].values() for s in es]
    new = [e.text for _, e in V3]
    assert len(set(new)) == len(new)
    near = [(n, h) for n in new for h in held if jaccard(n, h) >= NEAR_COPY]
    assert not near, near[:5]
    near = [(n, o) for n in new for o in existing if jaccard(n, o) >= NEAR_COPY]
    assert not near, near[:5]
    near = [(a, b) for i, a in enumerate(new) for b in new[i + 1 :] if jaccard(a, b) >= NEAR_COPY]
    assert not near, near[:5]


def test_no_v3_situation_uses_heldout_vocabulary():
    """No held-out word, noun, situation or phrase, in any subject's form ("sick", "shock", "positive")."""
    finder = heldout_finder(Annotator(wide=True).heldout_vocabulary())
    found = [
        (e.text, hit)
        for _, e in V3
        for s in (*VOCAB.subjects, VOCAB.someone)
        if (hit := finder.search(s.fill(e.text)))
    ]
    assert not found, found[:5]


def test_v3_vocabulary_is_wide_and_weighted():
    assert len(V3) >= 500
    # Every label the emotion reader scores has many; every entry's weights are sound.
    classed = {label for label, r in RECIPES.items() if r.emotion is not None and r.category != "blend"}
    counts = {label: len(VOCAB.situations_v3.get(label, ())) for label in classed}
    assert min(counts.values()) >= 15, counts
    weighted = [e for _, e in V3 if len(e.emotions) > 1]
    assert len(weighted) >= 0.3 * len(V3)
    for label, e in V3:
        names = [n for n, _ in e.emotions]
        assert len(set(names)) == len(names) and set(names) <= set(RECIPES)
        assert sum(w for _, w in e.emotions) == pytest.approx(1.0)
        assert dict(e.emotions)[label] == max(w for _, w in e.emotions)
        assert 1 <= e.lo <= e.hi <= 5
        for s in (*VOCAB.subjects, VOCAB.someone):
            assert "{" not in s.fill(e.text), e.text
    assert sum(e.clause for _, e in V3) >= 40
    heldout_frames = {f.replace("{vp_someone}", "{vp}") for f in VOCAB.situation_frames["heldout_phrasing"]}
    assert not set(VOCAB.clause_frames) & heldout_frames


def test_descriptions_use_training_frames_and_every_subject():
    rng = random.Random(0)
    entry = next(e for _, e in V3 if e.clause and "{pos}" in e.text)
    texts = describe_situation(entry, rng, n=40)
    assert len(texts) == len(set(texts)) and len(texts) > TEXTS_PER_SITUATION
    assert any(t.startswith("my ") or " my " in t for t in texts)
    assert not any("{" in t for t in texts)
    phrase = next(e for _, e in V3 if not e.clause and e.text.startswith("{is}"))
    texts = describe_situation(phrase, random.Random(1), n=30)
    assert any(" am " in t for t in texts) and any(" is " in t for t in texts)


def test_third_pass_pairs_faces_of_every_listed_emotion_in_their_shares():
    _expressions, meta = generate_expressions(2, SMALL)
    pairs = third_pass(meta, random.Random("v3-test"))
    entries = {e.text: (label, e) for label, e in V3}
    by_text: dict[str, float] = defaultdict(float)
    faces: dict[str, set[str]] = defaultdict(set)
    for p in pairs:
        label, entry = entries[p.situation]
        weights = dict(entry.emotions)
        face = meta[p.expr]
        assert p.label == label and face.category != "blend"
        assert p.weight == weights[face.label], (p.text, face.label)
        assert face.grade is None or entry.lo <= "ABCDE".index(face.grade) + 1 <= entry.hi
        by_text[p.text] += p.weight
        faces[p.situation].add(face.label)
    assert all(total == pytest.approx(1.0) for total in by_text.values())
    assert all(faces[e.text] == set(dict(e.emotions)) for _, e in V3)
    assert len(by_text) >= 0.9 * TEXTS_PER_SITUATION * len(V3)


def test_soft_pairs_in_a_build_are_training_only_and_sum_to_one():
    t = build_tead(seed=4, goemotions_dir=None, config=SMALL)
    soft = [p for p in t.pairs if p.weight != 1.0]
    assert soft and {p.split for p in soft} == {"train"} and {p.kind for p in soft} == {"situation"}
    totals: dict[str, float] = defaultdict(float)
    for p in t.pairs:
        if p.kind == "situation" and p.split == "train":
            totals[p.text] += p.weight
    v3_texts = {p.text for p in soft}
    assert all(totals[x] == pytest.approx(1.0) for x in v3_texts)
    not_train = {normalize_text(p.text) for p in t.pairs if p.split != "train"}
    assert not any(normalize_text(p.text) in not_train for p in t.pairs if p.split == "train")
    assert t.info["situations_v3"]["situations"] == len(V3)
    assert t.info["situations_v3"]["pairs"] > 10 * len(V3)
    # Weights line up with the training pairs, in their order.
    _idx, texts = t.train_pairs()
    w = t.train_weights()
    assert w.shape == (len(texts),) and (w > 0).all() and (w <= 1).all()
    assert w[-1] == [p.weight for p in t.pairs if p.split == "train"][-1]
    assert len(t.weights("heldout")) == len(t.heldout_pairs()[1]) and (t.weights("heldout") == 1).all()


def test_weight_is_written_only_where_it_is_not_one_and_old_files_load(tmp_path):
    t = build_tead(seed=1, goemotions_dir=None, config=SMALL)
    out = t.save(tmp_path / "tead")
    rows = [json.loads(line) for line in (out / "pairs.jsonl").read_text(encoding="utf-8").splitlines()]
    assert any("weight" in r for r in rows)
    assert all(r["weight"] != 1.0 for r in rows if "weight" in r)
    assert load_tead(out).pairs == t.pairs
    # A file written before pair weights existed: no "weight" anywhere, every pair weighs 1.
    old = [{k: v for k, v in r.items() if k != "weight"} for r in rows]
    (out / "pairs.jsonl").write_text("".join(json.dumps(r) + "\n" for r in old), encoding="utf-8")
    loaded = load_tead(out)
    assert all(p.weight == 1.0 for p in loaded.pairs)
    assert Pair.from_json({"expr": 0, "text": "x", "kind": "situation", "split": "train"}).weight == 1.0
    datasheet = (tmp_path / "tead" / "datasheet.md").read_text(encoding="utf-8")
    assert "## Third pass and soft targets" in datasheet and "weight where it is not 1" in datasheet
