"""User interface of the extension: the 3D Viewport sidebar tab "ExpCLIP"."""

from __future__ import annotations

import bpy

from . import sidebar

CLASSES: tuple[type, ...] = sidebar.CLASSES
_register, _unregister = bpy.utils.register_classes_factory(CLASSES)


def register() -> None:
    _register()


def unregister() -> None:
    _unregister()
