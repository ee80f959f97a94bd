"""Add-on preferences: compute device, the studio preset folder and an optional folder of custom weights.

This module declares and draws them. Code reads them through ``operators.services.preferences``; the
Check button runs ``expclip.check_model_weights``, whose result is drawn under the folder field. Whether
CUDA is usable is asked of torch the first time the preferences are drawn (``expclip_blender.device``),
then remembered for the session.
"""

from __future__ import annotations

import bpy
from bpy.props import EnumProperty, StringProperty

from ..expclip_blender.device import cuda_status
from ..expclip_blender.model_folder import EXPCLIP_FILE, GENERATOR_FILE
from ..expclip_blender.presets import STUDIO
from ..operators.check_model_weights import EXPCLIP_OT_check_model_weights
from ..operators.services.model_cache import model_settings_changed
from ..operators.services.preferences import ADDON_PACKAGE, abspath, weights_checks
from ..operators.services.presets import cached_listing


def _model_settings_changed(self, context) -> None:
    """Device or weights folder changed: drop the loaded model so the next bake loads the new one."""
    model_settings_changed()


class EXPCLIP_AddonPreferences(bpy.types.AddonPreferences):
    bl_idname = ADDON_PACKAGE

    device: EnumProperty(
        name="Device",
        description="Where the speech generator runs",
        items=(
            ("AUTO", "Auto", "The CUDA GPU when one is usable, else the CPU"),
            ("CPU", "CPU", "Always the CPU"),
            ("CUDA", "CUDA", "An NVIDIA GPU through CUDA (bakes fail with a message when none is usable)"),
        ),
        default="AUTO",
        update=_model_settings_changed,
    )
    studio_presets_dir: StringProperty(
        name="Studio Presets",
        description="A folder of emotion presets shared by the team (read-only here; listed under Studio)",
        subtype="DIR_PATH",
        default="",
    )
    custom_models_dir: StringProperty(
        name="Custom Weights",
        description=(
            f"Optional folder holding {EXPCLIP_FILE} and/or {GENERATOR_FILE} (safetensors only); "
            "a file absent from it falls back to the bundled one. Empty = the bundled models"
        ),
        subtype="DIR_PATH",
        default="",
        update=_model_settings_changed,
    )

    def draw(self, context):
        layout = self.layout
        layout.use_property_split = True
        layout.use_property_decorate = False

        col = layout.column()
        col.prop(self, "device")
        usable, found = cuda_status()
        col.label(text=found, icon="CHECKMARK" if usable else "INFO")
        if self.device == "CUDA" and not usable:
            col.label(
                text="CUDA is chosen but not usable here: bakes will fail. Choose Auto or CPU.", icon="ERROR"
            )

        layout.separator()
        col = layout.column()
        col.prop(self, "studio_presets_dir")
        studio = abspath(self.studio_presets_dir)
        if studio:
            listing = cached_listing([(STUDIO, studio)])
            for problem in listing.problems:
                col.label(text=f"Studio folder: {problem.reason}", icon="ERROR")
            if not listing.problems:
                usable_count, broken = len(listing.presets()), len(listing.broken())
                note = f"{usable_count} presets" + (
                    f", {broken} unusable (see the preset menu)" if broken else ""
                )
                col.label(text=note, icon="ERROR" if broken else "PRESET")

        layout.separator()
        col = layout.column()
        row = col.row(align=True)
        row.prop(self, "custom_models_dir")
        row.operator(EXPCLIP_OT_check_model_weights.bl_idname, text="Check", icon="CHECKMARK")
        result = weights_checks.get(abspath(self.custom_models_dir))
        if result is not None:
            for line in result.lines:
                col.label(text=line, icon="CHECKMARK" if result.ok else "ERROR")


CLASSES = (EXPCLIP_AddonPreferences,)
