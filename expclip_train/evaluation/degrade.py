"""Degraded copies of a clip for the generator report's robustness check: what real recordings do to speech.

- :func:`mix_at_snr`, :func:`active_rms`, :func:`babble`, :func:`music`: sounds under the speech, from
  :mod:`..speech.mixing` (shared with the training augmentation; the report draws its own seeds and
  hears the default :class:`~..speech.mixing.MusicStyle`).
- :func:`phone_band`: a telephone channel's band, 300-3400 Hz (4th-order Butterworth band-pass, causal
  as a line is; its delay near 1 kHz is about a millisecond).
- :func:`dc_offset`: a constant added to every sample (a miswired or cheap interface).

Every function is deterministic given its ``numpy.random.Generator``; the input is never modified.
"""

from __future__ import annotations

import numpy as np

from ..speech.mixing import active_rms, babble, mix_at_snr, music

__all__ = ["active_rms", "babble", "dc_offset", "mix_at_snr", "music", "phone_band"]


def phone_band(audio: np.ndarray, sr: int, low: float = 300.0, high: float = 3400.0) -> np.ndarray:
    """``audio`` through a telephone channel's band-pass (float32)."""
    from scipy.signal import butter, sosfilt

    nyq = sr / 2
    sos = butter(4, [low / nyq, min(high / nyq, 0.99)], btype="band", output="sos")
    return sosfilt(sos, np.asarray(audio, np.float64)).astype(np.float32)


def dc_offset(audio: np.ndarray, offset: float = 0.3) -> np.ndarray:
    """``audio`` + ``offset`` (float32, not clipped)."""
    return (np.asarray(audio, np.float64) + offset).astype(np.float32)
