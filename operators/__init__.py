"""Blender operators of the extension: thin glue between bpy and the core in ``expclip_blender``."""

from __future__ import annotations

import bpy

from . import bake, batch, demo, presets, timeline, weights_import

_modules = (demo, weights_import, bake, timeline, presets)
CLASSES: tuple[type, ...] = tuple(cls for module in _modules for cls in module.CLASSES)
_register, _unregister = bpy.utils.register_classes_factory(CLASSES)


def register() -> None:
    _register()
    batch.register()  # the `expclip` command line (blender --command expclip)


def unregister() -> None:
    batch.unregister()
    _unregister()
