"""The shape-key writer on real Blender: bulk keys, both action APIs, stash, reduction, atomic errors."""

from __future__ import annotations

import numpy as np
import pytest

from expclip_blender import ARKIT_NAMES

pytestmark = [pytest.mark.blender, pytest.mark.blender_compat]

KEYS = [
    "eyeBlink_L",
    "eyeBlinkRight",
    "Face.jawOpen",
    "mouthSmileLeft.001",
    "browInnerUp_L",
    "browInnerUp_R",
    "NotAChannel",
]


@pytest.fixture
def writer(ext):
    from expclip_ext.operators.services import shape_key_writer

    return shape_key_writer


@pytest.fixture
def face(empty_scene):
    from blender_helpers import make_keyed_mesh

    return make_keyed_mesh("Face", KEYS)


def _weights(frames: int, seed: int = 0) -> np.ndarray:
    t = np.arange(frames)[:, None] / 30.0
    phase = np.arange(52)[None, :] * 0.37
    return (0.5 + 0.45 * np.sin(2 * np.pi * 0.5 * t + phase)).astype(np.float32)


def test_writes_one_action_with_one_curve_per_mapped_key(writer, face, bpy_module):
    from blender_helpers import fcurve_by_key

    weights = _weights(90)
    result = writer.write_shape_key_action(face, weights, fps=30, start_frame=101, name="furious")
    key = face.data.shape_keys
    assert key.animation_data.action == result.action
    assert result.action.name == "furious"
    curves = fcurve_by_key(result.action, key.animation_data)
    assert sorted(curves) == sorted(k for k in KEYS if k != "NotAChannel")
    assert result.keyframe_count == 90 * 6
    source = {"eyeBlink_L": "eyeBlinkLeft", "Face.jawOpen": "jawOpen", "browInnerUp_R": "browInnerUp"}
    for key_name, arkit in source.items():
        fc = curves[key_name]
        co = np.empty(2 * len(fc.keyframe_points), np.float32)
        fc.keyframe_points.foreach_get("co", co)
        np.testing.assert_allclose(co[0::2], np.arange(101, 191))
        np.testing.assert_allclose(co[1::2], weights[:, ARKIT_NAMES.index(arkit)], atol=1e-6)
    # The evaluated scene follows the curves.
    scene = bpy_module.context.scene
    scene.frame_set(130)
    jaw = key.key_blocks["Face.jawOpen"].value
    assert jaw == pytest.approx(weights[29, ARKIT_NAMES.index("jawOpen")], abs=1e-5)


def test_uses_the_action_api_blender_has(writer, face, blender_version):
    result = writer.write_shape_key_action(face, _weights(10), fps=30)
    action = result.action
    if writer.uses_layered_actions():
        assert len(action.layers) == 1 and len(action.slots) == 1
        assert face.data.shape_keys.animation_data.action_slot == action.slots[0]
        assert action.slots[0].target_id_type == "KEY"
    else:
        assert blender_version < (4, 4, 0)
        assert len(action.fcurves) == 6 and action.id_root == "KEY"


def test_scene_fps_spaces_the_keys(writer, face):
    from blender_helpers import action_fcurves

    result = writer.write_shape_key_action(face, _weights(31), fps=30, scene_fps=24, start_frame=1)
    fc = action_fcurves(result.action)[0]
    frames = np.array([kp.co[0] for kp in fc.keyframe_points])
    np.testing.assert_allclose(frames, 1 + np.arange(31) * 0.8, atol=1e-5)
    assert frames[-1] == pytest.approx(25.0)


def test_previous_action_is_stashed_not_deleted(writer, face, bpy_module):
    first = writer.write_shape_key_action(face, _weights(10), fps=30, name="calm").action
    second = writer.write_shape_key_action(face, _weights(10, 1), fps=30, name="furious")
    anim = face.data.shape_keys.animation_data
    assert anim.action == second.action and second.stashed_action == first
    assert first.name in bpy_module.data.actions and first.use_fake_user
    stash = [t for t in anim.nla_tracks if t.name == writer.STASH_TRACK_NAME]
    assert len(stash) == 1 and stash[0].mute and stash[0].strips[0].action == first


def test_values_are_clipped_to_the_slider_range(writer, face):
    from blender_helpers import fcurve_by_key

    face.data.shape_keys.key_blocks["eyeBlink_L"].slider_max = 0.5
    weights = np.full((5, 52), 0.9, np.float32)
    result = writer.write_shape_key_action(face, weights, fps=30)
    curves = fcurve_by_key(result.action)
    assert max(kp.co[1] for kp in curves["eyeBlink_L"].keyframe_points) == pytest.approx(0.5)
    assert max(kp.co[1] for kp in curves["eyeBlinkRight"].keyframe_points) == pytest.approx(0.9)


@pytest.mark.parametrize("tolerance", [0.005, 0.02])
def test_keyframe_reduction_stays_within_tolerance_of_the_dense_curve(writer, face, tolerance):
    from blender_helpers import fcurve_by_key

    rng = np.random.default_rng(0)
    weights = np.clip(_weights(300) + 0.003 * rng.normal(size=(300, 52)), 0, 1).astype(np.float32)
    dense = fcurve_by_key(writer.write_shape_key_action(face, weights, fps=30).action)
    reduced_result = writer.write_shape_key_action(face, weights, fps=30, reduce_tolerance=tolerance)
    reduced = fcurve_by_key(reduced_result.action)
    assert reduced_result.keyframe_count < 0.5 * 300 * 6
    for name, fc in reduced.items():
        assert len(fc.keyframe_points) < len(dense[name].keyframe_points)
        worst = max(abs(fc.evaluate(f) - dense[name].evaluate(f)) for f in range(1, 301))
        assert worst <= tolerance + 1e-5, name


def _snapshot(bpy_module, obj):
    anim = obj.data.shape_keys.animation_data
    return (
        sorted(a.name for a in bpy_module.data.actions),
        anim.action.name if anim and anim.action else None,
        len(anim.nla_tracks) if anim else None,
    )


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        (np.full((4, 52), np.nan, np.float32), "NaN"),
        (np.zeros((0, 52), np.float32), "at least one frame"),
        (np.zeros((4, 51), np.float32), r"frames, 52"),
    ],
)
def test_bad_weights_change_nothing(writer, face, bpy_module, weights, message):
    writer.write_shape_key_action(face, _weights(5), fps=30, name="before")
    before = _snapshot(bpy_module, face)
    with pytest.raises(ValueError, match=message):
        writer.write_shape_key_action(face, weights, fps=30)
    assert _snapshot(bpy_module, face) == before


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"fps": float("inf")}, r"fps=inf"),
        ({"fps": float("nan")}, r"fps=nan"),
        ({"start_frame": float("nan")}, r"start_frame=nan"),
        ({"scene_fps": float("inf")}, r"scene_fps=inf"),
    ],
)
def test_non_finite_numbers_change_nothing(writer, face, bpy_module, options, message):
    # fps=inf used to pass the "positive" check and key every frame at NaN.
    writer.write_shape_key_action(face, _weights(5), fps=30, name="before")
    before = _snapshot(bpy_module, face)
    with pytest.raises(writer.ShapeKeyWriteError, match=message):
        writer.write_shape_key_action(face, _weights(5), **{"fps": 30, **options})
    assert _snapshot(bpy_module, face) == before


def test_non_finite_weights_are_refused_before_the_target_is_read(writer, bpy_module):
    with pytest.raises(writer.ShapeKeyWriteError, match="NaN or infinite values; nothing was written"):
        writer.write_shape_key_action(None, np.full((4, 52), np.inf, np.float32), fps=30)


def test_failure_while_writing_rolls_everything_back(writer, face, bpy_module, monkeypatch):
    writer.write_shape_key_action(face, _weights(5), fps=30, name="before")
    before = _snapshot(bpy_module, face)

    def broken_stash(*args):
        raise RuntimeError("disk full")

    monkeypatch.setattr(writer, "_stash", broken_stash)
    with pytest.raises(RuntimeError, match="disk full"):
        writer.write_shape_key_action(face, _weights(5), fps=30, name="after")
    assert _snapshot(bpy_module, face) == before


def test_failure_on_a_mesh_without_animation_leaves_no_animation_data(writer, face, monkeypatch):
    monkeypatch.setattr(
        writer, "_new_action_channels", lambda *a: (_ for _ in ()).throw(RuntimeError("boom"))
    )
    with pytest.raises(RuntimeError):
        writer.write_shape_key_action(face, _weights(5), fps=30)
    assert face.data.shape_keys.animation_data is None


def test_bad_targets_say_what_to_do(writer, empty_scene, bpy_module):
    from blender_helpers import make_keyed_mesh

    with pytest.raises(writer.ShapeKeyWriteError, match="No mesh selected"):
        writer.write_shape_key_action(None, _weights(3), fps=30)
    empty = bpy_module.data.objects.new("Empty", None)
    with pytest.raises(writer.ShapeKeyWriteError, match="not a mesh"):
        writer.write_shape_key_action(empty, _weights(3), fps=30)
    plain = make_keyed_mesh("Plain", [])
    with pytest.raises(writer.ShapeKeyWriteError, match="no shape keys"):
        writer.write_shape_key_action(plain, _weights(3), fps=30)
    odd = make_keyed_mesh("Odd", ["Smile", "Frown"])
    with pytest.raises(writer.ShapeKeyWriteError, match=r"None of the shape keys.*Smile, Frown"):
        writer.write_shape_key_action(odd, _weights(3), fps=30)
    assert len(bpy_module.data.actions) == 0


def test_linked_library_data_is_refused(writer, empty_scene, bpy_module, tmp_path):
    from blender_helpers import make_keyed_mesh

    make_keyed_mesh("LinkedFace", ["jawOpen"])
    library = tmp_path / "library.blend"
    bpy_module.data.libraries.write(str(library), {bpy_module.data.objects["LinkedFace"]})
    bpy_module.ops.wm.read_factory_settings(use_empty=True)
    with bpy_module.data.libraries.load(str(library), link=True) as (_src, dst):
        dst.objects = ["LinkedFace"]
    linked = dst.objects[0]
    assert linked.library is not None
    with pytest.raises(writer.ShapeKeyWriteError, match=r"linked from .*library\.blend.*Make Local"):
        writer.write_shape_key_action(linked, _weights(3), fps=30)
    assert len(bpy_module.data.actions) == 0


def test_custom_mapping_preset(writer, face):
    from blender_helpers import fcurve_by_key
    from expclip_ext.expclip_blender.mapping import preset_from_dict

    preset = preset_from_dict(
        {"auto_match": False, "channels": {"NotAChannel": {"source": "jawOpen", "gain": 0.5}}}
    )
    report = preset.resolve(kb.name for kb in face.data.shape_keys.key_blocks[1:])
    weights = _weights(8)
    result = writer.write_shape_key_action(face, weights, fps=30, channels=report)
    curves = fcurve_by_key(result.action)
    assert list(curves) == ["NotAChannel"]
    values = [kp.co[1] for kp in curves["NotAChannel"].keyframe_points]
    np.testing.assert_allclose(values, 0.5 * weights[:, ARKIT_NAMES.index("jawOpen")], atol=1e-6)
