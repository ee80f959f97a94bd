"""Delete Preset: remove a user preset file (built-in and studio presets are read-only)."""

from __future__ import annotations

import bpy
from bpy.props import StringProperty

from ..expclip_blender.presets import PresetError
from .services.presets import preset_library


class EXPCLIP_OT_preset_delete(bpy.types.Operator):
    """Delete a user preset (built-in and studio presets are read-only)"""

    bl_idname = "expclip.preset_delete"
    bl_label = "Delete Preset"
    bl_options = {"REGISTER", "INTERNAL"}

    name: StringProperty(
        name="Preset", description="Name of the user preset to delete", options={"SKIP_SAVE"}
    )

    def invoke(self, context, event):
        return context.window_manager.invoke_confirm(self, event)

    def execute(self, context):
        try:
            path = preset_library(context).delete(self.name)
        except PresetError as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        self.report({"INFO"}, f"Deleted the user preset '{self.name}' ({path.name})")
        return {"FINISHED"}


CLASSES = (EXPCLIP_OT_preset_delete,)
