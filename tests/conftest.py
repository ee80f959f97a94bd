"""Test session set-up.

Blender's user folders point at a temporary directory for the whole session *before* anything imports
bpy (importing bpy writes there), so tests never touch the home directory and never see another
session's state. Blender-side code is imported as the extension package ``expclip_ext`` built from the
repository root, the way Blender imports it (relative imports and all).
"""

from __future__ import annotations

import atexit
import importlib.util
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from ext_loader import import_extension

_session_dir = Path(tempfile.mkdtemp(prefix="expclip-tests-"))
atexit.register(shutil.rmtree, _session_dir, ignore_errors=True)
os.environ["BLENDER_USER_RESOURCES"] = str(_session_dir / "blender-user")
os.environ["XDG_CACHE_HOME"] = str(_session_dir / "cache")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def _has_bpy() -> bool:
    return importlib.util.find_spec("bpy") is not None


def pytest_collection_modifyitems(config, items):
    if _has_bpy():
        return
    skip = pytest.mark.skip(reason="bpy is not installed in this environment (run scripts/run_tests.sh)")
    for item in items:
        if "blender" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def bpy_module():
    """The real Blender Python module."""
    import bpy

    return bpy


@pytest.fixture
def empty_scene(bpy_module):
    """A fresh empty factory scene for each test."""
    bpy_module.ops.wm.read_factory_settings(use_empty=True)
    yield bpy_module.context.scene


@pytest.fixture(scope="session")
def ext(bpy_module):
    """The extension package imported from the source tree (not registered)."""
    return import_extension()


@pytest.fixture(scope="session")
def blender_version(bpy_module) -> tuple[int, int, int]:
    return tuple(bpy_module.app.version)


@pytest.fixture
def session_tmp() -> Path:
    return _session_dir
