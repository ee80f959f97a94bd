#!/usr/bin/env bash
# Create (or refresh) the project's virtual environments. Idempotent: an environment whose pinned
# requirements have not changed since its last successful setup is left alone.
#   .venv        CPython 3.11 + bpy 5.0.1 (primary target) + the core's dependencies + dev, training and
#                evaluation tools (lip-sync peers)
#                (and Debian's espeak-ng, installed with apt when running as root)
#   .venv-bpy42  CPython 3.11 + bpy 4.2 LTS (compatibility target) + the same core dependencies
# Usage: scripts/setup_env.sh [main|bpy42|all]   (default: main)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
python="${PYTHON:-python3.11}"
command -v "$python" >/dev/null 2>&1 || python=python3

pip_install() {  # pip_install PYTHON ARGS...: quiet, minus the noise of this machine's pip config
    local py="$1"; shift
    local log
    log="$(mktemp)"
    if ! "$py" -m pip install --quiet --progress-bar off "$@" > "$log" 2>&1; then
        grep -v "is ignored: it is neither a file nor" "$log" >&2 || true
        rm -f "$log"
        echo "setup: pip install $* failed" >&2
        return 1
    fi
    grep -v "is ignored: it is neither a file nor" "$log" || true
    rm -f "$log"
}

make_env() {  # make_env DIR EXTRAS
    local dir="$1" extras="$2"
    local stamp="$dir/.expclip-setup-stamp"
    local want
    want="$(cat pyproject.toml scripts/setup_env.sh | sha256sum | cut -d' ' -f1) $extras"
    if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
        echo "setup: $dir is up to date"
        return 0
    fi
    echo "setup: preparing $dir ($extras)"
    [[ -x "$dir/bin/python" ]] || "$python" -m venv "$dir"
    pip_install "$dir/bin/python" --upgrade "pip>=24" wheel
    # torch first and by exact version: on this kind of machine pip takes the CPU wheel from the local
    # find-links folder; asking for torch indirectly could pull a CUDA build from the registry instead.
    pip_install "$dir/bin/python" "torch==2.13.0"
    pip_install "$dir/bin/python" -e ".[$extras]"
    echo "$want" > "$stamp"
    echo "setup: $dir ready"
}

system_packages() {  # espeak-ng: offline voices for the speech training data (and its tests)
    command -v espeak-ng >/dev/null 2>&1 && return 0
    if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
        echo "setup: installing espeak-ng (apt)"
        apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq espeak-ng >/dev/null
    else
        echo "setup: espeak-ng is missing and cannot be installed here (not root); its tests will skip" >&2
    fi
}

target="${1:-main}"
case "$target" in
    main) system_packages; make_env .venv "blender,dev,train,eval,farm" ;;
    bpy42) make_env .venv-bpy42 "blender42,dev" ;;
    all) system_packages; make_env .venv "blender,dev,train,eval"; make_env .venv-bpy42 "blender42,dev" ;;
    *) echo "usage: $0 [main|bpy42|all]" >&2; exit 2 ;;
esac
