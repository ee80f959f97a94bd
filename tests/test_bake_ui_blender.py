"""The scene settings (scene.expclip), the panel's helpers and the buttons' poll messages, on real bpy."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.blender, pytest.mark.blender42]

# The presets read and write these names: they are a contract.
FIELDS = {
    "audio_source": "STRIP",
    "strip": "",
    "audio_file": "",
    "prompt": "neutral",
    "intensity": 1.0,
    "smoothing": 0.0,
    "blinks": True,
    "mapping_preset": "",
    "transition_s": 0.5,
    "use_timeline": True,
}


@pytest.fixture
def registered(ext, empty_scene, bpy_module):
    ext.register()
    yield bpy_module
    ext.unregister()


def test_scene_settings_fields_and_defaults(registered):
    settings = registered.context.scene.expclip
    for name, default in FIELDS.items():
        expected = pytest.approx(default) if isinstance(default, float) else default
        assert getattr(settings, name) == expected, name
    props = type(settings).bl_rna.properties
    assert (props["intensity"].hard_min, props["intensity"].hard_max) == (0.0, 2.0)
    assert (props["smoothing"].hard_min, props["smoothing"].hard_max) == (0.0, 1.0)
    assert [item.identifier for item in props["audio_source"].enum_items] == ["STRIP", "FILE"]


def test_unregister_removes_the_settings(ext, empty_scene, bpy_module):
    ext.register()
    assert hasattr(bpy_module.types.Scene, "expclip")
    ext.unregister()
    assert not hasattr(bpy_module.types.Scene, "expclip")
    ext.register()  # and it comes back cleanly
    assert bpy_module.context.scene.expclip.prompt == "neutral"
    ext.unregister()


def test_buttons_say_why_they_are_disabled(registered, tmp_path):
    bpy = registered
    bake, preview = bpy.ops.expclip.bake, bpy.ops.expclip.preview_expression
    assert not bake.poll() and not preview.poll()
    assert bpy.ops.expclip.add_demo_head() == {"FINISHED"}
    assert preview.poll()
    assert not bake.poll()
    with pytest.raises(RuntimeError, match="Add a sound strip or choose a file"):
        bake()
    settings = bpy.context.scene.expclip
    settings.audio_source, settings.audio_file = "FILE", str(tmp_path / "take.wav")
    assert bake.poll()


def test_panel_channel_counts_follow_the_mapping_preset(registered, tmp_path, ext):
    from blender_helpers import make_keyed_mesh

    bpy = registered
    sidebar = ext.ui.sidebar
    assert bpy.ops.expclip.add_demo_head() == {"FINISHED"}
    head = bpy.context.view_layer.objects.active
    rig = make_keyed_mesh("Rig", ["Blink_L", "JawDrop", "mouthSmileLeft"])
    rig.select_set(True)
    bpy.context.view_layer.objects.active = rig
    head.select_set(True)
    assert dict(sidebar.channel_counts(bpy.context)) == {
        "Rig": "1/52 channels",
        "ExpCLIP Demo Head": "52/52 channels",
    }
    preset = tmp_path / "rig.json"
    preset.write_text('{"channels": {"Blink_L": "eyeBlinkLeft", "JawDrop": "jawOpen"}}', encoding="utf-8")
    counts = dict(sidebar.channel_counts(bpy.context, str(preset)))
    assert counts == {"Rig": "3/52 channels", "ExpCLIP Demo Head": "52/52 channels"}
    preset.write_text("{not json", encoding="utf-8")  # a broken preset never breaks the panel
    assert dict(sidebar.channel_counts(bpy.context, str(preset)))["Rig"] == "1/52 channels"


def test_panel_shows_the_strip_frame_range(registered, tmp_path, ext):
    import numpy as np
    from bake_helpers import add_sound_strip, write_wav

    bpy = registered
    scene = bpy.context.scene
    scene.render.fps, scene.render.fps_base = 24, 1.0
    strip = add_sound_strip(scene, write_wav(tmp_path / "v.wav", np.full(48000, 0.1)), 10)
    strip.frame_offset_end = 24
    text = ext.operators.sound_source.frame_range_text(scene, strip)
    assert text == "frames 10-57 (48 frames, 2.00 s)"


def test_model_cache_reuses_and_drops_the_model(ext, monkeypatch):
    cache = ext.operators.model_cache
    loads = []

    def fake_load(device="auto", models_dir=None):
        loads.append((device, models_dir))
        return object()

    cache.clear_model_cache()
    monkeypatch.setattr(cache.ex, "load", fake_load)
    first = cache.get_model("cpu", None)
    assert cache.get_model("cpu", None) is first and len(loads) == 1
    other = cache.get_model("cpu", "/somewhere")
    assert other is not first and cache.cached_model() is other and len(loads) == 2
    cache.clear_model_cache()
    assert cache.cached_model() is None
    cache.get_model("cpu", "/somewhere")
    assert len(loads) == 3
    cache.clear_model_cache()


def test_panel_shows_how_unseen_prompt_words_are_read(ext):
    reading = ext.ui.sidebar.prompt_reading
    assert "grumpy" in reading("feeling  crabby")
    assert reading("furious") is None and reading("") is None and reading("très en colère") is None


def test_panel_shows_the_emotion_phrase_read_on_its_own(ext):
    phrase = ext.ui.sidebar.prompt_phrase
    assert phrase("honestly,  she is a tiny bit judgy") == "a tiny bit judgy"
    assert phrase("furious") is None  # the prompt is its own phrase
    assert phrase("absolutely livid") is None  # its grade variants are read, not shown
    assert phrase("happy but a little surprised") is None and phrase("") is None


def test_panel_icons_exist(bpy_module, ext):
    """An unknown icon name makes the panel fail to draw: every icon the sidebar names must exist."""
    import inspect
    import re

    icons = {
        item.identifier
        for item in bpy_module.types.UILayout.bl_rna.functions["label"].parameters["icon"].enum_items
    }
    used = set(re.findall(r'icon="([A-Z0-9_]+)"', inspect.getsource(ext.ui.sidebar)))
    assert len(used) > 10
    assert used <= icons, sorted(used - icons)


def test_preload_loads_once_in_the_background(ext, monkeypatch):
    cache = ext.operators.model_cache
    loads, warmed = [], []

    def fake_load(device="auto", models_dir=None):
        loads.append((device, models_dir))
        return object()

    cache.clear_model_cache()
    monkeypatch.setattr(cache.ex, "load", fake_load)
    monkeypatch.setattr(cache, "warm_up", warmed.append)
    thread = cache.preload("cpu", None)
    thread.join(10)
    assert loads == [("cpu", None)] and warmed == [cache.cached_model()]
    assert cache.preload("cpu", None) is None  # loaded: nothing to do
    assert cache.get_model("cpu", None) is warmed[0] and len(loads) == 1

    def failing_load(device="auto", models_dir=None):
        loads.append((device, models_dir))
        raise ext.expclip_blender.ModelFileError("broken weights")

    monkeypatch.setattr(cache.ex, "load", failing_load)
    cache.preload("cpu", "/broken").join(10)
    assert cache.preload("cpu", "/broken") is None  # a failed preload is not retried on every redraw
    assert loads.count(("cpu", "/broken")) == 1
    cache.clear_model_cache()
