#!/usr/bin/env bash
# The main job: set up the environment (idempotent) and run the demo on built-in defaults: a speech clip
# synthesised offline (espeak-ng), the demo head, one bake with a prompt timeline (calm, then furious),
# saved as out/demo.blend with a rendered contact sheet out/demo_sheet.png and a video with sound,
# out/demo.mp4 (see scripts/demo.py).
# Options go to scripts/demo.py (--out DIR, --tiles N, --size PX, --video-size PX).
# The installable extension zips are built by build.py: .venv/bin/python build.py (docs/install.md).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
scripts/setup_env.sh main
.venv/bin/python scripts/demo.py "$@"
