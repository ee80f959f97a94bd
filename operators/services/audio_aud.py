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
"""

from __future__ import annotations

import os

import bpy  # noqa: F401  (with bpy as a Python module, aud is importable only once bpy is loaded)
import numpy as np

from ...expclip_blender.audio import (
    ONE_FRAME,
    AudioError,
    check_audio_file,
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


def load_audio_with_aud(
    path: str | os.PathLike, sample_rate: int = 16000, *, min_duration: float = ONE_FRAME
) -> np.ndarray:
    """Decode an audio file with Blender's ``aud`` to mono float32 samples at ``sample_rate`` Hz (1-D).

    Raises the core AudioError (naming the file, the problem and what to do) for missing, empty,
    undecodable, non-finite or too-short audio. Where Blender has no ``aud``, the core loader is used.
    """
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
        data = sound.data()  # (frames, channels) float32 at the file's own rate
        # aud's length is what the container states (an MP3's Xing count, FFmpeg's estimate); for a
        # WAV it is clamped to the bytes present, so the header's data size is read instead.
        wav = wav_stated_frames(p)
        stated = wav if wav is not None else int(getattr(sound, "length", 0) or 0)
    except aud.error as err:  # type: ignore[misc]  # an Exception subclass; the stubs declare a bare class
        # aud says only "The file couldn't be read with any installed file reader." for every bad file.
        raise AudioError(
            path,
            "Blender cannot decode it (the file is damaged or is not an audio or video file)",
            "Re-export it as WAV, FLAC, OGG or MP3.",
        ) from err
    mono = validate_audio(to_mono(data), rate, path, min_duration)
    warn_if_truncated(path, len(mono), stated, rate, exact=wav is not None)  # an AudioWarning
    return resample(mono, round(rate), sample_rate)
