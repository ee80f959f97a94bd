"""The robustness check's degradations (expclip_train.evaluation.degrade): levels, bands, determinism."""

from __future__ import annotations

import numpy as np
import pytest
from invariants import speech_like

from expclip_train.evaluation import degrade

SR = 16000


def _band_share(x: np.ndarray, lo: float, hi: float) -> float:
    power = np.abs(np.fft.rfft(x)) ** 2
    f = np.fft.rfftfreq(len(x), 1 / SR)
    return float(power[(f >= lo) & (f < hi)].sum() / power.sum())


def test_active_rms_ignores_pauses():
    tone = 0.5 * np.sin(2 * np.pi * 200 * np.arange(SR) / SR)
    with_pause = np.concatenate([tone, np.zeros(SR)])
    assert degrade.active_rms(tone, SR) == pytest.approx(0.5 / np.sqrt(2), rel=1e-3)
    assert degrade.active_rms(with_pause, SR) == pytest.approx(degrade.active_rms(tone, SR), rel=1e-3)
    assert degrade.active_rms(np.zeros(SR), SR) == 0.0


@pytest.mark.parametrize("snr", [0.0, 10.0, 20.0])
def test_mix_at_snr_sets_the_level(snr):
    speech = speech_like(2.0).astype(np.float64)
    noise = np.random.default_rng(0).standard_normal(SR // 2)  # shorter: looped
    mixed = degrade.mix_at_snr(speech, noise, snr, SR)
    assert len(mixed) == len(speech) and mixed.dtype == np.float32
    added = mixed.astype(np.float64) - speech
    got = 20 * np.log10(degrade.active_rms(speech, SR) / np.sqrt(np.mean(added**2)))
    assert got == pytest.approx(snr, abs=0.01)
    assert np.array_equal(degrade.mix_at_snr(speech, np.zeros(10), snr, SR), speech.astype(np.float32))


def test_babble_sums_the_talkers_at_one_level():
    a, b = speech_like(1.0, seed=1), 0.01 * speech_like(3.0, seed=2)  # one talker far quieter
    out = degrade.babble([a, b], 2 * SR, SR, np.random.default_rng(0))
    assert out.shape == (2 * SR,)
    alone = degrade.babble([b], 2 * SR, SR, np.random.default_rng(0))
    assert degrade.active_rms(alone, SR) == pytest.approx(1.0, rel=0.2)  # brought up to the same level
    again = degrade.babble([a, b], 2 * SR, SR, np.random.default_rng(0))
    assert np.array_equal(out, again)  # seeded


def test_music_is_seeded_tonal_and_rhythmic():
    m = degrade.music(8 * SR, SR, np.random.default_rng(3))
    assert m.shape == (8 * SR,) and np.isfinite(m).all()
    assert np.sqrt(np.mean(m**2)) == pytest.approx(1.0)
    assert np.array_equal(m, degrade.music(8 * SR, SR, np.random.default_rng(3)))
    assert not np.array_equal(m, degrade.music(8 * SR, SR, np.random.default_rng(4)))
    assert _band_share(m, 60, 1000) > 0.5  # bass, chords and kick
    assert _band_share(m, 3000, 8000) > 0.01  # the hi-hat
    # Drums and struck chords: the level comes and goes (not a steady drone).
    frames = np.sqrt(np.mean(m[: 8 * SR].reshape(-1, SR // 50) ** 2, axis=1))
    assert np.percentile(frames, 90) > 2 * np.percentile(frames, 10)
    assert degrade.music(0, SR, np.random.default_rng(0)).shape == (0,)


def test_phone_band_keeps_the_voice_band_only():
    t = np.arange(2 * SR) / SR
    low, mid, high = (np.sin(2 * np.pi * f * t) for f in (80.0, 1000.0, 6000.0))
    for signal, kept in ((low, False), (mid, True), (high, False)):
        out = degrade.phone_band(signal, SR)[SR // 2 :]  # past the filter's start
        ratio = np.sqrt(np.mean(out**2)) / np.sqrt(np.mean(signal[SR // 2 :] ** 2))
        assert (ratio > 0.9) if kept else (ratio < 0.1), ratio


def test_dc_offset_adds_a_constant():
    x = speech_like(0.5)
    out = degrade.dc_offset(x, 0.3)
    assert out.dtype == np.float32 and np.allclose(out - x, 0.3, atol=1e-6)
    assert x.mean() == pytest.approx(speech_like(0.5).mean())  # the input is not modified
