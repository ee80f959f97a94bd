"""Procedural blinks for generated animation.

Blinks are not predictable from audio, so the generator is trained without them (a network would learn a
blurred average) and they are added afterwards: every 2-6 s, 150-250 ms each (fast close 40%, slower open
60%), pulled to the start of pauses in the speech when one is near (people blink at phrase boundaries),
as in the workshop's training targets (``expclip_train.speech.coarticulation.nonspeech_motion``).
Deterministic from a seed; event times are drawn in seconds, so every frame rate shows the same blinks.
"""

from __future__ import annotations

import numpy as np

from .curves import raised
from .loudness import loudness_envelope

__all__ = ["blink_curve", "blink_events", "blink_schedule", "blink_starts", "pause_starts"]

PAUSE_LEVEL = 0.1  # loudness (0..1 of the clip's loud speech, 30 dB range) below which it is a pause
MIN_PAUSE_S = 0.3


def pause_starts(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """Start times (s) of the pauses of at least 0.3 s inside the speech of ``audio``."""
    times, loud = loudness_envelope(audio, sample_rate)
    quiet = loud < PAUSE_LEVEL
    if quiet.all() or not quiet.any():
        return np.zeros(0)
    edges = np.diff(np.concatenate([[0], quiet.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    hop = times[1] - times[0] if len(times) > 1 else 0.01
    keep = ((ends - starts) * hop >= MIN_PAUSE_S) & (starts > 0)
    return times[starts[keep]]


def blink_curve(n_frames: int, fps: float, seed: int = 0, pauses: np.ndarray | None = None) -> np.ndarray:
    """(n_frames,) eyelid closure in [0, 1] at ``fps``."""
    t = np.arange(n_frames) / float(fps)
    pauses = np.zeros(0) if pauses is None else np.asarray(pauses, np.float64)
    return blink_events(t, n_frames / float(fps), np.random.default_rng(seed), pauses).astype(np.float32)


def blink_starts(n_frames: int, fps: float, seed: int = 0, pauses: np.ndarray | None = None) -> np.ndarray:
    """Start times (s) of the blinks :func:`blink_curve` draws with the same arguments."""
    pauses = np.zeros(0) if pauses is None else np.asarray(pauses, np.float64)
    schedule = blink_schedule(n_frames / float(fps), np.random.default_rng(seed), pauses)
    return np.array([when for when, _, _ in schedule], np.float64)


def blink_schedule(
    duration: float, rng: np.random.Generator, pauses: np.ndarray
) -> list[tuple[float, float, float]]:
    """The blinks of a clip as (start s, length s, peak closure): one every 2-6 s, 150-250 ms long, moved
    to just after the start of a pause (``pauses``: start times in s) when one is near."""
    out = []
    tb = rng.uniform(0.3, 2.5)
    while tb < duration:
        near = pauses[(pauses > tb - 1.0) & (pauses < tb + 0.5)]
        when = float(near[0]) + 0.05 if near.size else tb
        dur = rng.uniform(0.15, 0.25)
        peak = rng.uniform(0.85, 1.0)
        out.append((when, dur, peak))
        tb = when + rng.uniform(2.0, 6.0)
    return out


def blink_events(t: np.ndarray, duration: float, rng: np.random.Generator, pauses: np.ndarray) -> np.ndarray:
    """Eyelid closure in [0, 1] at times ``t`` of the blinks of :func:`blink_schedule` (40% of each blink
    closing, 60% opening)."""
    blink = np.zeros_like(t, dtype=np.float64)
    for when, dur, peak in blink_schedule(duration, rng, pauses):
        blink = np.maximum(blink, peak * raised(t, when, 0.4 * dur, when + 0.4 * dur, 0.6 * dur))
    return blink
