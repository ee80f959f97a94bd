"""Blender operators of the extension, one per module: thin glue between bpy and the services.

Each operator polls, gathers its inputs from the context and its properties, calls ``services`` (the
Blender-side work: baking, the model, the shape-key writer, sound, presets...) or the core in
``expclip_blender``, and reports. ``batch`` registers the ``expclip`` command line.
"""

from __future__ import annotations

import bpy

from . import (
    add_demo_head,
    add_emotion_marker,
    bake,
    batch,
    check_model_weights,
    import_weights,
    preset_apply,
    preset_delete,
    preset_export,
    preset_import,
    preset_save,
    preview_expression,
)

_modules = (
    add_demo_head,
    import_weights,
    bake,
    preview_expression,
    add_emotion_marker,
    preset_apply,
    preset_save,
    preset_delete,
    preset_import,
    preset_export,
    check_model_weights,
)
CLASSES: tuple[type, ...] = tuple(cls for module in _modules for cls in module.CLASSES)
_register, _unregister = bpy.utils.register_classes_factory(CLASSES)


def register() -> None:
    _register()
    batch.register()  # the `expclip` command line (blender --command expclip)


def unregister() -> None:
    batch.unregister()
    _unregister()
