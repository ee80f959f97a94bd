"""Import the extension from the source tree the way Blender imports an installed one.

The repository root is the extension package; its code uses relative imports, so it is imported under a
package name (``expclip_ext``) rather than run from the folder. Used by tests, benchmarks and scripts.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
EXT_PACKAGE = "expclip_ext"


def import_extension() -> ModuleType:
    """The repository root as the package ``expclip_ext`` (imported once; needs bpy)."""
    if EXT_PACKAGE in sys.modules:
        return sys.modules[EXT_PACKAGE]
    spec = importlib.util.spec_from_file_location(
        EXT_PACKAGE, ROOT / "__init__.py", submodule_search_locations=[str(ROOT)]
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[EXT_PACKAGE] = module
    spec.loader.exec_module(module)
    return module
