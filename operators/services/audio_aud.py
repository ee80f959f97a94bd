"""Decode audio inside Blender with its own audio library (``aud``: audaspace + FFmpeg).

``aud`` plays whatever a sound strip plays (WAV, FLAC, OGG, MP3, AAC, the audio of video files...), so
the extension decodes with it rather than soundfile. Only decoding is done by aud; the core
(``expclip_blender.audio``) averages the channels and converts the rate, because:

- audaspace's ``rechannel(1)`` sums stereo channels (twice as loud, clipping at full scale);
- its resamplers are aliased (quality 0 / ``high_quality=False``: a 10 kHz tone folds to 6 kHz at
  -1.5 dB) or slow (quality 2: about 2 s per minute of 44.1 kHz audio, against 0.03 s for soxr);
- ``Sound.resample`` changed signature: ``(rate, quality: int 0-3)`` in 5.0, ``(rate, high_quality:
  bool)`` in older audaspace, which raises TypeError for an int.

So both loaders return the same samples and raise the same AudioError, with the file and what to do.

PCM and float WAV files are decoded ``BLOCK_SECONDS`` at a time (``Sound.limit(start, end).data()``), each
block mixed down and fed to one resampling stream, so an hour at 48 kHz stereo (1.4 GB as float32) is never
held whole: the result is the same samples as a whole-file decode. Other formats are decoded whole, because
a seek in them does not land on the sample a decode from the start reaches (checked in 5.0.1): MP3 and Ogg
Vorbis apply encoder delay and pre-skip differently after a seek, and FLAC lands a sample late at some
positions (3 s into a 48 kHz file, for one), so blocks would not join up.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from pathlib import Path

import bpy  # noqa: F401  (with bpy as a Python module, aud is importable only once bpy is loaded)
import numpy as np

from ...expclip_blender.audio import (
    ONE_FRAME,
    AudioError,
    StreamResampler,
    check_audio_file,
    check_decoded,
    load_audio,
    resample,
    to_mono,
    validate_audio,
    warn_if_truncated,
    wav_stated_frames,
)

try:
    import aud
except ImportError:  # Blender built without audaspace (the bpy 4.2 wheel on PyPI): fall back to soundfile
    aud = None  # type: ignore[assignment]  # HAS_AUD guards every use

HAS_AUD: bool = aud is not None

#: Whole seconds of a seekable file decoded at a time (48 kHz stereo: 3.7 MB of float32).
BLOCK_SECONDS = 10

# WAVE format tags whose samples FFmpeg seeks to exactly: PCM, IEEE float, extensible (PCM/float inside).
_EXACT_WAV_TAGS = (0x0001, 0x0003, 0xFFFE)


def load_audio_with_aud(
    path: str | os.PathLike,
    sample_rate: int = 16000,
    *,
    min_duration: float = ONE_FRAME,
    block_seconds: int = BLOCK_SECONDS,
) -> np.ndarray:
    """Decode an audio file with Blender's ``aud`` to mono float32 samples at ``sample_rate`` Hz (1-D).

    PCM/float WAV files are decoded ``block_seconds`` (whole seconds) at a time: the same samples as whole.
    Raises the core AudioError (naming the file, the problem and what to do) for missing, empty,
    undecodable, non-finite or too-short audio. Where Blender has no ``aud``, the core loader is used.
    """
    if int(block_seconds) != block_seconds or block_seconds < 1:
        raise ValueError(f"block_seconds must be a whole number of seconds, got {block_seconds}")
    if not HAS_AUD:
        return load_audio(path, sample_rate, min_duration=min_duration)
    if sample_rate <= 0:
        raise ValueError(f"sample_rate must be positive, got {sample_rate}")
    p = check_audio_file(path)
    try:
        # Lazy: opens nothing yet. Sound(filename) is in aud's documentation; its stubs lack the constructor.
        sound = aud.Sound(str(p))  # type: ignore[call-arg]
        # Ask for specs before data(): specs raises aud.error on a file no reader can open, while data()
        # on such a file throws a C++ exception that aborts Blender (checked in 5.0.1).
        rate = sound.specs[0]
        # aud's length is what the container states (an MP3's Xing count, FFmpeg's estimate); for a
        # WAV it is clamped to the bytes present, so the header's data size is read instead.
        wav = wav_stated_frames(p)
        stated = wav if wav is not None else int(getattr(sound, "length", 0) or 0)
        if hasattr(sound, "limit") and rate == int(rate) and _seeks_exactly(p):
            blocks = _blocks(sound, int(rate), int(block_seconds))
            samples, frames = _mono_stream(blocks, rate, sample_rate, path, min_duration, stated)
        else:
            data = sound.data()  # (frames, channels) float32 at the file's own rate
            mono = validate_audio(to_mono(data), rate, path, min_duration)
            del data  # the multichannel copy goes before resampling allocates
            samples, frames = resample(mono, round(rate), sample_rate), len(mono)
    except aud.error as err:  # type: ignore[misc]  # an Exception subclass; the stubs declare a bare class
        # aud says only "The file couldn't be read with any installed file reader." for every bad file.
        raise AudioError(
            path,
            "Blender cannot decode it (the file is damaged or is not an audio or video file)",
            "Re-export it as WAV, FLAC, OGG or MP3.",
        ) from err
    warn_if_truncated(path, frames, stated, rate, exact=wav is not None)  # an AudioWarning
    return samples


def _seeks_exactly(path: Path) -> bool:
    """Whether a seek in ``path`` lands on the exact sample: a PCM or float WAV (not ADPCM, not FLAC...)."""
    try:
        with open(path, "rb") as f:
            head = f.read(22)
    except OSError:
        return False
    riff = head[:4] in (b"RIFF", b"RF64") and head[8:16] == b"WAVEfmt " and len(head) == 22
    return riff and struct.unpack("<H", head[20:22])[0] in _EXACT_WAV_TAGS


def _blocks(sound: aud.Sound, rate: int, seconds: int) -> Iterator[np.ndarray]:
    """The sound's ``(frames, channels)`` float32 samples, ``seconds`` at a time, to its end."""
    start = 0
    while True:
        # audaspace keeps limit()'s times as 32-bit floats and truncates time * rate to a sample: past a
        # few minutes a float32 time cannot name every sample, but whole seconds (up to 2**24 s) are exact
        # and, times an integer rate, land on exact samples, so blocks join without a sample lost or doubled.
        block = sound.limit(float(start), float(start + seconds)).data()
        if len(block):
            yield block
        if len(block) < seconds * rate:
            return
        start += seconds


def _mono_stream(
    blocks: Iterator[np.ndarray],
    rate: float,
    sample_rate: int,
    path: str | os.PathLike,
    min_duration: float,
    stated: int,
) -> tuple[np.ndarray, int]:
    """(``blocks`` mixed down, checked and resampled to ``sample_rate`` as one stream, their frame count).

    The output array is sized from the ``stated`` length (grown if the file holds more), so the result is
    never held twice; raises the AudioError :func:`validate_audio` would for the whole.
    """
    stream = StreamResampler(round(rate), sample_rate)
    out = _Growing(int(stated * sample_rate / rate) + 64)
    frames = bad = 0
    for block in blocks:
        mono = to_mono(block)
        frames += len(mono)
        bad += len(mono) - int(np.count_nonzero(np.isfinite(mono)))
        out.add(stream(mono))
    check_decoded(frames, bad, rate, path, min_duration)
    out.add(stream(np.zeros(0, np.float32), last=True))
    return out.result(), frames


class _Growing:
    """A float32 array filled at its end, its capacity doubled when it runs out."""

    def __init__(self, capacity: int) -> None:
        self.buf = np.empty(max(capacity, 1), np.float32)  # pages untouched until filled
        self.n = 0

    def add(self, samples: np.ndarray) -> None:
        end = self.n + len(samples)
        if end > len(self.buf):
            grown = np.empty(max(2 * len(self.buf), end), np.float32)
            grown[: self.n] = self.buf[: self.n]
            self.buf = grown
        self.buf[self.n : end] = samples
        self.n = end

    def result(self) -> np.ndarray:
        """The samples added; a copy where most of the buffer went unused (an overstated length)."""
        filled = self.buf[: self.n]
        return filled if self.n >= 0.9 * len(self.buf) else filled.copy()
