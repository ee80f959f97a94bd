"""Save Preset: the scene's prompt, intensity, smoothing, blinks, eye movement and mapping as a preset."""

from __future__ import annotations

import bpy
from bpy.props import BoolProperty, StringProperty

from ..expclip_blender.presets import USER, PresetError, name_key
from .reporting import poll_fail
from .services.presets import cached_listing, preset_from_settings, preset_library
from .services.scene_settings import NOT_REGISTERED, settings_of


class EXPCLIP_OT_preset_save(bpy.types.Operator):
    """Save this scene's prompt, intensity, smoothing, blinks, eye movement and mapping as a user preset"""

    bl_idname = "expclip.preset_save"
    bl_label = "Save Preset"
    bl_options = {"REGISTER"}

    name: StringProperty(name="Name", description="Name of the new preset", options={"SKIP_SAVE"})
    notes: StringProperty(name="Notes", description="Optional: when to use it (shown in its tooltip)")
    overwrite: BoolProperty(
        name="Overwrite",
        description="Replace the user preset of the same name",
        default=False,
        options={"SKIP_SAVE"},
    )
    include_mapping: BoolProperty(
        name="Include Mapping",
        description="Store the scene's mapping preset too (applying the preset then sets it)",
        default=True,
    )

    @classmethod
    def poll(cls, context):
        return True if settings_of(context) is not None else poll_fail(cls, NOT_REGISTERED)

    def invoke(self, context, event):
        if not self.name:
            self.name = " ".join(settings_of(context).prompt.split())[:40] or "My Preset"
        return context.window_manager.invoke_props_dialog(self)

    def draw(self, context):
        layout = self.layout
        layout.prop(self, "name")
        layout.prop(self, "notes")
        if settings_of(context).mapping_preset.strip():
            layout.prop(self, "include_mapping")
        layout.prop(self, "overwrite")
        try:
            listing = cached_listing(preset_library(context).folders)
        except Exception:  # a dialog must draw whatever the folders hold
            return
        same = [e for e in listing.files if e.ok and e.key == name_key(self.name)]
        if any(e.source == USER for e in same):
            text = (
                "Replaces your preset of this name"
                if self.overwrite
                else "Exists: tick Overwrite to replace it"
            )
            layout.label(text=text, icon="ERROR" if not self.overwrite else "INFO")
        elif same:
            layout.label(text=f"Takes precedence over the {same[-1].source_label.lower()} one", icon="INFO")

    def execute(self, context):
        settings = settings_of(context)
        if settings is None:
            self.report({"ERROR"}, NOT_REGISTERED)
            return {"CANCELLED"}
        try:
            preset = preset_from_settings(settings, self.name, self.include_mapping, self.notes.strip())
            path = preset_library(context).save(preset, overwrite=self.overwrite)
        except PresetError as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        self.report({"INFO"}, f"Saved the user preset '{preset.name}' ({path})")
        return {"FINISHED"}


CLASSES = (EXPCLIP_OT_preset_save,)
