"""Turning dense per-frame values into keyframe arrays, with optional reduction.

Reduction keeps a subset of the dense keys such that straight lines between kept keys (the curve Blender
draws with LINEAR interpolation) stay within ``tolerance`` of every dense value. It is the
Ramer-Douglas-Peucker split on vertical distance, which bounds exactly the error an animator sees.
"""

from __future__ import annotations

import numpy as np


def reduce_keys(values: np.ndarray, tolerance: float) -> np.ndarray:
    """Indices of the keys to keep for one curve; first and last are always kept.

    Linear interpolation between the kept keys differs from ``values`` by at most ``tolerance`` at every
    dense index. ``tolerance <= 0`` keeps every key.
    """
    values = np.asarray(values, dtype=np.float64)
    n = len(values)
    if n <= 2 or tolerance <= 0:
        return np.arange(n)
    keep = np.zeros(n, dtype=bool)
    keep[[0, n - 1]] = True
    stack = [(0, n - 1)]
    while stack:
        lo, hi = stack.pop()
        if hi - lo < 2:
            continue
        span = np.arange(lo + 1, hi)
        line = values[lo] + (values[hi] - values[lo]) * (span - lo) / (hi - lo)
        error = np.abs(values[lo + 1 : hi] - line)
        worst = int(np.argmax(error))
        if error[worst] > tolerance:
            mid = lo + 1 + worst
            keep[mid] = True
            stack += [(lo, mid), (mid, hi)]
    return np.flatnonzero(keep)


def keyframe_coords(values: np.ndarray, frames: np.ndarray, tolerance: float | None = None) -> np.ndarray:
    """Flat ``[frame0, value0, frame1, value1, ...]`` float32 array for ``foreach_set("co", ...)``."""
    values = np.asarray(values, dtype=np.float32)
    frames = np.asarray(frames, dtype=np.float32)
    if tolerance:
        idx = reduce_keys(values, tolerance)
        values, frames = values[idx], frames[idx]
    co = np.empty(2 * len(values), dtype=np.float32)
    co[0::2] = frames
    co[1::2] = values
    return co
