"""Preset operators, the preset menu and the add-on preferences on real Blender (source tree registered).

The extension is registered as Blender does it, and an add-on entry is made for it so that its preferences
exist (an installed zip is covered by test_extension_package.py).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from expclip_blender.model_folder import MODELS_DIR

pytestmark = [pytest.mark.blender, pytest.mark.blender_compat]

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def registered(ext, empty_scene, bpy_module):
    """The extension registered, with its add-on preferences and an empty user preset folder."""
    bpy = bpy_module
    ext.register()
    if not hasattr(bpy.types.Scene, "expclip"):
        ext.unregister()
        pytest.skip("the scene settings (ui/properties.py) are not registered by the extension")
    addon = bpy.context.preferences.addons.new()
    addon.module = ext.operators.services.preferences.ADDON_PACKAGE
    user_dir = ext.operators.services.presets.user_presets_dir()
    shutil.rmtree(user_dir, ignore_errors=True)
    yield bpy
    shutil.rmtree(user_dir, ignore_errors=True)
    addon = bpy.context.preferences.addons.get(
        ext.operators.services.preferences.ADDON_PACKAGE
    )  # a test may remake it
    if addon is not None:
        bpy.context.preferences.addons.remove(addon)
    ext.unregister()


def _prefs(ext, bpy):
    prefs = ext.operators.services.preferences.addon_preferences(bpy.context)
    assert prefs is not None
    return prefs


def _settings_tuple(settings):
    return (
        settings.prompt,
        round(settings.intensity, 5),
        round(settings.smoothing, 5),
        settings.blinks,
        settings.gaze,
        round(settings.gaze_amount, 5),
        settings.mapping_preset,
    )


def _mapping_file(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "hero-rig.json"
    path.write_text(json.dumps({"name": "Hero", "channels": {"Blink_L": "eyeBlinkLeft"}}), encoding="utf-8")
    return path


def _studio(ext, bpy, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    _prefs(ext, bpy).studio_presets_dir = str(folder)
    return folder


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())} if folder.is_dir() else {}


# --- presets ---------------------------------------------------------------------------------------


def test_save_then_apply_gives_the_same_settings(registered, ext, tmp_path):
    bpy = registered
    settings = bpy.context.scene.expclip
    mapping = _mapping_file(tmp_path / "rigs")
    settings.prompt = "seething, quiet rage"
    settings.intensity = 0.7
    settings.smoothing = 0.35
    settings.blinks = False
    settings.gaze, settings.gaze_amount = False, 0.4
    settings.mapping_preset = str(mapping)
    saved = _settings_tuple(settings)

    assert bpy.ops.expclip.preset_save(name="Quiet Rage", notes="for the standoff") == {"FINISHED"}
    path = ext.operators.services.presets.user_presets_dir() / "quiet-rage.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["prompt"] == "seething, quiet rage" and data["blinks"] is False
    assert data["intensity"] == 0.7 and data["smoothing"] == 0.35  # exact decimals, not float32 noise
    assert data["gaze"] is False and data["gaze_amount"] == 0.4
    assert data["mapping"] == str(mapping) and data["description"] == "for the standoff"

    settings.prompt, settings.intensity, settings.smoothing, settings.blinks = "happy", 1.0, 0.0, True
    settings.gaze, settings.gaze_amount = True, 1.0
    settings.mapping_preset = ""
    assert bpy.ops.expclip.preset_apply(name="quiet rage") == {"FINISHED"}
    assert _settings_tuple(settings) == saved


def test_apply_a_builtin_preset_keeps_the_scene_mapping(registered, ext):
    bpy = registered
    settings = bpy.context.scene.expclip
    settings.mapping_preset = "/studio/rigs/hero.json"
    assert bpy.ops.expclip.preset_apply(name="Furious") == {"FINISHED"}
    furious = ext.expclip_blender.presets.read_preset(
        ext.expclip_blender.presets.BUILTIN_DIR / "furious.json"
    )
    assert settings.prompt == furious.prompt
    assert settings.intensity == pytest.approx(furious.intensity)
    assert settings.smoothing == pytest.approx(furious.smoothing)
    assert settings.mapping_preset == "/studio/rigs/hero.json"


def test_apply_is_undoable(registered):
    bpy = registered
    settings = bpy.context.scene.expclip
    settings.prompt = "my own words"
    bpy.ops.ed.undo_push(message="before the preset")
    # called as the UI calls it: with an undo step (a plain script call pushes none)
    assert bpy.ops.expclip.preset_apply("EXEC_DEFAULT", True, name="Sad") == {"FINISHED"}
    assert bpy.context.scene.expclip.prompt != "my own words"
    bpy.ops.ed.undo()
    assert bpy.context.scene.expclip.prompt == "my own words"


def test_bad_applies_say_why_and_change_nothing(registered, ext, tmp_path):
    bpy = registered
    settings = bpy.context.scene.expclip
    settings.prompt = "unchanged"
    before = _settings_tuple(settings)
    with pytest.raises(RuntimeError, match="no preset named 'Nope'"):
        bpy.ops.expclip.preset_apply(name="Nope")
    studio = _studio(ext, bpy, tmp_path / "studio")
    (studio / "hero.json").write_text(json.dumps({"prompt": "heroic", "mapping": "rigs/missing.json"}))
    with pytest.raises(RuntimeError, match=r"uses the mapping preset '.*missing.json', which does not exist"):
        bpy.ops.expclip.preset_apply(name="hero")
    (studio / "broken.json").write_text("{")
    with pytest.raises(RuntimeError, match="cannot be used: is not valid JSON"):
        bpy.ops.expclip.preset_apply(name="broken")
    assert _settings_tuple(settings) == before


def test_a_studio_preset_with_a_relative_mapping_sets_the_full_path(registered, ext, tmp_path):
    bpy = registered
    studio = _studio(ext, bpy, tmp_path / "studio")
    mapping = _mapping_file(studio / "rigs")
    (studio / "hero.json").write_text(json.dumps({"prompt": "heroic", "mapping": "rigs/hero-rig.json"}))
    assert bpy.ops.expclip.preset_apply(name="Hero") == {"FINISHED"}
    assert Path(bpy.context.scene.expclip.mapping_preset) == mapping.resolve()


def test_save_asks_for_overwrite_before_replacing(registered, ext):
    bpy = registered
    settings = bpy.context.scene.expclip
    settings.prompt = "first"
    assert bpy.ops.expclip.preset_save(name="Take") == {"FINISHED"}
    settings.prompt = "second"
    with pytest.raises(RuntimeError, match=r"already exists .* tick Overwrite"):
        bpy.ops.expclip.preset_save(name="take")
    library = ext.operators.services.presets.preset_library(bpy.context)
    assert library.get("Take").preset.prompt == "first"
    assert bpy.ops.expclip.preset_save(name="take", overwrite=True) == {"FINISHED"}
    assert library.get("Take").preset.prompt == "second"
    with pytest.raises(RuntimeError, match="name is empty"):
        bpy.ops.expclip.preset_save(name="  ")


def test_studio_and_builtin_presets_are_read_only(registered, ext, tmp_path):
    bpy = registered
    studio = _studio(ext, bpy, tmp_path / "studio")
    (studio / "house-angry.json").write_text(json.dumps({"name": "House Angry", "prompt": "angry"}))
    before_studio = _snapshot(studio)
    before_builtin = _snapshot(ext.expclip_blender.presets.BUILTIN_DIR)
    with pytest.raises(RuntimeError, match=r"'House Angry' is a studio preset; .* read-only"):
        bpy.ops.expclip.preset_delete(name="house angry")
    with pytest.raises(RuntimeError, match="'Happy' is a built-in preset"):
        bpy.ops.expclip.preset_delete(name="Happy")
    bpy.context.scene.expclip.prompt = "my angry"
    assert bpy.ops.expclip.preset_save(name="House Angry") == {"FINISHED"}  # a user copy hides it
    library = ext.operators.services.presets.preset_library(bpy.context)
    assert library.get("House Angry").source == "user"
    assert bpy.ops.expclip.preset_delete(name="House Angry") == {"FINISHED"}  # deletes the user copy
    assert library.get("House Angry").source == "studio"
    assert _snapshot(studio) == before_studio
    assert _snapshot(ext.expclip_blender.presets.BUILTIN_DIR) == before_builtin


def test_import_and_export_through_the_operators(registered, ext, tmp_path):
    bpy = registered
    out = tmp_path / "share" / "furious.json"
    assert bpy.ops.expclip.preset_export(name="Furious", filepath=str(out)) == {"FINISHED"}
    exported = json.loads(out.read_text(encoding="utf-8"))
    assert exported["name"] == "Furious" and exported["format"] == "expclip-preset"

    exported["name"], exported["intensity"] = "Studio Furious", 1.6
    out.write_text(json.dumps(exported), encoding="utf-8")
    assert bpy.ops.expclip.preset_import(filepath=str(out)) == {"FINISHED"}
    user_dir = ext.operators.services.presets.user_presets_dir()
    assert [p.name for p in user_dir.iterdir()] == ["studio-furious.json"]
    assert bpy.ops.expclip.preset_apply(name="Studio Furious") == {"FINISHED"}
    assert bpy.context.scene.expclip.intensity == pytest.approx(1.6)

    before = _snapshot(user_dir)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"prompt": "x", "blinks": "sometimes"}), encoding="utf-8")
    with pytest.raises(RuntimeError, match=r"Preset file '.*bad.json': field 'blinks' must be true or false"):
        bpy.ops.expclip.preset_import(filepath=str(bad))
    with pytest.raises(RuntimeError, match="already exists"):
        bpy.ops.expclip.preset_import(filepath=str(out))
    with pytest.raises(RuntimeError, match="no preset named 'Nope'"):
        bpy.ops.expclip.preset_export(name="Nope", filepath=str(tmp_path / "nope.json"))
    assert _snapshot(user_dir) == before and not (tmp_path / "nope.json").exists()


# --- the menu --------------------------------------------------------------------------------------


def _rows(ext, bpy, which="preset_menu_rows"):
    return getattr(ext.ui.preset_menu, which)(bpy.context)


def test_menu_lists_sections_and_broken_files_greyed_with_their_reason(registered, ext, tmp_path):
    bpy = registered
    studio = _studio(ext, bpy, tmp_path / "studio")
    (studio / "typo.json").write_text(json.dumps({"prompt": "x", "intensity": "loud"}))
    (studio / "happy.json").write_text(json.dumps({"name": "Happy", "prompt": "studio happy"}))
    user_dir = ext.operators.services.presets.user_presets_dir()
    user_dir.mkdir(parents=True)
    (user_dir / "junk.json").write_bytes(b"\x00\xff garbage")
    rows = _rows(ext, bpy)

    labels = [r.text for r in rows if r.kind == "label"]
    assert labels[:1] == ["Built-in"] and "Studio" in labels and "User" in labels
    broken = {r.text: r for r in rows if r.icon == "ERROR"}
    assert "typo.json: field 'intensity' must be a number from 0 to 2, got 'loud'" in broken
    assert any(text.startswith("junk.json: is not UTF-8") for text in broken)
    assert all(not r.enabled for r in broken.values())
    apply_rows = {r.text: r for r in rows if r.operator == "expclip.preset_apply"}
    assert not apply_rows["Happy (replaced by the studio one)"].enabled
    assert apply_rows["Happy (replaces the built-in one)"].enabled
    assert apply_rows["Sad"].enabled and apply_rows["Sad"].name == "Sad"
    actions = [
        r.operator for r in rows if r.kind in ("operator", "menu") and r.operator != "expclip.preset_apply"
    ]
    assert actions == [
        "expclip.preset_save",
        "EXPCLIP_MT_preset_delete",
        "expclip.preset_import",
        "EXPCLIP_MT_preset_export",
    ]
    label_icons = bpy.types.UILayout.bl_rna.functions["label"].parameters["icon"].enum_items
    icons = {item.identifier for item in label_icons}
    for row in rows + _rows(ext, bpy, "delete_menu_rows") + _rows(ext, bpy, "export_menu_rows"):
        assert row.icon in icons, row  # drawing with an unknown icon would raise
    for row in rows:  # every operator and menu the rows name is registered
        if row.kind == "operator":
            group, name = row.operator.split(".")
            assert hasattr(getattr(bpy.ops, group), name)
        elif row.kind == "menu":
            assert hasattr(bpy.types, row.operator)
    delete = _rows(ext, bpy, "delete_menu_rows")
    assert [(r.text, r.name) for r in delete] == [("junk.json", "junk")]
    assert bpy.ops.expclip.preset_delete(name=delete[0].name) == {"FINISHED"}


def test_menu_draws_with_an_offline_studio_folder(registered, ext, tmp_path):
    bpy = registered
    _prefs(ext, bpy).studio_presets_dir = str(tmp_path / "offline-share")
    rows = _rows(ext, bpy)
    problem = [r for r in rows if r.icon == "ERROR"]
    assert len(problem) == 1 and problem[0].text.endswith("offline-share: the folder does not exist")
    assert any(r.text == "None yet: save the current settings as a preset" for r in rows)
    export = _rows(ext, bpy, "export_menu_rows")
    assert len(export) >= 20 and export[0].operator == "expclip.preset_export"
    assert bpy.ops.expclip.preset_apply(name="Happy") == {"FINISHED"}


def test_apply_tooltip_says_what_the_preset_holds_or_why_it_is_broken(registered, ext, tmp_path):
    bpy = registered
    studio = _studio(ext, bpy, tmp_path / "studio")
    (studio / "bad.json").write_text(json.dumps({"prompt": "x", "smoothing": 7}))
    op = ext.operators.preset_apply.EXPCLIP_OT_preset_apply
    props = bpy.context.window_manager.operator_properties_last("expclip.preset_apply")
    props.name = "Happy"
    assert op.description(bpy.context, props).startswith('"happy, warm genuine smile')
    props.name = "bad"
    assert "field 'smoothing' must be from 0 to 1, got 7" in op.description(bpy.context, props)


# --- preferences -----------------------------------------------------------------------------------


def test_preferences_defaults_and_addon_preferences(registered, ext):
    bpy = registered
    prefs = _prefs(ext, bpy)
    assert (prefs.device, prefs.studio_presets_dir, prefs.custom_models_dir) == ("AUTO", "", "")
    assert {item.identifier for item in prefs.bl_rna.properties["device"].enum_items} == {
        "AUTO",
        "CPU",
        "CUDA",
    }
    addon = bpy.context.preferences.addons[ext.operators.services.preferences.ADDON_PACKAGE]
    bpy.context.preferences.addons.remove(addon)
    try:
        assert ext.operators.services.preferences.addon_preferences(bpy.context) is None
    finally:
        bpy.context.preferences.addons.new().module = ext.operators.services.preferences.ADDON_PACKAGE


def test_changing_device_or_weights_folder_drops_the_loaded_model(registered, ext, tmp_path):
    bpy = registered
    cache = ext.operators.services.model_cache
    prefs = _prefs(ext, bpy)
    for change in (
        lambda: setattr(prefs, "device", "CPU"),
        lambda: setattr(prefs, "custom_models_dir", "/x"),
    ):
        cache._cached = (("auto", None), object())
        change()
        assert cache.cached_model() is None
    assert cache.model_settings(bpy.context) == ("cpu", "/x")


def test_cuda_detection_is_cached(registered, ext):
    device = ext.expclip_blender.device  # the module the preferences draw from
    device._cuda_status = None
    first = device.cuda_status()
    assert device.cuda_status() is first
    usable, text = first
    assert isinstance(usable, bool) and text
    try:
        import torch

        assert usable == torch.cuda.is_available()
    except ImportError:
        assert "not installed" in text


def _save_tensors(path: Path, tensors: dict[str, np.ndarray], metadata: dict | None = None) -> Path:
    from safetensors.numpy import save_file

    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: np.ascontiguousarray(v, np.float32) for k, v in tensors.items()}, str(path), metadata)
    return path


def test_custom_weights_check_explains_what_does_not_fit(registered, ext, tmp_path):
    bpy = registered
    prefs = _prefs(ext, bpy)
    check = bpy.ops.expclip.check_model_weights

    prefs.custom_models_dir = str(tmp_path / "nowhere")
    with pytest.raises(RuntimeError, match=r"'.*nowhere' does not exist\. Choose a folder holding"):
        check()

    pickles = tmp_path / "pickles"
    pickles.mkdir()
    (pickles / "generator.pt").write_bytes(b"\x80\x04not really")
    prefs.custom_models_dir = str(pickles)
    with pytest.raises(RuntimeError, match=r"holds generator.pt, but only \.safetensors files are loaded"):
        check()

    wrong = tmp_path / "wrong"
    rng = np.random.default_rng(0)
    _save_tensors(
        wrong / "expclip.safetensors",
        {
            "text_proj.0.weight": rng.normal(size=(64, 384)),
            "text_proj.0.bias": np.zeros(64),
            "expr_enc.0.weight": rng.normal(size=(64, 50)),  # 50 inputs: not ARKit-52
            "expr_enc.0.bias": np.zeros(64),
            "expr_dec.0.weight": rng.normal(size=(52, 64)),
            "expr_dec.0.bias": np.zeros(52),
        },
    )
    prefs.custom_models_dir = str(wrong)
    with pytest.raises(RuntimeError, match="do not fit: expr_enc takes 50 inputs, not 52"):
        check()
    lines = ext.operators.services.preferences.weights_checks[str(wrong)].lines  # what the preferences show
    assert "generator.safetensors: not in the folder, the bundled one is used." in lines

    good = tmp_path / "good"
    good.mkdir()
    shutil.copy(MODELS_DIR / "expclip.safetensors", good / "expclip.safetensors")
    assert check(folder=str(good)) == {"FINISHED"}
    assert ext.operators.services.preferences.weights_checks[str(good)].ok


def test_custom_generator_weights_are_checked(registered, ext, tmp_path):
    pytest.importorskip("torch")
    check_models_dir = ext.expclip_blender.model_folder.check_models_dir
    folder = tmp_path / "gen"
    _save_tensors(
        folder / "generator.safetensors",
        {"not_a_layer.weight": np.zeros((3, 3))},
        {"format": "expclip-speech-generator", "config": "{}"},
    )
    result = check_models_dir(folder)
    assert not result.ok
    assert result.lines[0] == "expclip.safetensors: not in the folder, the bundled one is used."
    assert f"Generator weights '{folder / 'generator.safetensors'}'" in result.lines[1]
    assert "not_a_layer.weight" in result.lines[1]
    (folder / "generator.safetensors").write_bytes(b"garbage, not safetensors")
    result = check_models_dir(folder)
    assert not result.ok and "cannot be read" in result.lines[1]


def test_panel_ranges_are_the_shared_limits(registered):
    from expclip_blender import limits

    props = registered.types.Scene.bl_rna.properties["expclip"].fixed_type.bl_rna.properties
    for name, (low, high) in (
        ("intensity", limits.INTENSITY_RANGE),
        ("smoothing", limits.SMOOTHING_RANGE),
        ("transition_s", limits.TRANSITION_RANGE),
    ):
        assert (props[name].hard_min, props[name].hard_max) == pytest.approx((low, high)), name
