"""Name matching of ARKit channels and JSON mapping presets (core, no bpy)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from expclip_blender import ARKIT_NAMES
from expclip_blender.mapping import (
    MappingError,
    apply_mapping,
    auto_match,
    load_mapping_preset,
    match_arkit_name,
    preset_from_dict,
    save_mapping_preset,
)


def test_arkit_names_are_apples_52_in_order():
    assert len(ARKIT_NAMES) == 52 == len(set(ARKIT_NAMES))
    assert (
        ARKIT_NAMES[0] == "eyeBlinkLeft" and ARKIT_NAMES[17] == "jawOpen" and ARKIT_NAMES[-1] == "tongueOut"
    )


@pytest.mark.parametrize(
    ("spelling", "expected"),
    [
        ("eyeBlinkLeft", "eyeBlinkLeft"),
        ("eyeBlink_L", "eyeBlinkLeft"),
        ("EyeBlink_Left", "eyeBlinkLeft"),
        ("eyeBlinkLeft.001", "eyeBlinkLeft"),
        ("Face.eyeBlinkLeft", "eyeBlinkLeft"),
        ("Face.eyeBlink_R", "eyeBlinkRight"),
        ("eyeBlink.L", "eyeBlinkLeft"),
        ("head_geo:mouthSmileRight", "mouthSmileRight"),
        ("EYEBLINKRIGHT", "eyeBlinkRight"),
        ("eye_blink_left", "eyeBlinkLeft"),
        ("JawOpen", "jawOpen"),
        ("mouthRollUpper", "mouthRollUpper"),
        ("mouthShrugLower", "mouthShrugLower"),
        ("tongueOut", "tongueOut"),
    ],
)
def test_spellings_match(spelling, expected):
    assert match_arkit_name(spelling) == (expected, "name")


@pytest.mark.parametrize(
    "half", ["browInnerUp_L", "browInnerUp_R", "BrowInnerUp_Left", "cheekPuff_R", "cheekPuffLeft"]
)
def test_split_halves_follow_the_single_channel(half):
    assert match_arkit_name(half)[0] in ("browInnerUp", "cheekPuff")
    assert match_arkit_name(half)[1] == "split"


@pytest.mark.parametrize(
    "name", ["Basis", "Smile", "Blink", "eyeBlink", "jaw", "mouthSmile", "cheekRaiser_L", ""]
)
def test_non_arkit_names_do_not_match(name):
    assert match_arkit_name(name) is None


def test_auto_match_reports_everything_by_name():
    keys = [
        "Basis",
        "eyeBlink_L",
        "eyeBlinkLeft.001",
        "eyeBlink_R",
        "browInnerUp_L",
        "browInnerUp_R",
        "jawOpen",
        "Smile",
        "PupilDilate_L",
    ]
    report = auto_match(keys)
    driven = {ch.shape_key: ch.sources[0][0] for ch in report.channels}
    assert driven == {
        "eyeBlink_L": "eyeBlinkLeft",
        "eyeBlink_R": "eyeBlinkRight",
        "browInnerUp_L": "browInnerUp",
        "browInnerUp_R": "browInnerUp",
        "jawOpen": "jawOpen",
    }
    assert report.unmatched_keys == ["Smile", "PupilDilate_L"]  # reference key "Basis" is no channel
    assert report.duplicate_keys == {"eyeBlinkLeft.001": "eyeBlink_L"}
    assert "eyeBlinkLeft" not in report.missing_arkit and "mouthSmileLeft" in report.missing_arkit
    assert len(report.missing_arkit) == 52 - 4
    assert report.summary().startswith("4/52 ARKit channels -> 5 shape keys")


def test_exact_apple_spelling_wins_over_copies():
    report = auto_match(["eyeBlinkLeft.001", "eyeBlinkLeft", "eyeBlink_L"])
    assert [ch.shape_key for ch in report.channels] == ["eyeBlinkLeft"]
    assert set(report.duplicate_keys) == {"eyeBlinkLeft.001", "eyeBlink_L"}


def test_full_arkit_rig_matches_all_52():
    report = auto_match(["Basis", *ARKIT_NAMES])
    assert len(report.driven_arkit) == 52 and not report.missing_arkit and not report.unmatched_keys


PRESET = {
    "name": "Custom rig",
    "channels": {
        "Blink_L": "eyeBlinkLeft",
        "Smile": {"source": {"mouthSmileLeft": 0.5, "mouthSmileRight": 0.5}, "gain": 1.2},
        "JawDrop": {"source": "jawOpen", "gain": 0.8, "offset": 0.1},
    },
}


def test_preset_mixes_gains_and_offsets():
    report = preset_from_dict(PRESET).resolve(
        ["Basis", "Blink_L", "Smile", "JawDrop", "eyeBlinkRight", "Other"]
    )
    names = [ch.shape_key for ch in report.channels]
    assert names == ["Blink_L", "Smile", "JawDrop", "eyeBlinkRight"]  # explicit first, then name matching
    assert report.unmatched_keys == ["Other"]
    weights = np.zeros((2, 52), np.float32)
    weights[1, ARKIT_NAMES.index("mouthSmileLeft")] = 1.0
    weights[1, ARKIT_NAMES.index("mouthSmileRight")] = 0.5
    weights[1, ARKIT_NAMES.index("jawOpen")] = 0.5
    values = apply_mapping(weights, report.channels)
    assert values.shape == (2, 4)
    np.testing.assert_allclose(values[0], [0, 0, 0.1, 0], atol=1e-6)
    np.testing.assert_allclose(values[1], [0, 1.2 * 0.75, 0.1 + 0.8 * 0.5, 0], atol=1e-6)


def test_preset_without_auto_match_drives_only_its_channels():
    preset = preset_from_dict({**PRESET, "auto_match": False})
    report = preset.resolve(["Blink_L", "Smile", "JawDrop", "eyeBlinkRight"])
    assert [ch.shape_key for ch in report.channels] == ["Blink_L", "Smile", "JawDrop"]
    assert report.unmatched_keys == ["eyeBlinkRight"]


def test_preset_naming_absent_keys_is_an_error():
    with pytest.raises(MappingError, match="JawDrop"):
        preset_from_dict(PRESET).resolve(["Blink_L", "Smile"])


def test_preset_round_trips_through_json(tmp_path):
    path = tmp_path / "rig.json"
    save_mapping_preset(preset_from_dict(PRESET), path)
    again = load_mapping_preset(path)
    assert again == preset_from_dict(PRESET)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "top level"),
        ({"channels": []}, "'channels' must be an object"),
        ({"channels": {"A": "eyeBlink_L"}}, "did you mean 'eyeBlinkLeft'"),
        ({"channels": {"A": "Smile"}}, "'Smile' is not an ARKit name"),
        ({"channels": {"A": {"gain": 2}}}, "needs 'source'"),
        ({"channels": {"A": {"source": "jawOpen", "gain": "x"}}}, "gain must be a finite number"),
        ({"channels": {"A": {"source": "jawOpen", "scale": 2}}}, "unknown fields"),
        ({"channels": {"A": {"source": {"jawOpen": "a lot"}}}}, "weight of 'jawOpen'"),
        ({"channels": {}, "auto_match": "yes"}, "auto_match"),
    ],
)
def test_bad_presets_say_what_is_wrong(data, message):
    with pytest.raises(MappingError, match=message):
        preset_from_dict(data)


def test_bad_preset_files_name_the_file(tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text('{"channels": {', encoding="utf-8")
    with pytest.raises(MappingError, match=r"broken\.json.*not valid JSON"):
        load_mapping_preset(broken)
    with pytest.raises(MappingError, match="does not exist"):
        load_mapping_preset(tmp_path / "missing.json")
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"channels": {"A": "nope"}}), encoding="utf-8")
    with pytest.raises(MappingError, match=r"wrong\.json.*'A'"):
        load_mapping_preset(wrong)


def test_apply_mapping_checks_shape():
    with pytest.raises(ValueError, match="frames, 52"):
        apply_mapping(np.zeros((3, 51)), [])


def test_a_fifo_mapping_preset_is_refused_without_blocking(tmp_path):
    import os

    from fifo_helpers import within

    fifo = tmp_path / "rig.json"
    os.mkfifo(fifo)
    with pytest.raises(MappingError, match="not a regular file"):
        within(5, lambda: load_mapping_preset(fifo), fifo)


def test_a_folder_or_huge_mapping_preset_is_refused(tmp_path):
    folder = tmp_path / "rig.json"
    folder.mkdir()
    with pytest.raises(MappingError, match="is a folder"):
        load_mapping_preset(folder)
    huge = tmp_path / "huge.json"
    huge.write_bytes(b" " * (2 << 20))
    with pytest.raises(MappingError, match="larger than"):
        load_mapping_preset(huge)
