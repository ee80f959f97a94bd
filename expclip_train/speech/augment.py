"""Audio augmentation for generator training: make clean and synthetic speech sound like real recordings.

Each augmentation is drawn from a seeded ``numpy.random.Generator``, so a training example is reproducible:

- *speed* (Kaldi-style speed perturbation, factor 0.9-1.1): resampling changes tempo and pitch together;
  the returned factor rescales the phone timings, so the targets stay in sync.
- *pitch* (+-2 semitones at constant tempo, ``librosa.effects.pitch_shift``): other voices' registers.
- *reverberation*: a synthetic room (exponentially decaying noise, RT60 0.15-0.7 s, with a direct path),
  mixed wet/dry.
- *band limits*: telephone-like (300-3400 Hz), a high-pass of 80-250 Hz, or a low-pass of 3.5-7 kHz.
- *noise*: white, pink or brown noise at 5-35 dB SNR relative to the speech.
- *gain*: -25 to +10 dB, hard-clipped at full scale (a clipped, hot recording happens).

Training only: this imports librosa and scipy, which the runtime does not need.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from expclip_blender.audio import resample

__all__ = ["AugmentResult", "augment"]


@dataclass
class AugmentResult:
    """An augmented clip: ``audio`` at the input rate; phone times must be divided by ``speed``."""

    audio: np.ndarray
    speed: float
    applied: list[str]


def _coloured_noise(n: int, kind: str, rng: np.random.Generator) -> np.ndarray:
    white = rng.standard_normal(n)
    if kind == "white" or n < 2:
        return white
    spectrum = np.fft.rfft(white)
    f = np.maximum(np.arange(len(spectrum)), 1.0)
    spectrum /= np.sqrt(f) if kind == "pink" else f
    noise = np.fft.irfft(spectrum, n)
    return noise / max(noise.std(), 1e-12)


def _room(sr: int, rng: np.random.Generator) -> np.ndarray:
    rt60 = rng.uniform(0.15, 0.7)
    n = int(rt60 * sr)
    t = np.arange(n) / sr
    ir = rng.standard_normal(n) * np.exp(-6.9 * t / rt60)  # -60 dB at rt60
    ir[: int(0.002 * sr)] = 0.0  # the first reflections arrive after the direct sound
    ir *= rng.uniform(0.2, 0.6) / max(np.sqrt(np.sum(ir**2)), 1e-12)
    ir[0] = 1.0
    return ir


def _band_limit(y: np.ndarray, sr: int, rng: np.random.Generator) -> tuple[np.ndarray, str]:
    from scipy.signal import butter, sosfilt

    kind = rng.choice(["phone", "highpass", "lowpass"])
    nyq = sr / 2
    if kind == "phone":
        sos = butter(4, [300 / nyq, min(3400 / nyq, 0.99)], btype="band", output="sos")
    elif kind == "highpass":
        sos = butter(2, rng.uniform(80, 250) / nyq, btype="high", output="sos")
    else:
        sos = butter(4, min(rng.uniform(3500, 7000) / nyq, 0.99), btype="low", output="sos")
    return sosfilt(sos, y), str(kind)


def augment(audio: np.ndarray, sr: int, rng: np.random.Generator, strength: float = 1.0) -> AugmentResult:
    """A randomly degraded copy of ``audio`` (1-D float32 at ``sr``); ``strength`` scales how often each
    augmentation is applied (1 = the rates below)."""
    from scipy.signal import fftconvolve

    y = np.asarray(audio, np.float64)
    applied: list[str] = []
    speed = 1.0
    if rng.random() < 0.6 * strength:
        speed = float(rng.uniform(0.9, 1.1))
        # Play the samples back `speed` times faster: resample to sr / speed and call it sr.
        y = resample(y.astype(np.float32), sr, max(1, round(sr / speed))).astype(np.float64)
        speed = len(audio) / max(len(y), 1)  # the factor the rounding actually gave
        applied.append(f"speed {speed:.3f}")
    if rng.random() < 0.3 * strength:
        import librosa

        steps = float(rng.uniform(-2.0, 2.0))
        y = librosa.effects.pitch_shift(y.astype(np.float32), sr=sr, n_steps=steps).astype(np.float64)
        applied.append(f"pitch {steps:+.2f} st")
    speech_rms = max(float(np.sqrt(np.mean(y**2))), 1e-8) if len(y) else 1e-8
    if rng.random() < 0.35 * strength and len(y):
        y = fftconvolve(y, _room(sr, rng))[: len(y)]
        y *= speech_rms / max(float(np.sqrt(np.mean(y**2))), 1e-8)
        applied.append("reverb")
    if rng.random() < 0.3 * strength and len(y) > 32:
        y, kind = _band_limit(y, sr, rng)
        applied.append(f"band {kind}")
    if rng.random() < 0.5 * strength and len(y):
        kind = str(rng.choice(["white", "pink", "brown"]))
        snr = rng.uniform(5.0, 35.0)
        y = y + _coloured_noise(len(y), kind, rng) * speech_rms * 10 ** (-snr / 20)
        applied.append(f"noise {kind} {snr:.0f} dB")
    if rng.random() < 0.6 * strength:
        db = float(rng.uniform(-25.0, 10.0))
        y = y * 10 ** (db / 20)
        applied.append(f"gain {db:+.1f} dB")
    y = np.clip(y, -1.0, 1.0)
    return AugmentResult(y.astype(np.float32), speed, applied)
