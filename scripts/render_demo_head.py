"""Render the demo head: the neutral face and a grid of expressions, as one labelled contact sheet.

    .venv/bin/python scripts/render_demo_head.py --out /tmp/demo_head.png [--size 256] [--resolution 88]
    .venv/bin/python scripts/render_demo_head.py --out /tmp/keys.png --all-keys   # every ARKit key alone

Runs headless with bpy (Workbench; the EGL messages it prints are harmless).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import bpy
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ext_loader import import_extension

# Expressions on the default sheet: label -> {ARKit name: weight}.
EXPRESSIONS: dict[str, dict[str, float]] = {
    "neutral": {},
    "jawOpen": {"jawOpen": 1.0},
    "eyeBlinkLeft": {"eyeBlinkLeft": 1.0},
    "smile L+R": {"mouthSmileLeft": 1.0, "mouthSmileRight": 1.0},
    "browInnerUp": {"browInnerUp": 1.0},
    "mouthPucker": {"mouthPucker": 1.0},
    "frown + browDown": {
        "mouthFrownLeft": 1.0, "mouthFrownRight": 1.0, "browDownLeft": 1.0, "browDownRight": 1.0,
    },
    "cheekPuff": {"cheekPuff": 1.0},
    "surprise": {
        "browInnerUp": 1.0, "browOuterUpLeft": 1.0, "browOuterUpRight": 1.0, "eyeWideLeft": 1.0,
        "eyeWideRight": 1.0, "jawOpen": 0.55,
    },
    "happy": {
        "mouthSmileLeft": 1.0, "mouthSmileRight": 1.0, "cheekSquintLeft": 0.8, "cheekSquintRight": 0.8,
        "eyeSquintLeft": 0.5, "eyeSquintRight": 0.5, "jawOpen": 0.15,
    },
    "look left + up": {
        "eyeLookOutLeft": 1.0, "eyeLookInRight": 1.0, "eyeLookUpLeft": 0.5, "eyeLookUpRight": 0.5,
    },
    "tongueOut": {"tongueOut": 1.0, "jawOpen": 0.2},
}  # fmt: skip


def weights_of(mix: dict[str, float], names: tuple[str, ...]) -> np.ndarray:
    """(52,) weights from a {name: weight} mix."""
    w = np.zeros(len(names), dtype=np.float32)
    for name, value in mix.items():
        w[names.index(name)] = value
    return w


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", required=True, type=Path, help="PNG to write")
    parser.add_argument("--size", type=int, default=256, help="tile size in pixels")
    parser.add_argument("--resolution", type=int, default=None, help="demo head resolution")
    parser.add_argument("--all-keys", action="store_true", help="one tile per ARKit key instead")
    parser.add_argument("--engine", default="BLENDER_WORKBENCH", choices=["BLENDER_WORKBENCH", "CYCLES"])
    args = parser.parse_args(argv)

    import_extension()
    # The extension is only importable once import_extension() has put it in sys.modules.
    from expclip_ext.expclip_blender.arkit import ARKIT_NAMES
    from expclip_ext.expclip_blender.demo_head import DEFAULT_RESOLUTION
    from expclip_ext.operators.services.demo_head import create_demo_head_object
    from expclip_ext.operators.services.render_sheet import render_contact_sheet

    bpy.ops.wm.read_factory_settings(use_empty=True)
    mixes = {"neutral": {}} | {n: {n: 1.0} for n in ARKIT_NAMES} if args.all_keys else EXPRESSIONS
    obj = create_demo_head_object(resolution=args.resolution or DEFAULT_RESOLUTION)
    start = time.perf_counter()
    render_contact_sheet(
        [weights_of(m, ARKIT_NAMES) for m in mixes.values()],
        list(mixes),
        args.out,
        size=args.size,
        obj=obj,
        columns=8 if args.all_keys else 4,
        engine=args.engine,
    )
    print(f"wrote {args.out} ({len(mixes)} tiles, {time.perf_counter() - start:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
