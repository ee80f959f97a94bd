"""The add-on preferences as the rest of the extension reads them, and what their Check found.

The ``AddonPreferences`` class is drawn by ``ui.preferences``; operators and services reach the values
through :func:`addon_preferences` here, so nothing outside ``ui`` imports ``ui``.
"""

from __future__ import annotations

from typing import Protocol

import bpy

from ...expclip_blender.model_folder import WeightsCheck

# The extension's root package ("bl_ext.user_default.expclip" when installed); this is
# <root>.operators.services.preferences.
ADDON_PACKAGE = __package__.rsplit(".", 2)[0]

# Folder -> the last Check result, which the preferences show under the folder field.
weights_checks: dict[str, WeightsCheck] = {}


class ExtensionPreferences(Protocol):
    """The preference values the extension reads (``ui.preferences`` declares them as properties)."""

    device: str  # AUTO, CPU or CUDA
    studio_presets_dir: str
    custom_models_dir: str


def addon_preferences(context: bpy.types.Context | None = None) -> ExtensionPreferences | None:
    """The extension's preferences, or None when it is not enabled as an add-on (e.g. run from source)."""
    context = context if context is not None else bpy.context
    addon = context.preferences.addons.get(ADDON_PACKAGE)
    return getattr(addon, "preferences", None) if addon is not None else None


def abspath(path: str) -> str:
    """A path setting made absolute (Blender's ``//`` is the .blend's folder); "" for an empty one."""
    return bpy.path.abspath(path.strip()) if path and path.strip() else ""
