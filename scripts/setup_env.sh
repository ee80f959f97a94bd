#!/usr/bin/env bash
# Create (or refresh) the project's virtual environments, one per tested Blender. Idempotent: an
# environment whose pinned requirements have not changed since its last successful setup is left alone
# (a stamp of pyproject.toml + this script), and the CPython 3.13 build is cached.
#   .venv        CPython 3.11 + bpy 5.0.1 (primary target) + the core's dependencies + dev, training and
#                evaluation tools (lip-sync peers) (and Debian's espeak-ng, installed with apt as root)
#   .venv-bpy42  CPython 3.11 + bpy 4.2 LTS + the core's dependencies + dev tools
#   .venv-bpy45  CPython 3.11 + bpy 4.5 LTS + the core's dependencies + dev tools
#   .venv-bpy53  CPython 3.13 + bpy 5.3 (the newest Blender; bpy 5.1 and newer are 3.13 only) + everything
#                .venv has. No Debian 12 package carries CPython 3.13: it is built once from Debian 13's
#                source package (python3.13, a deb-src entry for trixie) into $EXPCLIP_PY313_PREFIX
#                (default /opt/expclip-python3.13), or taken from $PYTHON313 if that is set.
# Usage: scripts/setup_env.sh [main|bpy42|bpy45|bpy53|python313|all]   (default: main)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
python="${PYTHON:-python3.11}"
command -v "$python" >/dev/null 2>&1 || python=python3
py313_prefix="${EXPCLIP_PY313_PREFIX:-/opt/expclip-python3.13}"
# Disk is the scarce resource on a fresh machine (four environments, 10 GB or more): pip keeps no copy of
# what it downloads (the wheels are installed once per environment and the stamp below skips reinstalls).
export PIP_NO_CACHE_DIR=1

# What the four environments take in a fresh clone, measured: 11 GB installed (du -shc .venv*, hard links
# below counted once), and room for pip to unpack the largest wheels.
disk_needed_gb=13

free_disk() {  # free_disk DIR: the free space on DIR's file system, e.g. "41G"
    df -h --output=avail "$1" | tail -n 1 | tr -d ' '
}

# Identical files across the environments (torch, scipy, transformers... in every CPython 3.11 one) are
# stored once, as hard links (util-linux's hardlink; skipped where it is missing). pip replaces files by
# unlinking them, never by writing in place, so a later install in one environment leaves the others alone.
share_identical_files() {
    command -v hardlink >/dev/null 2>&1 || return 0
    local dirs=() dir
    for dir in .venv .venv-bpy42 .venv-bpy45 .venv-bpy53; do
        [[ -d "$dir/lib" ]] && dirs+=("$dir/lib")
    done
    ((${#dirs[@]} > 1)) || return 0
    hardlink --quiet --ignore-time --minimum-size 16K "${dirs[@]}"
}

pip_install() {  # pip_install PYTHON ARGS...: quiet, minus the noise of this machine's pip config
    local py="$1"; shift
    local log
    log="$(mktemp)"
    if ! "$py" -m pip install --quiet --progress-bar off "$@" > "$log" 2>&1; then
        grep -v "is ignored: it is neither a file nor" "$log" >&2 || true
        echo "setup: pip install $* failed" >&2
        if grep -q "No space left on device" "$log"; then
            echo "setup: the disk is full ($(free_disk .) free now). The four environments need about" \
                "${disk_needed_gb} GB together on a fresh machine (scripts/run_tests.sh); free some space and" \
                "run this again: environments already set up are kept, this one is redone." >&2
        fi
        rm -f "$log"
        return 1
    fi
    grep -v "is ignored: it is neither a file nor" "$log" || true
    rm -f "$log"
}

make_env() {  # make_env DIR EXTRAS PYTHON
    local dir="$1" extras="$2" py="$3"
    local stamp="$dir/.expclip-setup-stamp"
    local want
    want="$(cat pyproject.toml scripts/setup_env.sh | sha256sum | cut -d' ' -f1) $extras"
    if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
        echo "setup: $dir is up to date"
        return 0
    fi
    echo "setup: preparing $dir ($extras, $("$py" -V); $(free_disk .) free on disk)"
    local free_kb
    free_kb="$(df -k --output=avail . | tail -n 1 | tr -d ' ')"
    if ((free_kb < 8 * 1024 * 1024)); then  # the CPython 3.13 one needs about 7 GB while it installs
        echo "setup: warning: less than 8 GB free; an environment can need 7 GB while it installs" >&2
    fi
    local start=$SECONDS
    [[ -x "$dir/bin/python" ]] || "$py" -m venv "$dir"
    pip_install "$dir/bin/python" --upgrade "pip>=24" wheel
    # torch first and by exact version: on CPython 3.11 pip takes the CPU wheel from this machine's local
    # find-links folder; asking for torch indirectly could pull a CUDA build from the registry instead. For
    # CPython 3.13 no CPU wheel is reachable: PyPI's Linux torch is the CUDA build, whose libtorch links
    # the CUDA libraries at load time, so its nvidia-* packages come along (about 3 GB installed; it runs
    # on the CPU without a GPU).
    pip_install "$dir/bin/python" "torch==2.13.0"
    pip_install "$dir/bin/python" -e ".[$extras]"
    # PyPI's CUDA torch (CPython 3.13) brings Triton, the compiler behind torch.compile, which nothing here
    # uses and `import torch` does not load: 0.7 GB less on disk.
    if "$dir/bin/python" -m pip show --quiet triton >/dev/null 2>&1; then
        "$dir/bin/python" -m pip uninstall --quiet --yes triton
    fi
    share_identical_files
    echo "$want" > "$stamp"
    echo "setup: $dir ready ($((SECONDS - start)) s; $(free_disk .) free on disk)"
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

# What CPython's configure needs for the modules the project and pip use (ssl, ctypes, sqlite3, lzma, bz2,
# zlib, readline, curses, uuid, tkinter, expat). All are in Debian 12. Left out: dbm.gnu and dbm.ndbm
# (libgdbm-dev, libdb-dev), which nothing here uses, and a system libmpdec (Debian 12 has none: decimal
# uses the copy bundled with CPython).
py313_build_deps=(build-essential pkg-config xz-utils libssl-dev libffi-dev zlib1g-dev libbz2-dev
    liblzma-dev libsqlite3-dev libreadline-dev libncurses-dev uuid-dev tk-dev libexpat1-dev)
py313_modules="ssl, ctypes, sqlite3, lzma, bz2, zlib, readline, uuid, decimal, pyexpat, venv, ensurepip"

python313() {  # python313: print the path of a CPython 3.13, building it once if needed
    if [[ -n "${PYTHON313:-}" ]]; then
        echo "$PYTHON313"
        return 0
    fi
    local py="$py313_prefix/bin/python3.13" stamp="$py313_prefix/.expclip-build-stamp"
    if [[ -f "$stamp" && -x "$py" ]]; then
        echo "$py"
        return 0
    fi
    build_python313 >&2
    echo "$py"
}

build_python313() {
    echo "setup: building CPython 3.13 from Debian 13's source package into $py313_prefix (once)"
    if [[ "$(id -u)" != 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
        echo "setup: cannot build CPython 3.13 here: it needs root and apt-get (a deb-src entry for Debian 13" \
            "and the build dependencies). Run this script as root once, or set PYTHON313 to a CPython 3.13." >&2
        exit 1
    fi
    local start=$SECONDS
    local sources=/etc/apt/sources.list.d/expclip-trixie-src.sources
    if [[ ! -f "$sources" ]]; then
        printf '%s\n' "Types: deb-src" "URIs: http://deb.debian.org/debian" "Suites: trixie" "Components: main" \
            "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg" > "$sources"
    fi
    if ! apt-get update -qq >/dev/null; then
        echo "setup: apt-get update failed (no network to deb.debian.org?): cannot fetch CPython 3.13's source" >&2
        exit 1
    fi
    local missing=() pkg
    for pkg in "${py313_build_deps[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
    done
    if ((${#missing[@]})); then
        echo "setup: installing CPython's build dependencies (apt): ${missing[*]}"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
    local work
    work="$(mktemp -d)"
    # Only the source package's upstream tarball is used (python3.13_3.13.x.orig.tar.xz: Python.org's own,
    # with its signature beside it); Debian's patches target Debian 13's layout.
    (cd "$work" && apt-get source --download-only -qq python3.13 >/dev/null 2>&1) || {
        echo "setup: apt-get source python3.13 failed (is Debian 13's deb-src reachable?)" >&2
        exit 1
    }
    local orig
    orig="$(ls "$work"/python3.13_*.orig.tar.xz)"
    echo "setup: building $(basename "$orig") (configure + make, no PGO; about 5 minutes on 2 cores)"
    tar -C "$work" -xf "$orig"
    rm -rf "$py313_prefix"
    local log="$work/build.log"
    if ! (cd "$work"/Python-3.13.* \
        && ./configure --prefix="$py313_prefix" --disable-test-modules --with-ensurepip=install \
        && make -j"$(nproc)" && make install) > "$log" 2>&1; then
        tail -n 40 "$log" >&2
        echo "setup: the CPython 3.13 build failed (log above)" >&2
        exit 1
    fi
    if ! "$py313_prefix/bin/python3.13" -c "import ${py313_modules}"; then
        grep -A8 "necessary bits to build these" "$log" >&2 || true
        echo "setup: the CPython 3.13 build lacks a module the project needs" >&2
        exit 1
    fi
    "$py313_prefix/bin/python3.13" -V > "$py313_prefix/.expclip-build-stamp"
    rm -rf "$work"
    echo "setup: $("$py313_prefix/bin/python3.13" -V) built in $((SECONDS - start)) s" \
        "($(du -sh "$py313_prefix" | cut -f1) in $py313_prefix)"
}

env_main() { system_packages; make_env .venv "blender,dev,train,eval,farm" "$python"; }
env_bpy42() { make_env .venv-bpy42 "blender42,dev" "$python"; }
env_bpy45() { make_env .venv-bpy45 "blender45,dev" "$python"; }
env_bpy53() {
    local py
    py="$(python313)"
    system_packages
    make_env .venv-bpy53 "blender53,dev,train,eval" "$py"
}

target="${1:-main}"
case "$target" in
    main) env_main ;;
    bpy42) env_bpy42 ;;
    bpy45) env_bpy45 ;;
    bpy53) env_bpy53 ;;
    python313) python313 ;;
    all) env_main; env_bpy42; env_bpy45; env_bpy53 ;;
    *) echo "usage: $0 [main|bpy42|bpy45|bpy53|python313|all]" >&2; exit 2 ;;
esac
