"""The trained generator (models/generator.safetensors) on speech it never saw in training.

A regression guard, not the evaluation: the full report on held-out real speakers is
``python -m expclip_train.evaluation.generator_report``. Speech comes from espeak-ng with its own phone
timings (skipped where espeak-ng is not installed), spoken with a voice, rate and pitch the corpus does
not use, so the thresholds sit a little below the report's targets.
"""

from __future__ import annotations

import numpy as np
import pytest

import expclip_blender as ex
from expclip_blender.facs import read_emotions
from expclip_train.speech.metrics import lipsync_metrics

FPS = 30.0
TEXT = (
    "Bob bought a big map for my father. Maybe the bus stops by the lamp post. "
    "Move the blue boot over to the window, Paul."
)


@pytest.fixture(scope="module")
def model() -> ex.ExpClip:
    return ex.load(device="cpu")


@pytest.fixture(scope="module")
def speech():
    synth = pytest.importorskip("expclip_train.speech.synth")
    try:
        utt = synth.EspeakSynth().synth(TEXT, voice="en-us", variant="m3", rate=160, pitch=42, word_gap=8)
    except (OSError, synth.SynthError) as exc:
        pytest.skip(f"espeak-ng is not usable here: {exc}")
    return utt


def test_lipsync_on_unseen_speech(model, speech):
    weights = model.animate(speech.audio, 16000, "neutral", fps=FPS, blinks=False, gaze=False)
    m = lipsync_metrics(weights, speech.phones, FPS)
    assert m["bilabial_closure_rate"] >= 0.8, m
    assert m["open_bilabial_auc"] >= 0.9, m
    assert m["rounding_auc"] >= 0.75, m
    assert abs(m["sync_lag"]) <= 1, m


@pytest.mark.parametrize(
    ("prompt", "emotion"),
    [("furious", "anger"), ("overjoyed", "happiness"), ("terrified", "fear"), ("deeply sad", "sadness")],
)
def test_style_shows_on_the_upper_face_while_the_lips_keep_speaking(model, speech, prompt, emotion):
    neutral = lipsync_metrics(
        model.animate(speech.audio, 16000, "neutral", fps=FPS, blinks=False, gaze=False), speech.phones, FPS
    )
    styled_w = model.animate(speech.audio, 16000, prompt, fps=FPS, blinks=False, gaze=False)
    styled = lipsync_metrics(styled_w, speech.phones, FPS)
    # The expression the prompt decodes to must itself read as the emotion for the check to mean anything.
    assert read_emotions(model.expression(prompt)[None], region="upper")[0] == emotion
    reads = read_emotions(styled_w, region="upper")
    assert np.mean([r == emotion for r in reads]) >= 0.8
    assert styled["bilabial_closure_rate"] >= 0.85 * neutral["bilabial_closure_rate"], (styled, neutral)
    assert styled["open_bilabial_auc"] >= 0.9 * neutral["open_bilabial_auc"], (styled, neutral)


def test_silence_rests_the_mouth(model):
    from expclip_train.speech.coarticulation import mouth_aperture

    weights = model.animate(
        np.zeros(3 * 16000, np.float32), 16000, "neutral", fps=FPS, blinks=False, gaze=False
    )
    assert mouth_aperture(weights).max() < 0.08
