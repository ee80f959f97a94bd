"""The demo clip lip-synced by ExpCLIP and by the two peers of the evaluation, side by side, as one video.

    .venv/bin/python scripts/side_by_side.py [--out out]     # writes out/side_by_side.mp4

Three demo heads speak the demo's speech clip (scripts/demo.py): left, ExpCLIP baked with the demo's prompt
timeline (calm, then furious) by the Bake operator; middle and right, ``pylipsync`` and ``openfacefx``
(``expclip_train.evaluation.peers``, the ``eval`` extra) written onto their heads' shape keys through the
same ARKit mapping. Each head is labelled; the sound is the clip. Rendered with Workbench from the front
(orthographic, so the three heads are seen alike) into H.264 + AAC through bpy's built-in FFmpeg.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import demo  # sets Blender's user folder aside before bpy is imported

PEERS = ("pylipsync", "openfacefx")
LABELS = {"expclip": "ExpCLIP", "pylipsync": "pylipsync", "openfacefx": "openfacefx"}


def peer_faces(wav: Path) -> dict[str, np.ndarray]:
    """(frames, 52) ARKit weights of each peer on the clip, at the demo's frame rate."""
    import soundfile as sf

    from expclip_train.evaluation.peers import PeerUnavailable, peer_available, peer_weights

    audio, rate = sf.read(str(wav), dtype="float32")
    faces = {}
    for name in PEERS:
        if not peer_available(name):
            raise SystemExit(f"side_by_side: {PeerUnavailable(name)}")
        faces[name] = peer_weights(name, audio, rate, demo.FPS)
    return faces


def add_peer_heads(faces: dict[str, np.ndarray], first: int, spacing: float) -> list:
    """One demo head per peer, in a row to the right of the first, its shape keys keyed from its weights."""
    from expclip_ext.operators.services.demo_head import create_demo_head_object
    from expclip_ext.operators.services.shape_key_writer import write_shape_key_action

    heads = []
    for i, (name, weights) in enumerate(faces.items(), start=1):
        head = create_demo_head_object(name=f"{LABELS[name]} Head")
        head.location.x += i * spacing
        write_shape_key_action(head, weights, fps=demo.FPS, start_frame=first, name=name)
        heads.append(head)
    return heads


def frame_row(scene, heads: list, size: tuple[int, int]) -> list[float]:
    """An orthographic front camera that frames the row of heads with room for labels above and below;
    returns where each head's centre is across the frame (-1 left edge, 1 right edge)."""
    import bpy
    from mathutils import Vector

    bpy.context.view_layer.update()  # the moved heads' matrix_world
    corners = [h.matrix_world @ Vector(c) for h in heads for c in h.bound_box]
    lo = Vector([min(c[i] for c in corners) for i in range(3)])
    hi = Vector([max(c[i] for c in corners) for i in range(3)])
    cam = scene.camera
    cam.data.type = "ORTHO"
    cam.data.sensor_fit = "HORIZONTAL"
    cam.data.ortho_scale = max(1.02 * (hi.x - lo.x), 1.3 * (hi.z - lo.z) * size[0] / size[1])
    distance = 4.0 * (hi.y - lo.y + hi.z - lo.z)
    cam.data.clip_start, cam.data.clip_end = 0.01, 2.0 * distance
    cam.location = ((lo.x + hi.x) / 2, lo.y - distance, (lo.z + hi.z) / 2)
    cam.rotation_euler = (np.pi / 2, 0.0, 0.0)  # looking along +Y at the faces
    half = cam.data.ortho_scale / 2
    return [(h.matrix_world.translation.x - cam.location.x) / half for h in heads]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=demo.ROOT / "out", help="output folder (default: out/)")
    parser.add_argument(
        "--width", type=int, default=1200, help="video width in pixels; the height is 0.4 of it"
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    wav, switch_s, _ = demo.speech(out)
    faces = peer_faces(wav)

    import bpy
    from ext_loader import import_extension

    ext = import_extension()
    from expclip_ext.operators.services import render_video

    support = render_video.video_support()
    if not support.video:
        raise SystemExit("side_by_side: this bpy build cannot write H.264 video (no FFmpeg)")
    bpy.ops.wm.read_factory_settings(use_empty=True)
    ext.register()
    head, first, _, switch = demo.build_scene(wav, switch_s)
    bpy.ops.expclip.bake()  # ExpCLIP on the first head, following the markers
    scene = bpy.context.scene
    spacing = 1.15 * head.dimensions.x
    heads = [head, *add_peer_heads(faces, first, spacing)]
    size = (args.width + args.width % 2, 2 * round(0.2 * args.width))  # even, as H.264 wants
    centres = frame_row(scene, heads, size)
    video = out / "side_by_side.mp4"
    render_video.configure_video(scene, str(video), size=size, audio=support.audio)
    for x, name in zip(centres, ["expclip", *faces], strict=True):
        render_video.add_caption(scene, LABELS[name], x=x, y=0.86, height=0.07)
    cues = [(first, f"prompt: {demo.CALM}"), (switch, f"prompt: {demo.ANGRY}")]
    render_video.add_cue_captions(scene, cues, x=centres[0], y=-0.88, height=0.05)
    t = time.perf_counter()
    render_video.render_video(scene)
    frames = scene.frame_end - scene.frame_start + 1
    print(f"side_by_side: rendered {frames} frames in {time.perf_counter() - t:.0f} s")
    ext.unregister()
    sound = "with sound" if support.audio else "silent (this bpy build has no audio library)"
    print(f"side_by_side: done in {time.perf_counter() - started:.0f} s: {video} ({sound})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
