"""ExpCLIP heads: the numpy inference twin equals the torch training model; weight files are checked."""

from __future__ import annotations

from dataclasses import asdict, replace

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from expclip_blender.expclip import ModelFileError, load_heads  # noqa: E402
from expclip_train.training.expclip import ExpClipTorch, save_model, shipped_recipe  # noqa: E402


@pytest.fixture
def random_model(tmp_path):
    torch.manual_seed(0)
    cfg = replace(shipped_recipe(1), style_dim=32, hidden=64)
    model = ExpClipTorch(cfg).eval()
    path = tmp_path / "heads.safetensors"
    save_model(model, cfg, path)
    return model, path


def test_numpy_heads_match_torch(random_model):
    model, path = random_model
    heads = load_heads(path)
    assert heads.style_dim == 32
    rng = np.random.default_rng(0)
    text = rng.normal(size=(5, 384)).astype(np.float32)
    faces = rng.random((5, 52)).astype(np.float32)
    with torch.no_grad():
        zt = model.embed_text(torch.from_numpy(text)).numpy()
        ze = model.embed_expression(torch.from_numpy(faces)).numpy()
        dec = model.decode(torch.from_numpy(ze)).numpy()
    np.testing.assert_allclose(heads.project_text(text), zt, atol=1e-5)
    np.testing.assert_allclose(heads.encode_expression(faces), ze, atol=1e-5)
    np.testing.assert_allclose(heads.decode(ze), dec, atol=1e-5)
    assert heads.logit_scale == pytest.approx(float(model.logit_scale.detach().exp()), rel=1e-5)


def test_expression_encoder_checks_its_input(random_model):
    heads = load_heads(random_model[1])
    with pytest.raises(ValueError, match=r"\(N, 52\)"):
        heads.encode_expression(np.zeros((2, 51)))


def test_only_safetensors_are_loaded(tmp_path):
    pickled = tmp_path / "heads.pt"
    pickled.write_bytes(b"\x80\x04anything")
    with pytest.raises(ModelFileError, match=r"must be a \.safetensors file"):
        load_heads(pickled)
    with pytest.raises(ModelFileError, match="do not exist"):
        load_heads(tmp_path / "missing.safetensors")
    corrupt = tmp_path / "corrupt.safetensors"
    corrupt.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not a header}")
    with pytest.raises(ModelFileError, match="cannot be read"):
        load_heads(corrupt)


def test_weights_that_do_not_fit_are_named(tmp_path):
    from safetensors.numpy import save_file

    torch.manual_seed(0)
    cfg = replace(shipped_recipe(1), style_dim=16, hidden=32)
    tensors = {k: v.numpy() for k, v in ExpClipTorch(cfg).state_dict().items()}
    tensors["expr_enc.0.weight"] = np.zeros((32, 40), np.float32)  # takes 40 inputs, not 52
    bad = tmp_path / "bad.safetensors"
    save_file(tensors, str(bad))
    with pytest.raises(ModelFileError, match="expr_enc takes 40 inputs, not 52"):
        load_heads(bad)
    tensors = {
        k: v.numpy() for k, v in ExpClipTorch(cfg).state_dict().items() if not k.startswith("expr_dec")
    }
    save_file(tensors, str(bad))
    with pytest.raises(ModelFileError, match="no tensors for 'expr_dec'"):
        load_heads(bad)


# --------------------------------------------------------------------------------------------------
# Stage 2 (--text-only): the expression side, which the speech generator is conditioned on, never moves.

#: SHA-256 of the shipped expression encoder and decoder (expclip.expression_side_sha256): the space the
#: speech generator was trained in. Change it only together with retraining the generator.
GENERATOR_EXPRESSION_SHA256 = "1cfad377e1e4d0a55509b389afff9db469b615758ff09dc82be5433f3243a590"


def test_shipped_expression_side_is_the_one_the_generator_was_trained_on():
    from expclip_blender.expclip import expression_side_sha256
    from expclip_blender.model_files import read_safetensors
    from expclip_blender.model_folder import MODELS_DIR

    path = MODELS_DIR / "expclip.safetensors"
    if not path.is_file():
        pytest.skip("models/expclip.safetensors is not trained yet")
    tensors, metadata = read_safetensors(path, "ExpCLIP")
    assert expression_side_sha256(tensors) == GENERATOR_EXPRESSION_SHA256
    assert metadata["expression_sha256"] == GENERATOR_EXPRESSION_SHA256
    assert GENERATOR_EXPRESSION_SHA256 in path.with_suffix(".md").read_text(encoding="utf-8")


def test_card_rebuild_command_trains_the_shipped_stage_2():
    """The card's stage-2 command, run again, must train what ships: its options turn the recipe file into
    the configuration in the weights' header, value for value (none when they are equal, which
    tests/test_recipes.py checks); README shows the same command."""
    import json
    import re

    from expclip_blender.model_files import read_safetensors
    from expclip_blender.model_folder import MODELS_DIR

    path = MODELS_DIR / "expclip.safetensors"
    if not path.is_file():
        pytest.skip("models/expclip.safetensors is not trained yet")
    _, metadata = read_safetensors(path, "ExpCLIP")
    shipped = json.loads(metadata["text_stage"])
    recipe = asdict(shipped_recipe(2))
    card = path.with_suffix(".md").read_text(encoding="utf-8")
    command = re.search(r"`python -m expclip_train\.training\.expclip --stage 2[^`]*`", card).group(0)
    for name in ("word_balance", "emotion_weight", "side_named_weight", "mirrored_weight", "class_weight"):
        flag = "--" + name.replace("_", "-")
        if shipped[name] != recipe[name]:
            assert re.search(rf"{flag} {shipped[name]}(?![\d.])", command), (flag, shipped[name], command)
        else:
            assert flag not in command, (flag, command)
    assert ("side-choice" in command) == (shipped["side_choice"] != recipe["side_choice"])
    readme = (MODELS_DIR.parents[1] / "README.md").read_text(encoding="utf-8")
    assert command.strip("`") + " " in readme


def test_expression_digest_sees_the_expression_side_only(random_model):
    from expclip_train.training.expclip import model_expression_sha256

    model = random_model[0]
    before = model_expression_sha256(model)
    with torch.no_grad():
        model.text_proj[0].weight.add_(1.0)
        model.logit_scale.add_(1.0)
    assert model_expression_sha256(model) == before
    with torch.no_grad():
        model.expr_dec[4].bias[0] += 1e-6  # one float32 ulp-scale change is enough
    assert model_expression_sha256(model) != before


class _TinyTead:
    """What text-only training reads from a TEAD: training pairs, expressions and their emotion classes."""

    def __init__(self, n_expr: int = 24, n_texts: int = 40) -> None:
        from types import SimpleNamespace

        from expclip_train.tead.build import Pair

        rng = np.random.default_rng(1)
        self.expressions = rng.random((n_expr, 52)).astype(np.float32)
        self.meta = [
            SimpleNamespace(
                emotion="anger" if i % 3 == 0 else None, mirrored=i % 4 == 1, one_sided=i % 2 == 1
            )
            for i in range(n_expr)
        ]
        self.texts = [f"text {i}" for i in range(n_texts)]
        idx = rng.integers(0, n_expr, size=96)
        texts = [self.texts[i % n_texts] for i in range(len(idx))]
        self.pairs = [Pair(int(e), t, "emotion_word", "train") for e, t in zip(idx, texts, strict=True)]
        self.pairs.append(Pair(0, "a held-out text", "emotion_word", "heldout"))

    def train_pairs(self):
        chosen = [p for p in self.pairs if p.split == "train"]
        return np.array([p.expr for p in chosen]), [p.text for p in chosen]


def test_pair_weights_favour_faces_with_an_emotion_class():
    from expclip_train.training.expclip import pair_weights

    tead = _TinyTead()
    w = pair_weights(tead, 4.0)
    idx, _texts = tead.train_pairs()
    assert w.shape == (len(idx),) and w.sum() == pytest.approx(1.0)
    classed = np.array([tead.meta[e].emotion is not None for e in idx])
    assert np.allclose(w[classed], 4 * w[~classed][0]) and np.allclose(w[~classed], w[~classed][0])


def test_pair_weights_honour_soft_target_weights():
    """A text paired with faces of several emotions (weights 0.5/0.3/0.2) is drawn as often as a text with
    one face, its faces in their shares."""
    from expclip_train.tead.build import Pair
    from expclip_train.training.expclip import pair_weights

    tead = _TinyTead()
    text = "my flight was cancelled at the gate"
    tead.pairs = [
        Pair(0, text, "situation", "train", (), None, 0.5),
        Pair(1, text, "situation", "train", (), None, 0.3),
        Pair(2, text, "situation", "train", (), None, 0.2),
        Pair(3, "lost my keys again", "situation", "train"),
        Pair(0, "a held-out text", "situation", "heldout"),
    ]
    for m in tead.meta[:4]:
        m.emotion = "anger"  # all weigh emotion_weight alike
    assert np.allclose(pair_weights(tead, 3.0), [0.25, 0.15, 0.1, 0.5])


def test_rare_emotion_words_are_drawn_more_often():
    from expclip_train.tead.build import Pair
    from expclip_train.training.expclip import word_balance_weights

    tead = _TinyTead()
    tead.pairs = [Pair(0, f"she looks angry {i}", "emotion_word", "train") for i in range(16)]
    tead.pairs += [Pair(0, "absolutely livid", "emotion_word", "train")]
    tead.pairs += [Pair(0, f"looking gloomy {i}", "emotion_word", "train") for i in range(4)]
    tead.pairs += [Pair(0, "they look angry", "situation", "train")]  # only emotion-word descriptions
    w = word_balance_weights(tead, 0.5)
    assert np.allclose(word_balance_weights(tead, 0.0), 1.0)
    median = 4.0  # counts 16, 1, 4
    assert w[0] == pytest.approx((median / 16) ** 0.5) and w[16] == pytest.approx(min((median / 1) ** 0.5, 4))
    assert w[17] == pytest.approx(1.0) and w[-1] == 1.0


def test_mirrored_faces_are_drawn_less_unless_the_description_names_a_side():
    from expclip_train.tead.build import Pair
    from expclip_train.training.expclip import names_a_side, pair_weights

    assert names_a_side("physical", "left mouth corner tucked in")
    assert names_a_side("physical", "eyes turned right")
    assert not names_a_side("physical", "a dimple on one side")
    assert not names_a_side("situation", "was left out by her friends")  # an idiom, not a side
    assert not names_a_side("emotion_word", "smug right now")

    tead = _TinyTead()
    tead.pairs += [Pair(2, "left mouth corner tucked in", "physical", "train")]
    tead.pairs += [
        Pair(1, "left mouth corner tucked in", "physical", "train"),
        Pair(1, "smug", "emotion_word", "train"),
    ]
    plain = pair_weights(tead, 4.0)
    w = pair_weights(tead, 4.0, mirrored_weight=0.25)
    train = [p for p in tead.pairs if p.split == "train"]
    mirrored = np.array([tead.meta[p.expr].mirrored for p in train])
    assert mirrored.any() and w.sum() == pytest.approx(1.0)
    ratio = w / plain
    assert ratio[-2] == pytest.approx(ratio[-3])  # names a side: as any unmirrored face
    assert ratio[-1] == pytest.approx(0.25 * ratio[-3])  # "smug" of a mirrored face: a quarter
    assert np.allclose(ratio[:-3][mirrored[:-3]], 0.25 * ratio[-3])


@pytest.mark.parametrize(
    "options",
    [{"side_choice": False, "side_named_weight": 1.0}, {"side_choice": True, "side_named_weight": 4.0}],
    ids=["plain", "side-choice"],
)
def test_text_only_training_moves_the_text_side_and_nothing_else(random_model, tmp_path, options):
    from expclip_train.training.expclip import (
        load_model,
        model_expression_sha256,
        train_text_projection,
    )

    path = random_model[1]
    tead = _TinyTead()
    cache = tmp_path / "cache"  # embeddings "already cached": no MiniLM needed for this test
    cache.mkdir()
    vectors = np.random.default_rng(2).normal(size=(len(tead.texts), 384)).astype(np.float32)
    np.savez(cache / "minilm-cache.npz", texts=np.array(tead.texts), embeddings=vectors)
    base, _cfg, _meta = load_model(path)
    frozen = {k: v.clone() for k, v in base.state_dict().items()}
    digest = model_expression_sha256(base)
    cfg = replace(shipped_recipe(2), epochs=2, batch_size=32, lr=1e-2, word_balance=0.0, **options)
    trained, run = train_text_projection(tead, base, cfg, cache, log=lambda _: None)
    after = trained.state_dict()
    for name, tensor in frozen.items():
        same = torch.equal(tensor, after[name])
        assert same == (not name.startswith("text_proj.")), name
    assert model_expression_sha256(trained) == digest
    assert run["stage"] == "text" and len(run["history"]) == 2


def test_side_choice_applies_to_one_sided_recipes_and_their_blends():
    from expclip_train.tead.expressions import ExpressionMeta

    def meta(category, label, components=()):
        return ExpressionMeta(0, category, label, None, "C", 0.5, 0, components=components)

    assert meta("prototype", "contempt").one_sided and meta("state", "smug").one_sided
    assert not meta("prototype", "anger").one_sided and not meta("neutral", "neutral").one_sided
    assert meta("blend", "happiness+contempt", ("happiness", "contempt")).one_sided
    assert not meta("blend", "happiness+anger", ("happiness", "anger")).one_sided


def test_mirror_order_swaps_left_and_right():
    from expclip_blender.arkit import ARKIT_NAMES, MIRROR_ORDER

    order = np.array(MIRROR_ORDER)
    assert np.array_equal(order[order], np.arange(len(ARKIT_NAMES)))  # mirroring twice changes nothing
    mirrored = {ARKIT_NAMES[i]: ARKIT_NAMES[j] for i, j in enumerate(order)}
    assert mirrored["mouthSmileLeft"] == "mouthSmileRight" and mirrored["eyeBlinkRight"] == "eyeBlinkLeft"
    assert mirrored["jawOpen"] == "jawOpen" and mirrored["browInnerUp"] == "browInnerUp"


def test_stage_2_needs_the_weights_to_keep(capsys, tmp_path):
    from expclip_train.training.expclip import main

    missing = tmp_path / "missing.safetensors"
    for argv in (["--text-only", "--init", str(missing)], ["--stage", "2", "--init", str(missing)]):
        with pytest.raises(SystemExit):
            main(argv)
        assert f"'{missing}' does not exist; pass --init WEIGHTS" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--stage", "1", "--init", str(missing)])
    assert "--init is only used by stage 2" in capsys.readouterr().err


def test_frame_words_are_the_evenly_spread_ones():
    from expclip_train.training.expclip import frame_words

    texts, labels = [], []
    for label, word in (("anger", "furious"), ("happiness", "cheerful"), ("sadness", "gloomy")):
        for i in range(60):
            texts.append(f"the character looks {word}" if i % 2 else f"{word} face")
            labels.append(label)
    texts += ["a furious furious face"] * 10  # an emotion word stays one however often it occurs
    labels += ["anger"] * 10
    found = frame_words(texts, labels, min_count=20)
    assert {"the", "character", "looks", "face"} <= set(found)
    assert not {"furious", "cheerful", "gloomy"} & set(found)


def test_perturbed_text_touches_only_frame_words():
    from expclip_train.training.expclip import intensity_words, perturbed_text

    fillers = ["the", "character", "looks", "face", "someone"]
    rng = np.random.default_rng(0)
    seen = set()
    for _ in range(200):
        out = perturbed_text("the character looks slightly furious", rng, fillers)
        words = out.split()
        assert "slightly" in words and "furious" in words  # intensity and emotion are kept
        assert set(words) <= {"slightly", "furious", *fillers}
        seen.add(out)
    assert len(seen) > 5  # it does perturb
    assert perturbed_text("furious", np.random.default_rng(1), fillers) != "furious"  # inserts at least
    assert {"slightly", "absolutely", "extremely"} <= intensity_words()


def _heads_tensors() -> dict[str, np.ndarray]:
    torch.manual_seed(0)
    cfg = replace(shipped_recipe(1), style_dim=16, hidden=32)
    return {k: v.numpy() for k, v in ExpClipTorch(cfg).state_dict().items()}


@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_non_finite_weights_are_refused_naming_file_and_tensor(tmp_path, value):
    from safetensors.numpy import save_file

    from expclip_blender.model_folder import check_models_dir

    tensors = _heads_tensors()
    tensors["expr_dec.0.weight"][3, 1] = value  # used to load and "fit", then Preview set every key to NaN
    path = tmp_path / "expclip.safetensors"
    save_file(tensors, str(path))
    with pytest.raises(
        ModelFileError, match=rf"'{path}' contain NaN or infinite values in expr_dec\.0\.weight"
    ):
        load_heads(path)
    check = check_models_dir(tmp_path)
    assert not check.ok and "expr_dec.0.weight" in check.message


def test_layer_errors_name_the_file(tmp_path):
    from safetensors.numpy import save_file

    tensors = _heads_tensors()
    tensors["expr_dec.0.bias"] = np.zeros((3, 7), np.float32)
    path = tmp_path / "odd.safetensors"
    save_file(tensors, str(path))
    with pytest.raises(ModelFileError, match=rf"^ExpCLIP weights '{path}' do not fit: expr_dec layer 0: "):
        load_heads(path)
    del tensors["expr_dec.0.bias"]
    save_file(tensors, str(path))
    with pytest.raises(ModelFileError, match=rf"'{path}' do not fit: tensor 'expr_dec\.0\.bias' is missing"):
        load_heads(path)


def test_non_finite_phrase_embeddings_are_refused(tmp_path):
    from safetensors.numpy import save_file

    from expclip_blender.emotion_phrase import load_phrase_embeddings

    rows = np.ones((2, 384), np.float16)
    rows[1, 5] = np.nan
    path = tmp_path / "phrase_embeddings.safetensors"
    save_file({"embeddings": rows}, str(path), metadata={"phrases": '["a", "b"]'})
    with pytest.raises(ModelFileError, match=rf"'{path}': tensor 'embeddings' contains NaN"):
        load_phrase_embeddings(path)
