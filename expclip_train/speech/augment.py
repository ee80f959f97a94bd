"""Audio augmentation for generator training: make clean and synthetic speech sound like real recordings.

Each augmentation is drawn from a seeded ``numpy.random.Generator``, so a training example is reproducible:

- *speed* (Kaldi-style speed perturbation, factor 0.9-1.1): resampling changes tempo and pitch together;
  the returned factor rescales the phone timings, so the targets stay in sync.
- *pitch* (+-2 semitones at constant tempo, ``librosa.effects.pitch_shift``): other voices' registers.
- *reverberation*: a synthetic room (exponentially decaying noise, RT60 0.15-0.7 s, with a direct path),
  mixed wet/dry.
- *band limits*: telephone-like (300-3400 Hz), a high-pass of 80-250 Hz, or a low-pass of 3.5-7 kHz.
- *background* (drawn by the caller, :func:`draw_background`, from its own seed stream): babble (2-6
  other speakers' clips at once) or procedurally made music in a random style (:func:`music_style`), mixed
  under the speech at a drawn SNR (its active level, :func:`.mixing.mix_at_snr`) after speed and pitch, so
  the room and the channel colour speech and background alike. The targets stay the clean clip's: the
  face follows the speaker, not the background (and rests in the speaker's pauses while others talk).
- *noise*: white, pink or brown noise at 5-35 dB SNR relative to the speech.
- *gain*: -25 to +10 dB, hard-clipped at full scale (a clipped, hot recording happens).

Training only: this imports librosa and scipy, which the runtime does not need.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from expclip_blender.audio import resample

from .mixing import MusicStyle, babble, mix_at_snr, music

__all__ = ["AugmentResult", "Background", "augment", "draw_background", "music_style"]

# Draws the babble's talkers: (how many, rng) -> their clips (other speakers only; maybe fewer).
Talkers = Callable[[int, np.random.Generator], list[np.ndarray]]


@dataclass
class AugmentResult:
    """An augmented clip: ``audio`` at the input rate; phone times must be divided by ``speed``."""

    audio: np.ndarray
    speed: float
    applied: list[str]


@dataclass
class Background:
    """A sound to mix under the speech: ``make(n)`` gives ``n`` samples of it (called once), at ``snr_db``
    below the speech's active level."""

    name: str
    snr_db: float
    make: Callable[[int], np.ndarray]


def music_style(rng: np.random.Generator) -> MusicStyle:
    """A random style of :func:`.mixing.music`: tempo, mode, timbre, the parts' levels, with or without
    drums and melody (a wider spread than the report's one style, which it contains)."""
    lo = float(rng.uniform(60.0, 150.0))
    return MusicStyle(
        bpm=(lo, lo + 30.0),
        minor=bool(rng.random() < 0.4),
        harmonics=int(rng.integers(2, 11)),
        rolloff=float(rng.uniform(0.6, 2.0)),
        chord_level=float(rng.uniform(0.1, 0.5)),
        chord_decay_s=float(rng.uniform(0.2, 2.0)),
        bass_level=float(rng.uniform(0.0, 0.8)),
        drum_level=0.0 if rng.random() < 0.3 else float(rng.uniform(0.3, 1.2)),
        melody_level=0.0 if rng.random() < 0.4 else float(rng.uniform(0.1, 0.5)),
        wavetable=True,  # the data preparation makes hundreds of pieces
    )


def draw_background(
    rng: np.random.Generator,
    sr: int,
    *,
    babble_share: float,
    music_share: float,
    snr_db: tuple[float, float],
    talkers: tuple[int, int],
    draw_talkers: Talkers | None,
) -> Background | None:
    """Babble (``babble_share`` of the draws; from ``draw_talkers``, None: no babble), music
    (``music_share``) or nothing, at an SNR drawn uniformly in ``snr_db``; ``talkers``: the babble's
    (fewest, most) talkers."""
    if babble_share < 0 or music_share < 0 or babble_share + music_share > 1:
        raise ValueError(
            f"babble and music shares must be >= 0 and sum to <= 1, not {babble_share}, {music_share}"
        )
    u = float(rng.random())
    snr = float(rng.uniform(*snr_db))
    if u < babble_share and draw_talkers is not None:
        clips = draw_talkers(int(rng.integers(talkers[0], talkers[1] + 1)), rng)
        if not clips:
            return None
        seed = int(rng.integers(2**63))
        return Background(
            f"babble {len(clips)} talkers {snr:.0f} dB", snr,
            lambda n: babble(clips, n, sr, np.random.default_rng(seed)),
        )  # fmt: skip
    if babble_share <= u < babble_share + music_share:
        style, seed = music_style(rng), int(rng.integers(2**63))
        return Background(
            f"music {snr:.0f} dB", snr, lambda n: music(n, sr, np.random.default_rng(seed), style)
        )
    return None


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


def augment(
    audio: np.ndarray,
    sr: int,
    rng: np.random.Generator,
    strength: float = 1.0,
    background: Background | None = None,
) -> AugmentResult:
    """A randomly degraded copy of ``audio`` (1-D float32 at ``sr``); ``strength`` scales how often each
    augmentation is applied (1 = the rates below); ``background`` (drawn by the caller) is mixed in after
    speed and pitch. ``rng`` draws the same augmentations with or without a background."""
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
    if background is not None and len(y):
        y = mix_at_snr(y, background.make(len(y)), background.snr_db, sr).astype(np.float64)
        applied.append(background.name)
    if rng.random() < 0.35 * strength and len(y):
        level = max(float(np.sqrt(np.mean(y**2))), 1e-8)  # the speech's, with any background
        y = fftconvolve(y, _room(sr, rng))[: len(y)]
        y *= level / max(float(np.sqrt(np.mean(y**2))), 1e-8)
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
