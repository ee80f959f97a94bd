"""A production-sized face mesh for benchmarks: the ICT FaceKit head from ../shared when present, else the
demo head built at about 25,000 vertices. Needs bpy."""

from __future__ import annotations

from pathlib import Path

import numpy as np

DEMO_RESOLUTION = 180  # about 25,800 vertices
ICT_NPZ = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "ict_face" / "ict_face.npz"


def ict_face_object(path: Path = ICT_NPZ):
    """Build the ICT head (26,719 vertices, 57 shapes) as a bpy object; None when the data is absent."""
    import bpy

    if not path.is_file():
        return None
    data = np.load(path)
    neutral = data["neutral"].astype(np.float32) * 0.01  # centimetres -> metres
    sizes = data["face_sizes"].astype(np.int32)
    mesh = bpy.data.meshes.new("ICT_Face")
    mesh.vertices.add(len(neutral))
    mesh.vertices.foreach_set("co", neutral.ravel())
    mesh.loops.add(int(sizes.sum()))
    mesh.loops.foreach_set("vertex_index", data["face_indices"].astype(np.int32))
    mesh.polygons.add(len(sizes))
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int32)
    mesh.polygons.foreach_set("loop_start", starts)
    mesh.update(calc_edges=True)
    mesh.validate()
    obj = bpy.data.objects.new("ICT_Face", mesh)
    bpy.context.scene.collection.objects.link(obj)
    obj.shape_key_add(name="Basis")
    deltas = data["deltas"].astype(np.float32) * 0.01
    for name, delta in zip(data["shape_names"], deltas, strict=True):
        block = obj.shape_key_add(name=str(name), from_mix=False)
        block.data.foreach_set("co", (neutral + delta).ravel())
    return obj


def production_face_object():
    """(object, description): the ICT head when available, else a ~25k-vertex demo head."""
    obj = ict_face_object()
    if obj is not None:
        return obj, "ICT FaceKit head from ../shared/data/ict_face"
    from expclip_ext.operators.services.demo_head import create_demo_head_object

    obj = create_demo_head_object(resolution=DEMO_RESOLUTION)
    return obj, "demo head at production resolution"
