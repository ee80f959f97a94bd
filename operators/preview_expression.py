"""Preview Expression: the prompt's static expression on the target meshes' shape keys (no keyframes)."""

from __future__ import annotations

import bpy

from ..expclip_blender.prompt_reading import normalize_prompt
from .reporting import poll_fail, report_bake_error
from .services.baking import preview_expression, resolve_targets
from .services.model_cache import get_model, model_settings
from .services.scene_settings import settings_of
from .services.targets import targets_problem


class EXPCLIP_OT_preview_expression(bpy.types.Operator):
    """Put the prompt's static expression on the target meshes' shape keys (no keyframes)"""

    bl_idname = "expclip.preview_expression"
    bl_label = "Preview Expression"
    bl_options = {"REGISTER", "UNDO"}

    @classmethod
    def poll(cls, context):
        if settings_of(context) is None:
            return poll_fail(cls, "Enable the ExpCLIP extension")
        problem = targets_problem(context)
        return poll_fail(cls, problem) if problem else True

    def execute(self, context):
        settings = settings_of(context)
        try:
            targets = resolve_targets(context, settings.mapping_preset)
            model = get_model(*model_settings(context))
            face = model.expression(normalize_prompt(settings.prompt), float(settings.intensity))
        except Exception as err:
            return report_bake_error(self, err)
        animated = preview_expression(targets, face)
        prompt = settings.prompt.strip() or "neutral"
        text = f"Previewing '{prompt}' on {', '.join(obj.name for obj, _ in targets)}"
        if animated:
            text += f" (the animation of {', '.join(animated)} sets the keys again when the frame changes)"
        self.report({"INFO"}, text)
        return {"FINISHED"}


CLASSES = (EXPCLIP_OT_preview_expression,)
