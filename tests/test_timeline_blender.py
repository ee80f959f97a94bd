"""The emotion timeline on real bpy: the scene's markers read as cues, and the Add Emotion Marker operator.

What a marker name means is tested without Blender in test_timeline.py.
"""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.blender, pytest.mark.blender_compat]


def test_markers_become_cues_relative_to_the_first_baked_frame(ext, empty_scene):
    tl = ext.expclip_blender.timeline
    scene = empty_scene
    for frame, name in [
        (40, "expclip: furious @0.5"),
        (5, "expclip: calm"),
        (70, "F_70"),
        (300, "expclip: sad"),
    ]:
        scene.timeline_markers.new(name, frame=frame)
    cues = ext.operators.services.timeline.marker_cues(scene)
    assert [(c.frame, c.prompt, c.intensity) for c in cues] == [
        (5, "calm", 1.0),
        (40, "furious", 0.5),
        (300, "sad", 1.0),
    ]
    assert tl.describe_cue(cues[1]) == "frame 40: furious x0.5"
    # A bake of frames 10..109 at 30 fps: the marker at 5 sets the starting style, 300 is past the end.
    prompt, intensity, timed = tl.resolve_cues(
        cues, "neutral", 1.0, start_frame=10, frame_count=100, fps=30.0
    )
    assert (prompt, intensity) == ("calm", 1.0)
    assert timed == [(pytest.approx(1.0), "furious", 0.5)]
    prompt, _, timed = tl.resolve_cues(cues, "neutral", 1.0, start_frame=1, frame_count=400, fps=30.0)
    assert prompt == "neutral" and [t[1] for t in timed] == ["calm", "furious", "sad"]


def test_add_emotion_marker_writes_a_name_that_reads_back(ext, empty_scene, bpy_module):
    bpy = bpy_module
    ext.register()
    try:
        scene = bpy.context.scene
        scene.frame_current = 33
        scene.expclip.prompt, scene.expclip.intensity = "  on the verge of   tears ", 0.6
        assert bpy.ops.expclip.add_emotion_marker() == {"FINISHED"}
        (marker,) = scene.timeline_markers
        assert (marker.name, marker.frame) == ("expclip: on the verge of tears @0.6", 33)
        cue = ext.operators.services.timeline.marker_cues(scene)[0]
        assert (cue.frame, cue.prompt, cue.intensity) == (33, "on the verge of tears", pytest.approx(0.6))
    finally:
        ext.unregister()
