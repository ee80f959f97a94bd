"""The scene's ExpCLIP settings (``scene.expclip``) as operators and services read them."""

from __future__ import annotations

import bpy

NOT_ENABLED_MESSAGE = "The ExpCLIP extension is not registered: enable it in the preferences."


def settings_of(context: bpy.types.Context):
    """The scene's ExpCLIP settings (``scene.expclip``), or None before the extension registers them."""
    scene = context.scene
    return getattr(scene, "expclip", None) if scene is not None else None


# What the preset operators say (their settings are the scene's, not the whole extension's).
NOT_REGISTERED = "The ExpCLIP scene settings are missing: enable the ExpCLIP extension in the preferences"
