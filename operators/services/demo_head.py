"""Blender side of the demo head: turn the core's arrays into a mesh object with 52 ARKit shape keys."""

from __future__ import annotations

import bpy
import numpy as np

from ...expclip_blender.arkit import ARKIT_NAMES
from ...expclip_blender.demo_head import DEFAULT_RESOLUTION, MATERIAL_NAMES, DemoHead, build_demo_head

# Viewport/Workbench colour (linear RGBA) and roughness per material slot.
_MATERIAL_LOOK: dict[str, tuple[tuple[float, float, float, float], float]] = {
    "skin": ((0.80, 0.52, 0.40, 1.0), 0.55),
    "lips": ((0.62, 0.20, 0.19, 1.0), 0.45),
    "mouth": ((0.025, 0.004, 0.005, 1.0), 0.8),
    "teeth": ((0.85, 0.83, 0.76, 1.0), 0.3),
    "tongue": ((0.42, 0.11, 0.12, 1.0), 0.5),
    "sclera": ((0.90, 0.89, 0.86, 1.0), 0.15),
    "iris": ((0.13, 0.28, 0.42, 1.0), 0.15),
    "pupil": ((0.01, 0.01, 0.01, 1.0), 0.1),
    "brow": ((0.10, 0.055, 0.03, 1.0), 0.8),
    "lash": ((0.03, 0.02, 0.02, 1.0), 0.8),
}
MATERIAL_PREFIX = "ExpCLIP Demo "


def _material(name: str) -> bpy.types.Material:
    """The demo material ``name``, created on first use and shared by every demo head after that."""
    full = MATERIAL_PREFIX + name.capitalize()
    mat = bpy.data.materials.get(full)
    if mat is not None:
        return mat
    color, rough = _MATERIAL_LOOK[name]
    mat = bpy.data.materials.new(full)
    mat.diffuse_color = color  # type: ignore[assignment]  # Workbench's colour; RNA arrays take any sequence
    mat.roughness = rough
    # Cycles/EEVEE: a Principled BSDF with the same colour. Node trees are always on in Blender 5;
    # before that they have to be switched on.
    if mat.node_tree is None and hasattr(mat, "use_nodes"):
        mat.use_nodes = True
    tree = mat.node_tree
    if tree is not None:
        bsdf = next((n for n in tree.nodes if n.type == "BSDF_PRINCIPLED"), None)
        if bsdf is not None:
            # default_value is declared on each socket subclass; inputs[] is typed as the base NodeSocket.
            bsdf.inputs["Base Color"].default_value = color  # type: ignore[attr-defined]
            bsdf.inputs["Roughness"].default_value = rough  # type: ignore[attr-defined]
    return mat


def mesh_from_demo_head(head: DemoHead, name: str) -> bpy.types.Mesh:
    """A new mesh datablock with the head's rest geometry, materials and smooth shading."""
    mesh = bpy.data.meshes.new(name)
    mesh.vertices.add(head.num_vertices)
    mesh.vertices.foreach_set("co", head.vertices.ravel())
    mesh.loops.add(len(head.face_indices))
    mesh.loops.foreach_set("vertex_index", head.face_indices)
    mesh.polygons.add(head.num_faces)
    mesh.polygons.foreach_set("loop_start", head.loop_starts)
    # Before Blender 4.0 a polygon's size was stored too; since then it follows from the loop starts.
    if not bpy.types.MeshPolygon.bl_rna.properties["loop_total"].is_readonly:
        mesh.polygons.foreach_set("loop_total", head.face_sizes)
    for mat_name in MATERIAL_NAMES:
        mesh.materials.append(_material(mat_name))
    mesh.polygons.foreach_set("material_index", head.material_index)
    mesh.update(calc_edges=True)
    # Smooth shading the same way on every version (``use_auto_smooth`` existed only before 4.1).
    mesh.polygons.foreach_set("use_smooth", np.ones(head.num_faces, dtype=bool))
    if hasattr(mesh, "use_auto_smooth"):
        mesh.use_auto_smooth = False
    mesh.update()
    return mesh


def add_arkit_shape_keys(obj: bpy.types.Object, head: DemoHead) -> None:
    """Give ``obj`` (a mesh made from ``head``) a Basis key and the 52 ARKit keys, Apple's names."""
    obj.shape_key_add(name="Basis", from_mix=False)
    for i, key_name in enumerate(ARKIT_NAMES):
        block = obj.shape_key_add(name=key_name, from_mix=False)
        block.data.foreach_set("co", (head.vertices + head.shape_deltas[i]).ravel())
        block.slider_min, block.slider_max = 0.0, 1.0
        block.value = 0.0  # new keys can start at 1.0 (they do in Blender 5.0): start neutral
    obj.data.shape_keys.use_relative = True


def create_demo_head_object(
    collection: bpy.types.Collection | None = None,
    name: str = "ExpCLIP Demo Head",
    resolution: int = DEFAULT_RESOLUTION,
) -> bpy.types.Object:
    """Build the procedural demo head as a new mesh object with 52 ARKit shape keys and link it.

    ``collection`` defaults to the scene collection of ``bpy.context.scene``.
    """
    head = build_demo_head(resolution)
    mesh = mesh_from_demo_head(head, name)
    obj = bpy.data.objects.new(name, mesh)
    if collection is None:
        collection = bpy.context.scene.collection
    collection.objects.link(obj)
    add_arkit_shape_keys(obj, head)
    return obj
