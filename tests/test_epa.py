"""Expression Prompt Augmentation: speech keeps the lips, the expression shows on the rest of the face."""

from __future__ import annotations

import numpy as np
import pytest
from phone_sequences import random_speech

from expclip_blender.arkit import ARKIT_INDEX, NUM_ARKIT
from expclip_blender.facs import prototype_face, read_emotions
from expclip_train.epa import CORNER_NAMES, OPENER_NAMES, SHAPE_NAMES, UPPER_NAMES, blend_expression
from expclip_train.speech.coarticulation import targets
from expclip_train.speech.metrics import lipsync_metrics
from expclip_train.speech.phones import SIL, Phone

BASIC = ("happiness", "sadness", "surprise", "fear", "anger", "disgust")
FPS = 30.0


@pytest.fixture(scope="module")
def clip():
    phones = [
        Phone(SIL, 0.0, 2.0),
        *(Phone(p.label, p.start + 2.0, p.end + 2.0) for p in random_speech(5, 10.0)),
    ]
    return phones, targets(phones, FPS)


def test_channel_groups_cover_the_face_once():
    groups = [*UPPER_NAMES, *CORNER_NAMES, *OPENER_NAMES, *SHAPE_NAMES, "mouthClose"]
    assert sorted(groups) == sorted(ARKIT_INDEX) and len(groups) == NUM_ARKIT


def test_no_expression_leaves_speech_untouched(clip):
    _, speech = clip
    np.testing.assert_allclose(blend_expression(speech, np.zeros(NUM_ARKIT), FPS), speech, atol=1e-6)


@pytest.mark.parametrize("emotion", BASIC)
def test_lipsync_under_a_strong_emotion_stays_within_ten_percent_of_neutral(clip, emotion):
    phones, speech = clip
    neutral = lipsync_metrics(speech, phones, FPS)
    blended = blend_expression(speech, prototype_face(emotion, "D"), FPS)
    assert blended.shape == speech.shape and blended.min() >= 0 and blended.max() <= 1
    styled = lipsync_metrics(blended, phones, FPS)
    for key in ("bilabial_closure_rate", "open_bilabial_auc", "pause_rest_rate", "rounding_auc"):
        assert styled[key] >= 0.9 * neutral[key], (key, styled[key], neutral[key])
    assert abs(styled["sync_lag"]) <= 1


@pytest.mark.parametrize("emotion", BASIC)
def test_upper_face_shows_the_emotion_while_speaking(clip, emotion):
    _, speech = clip
    blended = blend_expression(speech, prototype_face(emotion, "D"), FPS)
    speaking = blended[int(2.5 * FPS) :]
    read = read_emotions(speaking, region="upper")
    assert np.mean([r == emotion for r in read]) >= 0.9


def test_before_speech_the_face_is_the_expression_with_the_lips_at_rest(clip):
    _, speech = clip
    face = prototype_face("surprise", "D")
    lead = int(0.5 * FPS)
    expected = face.copy()
    for name in (*OPENER_NAMES, "mouthClose"):
        expected[ARKIT_INDEX[name]] = 0.0
    blended = blend_expression(speech, face, FPS)
    assert np.abs(blended[:lead] - np.maximum(expected, speech[:lead])).max() < 0.05
    opened = blend_expression(speech, face, FPS, open_mouth_outside_speech=True)
    jaw = ARKIT_INDEX["jawOpen"]
    assert opened[:lead, jaw].min() == pytest.approx(face[jaw], abs=0.05) and face[jaw] > 0.1
    assert blended[:lead, jaw].max() < 0.05


def test_shape_errors_are_clear():
    with pytest.raises(ValueError, match=r"\(T, 52\)"):
        blend_expression(np.zeros((10, 51)), np.zeros(52), FPS)
