"""Audio files the audio tests write for themselves: the format x rate x channel matrix and test tones.

Shared by tests/test_audio.py (core loader) and tests/test_audio_blender.py (Blender's aud loader).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

# (file suffix, soundfile format, subtype, lossy)
FORMATS = {
    "wav-pcm16": (".wav", "WAV", "PCM_16", False),
    "wav-float32": (".wav", "WAV", "FLOAT", False),
    "wav-pcm-u8": (".wav", "WAV", "PCM_U8", False),
    "flac": (".flac", "FLAC", "PCM_16", False),
    "ogg-vorbis": (".ogg", "OGG", "VORBIS", True),
    "mp3": (".mp3", "MP3", "MPEG_LAYER_III", True),
}
RATES = (8000, 22050, 44100, 48000, 96000)
# Two tones below 4 kHz so they survive every rate, including 8 kHz (Nyquist 4 kHz).
F_LEFT, A_LEFT = 440.0, 0.6
F_RIGHT, A_RIGHT = 1000.0, 0.2


def format_cases() -> list:
    # MPEG audio has no rate above 48 kHz (no encoder writes one), so MP3 skips 96 kHz.
    return [
        pytest.param(name, rate, channels, id=f"{name}-{rate}-{channels}ch")
        for name in FORMATS
        for rate in RATES
        for channels in (1, 2)
        if not (name == "mp3" and rate > 48000)
    ]


def tone_signal(rate: int, channels: int, duration: float = 1.0) -> np.ndarray:
    """(frames, channels) float32: left 0.6 x 440 Hz, right 0.2 x 1000 Hz; mono files get the left tone."""
    t = np.arange(round(duration * rate)) / rate
    left = A_LEFT * np.sin(2 * np.pi * F_LEFT * t)
    right = A_RIGHT * np.sin(2 * np.pi * F_RIGHT * t)
    return np.stack([left, right][:channels], axis=1).astype(np.float32)


def write_file(path: Path, data: np.ndarray, rate: int, fmt: str) -> Path:
    _suffix, container, subtype, _lossy = FORMATS[fmt]
    sf.write(path, data, rate, format=container, subtype=subtype)
    return path


def tone_amplitude(y: np.ndarray, rate: int, freq: float) -> float:
    """Amplitude of the sinusoid at ``freq`` (Hann-windowed projection, so other tones do not leak in)."""
    w = np.hanning(len(y))
    t = np.arange(len(y)) / rate
    return float(2 * abs(np.sum(w * y * np.exp(-2j * np.pi * freq * t))) / np.sum(w))
