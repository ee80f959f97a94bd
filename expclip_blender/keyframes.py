"""Turning dense per-frame values into keyframe arrays, with optional reduction.

Reduction keeps a subset of the dense keys such that straight lines between kept keys (the curve Blender
draws with LINEAR interpolation) stay within ``tolerance`` of every dense value: the error an animator
sees is bounded, not just an average. The method is the greedy "slope window" (a cone of admissible
slopes from the last kept key, narrowed by every frame passed; a key is kept where the cone closes),
which is linear in the number of frames and runs for all curves of a bake at once.
"""

from __future__ import annotations

import numpy as np


def reduce_keys_many(values: np.ndarray, tolerance: float) -> list[np.ndarray]:
    """Indices of the keys to keep for each column of ``values`` (frames x curves).

    First and last keys are always kept; linear interpolation between kept keys differs from the column by
    at most ``tolerance`` at every frame. ``tolerance <= 0`` keeps every key.
    """
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 2:
        raise ValueError(f"values must be (frames, curves), got {values.shape}")
    frames, curves = values.shape
    if frames <= 2 or tolerance <= 0:
        return [np.arange(frames) for _ in range(curves)]
    keep = np.zeros((frames, curves), dtype=bool)
    keep[0] = keep[-1] = True
    columns = np.arange(curves)
    anchor = np.zeros(curves, dtype=np.int64)
    low = np.full(curves, -np.inf)  # admissible slopes from the anchor, given the frames passed so far
    high = np.full(curves, np.inf)
    slack = 1e-12 * max(1.0, float(np.abs(values).max()))  # float rounding, far below any tolerance
    for j in range(1, frames):
        base = values[anchor, columns]
        span = j - anchor
        slope = (values[j] - base) / span
        closed = (slope < low - slack) | (slope > high + slack)
        if closed.any():
            # The line anchor -> j would miss a frame in between: keep j - 1 and restart the cone there.
            keep[j - 1, closed] = True
            anchor[closed] = j - 1
            low[closed], high[closed] = -np.inf, np.inf
            base = values[anchor, columns]
            span = j - anchor
        low = np.maximum(low, (values[j] - tolerance - base) / span)
        high = np.minimum(high, (values[j] + tolerance - base) / span)
    return [np.flatnonzero(keep[:, c]) for c in range(curves)]


def reduce_keys(values: np.ndarray, tolerance: float) -> np.ndarray:
    """Indices of the keys to keep for one curve (see :func:`reduce_keys_many`)."""
    return reduce_keys_many(np.asarray(values)[:, None], tolerance)[0]


def keyframe_coords(values: np.ndarray, frames: np.ndarray, keep: np.ndarray | None = None) -> np.ndarray:
    """Flat ``[frame0, value0, frame1, value1, ...]`` float32 array for ``foreach_set("co", ...)``."""
    values = np.asarray(values, dtype=np.float32)
    frames = np.asarray(frames, dtype=np.float32)
    if keep is not None:
        values, frames = values[keep], frames[keep]
    co = np.empty(2 * len(values), dtype=np.float32)
    co[0::2] = frames
    co[1::2] = values
    return co
