"""The loudness envelope of a clip: RMS level over short windows, relative to its loud speech."""

from __future__ import annotations

import math

import numpy as np

from .audio import to_mono

__all__ = ["loudness_envelope"]


def loudness_envelope(
    audio: np.ndarray, sample_rate: int, hop: float = 0.01, win: float = 0.03, range_db: float = 30.0
) -> tuple[np.ndarray, np.ndarray]:
    """(times, loudness in 0..1) every ``hop`` s: RMS level relative to the clip's loud speech.

    ``audio`` is ``(samples,)`` or ``(samples, channels)`` (mixed down a block at a time).

    1 is the 95th percentile of the clip's RMS level (its loud speech), 0 is ``range_db`` below it.
    """
    a = np.asarray(audio)
    hop_n, win_n = max(1, round(hop * sample_rate)), max(1, round(win * sample_rate))
    n = max(1, math.ceil(len(a) / hop_n))
    db = 10.0 * np.log10(_window_energy(a, hop_n, win_n, n) + 1e-10)
    ref = np.percentile(db, 95)
    loud = np.clip((db - (ref - range_db)) / range_db, 0.0, 1.0)
    return np.arange(n) * hop, loud


# Envelope frames per block: the running sums of one block are a few MB whatever the audio's length.
_ENERGY_BLOCK = 2048


def _window_energy(a: np.ndarray, hop_n: int, win_n: int, n: int) -> np.ndarray:
    """(n,) energy of ``a`` about its own mean over ``win_n`` samples centred on every ``hop_n``-th sample
    (per ``win_n``; nothing beyond the ends), so a DC offset reads as silence. Computed block by block in
    float64 so an hour of audio is never copied whole."""
    out = np.empty(n)
    half = win_n // 2
    for k0 in range(0, n, _ENERGY_BLOCK):
        k1 = min(n, k0 + _ENERGY_BLOCK)
        lo, hi = k0 * hop_n - half, (k1 - 1) * hop_n - half + win_n  # samples the block's windows cover
        seg, inside = np.zeros(hi - lo), np.zeros(hi - lo)
        src_lo, src_hi = max(0, lo), min(len(a), hi)
        if src_hi > src_lo:
            part = a[src_lo:src_hi]
            seg[src_lo - lo : src_hi - lo] = to_mono(part) if part.ndim == 2 else part
            inside[src_lo - lo : src_hi - lo] = 1.0
        starts = np.arange(k1 - k0) * hop_n
        sq, total, count = (_window_sums(v, starts, win_n) for v in (seg * seg, seg, inside))
        out[k0:k1] = np.maximum(sq - total * total / np.maximum(count, 1.0), 0.0) / win_n
    return out


def _window_sums(v: np.ndarray, starts: np.ndarray, win_n: int) -> np.ndarray:
    csum = np.concatenate([[0.0], np.cumsum(v)])
    return csum[starts + win_n] - csum[starts]
