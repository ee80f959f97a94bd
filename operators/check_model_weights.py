"""Check Weights: load the custom weights (safetensors) with the core loaders and say what does not fit.

The result is also kept (``services.preferences.weights_checks``) for the preferences to show under the
folder field.
"""

from __future__ import annotations

import bpy
from bpy.props import StringProperty

from ..expclip_blender.model_folder import check_models_dir
from .services.preferences import abspath, addon_preferences, weights_checks


class EXPCLIP_OT_check_model_weights(bpy.types.Operator):
    """Load the custom weights (safetensors) and check that every tensor fits the model"""

    bl_idname = "expclip.check_model_weights"
    bl_label = "Check Weights"
    bl_options = {"REGISTER", "INTERNAL"}

    folder: StringProperty(
        name="Folder",
        description="Folder to check; empty = the custom weights folder of the preferences",
        subtype="DIR_PATH",
        options={"SKIP_SAVE"},
    )

    def execute(self, context):
        folder = self.folder
        if not folder:
            prefs = addon_preferences(context)
            folder = prefs.custom_models_dir if prefs is not None else ""
        folder = abspath(folder)
        result = check_models_dir(folder)
        weights_checks[folder] = result
        if not result.ok:
            self.report({"ERROR"}, result.message)
            return {"CANCELLED"}
        self.report({"INFO"}, result.message)
        return {"FINISHED"}


CLASSES = (EXPCLIP_OT_check_model_weights,)
