"""The sidebar panel (3D Viewport > N panel > ExpCLIP)."""

from __future__ import annotations

import bpy

from ..expclip_blender.mapping import auto_match
from ..operators.targets import target_meshes


class EXPCLIP_PT_main(bpy.types.Panel):
    """ExpCLIP: speech + an emotion prompt -> shape-key animation"""

    bl_idname = "EXPCLIP_PT_main"
    bl_label = "ExpCLIP"
    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = "ExpCLIP"

    def draw(self, context):
        layout = self.layout
        targets = target_meshes(context)
        box = layout.box()
        box.label(text="Targets", icon="SHAPEKEY_DATA")
        if not targets:
            box.label(text="Select a mesh with shape keys", icon="INFO")
        for obj in targets:
            report = auto_match(kb.name for kb in obj.data.shape_keys.key_blocks[1:])
            row = box.row()
            row.label(text=obj.name, icon="MESH_DATA")
            row.label(text=f"{len(report.driven_arkit)}/52 channels")
        col = layout.column(align=True)
        col.operator("expclip.import_weights", icon="IMPORT")
        col.operator("expclip.add_demo_head", icon="USER")


CLASSES = (EXPCLIP_PT_main,)
