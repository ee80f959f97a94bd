# SPDX-License-Identifier: GPL-3.0-or-later
"""ExpCLIP for Blender: speech + a typed emotion prompt -> ARKit shape-key animation.

The extension entry point. Blender glue lives in ``operators`` and ``ui``; the core in ``expclip_blender``
never imports bpy. Heavy libraries (torch, transformers) are imported lazily by the operators that need
them, so enabling the extension stays fast.
"""

from __future__ import annotations

from . import operators, ui


def register() -> None:
    operators.register()
    ui.register()


def unregister() -> None:
    ui.unregister()
    operators.unregister()
