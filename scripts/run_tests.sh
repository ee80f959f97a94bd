#!/usr/bin/env bash
# Set up every environment (idempotent, see scripts/setup_env.sh) and run every check:
#   ruff (lint and format), mypy (the runtime core, then the Blender side), then pytest once per tested
#   Blender:
#   bpy 4.2 LTS and 4.5 LTS: the Blender-facing subset (tests marked blender_compat);
#   bpy 5.0.1 (primary target) and bpy 5.3 (the newest, CPython 3.13): every test.
# Every pytest run happens even when an earlier one fails; the exit status is non-zero if any failed.
# Extra arguments go to every pytest run, e.g. scripts/run_tests.sh -k writer
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

failed=()
run_pytest() {  # run_pytest LABEL VENV PYTEST-ARGS...
    local label="$1" venv="$2"; shift 2
    echo "== pytest on $label"
    "$venv/bin/python" -m pytest -q "$@" || failed+=("$label")
}
run_pytest "bpy 4.2 LTS (Blender-facing subset)" .venv-bpy42 -m blender_compat "$@"
run_pytest "bpy 4.5 LTS (Blender-facing subset)" .venv-bpy45 -m blender_compat "$@"
run_pytest "bpy 5.0.1 (everything)" .venv "$@"
run_pytest "bpy 5.3 (everything, CPython 3.13)" .venv-bpy53 "$@"
if ((${#failed[@]})); then
    printf 'run_tests: failures on %s\n' "${failed[@]}" >&2
    exit 1
fi
echo "run_tests: every environment passed"
