"""The held-out check's clip bootstrap (expclip_train/experiments/heldout_bootstrap.py)."""

from __future__ import annotations

import math

import numpy as np
from phone_sequences import random_speech

from expclip_train.experiments import heldout_bootstrap as hb
from expclip_train.speech.coarticulation import speech_targets
from expclip_train.speech.corpus import CorpusClip
from expclip_train.speech.phones import normalize_timeline

FPS = 30


def _clips(n: int) -> tuple[list[CorpusClip], list[np.ndarray]]:
    clips, weights = [], []
    for seed in range(n):
        phones = random_speech(seed, 5.0)
        duration = phones[-1].end
        clips.append(CorpusClip(f"c{seed}", np.zeros(16000, np.float32), phones, {"speaker": f"s{seed % 2}"}))
        weights.append(speech_targets(normalize_timeline(phones, duration), FPS, duration))
    return clips, weights


def test_interval_is_the_central_95_percent_and_skips_nan():
    values = np.concatenate([np.arange(1001, dtype=float), [math.nan]])
    assert hb.interval(values) == (25.0, 975.0)
    assert all(math.isnan(x) for x in hb.interval(np.full(3, math.nan)))


def test_bootstrap_resamples_every_run_with_the_same_clips():
    clips, weights = _clips(6)
    worse = [w * 0 + w.mean(axis=0) for w in weights]  # a flat face: no lip-sync at all
    boot = hb.bootstrap({"a": weights, "b": list(weights), "flat": worse}, clips, resamples=8, seed=1)
    assert boot["a"].shape == (8, len(hb.FIGURES))
    np.testing.assert_array_equal(boot["a"], boot["b"])  # paired: the same draws for every run
    auc = hb.FIGURES.index("open_bilabial_auc")
    assert np.all(boot["a"][:, auc] > 0.9) and np.all(boot["flat"][:, auc] < 0.7)
    again = hb.bootstrap({"a": weights}, clips, resamples=8, seed=1)["a"]
    np.testing.assert_array_equal(again, boot["a"])  # a seed gives the same resamples
    assert not np.array_equal(hb.bootstrap({"a": weights}, clips, resamples=8, seed=2)["a"], boot["a"])
