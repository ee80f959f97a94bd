"""The Bake and Preview operators driven through bpy.ops on real Blender, with the trained model.

Audio comes from sound strips made of generated WAVs (speech-like signals; espeak-ng speech where it is
installed). Where the bpy build cannot make sound strips (the PyPI 4.2 wheel has no Audaspace) the strip
tests skip and the file-source tests cover the same operator on 4.2.
"""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest

from expclip_blender import ARKIT_NAMES

pytestmark = [pytest.mark.blender, pytest.mark.blender_compat]

JAW = ARKIT_NAMES.index("jawOpen")


@pytest.fixture
def registered(ext, empty_scene, bpy_module):
    ext.register()
    yield bpy_module
    ext.unregister()


@pytest.fixture
def head(registered):
    bpy = registered
    assert bpy.ops.expclip.add_demo_head() == {"FINISHED"}
    return bpy.context.view_layer.objects.active


@pytest.fixture(scope="module")
def speech_wav(tmp_path_factory):
    from bake_helpers import speech_like, write_wav

    return write_wav(tmp_path_factory.mktemp("audio") / "speech.wav", speech_like(3.0))


def _settings(bpy):
    return bpy.context.scene.expclip


def _use_file(bpy, path) -> None:
    settings = _settings(bpy)
    settings.audio_source = "FILE"
    settings.audio_file = str(path)


def _curves(obj):
    from blender_helpers import fcurve_by_key

    anim = obj.data.shape_keys.animation_data
    return fcurve_by_key(anim.action, anim)


def _keys(fcurve) -> np.ndarray:
    co = np.zeros(2 * len(fcurve.keyframe_points), np.float32)
    fcurve.keyframe_points.foreach_get("co", co)
    return co.reshape(-1, 2)


def _baked(obj) -> np.ndarray:
    """(frames, 52) baked values in ARKit order (the demo head has every channel)."""
    curves = _curves(obj)
    return np.stack([_keys(curves[name])[:, 1] for name in ARKIT_NAMES], axis=1)


def _bake(bpy, undo: bool = False):
    return bpy.ops.expclip.bake("EXEC_DEFAULT", undo)


# --- keyframes land on the right frames and keys --------------------------------------------------


def test_bake_writes_one_action_on_the_strip_frames(head, speech_wav):
    import bpy
    from bake_helpers import add_sound_strip

    scene = bpy.context.scene
    scene.render.fps, scene.render.fps_base = 24, 1.0
    strip = add_sound_strip(scene, speech_wav, 10)
    strip.frame_offset_start = 6
    strip.frame_offset_end = 12
    _settings(bpy).prompt = "happy"
    before = len(bpy.data.actions)
    assert _bake(bpy) == {"FINISHED"}
    assert len(bpy.data.actions) == before + 1
    action = head.data.shape_keys.animation_data.action
    assert action.name == "happy"
    curves = _curves(head)
    assert sorted(curves) == sorted(ARKIT_NAMES)
    first, end = strip.frame_final_start, strip.frame_final_end
    assert (first, end) == (16, 10 + 72 - 12)
    for fcurve in curves.values():
        frames = _keys(fcurve)[:, 0]
        np.testing.assert_array_equal(frames, np.arange(first, end, dtype=np.float32))
    values = _baked(head)
    assert values.min() >= 0.0 and values.max() <= 1.0
    assert values[:, JAW].max() > 0.05  # the speech opens the jaw


def test_the_bake_moves_the_eyes_unless_told_not_to(head, speech_wav):
    import bpy

    from expclip_blender.gaze import GAZE_INDEX

    _use_file(bpy, speech_wav)
    assert _bake(bpy) == {"FINISHED"}
    moving = _baked(head)[:, GAZE_INDEX]
    assert np.ptp(moving, axis=0).max() > 0.1  # saccades and glances in the eyeLook curves by default
    _settings(bpy).gaze = False
    assert _bake(bpy) == {"FINISHED"}
    still = _baked(head)[:, GAZE_INDEX]
    assert np.ptp(still, axis=0).max() < 0.05  # only the generator's own slight eye motion
    assert np.all(moving >= still - 1e-6)  # added on top of it


def test_bake_honours_fps_base(head, speech_wav):
    import bpy
    from bake_helpers import add_sound_strip

    scene = bpy.context.scene
    scene.render.fps, scene.render.fps_base = 30, 1.001
    strip = add_sound_strip(scene, speech_wav, 1)
    assert _bake(bpy) == {"FINISHED"}
    frames = _keys(_curves(head)["jawOpen"])[:, 0]
    # 3 s at 29.97 fps -> 90 frames (89.91 rounded up by the strip), keyed on whole frames 1..90.
    assert len(frames) == strip.frame_final_end - strip.frame_final_start == 90
    np.testing.assert_array_equal(frames, np.arange(1, 91, dtype=np.float32))


def test_bake_follows_the_speech_in_time(head, tmp_path):
    """Speech only in the middle of the strip: the mouth moves there and rests in the silences."""
    import bpy
    import soundfile as sf
    from bake_helpers import RATE, add_sound_strip, espeak_wav, write_wav

    spoken, rate = sf.read(
        espeak_wav(tmp_path / "espeak.wav", "Maybe we should open the big box."), dtype="float32"
    )
    from expclip_blender.audio import resample

    spoken = resample(spoken, rate, RATE)
    pad = np.zeros(RATE, np.float32)
    wav = write_wav(tmp_path / "padded.wav", np.concatenate([pad, spoken, pad]))
    scene = bpy.context.scene
    scene.render.fps, scene.render.fps_base = 25, 1.0
    add_sound_strip(scene, wav, 100)
    assert _bake(bpy) == {"FINISHED"}
    jaw = _baked(head)[:, JAW]
    speech = slice(25 + 5, 25 + round(len(spoken) / RATE * 25) - 5)
    assert jaw[speech].max() > jaw[:20].max() + 0.1
    assert jaw[speech].max() > jaw[-20:].max() + 0.1


def test_file_source_bakes_from_the_scene_start(head, speech_wav):
    import bpy

    scene = bpy.context.scene
    scene.frame_start = 5
    scene.render.fps, scene.render.fps_base = 24, 1.0
    _use_file(bpy, speech_wav)
    assert _bake(bpy) == {"FINISHED"}
    frames = _keys(_curves(head)["jawOpen"])[:, 0]
    np.testing.assert_array_equal(frames, np.arange(5, 5 + 72, dtype=np.float32))


def test_every_target_mesh_gets_the_channels_it_has(head, speech_wav):
    import bpy
    from blender_helpers import make_keyed_mesh

    teeth = make_keyed_mesh("Teeth", ["jawOpen", "tongueOut", "Smile"])
    teeth.select_set(True)
    head.select_set(True)
    bpy.context.view_layer.objects.active = head
    _use_file(bpy, speech_wav)
    assert _bake(bpy) == {"FINISHED"}
    assert sorted(_curves(teeth)) == ["jawOpen", "tongueOut"]
    np.testing.assert_allclose(_keys(_curves(teeth)["jawOpen"]), _keys(_curves(head)["jawOpen"]))
    assert len(_curves(head)) == 52


def test_second_bake_stashes_the_previous_action(head, speech_wav):
    import bpy

    _use_file(bpy, speech_wav)
    _settings(bpy).prompt = "sad"
    assert _bake(bpy) == {"FINISHED"}
    _settings(bpy).prompt = "furious"
    assert _bake(bpy) == {"FINISHED"}
    anim = head.data.shape_keys.animation_data
    assert anim.action.name == "furious"
    stash = [t for t in anim.nla_tracks if t.name == "[Action Stash]"]
    assert len(stash) == 1 and stash[0].mute
    assert stash[0].strips[0].action.name == "sad"
    assert bpy.data.actions["sad"].use_fake_user


# --- undo and atomicity ---------------------------------------------------------------------------


def test_undo_restores_the_file(head, speech_wav):
    import bpy
    from bake_helpers import file_state

    _use_file(bpy, speech_wav)
    window = bpy.context.window_manager.windows[0]
    with bpy.context.temp_override(window=window):
        bpy.ops.ed.undo_push(message="before bake")
        before = file_state()
        assert _bake(bpy, undo=True) == {"FINISHED"}
        assert file_state() != before
        assert bpy.ops.ed.undo() == {"FINISHED"}
    assert file_state() == before


def test_a_failed_write_leaves_every_mesh_as_it_was(head, speech_wav, ext, monkeypatch):
    import bpy
    from bake_helpers import file_state
    from blender_helpers import make_keyed_mesh

    bake = ext.operators.services.baking
    teeth = make_keyed_mesh("Teeth", ["jawOpen"])
    teeth.select_set(True)
    head.select_set(True)
    bpy.context.view_layer.objects.active = head
    _use_file(bpy, speech_wav)
    _settings(bpy).prompt = "calm"
    assert _bake(bpy) == {"FINISHED"}  # an earlier bake: the next one stashes it
    before = file_state()
    real, calls = bake.write_shape_key_action, []

    def fail_on_second(obj, *args, **kwargs):
        calls.append(obj.name)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return real(obj, *args, **kwargs)

    monkeypatch.setattr(bake, "write_shape_key_action", fail_on_second)
    with pytest.raises(RuntimeError, match=r"could not bake.*disk full"):
        _bake(bpy)
    assert len(calls) == 2
    assert file_state() == before


# --- emotion timeline -----------------------------------------------------------------------------


def test_timeline_markers_blend_between_prompts(head, speech_wav):
    import bpy

    scene = bpy.context.scene
    scene.render.fps, scene.render.fps_base = 30, 1.0
    scene.frame_start = 1
    _use_file(bpy, speech_wav)
    settings = _settings(bpy)
    settings.transition_s = 1.0

    def bake(prompt: str, timeline: bool) -> np.ndarray:
        settings.prompt, settings.use_timeline = prompt, timeline
        assert _bake(bpy) == {"FINISHED"}
        return _baked(head)

    happy, furious = bake("happy", False), bake("furious", False)
    scene.timeline_markers.new("expclip: furious", frame=46)  # t = 1.5 s
    blended = bake("happy", True)
    assert head.data.shape_keys.animation_data.action.name.startswith("happy")  # happy.001: a 2nd one
    # Well before the transition (1.0-2.0 s) the face is the first prompt's, well after the second's.
    np.testing.assert_allclose(blended[:15], happy[:15], atol=1e-4)
    np.testing.assert_allclose(blended[-15:], furious[-15:], atol=1e-4)
    # At the marker the style is in between: closer to each prompt than they are to each other.
    mid = slice(42, 49)
    apart = np.linalg.norm(happy[mid] - furious[mid])
    assert apart > 0.1
    to_happy, to_furious = (
        np.linalg.norm(blended[mid] - happy[mid]),
        np.linalg.norm(blended[mid] - furious[mid]),
    )
    assert 0.1 * apart < to_happy < apart
    assert 0.1 * apart < to_furious < apart


def test_a_malformed_marker_says_which_and_changes_nothing(head, speech_wav):
    import bpy
    from bake_helpers import file_state

    _use_file(bpy, speech_wav)
    bpy.context.scene.timeline_markers.new("expclip: angry @ten", frame=10)
    before = file_state()
    with pytest.raises(RuntimeError, match=r"Marker 'expclip: angry @ten'.*from 0 to 2"):
        _bake(bpy)
    assert file_state() == before
    _settings(bpy).use_timeline = False  # markers off: the bad marker no longer matters
    assert _bake(bpy) == {"FINISHED"}


# --- preview --------------------------------------------------------------------------------------


def test_preview_expression_sets_the_shape_key_values(head, ext):
    import bpy

    model = ext.operators.services.model_cache.model_for(bpy.context)
    settings = _settings(bpy)
    settings.prompt, settings.intensity = "furious", 0.8
    window = bpy.context.window_manager.windows[0]
    with bpy.context.temp_override(window=window):
        bpy.ops.ed.undo_push(message="before preview")
        assert bpy.ops.expclip.preview_expression("EXEC_DEFAULT", True) == {"FINISHED"}
        blocks = bpy.context.view_layer.objects.active.data.shape_keys.key_blocks
        values = np.array([blocks[name].value for name in ARKIT_NAMES])
        np.testing.assert_allclose(values, model.expression("furious", 0.8), atol=1e-6)
        assert values.max() > 0.1
        assert bpy.ops.ed.undo() == {"FINISHED"}
    blocks = bpy.context.view_layer.objects.active.data.shape_keys.key_blocks
    assert all(blocks[name].value == 0.0 for name in ARKIT_NAMES)
    assert "UNDO" in bpy.types.EXPCLIP_OT_preview_expression.bl_options


def test_preview_of_an_empty_prompt_is_neutral(head):
    import bpy

    blocks = head.data.shape_keys.key_blocks
    blocks["jawOpen"].value = 0.7
    _settings(bpy).prompt = "   "
    assert bpy.ops.expclip.preview_expression() == {"FINISHED"}
    assert all(blocks[name].value == 0.0 for name in ARKIT_NAMES)


# --- bad input: each gives its message and changes nothing ----------------------------------------


def _refused(bpy, match: str, operator: str = "bake") -> None:
    from bake_helpers import file_state

    before = file_state(bpy)
    with pytest.raises(RuntimeError, match=match):
        getattr(bpy.ops.expclip, operator)()
    assert file_state(bpy) == before


def test_no_mesh_selected(registered, speech_wav):
    bpy = registered
    _use_file(bpy, speech_wav)
    assert not bpy.ops.expclip.bake.poll()
    _refused(bpy, "Select a mesh with shape keys")
    _refused(bpy, "Select a mesh with shape keys", "preview_expression")


def test_a_mesh_without_shape_keys(registered, speech_wav):
    bpy = registered
    mesh = bpy.data.meshes.new("Plain")
    mesh.from_pydata([(0, 0, 0), (1, 0, 0), (0, 1, 0)], [], [(0, 1, 2)])
    obj = bpy.data.objects.new("Plain", mesh)
    bpy.context.scene.collection.objects.link(obj)
    bpy.context.view_layer.objects.active = obj
    obj.select_set(True)
    _use_file(bpy, speech_wav)
    _refused(bpy, r"Select a mesh with shape keys \('Plain' has none\)")


def test_shape_keys_that_match_no_arkit_name(registered, speech_wav):
    from blender_helpers import make_keyed_mesh

    bpy = registered
    obj = make_keyed_mesh("Blob", ["Smile", "Frown"])
    bpy.context.view_layer.objects.active = obj
    obj.select_set(True)
    _use_file(bpy, speech_wav)
    _refused(bpy, r"None of the shape keys of 'Blob' match an ARKit name \(Smile, Frown\).*mapping preset")


def test_a_broken_mapping_preset(head, speech_wav, tmp_path):
    import bpy

    preset = tmp_path / "rig.json"
    preset.write_text('{"channels": {"Smile": "mouthSmile"}}', encoding="utf-8")
    _use_file(bpy, speech_wav)
    _settings(bpy).mapping_preset = str(preset)
    _refused(bpy, r"'mouthSmile' is not an ARKit name")


def test_linked_library_data_cannot_be_baked(registered, speech_wav, tmp_path):
    bpy = registered
    assert bpy.ops.expclip.add_demo_head() == {"FINISHED"}
    obj = bpy.context.view_layer.objects.active
    library = tmp_path / "characters.blend"
    bpy.data.libraries.write(str(library), {obj})
    bpy.data.objects.remove(obj)
    with bpy.data.libraries.load(str(library), link=True) as (_src, dst):
        dst.objects = ["ExpCLIP Demo Head"]
    linked = dst.objects[0]
    bpy.context.scene.collection.objects.link(linked)
    bpy.context.view_layer.objects.active = linked
    linked.select_set(True)
    _use_file(bpy, speech_wav)
    _refused(bpy, r"linked from .*characters\.blend and cannot be edited.*Make Local")


def test_no_sound_strip_and_no_file(head):
    import bpy

    assert _settings(bpy).audio_source == "STRIP"
    _refused(bpy, "Add a sound strip or choose a file")
    _settings(bpy).audio_source = "FILE"
    _refused(bpy, "Add a sound strip or choose a file")


def test_missing_unreadable_and_corrupt_audio_files(head, tmp_path):
    import bpy

    _use_file(bpy, tmp_path / "gone.wav")
    _refused(bpy, r"'.*gone\.wav'.*does not exist")
    _use_file(bpy, tmp_path)  # a folder, not a file
    _refused(bpy, r"Cannot read audio file")
    corrupt = tmp_path / "corrupt.wav"
    corrupt.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(range(200)))
    _use_file(bpy, corrupt)
    _refused(bpy, r"corrupt\.wav'.*(damaged|not a readable)")


def test_zero_length_audio(head, tmp_path):
    import bpy
    from bake_helpers import write_wav

    _use_file(bpy, write_wav(tmp_path / "empty.wav", np.zeros(0, np.float32)))
    _refused(bpy, r"empty\.wav'.*no audio \(0 samples\)")


def test_silent_audio_bakes_a_resting_face_with_a_note(head, tmp_path, ext, capfd):
    import bpy
    from bake_helpers import RATE, write_wav

    _use_file(bpy, write_wav(tmp_path / "silence.wav", np.zeros(2 * RATE, np.float32)))
    plan = ext.operators.services.baking.plan_bake(bpy.context)
    assert plan.silent
    assert "The audio is silent: baked a resting face" in ext.operators.services.baking.bake_message(plan, [])
    capfd.readouterr()
    assert _bake(bpy) == {"FINISHED"}
    assert "The audio is silent: baked a resting face" in capfd.readouterr().out  # the INFO report
    values = _baked(head)
    assert len(values) == 48
    assert values[:, JAW].max() < 0.1  # the mouth rests


def test_empty_prompt_bakes_neutral(head, speech_wav):
    import bpy

    _use_file(bpy, speech_wav)
    _settings(bpy).prompt = ""
    assert _bake(bpy) == {"FINISHED"}
    assert head.data.shape_keys.animation_data.action.name == "neutral"


@pytest.mark.slow
def test_a_long_clip_works_and_reports_progress(head, tmp_path, ext):
    """150 s: three chunks of the generator, so progress comes in steps; the bake works."""
    import bpy
    from bake_helpers import speech_like, write_wav

    bake = ext.operators.services.baking
    scene = bpy.context.scene
    scene.render.fps, scene.render.fps_base = 24, 1.0
    _use_file(bpy, write_wav(tmp_path / "long.wav", speech_like(150.0, seed=3)))
    plan = bake.plan_bake(bpy.context)
    fractions = []

    class Recording(bake.BakeJob):
        def _progress(self, fraction):
            fractions.append(fraction)
            return super()._progress(fraction)

    job = Recording(plan, *ext.operators.services.model_cache.model_settings(bpy.context)).start()
    assert job.wait(300)
    assert job.error is None and not job.cancelled
    assert len(fractions) >= 3 and fractions == sorted(fractions) and fractions[-1] == pytest.approx(1.0)
    assert job.weights.shape == (150 * 24, 52)
    assert _bake(bpy) == {"FINISHED"}
    assert len(_keys(_curves(head)["jawOpen"])) == 150 * 24


def test_cancel_stops_the_bake_and_changes_nothing(head, speech_wav, ext):
    import bpy
    from bake_helpers import file_state

    bake = ext.operators.services.baking
    _use_file(bpy, speech_wav)
    before = file_state()
    job = bake.BakeJob(
        bake.plan_bake(bpy.context), *ext.operators.services.model_cache.model_settings(bpy.context)
    )
    job.cancel()  # Esc pressed as the bake starts
    job.start()
    assert job.wait(60)
    assert job.cancelled and job.weights is None and job.error is None
    assert file_state() == before


# --- glTF export ----------------------------------------------------------------------------------


def _read_glb(path) -> tuple[dict, bytes]:
    data = path.read_bytes()
    magic, _version, length = struct.unpack_from("<4sII", data, 0)
    assert magic == b"glTF" and length == len(data)
    json_len, json_type = struct.unpack_from("<II", data, 12)
    assert json_type == 0x4E4F534A  # "JSON"
    doc = json.loads(data[20 : 20 + json_len])
    bin_len, bin_type = struct.unpack_from("<II", data, 20 + json_len)
    assert bin_type == 0x004E4942  # "BIN\0"
    start = 28 + json_len
    return doc, data[start : start + bin_len]


def _accessor(doc: dict, binary: bytes, index: int) -> np.ndarray:
    acc = doc["accessors"][index]
    assert acc["componentType"] == 5126  # FLOAT
    view = doc["bufferViews"][acc["bufferView"]]
    width = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4}[acc["type"]]
    offset = view.get("byteOffset", 0) + acc.get("byteOffset", 0)
    assert view.get("byteStride", 4 * width) == 4 * width
    return np.frombuffer(binary, np.float32, acc["count"] * width, offset).reshape(acc["count"], width)


def test_baked_animation_survives_gltf_export(head, speech_wav, tmp_path):
    import bpy

    scene = bpy.context.scene
    scene.render.fps, scene.render.fps_base = 24, 1.0
    scene.frame_start = 10
    _use_file(bpy, speech_wav)
    _settings(bpy).prompt = "surprised"
    assert _bake(bpy) == {"FINISHED"}
    baked = _baked(head)
    out = tmp_path / "head.glb"
    bpy.ops.export_scene.gltf(
        filepath=str(out),
        export_format="GLB",
        use_selection=True,
        export_animations=True,
        export_morph=True,
        export_morph_animation=True,
        export_optimize_animation_size=False,
    )
    doc, binary = _read_glb(out)
    names = doc["meshes"][0]["extras"]["targetNames"]
    assert names == list(ARKIT_NAMES)
    animation = next(a for a in doc["animations"] if a["name"] == "surprised")
    channel = next(c for c in animation["channels"] if c["target"]["path"] == "weights")
    sampler = animation["samplers"][channel["sampler"]]
    times = _accessor(doc, binary, sampler["input"])[:, 0]
    weights = _accessor(doc, binary, sampler["output"]).reshape(len(times), len(names))
    assert len(times) == len(baked) == 72
    np.testing.assert_allclose(times, (10 + np.arange(72)) / 24, atol=1e-5)
    np.testing.assert_allclose(weights, baked, atol=1e-4)


def test_truncated_audio_bakes_with_a_warning(head, tmp_path, ext, capfd):
    import bpy
    from bake_helpers import RATE, write_wav

    data = write_wav(tmp_path / "whole.wav", 0.3 * np.sin(np.arange(3 * RATE) * 0.05)).read_bytes()
    cut = tmp_path / "cut.wav"
    cut.write_bytes(data[: len(data) // 2])
    _use_file(bpy, cut)
    plan = ext.operators.services.baking.plan_bake(bpy.context)
    assert ext.operators.services.baking.bake_report_type(plan) == {"WARNING"}
    capfd.readouterr()
    assert _bake(bpy) == {"FINISHED"}
    out = capfd.readouterr().out
    assert "Warning: 'cut.wav' is truncated" in out and "of the 3.00 s its header states" in out
