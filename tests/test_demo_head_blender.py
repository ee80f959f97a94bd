"""The demo head as a Blender object, and the contact-sheet renderer (needs bpy; 5.0 and 4.2 LTS)."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = [pytest.mark.blender, pytest.mark.blender_compat]

RESOLUTION = 48  # small and quick; the mesh code path is the same at any resolution


@pytest.fixture
def modules(ext):
    from expclip_ext.expclip_blender import demo_head as core
    from expclip_ext.expclip_blender.arkit import ARKIT_NAMES
    from expclip_ext.operators.services import demo_head as blender_side

    return core, blender_side, ARKIT_NAMES


def _evaluated_coords(bpy, obj) -> np.ndarray:
    depsgraph = bpy.context.evaluated_depsgraph_get()
    evaluated = obj.evaluated_get(depsgraph)
    mesh = evaluated.to_mesh()
    try:
        co = np.empty(len(mesh.vertices) * 3, dtype=np.float32)
        mesh.vertices.foreach_get("co", co)
    finally:
        evaluated.to_mesh_clear()
    return co.reshape(-1, 3)


def test_object_has_basis_and_the_52_arkit_keys(bpy_module, empty_scene, modules):
    core, blender_side, names = modules
    obj = blender_side.create_demo_head_object(resolution=RESOLUTION)
    head = core.build_demo_head(RESOLUTION)

    assert obj.type == "MESH" and obj.name == "ExpCLIP Demo Head"
    assert obj.name in empty_scene.collection.objects
    mesh = obj.data
    assert len(mesh.vertices) == head.num_vertices
    assert len(mesh.polygons) == head.num_faces
    assert len(mesh.loops) == len(head.face_indices)
    blocks = mesh.shape_keys.key_blocks
    assert [b.name for b in blocks] == ["Basis", *names]
    assert len(blocks) == 53
    assert mesh.shape_keys.use_relative and mesh.shape_keys.reference_key.name == "Basis"

    # Geometry, faces and shading are the core's.
    co = np.empty(head.num_vertices * 3, dtype=np.float32)
    mesh.vertices.foreach_get("co", co)
    np.testing.assert_allclose(co.reshape(-1, 3), head.vertices, atol=1e-7)
    loops = np.empty(len(mesh.loops), dtype=np.int32)
    mesh.loops.foreach_get("vertex_index", loops)
    np.testing.assert_array_equal(loops, head.face_indices)
    sizes = np.empty(len(mesh.polygons), dtype=np.int32)
    mesh.polygons.foreach_get("loop_total", sizes)
    np.testing.assert_array_equal(sizes, head.face_sizes)
    smooth = np.zeros(len(mesh.polygons), dtype=bool)
    mesh.polygons.foreach_get("use_smooth", smooth)
    assert smooth.all()
    mats = np.empty(len(mesh.polygons), dtype=np.int32)
    mesh.polygons.foreach_get("material_index", mats)
    np.testing.assert_array_equal(mats, head.material_index)
    assert [m.name for m in mesh.materials] == [f"ExpCLIP Demo {n.capitalize()}" for n in core.MATERIAL_NAMES]
    assert mesh.validate() is False  # validate() returns True when it had to fix something

    # Every key holds the core's offsets.
    for i, name in enumerate(names):
        key_co = np.empty(head.num_vertices * 3, dtype=np.float32)
        blocks[name].data.foreach_get("co", key_co)
        np.testing.assert_allclose(key_co.reshape(-1, 3), head.vertices + head.shape_deltas[i], atol=1e-6)


def test_setting_a_key_moves_the_evaluated_mesh(bpy_module, empty_scene, modules):
    core, blender_side, names = modules
    obj = blender_side.create_demo_head_object(resolution=RESOLUTION)
    head = core.build_demo_head(RESOLUTION)
    rest = _evaluated_coords(bpy_module, obj)
    np.testing.assert_allclose(rest, head.vertices, atol=1e-6)

    blocks = obj.data.shape_keys.key_blocks
    blocks["jawOpen"].value = 1.0
    posed = _evaluated_coords(bpy_module, obj)
    chin = head.landmarks["chin"]
    assert posed[chin, 2] - rest[chin, 2] < -0.02  # the chin drops 2 cm or more
    np.testing.assert_allclose(posed, head.vertices + head.delta("jawOpen"), atol=1e-5)

    # A mix blends linearly, as the core's posed() says.
    blocks["eyeBlinkLeft"].value = 1.0
    blocks["mouthSmileRight"].value = 0.5
    weights = np.zeros(len(names), dtype=np.float32)
    weights[[names.index("jawOpen"), names.index("eyeBlinkLeft"), names.index("mouthSmileRight")]] = 1, 1, 0.5
    np.testing.assert_allclose(_evaluated_coords(bpy_module, obj), head.posed(weights), atol=1e-5)


def test_links_into_the_given_collection(bpy_module, empty_scene, modules):
    _, blender_side, _ = modules
    collection = bpy_module.data.collections.new("Heads")
    empty_scene.collection.children.link(collection)
    obj = blender_side.create_demo_head_object(collection, name="Mine", resolution=RESOLUTION)
    assert obj.name == "Mine"
    assert list(obj.users_collection) == [collection]
    # A second head shares the materials instead of making copies.
    other = blender_side.create_demo_head_object(collection, resolution=RESOLUTION)
    assert [m.name for m in other.data.materials] == [m.name for m in obj.data.materials]
    assert len([m for m in bpy_module.data.materials if m.name.startswith("ExpCLIP Demo")]) == 10


def test_contact_sheet_renders_and_cleans_up(bpy_module, empty_scene, modules, session_tmp):
    _, blender_side, names = modules
    from expclip_ext.operators.services.render_sheet import render_contact_sheet

    obj = blender_side.create_demo_head_object(resolution=RESOLUTION)
    blocks = obj.data.shape_keys.key_blocks
    blocks["browInnerUp"].value = 0.3
    before = {
        kind: len(getattr(bpy_module.data, kind)) for kind in ("scenes", "objects", "cameras", "worlds")
    }

    neutral = np.zeros(len(names), dtype=np.float32)
    open_jaw = neutral.copy()
    open_jaw[names.index("jawOpen")] = 1.0
    out = session_tmp / "sheet.png"
    size = 64
    sheet = render_contact_sheet(
        [neutral, open_jaw], ["neutral", "jawOpen"], out, size=size, obj=obj, columns=2
    )

    assert out.is_file() and out.stat().st_size > 1000
    gap = max(2, size // 64)
    assert sheet.shape == (size + 2 * gap, 2 * size + 3 * gap, 4)
    left = sheet[gap : gap + size, gap : gap + size, :3]
    right = sheet[gap : gap + size, 2 * gap + size : 2 * gap + 2 * size, :3]
    assert np.abs(left - right).mean() > 0.002  # the open mouth shows
    assert left.std() > 0.05  # a head, not a blank tile
    # The user's scene and key values are as they were.
    assert blocks["browInnerUp"].value == pytest.approx(0.3)
    assert blocks["jawOpen"].value == 0.0
    after = {kind: len(getattr(bpy_module.data, kind)) for kind in before}
    assert after == before
    assert obj.name in empty_scene.collection.objects
