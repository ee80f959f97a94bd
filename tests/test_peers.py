"""The lip-sync peers' adapters (expclip_train.evaluation.peers): pylipsync, openfacefx -> ARKit weights."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from expclip_blender.arkit import NUM_ARKIT
from expclip_train.evaluation import peers

pytest.importorskip("pylipsync", reason="the eval extra is not installed")
pytest.importorskip("openfacefx", reason="the eval extra is not installed")

SR = 16000


def vowel(seconds: float, sr: int = SR, f0: float = 140.0, amp: float = 0.3) -> np.ndarray:
    """An /a/-like vowel: harmonics of f0 shaped by three formants (730, 1090, 2440 Hz)."""
    t = np.arange(round(seconds * sr)) / sr
    out = np.zeros_like(t)
    for k in range(1, int(sr / 2 / f0)):
        f = k * f0
        gain = sum(1.0 / (1.0 + ((f - fc) / bw) ** 2) for fc, bw in ((730, 90), (1090, 110), (2440, 170)))
        out += gain / math.sqrt(k) * np.sin(2 * np.pi * f * t + k)
    return (out * amp / np.max(np.abs(out))).astype(np.float32)


def silence(seconds: float, sr: int = SR) -> np.ndarray:
    return np.zeros(round(seconds * sr), np.float32)


@pytest.fixture(scope="module")
def template_audio() -> dict[str, np.ndarray]:
    """pylipsync's own recordings of its vowels (shipped in its wheel), as 16 kHz mono."""
    import pylipsync

    from expclip_blender.audio import resample, to_mono

    root = Path(pylipsync.__file__).parent / "phonemes" / "audio"
    out = {}
    for name in ("aa", "ou", "oh", "ih"):
        path = next(p for p in sorted((root / name).iterdir()) if p.suffix in (".mp3", ".wav", ".flac"))
        data, sr = sf.read(path, dtype="float32", always_2d=True)
        out[name] = resample(to_mono(data), sr, SR)
    return out


@pytest.mark.parametrize("name", sorted(peers.PEERS))
@pytest.mark.parametrize(
    ("seconds", "sr", "fps"), [(1.0, 16000, 30.0), (0.37, 44100, 24.0), (2.0, 8000, 60.0)]
)
def test_shape_range_and_length(name, seconds, sr, fps):
    audio = np.concatenate([silence(seconds / 2, sr), vowel(seconds / 2, sr)])
    w = peers.peer_weights(name, audio, sr, fps)
    n = math.ceil(len(audio) / sr * fps - 1e-6)
    assert w.shape == (n, NUM_ARKIT) and w.dtype == np.float32
    assert np.all(np.isfinite(w)) and w.min() >= 0.0 and w.max() <= 1.0
    ap = peers.aperture(w)
    assert ap.shape == (n,) and ap.min() >= 0.0 and ap.max() <= 1.0


@pytest.mark.parametrize("name", sorted(peers.PEERS))
def test_opens_on_a_vowel_not_in_silence(name):
    # 0.5 s silence, 0.6 s vowel, 0.5 s silence: the mouth opens on the vowel, at the vowel's time.
    audio = np.concatenate([silence(0.5), vowel(0.6), silence(0.5)])
    ap = peers.aperture(peers.peer_weights(name, audio, SR, 30.0))
    t = np.arange(len(ap)) / 30.0
    during = ap[(t >= 0.6) & (t <= 1.0)]
    before = ap[t <= 0.4]
    assert during.mean() > 0.2
    assert before.max() < 0.02
    assert during.mean() > 10 * max(before.mean(), 1e-3)
    assert np.all(peers.aperture(peers.peer_weights(name, silence(1.0), SR, 30.0)) == 0.0)


def test_pylipsync_mapping_on_its_own_recordings(template_audio):
    """Its A opens the mouth more than its U; its U and O round the lips, its A and I do not."""
    ap = {k: peers.aperture(peers.pylipsync_weights(a, SR)).mean() for k, a in template_audio.items()}
    rnd = {k: peers.rounding(peers.pylipsync_weights(a, SR)).mean() for k, a in template_audio.items()}
    assert ap["aa"] > 1.5 * ap["ou"]
    assert min(rnd["ou"], rnd["oh"]) > 0.3
    assert max(rnd["aa"], rnd["ih"]) < 0.1


def test_openfacefx_rounding_follows_loudness():
    """Energy mode: its only rounded viseme (O) grows with loudness; no loudness, no rounding."""
    quiet = np.concatenate([vowel(0.6, amp=0.3), silence(0.1)])
    mixed = np.concatenate([vowel(0.6, amp=0.3), vowel(0.6, amp=0.03), silence(0.1)])
    w = peers.openfacefx_weights(mixed, SR)
    r = peers.rounding(w)
    t = np.arange(len(r)) / 30.0
    assert r[(t > 0.2) & (t < 0.55)].mean() > r[(t > 0.8) & (t < 1.15)].mean() > 0.0
    assert peers.openfacefx_weights(quiet, SR).shape[0] == math.ceil(0.7 * 30 - 1e-6)


def test_short_clip_and_determinism():
    a = vowel(0.02)  # shorter than one pylipsync hop
    for name in peers.PEERS:
        w1 = peers.peer_weights(name, a, SR, 30.0)
        assert w1.shape == (1, NUM_ARKIT)
        b = np.concatenate([silence(0.2), vowel(0.4)])
        assert np.array_equal(peers.peer_weights(name, b, SR), peers.peer_weights(name, b, SR))


@pytest.mark.parametrize(
    ("audio", "sr", "fps", "match"),
    [
        (np.zeros((100, 2), np.float32), SR, 30.0, "1-D mono"),
        (np.zeros(0, np.float32), SR, 30.0, "empty"),
        (np.full(1000, np.nan, np.float32), SR, 30.0, "NaN"),
        (np.zeros(1000, np.float32), 4000, 30.0, "at least 8000"),
        (np.zeros(1000, np.float32), SR, 0.0, "fps"),
    ],
)
def test_bad_input(audio, sr, fps, match):
    for name in peers.PEERS:
        with pytest.raises(ValueError, match=match):
            peers.peer_weights(name, audio, sr, fps)


def test_unknown_peer_and_availability():
    with pytest.raises(ValueError, match="unknown peer"):
        peers.peer_weights("rhubarb", vowel(0.1), SR)
    assert peers.peer_available("pylipsync") and peers.peer_available("openfacefx")


def test_one_viseme_table_for_both_peers():
    table = peers.arkit_viseme_table()
    assert set(peers.PYLIPSYNC_VISEMES.values()) <= set(table)
    for row in table.values():
        assert row.shape == (NUM_ARKIT,) and row.min() >= 0.0
    # the open vowel opens wider than the tight rounded one; the rounded ones carry funnel + pucker
    assert peers.aperture(table["aa"][None])[0] > peers.aperture(table["U"][None])[0]
    assert peers.rounding(table["U"][None])[0] > 1.0 and peers.rounding(table["aa"][None])[0] == 0.0
