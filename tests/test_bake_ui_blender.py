"""The scene settings (scene.expclip), the panel's helpers and the buttons' poll messages, on real bpy."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.blender, pytest.mark.blender_compat]

# The presets read and write these names: they are a contract.
FIELDS = {
    "audio_source": "STRIP",
    "strip": "",
    "audio_file": "",
    "prompt": "neutral",
    "intensity": 1.0,
    "smoothing": 0.0,
    "blinks": True,
    "gaze": True,
    "gaze_amount": 1.0,
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
    assert (props["gaze_amount"].hard_min, props["gaze_amount"].hard_max) == (0.0, 2.0)
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
    targets = ext.operators.services.targets
    assert bpy.ops.expclip.add_demo_head() == {"FINISHED"}
    head = bpy.context.view_layer.objects.active
    rig = make_keyed_mesh("Rig", ["Blink_L", "JawDrop", "mouthSmileLeft"])
    rig.select_set(True)
    bpy.context.view_layer.objects.active = rig
    head.select_set(True)
    assert dict(targets.channel_counts(bpy.context)) == {
        "Rig": "1/52 channels",
        "ExpCLIP Demo Head": "52/52 channels",
    }
    preset = tmp_path / "rig.json"
    preset.write_text('{"channels": {"Blink_L": "eyeBlinkLeft", "JawDrop": "jawOpen"}}', encoding="utf-8")
    counts = dict(targets.channel_counts(bpy.context, str(preset)))
    assert counts == {"Rig": "3/52 channels", "ExpCLIP Demo Head": "52/52 channels"}
    preset.write_text("{not json", encoding="utf-8")  # a broken preset never breaks the panel
    assert dict(targets.channel_counts(bpy.context, str(preset)))["Rig"] == "1/52 channels"


def test_panel_shows_the_strip_frame_range(registered, tmp_path, ext):
    import numpy as np
    from bake_helpers import add_sound_strip, write_wav

    bpy = registered
    scene = bpy.context.scene
    scene.render.fps, scene.render.fps_base = 24, 1.0
    strip = add_sound_strip(scene, write_wav(tmp_path / "v.wav", np.full(48000, 0.1)), 10)
    strip.frame_offset_end = 24
    text = ext.operators.services.sound_source.frame_range_text(scene, strip)
    assert text == "frames 10-57 (48 frames, 2.00 s)"


def test_model_cache_reuses_and_drops_the_model(ext, monkeypatch):
    cache = ext.operators.services.model_cache
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
    cache = ext.operators.services.model_cache
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


class _Layout:
    """Stands in for a UILayout when the panel's draw is called outside a window: every call is taken
    and returns another layout, so the draw runs through all of its reads."""

    def __getattr__(self, name):
        return lambda *args, **kwargs: _Layout()


def _draw_panel(ext, bpy) -> None:
    import functools
    import types

    cls = ext.ui.sidebar.EXPCLIP_PT_main
    panel = types.SimpleNamespace(layout=_Layout())
    for name in ("_draw_audio", "_draw_style", "_draw_timeline", "_draw_targets"):
        setattr(panel, name, functools.partial(getattr(cls, name), panel))
    cls.draw(panel, bpy.context)


class _Recorder:
    """A UILayout stand-in that records the properties drawn and the ``active`` state they were drawn in."""

    def __init__(self, drawn: list, active: bool = True):
        self._drawn, self.active = drawn, active

    def prop(self, data, name, **kwargs):
        self._drawn.append((name, self.active))
        return _Recorder(self._drawn, self.active)

    def __getattr__(self, name):
        return lambda *args, **kwargs: _Recorder(self._drawn, self.active)


def test_panel_draws_eye_movement_and_its_amount(registered, ext):
    settings = registered.context.scene.expclip
    for gaze in (True, False):
        settings.gaze = gaze
        drawn: list = []
        ext.ui.sidebar.EXPCLIP_PT_main._draw_style(None, _Recorder(drawn), settings)
        assert ("gaze", True) in drawn and ("gaze_amount", gaze) in drawn  # the amount greys out when off


def test_panel_redraws_read_the_mapping_preset_once_per_version(registered, tmp_path, ext, monkeypatch):
    bpy = registered
    cache = ext.operators.services.mapping_presets
    monkeypatch.setattr(ext.ui.sidebar, "preload", lambda *args: None)  # no model load in this test
    reads = []
    real = cache.load_mapping_preset

    def counting(path):
        reads.append(path)
        return real(path)

    monkeypatch.setattr(cache, "load_mapping_preset", counting)
    cache.clear_mapping_cache()
    assert bpy.ops.expclip.add_demo_head() == {"FINISHED"}
    preset = tmp_path / "rig.json"
    preset.write_text('{"channels": {"JawDrop": "jawOpen"}}', encoding="utf-8")
    bpy.context.scene.expclip.mapping_preset = str(preset)
    _draw_panel(ext, bpy)
    _draw_panel(ext, bpy)
    assert len(reads) == 1  # the mapping line and the channel counts share one parse, kept across draws
    preset.write_text('{"channels": {"JawDrop": "jawOpen", "Blink_L": "eyeBlinkLeft"}}', encoding="utf-8")
    _draw_panel(ext, bpy)
    assert len(reads) == 2
    loaded = cache.cached_mapping_preset(str(preset))
    assert {ch.shape_key for ch in loaded.channels} == {"JawDrop", "Blink_L"}
    preset.write_text("{not json", encoding="utf-8")  # a broken file is reported, and read once too
    _draw_panel(ext, bpy)
    _draw_panel(ext, bpy)
    assert len(reads) == 3
    with pytest.raises(ext.expclip_blender.mapping.MappingError, match="not valid JSON"):
        cache.cached_mapping_preset(str(preset))
    cache.clear_mapping_cache()


def test_preset_listing_is_read_again_only_when_a_folder_changes(registered, ext, monkeypatch):
    presets = ext.operators.services.presets
    reads = []
    real = presets.list_presets

    def counting(folders):
        reads.append(folders)
        return real(folders)

    monkeypatch.setattr(presets, "list_presets", counting)
    menu_rows = ext.ui.preset_menu.preset_menu_rows
    first = menu_rows(registered.context)
    assert menu_rows(registered.context) == first and len(reads) == 1
    user_dir = presets.user_presets_dir()
    user_dir.mkdir(parents=True, exist_ok=True)
    try:
        (user_dir / "quiet.json").write_text('{"name": "Quiet", "prompt": "quietly sad"}', encoding="utf-8")
        rows = menu_rows(registered.context)
        assert len(reads) == 2 and "Quiet" in [r.text for r in rows]
    finally:
        (user_dir / "quiet.json").unlink(missing_ok=True)
