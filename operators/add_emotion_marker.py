"""Add Emotion Marker: a timeline marker that switches to the panel's prompt from the current frame on.

The marker syntax (``expclip: <prompt> @<intensity>``) is the core's (``expclip_blender.timeline``).
"""

from __future__ import annotations

import bpy

from ..expclip_blender.timeline import marker_name
from .services.scene_settings import NOT_ENABLED_MESSAGE, settings_of


class EXPCLIP_OT_add_emotion_marker(bpy.types.Operator):
    """Add a timeline marker at the current frame that switches to the panel's prompt from there on"""

    bl_idname = "expclip.add_emotion_marker"
    bl_label = "Add Emotion Marker"
    bl_options = {"REGISTER", "UNDO"}

    def execute(self, context):
        scene = context.scene
        settings = settings_of(context)
        if settings is None:
            self.report({"ERROR"}, NOT_ENABLED_MESSAGE)
            return {"CANCELLED"}
        name = marker_name(settings.prompt, round(settings.intensity, 2))
        marker = scene.timeline_markers.new(name, frame=scene.frame_current)
        for other in scene.timeline_markers:
            other.select = other == marker
        self.report({"INFO"}, f"Marker '{name}' on frame {scene.frame_current}")
        return {"FINISHED"}


CLASSES = (EXPCLIP_OT_add_emotion_marker,)
