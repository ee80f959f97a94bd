"""The ``expclip`` command line (``blender --background --command expclip ...``), registered with Blender.

Registered with ``bpy.utils.register_cli_command`` where Blender has command-line commands (4.2+;
detected, not assumed). What the command does is ``services.batch.run_command`` (docs/batch.md).
"""

from __future__ import annotations

import bpy

from ..expclip_blender.jobs import COMMAND
from .services.batch import run_command

_handle = None  # the registered command (an opaque capsule), for unregister


def register() -> None:
    """Register the ``expclip`` command where Blender has command-line commands (4.2+)."""
    global _handle
    if _handle is None and hasattr(bpy.utils, "register_cli_command"):
        _handle = bpy.utils.register_cli_command(COMMAND, run_command)


def unregister() -> None:
    """Remove the ``expclip`` command again."""
    global _handle
    if _handle is not None and hasattr(bpy.utils, "unregister_cli_command"):
        bpy.utils.unregister_cli_command(_handle)
    _handle = None
