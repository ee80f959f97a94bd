"""Benchmark: write 60 s at 30 fps x 52 ARKit channels onto a production-sized mesh.

    .venv/bin/python benchmarks/bench_writer.py [--repeat 7]

Prints the median and best wall time of the shape-key writer (dense, and with keyframe reduction), on the
ICT head from ../shared/data/ict_face when present, else the demo head at ~25,000 vertices.
Target: at most 50 ms for the dense write on the 2-core development machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
os.environ.setdefault("BLENDER_USER_RESOURCES", tempfile.mkdtemp(prefix="expclip-bench-"))
os.environ.setdefault("XDG_CACHE_HOME", os.environ["BLENDER_USER_RESOURCES"])

import numpy as np
from ext_loader import import_extension


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--fps", type=float, default=30.0)
    args = parser.parse_args()

    import bpy

    import_extension()
    from expclip_ext.operators.services.shape_key_writer import write_shape_key_action
    from production_mesh import production_face_object

    bpy.ops.wm.read_factory_settings(use_empty=True)
    obj, what = production_face_object()
    frames = round(args.seconds * args.fps)
    rng = np.random.default_rng(0)
    t = np.arange(frames)[:, None] / args.fps
    weights = np.clip(
        0.5 + 0.4 * np.sin(2 * np.pi * (0.3 + rng.random(52)) * t) + 0.02 * rng.normal(size=(frames, 52)),
        0,
        1,
    )
    weights = weights.astype(np.float32)
    keys = len(obj.data.shape_keys.key_blocks) - 1
    print(f"mesh: {what}: {len(obj.data.vertices):,} vertices, {keys} shape keys")
    print(f"bpy {bpy.app.version_string}; {frames} frames x 52 channels at {args.fps:g} fps")

    for label, tolerance in (("dense (every frame)", None), ("reduced (tolerance 0.005)", 0.005)):
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            result = write_shape_key_action(obj, weights, fps=args.fps, reduce_tolerance=tolerance)
            times.append(time.perf_counter() - start)
            # Keep the file from growing across repeats: this measures one write, not a pile of them.
            bpy.data.actions.remove(result.action)
        keys = result.keyframe_count
        print(
            f"{label:28s} median {statistics.median(times) * 1e3:7.1f} ms  best {min(times) * 1e3:7.1f} ms  "
            f"({len(result.report.channels)} curves, {keys:,} keys)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
