"""Frame counting: how many frames a clip has at a frame rate, and when each one is."""

from __future__ import annotations

import math

import numpy as np

__all__ = ["frame_times", "num_frames"]


def num_frames(duration: float, fps: float) -> int:
    """ceil(duration * fps) (a hair of tolerance so 2.0 s at 30 fps is 60 frames, not 61)."""
    if fps <= 0 or not math.isfinite(fps):
        raise ValueError(f"fps must be a positive number, got {fps}")
    return max(0, math.ceil(duration * fps - 1e-6))


def frame_times(n: int, fps: float) -> np.ndarray:
    """Times (s) of frames 0..n-1: row i is the face at i / fps."""
    return np.arange(n, dtype=np.float64) / float(fps)
