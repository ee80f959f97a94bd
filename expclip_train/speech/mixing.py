"""Sounds under speech, shared by the training augmentation and the report's robustness check.

- :func:`active_rms`: a clip's speech level, measured over its *active* frames (pauses do not lower it).
- :func:`mix_at_snr`: noise under the speech at a signal-to-noise ratio, the speech measured by its
  active level, the noise by its plain RMS.
- :func:`babble`: several other talkers at once: the given recordings (other speakers), each looped to the
  clip's length from a random start and brought to the same active level, summed.
- :func:`music`: music synthesised here, so nothing is downloaded and every run hears the same piece for
  a seed. The default :class:`MusicStyle` (the report's): a four-chord progression (I-V-vi-IV and its
  rotations) in a random major key at 90-130 beats a minute, the chords struck on beats 1 and 3 as
  harmonic tones (six harmonics at 1/k amplitude, 10 ms attack, exponential decay) over a bass note on
  every beat, and a drum pattern: a kick (a sine falling from 120 to 50 Hz) on beats 1 and 3, a snare
  (noise and a 180 Hz tone) on 2 and 4, a hi-hat (high-passed noise) on every eighth. Other styles
  change the tempo range, the mode, the timbre (harmonics and their roll-off), the parts' levels and
  decays, and may add a melody (a random walk on the scale, a note every eighth).

Every function is deterministic given its ``numpy.random.Generator``; the input is never modified.
Who draws what (seeds, levels, talkers) is the caller's: the training augmentation
(:mod:`.augment`) and the evaluation (:mod:`..evaluation.degrade`) use separate seed streams.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["MusicStyle", "active_rms", "babble", "mix_at_snr", "music"]

FRAME_S = 0.02  # active-level frames
ACTIVE_RANGE_DB = 30.0  # frames this far below the loud speech (95th percentile frame) count as pauses
_MAJOR = (0, 2, 4, 5, 7, 9, 11)  # semitones of the major scale's degrees
_MINOR = (0, 2, 3, 5, 7, 8, 10)  # natural minor
_PROGRESSION = (0, 4, 5, 3)  # I V vi IV, as scale degrees (0-based)


@dataclass(frozen=True)
class MusicStyle:
    """How :func:`music` sounds; the defaults are the report's piece."""

    bpm: tuple[float, float] = (90.0, 130.0)  # the tempo is drawn in this range
    minor: bool = False
    harmonics: int = 6  # of each chord tone; harmonic k at amplitude 1 / k**rolloff
    rolloff: float = 1.0
    chord_level: float = 0.3
    chord_decay_s: float = 0.8
    bass_level: float = 0.5
    drum_level: float = 1.0  # 0: no drums
    melody_level: float = 0.0  # 0: no melody
    wavetable: bool = False  # tones read from a one-period table: several times faster, the same within 1e-3


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


_TABLE = 4096  # samples of one period in a wavetable


def _tone(t: np.ndarray, f0: float, rng: np.random.Generator, harmonics: int = 6, rolloff: float = 1.0,
          table: bool = False) -> np.ndarray:  # fmt: skip
    """A harmonic tone: harmonic k at 1 / k**rolloff, random phases. ``table``: read one period, made
    once, at each sample's phase (linear interpolation; within 1e-3 of the sum, at any harmonic count)."""
    phases = rng.uniform(0, 2 * np.pi, harmonics)
    if table:
        theta = 2 * np.pi * np.arange(_TABLE + 1) / _TABLE
        period = sum(np.sin(k * theta + phases[k - 1]) / k**rolloff for k in range(1, harmonics + 1))
        pos = np.mod(f0 * t, 1.0) * _TABLE
        i = pos.astype(np.intp)
        lo = period.take(i)
        return lo + (pos - i) * (period.take(i + 1) - lo)
    if rolloff == 1.0:  # the report's timbre, computed exactly as it always was
        return sum(np.sin(2 * np.pi * f0 * k * t + phases[k - 1]) / k for k in range(1, harmonics + 1))
    return sum(np.sin(2 * np.pi * f0 * k * t + phases[k - 1]) / k**rolloff for k in range(1, harmonics + 1))


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


def _midi_hz(note: float) -> float:
    return 440.0 * 2 ** ((note - 69) / 12)


def _melody(out: np.ndarray, beat: int, root: int, scale: tuple, style: MusicStyle, sr: int, rng) -> None:
    """A note every eighth, a random walk on the scale an octave above the chords."""
    step = max(1, beat // 2)
    t = np.arange(step) / sr
    env = _envelope(step, sr, 0.15)
    degree = int(rng.integers(0, 7))
    for at in range(0, len(out), step):
        degree = int(np.clip(degree + rng.integers(-2, 3), 0, 13))
        note = root + 24 + scale[degree % 7] + 12 * (degree // 7)
        _strike(out, at, style.melody_level * _tone(t, _midi_hz(note), rng, 3, 1.5, style.wavetable) * env)


def music(n: int, sr: int, rng: np.random.Generator, style: MusicStyle | None = None) -> np.ndarray:
    """``n`` samples of procedurally made music (module docstring), unit RMS, float64."""
    style = style or MusicStyle()
    out = np.zeros(n)
    if n == 0:
        return out
    bpm = float(rng.uniform(*style.bpm))
    beat = max(1, round(60.0 / bpm * sr))
    root = 45 + int(rng.integers(0, 12))  # MIDI note of the key (A2..G#3)
    shift = int(rng.integers(0, 4))  # which chord the progression starts on
    scale = _MINOR if style.minor else _MAJOR
    # A chord rings 2.5 s at most, or until it has decayed by 60 dB.
    notes = np.arange(round(min(2.5, 7.0 * style.chord_decay_s) * sr)) / sr
    drums = _drums(beat, sr, rng)
    dl = style.drum_level
    for bar in range(n // (4 * beat) + 1):
        degree = _PROGRESSION[(bar + shift) % 4]
        triad = [scale[(degree + k) % 7] + 12 * ((degree + k) // 7) for k in (0, 2, 4)]
        freqs = [_midi_hz(root + 12 + s) for s in triad]
        bass = _midi_hz(root + triad[0])
        for b in range(4):
            at = (4 * bar + b) * beat
            left = max(0, n - at)  # only what sounds before the end is computed (the draws are the same)
            if b in (0, 2):
                ring = notes[:left]
                chord = sum(
                    _tone(ring, f, rng, style.harmonics, style.rolloff, style.wavetable) for f in freqs
                )
                chord = chord * _envelope(len(notes), sr, style.chord_decay_s)[:left]
                _strike(out, at, style.chord_level * chord)
                _strike(out, at, dl * drums["kick"])
            else:
                _strike(out, at, 0.7 * dl * drums["snare"])
            short = notes[: min(2 * beat, left)]
            bass_tone = _tone(short, bass, rng, 4, 1.0, style.wavetable)
            _strike(out, at, style.bass_level * bass_tone * _envelope(len(short), sr, 0.3))
            _strike(out, at, dl * drums["hihat"])
            _strike(out, at + beat // 2, dl * drums["hihat"])
    if style.melody_level > 0:
        _melody(out, beat, root, scale, style, sr, rng)
    return out / max(float(np.sqrt(np.mean(out**2))), 1e-12)
