"""Render a scene's animation to an MP4 (H.264 video, AAC sound) with Workbench, captions written on it.

Headless and GPU-free: Workbench solid shading with a studio light, the scene's own camera, and the sound
strips of its sequencer mixed into the file by bpy's built-in FFmpeg. What the build can write is read
from the API (the file-format and codec enums, ``bpy.app.build_options``), never from its version: the
PyPI bpy 4.2 wheel has FFmpeg but no audio library, so its videos are silent.

Captions are text objects pinned to the camera view. One that belongs to a stretch of time (the prompt in
effect) is shown and hidden by keyframes on its visibility, so a saved .blend renders the same video.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import bpy

_CAPTION_COLOR = (0.95, 0.95, 0.95, 1.0)


@dataclass(frozen=True)
class VideoSupport:
    """What this bpy build can write: H.264 video in MPEG-4, and AAC sound mixed from the sequencer."""

    video: bool
    audio: bool


def video_support() -> VideoSupport:
    """Read from the API which parts of an H.264/AAC MP4 this build can write."""
    video = (
        "FFMPEG" in _enum(bpy.types.ImageFormatSettings, "file_format")
        and "MPEG4" in _enum(bpy.types.FFmpegSettings, "format")
        and "H264" in _enum(bpy.types.FFmpegSettings, "codec")
    )
    # The codec enum lists AAC even where the build has no audio library to mix the sound with.
    aac = "AAC" in _enum(bpy.types.FFmpegSettings, "audio_codec")
    # build_options is a struct sequence whose fields the stubs do not list.
    has_audio = bool(getattr(bpy.app.build_options, "audaspace", False))
    return VideoSupport(video=video, audio=video and aac and has_audio)


def _enum(struct: Any, prop: str) -> set[str]:
    """The identifiers an enum property of ``struct`` (a bpy.types class) offers in this build."""
    return {item.identifier for item in struct.bl_rna.properties[prop].enum_items}


def configure_video(
    scene: bpy.types.Scene,
    filepath: str,
    *,
    size: tuple[int, int],
    audio: bool,
    antialiasing: str = "OFF",
    cavity: bool = False,
) -> None:
    """Set ``scene`` to render its frame range with Workbench to ``filepath`` as H.264 + AAC in MP4.

    ``filepath`` may be Blender-relative (``//demo.mp4``). The defaults are for speed on a CPU: without a
    GPU, Workbench's anti-aliasing (even FXAA) and cavity each cost more than the rest of a frame.
    Raises RuntimeError where the build cannot write H.264 video (:func:`video_support`).
    """
    if not video_support().video:
        raise RuntimeError("this Blender build cannot write H.264 video through FFmpeg")
    render = scene.render
    render.engine = "BLENDER_WORKBENCH"  # type: ignore[assignment]  # engines register at runtime; the stubs list one
    render.resolution_x, render.resolution_y = size  # H.264 wants even sizes
    render.resolution_percentage = 100
    render.film_transparent = False
    render.use_stamp = False
    shading = scene.display.shading
    shading.light = "STUDIO"
    shading.color_type = "MATERIAL"
    shading.show_specular_highlight = True
    shading.show_cavity = cavity
    shading.cavity_type = "WORLD"
    scene.display.render_aa = antialiasing

    image = render.image_settings
    if "media_type" in image.bl_rna.properties:  # 5.x files video under its own media type first
        image.media_type = "VIDEO"
    image.file_format = "FFMPEG"
    image.color_mode = "RGB"
    ffmpeg = render.ffmpeg
    ffmpeg.format = "MPEG4"
    ffmpeg.codec = "H264"
    ffmpeg.constant_rate_factor = "MEDIUM"
    ffmpeg.ffmpeg_preset = "REALTIME"  # the encoder's fastest; a 12 s clip stays well under 1 MB
    ffmpeg.gopsize = max(1, round(render.fps / render.fps_base))  # a keyframe a second: seeking works
    ffmpeg.audio_codec = "AAC" if audio else "NONE"
    if audio:
        ffmpeg.audio_channels = "MONO"  # the speech is mono
        ffmpeg.audio_mixrate = 48000
        ffmpeg.audio_bitrate = 128
    render.use_file_extension = False
    render.filepath = filepath


def add_caption(
    scene: bpy.types.Scene, text: str, *, x: float = 0.0, y: float = -0.86, height: float = 0.06
) -> bpy.types.Object:
    """A text object pinned to the camera view, centred on (``x``, ``y``) in view units (-1..1 across the
    frame's width and height), its letters ``height`` of the frame's height tall (long texts shrink to fit).
    """
    cam = scene.camera
    if cam is None:
        raise RuntimeError(f"scene {scene.name!r} has no camera to pin a caption to")
    render = scene.render
    aspect = render.resolution_x / render.resolution_y
    # curves.new() is typed as the base Curve; a "FONT" curve is a TextCurve, which has the text fields.
    curve = cast("bpy.types.TextCurve", bpy.data.curves.new(f"Caption {text}", "FONT"))
    curve.body = text
    curve.align_x = "CENTER"
    curve.align_y = "CENTER"
    material = bpy.data.materials.new(f"Caption {text}")
    material.diffuse_color = _CAPTION_COLOR  # type: ignore[assignment]  # RNA arrays take any sequence
    curve.materials.append(material)
    obj = bpy.data.objects.new(f"Caption {text}", curve)
    obj.parent = cam
    # In camera space the view looks down -Z; the text sits just past the near clip plane.
    depth = cam.data.clip_start * 2.0
    if cam.data.type == "ORTHO":
        half_w = cam.data.ortho_scale / 2.0
    else:
        half_w = depth * cam.data.sensor_width / (2.0 * cam.data.lens)
    if cam.data.sensor_fit == "VERTICAL" or (cam.data.sensor_fit == "AUTO" and aspect < 1.0):
        half_w *= aspect  # the sensor (or the orthographic scale) spans the height
    half_h = half_w / aspect
    obj.location = (x * half_w, y * half_h, -depth)
    # A letter is about 0.7 of the font size tall; one is about 0.55 of it wide.
    curve.size = min(2.0 * half_h * height / 0.7, 1.8 * half_w / (0.55 * max(len(text), 1)))
    scene.collection.objects.link(obj)
    return obj


def show_during(obj: bpy.types.Object, scene: bpy.types.Scene, start: int, end: int | None) -> None:
    """Keyframe ``obj``'s render and viewport visibility: shown from ``start`` up to ``end`` (exclusive;
    None: to the end of the scene), hidden elsewhere. Boolean keys hold their value (no blending)."""
    keys = [(min(scene.frame_start, start) - 1, True), (start, False)]
    if end is not None:
        keys.append((end, True))
    for frame, hidden in keys:
        obj.hide_render = obj.hide_viewport = hidden
        obj.keyframe_insert("hide_render", frame=frame)
        obj.keyframe_insert("hide_viewport", frame=frame)


def add_cue_captions(
    scene: bpy.types.Scene, cues: Sequence[tuple[int, str]], **caption: float
) -> list[bpy.types.Object]:
    """One caption per ``(frame, text)`` cue, each shown from its frame until the next cue's."""
    ordered = sorted(cues)
    objects = []
    for i, (frame, text) in enumerate(ordered):
        obj = add_caption(scene, text, **caption)
        show_during(obj, scene, frame, ordered[i + 1][0] if i + 1 < len(ordered) else None)
        objects.append(obj)
    return objects


def render_video(scene: bpy.types.Scene) -> Path:
    """Render ``scene``'s frame range to its configured video file (:func:`configure_video`); its path."""
    bpy.ops.render.render(animation=True, scene=scene.name)
    return Path(bpy.path.abspath(scene.render.filepath))
