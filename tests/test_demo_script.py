"""The demo (scripts/demo.py, what scripts/run_demo.sh runs), end to end on real Blender with the model."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import numpy as np
import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "demo.py"


def _demo():
    spec = importlib.util.spec_from_file_location("expclip_demo_script", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_sample_frames_takes_the_most_open_mouth_in_the_middle_of_each_slice():
    demo = _demo()
    jaw = np.zeros(40, np.float32)
    jaw[[3, 12, 25, 38]] = [0.5, 0.4, 0.9, 0.2]
    # frames 11..50, switch at 31: calm slices 11-20, 21-30; angry slices 31-40, 41-50, each searched in
    # its middle (13-18, 23-28, 33-38, 43-48): frame 49's peak is at an edge, so 43 (all zero) is taken
    assert demo.sample_frames(jaw, 11, 31, 2) == [14, 23, 36, 43]


@pytest.mark.blender
@pytest.mark.slow
def test_the_demo_bakes_saves_and_renders(empty_scene, ext, tmp_path, capsys):
    if shutil.which("espeak-ng") is None and importlib.util.find_spec("piper") is None:
        pytest.skip("no offline speech synthesiser (espeak-ng or Piper)")
    import bpy

    demo = _demo()
    assert demo.main(["--out", str(tmp_path), "--tiles", "2", "--size", "64"]) == 0
    out = capsys.readouterr().out
    for name in ("demo.blend", "demo_sheet.png", "demo_speech.wav"):
        assert (tmp_path / name).is_file() and str(tmp_path / name) in out

    ext.register()
    try:
        bpy.ops.wm.open_mainfile(filepath=str(tmp_path / "demo.blend"))
        scene = bpy.context.scene
        markers = sorted((m.frame, m.name) for m in scene.timeline_markers)
        assert [name for _, name in markers] == ["expclip: calm", "expclip: furious"]
        switch = markers[1][0]
        head = bpy.data.objects["ExpCLIP Demo Head"]
        assert head.data.shape_keys.animation_data.action is not None
        assert bpy.data.sounds[0].packed_file is not None
        jaw = head.data.shape_keys.key_blocks["jawOpen"]
        brows = [head.data.shape_keys.key_blocks[n] for n in ("browDownLeft", "browDownRight")]
        calm, angry = [], []
        for frame in range(scene.frame_start, scene.frame_end + 1):
            scene.frame_set(frame)
            row = (jaw.value, sum(b.value for b in brows))
            if frame < switch - 15:  # away from the transition centred on the marker
                calm.append(row)
            elif frame > switch + 15:
                angry.append(row)
        calm, angry = np.array(calm), np.array(angry)
        assert calm[:, 0].max() > 0.05 and angry[:, 0].max() > 0.05  # both sentences are spoken
        assert angry[:, 1].mean() > calm[:, 1].mean() + 0.05  # furious lowers the brows
    finally:
        ext.unregister()

    sheet = bpy.data.images.load(str(tmp_path / "demo_sheet.png"))
    try:
        assert sheet.size[0] > 2 * 64 and sheet.size[1] > 2 * 64  # 2 x 2 tiles of 64 px plus gaps
    finally:
        bpy.data.images.remove(sheet)
