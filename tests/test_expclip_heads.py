"""ExpCLIP heads: the numpy inference twin equals the torch training model; weight files are checked."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from expclip_blender.expclip import ModelFileError, load_heads  # noqa: E402
from expclip_blender.training.expclip import ExpClipTorch, TrainConfig, save_model  # noqa: E402


@pytest.fixture
def random_model(tmp_path):
    torch.manual_seed(0)
    cfg = TrainConfig(style_dim=32, hidden=64)
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
    cfg = TrainConfig(style_dim=16, hidden=32)
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
