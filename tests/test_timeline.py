"""What an emotion-timeline marker name means (``expclip_blender.timeline``), without Blender."""

from __future__ import annotations

import pytest

from expclip_blender.timeline import (
    MarkerCue,
    TimelineError,
    cues_from_markers,
    describe_cue,
    marker_name,
    parse_marker_name,
    resolve_cues,
)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("expclip: furious", ("furious", 1.0)),
        ("ExpCLIP:furious", ("furious", 1.0)),
        ("expclip:  on the verge   of tears ", ("on the verge of tears", 1.0)),
        ("expclip: smug half smile @0.7", ("smug half smile", 0.7)),
        ("expclip: sad@1.5", ("sad", 1.5)),
        ("expclip: angry @ 2", ("angry", 2.0)),
        ("expclip:", ("", 1.0)),
        ("F_12", None),
        ("note: expclip: furious", None),
    ],
)
def test_marker_names(name, expected):
    assert parse_marker_name(name) == expected


@pytest.mark.parametrize(
    "name", ["expclip: angry @9", "expclip: angry @", "expclip: angry @loud", "expclip: x @nan"]
)
def test_bad_intensity_names_the_marker_and_the_fix(name):
    with pytest.raises(TimelineError, match=r"intensity after '@' must be a number from 0 to 2.*Rename"):
        parse_marker_name(name)


def test_cues_are_the_expclip_markers_in_frame_order():
    cues = cues_from_markers([(40, "expclip: furious @0.5"), (5, "expclip: calm"), (70, "F_70")])
    assert cues == [
        MarkerCue(5, "calm", 1.0, "expclip: calm"),
        MarkerCue(40, "furious", 0.5, "expclip: furious @0.5"),
    ]
    assert cues_from_markers([]) == []
    with pytest.raises(TimelineError, match="Marker 'expclip: x @3'"):
        cues_from_markers([(1, "expclip: calm"), (2, "expclip: x @3")])


def test_describe_cue():
    assert describe_cue(MarkerCue(48, "furious", 0.7, "")) == "frame 48: furious x0.7"
    assert describe_cue(MarkerCue(1, "", 1.0, "")) == "frame 1: neutral"


def test_resolve_cues_times_from_the_first_baked_frame():
    cues = cues_from_markers([(5, "expclip: calm"), (40, "expclip: furious @0.5"), (300, "expclip: sad")])
    prompt, intensity, timed = resolve_cues(cues, "neutral", 1.0, start_frame=10, frame_count=100, fps=30.0)
    assert (prompt, intensity) == ("calm", 1.0)  # the marker before the start sets the starting style
    assert timed == [(pytest.approx(1.0), "furious", 0.5)]  # the one past the end is dropped
    prompt, _, timed = resolve_cues(cues, "neutral", 1.0, start_frame=1, frame_count=400, fps=30.0)
    assert prompt == "neutral" and [t[1] for t in timed] == ["calm", "furious", "sad"]
    assert resolve_cues([], "happy", 0.8, 1, 10, 24.0) == ("happy", 0.8, [])


@pytest.mark.parametrize(
    ("prompt", "intensity"), [("  on the verge of   tears ", 0.6), ("furious", 1.0), ("", 2.0)]
)
def test_marker_name_reads_back(prompt, intensity):
    name = marker_name(prompt, intensity)
    assert parse_marker_name(name) == (" ".join(prompt.split()), intensity)
    assert marker_name("furious") == "expclip: furious"
