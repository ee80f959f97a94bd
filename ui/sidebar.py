"""The sidebar panel (3D Viewport > N panel > ExpCLIP).

Drawing never raises: anything that cannot be read (a broken mapping preset, a malformed marker) is shown
as a line saying what is wrong, and the buttons' tooltips say why they are disabled. What the lines say
comes from the services and the core; a mapping preset is parsed once per version of its file.
"""

from __future__ import annotations

import bpy

from ..expclip_blender.mapping import MappingError
from ..expclip_blender.prompt_reading import prompt_phrase, prompt_reading
from ..expclip_blender.timeline import TimelineError, describe_cue
from ..operators.services.mapping_presets import cached_mapping_preset
from ..operators.services.model_cache import model_settings, preload
from ..operators.services.sound_source import SoundSourceError, chosen_strip, frame_range_text
from ..operators.services.targets import channel_counts
from ..operators.services.timeline import marker_cues

PRESET_MENU = "EXPCLIP_MT_presets"  # drawn when the presets module has registered it


def _message(layout, text: str, icon: str = "ERROR") -> None:
    """A message as one label per sentence (a sidebar line is short; one long label would be cut)."""
    col = layout.column(align=True)
    for i, sentence in enumerate(part for part in text.replace(": ", ":\n").split("\n") if part.strip()):
        col.label(text=sentence.strip(), icon=icon if i == 0 else "BLANK1")


def _strip_collection(scene: bpy.types.Scene) -> tuple[object, str] | None:
    editor = scene.sequence_editor
    if editor is None:
        return None
    for name in ("strips_all", "sequences_all"):  # 5.x, then 4.2
        if hasattr(editor, name):
            return editor, name
    return None


class EXPCLIP_PT_main(bpy.types.Panel):
    """ExpCLIP: speech + an emotion prompt -> shape-key animation"""

    bl_idname = "EXPCLIP_PT_main"
    bl_label = "ExpCLIP"
    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = "ExpCLIP"

    def draw(self, context):
        layout = self.layout
        settings = getattr(context.scene, "expclip", None)
        if settings is not None:
            preload(*model_settings(context))  # once: the panel is open, a bake is likely to follow
            self._draw_audio(layout, context, settings)
            self._draw_style(layout, settings)
            self._draw_timeline(layout, context, settings)
        self._draw_targets(layout, context, settings)
        if settings is not None:
            col = layout.column(align=True)
            col.scale_y = 1.2
            col.operator("expclip.preview_expression", icon="HIDE_OFF")
            col.operator("expclip.bake", icon="REC")
        col = layout.column(align=True)
        col.operator("expclip.import_weights", icon="IMPORT")
        col.operator("expclip.add_demo_head", icon="USER")

    def _draw_audio(self, layout, context, settings) -> None:
        box = layout.box()
        box.label(text="Audio", icon="SOUND")
        box.row().prop(settings, "audio_source", expand=True)
        if settings.audio_source == "FILE":
            box.prop(settings, "audio_file", text="")
            box.label(text=f"Starts on frame {context.scene.frame_start}")
            return
        found = _strip_collection(context.scene)
        if found is not None:
            box.prop_search(settings, "strip", found[0], found[1], text="", icon="SEQUENCE")
        try:
            strip = chosen_strip(context.scene, settings.strip.strip())
        except SoundSourceError as err:
            _message(box, str(err))
            return
        col = box.column(align=True)
        if not settings.strip.strip():
            col.label(text=f"Using '{strip.name}'")
        col.label(text=frame_range_text(context.scene, strip).capitalize())

    def _draw_style(self, layout, settings) -> None:
        box = layout.box()
        box.label(text="Style", icon="SHADERFX")
        box.prop(settings, "prompt", text="")
        reading = prompt_reading(settings.prompt)
        if reading is not None:  # unseen words: show the stand-ins the model will read with them
            box.label(text=f"Read as: {reading}", icon="INFO")
        phrase = prompt_phrase(settings.prompt)
        if phrase is not None:  # the words that weigh most in the style
            box.label(text=f"Mainly read as: {phrase}", icon="INFO")
        box.prop(settings, "intensity", slider=True)
        if hasattr(bpy.types, PRESET_MENU):
            box.menu(PRESET_MENU, icon="PRESET")
        box.prop(settings, "smoothing", slider=True)
        box.prop(settings, "blinks")
        row = box.row()
        row.prop(settings, "gaze")
        sub = row.row()
        sub.active = settings.gaze  # the amount is kept, and used again when eye movement is back on
        sub.prop(settings, "gaze_amount", slider=True)
        box.prop(settings, "mapping_preset", text="Mapping")
        if settings.mapping_preset.strip():
            try:
                preset = cached_mapping_preset(bpy.path.abspath(settings.mapping_preset))
                box.label(text=f"Mapping '{preset.name}': {len(preset.channels)} keys", icon="CHECKMARK")
            except MappingError as err:
                _message(box, str(err))

    def _draw_timeline(self, layout, context, settings) -> None:
        box = layout.box()
        row = box.row()
        row.prop(settings, "use_timeline")
        sub = row.row()
        sub.active = settings.use_timeline
        sub.prop(settings, "transition_s", text="")
        if not settings.use_timeline:
            return
        try:
            cues = marker_cues(context.scene)
        except TimelineError as err:
            _message(box, str(err))
            return
        if not cues:
            box.label(text="Markers named 'expclip: furious' change the prompt", icon="INFO")
        col = box.column(align=True)
        for cue in cues:
            col.label(text=describe_cue(cue), icon="MARKER_HLT")
        box.operator("expclip.add_emotion_marker", icon="MARKER")

    def _draw_targets(self, layout, context, settings) -> None:
        box = layout.box()
        box.label(text="Targets", icon="SHAPEKEY_DATA")
        rows = channel_counts(context, settings.mapping_preset if settings is not None else "")
        if not rows:
            box.label(text="Select a mesh with shape keys", icon="INFO")
        for name, count in rows:
            row = box.row()
            row.label(text=name, icon="MESH_DATA")
            row.label(text=count)


CLASSES = (EXPCLIP_PT_main,)
