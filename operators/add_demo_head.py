"""Operator that adds the built-in demo head (all 52 ARKit shape keys) to the scene."""

from __future__ import annotations

import bpy

from .reporting import poll_fail


class EXPCLIP_OT_add_demo_head(bpy.types.Operator):
    """Add a stylised head with all 52 ARKit shape keys, for trying ExpCLIP without a rig of your own"""

    bl_idname = "expclip.add_demo_head"
    bl_label = "Add Demo Head"
    bl_options = {"REGISTER", "UNDO"}

    @classmethod
    def poll(cls, context):
        return True if context.mode == "OBJECT" else poll_fail(cls, "Switch to Object Mode first")

    def execute(self, context):
        from .services.demo_head import create_demo_head_object

        for other in context.selected_objects:
            other.select_set(False)
        obj = create_demo_head_object(context.collection)
        obj.location = context.scene.cursor.location
        obj.select_set(True)
        context.view_layer.objects.active = obj
        return {"FINISHED"}


CLASSES = (EXPCLIP_OT_add_demo_head,)
