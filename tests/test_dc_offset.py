"""A DC offset or sub-audio rumble must not move the face: the features see the audio high-passed."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest
from invariants import speech_like

import expclip_blender as ex
from expclip_blender.arkit import ARKIT_NAMES
from expclip_blender.audio import highpass
from expclip_blender.features import EDGE_PAD_S, log_mel

SR = 16000
MOUTH = [i for i, name in enumerate(ARKIT_NAMES) if name.startswith(("jaw", "mouth"))]


@pytest.fixture(scope="module")
def model() -> ex.ExpClip:
    return ex.load(device="cpu")


def test_highpass_removes_dc_and_rumble_keeps_voice():
    t = np.arange(4 * SR) / SR
    dc = highpass(np.full(len(t), 0.5, np.float32), SR)
    assert np.abs(dc).max() < 1e-6  # the state starts on the offset: no click at the start either
    rumble = highpass(np.sin(2 * np.pi * 8 * t).astype(np.float32), SR)
    assert np.abs(rumble[SR:]).max() < 0.2  # -17 dB at 8 Hz
    voice = highpass(np.sin(2 * np.pi * 150 * t).astype(np.float32), SR)
    assert 0.95 < np.abs(voice[SR:]).max() <= 1.0


def test_highpass_streams_in_blocks_like_one_pass():
    x = (0.3 + np.random.default_rng(0).standard_normal(10_000)).astype(np.float32)
    out = x.copy()
    highpass(out, SR, out=out)  # in place, across several blocks
    np.testing.assert_allclose(out, highpass(x, SR), atol=1e-7)
    assert abs(float(out[2000:].mean())) < 0.02


def test_dc_only_clip_gives_a_resting_mouth(model):
    dc = model.animate(np.full(3 * SR, 0.3, np.float32), SR, "neutral", blinks=False)
    still = model.animate(np.zeros(3 * SR, np.float32), SR, "neutral", blinks=False)
    assert np.abs(dc[:, MOUTH] - still[:, MOUTH]).max() < 1e-3
    assert np.ptp(dc[:, MOUTH], axis=0).max() < 1e-3


def test_dc_offset_on_speech_changes_nothing_visible(model):
    speech = speech_like()
    clean = model.animate(speech, SR, "furious")
    offset = model.animate(speech + np.float32(0.3), SR, "furious")  # blinks too: pauses still found
    assert np.abs(clean - offset).max() < 0.01


def test_dc_offset_features_match_clean():
    speech = speech_like()
    clean, offset = log_mel(speech, SR, EDGE_PAD_S), log_mel(speech - np.float32(0.3), SR, EDGE_PAD_S)
    assert np.abs(clean - offset).max() < 0.05


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
def test_dc_offset_on_real_speech(model, tmp_path):
    import soundfile as sf

    wav = tmp_path / "s.wav"
    subprocess.run(["espeak-ng", "-w", str(wav), "the quick brown fox jumps over the lazy dog"], check=True)
    speech, sr = sf.read(wav, dtype="float32")
    clean = model.animate(speech, sr, "neutral")
    offset = model.animate(speech + np.float32(0.3), sr, "neutral")
    assert np.abs(clean - offset).max() < 0.01
