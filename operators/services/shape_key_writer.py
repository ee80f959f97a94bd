"""Writing ARKit weights onto a mesh's shape keys as one new Action.

Keys are written in bulk (``keyframe_points.add`` + ``foreach_set``), never one ``keyframe_insert`` per
frame. The same code path serves Blender 4.2 (``action.fcurves``) and 4.4+/5.x (layered actions with
slots and channelbags): the layered API is used wherever it exists.

What happens to the animation the shape keys had: the previous Action is *stashed* the way Blender's own
Action Editor does when you switch actions (a muted NLA track named "[Action Stash]") and gets a fake user,
so it survives save and reload and stays one click away. Nothing is deleted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, cast

import bpy
import numpy as np

from ...expclip_blender.keyframes import keyframe_coords, reduce_keys_many
from ...expclip_blender.mapping import Channel, MatchReport, apply_mapping, auto_match

STASH_TRACK_NAME = "[Action Stash]"
_INTERPOLATION = {"CONSTANT": 0, "LINEAR": 1, "BEZIER": 2}


class ShapeKeyWriteError(ValueError):
    """The target cannot receive the animation; the message says what to do. Nothing was changed."""


@dataclass
class WriteResult:
    action: bpy.types.Action
    report: MatchReport
    keyframe_count: int
    stashed_action: bpy.types.Action | None


def uses_layered_actions() -> bool:
    """True where actions have slots and layers (Blender 4.4+); detected, not guessed from the version."""
    properties = bpy.types.Action.bl_rna.properties
    return "slots" in properties and "layers" in properties


def check_target(obj: bpy.types.Object | None) -> bpy.types.Key:
    """The shape-key datablock of ``obj``, or a ShapeKeyWriteError saying what is wrong and what to do."""
    if obj is None:
        raise ShapeKeyWriteError("No mesh selected: select the face mesh that has the shape keys.")
    if obj.type != "MESH":
        raise ShapeKeyWriteError(f"'{obj.name}' is a {obj.type.lower()}, not a mesh: select the face mesh.")
    key = obj.data.shape_keys
    if key is None or len(key.key_blocks) < 2:
        raise ShapeKeyWriteError(
            f"'{obj.name}' has no shape keys to animate: add ARKit shape keys to the mesh, or select the "
            "mesh that has them."
        )
    for label, data in (("object", obj), ("mesh", obj.data), ("shape keys", key)):
        if data.library is not None or (data.override_library is not None and not data.is_editable):
            where = data.library.filepath if data.library else "a library override"
            raise ShapeKeyWriteError(
                f"The {label} of '{obj.name}' is linked from {where} and cannot be edited: make it local "
                "(Object > Relations > Make Local) or bake in the file it comes from."
            )
    return key


def resolve_channels(key: bpy.types.Key, channels: Sequence[Channel] | MatchReport | None) -> MatchReport:
    """Name-match the key blocks when no mapping is given; check that the mapping drives something."""
    names = [kb.name for kb in key.key_blocks[1:]]  # key_blocks[0] is the reference (Basis)
    if channels is None:
        report = auto_match(names)
    elif isinstance(channels, MatchReport):
        report = channels
    else:
        chosen = {ch.shape_key for ch in channels}
        report = MatchReport(list(channels), unmatched_keys=[n for n in names if n not in chosen])
    absent = [ch.shape_key for ch in report.channels if ch.shape_key not in key.key_blocks]
    if absent:
        raise ShapeKeyWriteError(f"The mapping names shape keys the mesh lacks: {', '.join(absent)}")
    if not report.channels:
        shown = ", ".join(names[:10]) + (" ..." if len(names) > 10 else "")
        raise ShapeKeyWriteError(
            f"None of the shape keys of '{key.user.name}' match an ARKit name ({shown}). Rename them to "
            "ARKit names (eyeBlinkLeft, jawOpen, ...) or choose a mapping preset for this rig."
        )
    return report


def _refuse_non_finite(weights: np.ndarray, fps: float, start_frame: float, scene_fps: float | None) -> None:
    """ShapeKeyWriteError before anything is touched when a value would key NaN (or inf) into the file."""
    numbers = {"fps": fps, "start_frame": start_frame, "scene_fps": 1.0 if scene_fps is None else scene_fps}
    bad = [f"{name}={value}" for name, value in numbers.items() if not np.isfinite(value)]
    if bad:
        raise ShapeKeyWriteError(f"Non-finite numbers ({', '.join(bad)}); nothing was written.")
    if not np.all(np.isfinite(np.asarray(weights, dtype=np.float32))):
        raise ShapeKeyWriteError("The weights contain NaN or infinite values; nothing was written.")


def write_shape_key_action(
    obj: bpy.types.Object,
    weights: np.ndarray,
    *,
    fps: float,
    start_frame: float = 1.0,
    scene_fps: float | None = None,
    channels: Sequence[Channel] | MatchReport | None = None,
    name: str = "ExpCLIP",
    reduce_tolerance: float | None = None,
    interpolation: str | None = None,
) -> WriteResult:
    """Write ``weights`` (frames x 52, ARKit order, at ``fps``) as one new Action on ``obj``'s shape keys.

    Row ``i`` lands on frame ``start_frame + i * scene_fps / fps`` (``scene_fps`` defaults to ``fps``).
    ``channels`` maps ARKit channels to shape keys (default: name matching). ``reduce_tolerance`` keeps a
    subset of keys such that every curve stays within it of the dense one. ``interpolation`` defaults to
    BEZIER for dense keys (smooth between frames; exact on them) and LINEAR for reduced keys (which the
    tolerance is stated for). Values are clipped to each key's slider range. On any error nothing in the
    file is changed.
    """
    _refuse_non_finite(weights, fps, start_frame, scene_fps)
    key = check_target(obj)
    report = resolve_channels(key, channels)
    weights = _checked_weights(weights, fps, scene_fps)
    if interpolation is None:
        interpolation = "LINEAR" if reduce_tolerance else "BEZIER"
    if interpolation not in _INTERPOLATION:
        raise ShapeKeyWriteError(f"interpolation must be one of {sorted(_INTERPOLATION)}")

    # Everything that can fail on the data is computed before the file is touched.
    frames = start_frame + np.arange(len(weights), dtype=np.float64) * ((scene_fps or fps) / fps)
    curves = _curve_keys(key, report, weights, frames, reduce_tolerance)
    # keyframe_points.add() makes BEZIER keys; setting another interpolation is a per-key RNA call.
    interpolation_codes = None if interpolation == "BEZIER" else _INTERPOLATION[interpolation]

    had_animation_data = key.animation_data is not None
    previous = key.animation_data.action if had_animation_data else None
    previous_slot = getattr(key.animation_data, "action_slot", None) if had_animation_data else None
    action = bpy.data.actions.new(name)
    stash_track = None
    try:
        written = _fill_fcurves(_new_action_channels(action, key), curves, interpolation_codes)
        anim = key.animation_data or key.animation_data_create()
        if previous is not None:
            stash_track = _stash(anim, previous, previous_slot)  # type: ignore[arg-type]  # created: not None
        anim.action = action
        if uses_layered_actions():
            anim.action_slot = action.slots[0]
    except Exception:
        _undo_write(key, action, stash_track, had_animation_data, previous, previous_slot)
        raise
    return WriteResult(action, report, written, previous)


def _checked_weights(weights: np.ndarray, fps: float, scene_fps: float | None) -> np.ndarray:
    """``weights`` as float32, or a ShapeKeyWriteError when they or the frame rates cannot be written."""
    weights = np.asarray(weights, dtype=np.float32)
    if weights.ndim != 2 or weights.shape[0] == 0:
        raise ShapeKeyWriteError(
            f"Expected a (frames, 52) array with at least one frame, got {weights.shape}"
        )
    if not fps > 0 or (scene_fps is not None and not scene_fps > 0):
        raise ShapeKeyWriteError(f"Frame rates must be positive (fps={fps}, scene_fps={scene_fps}).")
    return weights


def _curve_keys(
    key: bpy.types.Key,
    report: MatchReport,
    weights: np.ndarray,
    frames: np.ndarray,
    reduce_tolerance: float | None,
) -> list[tuple[str, np.ndarray]]:
    """(data path, flat keyframe coordinates) per mapped shape key, clipped to its slider range."""
    values = apply_mapping(weights, report.channels)
    blocks = [key.key_blocks[ch.shape_key] for ch in report.channels]
    low = np.array([b.slider_min for b in blocks], np.float32)
    high = np.array([b.slider_max for b in blocks], np.float32)
    values = np.clip(values, low, high)
    keeps = reduce_keys_many(values, reduce_tolerance) if reduce_tolerance else [None] * len(blocks)
    return [
        (f'key_blocks["{_escape(ch.shape_key)}"].value', keyframe_coords(values[:, k], frames, keeps[k]))
        for k, ch in enumerate(report.channels)
    ]


def _fill_fcurves(fcurves, curves: list[tuple[str, np.ndarray]], interpolation_code: int | None) -> int:
    """Add one F-Curve per (data path, coordinates) to ``fcurves`` in bulk; the number of keys written."""
    written = 0
    for data_path, co in curves:
        fcurve = fcurves.new(data_path)
        points = fcurve.keyframe_points
        points.add(len(co) // 2)
        points.foreach_set("co", co)
        if interpolation_code is not None:
            points.foreach_set("interpolation", np.full(len(co) // 2, interpolation_code, np.int32))
        fcurve.update()
        written += len(co) // 2
    return written


def _undo_write(
    key: bpy.types.Key,
    action: bpy.types.Action,
    stash_track: bpy.types.NlaTrack | None,
    had_animation_data: bool,
    previous: bpy.types.Action | None,
    previous_slot,
) -> None:
    """Leave the file as it was before a failed write: the new action goes, the old one comes back."""
    if stash_track is not None:
        key.animation_data.nla_tracks.remove(stash_track)
    if had_animation_data:
        key.animation_data.action = previous
        if previous_slot is not None and previous is not None:
            key.animation_data.action_slot = previous_slot
    elif key.animation_data is not None:
        key.animation_data_clear()
    bpy.data.actions.remove(action)


def _escape(name: str) -> str:
    return name.replace("\\", "\\\\").replace('"', '\\"')


class _LegacyAction(Protocol):
    """An Action before slots and layers (Blender 4.2): the 5.x stubs have neither of these members."""

    id_root: str
    fcurves: bpy.types.ActionChannelbagFCurves  # 4.2's ActionFCurves: the same new()


def _new_action_channels(action: bpy.types.Action, key: bpy.types.Key) -> bpy.types.ActionChannelbagFCurves:
    """The fcurve collection to fill: a channelbag for a new KEY slot (layered) or ``action.fcurves``."""
    if uses_layered_actions():
        slot = action.slots.new(id_type="KEY", name=key.name)
        strip = action.layers.new("Layer").strips.new(type="KEYFRAME")
        # A KEYFRAME strip is an ActionKeyframeStrip; the stubs type strips.new() as the base class.
        return cast("bpy.types.ActionKeyframeStrip", strip).channelbag(slot, ensure=True).fcurves
    legacy = cast("_LegacyAction", action)  # uses_layered_actions() is False: the 4.2 API is there
    legacy.id_root = "KEY"
    return legacy.fcurves


def _stash(anim: bpy.types.AnimData, action: bpy.types.Action, slot) -> bpy.types.NlaTrack:
    """Keep the previous action as a muted NLA track, like the Action Editor's stash, plus a fake user."""
    action.use_fake_user = True
    track = anim.nla_tracks.new()
    track.name = STASH_TRACK_NAME
    start = int(action.frame_range[0])
    strip = track.strips.new(action.name, start, action)
    if slot is not None and hasattr(strip, "action_slot"):
        strip.action_slot = slot
    track.mute = True
    return track
