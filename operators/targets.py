"""Which meshes an operation targets, and scene timing."""

from __future__ import annotations

import bpy

from ..expclip_blender.mapping import auto_match


def scene_fps(scene: bpy.types.Scene) -> float:
    """The scene's real frame rate (fps / fps_base, so 29.97 is 30000/1001)."""
    return scene.render.fps / scene.render.fps_base


def has_arkit_keys(obj: bpy.types.Object) -> bool:
    key = obj.data.shape_keys if obj.type == "MESH" else None
    return key is not None and bool(auto_match(kb.name for kb in key.key_blocks[1:]).channels)


def target_meshes(context: bpy.types.Context) -> list[bpy.types.Object]:
    """The active mesh (if it has shape keys) plus other selected meshes whose keys match ARKit names.

    Faces, teeth and brows are often separate objects; each receives the channels it has.
    """
    active = context.active_object
    out = []
    if active is not None and active.type == "MESH" and active.data.shape_keys is not None:
        out.append(active)
    for obj in context.selected_objects:
        if obj is not active and has_arkit_keys(obj):
            out.append(obj)
    return out
