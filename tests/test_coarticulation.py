"""The lip-sync target model: shapes, determinism, and every metric satisfied by construction."""

from __future__ import annotations

import math

import numpy as np
import pytest
from phone_sequences import random_speech, seq

from expclip_blender.arkit import ARKIT_INDEX, MOUTH_NAMES, NUM_ARKIT
from expclip_train.speech.coarticulation import (
    CoarticulationParams,
    mouth_aperture,
    nonspeech_motion,
    num_frames,
    speech_targets,
    targets,
)
from expclip_train.speech.metrics import THRESHOLDS, lipsync_metrics, passes, pooled_metrics
from expclip_train.speech.phones import (
    BILABIALS,
    SIL,
)

FPS = (24.0, 25.0, 29.97, 30.0, 60.0)
MOUTH = [ARKIT_INDEX[n] for n in MOUTH_NAMES]


@pytest.mark.parametrize("fps", FPS)
@pytest.mark.parametrize("duration", [0.5, 1.0, 2.0, 3.337])
def test_length_is_ceil_duration_times_fps(fps, duration):
    w = targets(seq("SIL:0.1 P:0.1 AA:0.2"), fps, duration=duration)
    assert w.shape == (math.ceil(duration * fps - 1e-6), NUM_ARKIT) == (num_frames(duration, fps), NUM_ARKIT)
    assert w.dtype == np.float32 and w.min() >= 0.0 and w.max() <= 1.0


def test_exact_durations():
    assert num_frames(2.0, 30) == 60 and num_frames(2.0, 24) == 48 and num_frames(2.01, 30) == 61
    assert num_frames(1.0, 29.97) == 30
    with pytest.raises(ValueError):
        num_frames(1.0, 0)


def test_duration_defaults_to_audio_then_last_phone():
    phones = seq("SIL:0.2 M:0.1 AA:0.2")
    assert targets(phones, 30).shape[0] == 15
    assert targets(phones, 30, audio=np.zeros(16000, np.float32)).shape[0] == 30
    assert targets([], 30, duration=1.0).shape == (30, NUM_ARKIT)


def test_deterministic_and_seeded():
    phones = random_speech(1, 20.0)
    a = targets(phones, 30, seed=5)
    assert np.array_equal(a, targets(phones, 30, seed=5))
    b = targets(phones, 30, seed=6)
    assert not np.array_equal(a, b)
    assert np.array_equal(a[:, MOUTH], b[:, MOUTH])  # the seed moves only the non-speech motion


def test_every_fps_samples_the_same_motion():
    phones = random_speech(2)
    w30 = targets(phones, 30, seed=1)
    w60 = targets(phones, 60, seed=1)
    np.testing.assert_allclose(w60[::2][: len(w30)], w30, atol=1e-5)


@pytest.mark.parametrize("fps", FPS)
def test_bilabials_close_fully(fps):
    phones = seq("SIL:0.3 AA:0.15 P:0.03 AA:0.12 B:0.05 IY:0.1 M:0.04 AE:0.2 SIL:0.4")
    ap = mouth_aperture(targets(phones, fps))
    t = np.arange(len(ap)) / fps
    for p in phones:
        if p.label in BILABIALS:
            near = np.abs(t - np.clip(t, p.start, p.end)) <= 0.5 / fps
            assert ap[near].min() < 0.01, p


def test_lips_start_closing_before_the_bilabial():
    phones = seq("SIL:0.3 AA:0.4 P:0.08 AA:0.3 SIL:0.3")
    p = phones[2]
    fps = 200.0
    w = targets(phones, fps, nonspeech=False)
    ap = mouth_aperture(w)
    close = w[:, ARKIT_INDEX["mouthClose"]]

    def at(time):
        return round(time * fps)

    assert close[at(p.start - 0.08)] > 0.0  # closing has begun 80 ms ahead
    assert ap[at(p.start - 0.05)] < 0.8 * ap[at(p.start - 0.25)]
    assert ap[at(p.start)] < 0.01 and ap[at(p.end - 0.001)] < 0.01
    assert ap[at(p.end + 0.15)] > 0.5 * ap[at(p.start - 0.25)]  # and opens again after


def test_pauses_rest_relaxed_and_closed():
    phones = seq("SIL:0.5 B:0.06 AA:0.2 D:0.05 SIL:0.6 M:0.06 AA:0.2 SIL:0.5")
    w = targets(phones, 30)
    t = np.arange(len(w)) / 30
    for p in phones:
        if p.label == SIL:
            inside = (t >= p.start + 0.1) & (t <= p.end - 0.1)
            assert np.abs(w[inside][:, MOUTH]).max() < 1e-6


def test_rounding_and_spreading():
    phones = seq("SIL:0.3 UW:0.2 SIL:0.3 IY:0.2 SIL:0.3 OW:0.2 SIL:0.3")
    w = targets(phones, 100, nonspeech=False)

    def mid(p, name):
        return w[round(p.center * 100), ARKIT_INDEX[name]]

    uw, iy, ow = phones[1], phones[3], phones[5]
    assert mid(uw, "mouthPucker") > 0.5 and mid(iy, "mouthPucker") < 0.05
    assert mid(ow, "mouthFunnel") > mid(iy, "mouthFunnel") + 0.3
    assert mid(iy, "mouthStretchLeft") > 0.1 and mid(uw, "mouthStretchLeft") < 0.02


def test_labiodental_tucks_the_lower_lip():
    phones = seq("SIL:0.3 AA:0.2 F:0.1 AA:0.2 SIL:0.3")
    w = targets(phones, 100, nonspeech=False)
    f = phones[2]
    assert w[round(f.center * 100), ARKIT_INDEX["mouthRollLower"]] > 0.3
    assert w[round(phones[1].center * 100), ARKIT_INDEX["mouthRollLower"]] < 0.05


def test_jaw_follows_openness_and_loudness():
    phones = seq("SIL:0.3 AA:0.3 SIL:0.3 IY:0.3 SIL:0.3 AA:0.3 SIL:0.3")
    w = speech_targets(phones, 100)
    jaw = w[:, ARKIT_INDEX["jawOpen"]]
    aa1, iy, aa2 = (round(phones[k].center * 100) for k in (1, 3, 5))
    assert jaw[aa1] > 2 * jaw[iy] > 0
    # The same phones with audio: the second AA is 20 dB quieter and opens the jaw less.
    sr = 16000
    audio = np.zeros(round(phones[-1].end * sr), np.float32)
    rng = np.random.default_rng(0)
    for k, amp in ((1, 0.5), (3, 0.5), (5, 0.05)):
        lo, hi = round(phones[k].start * sr), round(phones[k].end * sr)
        audio[lo:hi] = amp * rng.standard_normal(hi - lo)
    jaw_a = speech_targets(phones, 100, audio=audio)[:, ARKIT_INDEX["jawOpen"]]
    assert jaw_a[aa1] > 1.3 * jaw_a[aa2]


def test_blinks_and_brows():
    phones = random_speech(3, 30.0)
    duration = phones[-1].end
    w = nonspeech_motion(phones, 100, seed=2)
    blink = w[:, ARKIT_INDEX["eyeBlinkLeft"]]
    assert np.array_equal(blink, w[:, ARKIT_INDEX["eyeBlinkRight"]])
    starts = np.flatnonzero((blink[1:] > 0.5) & (blink[:-1] <= 0.5))
    assert duration / 6.5 <= len(starts) <= duration / 2.0 + 1
    assert np.all(np.diff(starts) / 100 >= 1.0)
    closed_runs = np.diff(np.flatnonzero(np.diff((blink > 0.01).astype(int))))[::2] / 100
    assert closed_runs.min() >= 0.1 and closed_runs.max() <= 0.26
    assert w[:, ARKIT_INDEX["browInnerUp"]].max() > 0.05
    assert np.abs(w[:, MOUTH]).max() == 0.0


def test_mouth_aperture():
    w = np.zeros((4, NUM_ARKIT))
    w[1, ARKIT_INDEX["jawOpen"]] = 0.5
    w[2, ARKIT_INDEX["jawOpen"]] = 0.5
    w[2, ARKIT_INDEX["mouthClose"]] = 0.5
    w[3, ARKIT_INDEX["jawOpen"]] = 0.4
    w[3, [ARKIT_INDEX["mouthLowerDownLeft"], ARKIT_INDEX["mouthLowerDownRight"]]] = 0.2
    np.testing.assert_allclose(mouth_aperture(w), [0.0, 0.5, 0.0, 0.5])
    with pytest.raises(ValueError):
        mouth_aperture(np.zeros((3, 10)))


@pytest.mark.parametrize("fps", FPS)
def test_targets_pass_every_metric(fps):
    clips = []
    for seed in range(4):
        phones = random_speech(seed)
        w = targets(phones, fps, seed=seed)
        m = lipsync_metrics(w, phones, fps)
        assert all(passes(m).values()), m
        clips.append((w, phones, fps))
        assert abs(m["sync_lag"]) <= 1
    pooled = pooled_metrics(clips)
    assert pooled["sync_lag_pooled"] == 0
    assert set(passes(pooled)) == set(THRESHOLDS) and all(passes(pooled).values()), pooled


def test_loudness_envelope_is_computed_in_blocks_with_bounded_memory():
    import tracemalloc

    from expclip_blender.loudness import _window_energy, loudness_envelope

    def whole(a: np.ndarray, hop_n: int, win_n: int, n: int) -> np.ndarray:
        """Energy about each window's mean (the samples inside the clip), the whole clip at once."""
        pad = (np.zeros(win_n // 2), np.zeros(win_n))
        padded = np.concatenate([pad[0], a.astype(np.float64), pad[1]])
        inside = np.concatenate([pad[0], np.ones(len(a)), pad[1]])
        starts = np.arange(n) * hop_n

        def sums(v: np.ndarray) -> np.ndarray:
            csum = np.concatenate([[0.0], np.cumsum(v)])
            return csum[starts + win_n] - csum[starts]

        sq, total, count = sums(padded**2), sums(padded), sums(inside)
        return np.maximum(sq - total * total / np.maximum(count, 1.0), 0.0) / win_n

    rng = np.random.default_rng(3)
    for length in (0, 7, 160 * 2048 - 1, 160 * 2048 + 481, 160 * 20000 + 3):  # across block edges
        a = (0.1 * rng.normal(size=length)).astype(np.float32)
        n = max(1, math.ceil(length / 160))
        want = whole(a, 160, 480, n)
        assert np.allclose(_window_energy(a, 160, 480, n), want, rtol=1e-9, atol=1e-15)

    ten_minutes = (0.1 * rng.normal(size=16000 * 600)).astype(np.float32)  # 38 MB
    tracemalloc.start()
    times, loud = loudness_envelope(ten_minutes, 16000)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert len(loud) == 60000 and times[-1] == pytest.approx(599.99)
    assert peak < 16e6, f"{peak / 1e6:.0f} MB for 10 minutes: the envelope copies the audio"


def test_aperture_follows_the_phones_openness():
    """The aperture tracks how open each sound is (what the report correlates it with), frame by frame."""
    from expclip_train.speech.metrics import openness_curve

    def correlation(phones, params: CoarticulationParams) -> float:
        w = targets(phones, 30, nonspeech=False, params=params)
        return float(np.corrcoef(mouth_aperture(w), openness_curve(phones, 30, len(w)))[0, 1])

    blurred = CoarticulationParams(jaw_pre=0.07, jaw_post=0.07, teeth_lips=0.2)
    shipped = []
    for seed in range(3):
        phones = random_speech(seed, 20.0)
        r = correlation(phones, CoarticulationParams())
        # 70 ms jaw decays blur each phone's opening over its neighbours: 0.73-0.79 on these sequences
        assert r > correlation(phones, blurred) + 0.03
        shipped.append(r)
    assert np.mean(shipped) > 0.8  # 0.79-0.83


def test_consonants_between_vowels_close_the_mouth_part_way():
    """A 't' between two 'ah's raises the jaw, and an 's' parts the lips less than the vowels."""
    phones = seq("SIL:0.3 AA:0.15 T:0.06 AA:0.15 SIL:0.3")
    jaw = speech_targets(phones, 100)[:, ARKIT_INDEX["jawOpen"]]
    assert jaw[round(phones[2].center * 100)] < 0.8 * jaw[round(phones[1].center * 100)]
    phones = seq("SIL:0.3 AA:0.15 S:0.08 AA:0.15 SIL:0.3")
    ap = mouth_aperture(speech_targets(phones, 100))
    assert ap[round(phones[2].center * 100)] < 0.6 * ap[round(phones[1].center * 100)]
