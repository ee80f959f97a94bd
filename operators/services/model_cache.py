"""One loaded model per Blender session, reused by every bake and preview.

Loading takes seconds (the text encoder, the generator), a bake a fraction of that, so the model is
loaded on first use and kept. The key is ``(device, models_dir)`` from the add-on preferences; when they
change, the next use loads anew and the old model is dropped (one model in memory at a time).
:func:`clear_model_cache` drops it explicitly; :func:`model_settings_changed` does too when the device
or the weights folder changes in the preferences.

:func:`preload` loads and warms the model up in a background thread: the sidebar asks for it the first
time it draws, so by the time the animator clicks Bake the first bake costs what a warm one does.
"""

from __future__ import annotations

import contextlib
import threading

import bpy
import numpy as np

from ... import expclip_blender as ex
from .preferences import abspath, addon_preferences, weights_checks

_DEVICES = {"AUTO": "auto", "CPU": "cpu", "CUDA": "cuda"}
_lock = threading.Lock()  # bakes may load from a worker thread
_cached: tuple[tuple[str, str | None], object] | None = None
_preload_tried: set[tuple[str, str | None]] = set()  # a failed preload is not retried on every redraw


def model_settings(context: bpy.types.Context | None = None) -> tuple[str, str | None]:
    """``(device, models_dir)`` from the add-on preferences; ``("auto", None)`` where there are none."""
    try:
        prefs = addon_preferences(context or bpy.context)
    except AttributeError:  # a context without preferences (some handlers' restricted context)
        prefs = None
    if prefs is None:
        return "auto", None
    device = _DEVICES.get(getattr(prefs, "device", "AUTO"), "auto")
    folder = abspath(getattr(prefs, "custom_models_dir", "") or "")
    return device, (folder or None)


def get_model(device: str = "auto", models_dir: str | None = None):
    """The model for ``(device, models_dir)``, loaded once and reused (errors from ``ex.load`` pass on)."""
    global _cached
    key = (device, models_dir)
    with _lock:
        if _cached is not None and _cached[0] == key:
            return _cached[1]
        _cached = None  # drop the old model before loading the new one: one in memory at a time
        model = ex.load(device=device, models_dir=models_dir)
        _cached = (key, model)
        return model


def model_for(context: bpy.types.Context | None = None):
    """The model the preferences ask for (see :func:`model_settings`)."""
    return get_model(*model_settings(context))


def cached_model():
    """The loaded model, or None when nothing is loaded yet (never loads)."""
    cached = _cached
    return None if cached is None else cached[1]


def clear_model_cache() -> None:
    """Forget the loaded model; the next bake or preview loads it again."""
    global _cached
    with _lock:
        _cached = None
        _preload_tried.clear()


def model_settings_changed() -> None:
    """The device or the weights folder changed: drop the model and the Check results shown for it."""
    weights_checks.clear()
    clear_model_cache()


def warm_up(model) -> None:
    """Load the generator and run it once on a second of silence (torch's first run is the slow one)."""
    model.animate(np.zeros(16000, np.float32), 16000, blinks=False)


def preload(device: str = "auto", models_dir: str | None = None) -> threading.Thread | None:
    """Load and warm up the model for ``(device, models_dir)`` in a background thread.

    Returns the thread, or None when that model is loaded already or was asked for before. Errors are
    left for the bake that needs the model to report.
    """
    key = (device, models_dir)
    with _lock:
        if key in _preload_tried or (_cached is not None and _cached[0] == key):
            return None
        _preload_tried.add(key)

    def run() -> None:
        with contextlib.suppress(Exception):  # the bake or preview that needs the model reports it
            warm_up(get_model(device, models_dir))

    thread = threading.Thread(target=run, name="expclip-preload", daemon=True)
    thread.start()
    return thread
