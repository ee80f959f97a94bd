"""Apply Preset: set the scene's prompt, intensity, smoothing, blinks, gaze (and mapping) from a preset.

It changes the scene's settings (``scene.expclip``) and is undoable.
"""

from __future__ import annotations

import bpy
from bpy.props import StringProperty

from ..expclip_blender.presets import PresetError
from .reporting import poll_fail
from .services.presets import apply_to_settings, missing_mapping, preset_library
from .services.scene_settings import NOT_REGISTERED, settings_of


class EXPCLIP_OT_preset_apply(bpy.types.Operator):
    """Set the prompt, intensity, smoothing, blinks, eye movement (and mapping, if any) from a preset"""

    bl_idname = "expclip.preset_apply"
    bl_label = "Apply Preset"
    bl_options = {"REGISTER", "UNDO", "INTERNAL"}

    name: StringProperty(name="Preset", description="Name of the preset to apply", options={"SKIP_SAVE"})

    @classmethod
    def poll(cls, context):
        return True if settings_of(context) is not None else poll_fail(cls, NOT_REGISTERED)

    @classmethod
    def description(cls, context, properties):
        """The tooltip: what the preset holds, or why it cannot be used."""
        try:
            entry = preset_library(context).get(properties.name)
        except PresetError as exc:
            return str(exc)
        p = entry.preset
        assert p is not None  # get() returns a usable file or raises
        blinks = "on" if p.blinks else "off"
        gaze = f"{p.gaze_amount:g}" if p.gaze else "off"
        lines = [
            f'"{p.prompt}": intensity {p.intensity:g}, smoothing {p.smoothing:g}, blinks {blinks}, '
            f"eye movement {gaze}"
        ]
        if p.mapping:
            lines.append(f"Mapping: {entry.mapping_path()}")
        if p.description:
            lines.append(p.description)
        lines.append(f"{entry.source_label} preset: {entry.path}")
        return "\n".join(lines)

    def execute(self, context):
        settings = settings_of(context)
        if settings is None:
            self.report({"ERROR"}, NOT_REGISTERED)
            return {"CANCELLED"}
        try:
            entry = preset_library(context).get(self.name)
        except PresetError as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        mapping = entry.mapping_path()
        if missing_mapping(mapping):
            self.report(
                {"ERROR"},
                f"{entry.source_label} preset '{entry.name}' uses the mapping preset '{mapping}', which does "
                f"not exist. Fix the 'mapping' field of '{entry.path}', or put the mapping file there.",
            )
            return {"CANCELLED"}
        preset = entry.preset
        assert preset is not None  # get() returns a usable file or raises
        apply_to_settings(settings, preset, mapping)
        self.report({"INFO"}, f"Applied the {entry.source_label.lower()} preset '{entry.name}'")
        return {"FINISHED"}


CLASSES = (EXPCLIP_OT_preset_apply,)
