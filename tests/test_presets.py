"""Emotion presets (core, no bpy): file format and validation, listing with precedence, the user folder."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from fifo_helpers import within

from expclip_blender import presets as P
from expclip_blender.presets import (
    BUILTIN,
    STUDIO,
    USER,
    Preset,
    PresetError,
    PresetExistsError,
    PresetLibrary,
    PresetReadOnlyError,
    list_presets,
    read_preset,
    write_preset,
)

REQUIRED_BUILTINS = (
    "Neutral Read",
    "Happy",
    "Sad",
    "Angry",
    "Furious",
    "Surprised",
    "Scared",
    "Disgusted",
    "Sarcastic",
    "Whispering Tense",
    "Calm Narrator",
    "Smug",
    "Worried",
    "Excited",
    "Tired",
)


def _write(path: Path, data) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


@pytest.fixture
def folders(tmp_path):
    return tmp_path / "builtin", tmp_path / "studio", tmp_path / "user"


# --- the file format -------------------------------------------------------------------------------


def test_preset_round_trips_through_a_file(tmp_path):
    preset = Preset("Hero Furious", "furious, shouting", 1.4, 0.25, False, "rigs/hero.json", "for the hero")
    path = write_preset(preset, tmp_path / "p.json")
    assert read_preset(path) == preset
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["format"] == "expclip-preset" and data["version"] == 1
    assert data["gaze"] is True and data["gaze_amount"] == 1.0
    still = Preset("Still", "calm", gaze=False, gaze_amount=0.3)
    back = read_preset(write_preset(still, tmp_path / "still.json"))
    assert back == still and (back.gaze, back.gaze_amount) == (False, 0.3)


def test_presets_without_the_gaze_fields_load_with_eye_movement_on(tmp_path):
    old = {"format": "expclip-preset", "version": 1, "name": "Old", "prompt": "sad", "blinks": False}
    preset = read_preset(_write(tmp_path / "old.json", old))
    assert (preset.gaze, preset.gaze_amount, preset.blinks) == (True, 1.0, False)


def test_only_the_prompt_is_required_and_the_name_defaults_to_the_file_name(tmp_path):
    preset = read_preset(_write(tmp_path / "quiet anger.json", {"prompt": "quietly angry"}))
    assert preset == Preset("quiet anger", "quietly angry", 1.0, 0.0, True, None)


def test_values_made_in_code_are_checked_and_normalised():
    assert Preset("  Happy ", "happy", intensity=1).name == "Happy"
    assert isinstance(Preset("Happy", "happy", intensity=1).intensity, float)
    with pytest.raises(PresetError, match=r"'smoothing' must be from 0 to 1, got 1\.5"):
        Preset("Happy", "happy", smoothing=1.5)
    with pytest.raises(PresetError, match="name is empty"):
        Preset("   ", "happy")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", r"is not valid JSON \(line 1, column 2"),
        ("[1, 2]", "top level must be a JSON object"),
        ({"intensity": 1.0}, "field 'prompt' is missing"),
        ({"prompt": 3}, "field 'prompt' must be text"),
        ({"prompt": "x", "intensity": "high"}, "field 'intensity' must be a number from 0 to 2, got 'high'"),
        ({"prompt": "x", "intensity": True}, "field 'intensity' must be a number"),
        ({"prompt": "x", "intensity": 5}, "field 'intensity' must be from 0 to 2, got 5"),
        ({"prompt": "x", "smoothing": -0.1}, "field 'smoothing' must be from 0 to 1"),
        ({"prompt": "x", "blinks": "yes"}, "field 'blinks' must be true or false"),
        ({"prompt": "x", "gaze": "on"}, "field 'gaze' must be true or false, got 'on'"),
        ({"prompt": "x", "gaze_amount": 2.5}, "field 'gaze_amount' must be from 0 to 2, got 2.5"),
        ({"prompt": "x", "gaze_amount": None}, "field 'gaze_amount' must be a number from 0 to 2, got None"),
        ({"prompt": "x", "mapping": 4}, "field 'mapping' must be the path"),
        ({"prompt": "x", "name": ""}, "name is empty"),
        ({"prompt": "x", "name": "a" * 64}, "longer than 63 characters"),
        ({"prompt": "x", "name": "two\nlines"}, "control characters"),
        ({"prompt": "x", "intensty": 1.0}, r"unknown field\(s\) \['intensty'\]"),
        ({"prompt": "x", "format": "something-else"}, "field 'format' is 'something-else'"),
        ({"prompt": "x", "version": 2}, "version' is 2, made by a newer ExpCLIP"),
        ({"name": "Rig", "channels": {}}, "rig mapping preset, not an emotion preset"),
    ],
)
def test_broken_files_give_errors_naming_the_file_and_field(tmp_path, content, message):
    path = _write(tmp_path / "bad.json", content)
    with pytest.raises(PresetError, match=message) as info:
        read_preset(path)
    assert f"Preset file '{path}'" in str(info.value)


def test_unreadable_files_give_clear_errors(tmp_path):
    with pytest.raises(PresetError, match="does not exist"):
        read_preset(tmp_path / "missing.json")
    with pytest.raises(PresetError, match=r"presets are \.json files"):
        read_preset(_write(tmp_path / "p.txt", {"prompt": "x"}))
    binary = tmp_path / "binary.json"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(PresetError, match="not UTF-8"):
        read_preset(binary)
    big = _write(tmp_path / "big.json", {"prompt": "x" * 10, "description": "y" * (P.MAX_FILE_BYTES + 1)})
    with pytest.raises(PresetError, match="far too large"):
        read_preset(big)


def test_mapping_paths_resolve_against_the_preset_folder(tmp_path):
    preset = Preset("Rig", "happy", mapping="mappings/hero.json")
    assert preset.mapping_path(tmp_path) == str((tmp_path / "mappings" / "hero.json").resolve())
    assert Preset("Rig", "happy", mapping="//hero.json").mapping_path(tmp_path) == "//hero.json"
    absolute = str(tmp_path / "x.json")
    assert Preset("Rig", "happy", mapping=absolute).mapping_path("/elsewhere") == absolute
    assert Preset("Rig", "happy").mapping_path(tmp_path) is None


def test_a_failed_write_leaves_the_old_file(tmp_path, monkeypatch):
    path = write_preset(Preset("A", "happy"), tmp_path / "a.json")
    before = path.read_bytes()

    def fail(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(P.os, "replace", fail)
    with pytest.raises(PresetError, match="cannot be written: No space left"):
        write_preset(Preset("A", "sad"), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]  # no temporary file left behind


# --- the built-in set -------------------------------------------------------------------------------


def test_builtin_set_is_complete_valid_and_named_after_its_files():
    builtins = P.builtin_presets()
    names = [p.name for p in builtins]
    for required in REQUIRED_BUILTINS:
        assert required in names
    assert len(names) == len({P.name_key(n) for n in names}) >= 20
    for path in P.BUILTIN_DIR.glob("*.json"):
        preset = read_preset(path)
        assert path.stem == P.slugify(preset.name)
        assert preset.prompt.strip() and preset.description
        assert preset.mapping is None  # rig mappings are per studio, never built in


def test_builtin_prompts_give_the_face_their_name_says():
    """Each built-in's prompt through the trained ExpCLIP heads moves the channels the emotion needs."""
    import numpy as np

    import expclip_blender as ex

    model = ex.load()
    by_name = {p.name: p for p in P.builtin_presets()}

    def face(name: str) -> dict[str, float]:
        p = by_name[name]
        weights = model.expression(p.prompt, p.intensity)
        return dict(zip(ex.ARKIT_NAMES, weights.tolist(), strict=True))

    def mean(f, *names):
        return float(np.mean([f[n] for n in names]))

    happy, sad, furious, surprised = face("Happy"), face("Sad"), face("Furious"), face("Surprised")
    neutral, disgusted, scared = face("Neutral Read"), face("Disgusted"), face("Scared")
    smile = ("mouthSmileLeft", "mouthSmileRight")
    assert mean(happy, *smile) > 0.3 > mean(sad, *smile)
    assert mean(sad, "mouthFrownLeft", "mouthFrownRight") > 0.3
    assert mean(furious, "browDownLeft", "browDownRight") > 0.5
    assert mean(surprised, "browOuterUpLeft", "browOuterUpRight", "browInnerUp") > 0.4
    assert mean(disgusted, "noseSneerLeft", "noseSneerRight") > 0.3
    assert mean(scared, "eyeWideLeft", "eyeWideRight") > 0.3
    assert sum(neutral.values()) < 0.3 * min(sum(f.values()) for f in (happy, sad, furious, surprised))
    # One-sided looks stay one-sided: a preset prompt can decode a symmetric smile, no eye roll or level
    # brows (an angry look) when its wording pulls the other way (docs/experiments.md has the cases).
    smug, sarcastic, confused = face("Smug"), face("Sarcastic"), face("Confused")

    def lopsided(f, unit):
        return abs(f[unit + "Right"] - f[unit + "Left"])

    assert lopsided(smug, "mouthSmile") > 0.2 and lopsided(smug, "mouthDimple") > 0.1
    assert mean(sarcastic, "eyeLookUpLeft", "eyeLookUpRight") > 0.4
    assert lopsided(sarcastic, "mouthDimple") > 0.1
    assert lopsided(confused, "browOuterUp") > 0.15
    assert mean(confused, "eyeSquintLeft", "eyeSquintRight") < 0.2


# --- listing ---------------------------------------------------------------------------------------


def test_listing_orders_by_precedence_and_says_which_file_wins(folders):
    builtin, studio, user = folders
    write_preset(Preset("Happy", "happy"), builtin / "happy.json")
    write_preset(Preset("Sad", "sad"), builtin / "sad.json")
    write_preset(Preset("happy", "studio happy, big grin"), studio / "studio-happy.json")
    write_preset(Preset("HAPPY", "my happy"), user / "happy.json")
    write_preset(Preset("Sad", "studio sad"), studio / "sad.json")
    listing = list_presets([(BUILTIN, builtin), (STUDIO, studio), (USER, user)])

    assert [(e.name, e.source) for e in listing.presets()] == [("HAPPY", USER), ("Sad", STUDIO)]
    assert listing.find("happy").preset.prompt == "my happy"
    user_happy = listing.find("Happy")
    assert {(e.source, e.name) for e in listing.hides(user_happy)} == {(BUILTIN, "Happy"), (STUDIO, "happy")}
    builtin_happy = next(e for e in listing.by_source(BUILTIN) if e.name == "Happy")
    assert listing.hidden_by(builtin_happy) is user_happy
    assert listing.hidden_by(user_happy) is None
    assert listing.find("nothing") is None and not listing.problems


def test_broken_files_are_listed_with_their_reason_and_never_raise(folders):
    builtin, studio, user = folders
    write_preset(Preset("Happy", "happy"), builtin / "happy.json")
    _write(studio / "typo.json", {"prompt": "x", "intensity": "loud"})
    _write(user / "happy.json", "{oops")  # a broken user file does not hide the working built-in
    (user / "binary.json").write_bytes(b"\x00\xff" * 10)
    _write(user / "notes.txt", "not a preset: ignored")
    (user / "sub").mkdir()
    _write(user / "sub" / "rig.json", {"channels": {}})  # sub-folders hold mapping presets: ignored
    listing = list_presets([(BUILTIN, builtin), (STUDIO, studio), (USER, user)])

    broken = {(e.source, e.path.name): e.error for e in listing.broken()}
    assert set(broken) == {(STUDIO, "typo.json"), (USER, "happy.json"), (USER, "binary.json")}
    assert broken[(STUDIO, "typo.json")] == "field 'intensity' must be a number from 0 to 2, got 'loud'"
    assert broken[(USER, "happy.json")].startswith("is not valid JSON (line 1")
    assert "UTF-8" in broken[(USER, "binary.json")]
    assert listing.find("Happy").source == BUILTIN
    assert [e.name for e in listing.by_source(USER)] == ["binary", "happy"]


def test_folder_problems_are_reported_not_raised(folders, tmp_path):
    builtin, _, user = folders
    a_file = _write(tmp_path / "file-not-folder", "x")
    listing = list_presets([(BUILTIN, builtin), (STUDIO, tmp_path / "offline-share"), (USER, user)])
    assert [(p.source, p.reason) for p in listing.problems] == [
        (BUILTIN, "the folder does not exist"),
        (STUDIO, "the folder does not exist"),
    ]  # a user folder that does not exist yet is normal: nothing was saved so far
    assert list_presets([(STUDIO, a_file)]).problems[0].reason == "this is a file, not a folder"
    same = list_presets([(STUDIO, user), (USER, user)])
    assert same.problems[-1].reason == "already listed as another preset folder"
    assert list_presets([(STUDIO, None), (STUDIO, "")]).files == []


def test_same_name_twice_in_one_folder_later_file_wins(folders):
    _, _, user = folders
    write_preset(Preset("Calm", "calm"), user / "a.json")
    write_preset(Preset("calm", "very calm"), user / "b.json")
    listing = list_presets([(USER, user)])
    assert listing.find("Calm").path.name == "b.json"
    assert listing.hidden_by(listing.by_source(USER)[0]).path.name == "b.json"


# --- the library: save, delete, import, export -----------------------------------------------------


@pytest.fixture
def library(folders):
    builtin, studio, user = folders
    write_preset(Preset("Happy", "happy"), builtin / "happy.json")
    write_preset(Preset("Studio Angry", "angry, house style", 1.2), studio / "studio-angry.json")
    return PresetLibrary(user_dir=user, studio_dir=studio, builtin_dir=builtin)


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_save_writes_the_user_folder_and_get_returns_it(library):
    preset = Preset("Quiet Rage", "seething, quiet rage", 0.8, 0.3, False)
    path = library.save(preset)
    assert path == library.user_dir / "quiet-rage.json"
    entry = library.get("quiet rage")
    assert entry.source == USER and entry.preset == preset


def test_save_refuses_to_replace_without_overwrite(library):
    library.save(Preset("Mine", "happy"))
    with pytest.raises(PresetExistsError, match=r"'Mine' already exists .* tick Overwrite"):
        library.save(Preset("MINE", "sad"))
    assert library.get("Mine").preset.prompt == "happy"
    path = library.save(Preset("MINE", "sad"), overwrite=True)
    assert path.name == "mine.json" and library.get("mine").preset.prompt == "sad"
    assert len(list(library.user_dir.glob("*.json"))) == 1


def test_save_never_clobbers_a_broken_or_differently_named_file(library):
    _write(library.user_dir / "mine.json", "{broken")
    path = library.save(Preset("Mine", "happy"))
    assert path.name == "mine-2.json"
    assert (library.user_dir / "mine.json").read_text() == "{broken"


def test_studio_and_builtin_folders_are_read_only(library):
    studio, builtin = _snapshot(library.studio_dir), _snapshot(library.builtin_dir)
    with pytest.raises(PresetReadOnlyError, match=r"'Studio Angry' is a studio preset; .* read-only"):
        library.delete("studio angry")
    with pytest.raises(PresetReadOnlyError, match="is a built-in preset"):
        library.delete("Happy")
    path = library.save(Preset("Studio Angry", "my own angry"))  # a user copy hides the studio one
    assert path.parent == library.user_dir
    assert library.get("Studio Angry").source == USER
    library.delete("Studio Angry")  # deletes the user copy only: the studio one is in effect again
    assert library.get("Studio Angry").source == STUDIO
    assert _snapshot(library.studio_dir) == studio and _snapshot(library.builtin_dir) == builtin


def test_delete_removes_user_presets_and_broken_user_files(library):
    library.save(Preset("Mine", "happy"))
    _write(library.user_dir / "junk.json", "{")
    assert library.delete("MINE").name == "mine.json"
    assert library.delete("junk").name == "junk.json"
    assert list(library.user_dir.iterdir()) == []
    with pytest.raises(PresetError, match="no user preset named 'Mine'"):
        library.delete("Mine")


def test_get_explains_missing_and_broken_presets(library):
    with pytest.raises(PresetError, match="no preset named 'Nope'"):
        library.get("Nope")
    _write(library.studio_dir / "bad.json", {"prompt": "x", "blinks": 1})
    with pytest.raises(PresetError, match=r"Studio preset '.*bad.json' cannot be used: field 'blinks'"):
        library.get("bad")


def test_import_validates_then_copies_into_the_user_folder(library, tmp_path):
    (tmp_path / "share" / "rigs").mkdir(parents=True)
    _write(tmp_path / "share" / "rigs" / "hero.json", {"channels": {}})
    source = _write(
        tmp_path / "share" / "Hero Smirk.json", {"prompt": "smug smirk", "mapping": "rigs/hero.json"}
    )
    preset, path = library.import_file(source)
    assert path.parent == library.user_dir and preset.name == "Hero Smirk"
    imported = read_preset(path)
    assert imported == preset and imported.prompt == "smug smirk"
    # the relative mapping still points at the same file from the new place
    assert imported.mapping == str((tmp_path / "share" / "rigs" / "hero.json").resolve())
    assert library.get("hero smirk").source == USER
    with pytest.raises(PresetExistsError):
        library.import_file(source)
    library.import_file(source, overwrite=True)
    assert len(list(library.user_dir.glob("*.json"))) == 1


def test_import_of_a_broken_file_changes_nothing(library, tmp_path):
    library.save(Preset("Mine", "happy"))
    before = _snapshot(library.user_dir)
    bad = _write(tmp_path / "bad.json", {"prompt": "x", "smoothing": 3})
    with pytest.raises(PresetError, match=f"Preset file '{bad}': field 'smoothing'"):
        library.import_file(bad)
    with pytest.raises(PresetError, match="is a folder"):
        library.import_file(tmp_path)
    assert _snapshot(library.user_dir) == before


def test_export_writes_a_file_that_imports_back(library, tmp_path):
    out = library.export("studio angry", tmp_path / "out" / "angry.json")
    assert read_preset(out) == library.get("Studio Angry").preset
    with pytest.raises(PresetExistsError, match="the file exists"):
        library.export("Happy", out, overwrite=False)
    with pytest.raises(PresetError, match=r"end in \.json"):
        library.export("Happy", tmp_path / "x.txt")
    with pytest.raises(PresetError, match="no preset named"):
        library.export("Nope", tmp_path / "nope.json")
    assert not (tmp_path / "nope.json").exists()
    other = PresetLibrary(user_dir=tmp_path / "other-user")
    preset, _ = other.import_file(out)
    assert preset.prompt == "angry, house style" and preset.intensity == 1.2


def test_slugify_makes_safe_file_names():
    assert P.slugify("Whispering, Tense!") == "whispering-tense"
    assert P.slugify("../../etc/passwd") == "etc-passwd"
    assert P.slugify("¿¡!") == "preset"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
def test_a_fifo_named_json_is_listed_broken_without_being_opened(folders):
    builtin, _, user = folders
    write_preset(Preset("Happy", "happy"), user / "happy.json")
    fifo = user / "stuck.json"
    os.mkfifo(fifo)
    listing = within(5, lambda: list_presets([(BUILTIN, builtin), (USER, user)]), fifo)
    broken = {e.path.name: e.error for e in listing.broken()}
    assert broken == {"stuck.json": "is not a regular file (a pipe, device or socket): remove it"}
    assert listing.find("Happy").source == USER
    with pytest.raises(PresetError, match="is not a regular file"):
        within(5, lambda: read_preset(fifo), fifo)


def test_a_folder_named_json_is_listed_as_a_folder(folders):
    _, _, user = folders
    (user / "odd.json").mkdir(parents=True)
    assert [e.error for e in list_presets([(USER, user)]).broken()] == ["is a folder, not a preset file"]
