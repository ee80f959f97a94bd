"""Load speech audio as mono float32 at a requested sample rate (outside Blender).

soundfile (libsndfile 1.2, bundled in its wheels) decodes WAV, FLAC, OGG/Vorbis, OGG/Opus, MP3, AIFF and
more. Formats libsndfile does not know (AAC/M4A, WMA...) go through audioread, which needs FFmpeg or
GStreamer on the system. Inside Blender, ``operators.services.audio_aud`` decodes with Blender's own ``aud``
instead and shares the checks below, so both loaders fail the same way with the same messages.

This module never imports bpy or aud, and imports soundfile only when :func:`load_audio` runs: the extension
does not ship soundfile (Blender's ``aud`` decodes there), yet needs the checks and resampling below.
"""

from __future__ import annotations

import os
import struct
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np

__all__ = [
    "AudioError",
    "AudioWarning",
    "HighPass",
    "StreamResampler",
    "all_finite",
    "check_audio_file",
    "check_decoded",
    "highpass",
    "load_audio",
    "mono_blocks",
    "resample",
    "to_mono",
    "validate_audio",
    "warn_if_truncated",
    "wav_stated_frames",
]

# One animation frame at 30 fps: anything shorter cannot drive even a single keyframe.
ONE_FRAME = 1.0 / 30.0

_CHOOSE_OTHER = "Choose a WAV, FLAC, OGG or MP3 file that contains speech."


class AudioError(ValueError):
    """An audio file cannot be used. The message names the file, the problem and what to do."""

    def __init__(self, path: str | os.PathLike, problem: str, hint: str = _CHOOSE_OTHER) -> None:
        self.path = str(path)
        self.problem = problem
        self.hint = hint
        message = f"Cannot read audio file '{self.path}': {problem}."
        super().__init__(f"{message} {hint}" if hint else message)

    def __reduce__(self):  # keep the exception picklable despite the custom __init__
        return type(self), (self.path, self.problem, self.hint)


class AudioWarning(UserWarning):
    """An audio file decodes, but not as it should (it is shorter than it says): the message says what."""


def wav_stated_frames(path: str | os.PathLike) -> int | None:
    """Frames a RIFF WAV file's header states (its data chunk's size), or None for other files and for
    headers that state no length (streamed WAVs write 0 or 0xFFFFFFFF; RF64 keeps it elsewhere)."""
    try:
        with open(path, "rb") as f:
            head = f.read(12)
            if len(head) < 12 or head[:4] != b"RIFF" or head[8:] != b"WAVE":
                return None
            block_align = 0
            for _ in range(64):  # chunks before the data: fmt, fact, LIST...; a sane file has a few
                chunk = f.read(8)
                if len(chunk) < 8:
                    return None
                size = struct.unpack("<I", chunk[4:])[0]
                if chunk[:4] == b"fmt ":
                    fmt = f.read(size + (size & 1))
                    block_align = struct.unpack("<H", fmt[12:14])[0] if len(fmt) >= 14 else 0
                elif chunk[:4] == b"data":
                    stated = block_align > 0 and 0 < size < 0xFFFFFFFF
                    return size // block_align if stated else None
                else:
                    f.seek(size + (size & 1), os.SEEK_CUR)
    except OSError:
        return None
    return None


def warn_if_truncated(
    path: str | os.PathLike, decoded: int, stated: int | None, rate: float, exact: bool
) -> None:
    """Issue an :class:`AudioWarning` when ``decoded`` frames fall short of the ``stated`` ones (both at
    ``rate``): a file cut off while copying decodes silently to its first part. ``exact`` (a WAV header)
    allows one frame of slack; estimates (MP3 Xing headers, FFmpeg's) 0.25 s or 2%."""
    if not stated or rate <= 0:
        return
    slack = 1 if exact else max(0.25 * rate, 0.02 * stated)
    if stated - decoded > slack:
        warnings.warn(
            f"'{Path(path).name}' is truncated: {decoded / rate:.2f} s decoded of the {stated / rate:.2f} s "
            "its header states, so the rest of the speech is missing. Copy or export the file again.",
            AudioWarning,
            stacklevel=3,
        )


def check_audio_file(path: str | os.PathLike) -> Path:
    """Raise AudioError unless ``path`` is an existing, non-empty regular file; return it as a Path."""
    p = Path(path)
    try:
        exists, is_dir = p.exists(), p.is_dir()
        size = p.stat().st_size if exists else 0
    except OSError as err:  # e.g. a folder on the way that may not be listed
        raise AudioError(
            path, f"it cannot be opened ({err.strerror})", "Check the file's permissions."
        ) from err
    if not exists and str(path).startswith("//"):
        # A Blender-relative path that reached code without bpy (an existing "//server/share" UNC path
        # on Windows is fine, hence only when nothing is there).
        raise AudioError(
            path,
            "the path is relative to the .blend file ('//')",
            "Make it absolute first (bpy.path.abspath) or choose the file again.",
        )
    if not exists:
        raise AudioError(path, "the file does not exist", "Check the path or choose the file again.")
    if is_dir:
        raise AudioError(path, "this is a folder, not a file", _CHOOSE_OTHER)
    if size == 0:
        raise AudioError(path, "the file is empty (0 bytes)", _CHOOSE_OTHER)
    return p


def all_finite(samples: np.ndarray, block: int = 1 << 20) -> bool:
    """Whether every sample is a finite number; checked a block at a time (no full-length bool array)."""
    return all(np.isfinite(samples[i : i + block]).all() for i in range(0, len(samples), block))


def to_mono(samples: np.ndarray) -> np.ndarray:
    """Average the channels of ``(frames, channels)`` samples into 1-D float32 (1-D input passes through)."""
    samples = np.asarray(samples, dtype=np.float32)
    if samples.ndim == 2:
        # Averaging (not summing, as audaspace's rechannel(1) does) keeps full-scale stereo from clipping.
        samples = samples.mean(axis=1, dtype=np.float32) if samples.shape[1] > 1 else samples[:, 0]
    elif samples.ndim != 1:
        raise ValueError(f"expected (frames,) or (frames, channels) samples, got shape {samples.shape}")
    return np.ascontiguousarray(samples, dtype=np.float32)


def resample(samples: np.ndarray, sr_in: int, sr_out: int) -> np.ndarray:
    """Resample 1-D float32 samples from ``sr_in`` to ``sr_out`` Hz with soxr (what librosa's "soxr_hq" runs).

    soxr is called directly: librosa.resample does the same work but its first call imports scipy and
    numba, which costs seconds.
    """
    samples = np.asarray(samples, dtype=np.float32)
    if int(sr_in) == int(sr_out):
        return samples
    import soxr  # a dependency of librosa; imported here so a plain WAV at the right rate never needs it

    return soxr.resample(samples, sr_in, sr_out, quality="HQ").astype(np.float32, copy=False)


#: Corner of each of the two DC-blocking sections of :func:`highpass`, Hz (together -3 dB at about 31 Hz,
#: -14 dB at 10 Hz, 12 dB per octave below): under the lowest voice (~70 Hz), above DC and room rumble.
HIGHPASS_HZ = 20.0
# Samples per block of the recursion: a**-4096 at 20 Hz / 16 kHz is about e**32, well inside float64.
_HP_BLOCK = 4096


class HighPass:
    """DC offset and sub-audio rumble removed from a stream of 1-D float32 blocks (two cascaded one-pole
    DC blockers at ``HIGHPASS_HZ``), the filter state carried from block to block.

    Causal, one pass, no full-length temporaries: an hour of audio streams through it; its phase shift
    does not matter to the magnitude features fed to the generator. The state starts at the mean of the
    first block's opening ``1 / HIGHPASS_HZ`` s, so a clip that starts on an offset does not click.
    """

    def __init__(self, sample_rate: int) -> None:
        self.sample_rate = int(sample_rate)
        self.a = float(np.exp(-2.0 * np.pi * HIGHPASS_HZ / float(sample_rate)))
        k = np.arange(_HP_BLOCK, dtype=np.float64)
        self._grow, self._decay = self.a**-k, self.a**k
        self._states: list[float] | None = None

    def __call__(self, samples: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """The next block filtered, into ``out`` (same length, may be ``samples`` itself) or a new array."""
        x = np.asarray(samples, dtype=np.float32)
        y = np.empty_like(x) if out is None else out
        if len(x) == 0:
            return y
        if self._states is None:
            opening = x[: max(1, round(self.sample_rate / HIGHPASS_HZ))]
            self._states = [float(opening.mean(dtype=np.float64)), 0.0]  # 2nd section's input starts ~0
        a, states = self.a, self._states
        for start in range(0, len(x), _HP_BLOCK):
            block = x[start : start + _HP_BLOCK].astype(np.float64)
            m = len(block)
            for i, state in enumerate(states):
                # The one-pole low-pass lp[n] = a lp[n-1] + (1 - a) x[n] in closed form over the block.
                low = self._decay[:m] * (a * state + (1.0 - a) * np.cumsum(block * self._grow[:m]))
                states[i] = float(low[-1])
                block -= low
            y[start : start + m] = block
        return y


def highpass(samples: np.ndarray, sample_rate: int, out: np.ndarray | None = None) -> np.ndarray:
    """1-D float32 samples without DC offset and sub-audio rumble (:class:`HighPass` over the whole)."""
    return HighPass(sample_rate)(samples, out)


class StreamResampler:
    """Mono float32 blocks resampled from ``sr_in`` to ``sr_out`` Hz as one stream: soxr's stream, whose
    output over all blocks (the last one flagged, or an empty one flagged after them) is the same samples
    as :func:`resample` on the whole. At equal rates the blocks pass through."""

    def __init__(self, sr_in: int, sr_out: int) -> None:
        self._stream = None
        if int(sr_in) != int(sr_out):
            import soxr

            self._stream = soxr.ResampleStream(sr_in, sr_out, 1, dtype="float32", quality="HQ")

    def __call__(self, block: np.ndarray, last: bool = False) -> np.ndarray:
        """The resampled samples ``block`` completes (``last``: and the stream's tail)."""
        block = np.asarray(block, dtype=np.float32)
        if self._stream is None:
            return block
        return self._stream.resample_chunk(block, last=last)


def mono_blocks(samples: np.ndarray, sr_in: int, sr_out: int, seconds: float = 10.0) -> Iterator[np.ndarray]:
    """``(frames,)`` or ``(frames, channels)`` samples as mono float32 blocks at ``sr_out``, mixed down and
    resampled ``seconds`` of input at a time (:class:`StreamResampler`: the same samples as
    :func:`resample` on the whole), so an hour at 48 kHz is never held mixed down or resampled whole."""
    step = max(1, round(seconds * sr_in))
    stream = StreamResampler(sr_in, sr_out)
    for start in range(0, len(samples), step):
        yield stream(to_mono(samples[start : start + step]), last=start + step >= len(samples))


def check_decoded(
    frames: int, bad: int, sample_rate: float, source: str | os.PathLike, min_duration: float = ONE_FRAME
) -> None:
    """Raise AudioError naming ``source`` unless ``frames`` decoded mono samples, ``bad`` of them not
    finite, make usable audio (what :func:`validate_audio` checks, for audio decoded in blocks)."""
    if frames == 0:
        raise AudioError(source, "it contains no audio (0 samples)", _CHOOSE_OTHER)
    if bad:
        raise AudioError(
            source,
            f"{bad} of its {frames} samples are not numbers (NaN or infinity)",
            "The file is damaged; export it again from your audio editor.",
        )
    # Allow one sample of slack: resamplers round lengths, and a file of exactly min_duration must pass.
    if frames + 1 < min_duration * sample_rate:
        raise AudioError(
            source,
            f"it is too short ({frames / sample_rate * 1000:.1f} ms; at least {min_duration * 1000:.1f} ms, "
            "one animation frame, is needed)",
            "Choose a longer recording.",
        )


def validate_audio(
    samples: np.ndarray, sample_rate: float, source: str | os.PathLike, min_duration: float = ONE_FRAME
) -> np.ndarray:
    """Check decoded mono samples; return them unchanged or raise AudioError naming ``source``."""
    n = len(samples)
    bad = n - int(np.count_nonzero(np.isfinite(samples))) if n else 0
    check_decoded(n, bad, sample_rate, source, min_duration)
    return samples


def _decode_audioread(path: Path) -> tuple[np.ndarray, int]:
    """Decode with audioread (FFmpeg, GStreamer, Core Audio...) for formats libsndfile lacks."""
    with warnings.catch_warnings():
        # audioread's raw backend imports aifc/sunau, deprecated since Python 3.11.
        warnings.simplefilter("ignore", DeprecationWarning)
        import audioread

        with audioread.audio_open(str(path)) as f:
            pcm = b"".join(f)  # 16-bit signed little-endian, channels interleaved
            sr, channels = f.samplerate, f.channels
    data = np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0
    return data.reshape(-1, max(channels, 1)), sr


def load_audio(
    path: str | os.PathLike, sample_rate: int = 16000, *, min_duration: float = ONE_FRAME
) -> np.ndarray:
    """Decode an audio file to mono float32 samples at ``sample_rate`` Hz (1-D array).

    Channels are averaged; the rate is converted only when it differs. Raises AudioError (naming the file,
    the problem and what to do) for missing, empty, undecodable, non-finite or too-short audio.
    """
    if sample_rate <= 0:
        raise ValueError(f"sample_rate must be positive, got {sample_rate}")
    p = check_audio_file(path)
    try:
        import soundfile as sf
    except ImportError as err:
        raise AudioError(
            path,
            "no audio decoder is installed in this Python (the 'soundfile' package is missing)",
            "Inside Blender, the extension decodes with Blender's own audio library; outside it, "
            "run 'pip install soundfile'.",
        ) from err
    try:
        data, sr = sf.read(p, dtype="float32", always_2d=True)
    except sf.LibsndfileError as sf_err:
        # A format libsndfile reads (WAV, FLAC, OGG, MP3, AIFF...) that it cannot read is damaged: another
        # decoder would only salvage part of it, and only where FFmpeg happens to be installed.
        if p.suffix[1:].upper() in sf.available_formats():
            raise _unreadable(path) from sf_err
        try:
            data, sr = _decode_audioread(p)
        except Exception as ar_err:  # audioread raises its own errors, OSError, EOFError...
            raise _unreadable(path) from ar_err  # the traceback shows both decoders' errors
        if data.size == 0:  # FFmpeg "decodes" some garbage to nothing: that is not an empty recording
            raise _unreadable(path) from sf_err
    mono = validate_audio(to_mono(data), sr, path, min_duration)
    wav = wav_stated_frames(p)
    stated = wav if wav is not None else _soundfile_frames(p)
    warn_if_truncated(path, len(mono), stated, sr, exact=wav is not None)
    return resample(mono, sr, sample_rate)


def _unreadable(path: str | os.PathLike) -> AudioError:
    return AudioError(
        path,
        "it is not a readable audio file (it is damaged, or its format needs FFmpeg outside Blender)",
        "Re-export it as WAV, FLAC, OGG or MP3, or load it inside Blender.",
    )


def _soundfile_frames(path: Path) -> int | None:
    """Frames libsndfile says a (non-WAV) file holds: an MP3's Xing header count, for one."""
    import soundfile as sf

    try:
        return int(sf.info(path).frames)
    except Exception:
        return None
