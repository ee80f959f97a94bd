"""Smooth ramps over time, shared by the blinks here and the workshop's training targets."""

from __future__ import annotations

import numpy as np

__all__ = ["raised", "smoothstep"]


def smoothstep(x: np.ndarray) -> np.ndarray:
    """3x^2 - 2x^3 of ``x`` clipped to [0, 1]: 0 -> 1 with zero slope at both ends."""
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def raised(t: np.ndarray, t0: float, rise: float, hold_end: float, fall: float) -> np.ndarray:
    """0 -> 1 over [t0, t0 + rise], 1 until hold_end, 1 -> 0 over [hold_end, hold_end + fall]."""
    up = smoothstep((t - t0) / max(rise, 1e-6))
    down = 1.0 - smoothstep((t - hold_end) / max(fall, 1e-6))
    return np.where(t < t0, 0.0, np.minimum(up, down))
