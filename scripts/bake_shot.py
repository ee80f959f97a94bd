"""Bake one shot from a plain Blender Python script, for pipelines that run scripts with ``--python``.

    blender --background shot.blend --python-exit-code 1 --python scripts/bake_shot.py -- \\
        --object Face --audio line.wav --prompt "furious" --output out.blend

It drives the Bake operator the way an animator does: set the scene's ExpCLIP settings (they are saved
with the file), make the mesh active, run ``bpy.ops.expclip.bake()``, save. Copy it and change what you
need; the ``expclip`` command (docs/batch.md) does the same with jobs files and one model load for many
shots. Needs the ExpCLIP extension installed and enabled in that Blender.

On failure it prints why and exits with status 1 without saving (``--python-exit-code 1`` also turns an
unexpected Python error into a non-zero exit status; Blender exits with 0 after one otherwise).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import bpy


def script_args() -> list[str]:
    """The arguments after ``--`` (Blender's own arguments come before it)."""
    return sys.argv[sys.argv.index("--") + 1 :] if "--" in sys.argv else []


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="blender --background SHOT.blend --python bake_shot.py --")
    parser.add_argument("--object", action="append", required=True, help="mesh to animate (repeatable)")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--audio", help="audio file (animation starts on the scene's start frame)")
    source.add_argument("--strip", help="sound strip to bake from (default: the selected or first one)")
    parser.add_argument("--prompt", help='the emotion in words, e.g. "furious"')
    parser.add_argument("--intensity", type=float, help="0 = neutral, 1 = as prompted, up to 2")
    parser.add_argument("--output", help="save to this .blend (default: save over the shot)")
    args = parser.parse_args(argv)

    scene = bpy.context.scene
    settings = getattr(scene, "expclip", None)
    if settings is None:
        print("bake_shot: the ExpCLIP extension is not enabled in this Blender", file=sys.stderr)
        return 1
    if not (args.output or bpy.data.filepath):
        print("bake_shot: no .blend is open: put the shot before --python, or pass --output", file=sys.stderr)
        return 1
    objects = []
    for name in args.object:
        obj = bpy.data.objects.get(name)
        if obj is None:
            print(f"bake_shot: there is no object named '{name}'", file=sys.stderr)
            return 1
        objects.append(obj)

    # The Bake operator reads the scene's ExpCLIP settings and bakes the active mesh (and the selected ones).
    if args.audio is not None:
        settings.audio_source, settings.audio_file = "FILE", str(Path(args.audio).resolve())
    elif args.strip is not None:
        settings.audio_source, settings.strip = "STRIP", args.strip
    if args.prompt is not None:
        settings.prompt = args.prompt
    if args.intensity is not None:
        settings.intensity = args.intensity
    for obj in bpy.context.view_layer.objects:
        obj.select_set(False)
    for obj in objects:
        obj.select_set(True)
    bpy.context.view_layer.objects.active = objects[0]

    try:
        bpy.ops.expclip.bake()  # in a script an error report becomes a RuntimeError with the message
    except RuntimeError as err:
        print(f"bake_shot: {str(err).strip()}", file=sys.stderr)
        return 1
    target = args.output or bpy.data.filepath
    Path(target).parent.mkdir(parents=True, exist_ok=True)
    bpy.ops.wm.save_as_mainfile(filepath=str(Path(target).resolve()))
    print(f"bake_shot: baked {', '.join(args.object)} and saved {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main(script_args()))
