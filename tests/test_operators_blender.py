"""The extension's operators driven through bpy.ops on real Blender (registered from the source tree)."""

from __future__ import annotations

import numpy as np
import pytest

from expclip_blender import ARKIT_NAMES
from expclip_blender.weights_io import save_weights

pytestmark = [pytest.mark.blender, pytest.mark.blender_compat]


@pytest.fixture
def registered(ext, empty_scene, bpy_module):
    ext.register()
    yield bpy_module
    ext.unregister()


def _head(bpy):
    assert bpy.ops.expclip.add_demo_head() == {"FINISHED"}
    return bpy.context.view_layer.objects.active


def test_add_demo_head_makes_the_active_object(registered):
    bpy = registered
    head = _head(bpy)
    assert head.select_get() and head.type == "MESH"
    names = [kb.name for kb in head.data.shape_keys.key_blocks]
    assert names == ["Basis", *ARKIT_NAMES]


def test_import_weights_bakes_the_file(registered, tmp_path):
    from blender_helpers import fcurve_by_key

    bpy = registered
    head = _head(bpy)
    weights = np.zeros((40, 52), np.float32)
    weights[:, ARKIT_NAMES.index("jawOpen")] = np.linspace(0, 1, 40)
    path = tmp_path / "take_01.csv"
    save_weights(path, weights, fps=24.0)
    bpy.context.scene.render.fps = 24
    assert bpy.ops.expclip.import_weights(filepath=str(path), start_frame=10) == {"FINISHED"}
    action = head.data.shape_keys.animation_data.action
    assert action.name == "take_01"
    curves = fcurve_by_key(action, head.data.shape_keys.animation_data)
    assert len(curves) == 52
    jaw = curves["jawOpen"]
    assert jaw.keyframe_points[0].co[0] == pytest.approx(10)
    assert jaw.keyframe_points[-1].co[0] == pytest.approx(49)
    assert jaw.evaluate(49) == pytest.approx(1.0, abs=1e-5)


def test_import_weights_refuses_a_broken_file_and_changes_nothing(registered, tmp_path):
    bpy = registered
    _head(bpy)
    broken = tmp_path / "broken.csv"
    broken.write_text("time,nothing\n0,1\n", encoding="utf-8")
    before = len(bpy.data.actions)
    with pytest.raises(RuntimeError, match="no column named after an ARKit"):
        bpy.ops.expclip.import_weights(filepath=str(broken))
    assert len(bpy.data.actions) == before


def test_import_weights_needs_a_mesh_with_shape_keys(registered, tmp_path):
    bpy = registered
    assert not bpy.ops.expclip.import_weights.poll()
    path = tmp_path / "w.npy"
    save_weights(path, np.zeros((3, 52), np.float32), fps=30)
    with pytest.raises(RuntimeError, match="Select a mesh with shape keys"):
        bpy.ops.expclip.import_weights(filepath=str(path))
