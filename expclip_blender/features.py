"""Audio features for the speech-driven generator: per-utterance normalised log-mel at 100 frames/s.

Frame t describes the audio around time t / 100 s (centre-aligned, like ``librosa.feature.melspectrogram``
with ``center=True``), and an utterance of ``duration`` seconds gives ``ceil(duration * 100)`` frames, the
same frame count rule as the training targets (:func:`speech.coarticulation.num_frames`).

The STFT is plain numpy (strided frames + ``rfft``) rather than ``librosa.stft``: no numba JIT runs, so
the first call is as fast as the next. Frames are processed in blocks so an hour of audio never holds
its whole complex spectrogram in memory.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import numpy.typing as npt

from .audio import HighPass, mono_blocks
from .frames import num_frames

__all__ = ["EDGE_PAD_S", "FEATURE_RATE", "HOP", "N_FFT", "N_MELS", "SAMPLE_RATE", "WIN", "log_mel"]

SAMPLE_RATE = 16000
HOP = 160  # 10 ms -> 100 frames/s
WIN = 400  # 25 ms Hann window
N_FFT = 512
N_MELS = 80
FEATURE_RATE = SAMPLE_RATE / HOP  # 100.0 frames per second

# Power floor before the log (the audio is float in [-1, 1]; 1e-10 is about -100 dB below full scale).
_POWER_FLOOR = 1e-10
# Per-band std floor in natural-log units (~4.3 dB): silence or a near-constant hum stays near 0 instead
# of its tiny fluctuations being blown up to unit variance.
_MIN_STD = 1.0
# Room tone around the clip (see log_mel's ``pad_s``): 40 dB under the clip's RMS, white, from a fixed seed.
_ROOM_TONE_DB = -40.0
#: Room tone the generator hears before and after a clip, seconds: its receptive field (+-1.2 s), so no
#: frame of the clip sees where the input ends.
EDGE_PAD_S = 1.2
# Frames per STFT block: 1024 x 257 complex128 (numpy's FFT is double) is 4 MB, whatever the length.
_BLOCK = 1024


# Slaney's mel scale (Auditory Toolbox; librosa's default, htk=False): linear below 1 kHz, 200/3 Hz per
# mel, logarithmic above, 27 mels per factor 6.4.
_MEL_LINEAR_HZ = 200.0 / 3.0
_MEL_BREAK_HZ = 1000.0
_MEL_BREAK = _MEL_BREAK_HZ / _MEL_LINEAR_HZ
_MEL_LOG_STEP = np.log(6.4) / 27.0


def hz_to_mel(hz: npt.ArrayLike) -> np.ndarray:
    """Frequencies in Hz -> Slaney mels (as ``librosa.hz_to_mel(hz, htk=False)``)."""
    hz = np.asarray(hz, dtype=np.float64)
    log_part = _MEL_BREAK + np.log(np.maximum(hz, _MEL_BREAK_HZ) / _MEL_BREAK_HZ) / _MEL_LOG_STEP
    return np.where(hz >= _MEL_BREAK_HZ, log_part, hz / _MEL_LINEAR_HZ)


def mel_to_hz(mels: np.ndarray) -> np.ndarray:
    """Slaney mels -> Hz, the inverse of :func:`hz_to_mel`."""
    mels = np.asarray(mels, dtype=np.float64)
    log_part = _MEL_BREAK_HZ * np.exp(_MEL_LOG_STEP * (np.maximum(mels, _MEL_BREAK) - _MEL_BREAK))
    return np.where(mels >= _MEL_BREAK, log_part, mels * _MEL_LINEAR_HZ)


def mel_filters(
    sr: float, n_fft: int, n_mels: int, fmin: float = 0.0, fmax: float | None = None
) -> np.ndarray:
    """(n_mels, n_fft // 2 + 1) float32 triangular filters, Slaney-normalised (equal area per band).

    The same bank as ``librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax)``, in
    plain numpy: librosa (with numba and scipy) is a training dependency the extension does not ship.
    """
    fmax = sr / 2.0 if fmax is None else fmax
    fft_hz = np.fft.rfftfreq(n_fft, d=1.0 / sr)
    # n_mels + 2 band edges equally spaced in mels; band i rises from edge i to i + 1, falls to i + 2.
    edges_hz = mel_to_hz(np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), n_mels + 2))
    widths = np.diff(edges_hz)
    ramps = edges_hz[:, None] - fft_hz[None, :]
    rising = -ramps[:-2] / widths[:-1, None]
    falling = ramps[2:] / widths[1:, None]
    weights = np.maximum(0.0, np.minimum(rising, falling))
    weights *= (2.0 / (edges_hz[2:] - edges_hz[:-2]))[:, None]
    return weights.astype(np.float32)


@lru_cache(maxsize=1)
def _mel_basis() -> np.ndarray:
    """(N_FFT // 2 + 1, N_MELS) float32 Slaney mel filters, laid out for ``power @ basis``."""
    return np.ascontiguousarray(mel_filters(SAMPLE_RATE, N_FFT, N_MELS, 0.0, SAMPLE_RATE / 2).T)


@lru_cache(maxsize=1)
def _window() -> np.ndarray:
    # Periodic Hann, as scipy.signal.get_window("hann", WIN) (librosa's default).
    return (0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(WIN) / WIN)).astype(np.float32)


def log_mel(audio: np.ndarray, sample_rate: int, pad_s: float = 0.0) -> np.ndarray:
    """Audio at any sample rate -> (ceil(duration * 100) + 2 P, 80) float32 normalised log-mel.

    ``audio`` is ``(samples,)`` mono or ``(samples, channels)``, mixed down (channels averaged) here.

    Each band is standardised over the utterance (mean 0; std 1, or less where the band's std is below
    ``_MIN_STD``), so the generator does not depend on recording level or microphone colouring.

    ``pad_s`` (a whole number of 10 ms frames, P = pad_s * 100) surrounds the clip with quiet room tone
    first: frame P + t is time t / 100 of the clip. Dialogue is often trimmed right at the first and
    last sound; without the tone the generator would hear a clip that starts or stops mid-word as
    ending in silence (its training speech mostly had pauses at both ends) and shut the mouth early.
    """
    audio = np.asarray(audio, dtype=np.float32)
    if audio.ndim not in (1, 2):
        raise ValueError(f"audio must be (samples,) or (samples, channels), got shape {audio.shape}")
    if sample_rate <= 0:
        raise ValueError(f"sample_rate must be positive, got {sample_rate}")
    pad_frames = round(pad_s * FEATURE_RATE)
    if pad_frames < 0 or abs(pad_frames - pad_s * FEATURE_RATE) > 1e-6:
        raise ValueError(f"pad_s must be a whole number of 10 ms frames, got {pad_s}")
    n_clip = num_frames(len(audio) / float(sample_rate), FEATURE_RATE)
    if n_clip == 0:
        return np.zeros((0, N_MELS), np.float32)
    n_out = n_clip + 2 * pad_frames
    y = _padded_clip(audio, int(sample_rate), n_clip, pad_frames)
    # librosa centres the WIN-long window inside the N_FFT frame; taking WIN samples from that offset and
    # letting rfft zero-pad to N_FFT is a circular shift of the same frame, so the magnitudes are identical.
    offset = (N_FFT - WIN) // 2
    frames = np.lib.stride_tricks.sliding_window_view(y[offset:], WIN)[::HOP][:n_out]
    assert len(frames) == n_out, (len(frames), n_out)

    window, basis = _window(), _mel_basis()
    out = np.empty((n_out, N_MELS), np.float32)
    # Band sums and sums of squares gathered per block (float64): out.std(dtype=float64) would make a
    # float64 copy of the whole spectrogram.
    total, total_sq = np.zeros(N_MELS), np.zeros(N_MELS)
    for start in range(0, n_out, _BLOCK):
        spec = np.fft.rfft(frames[start : start + _BLOCK] * window, n=N_FFT, axis=-1)
        power = (spec.real**2 + spec.imag**2).astype(np.float32)
        block = np.log(np.maximum(power @ basis, _POWER_FLOOR))
        out[start : start + _BLOCK] = block
        block64 = block.astype(np.float64)
        total += block64.sum(axis=0)
        total_sq += (block64 * block64).sum(axis=0)

    mean = total / n_out
    std = np.sqrt(np.maximum(total_sq / n_out - mean * mean, 0.0))
    out -= mean.astype(np.float32)
    out /= np.maximum(std, _MIN_STD).astype(np.float32)
    return out


def _padded_clip(audio: np.ndarray, sample_rate: int, n_clip: int, pad_frames: int) -> np.ndarray:
    """The clip mixed down, at 16 kHz and high-passed (:class:`.audio.HighPass`: a DC offset or rumble
    must not move the mouth), inside the padding the centred frames need. Built block by block into one
    buffer: an hour is 230 MB at 16 kHz, against 1.4 GB for the 48 kHz stereo it may come from."""
    # Centre frames on t * HOP: pad N_FFT // 2 on the left (reflect, as librosa; zeros when too short to
    # reflect), and enough on the right that the last frame exists even if resampling rounded short.
    half, room = N_FFT // 2, pad_frames * HOP
    left = room + half
    # Room for the resampled length, whatever soxr rounds it to (the exact count is known at the end).
    n_max = len(audio) if sample_rate == SAMPLE_RATE else round(len(audio) * SAMPLE_RATE / sample_rate) + 64
    buf = np.zeros(left + n_max + max(half, (n_clip - 1) * HOP + half - (n_max - 128) + 1) + room, np.float32)
    filt, n_y = HighPass(SAMPLE_RATE), 0
    for block in mono_blocks(audio, sample_rate, SAMPLE_RATE):
        if not np.isfinite(block).all():
            block = np.nan_to_num(block, nan=0.0, posinf=0.0, neginf=0.0)
        filt(block, out=buf[left + n_y : left + n_y + len(block)])
        n_y += len(block)
    right = max(half, (n_clip - 1) * HOP + half - n_y + 1) + room
    buf = buf[: left + n_y + right]
    clip = buf[left : left + n_y]
    if pad_frames:
        # Room tone stands in for the reflection too (noise reflected is noise).
        tone = _room_tone(left + right, clip)
        buf[:left], buf[left + n_y :] = tone[:left], tone[left:]
    elif n_y > half:
        reflect_right = min(right, n_y - 1)
        buf[:half] = clip[half:0:-1]
        buf[left + n_y : left + n_y + reflect_right] = clip[::-1][1 : 1 + reflect_right]
    return buf


def _room_tone(n: int, y: np.ndarray) -> np.ndarray:
    """``n`` samples of white noise ``_ROOM_TONE_DB`` under the RMS of ``y`` (fixed seed: deterministic)."""
    rms = float(np.sqrt(np.dot(y, y) / max(len(y), 1)))  # a BLAS dot: no squared copy of an hour of audio
    level = rms * 10.0 ** (_ROOM_TONE_DB / 20.0)
    return (np.random.default_rng(0).standard_normal(n) * level).astype(np.float32)
