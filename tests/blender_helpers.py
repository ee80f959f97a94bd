"""Helpers shared by the Blender tests (they need bpy; import them inside tests or fixtures)."""

from __future__ import annotations

import bpy


def make_keyed_mesh(name: str, key_names: list[str]) -> bpy.types.Object:
    """A small grid mesh with a Basis and the given shape keys, each moving one vertex up."""
    mesh = bpy.data.meshes.new(name)
    verts = [(x * 0.1, 0.0, z * 0.1) for z in range(4) for x in range(4)]
    faces = [(r * 4 + c, r * 4 + c + 1, r * 4 + c + 5, r * 4 + c + 4) for r in range(3) for c in range(3)]
    mesh.from_pydata(verts, [], faces)
    obj = bpy.data.objects.new(name, mesh)
    bpy.context.scene.collection.objects.link(obj)
    obj.shape_key_add(name="Basis")
    for i, key_name in enumerate(key_names):
        block = obj.shape_key_add(name=key_name, from_mix=False)
        block.data[i % len(verts)].co.z += 0.05
    return obj


def action_fcurves(action: bpy.types.Action, anim_data: bpy.types.AnimData | None = None) -> list:
    """The fcurves of an action on 4.2 (``action.fcurves``) and on layered actions (4.4+/5.x)."""
    if hasattr(action, "layers") and len(action.layers):
        slot = anim_data.action_slot if anim_data is not None else action.slots[0]
        return list(action.layers[0].strips[0].channelbag(slot).fcurves)
    return list(action.fcurves)


def fcurve_by_key(action: bpy.types.Action, anim_data=None) -> dict:
    out = {}
    for fc in action_fcurves(action, anim_data):
        name = fc.data_path.split('"')[1]
        out[name] = fc
    return out
