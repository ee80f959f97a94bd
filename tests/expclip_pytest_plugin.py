"""pytest plugin: the repository root is the Blender extension package, not a test package.

Without it pytest would import the root ``__init__.py`` (the extension entry) as a package named after the
checkout folder. Tests import the extension explicitly instead (tests/conftest.py: ``expclip_ext``).
Loaded with ``-p`` (pyproject.toml) because a conftest.py at the root would itself trigger that import.
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def pytest_collect_directory(path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if path == ROOT:
        return pytest.Dir.from_parent(parent, path=path)
    return None
