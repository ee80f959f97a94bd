"""Render a face mesh once per set of ARKit weights and tile the renders into one labelled contact sheet.

Used to look at the demo head and, later, at generated expressions. Runs headless (Workbench by default:
fast, no GPU needed; bpy prints harmless EGL messages). Everything it creates (a scratch scene, camera,
labels, world) is removed afterwards and the shape-key values it touched are put back.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, cast

import bpy
import numpy as np
from mathutils import Vector

from ...expclip_blender.arkit import ARKIT_NAMES, NUM_ARKIT

_BACKGROUND = (0.16, 0.17, 0.19)  # linear world colour behind the head
_LABEL_COLOR = (0.95, 0.95, 0.95, 1.0)


def _face_frame(obj: bpy.types.Object) -> tuple[Vector, float]:
    """Target point and frame width for a front view of a head (face toward -Y, Z up)."""
    corners = [obj.matrix_world @ Vector(c) for c in obj.bound_box]
    lo = Vector(tuple(min(c[i] for c in corners) for i in range(3)))
    hi = Vector(tuple(max(c[i] for c in corners) for i in range(3)))
    size = hi - lo
    # Heads come with a neck or shoulders; aim a little above the middle of the box, at its front.
    target = Vector((0.5 * (lo.x + hi.x), lo.y, hi.z - 0.46 * size.z))
    return target, max(1.1 * size.x, 0.76 * size.z)


def _make_scene(obj: bpy.types.Object, size: int, engine: str) -> tuple[bpy.types.Scene, list[bpy.types.ID]]:
    scene = bpy.data.scenes.new("ExpCLIP Contact Sheet")
    created: list[bpy.types.ID] = []
    scene.collection.objects.link(obj)
    world = bpy.data.worlds.new("ExpCLIP Contact Sheet World")
    world.color = _BACKGROUND
    scene.world = world
    created.append(world)

    render = scene.render
    render.engine = engine  # type: ignore[assignment]  # engines register at runtime; the stubs list one
    render.resolution_x = render.resolution_y = size
    render.resolution_percentage = 100
    render.image_settings.file_format = "PNG"
    render.image_settings.color_mode = "RGB"
    render.film_transparent = False
    if engine == "BLENDER_WORKBENCH":
        shading = scene.display.shading
        shading.light = "STUDIO"
        shading.color_type = "MATERIAL"
        shading.show_specular_highlight = True
        shading.show_cavity = True
        shading.cavity_type = "WORLD"
        scene.display.render_aa = "8"
    elif engine == "CYCLES":
        cycles = scene.cycles  # type: ignore[attr-defined]  # added by the Cycles add-on when it registers
        cycles.samples = 16
        cycles.device = "CPU"

    # Camera: a portrait lens, from the front and a little above, framing the face.
    target, width = _face_frame(obj)
    cam_data = bpy.data.cameras.new("ExpCLIP Contact Sheet Camera")
    cam_data.lens = 100.0
    cam_data.sensor_fit = "HORIZONTAL"
    cam_data.sensor_width = 36.0
    distance = width * cam_data.lens / cam_data.sensor_width
    cam_data.clip_start = 0.02
    cam_data.clip_end = distance * 4.0
    cam = bpy.data.objects.new("ExpCLIP Contact Sheet Camera", cam_data)
    elevation = math.radians(8.0)
    cam.location = target + Vector((0.0, -distance * math.cos(elevation), distance * math.sin(elevation)))
    cam.rotation_euler = (target - cam.location).to_track_quat("-Z", "Y").to_euler()
    scene.collection.objects.link(cam)
    scene.camera = cam
    created += [cam, cam_data]

    if engine != "BLENDER_WORKBENCH":  # Workbench lights itself; the others need a lamp
        # lights.new() is typed as the base Light; a "SUN" light is a SunLight, which has the energy.
        lamp_data = cast("bpy.types.SunLight", bpy.data.lights.new("ExpCLIP Contact Sheet Key", "SUN"))
        lamp_data.energy = 3.0
        lamp = bpy.data.objects.new("ExpCLIP Contact Sheet Key", lamp_data)
        lamp.rotation_euler = (math.radians(60.0), math.radians(15.0), math.radians(-25.0))
        scene.collection.objects.link(lamp)
        created += [lamp, lamp_data]
    return scene, created


def _make_label(scene: bpy.types.Scene, created: list[bpy.types.ID]) -> bpy.types.Object:
    """A text object pinned to the bottom of the camera view."""
    cam = scene.camera
    # curves.new() is typed as the base Curve; a "FONT" curve is a TextCurve, which has the text fields.
    curve = cast("bpy.types.TextCurve", bpy.data.curves.new("ExpCLIP Contact Sheet Label", "FONT"))
    curve.align_x = "CENTER"
    curve.align_y = "BOTTOM"
    mat = bpy.data.materials.new("ExpCLIP Contact Sheet Label")
    mat.diffuse_color = _LABEL_COLOR  # type: ignore[assignment]  # RNA arrays take any sequence
    curve.materials.append(mat)
    label = bpy.data.objects.new("ExpCLIP Contact Sheet Label", curve)
    label.parent = cam
    # In camera space the view looks down -Z; put the text just past the near clip plane, at the bottom.
    depth = cam.data.clip_start * 2.0
    half = depth * cam.data.sensor_width / (2.0 * cam.data.lens)
    label.location = (0.0, -0.95 * half, -depth)
    curve.size = 0.15 * half
    scene.collection.objects.link(label)
    created += [label, curve, mat]
    return label


def _read_png(path: Path) -> np.ndarray:
    """(H, W, 4) float32 pixels of a PNG, top row first."""
    image = bpy.data.images.load(str(path), check_existing=False)
    try:
        w, h = cast("tuple[int, int]", image.size)  # the stubs' RNA arrays have no items or __iter__
        px = np.empty(w * h * 4, dtype=np.float32)
        image.pixels.foreach_get(px)
    finally:
        bpy.data.images.remove(image)
    return px.reshape(h, w, 4)[::-1]


def _write_png(pixels: np.ndarray, path: Path) -> None:
    """Save (H, W, 4) float pixels (top row first, values as stored in a PNG) as an 8-bit PNG."""
    h, w = pixels.shape[:2]
    image = bpy.data.images.new("ExpCLIP Contact Sheet", w, h, alpha=True)
    try:
        flat = np.ascontiguousarray(pixels[::-1], dtype=np.float32).ravel()
        image.pixels.foreach_set(flat)  # type: ignore[arg-type]  # any buffer will do; the stubs say Sequence
        image.filepath_raw = str(path)
        image.file_format = "PNG"
        image.save()
    finally:
        bpy.data.images.remove(image)


def render_contact_sheet(
    weights_list: Sequence[np.ndarray],
    labels: Sequence[str],
    out_path: str | Path,
    size: int = 256,
    *,
    obj: bpy.types.Object | None = None,
    columns: int | None = None,
    engine: str = "BLENDER_WORKBENCH",
) -> np.ndarray:
    """Render ``obj`` once per (52,) ARKit weight vector and save the tiles as one labelled PNG.

    ``obj`` is a mesh whose shape keys are named like ARKit's (missing names are skipped); by default a
    fresh demo head is built for the occasion and removed afterwards. Returns the sheet as (H, W, 4) floats.
    """
    if len(weights_list) != len(labels):
        raise ValueError(f"{len(weights_list)} weight vectors but {len(labels)} labels")
    if not weights_list:
        raise ValueError("nothing to render")
    weights = [np.asarray(w, dtype=np.float32).reshape(NUM_ARKIT) for w in weights_list]
    out_path = Path(out_path)
    own_head = obj is None
    if obj is None:
        from .demo_head import create_demo_head_object

        # Built in the scratch scene below, not in the user's scene.
        obj = create_demo_head_object(collection=bpy.data.collections.new("ExpCLIP Contact Sheet Tmp"))
    key = obj.data.shape_keys
    blocks = [key.key_blocks.get(n) if key is not None else None for n in ARKIT_NAMES]
    saved = [b.value if b is not None else 0.0 for b in blocks]

    scene, created = _make_scene(obj, size, engine)
    label = _make_label(scene, created)
    label_size = label.data.size
    tiles = []
    try:
        with tempfile.TemporaryDirectory(prefix="expclip-sheet-") as tmp:
            for i, (w, text) in enumerate(zip(weights, labels, strict=True)):
                for block, value in zip(blocks, w, strict=True):
                    if block is not None:
                        block.value = float(value)
                label.data.body = text
                label.data.size = label_size * min(1.0, 20.0 / max(len(text), 1))  # long labels shrink
                scene.render.filepath = str(Path(tmp) / f"tile_{i:03d}.png")
                bpy.ops.render.render(write_still=True, scene=scene.name)
                tiles.append(_read_png(Path(scene.render.filepath)))
    finally:
        for block, value in zip(blocks, saved, strict=True):
            if block is not None:
                block.value = value
        scene.collection.objects.unlink(obj)
        bpy.data.scenes.remove(scene)
        for datablock in created:
            _remove(datablock)
        if own_head:
            # The demo head is a mesh; Object.data is typed as the union of every object data type.
            mesh, tmp_collection = cast("bpy.types.Mesh", obj.data), obj.users_collection
            bpy.data.objects.remove(obj)
            bpy.data.meshes.remove(mesh)
            for collection in tmp_collection:
                bpy.data.collections.remove(collection)

    cols = columns or math.ceil(math.sqrt(len(tiles)))
    rows = math.ceil(len(tiles) / cols)
    gap = max(2, size // 64)
    th, tw = tiles[0].shape[:2]
    sheet = np.ones((rows * th + (rows + 1) * gap, cols * tw + (cols + 1) * gap, 4), dtype=np.float32)
    sheet[..., :3] = 0.12
    for i, tile in enumerate(tiles):
        r, c = divmod(i, cols)
        y0, x0 = gap + r * (th + gap), gap + c * (tw + gap)
        sheet[y0 : y0 + th, x0 : x0 + tw, :3] = tile[..., :3]
    out_path.parent.mkdir(parents=True, exist_ok=True)
    _write_png(sheet, out_path)
    return sheet


class _BlendDataCollection(Protocol):
    """A ``bpy.data`` collection (objects, cameras, ...): each one removes its own kind of datablock."""

    def remove(self, datablock: Any, /) -> None: ...


def _remove(datablock: bpy.types.ID) -> None:
    collections: dict[type[bpy.types.ID], _BlendDataCollection] = {
        bpy.types.Object: bpy.data.objects,
        bpy.types.Camera: bpy.data.cameras,
        bpy.types.Light: bpy.data.lights,
        bpy.types.Curve: bpy.data.curves,
        bpy.types.Material: bpy.data.materials,
        bpy.types.World: bpy.data.worlds,
    }
    for kind, store in collections.items():
        if isinstance(datablock, kind):
            store.remove(datablock)
            return
