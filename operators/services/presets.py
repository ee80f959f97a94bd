"""The emotion preset library of this installation, and presets to and from the scene's settings.

Presets come from three folders (``expclip_blender.presets``): built-in, the studio folder of the add-on
preferences, and the user folder, which is the only one written to.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path

import bpy
import numpy as np

from ...expclip_blender.presets import Preset, PresetLibrary, PresetListing, list_presets
from .preferences import ADDON_PACKAGE, abspath, addon_preferences

Folders = Sequence[tuple[str, "str | Path | None"]]

# The last listing drawn per folder set, with the state of the folders it was read from.
_listings: dict[tuple[tuple[str, str], ...], tuple[tuple, PresetListing]] = {}
_listings_lock = threading.Lock()
_MAX_LISTINGS = 8


def user_presets_dir() -> Path:
    """The user preset folder: the extension's own user folder (kept across updates of the extension).

    Outside an installed extension (a legacy add-on, the source tree in tests) Blender's user scripts
    presets folder is used instead.
    """
    try:
        return Path(bpy.utils.extension_path_user(ADDON_PACKAGE, path="presets"))
    except ValueError:  # not a "bl_ext.<repo>.<id>" package
        return Path(bpy.utils.user_resource("SCRIPTS", path=f"presets/{ADDON_PACKAGE}"))


def preset_library(context: bpy.types.Context | None = None) -> PresetLibrary:
    """The presets of this installation: built-in, the studio folder of the preferences, the user folder."""
    prefs = addon_preferences(context)
    studio = abspath(prefs.studio_presets_dir or "") if prefs is not None else ""
    return PresetLibrary(user_dir=user_presets_dir(), studio_dir=studio or None)


def _exact(value: float) -> float:
    """A float property's value as its shortest decimal (0.3, not 0.30000001192092896)."""
    return float(str(np.float32(value)))


def preset_from_settings(settings, name: str, include_mapping: bool = True, description: str = "") -> Preset:
    """A preset holding the scene's ExpCLIP settings (PresetError for a bad name or value)."""
    mapping = settings.mapping_preset.strip() if include_mapping else ""
    return Preset(
        name=name,
        prompt=settings.prompt,
        intensity=_exact(settings.intensity),
        smoothing=_exact(settings.smoothing),
        blinks=bool(settings.blinks),
        gaze=bool(settings.gaze),
        gaze_amount=_exact(settings.gaze_amount),
        mapping=mapping or None,
        description=description,
    )


def apply_to_settings(settings, preset: Preset, mapping: str | None) -> None:
    """Write a preset into the scene settings; a preset without a mapping keeps the scene's mapping."""
    settings.prompt = preset.prompt
    settings.intensity = preset.intensity
    settings.smoothing = preset.smoothing
    settings.blinks = preset.blinks
    settings.gaze = preset.gaze
    settings.gaze_amount = preset.gaze_amount
    if mapping is not None:
        settings.mapping_preset = mapping


def missing_mapping(mapping: str | None) -> bool:
    """Whether a preset's mapping preset path names a file that is not there."""
    return mapping is not None and not Path(bpy.path.abspath(mapping)).is_file()


def _folder_state(folder: str) -> tuple:
    """What a folder's listing depends on, from directory entries and their stat only (no file read)."""
    try:
        with os.scandir(folder) as entries:
            return tuple(
                sorted(
                    (e.name, e.inode(), e.stat().st_mtime_ns, e.stat().st_size)
                    for e in entries
                    if e.name.lower().endswith(".json")
                )
            )
    except FileNotFoundError:
        return ("missing",)
    except NotADirectoryError:
        return ("file",)
    except OSError as exc:
        return ("unreadable", str(exc))


def cached_listing(folders: Folders) -> PresetListing:
    """``list_presets(folders)``, read again only when a folder's .json files change (for drawing)."""
    key = tuple((source, str(folder)) for source, folder in folders if folder)
    state = tuple(_folder_state(folder) for _, folder in key)
    with _listings_lock:
        hit = _listings.get(key)
    if hit is not None and hit[0] == state:
        return hit[1]
    listing = list_presets(key)
    with _listings_lock:
        if len(_listings) >= _MAX_LISTINGS:
            _listings.clear()
        _listings[key] = (state, listing)
    return listing
