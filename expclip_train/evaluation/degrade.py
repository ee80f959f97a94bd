"""Degraded copies of a clip for the generator report's robustness check: what real recordings do to speech.

- :func:`mix_at_snr`: noise under the speech at a signal-to-noise ratio, the speech measured by its
  *active* level (:func:`active_rms`: pauses do not lower it), the noise by its plain RMS.
- :func:`babble`: several other talkers at once: the given recordings (other speakers), each looped to the
  clip's length from a random start and brought to the same active level, summed.
- :func:`music`: music synthesised here, so nothing is downloaded and every run hears the same piece for
  a seed: a four-chord progression (I-V-vi-IV and its rotations) in a random major key at 90-130 beats a
  minute, the chords struck on beats 1 and 3 as harmonic tones (six harmonics at 1/k amplitude, 10 ms
  attack, exponential decay) over a bass note on every beat, and a drum pattern: a kick (a sine falling
  from 120 to 50 Hz) on beats 1 and 3, a snare (noise and a 180 Hz tone) on 2 and 4, a hi-hat
  (high-passed noise) on every eighth.
- :func:`phone_band`: a telephone channel's band, 300-3400 Hz (4th-order Butterworth band-pass, causal
  as a line is; its delay near 1 kHz is about a millisecond).
- :func:`dc_offset`: a constant added to every sample (a miswired or cheap interface).

Every function is deterministic given its ``numpy.random.Generator``; the input is never modified.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["active_rms", "babble", "dc_offset", "mix_at_snr", "music", "phone_band"]

FRAME_S = 0.02  # active-level frames
ACTIVE_RANGE_DB = 30.0  # frames this far below the loud speech (95th percentile frame) count as pauses
_MAJOR = (0, 2, 4, 5, 7, 9, 11)  # semitones of the major scale's degrees
_PROGRESSION = (0, 4, 5, 3)  # I V vi IV, as scale degrees (0-based)


def active_rms(audio: np.ndarray, sr: int) -> float:
    """RMS over the 20 ms frames within 30 dB of the loud speech (the 95th-percentile frame level)."""
    x = np.asarray(audio, np.float64)
    hop = max(1, round(FRAME_S * sr))
    n = len(x) // hop
    if n == 0:
        return float(np.sqrt(np.mean(x**2))) if len(x) else 0.0
    frames = np.sqrt(np.mean(x[: n * hop].reshape(n, hop) ** 2, axis=1))
    loud = float(np.percentile(frames, 95))
    if loud <= 0:
        return 0.0
    active = frames[frames >= loud * 10 ** (-ACTIVE_RANGE_DB / 20)]
    return float(np.sqrt(np.mean(active**2)))


def mix_at_snr(speech: np.ndarray, noise: np.ndarray, snr_db: float, sr: int) -> np.ndarray:
    """``speech`` + ``noise`` (cut or looped to the speech's length) scaled to ``snr_db`` below the speech's
    active level; float32, not clipped."""
    s = np.asarray(speech, np.float64)
    nz = np.resize(np.asarray(noise, np.float64), len(s))
    noise_rms = float(np.sqrt(np.mean(nz**2))) if len(nz) else 0.0
    if noise_rms <= 0:
        return s.astype(np.float32)
    gain = active_rms(s, sr) * 10 ** (-snr_db / 20) / noise_rms
    return (s + gain * nz).astype(np.float32)


def babble(sources: Sequence[np.ndarray], n: int, sr: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` samples of the ``sources`` talking at once: each looped from a random start, at one active
    level, summed (float64; the caller sets the level)."""
    out = np.zeros(n)
    for src in sources:
        x = np.asarray(src, np.float64)
        level = active_rms(x, sr)
        if len(x) == 0 or level <= 0:
            continue
        start = int(rng.integers(len(x)))
        out += np.resize(np.roll(x, -start), n) / level
    return out


def _tone(t: np.ndarray, f0: float, rng: np.random.Generator, harmonics: int = 6) -> np.ndarray:
    phases = rng.uniform(0, 2 * np.pi, harmonics)
    return sum(np.sin(2 * np.pi * f0 * k * t + phases[k - 1]) / k for k in range(1, harmonics + 1))


def _strike(out: np.ndarray, start: int, sound: np.ndarray) -> None:
    """Add ``sound`` to ``out`` from sample ``start`` on (cut at the end)."""
    end = min(len(out), start + len(sound))
    if end > start:
        out[start:end] += sound[: end - start]


def _envelope(n: int, sr: int, decay_s: float, attack_s: float = 0.01) -> np.ndarray:
    t = np.arange(n) / sr
    return np.minimum(t / attack_s, 1.0) * np.exp(-t / decay_s)


def _drums(beat: int, sr: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """One hit of each drum (the kick's pitch falls, the snare and hi-hat are noise)."""
    t = np.arange(min(beat, round(0.3 * sr))) / sr
    freq = 50 + 70 * np.exp(-t / 0.04)
    kick = np.sin(2 * np.pi * np.cumsum(freq) / sr) * np.exp(-t / 0.15)
    snare = (rng.standard_normal(len(t)) * 0.6 + np.sin(2 * np.pi * 180 * t)) * np.exp(-t / 0.08)
    white = rng.standard_normal(len(t) + 1)
    hihat = np.diff(white) * 0.3 * np.exp(-t / 0.03)  # a first difference: the high frequencies
    return {"kick": kick, "snare": snare, "hihat": hihat}


def music(n: int, sr: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` samples of procedurally made music (module docstring), unit RMS, float64."""
    out = np.zeros(n)
    if n == 0:
        return out
    bpm = float(rng.uniform(90, 130))
    beat = max(1, round(60.0 / bpm * sr))
    root = 45 + int(rng.integers(0, 12))  # MIDI note of the key (A2..G#3)
    shift = int(rng.integers(0, 4))  # which chord the progression starts on
    notes = np.arange(round(2.5 * sr)) / sr
    drums = _drums(beat, sr, rng)
    for bar in range(n // (4 * beat) + 1):
        degree = _PROGRESSION[(bar + shift) % 4]
        triad = [_MAJOR[(degree + k) % 7] + 12 * ((degree + k) // 7) for k in (0, 2, 4)]
        freqs = [440.0 * 2 ** ((root + 12 + s - 69) / 12) for s in triad]
        bass = 440.0 * 2 ** ((root + triad[0] - 69) / 12)
        for b in range(4):
            at = (4 * bar + b) * beat
            if b in (0, 2):
                chord = sum(_tone(notes, f, rng) for f in freqs) * _envelope(len(notes), sr, 0.8)
                _strike(out, at, 0.3 * chord)
                _strike(out, at, drums["kick"])
            else:
                _strike(out, at, 0.7 * drums["snare"])
            short = notes[: 2 * beat]
            _strike(out, at, 0.5 * _tone(short, bass, rng, 4) * _envelope(len(short), sr, 0.3))
            _strike(out, at, drums["hihat"])
            _strike(out, at + beat // 2, drums["hihat"])
    return out / max(float(np.sqrt(np.mean(out**2))), 1e-12)


def phone_band(audio: np.ndarray, sr: int, low: float = 300.0, high: float = 3400.0) -> np.ndarray:
    """``audio`` through a telephone channel's band-pass (float32)."""
    from scipy.signal import butter, sosfilt

    nyq = sr / 2
    sos = butter(4, [low / nyq, min(high / nyq, 0.99)], btype="band", output="sos")
    return sosfilt(sos, np.asarray(audio, np.float64)).astype(np.float32)


def dc_offset(audio: np.ndarray, offset: float = 0.3) -> np.ndarray:
    """``audio`` + ``offset`` (float32, not clipped)."""
    return (np.asarray(audio, np.float64) + offset).astype(np.float32)
