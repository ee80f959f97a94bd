"""Build the installable extension zip with Blender's own extension tool, then validate it.

    python build.py [--output-dir dist]

The tool is ``blender_ext.py``, which ships inside the bpy wheel (no ``blender`` executable is needed).
Prints the path of the validated zip on the last line.
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent


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


def build(output_dir: Path) -> Path:
    """Build and validate the zip; returns its path."""
    manifest = tomllib.loads((ROOT / "blender_manifest.toml").read_text(encoding="utf-8"))
    output_dir.mkdir(parents=True, exist_ok=True)
    tool = find_extension_tool()
    run_tool(tool, "validate", str(ROOT))
    zip_path = output_dir / f"{manifest['id']}-{manifest['version']}.zip"
    zip_path.unlink(missing_ok=True)
    run_tool(tool, "build", "--source-dir", str(ROOT), "--output-filepath", str(zip_path))
    run_tool(tool, "validate", str(zip_path))
    return zip_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--output-dir", type=Path, default=ROOT / "dist")
    args = parser.parse_args(argv)
    zip_path = build(args.output_dir)
    size_mb = zip_path.stat().st_size / 1e6
    print(f"built and validated {zip_path} ({size_mb:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
