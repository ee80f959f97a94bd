"""`pip install .` carries the runtime only, with its weights and data, and works outside the source tree."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--quiet", "-w", str(out)],
        check=True,
        capture_output=True,
    )
    (found,) = out.glob("expclip_blender-*.whl")
    return found


def test_the_wheel_holds_the_runtime_and_its_data_only(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert tops == {"expclip_blender"}
    for required in (
        "expclip_blender/models/expclip.safetensors",
        "expclip_blender/models/generator.safetensors",
        "expclip_blender/lexicon/backoff.json.gz",
        "expclip_blender/lexicon/phrase_embeddings.safetensors",
        "expclip_blender/presets/furious.json",
        "expclip_blender/face_rules.toml",
    ):
        assert required in names, required
    assert not [n for n in names if n.endswith(".train-log.json") or "/tests/" in n]


def test_the_installed_wheel_loads_and_animates(wheel, tmp_path):
    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target", str(site), str(wheel)],
        check=True,
        capture_output=True,
    )
    code = (
        "import numpy as np, expclip_blender as ex\n"
        "print(ex.__file__)\n"
        "m = ex.load(device='cpu')\n"
        "assert m.expression('furious').max() > 0.3\n"
        "w = m.animate(np.zeros(16000, np.float32), 16000, 'calm', fps=25.0)\n"
        "assert w.shape == (25, 52)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,  # not the source tree: the package must come from the installed wheel
        env={"PYTHONPATH": str(site), "HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.splitlines()[0].startswith(str(site))
