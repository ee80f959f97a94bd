"""A local farm for the OpenJD templates: the extension installed, a ``blender``, shots, ``openjd run``.

Used by tests/test_farm_openjd.py and benchmarks/bench_farm.py. Everything runs in fresh processes with
their own Blender user folder, so the extension is the built zip, installed as a user installs it, and the
command is the one Blender runs (``scripts/blender_shim.py`` stands in for the ``blender`` executable).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "expclip_blender" / "farm" / "openjd"
BAKE_TEMPLATE = TEMPLATES / "bake_jobs.yaml"
SHIM = Path(__file__).resolve().parent / "blender_shim.py"
HEAD = "ExpCLIP Demo Head"  # the object the extension's Add Demo Head operator makes

MAKE_SHOT = textwrap.dedent(
    """
    import sys
    import bpy

    bpy.ops.preferences.addon_enable(module="bl_ext.user_default.expclip")
    bpy.ops.expclip.add_demo_head()
    bpy.context.scene.render.fps, bpy.context.scene.render.fps_base = 24, 1.0
    bpy.ops.wm.save_as_mainfile(filepath=sys.argv[1])
    """
)


@dataclass(frozen=True)
class LocalFarm:
    """A folder holding a Blender user folder with ExpCLIP installed and a ``blender`` that runs it."""

    root: Path

    @property
    def blender(self) -> Path:
        return self.root / "bin" / "blender"

    @property
    def env(self) -> dict[str, str]:
        """The environment the processes run in: this farm's Blender folders, no downloads."""
        return dict(
            os.environ,
            BLENDER_USER_RESOURCES=str(self.root / "blender-user"),
            XDG_CACHE_HOME=str(self.root / "cache"),
            HF_HUB_OFFLINE="1",
            TRANSFORMERS_OFFLINE="1",
        )

    def make_shot(self, path: Path) -> Path:
        """A .blend with the demo head (made by the installed extension's operator), 24 fps."""
        path.parent.mkdir(parents=True, exist_ok=True)
        proc = subprocess.run(
            [sys.executable, "-c", MAKE_SHOT, str(path)], env=self.env, capture_output=True, text=True
        )
        if proc.returncode != 0 or not path.is_file():
            raise RuntimeError(f"making {path} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
        return path

    def openjd_run(
        self,
        params: Mapping[str, object],
        template: Path = BAKE_TEMPLATE,
        tasks: Sequence[int] | None = None,
        offline: bool = False,
    ) -> subprocess.CompletedProcess[str]:
        """``openjd run`` of ``template`` (all tasks, or the chunks ``tasks``); ``offline``: no network."""
        command = [str(openjd_executable()), "run", str(template)]
        defaults = {"BlenderExecutable": self.blender}
        for key, value in {**defaults, **params}.items():
            command += ["--job-param", f"{key}={value}"]
        if tasks is not None:
            command += ["--tasks", "[" + ",".join(f'{{"Chunk": {t}}}' for t in tasks) + "]"]
        if offline:
            command = [*unshare_network(), *command]
        return subprocess.run(command, env=self.env, capture_output=True, text=True)


def openjd_executable() -> Path:
    """The ``openjd`` command of this Python's environment (the ``farm`` extra)."""
    exe = Path(sys.executable).parent / "openjd"
    return exe if exe.is_file() else Path(shutil.which("openjd") or "openjd")


def unshare_network() -> list[str]:
    """A prefix that runs a command with no network (a new, empty network namespace); [] where impossible."""
    exe = shutil.which("unshare")
    if exe is None:
        return []
    probe = subprocess.run([exe, "--map-root-user", "--net", "true"], capture_output=True)
    return [exe, "--map-root-user", "--net"] if probe.returncode == 0 else []


def _build_module():
    spec = importlib.util.spec_from_file_location("expclip_build", ROOT / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def make_farm(root: Path) -> LocalFarm:
    """Build the extension zip (no wheels: torch is this environment's), install it, write ``blender``."""
    farm = LocalFarm(root)
    zip_path = _build_module().build(root / "dist")
    proc = subprocess.run(
        [sys.executable, str(SHIM), "--install-extension", str(zip_path)],
        env=farm.env,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"installing {zip_path} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    farm.blender.parent.mkdir(parents=True, exist_ok=True)
    # A `blender` executable: the shim under this Python, in this farm's user folder wherever it is run.
    farm.blender.write_text(
        "#!/bin/sh\n"
        f"export BLENDER_USER_RESOURCES='{root / 'blender-user'}' XDG_CACHE_HOME='{root / 'cache'}'\n"
        f"exec '{sys.executable}' '{SHIM}' \"$@\"\n",
        encoding="utf-8",
    )
    farm.blender.chmod(0o755)
    return farm
