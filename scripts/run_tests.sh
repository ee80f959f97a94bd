#!/usr/bin/env bash
# Set up both environments (idempotent) and run every check:
#   ruff (lint and format), mypy (the whole extension: the runtime core, then the Blender side), then pytest on bpy 5.0.1 (all tests), then pytest on bpy 4.2 LTS (the tests marked blender42).
# Extra arguments go to both pytest runs, e.g. scripts/run_tests.sh -k writer
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
scripts/setup_env.sh all
echo "== ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "== mypy"
.venv/bin/mypy  # the runtime core: the files pyproject.toml names
scripts/mypy_extension.sh  # the Blender side: __init__.py, operators/, ui/
echo "== pytest on bpy 4.2 LTS (compatibility subset)"
.venv-bpy42/bin/python -m pytest -m blender42 -q "$@"
echo "== pytest on bpy 5.0.1 (everything)"
.venv/bin/python -m pytest -q "$@"
