"""Contact sheet of the faces ExpCLIP makes for a list of prompts, rendered on the demo head in bpy.

    .venv/bin/python scripts/expression_sheet.py --out out/expressions.png
    .venv/bin/python scripts/expression_sheet.py --out smug.png --prompt "smug" --prompt "smug half smile"
    .venv/bin/python scripts/expression_sheet.py --out sheet.png --engine CYCLES

Each tile is labelled with the prompt and the emotion the FACS reader sees in the face, so a person can
check at a glance whether "smug" looks smug.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("BLENDER_USER_RESOURCES", tempfile.mkdtemp(prefix="expclip-sheet-"))

DEFAULT_PROMPTS = (
    "neutral", "happy", "sad", "furious", "surprised", "scared", "disgusted", "contempt",
    "slightly annoyed", "on the verge of tears", "smug half smile", "skeptical, one brow raised",
    "bored", "exhausted", "shy and embarrassed", "laughing out loud", "in pain", "awestruck",
    "brows drawn together, lips pressed thin", "just heard the worst news of her life",
)  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--prompt", action="append", help="a prompt (repeat); default: a built-in list")
    parser.add_argument("--intensity", type=float, default=1.0)
    parser.add_argument("--size", type=int, default=256, help="tile size in pixels")
    parser.add_argument("--engine", default="BLENDER_WORKBENCH", choices=["BLENDER_WORKBENCH", "CYCLES"])
    args = parser.parse_args(argv)

    import bpy
    from ext_loader import import_extension

    import_extension()
    from expclip_ext.expclip_blender.api import load
    from expclip_ext.expclip_blender.facs import read_emotion
    from expclip_ext.operators.services.render_sheet import render_contact_sheet

    prompts = args.prompt or list(DEFAULT_PROMPTS)
    model = load()
    faces = [model.expression(p, intensity=args.intensity) for p in prompts]
    labels = [f"{p} [{read_emotion(f)}]" for p, f in zip(prompts, faces, strict=True)]
    bpy.ops.wm.read_factory_settings(use_empty=True)
    start = time.time()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    render_contact_sheet(faces, labels, args.out, size=args.size, engine=args.engine)
    print(f"wrote {args.out} ({len(prompts)} prompts, {time.time() - start:.1f} s to render)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
