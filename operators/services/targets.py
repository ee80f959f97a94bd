"""Which meshes an operation targets, which of their shape keys a mapping drives, and scene timing."""

from __future__ import annotations

import bpy

from ...expclip_blender.mapping import MappingError, MappingPreset, MatchReport, auto_match
from .mapping_presets import cached_mapping_preset

NO_TARGET_MESSAGE = "Select a mesh with shape keys"


def scene_fps(scene: bpy.types.Scene) -> float:
    """The scene's real frame rate (fps / fps_base, so 29.97 is 30000/1001)."""
    return scene.render.fps / scene.render.fps_base


def has_arkit_keys(obj: bpy.types.Object) -> bool:
    """Whether ``obj`` is a mesh with at least one shape key named like an ARKit channel."""
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


def targets_problem(context: bpy.types.Context) -> str | None:
    """Why there is nothing to bake onto (the disabled buttons' tooltip), or None."""
    if target_meshes(context):
        return None
    active = context.active_object
    if active is not None and active.type == "MESH":
        return f"{NO_TARGET_MESSAGE} ('{active.name}' has none)"
    return NO_TARGET_MESSAGE


def match_names(names: list[str], preset: MappingPreset | None) -> MatchReport:
    """The channels a mesh with shape keys ``names`` receives (MappingError when the preset does not fit).

    A mapping preset applies to the meshes that have at least one of the shape keys it names (the face);
    the others (teeth, brows as separate objects) are matched by name.
    """
    if preset is not None and any(ch.shape_key in names for ch in preset.channels):
        return preset.resolve(names)
    return auto_match(names)


def channel_counts(context: bpy.types.Context, mapping_preset: str = "") -> list[tuple[str, str]]:
    """(mesh name, 'N/52 channels') for each target mesh, through the mapping preset where it applies."""
    preset = None
    if mapping_preset.strip():
        try:
            preset = cached_mapping_preset(bpy.path.abspath(mapping_preset))
        except MappingError:
            preset = None  # the mapping line of the panel shows the error
    rows = []
    for obj in target_meshes(context):
        names = [kb.name for kb in obj.data.shape_keys.key_blocks[1:]]
        try:
            rows.append((obj.name, f"{len(match_names(names, preset).driven_arkit)}/52 channels"))
        except MappingError:
            rows.append((obj.name, "mapping does not fit"))
    return rows
