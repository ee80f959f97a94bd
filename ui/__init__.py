"""User interface of the extension: the 3D Viewport sidebar tab "ExpCLIP"."""

from __future__ import annotations

import bpy

from . import preferences, preset_menu, properties, sidebar

CLASSES: tuple[type, ...] = (
    *preferences.CLASSES,
    *properties.CLASSES,
    *preset_menu.CLASSES,
    *sidebar.CLASSES,
)
_register, _unregister = bpy.utils.register_classes_factory(CLASSES)


def register() -> None:
    _register()
    properties.attach()


def unregister() -> None:
    properties.detach()
    _unregister()
