"""The scene's path settings accept Blender-relative "//" paths without a warning (4.5+ needs an option)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.blender, pytest.mark.blender_compat]

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = f"""
import sys
sys.path.insert(0, {str(ROOT / "scripts")!r})
import bpy
from ext_loader import import_extension
ext = import_extension()
ext.register()
settings = bpy.context.scene.expclip
settings.audio_file = "//voice/line.wav"
settings.mapping_preset = "//rig.json"
print("values", settings.audio_file, settings.mapping_preset)
ext.unregister()
"""


def test_relative_paths_set_without_a_warning(bpy_module):
    run = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "values //voice/line.wav //rig.json" in run.stdout
    output = run.stdout + run.stderr
    assert "blend relative" not in output, output[-2000:]


def test_path_option_follows_the_api(ext, bpy_module):
    flag = "is_path_supports_blend_relative" in bpy_module.types.Property.bl_rna.properties
    options = ext.ui.properties.PATH_OPTIONS
    assert ("PATH_SUPPORTS_BLEND_RELATIVE" in options) == flag
    assert "ANIMATABLE" in options
