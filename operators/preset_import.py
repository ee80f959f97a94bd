"""Import Preset: copy a checked preset file (.json) into the user preset folder."""

from __future__ import annotations

from typing import TYPE_CHECKING

import bpy
from bpy.props import BoolProperty, StringProperty
from bpy_extras.io_utils import ImportHelper

from ..expclip_blender.presets import PresetError
from .services.presets import preset_library


# ImportHelper's stubbed invoke() returns set[str], Operator's a set of literals; the runtime one is fine.
class EXPCLIP_OT_preset_import(bpy.types.Operator, ImportHelper):  # type: ignore[misc]
    """Copy a preset file (.json) into your user presets, after checking it"""

    bl_idname = "expclip.preset_import"
    bl_label = "Import Preset"
    bl_options = {"REGISTER"}

    if TYPE_CHECKING:
        filepath: str  # ImportHelper declares the property at runtime; its stubs do not

    filename_ext = ".json"
    filter_glob: StringProperty(default="*.json", options={"HIDDEN"})
    overwrite: BoolProperty(
        name="Overwrite",
        description="Replace a user preset of the same name",
        default=False,
        options={"SKIP_SAVE"},
    )

    def execute(self, context):
        if not self.filepath:
            self.report({"ERROR"}, "Choose a preset .json file to import")
            return {"CANCELLED"}
        try:
            preset, path = preset_library(context).import_file(
                bpy.path.abspath(self.filepath), self.overwrite
            )
        except PresetError as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        self.report({"INFO"}, f"Imported the preset '{preset.name}' into your user presets ({path.name})")
        return {"FINISHED"}


CLASSES = (EXPCLIP_OT_preset_import,)
