"""The scene's emotion timeline: its ``expclip:`` markers read off ``scene.timeline_markers``.

What a marker name means is the core's (``expclip_blender.timeline``); this module only reads Blender.
"""

from __future__ import annotations

import bpy

from ...expclip_blender.timeline import MarkerCue, cues_from_markers


def marker_cues(scene: bpy.types.Scene) -> list[MarkerCue]:
    """The scene's ExpCLIP markers in frame order (TimelineError for a malformed one)."""
    return cues_from_markers((marker.frame, marker.name) for marker in scene.timeline_markers)
