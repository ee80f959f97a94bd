"""Export Preset: write a preset to a .json file, to share it or put it in a studio folder."""

from __future__ import annotations

from typing import TYPE_CHECKING

import bpy
from bpy.props import StringProperty
from bpy_extras.io_utils import ExportHelper

from ..expclip_blender.presets import PresetError, slugify
from .services.presets import preset_library


class EXPCLIP_OT_preset_export(bpy.types.Operator, ExportHelper):
    """Write a preset to a .json file, to share it or put it in a studio folder"""

    bl_idname = "expclip.preset_export"
    bl_label = "Export Preset"
    bl_options = {"REGISTER"}

    if TYPE_CHECKING:
        filepath: str  # ExportHelper declares the property at runtime; its stubs do not

    filename_ext = ".json"
    filter_glob: StringProperty(default="*.json", options={"HIDDEN"})
    name: StringProperty(name="Preset", description="Name of the preset to export", options={"SKIP_SAVE"})

    def invoke(self, context, event):
        if not self.filepath:
            self.filepath = slugify(self.name) + self.filename_ext
        context.window_manager.fileselect_add(self)
        return {"RUNNING_MODAL"}

    def execute(self, context):
        if not self.filepath:
            self.report({"ERROR"}, "Choose where to write the preset")
            return {"CANCELLED"}
        try:
            path = preset_library(context).export(self.name, bpy.path.abspath(self.filepath))
        except PresetError as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        self.report({"INFO"}, f"Exported the preset '{self.name}' to {path}")
        return {"FINISHED"}


CLASSES = (EXPCLIP_OT_preset_export,)
