"""Emotion preset operators: apply, save, delete, import and export (``expclip_blender.presets``).

Applying changes the scene's settings (``scene.expclip``) and is undoable. The others only touch files in
the user preset folder (or the file chosen for export); built-in and studio presets are never written.
"""

from __future__ import annotations

from pathlib import Path

import bpy
import numpy as np
from bpy.props import BoolProperty, StringProperty
from bpy_extras.io_utils import ExportHelper, ImportHelper

from ..expclip_blender.presets import (
    USER,
    Preset,
    PresetError,
    PresetLibrary,
    name_key,
    slugify,
)

NOT_REGISTERED = "The ExpCLIP scene settings are missing: enable the ExpCLIP extension in the preferences"


def _preferences():
    from ..ui import preferences  # imported late: the ui package imports this module (the preset menu)

    return preferences


def user_presets_dir() -> Path:
    """The user preset folder: the extension's own user folder (kept across updates of the extension).

    Outside an installed extension (a legacy add-on, the source tree in tests) Blender's user scripts
    presets folder is used instead.
    """
    package = _preferences().ADDON_PACKAGE
    try:
        return Path(bpy.utils.extension_path_user(package, path="presets"))
    except ValueError:  # not a "bl_ext.<repo>.<id>" package
        return Path(bpy.utils.user_resource("SCRIPTS", path=f"presets/{package}"))


def preset_library(context: bpy.types.Context | None = None) -> PresetLibrary:
    """The presets of this installation: built-in, the studio folder of the preferences, the user folder."""
    prefs = _preferences().addon_preferences(context)
    studio = (prefs.studio_presets_dir or "").strip() if prefs is not None else ""
    return PresetLibrary(user_dir=user_presets_dir(), studio_dir=bpy.path.abspath(studio) if studio else None)


def _exact(value: float) -> float:
    """A float property's value as its shortest decimal (0.3, not 0.30000001192092896)."""
    return float(str(np.float32(value)))


def preset_from_settings(settings, name: str, include_mapping: bool = True, description: str = "") -> Preset:
    """A preset holding the scene's ExpCLIP settings (PresetError for a bad name or value)."""
    mapping = settings.mapping_preset.strip() if include_mapping else ""
    return Preset(
        name=name,
        prompt=settings.prompt,
        intensity=_exact(settings.intensity),
        smoothing=_exact(settings.smoothing),
        blinks=bool(settings.blinks),
        mapping=mapping or None,
        description=description,
    )


def apply_to_settings(settings, preset: Preset, mapping: str | None) -> None:
    """Write a preset into the scene settings; a preset without a mapping keeps the scene's mapping."""
    settings.prompt = preset.prompt
    settings.intensity = preset.intensity
    settings.smoothing = preset.smoothing
    settings.blinks = preset.blinks
    if mapping is not None:
        settings.mapping_preset = mapping


def _settings(context):
    return getattr(context.scene, "expclip", None) if context.scene is not None else None


class EXPCLIP_OT_preset_apply(bpy.types.Operator):
    """Set the prompt, intensity, smoothing and blinks (and the mapping, when it names one) from a preset"""

    bl_idname = "expclip.preset_apply"
    bl_label = "Apply Preset"
    bl_options = {"REGISTER", "UNDO", "INTERNAL"}

    name: StringProperty(name="Preset", description="Name of the preset to apply", options={"SKIP_SAVE"})

    @classmethod
    def poll(cls, context):
        if _settings(context) is None:
            cls.poll_message_set(NOT_REGISTERED)
            return False
        return True

    @classmethod
    def description(cls, context, properties):
        """The tooltip: what the preset holds, or why it cannot be used."""
        try:
            entry = preset_library(context).get(properties.name)
        except PresetError as exc:
            return str(exc)
        p = entry.preset
        blinks = "on" if p.blinks else "off"
        lines = [f'"{p.prompt}": intensity {p.intensity:g}, smoothing {p.smoothing:g}, blinks {blinks}']
        if p.mapping:
            lines.append(f"Mapping: {entry.mapping_path()}")
        if p.description:
            lines.append(p.description)
        lines.append(f"{entry.source_label} preset: {entry.path}")
        return "\n".join(lines)

    def execute(self, context):
        settings = _settings(context)
        if settings is None:
            self.report({"ERROR"}, NOT_REGISTERED)
            return {"CANCELLED"}
        try:
            entry = preset_library(context).get(self.name)
        except PresetError as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        mapping = entry.mapping_path()
        if mapping is not None and not Path(bpy.path.abspath(mapping)).is_file():
            self.report(
                {"ERROR"},
                f"{entry.source_label} preset '{entry.name}' uses the mapping preset '{mapping}', which does "
                f"not exist. Fix the 'mapping' field of '{entry.path}', or put the mapping file there.",
            )
            return {"CANCELLED"}
        apply_to_settings(settings, entry.preset, mapping)
        self.report({"INFO"}, f"Applied the {entry.source_label.lower()} preset '{entry.name}'")
        return {"FINISHED"}


class EXPCLIP_OT_preset_save(bpy.types.Operator):
    """Save this scene's prompt, intensity, smoothing, blinks and mapping as a user preset"""

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
        if _settings(context) is None:
            cls.poll_message_set(NOT_REGISTERED)
            return False
        return True

    def invoke(self, context, event):
        if not self.name:
            self.name = " ".join(_settings(context).prompt.split())[:40] or "My Preset"
        return context.window_manager.invoke_props_dialog(self)

    def draw(self, context):
        layout = self.layout
        layout.prop(self, "name")
        layout.prop(self, "notes")
        if _settings(context).mapping_preset.strip():
            layout.prop(self, "include_mapping")
        layout.prop(self, "overwrite")
        try:
            listing = preset_library(context).listing()
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
        settings = _settings(context)
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


class EXPCLIP_OT_preset_import(bpy.types.Operator, ImportHelper):
    """Copy a preset file (.json) into your user presets, after checking it"""

    bl_idname = "expclip.preset_import"
    bl_label = "Import Preset"
    bl_options = {"REGISTER"}

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


class EXPCLIP_OT_preset_export(bpy.types.Operator, ExportHelper):
    """Write a preset to a .json file, to share it or put it in a studio folder"""

    bl_idname = "expclip.preset_export"
    bl_label = "Export Preset"
    bl_options = {"REGISTER"}

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


CLASSES = (
    EXPCLIP_OT_preset_apply,
    EXPCLIP_OT_preset_save,
    EXPCLIP_OT_preset_delete,
    EXPCLIP_OT_preset_import,
    EXPCLIP_OT_preset_export,
)
