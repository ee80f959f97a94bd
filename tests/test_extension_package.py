"""The extension zip: built and validated with Blender's own tool, installed, enabled and disabled in bpy.

Installing runs in a fresh Python process with its own empty Blender user folders, so it cannot see (or
leave behind) anything of the other tests.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

pytestmark = [pytest.mark.blender, pytest.mark.blender_compat]

ROOT = Path(__file__).resolve().parent.parent


def _build_module():
    spec = importlib.util.spec_from_file_location("expclip_build", ROOT / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def built_zip(tmp_path_factory) -> Path:
    return _build_module().build(tmp_path_factory.mktemp("dist"))


def test_zip_holds_the_extension_and_nothing_of_development(built_zip):
    names = set(zipfile.ZipFile(built_zip).namelist())
    for required in (
        "blender_manifest.toml",
        "__init__.py",
        "expclip_blender/__init__.py",
        "operators/__init__.py",
        "operators/services/shape_key_writer.py",
        "ui/sidebar.py",
        "ui/preferences.py",
        "expclip_blender/models/README.md",
        "expclip_blender/models/expclip.md",
        "expclip_blender/presets/neutral-read.json",
        "expclip_blender/presets/furious.json",
    ):
        assert required in names, required
    assert not any(n.startswith(("tests/", "scripts/", ".venv", ".git", "dist/", "build/")) for n in names)
    # The workshop and its records stay home: no dataset builder, trainer, evaluation or training log.
    assert not any(n.startswith("expclip_train/") or n.endswith(".train-log.json") for n in names)
    workshop_parts = ("/tead/", "/training/", "/evaluation/", "/speech/", "/experiments/", "/epa.py")
    assert not [n for n in names if any(part in "/" + n for part in workshop_parts)]
    assert not any("/test_" in n or n.startswith("test_") for n in names)
    assert not any(n.endswith(".whl") for n in names)  # the dev build: wheels only in build_with_wheels
    assert "build.py" not in names and "pyproject.toml" not in names
    assert not any("__pycache__" in n for n in names)


def test_manifest_says_what_the_extension_may_do(built_zip):
    import tomllib

    manifest = tomllib.loads(zipfile.ZipFile(built_zip).read("blender_manifest.toml").decode())
    assert manifest["id"] == "expclip"
    assert manifest["license"] == ["SPDX:GPL-3.0-or-later"]
    assert manifest["blender_version_min"] == "4.2.0"
    assert set(manifest["permissions"]) == {"files"}  # no network: every model ships inside


def test_validator_rejects_a_broken_manifest(tmp_path):
    build = _build_module()
    tool = build.find_extension_tool()
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "__init__.py").write_text("", encoding="utf-8")
    manifest = (ROOT / "blender_manifest.toml").read_text(encoding="utf-8")
    (broken / "blender_manifest.toml").write_text(manifest.replace('id = "expclip"', 'id = "exp clip!"'))
    with pytest.raises(SystemExit, match="validate failed"):
        build.run_tool(tool, "validate", str(broken))


INSTALL_SCRIPT = textwrap.dedent(
    """
    import json, os, sys
    import bpy

    zip_path = sys.argv[1]
    out = {}
    module = "bl_ext.user_default.expclip"
    result = bpy.ops.extensions.package_install_files(
        filepath=zip_path, repo="user_default", enable_on_install=True)
    out["install"] = sorted(result)
    prefs = bpy.context.preferences
    out["enabled"] = module in prefs.addons
    out["panel"] = hasattr(bpy.types, "EXPCLIP_PT_main")
    out["operators"] = sorted(n for n in dir(bpy.types) if n.startswith("EXPCLIP_OT_"))
    out["ops_callable"] = [hasattr(bpy.ops.expclip, n) for n in ("add_demo_head", "import_weights")]
    out["torch_at_enable"] = "torch" in sys.modules  # CUDA is detected lazily, never at register time
    addon_prefs = prefs.addons[module].preferences
    out["prefs"] = [addon_prefs.device, addon_prefs.studio_presets_dir, addon_prefs.custom_models_dir]
    addon_prefs.custom_models_dir = os.path.join(os.path.dirname(zip_path), "no-such-weights")
    try:
        bpy.ops.expclip.check_model_weights()
        out["bad_weights"] = "no error"
    except RuntimeError as exc:
        out["bad_weights"] = str(exc)
    out["preset_menu"] = hasattr(bpy.types, "EXPCLIP_MT_presets")
    bpy.context.scene.expclip.prompt = "installed and smiling"
    out["preset_save"] = sorted(bpy.ops.expclip.preset_save(name="Installed"))
    user_presets = bpy.utils.extension_path_user(module, path="presets")
    out["user_preset_file"] = os.path.isfile(os.path.join(user_presets, "installed.json"))
    out["preset_apply"] = sorted(bpy.ops.expclip.preset_apply(name="Furious"))
    out["applied_prompt"] = bpy.context.scene.expclip.prompt
    bpy.ops.expclip.add_demo_head()
    obj = bpy.context.active_object
    out["demo_head_keys"] = len(obj.data.shape_keys.key_blocks)
    repo = next(r for r in prefs.extensions.repos if r.module == "user_default")
    out["installed_dir"] = os.path.isdir(os.path.join(repo.directory, "expclip", "expclip_blender", "models"))
    bpy.ops.preferences.addon_disable(module=module)
    out["after_disable_enabled"] = module in prefs.addons
    out["after_disable_types"] = sorted(n for n in dir(bpy.types) if n.startswith("EXPCLIP_"))
    out["after_disable_ops"] = hasattr(bpy.types, "EXPCLIP_OT_import_weights")
    index = list(prefs.extensions.repos).index(repo)
    out["uninstall"] = sorted(bpy.ops.extensions.package_uninstall(repo_index=index, pkg_id="expclip"))
    out["after_uninstall_dir"] = os.path.exists(os.path.join(repo.directory, "expclip"))
    print("RESULT " + json.dumps(out))
    """
)


def test_zip_installs_enables_and_disables_cleanly_in_bpy(built_zip, tmp_path):
    env = dict(
        os.environ, BLENDER_USER_RESOURCES=str(tmp_path / "user"), XDG_CACHE_HOME=str(tmp_path / "cache")
    )
    proc = subprocess.run(
        [sys.executable, "-c", INSTALL_SCRIPT, str(built_zip)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    assert proc.returncode == 0 and lines, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = json.loads(lines[-1][len("RESULT ") :])
    assert out["install"] == ["FINISHED"]
    assert out["enabled"] and out["panel"] and out["installed_dir"]
    assert {"EXPCLIP_OT_add_demo_head", "EXPCLIP_OT_import_weights"} <= set(out["operators"])
    assert out["ops_callable"] == [True, True]
    assert not out["torch_at_enable"]
    assert out["prefs"] == ["AUTO", "", ""]
    assert "no-such-weights' does not exist. Choose a folder holding" in out["bad_weights"]
    assert out["preset_menu"] and out["preset_save"] == ["FINISHED"] and out["user_preset_file"]
    assert out["preset_apply"] == ["FINISHED"] and out["applied_prompt"].startswith("furious")
    assert out["demo_head_keys"] == 53
    assert not out["after_disable_enabled"]
    assert out["after_disable_types"] == [] and not out["after_disable_ops"]
    assert out["uninstall"] == ["FINISHED"] and not out["after_uninstall_dir"]
