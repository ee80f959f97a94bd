"""Lip-sync metrics on constructed cases: perfect, shuffled, shifted and degenerate signals."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from phone_sequences import random_speech, seq

from expclip_blender.arkit import ARKIT_INDEX, NUM_ARKIT
from expclip_train.speech.coarticulation import targets
from expclip_train.speech.metrics import (
    OPENNESS_LEVELS,
    bilabial_closure_rate,
    lipsync_metrics,
    open_bilabial_auc,
    openness_correlation,
    openness_curve,
    passes,
    pause_rest_rate,
    phone_frames,
    pooled_metrics,
    roc_auc,
    rounding_auc,
    sync_lag,
)
from expclip_train.speech.phones import Phone


def brute_auc(pos, neg):
    pairs = list(itertools.product(pos, neg))
    return sum(1.0 if p > n else 0.5 if p == n else 0.0 for p, n in pairs) / len(pairs)


def test_roc_auc():
    assert roc_auc([3, 4, 5], [0, 1, 2]) == 1.0
    assert roc_auc([0, 1], [2, 3]) == 0.0
    assert roc_auc([1, 1], [1, 1]) == 0.5
    assert math.isnan(roc_auc([], [1.0]))
    rng = np.random.default_rng(0)
    for _ in range(20):
        pos = rng.integers(0, 5, size=rng.integers(1, 9))
        neg = rng.integers(0, 5, size=rng.integers(1, 9))
        assert roc_auc(pos, neg) == pytest.approx(brute_auc(pos, neg))


def test_phone_frames():
    assert list(phone_frames(Phone("P", 0.1, 0.2), 30, 100)) == [3, 4, 5, 6]
    assert list(phone_frames(Phone("P", 0.101, 0.102), 30, 100)) == [3]  # shorter than a frame: the nearest
    assert list(phone_frames(Phone("P", 3.0, 4.0), 30, 100)) == [90, 91, 92, 93, 94, 95, 96, 97, 98, 99]


def test_perfect_targets_pass():
    phones = random_speech(10)
    m = lipsync_metrics(targets(phones, 30), phones, 30)
    assert m["bilabial_closure_rate"] == 1.0 and m["open_bilabial_auc"] == 1.0
    assert m["pause_rest_rate"] == 1.0 and m["sync_lag"] == 0 and m["rounding_auc"] >= 0.95
    assert all(passes(m).values())


def test_shuffled_frames_fail():
    phones = random_speech(11)
    w = targets(phones, 30)
    shuffled = w[np.random.default_rng(0).permutation(len(w))]
    m = lipsync_metrics(shuffled, phones, 30)
    assert m["bilabial_closure_rate"] < 0.9 and m["open_bilabial_auc"] < 0.9
    assert m["pause_rest_rate"] < 0.9 and m["rounding_auc"] < 0.85
    assert passes(m)["open_bilabial_auc"] is False


@pytest.mark.parametrize("shift", [-4, -2, 2, 3, 5])
def test_shifted_animation_gives_its_lag(shift):
    phones = random_speech(12, 12.0)
    w = targets(phones, 30)
    late = np.roll(w, shift, axis=0)  # shift > 0: the mouth moves later than the sound
    assert sync_lag(late, phones, 30) == shift


def test_open_mouth_everywhere_fails_closure_and_pauses():
    phones = random_speech(13)
    w = np.zeros((len(targets(phones, 30)), NUM_ARKIT), np.float32)
    w[:, ARKIT_INDEX["jawOpen"]] = 0.5
    assert bilabial_closure_rate(w, phones, 30) == 0.0
    assert pause_rest_rate(w, phones, 30) == 0.0
    assert open_bilabial_auc(w, phones, 30) == 0.5
    assert math.isnan(sync_lag(w, phones, 30))  # a constant mouth has no timing


def test_rounding_swapped_fails():
    phones = random_speech(14)
    w = targets(phones, 30)
    assert rounding_auc(w, phones, 30) > 0.95
    bad = w.copy()
    bad[:, ARKIT_INDEX["mouthFunnel"]] = w[:, ARKIT_INDEX["mouthStretchLeft"]]
    bad[:, ARKIT_INDEX["mouthPucker"]] = w[:, ARKIT_INDEX["mouthSmileLeft"]]
    assert rounding_auc(bad, phones, 30) < 0.2


def test_nothing_to_measure_is_nan():
    phones = seq("SIL:0.1 S:0.1 IY:0.1 SIL:0.1")
    m = lipsync_metrics(targets(phones, 30), phones, 30)
    assert math.isnan(m["bilabial_closure_rate"]) and math.isnan(m["pause_rest_rate"])
    assert math.isnan(m["rounding_auc"])
    assert passes(m)["bilabial_closure_rate"] is None


def test_pooled_metrics():
    clips = [(targets(p, 30), p, 30) for p in (random_speech(s) for s in range(3))]
    pooled = pooled_metrics(clips)
    assert pooled["clips"] == 3 and pooled["bilabial_closure_rate"] == 1.0
    assert pooled["sync_within_1"] == 1.0 and pooled["n_bilabial"] > 10


def test_openness_curve_levels():
    phones = seq("SIL:0.1 M:0.1 AA:0.1 IY:0.1 HH:0.1 K:0.1 UW:0.1 S:0.1 SIL:0.1", t0=-0.05)
    curve = openness_curve(phones, 10, 9)  # one frame in the middle of each phone
    assert list(curve) == pytest.approx([0, 0, 1, 2 / 3, 1 / 3, 1 / 3, 2 / 3, 1 / 3, 0])
    levels = OPENNESS_LEVELS
    assert (
        levels["open vowel"]
        > levels["vowel"]
        > levels["consonant"]
        > levels["bilabial"]
        == levels["pause"]
        == 0
    )


def _jaw(curve: np.ndarray) -> np.ndarray:
    w = np.zeros((len(curve), NUM_ARKIT), np.float32)
    w[:, ARKIT_INDEX["jawOpen"]] = curve
    return w


@pytest.mark.parametrize("shift", [-3, 0, 2, 10])
def test_openness_correlation_of_the_curve_itself(shift):
    phones = random_speech(20, 10.0)
    n = len(targets(phones, 30))
    curve = openness_curve(phones, 30, n)
    late = (
        np.concatenate([np.zeros(max(shift, 0)), curve])[:n]
        if shift >= 0
        else np.append(curve[-shift:], [0] * -shift)
    )
    r, lag = openness_correlation(_jaw(late), phones, 30)
    assert lag == shift and r == pytest.approx(1.0)
    m = lipsync_metrics(_jaw(late), phones, 30)
    assert m["openness_correlation"] == pytest.approx(1.0) and m["openness_lag"] == shift


def test_openness_correlation_beyond_the_window_and_degenerate():
    phones = random_speech(21, 10.0)
    n = len(targets(phones, 30))
    curve = openness_curve(phones, 30, n)
    r, lag = openness_correlation(_jaw(np.roll(curve, 15)), phones, 30)
    assert abs(lag) <= 10 and r < 0.9  # 15 frames late is outside +-10: never found
    r, lag = openness_correlation(_jaw(np.full(n, 0.4)), phones, 30)
    assert math.isnan(r) and math.isnan(lag)
    noise = np.random.default_rng(0).random(n)
    assert abs(openness_correlation(_jaw(noise), phones, 30)[0]) < 0.2


def test_targets_follow_the_openness_curve():
    phones = random_speech(22)
    r, lag = openness_correlation(targets(phones, 30), phones, 30)
    assert r > 0.65 and lag == 0


def test_pooled_openness_correlation_takes_one_lag():
    fps = 30
    clips = []
    for seed, shift in ((30, 1), (31, 1), (32, 2)):
        phones = random_speech(seed)
        n = len(targets(phones, fps))
        curve = openness_curve(phones, fps, n)
        clips.append((_jaw(np.concatenate([np.zeros(shift), curve])[:n]), phones, fps))
    pooled = pooled_metrics(clips)
    assert pooled["openness_lag"] == 1  # two clips of three, and the longest overlap
    assert 0.5 < pooled["openness_correlation"] < 1.0
    per_clip = [openness_correlation(*c)[0] for c in clips]
    assert pooled["openness_correlation"] < max(per_clip)
    assert passes({"openness_correlation": 0.7, "openness_lag": -1.0}) == {
        **{k: None for k in passes({})},
        "openness_correlation": True,
        "openness_lag": True,
    }
