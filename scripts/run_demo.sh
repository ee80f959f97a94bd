#!/usr/bin/env bash
# The main job: set up the environment (idempotent) and build the installable extension zip,
# validated with Blender's own extension tool. Output: dist/expclip-<version>.zip
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
scripts/setup_env.sh main
.venv/bin/python build.py "$@"
