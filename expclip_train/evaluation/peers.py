"""Lip-sync peers on the same audio as the generator: ``pylipsync`` and ``openfacefx``, as ARKit weights.

Both peers run offline from audio alone (no transcript) and come from the ``eval`` extra
(``pip install -e ".[eval]"``). Each adapter returns ``(ceil(duration * fps), 52)`` float32 ARKit weights,
row i = the face at i / fps, like ``animate``, so the generator's metrics read them exactly as they read the
model: mouth aperture through :func:`speech.coarticulation.mouth_aperture`, rounding as mouthFunnel +
mouthPucker (:func:`aperture` and :func:`rounding` give these two signals directly).

Mapping
-------
*Viseme -> ARKit*: both peers go through ONE table, openfacefx's own ``arkit`` retarget preset
(``openfacefx.retarget.PRESETS["arkit"]``, "verified on an ARKit-rigged head" by its authors), so
differences between the peers come from their audio analysis, not from two retargets. Its vowel rows:
``aa`` jawOpen 0.6 + lip drop 0.1; ``E`` jawOpen 0.42 + stretch; ``I`` jawOpen 0.16 + stretch and smile;
``O`` jawOpen 0.42, funnel 0.7, pucker 0.42; ``U`` jawOpen 0.12, pucker 0.85, funnel 0.5.

*pylipsync* (a port of uLipSync: per-frame MFCCs matched to five Japanese vowel templates and silence;
each frame's scores are normalised to sum 1 and multiplied by the frame's loudness, or zeroed when
silence wins): its vowels map A ``aa`` -> ``aa``, I ``ih`` -> ``I``, U ``ou`` -> ``U``, E ``ee`` -> ``E``,
O ``oh`` -> ``O``; silence drives nothing. The face is the weighted sum of the vowel shapes (uLipSync's
blend-shape mixing), clipped to [0, 1]. Rounding: U and O carry funnel and pucker, so its rounding
signal is its U/O detection. It analyses 16 kHz audio in 64 ms windows every ``16000 // fps`` samples;
each window's result is placed at the window's centre and interpolated linearly to the frame times
(uLipSync's integer hop would otherwise drift by 0.06% at 30 fps, more than a frame per minute).

*openfacefx* energy mode (``generate_from_energy``: frame RMS, noise gate at 6% of the 95th percentile,
fast-attack/slow-release follower; it knows no phonemes by design): the loudness opening o in [0, 1]
drives ``aa`` = 0.75 o, ``E`` = 0.25 o (1 - o), ``O`` = 0.25 o^2 and ``sil`` = 1 - o (its defaults), then
its ``arkit`` retarget, sampled at the frame times the way its own retarget samples keys (linear,
holding the end values). Its only rounded viseme driven in this mode is ``O``, from loudness, so its
rounding signal is a loudness proxy. Its transcript mode is not used: the comparison is audio-only.
The peer reads 16-bit PCM WAV files only, so the audio goes through a temporary WAV.
"""

from __future__ import annotations

import functools
import math
import os
import tempfile
from collections.abc import Callable

import numpy as np

from expclip_blender.arkit import ARKIT_INDEX, NUM_ARKIT

from ..speech.coarticulation import frame_times, mouth_aperture, num_frames

__all__ = [
    "PEERS",
    "PYLIPSYNC_VISEMES",
    "PeerUnavailable",
    "aperture",
    "arkit_viseme_table",
    "openfacefx_weights",
    "peer_available",
    "peer_weights",
    "pylipsync_weights",
    "rounding",
]

#: pylipsync's phoneme templates -> the Oculus viseme whose ARKit shape plays them.
PYLIPSYNC_VISEMES: dict[str, str] = {"aa": "aa", "ih": "I", "ou": "U", "ee": "E", "oh": "O"}

_PEER_SAMPLE_RATE = 16000  # pylipsync analyses at 16 kHz (and only downsamples); openfacefx takes any rate
_MODULES = {"pylipsync": "pylipsync", "openfacefx": "openfacefx"}


class PeerUnavailable(RuntimeError):
    """A peer package is not installed."""

    def __init__(self, name: str) -> None:
        super().__init__(
            f"the lip-sync peer {name!r} is not installed; install the evaluation extra: "
            '.venv/bin/pip install -e ".[eval]" (or scripts/setup_env.sh)'
        )


def peer_available(name: str) -> bool:
    """True when the peer's package can be imported."""
    import importlib.util

    return importlib.util.find_spec(_MODULES[name]) is not None


def _check_audio(audio: np.ndarray, sample_rate: int, fps: float) -> tuple[np.ndarray, int]:
    a = np.asarray(audio, dtype=np.float32)
    if a.ndim != 1:
        raise ValueError(f"expected 1-D mono audio, got shape {a.shape}; average the channels first")
    if a.size == 0:
        raise ValueError("the audio is empty (0 samples)")
    if not np.all(np.isfinite(a)):
        raise ValueError("the audio contains NaN or infinite samples")
    if sample_rate < 8000:
        raise ValueError(f"sample rate must be at least 8000 Hz, got {sample_rate}")
    if not (fps > 0 and math.isfinite(fps)):
        raise ValueError(f"fps must be a positive number, got {fps}")
    return a, int(sample_rate)


@functools.cache
def arkit_viseme_table() -> dict[str, np.ndarray]:
    """openfacefx's ``arkit`` retarget preset as {viseme: (52,) ARKit weights at full viseme weight}."""
    try:
        from openfacefx.retarget import PRESETS
    except ImportError:
        raise PeerUnavailable("openfacefx") from None
    table = {}
    for viseme, parts in PRESETS["arkit"].items():
        row = np.zeros(NUM_ARKIT, np.float64)
        for channel, weight in parts:
            row[ARKIT_INDEX[channel]] += weight
        table[viseme] = row
    return table


@functools.cache
def _pylipsync_analyzer():
    try:
        from pylipsync import PhonemeAnalyzer
    except ImportError:
        raise PeerUnavailable("pylipsync") from None
    return PhonemeAnalyzer()  # its defaults: cosine similarity, silence threshold 0.3, bundled templates


def pylipsync_weights(audio: np.ndarray, sample_rate: int, fps: float = 30.0) -> np.ndarray:
    """pylipsync on ``audio`` -> (ceil(duration * fps), 52) float32 ARKit weights (module docstring)."""
    from expclip_blender.audio import resample

    a, sr = _check_audio(audio, sample_rate, fps)
    n = num_frames(len(a) / sr, fps)
    a16 = resample(a, sr, _PEER_SAMPLE_RATE)
    analyzer = _pylipsync_analyzer()
    hop_fps = max(1, round(fps))
    hop = _PEER_SAMPLE_RATE // hop_fps
    if len(a16) < hop:  # pylipsync refuses audio shorter than one hop: pad the tail with silence
        a16 = np.concatenate([a16, np.zeros(hop - len(a16), np.float32)])
    segments = analyzer.extract_phoneme_segments(a16, _PEER_SAMPLE_RATE, fps=hop_fps)
    # Each segment's window is centred half a hop after its start (pylipsync pads by (window - hop) / 2).
    centres = (np.array([s.start for s in segments], np.float64) + hop / 2) / _PEER_SAMPLE_RATE
    table = arkit_viseme_table()
    shapes = np.stack([table[v] for v in PYLIPSYNC_VISEMES.values()])  # (5, 52)
    targets = np.array(
        [[{p.name: p.target for p in s.phonemes}.get(k, 0.0) for k in PYLIPSYNC_VISEMES] for s in segments],
        np.float64,
    )  # (segments, 5)
    t = frame_times(n, fps)
    at_frames = np.stack([np.interp(t, centres, targets[:, j]) for j in range(targets.shape[1])], axis=1)
    return np.clip(at_frames @ shapes, 0.0, 1.0).astype(np.float32)


def _write_wav16(path: str, audio: np.ndarray, sample_rate: int) -> None:
    import soundfile as sf

    sf.write(path, np.clip(audio, -1.0, 1.0), sample_rate, subtype="PCM_16", format="WAV")


def openfacefx_weights(audio: np.ndarray, sample_rate: int, fps: float = 30.0) -> np.ndarray:
    """openfacefx's audio-energy mode on ``audio`` -> (ceil(duration * fps), 52) float32 ARKit weights."""
    try:
        from openfacefx.energy import generate_from_energy
        from openfacefx.retarget import PRESETS, retarget
    except ImportError:
        raise PeerUnavailable("openfacefx") from None
    a, sr = _check_audio(audio, sample_rate, fps)
    n = num_frames(len(a) / sr, fps)
    fd, path = tempfile.mkstemp(suffix=".wav", prefix="expclip-peer-")
    os.close(fd)
    try:
        _write_wav16(path, a, sr)
        track = generate_from_energy(path, fps=float(fps))  # its defaults otherwise
    finally:
        os.unlink(path)
    face = retarget(track, PRESETS["arkit"])
    t = frame_times(n, fps)
    out = np.zeros((n, NUM_ARKIT), np.float32)
    for ch in face.channels:
        if ch.name not in ARKIT_INDEX or not ch.keys:
            continue
        kt = np.array([k.time for k in ch.keys], np.float64)
        kv = np.array([k.value for k in ch.keys], np.float64)
        out[:, ARKIT_INDEX[ch.name]] = np.interp(t, kt, kv)  # linear, ends held: openfacefx's own sampler
    return np.clip(out, 0.0, 1.0)


PEERS: dict[str, Callable[[np.ndarray, int, float], np.ndarray]] = {
    "pylipsync": pylipsync_weights,
    "openfacefx": openfacefx_weights,
}


def peer_weights(name: str, audio: np.ndarray, sample_rate: int, fps: float = 30.0) -> np.ndarray:
    """ARKit weights of peer ``name`` (one of :data:`PEERS`) on ``audio``."""
    try:
        fn = PEERS[name]
    except KeyError:
        raise ValueError(f"unknown peer {name!r}; choose one of {sorted(PEERS)}") from None
    return fn(audio, sample_rate, fps)


def aperture(weights: np.ndarray) -> np.ndarray:
    """Mouth aperture per frame, in [0, 1] (the metrics' reading of the lips)."""
    return mouth_aperture(weights)


def rounding(weights: np.ndarray) -> np.ndarray:
    """Lip rounding per frame: mouthFunnel + mouthPucker (what ``rounding_auc`` compares)."""
    w = np.asarray(weights, np.float64)
    return w[:, ARKIT_INDEX["mouthFunnel"]] + w[:, ARKIT_INDEX["mouthPucker"]]
