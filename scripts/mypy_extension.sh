#!/usr/bin/env bash
# Type-check the whole extension with mypy: the runtime core and the Blender side (__init__.py, operators/,
# ui/), whose bpy types come from fake-bpy-module. The repository root is the extension package and its code
# imports relatively, so mypy is shown the root as the package expclip_ext (the name scripts/ext_loader.py
# imports it under) through a link in a temporary folder.
# Usage: scripts/mypy_extension.sh [more mypy options]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
base="$(mktemp -d)"
trap 'rm -rf "$base"' EXIT  # removes the link, not what it points to
ln -s "$root" "$base/expclip_ext"
cd "$base"
"$root/.venv/bin/mypy" --config-file "$root/pyproject.toml" --cache-dir "$root/.mypy_cache/extension" \
    -m expclip_ext -p expclip_ext.operators -p expclip_ext.ui "$@"
