"""The self-contained extension zip: its runtime wheels, and a bake in a Python that has nothing but bpy.

The zip (linux-x64) is built once per test session with ``build.build_with_wheels``; its wheels come from
``build/wheels/`` (downloaded there on the first run). The "fresh" Python is a virtual environment with
only bpy installed (and what bpy itself requires), kept in ``build/test-venvs/`` between runs and checked
each time to still hold nothing else. The extension is installed into it with Blender's own installer,
which extracts the wheels, then the demo head is baked from a WAV sound strip with ``bpy.ops.expclip.bake``.
"""

from __future__ import annotations

import csv
import importlib.metadata
import importlib.util
import io
import json
import os
import shutil
import subprocess
import sys
import textwrap
import tomllib
import zipfile
from pathlib import Path

import pytest

from expclip_blender.model_folder import MODELS_DIR

pytestmark = [
    pytest.mark.blender,
    pytest.mark.slow,
    pytest.mark.skipif(
        sys.version_info[:2] != (3, 11),
        reason="the zip's wheels are CPython 3.11 builds, for Blender 4.2 to 5.0 (build.py)",
    ),
]

ROOT = Path(__file__).resolve().parent.parent
PLATFORM = "linux-x64"
# Guards against a heavier dependency slipping in (PyPI's CUDA torch alone is 900 MB); 229 MB today.
MAX_ZIP_MB = 250


def _build_module():
    spec = importlib.util.spec_from_file_location("expclip_build", ROOT / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def wheel_zip(tmp_path_factory) -> Path:
    if not sys.platform.startswith("linux"):
        pytest.skip("the fresh-Python bake runs the linux-x64 zip")
    zips = _build_module().build_with_wheels(tmp_path_factory.mktemp("dist-wheels"), [PLATFORM])
    return zips[PLATFORM]


def _wheels_in(zip_path: Path) -> dict[str, str]:
    """Distribution name (lower case, as in wheel names) -> wheel file name, for the wheels in the zip."""
    names = [
        n for n in zipfile.ZipFile(zip_path).namelist() if n.startswith("wheels/") and n.endswith(".whl")
    ]
    return {Path(n).name.split("-")[0].lower(): Path(n).name for n in names}


def test_zip_carries_exactly_the_runtime_wheels(wheel_zip):
    build = _build_module()
    archive = zipfile.ZipFile(wheel_zip)
    manifest = tomllib.loads(archive.read("blender_manifest.toml").decode())
    assert manifest["platforms"] == [PLATFORM]
    wheels = _wheels_in(wheel_zip)
    assert set(wheels) == {build._dist(name) for name in build.RUNTIME_WHEELS}
    assert sorted(manifest["wheels"]) == sorted(f"./wheels/{w}" for w in wheels.values())
    assert all("manylinux" in w or w.endswith("-none-any.whl") for w in wheels.values())
    # Blender ships numpy (a second copy would shadow it); the rest are training-only libraries.
    assert not {"numpy", "scipy", "librosa", "numba", "transformers", "soundfile", "sympy"} & set(wheels)
    size_mb = wheel_zip.stat().st_size / 1e6
    assert size_mb < MAX_ZIP_MB, f"{wheel_zip.name} is {size_mb:.0f} MB"


def test_torch_is_the_trimmed_cpu_build_and_intact(wheel_zip, tmp_path):
    build = _build_module()
    name = _wheels_in(wheel_zip)["torch"]
    assert "+cpu" in name and f"-{build.TORCH_TRIM_TAG}-" in name
    zipfile.ZipFile(wheel_zip).extract(f"wheels/{name}", tmp_path)
    with zipfile.ZipFile(tmp_path / "wheels" / name) as wheel:
        assert wheel.testzip() is None  # every member's CRC checks out after the raw copy
        members = set(wheel.namelist())
        record_name = next(n for n in members if n.endswith(".dist-info/RECORD"))
        recorded = {row[0] for row in csv.reader(io.StringIO(wheel.read(record_name).decode())) if row}
        metadata = wheel.read(record_name.replace("RECORD", "METADATA")).decode()
    assert recorded == members
    assert "torch/lib/libtorch_cpu.so" in members and "torch/bin/torch_shm_manager" in members
    assert not [
        m for m in members if m.startswith(build.TORCH_TRIM_PREFIXES) and m not in build.TORCH_TRIM_KEEP
    ]
    assert "Version: 2.13.0+cpu" in metadata


# ---- a Python with only bpy --------------------------------------------------------------------------


def _fresh_bpy_python() -> Path:
    """A venv holding bpy (this environment's version) and bpy's own requirements, nothing else."""
    bpy_version = importlib.metadata.version("bpy")
    venv = ROOT / "build" / "test-venvs" / f"bpy-{bpy_version}"
    python = venv / "bin" / "python"
    stamp = venv / "expclip-ready"
    if not stamp.exists():
        shutil.rmtree(venv, ignore_errors=True)
        venv.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
        install = subprocess.run(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                f"bpy=={bpy_version}",
            ],
            capture_output=True,
            text=True,
            timeout=1800,
        )
        assert install.returncode == 0, install.stdout[-3000:] + install.stderr[-3000:]
        stamp.write_text(bpy_version, encoding="utf-8")
    return python


@pytest.fixture(scope="session")
def fresh_bpy_python() -> Path:
    python = _fresh_bpy_python()
    listed = subprocess.run(
        [str(python), "-c", LIST_DISTRIBUTIONS], cwd=python.parent, capture_output=True, text=True, check=True
    ).stdout
    extra = {name.lower() for name in json.loads(listed)} - FRESH_ALLOWED
    assert not extra, (
        f"the fresh bpy venv holds more than bpy: {sorted(extra)}; delete {python.parent.parent}"
    )
    return python


LIST_DISTRIBUTIONS = (
    "import importlib.metadata as m, json; print(json.dumps([d.name for d in m.distributions()]))"
)
# bpy and what its wheel requires (cython, numpy, requests, zstandard and theirs), plus venv's own tools.
FRESH_ALLOWED = {
    "bpy",
    "cython",
    "numpy",
    "requests",
    "certifi",
    "charset-normalizer",
    "idna",
    "urllib3",
    "zstandard",
    "pip",
    "setuptools",
}

BAKE_SCRIPT = textwrap.dedent(
    """
    import json, sys
    import bpy

    zip_path, wav_path = sys.argv[1], sys.argv[2]
    out = {}
    module = "bl_ext.user_default.expclip"
    out["install"] = sorted(bpy.ops.extensions.package_install_files(
        filepath=zip_path, repo="user_default", enable_on_install=True))
    out["enabled"] = module in bpy.context.preferences.addons
    bpy.ops.expclip.add_demo_head()
    head = bpy.context.active_object
    scene = bpy.context.scene
    scene.render.fps = 24
    editor = scene.sequence_editor or scene.sequence_editor_create()
    strips = editor.strips if hasattr(editor, "strips") else editor.sequences
    strips.new_sound("voice", wav_path, 1, 1)
    scene.expclip.audio_source = "STRIP"
    scene.expclip.prompt = "furious"
    out["bake"] = sorted(bpy.ops.expclip.bake())
    import torch
    out["torch"] = [torch.__version__, torch.__file__]
    anim = head.data.shape_keys.animation_data
    action = anim.action if anim is not None else None
    if action is not None and not hasattr(action, "fcurves"):  # layered actions (5.x)
        fcurves = list(action.layers[0].strips[0].channelbag(anim.action_slot).fcurves)
    else:
        fcurves = list(action.fcurves) if action is not None else []
    out["fcurves"] = len(fcurves)
    out["keys"] = {fc.data_path: len(fc.keyframe_points) for fc in fcurves}
    jaw = next(fc for fc in fcurves if "jawOpen" in fc.data_path)
    out["jaw_range"] = [min(k.co[1] for k in jaw.keyframe_points), max(k.co[1] for k in jaw.keyframe_points)]
    out["modules"] = sorted({name.split(".")[0] for name in sys.modules})
    print("RESULT " + json.dumps(out))
    """
)


def test_bake_works_in_a_python_with_only_bpy_and_the_zip(wheel_zip, fresh_bpy_python, tmp_path):
    from bake_helpers import speech_like, write_wav

    if not (MODELS_DIR / "generator.safetensors").exists():
        pytest.fail("models/generator.safetensors is missing: the zip cannot bake without the generator")
    wav = write_wav(tmp_path / "voice.wav", speech_like(3.0))
    env = dict(
        os.environ,
        BLENDER_USER_RESOURCES=str(tmp_path / "user"),
        XDG_CACHE_HOME=str(tmp_path / "cache"),
        PYTHONNOUSERSITE="1",
    )
    env.pop("PYTHONPATH", None)
    proc = subprocess.run(
        [str(fresh_bpy_python), "-c", BAKE_SCRIPT, str(wheel_zip), str(wav)],
        env=env,
        cwd=tmp_path,  # nothing of the repository on sys.path
        capture_output=True,
        text=True,
        timeout=600,
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    assert proc.returncode == 0 and lines, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = json.loads(lines[-1][len("RESULT ") :])
    assert out["install"] == ["FINISHED"] and out["enabled"]
    assert out["bake"] == ["FINISHED"]
    version, torch_file = out["torch"]
    assert version == "2.13.0+cpu"
    assert str(tmp_path / "user" / "extensions" / ".local") in torch_file  # from the zip's wheel
    assert out["fcurves"] == 52
    assert sum(out["keys"].values()) > 2 * 52  # keyframes over time, not one pose
    assert out["jaw_range"][1] > out["jaw_range"][0]  # the mouth moves
    assert not {"scipy", "librosa", "transformers", "soundfile"} & set(out["modules"])
