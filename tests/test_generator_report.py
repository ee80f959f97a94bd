"""The generator evaluation report's pure parts (expclip_train.evaluation.generator_report).

The model-dependent run is exercised with a stand-in model that returns the coarticulation targets of each
clip's phones plus a prototype face for the prompt, so these tests need no trained weights.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from phone_sequences import random_speech

from expclip_blender.arkit import ARKIT_INDEX, MOUTH_NAMES, NUM_ARKIT
from expclip_blender.facs import prototype_face
from expclip_train.evaluation import generator_report as gr
from expclip_train.speech.coarticulation import speech_targets
from expclip_train.speech.corpus import CorpusClip
from expclip_train.speech.metrics import openness_curve, pooled_metrics

GOOD = {
    "bilabial_closure_rate": 0.95,
    "open_bilabial_auc": 0.99,
    "pause_rest_rate": 0.97,
    "sync_lag": 0.0,
    "sync_lag_subframe": 0.1,
    "rounding_auc": 0.9,
    "openness_correlation": 0.7,
    "openness_lag": 0.0,
}


def test_figures_use_the_pooled_lag():
    pooled = {k: 0.5 for k in gr.FIGURES} | {"sync_lag": 3.0, "sync_lag_pooled": -1.0}
    f = gr.figures(pooled, 0.25)
    assert f["sync_lag"] == -1.0 and f["sync_lag_subframe"] == 0.25 and f["rounding_auc"] == 0.5


def test_relative_change_and_style_tolerance():
    assert gr.relative_change(0.9, 1.0) == pytest.approx(-0.1)
    assert math.isnan(gr.relative_change(0.5, 0.0)) and math.isnan(gr.relative_change(math.nan, 1.0))
    assert gr.STYLE_TOLERANCE == 0.05
    assert gr.style_within("bilabial_closure_rate", 0.91, 0.95) is True  # -4.2%
    assert gr.style_within("bilabial_closure_rate", 0.90, 0.95) is False  # -5.3%
    assert gr.style_within("rounding_auc", 1.0, 0.9) is True  # better under the emotion: kept
    assert gr.style_within("sync_lag", 1.0, 0.0) is True and gr.style_within("sync_lag", -2.0, 0.0) is False
    assert (
        gr.style_within("openness_lag", -1.0, 0.0) is True
        and gr.style_within("openness_lag", 2.0, 0) is False
    )
    assert gr.style_within("pause_rest_rate", 0.0, 0.0) is True  # both zero: unchanged
    assert gr.style_within("pause_rest_rate", math.nan, 0.9) is None


def test_compare():
    assert gr.compare("open_bilabial_auc", 0.99, 0.7) == "beats"
    assert gr.compare("open_bilabial_auc", 0.7, 0.99) == "loses"
    assert gr.compare("pause_rest_rate", 1.0, 1.0) == "ties"
    assert gr.compare("sync_lag", -0.2, 0.4) == "beats"  # closer to 0, whatever the sign
    assert gr.compare("sync_lag", 1.5, -0.5) == "loses"
    assert gr.compare("rounding_auc", math.nan, 0.5) == "n/a"
    assert gr.compare("openness_correlation", 0.6, 0.5) == "beats"
    assert gr.compare("openness_lag", 0.0, -1.0) == "beats"


def test_peer_comparison_uses_subframe_lag_and_verdict():
    peer = GOOD | {"bilabial_closure_rate": 0.5, "open_bilabial_auc": 0.7, "pause_rest_rate": 0.6,
                   "sync_lag_subframe": 0.4, "rounding_auc": 0.5, "openness_correlation": 0.4,
                   "openness_lag": 2.0}  # fmt: skip
    comp = gr.peer_comparison(GOOD, {"a": peer, "b": peer})
    assert all(v == "beats" for verdicts in comp.values() for v in verdicts.values())
    assert gr.comparison_lines(comp)[-1].endswith("YES")
    tied = gr.peer_comparison(GOOD, {"a": peer, "b": peer | {"pause_rest_rate": 0.97}})
    assert tied["b"]["pause_rest_rate"] == "ties"
    lines = gr.comparison_lines(tied)
    assert lines[-1].endswith("NO") and any("vs b: ties on pauses at rest" in s for s in lines)


def test_figures_table_marks():
    bad = GOOD | {
        "bilabial_closure_rate": 0.5,
        "sync_lag": -2.0,
        "sync_lag_subframe": -2.1,
        "rounding_auc": math.nan,
    }
    lines = gr.figures_table({"model": GOOD, "peer": bad})
    assert "model" in lines[0] and "peer" in lines[0]
    rows = {label: line for label, line in zip(gr.FIGURES.values(), lines[1:], strict=True)}
    assert rows["bilabial closure rate"].count("PASS") == 1 and "0.500 MISS" in rows["bilabial closure rate"]
    assert "-2 (-2.10) MISS" in rows["sync lag (frames)"] and "+0 (+0.10) PASS" in rows["sync lag (frames)"]
    assert rows["aperture-openness r"].count("0.700 PASS") == 2
    assert "n/a" in rows["rounding AUC"]


def test_style_table_verdicts():
    emotions = {
        "furious": {
            "emotion": "anger",
            "share": 0.95,
            "strength": 0.9,
            "figures": GOOD | {"open_bilabial_auc": 0.97},
        },
        "devastated": {
            "emotion": "sadness",
            "share": 0.5,
            "strength": 0.63,
            "figures": GOOD | {"bilabial_closure_rate": 0.7},
        },
    }
    lines, verdicts = gr.style_table(GOOD, emotions)
    assert verdicts["furious"]["emotion_ok"] is True and verdicts["furious"]["lipsync_ok"] is True
    assert verdicts["furious"]["strength_ok"] is True and verdicts["devastated"]["strength_ok"] is False
    assert "90% PASS" in next(s for s in lines if s.startswith("furious"))
    assert "63% MISS" in next(s for s in lines if s.startswith("devastated"))
    assert verdicts["devastated"]["emotion_ok"] is False
    assert verdicts["devastated"]["lipsync_within"]["bilabial_closure_rate"] is False
    assert verdicts["devastated"]["lipsync_ok"] is False
    row = next(s for s in lines if s.startswith("devastated"))
    assert "-26.3%" in row and "(bilabial_closure_rate)" in row


def test_emotion_share():
    angry = np.repeat(prototype_face("anger", "E")[None], 10, axis=0)
    assert gr.emotion_share(angry, "anger") == 1.0
    half = np.concatenate([angry[:5], np.zeros((5, NUM_ARKIT), np.float32)])
    assert gr.emotion_share(half, "anger") == 0.5 and gr.emotion_share(half, "neutral") == 0.5
    assert math.isnan(gr.emotion_share(np.zeros((0, NUM_ARKIT)), "anger"))


def _clip(cid: str, speaker: str) -> CorpusClip:
    return CorpusClip(cid, np.zeros(160, np.float32), [], {"speaker": speaker})


def test_select_clips_spreads_over_speakers():
    clips = [_clip(f"a{i}", "A") for i in range(5)] + [_clip("b0", "B"), _clip("c0", "C"), _clip("c1", "C")]
    picked = gr.select_clips(clips, 4)
    assert [c.id for c in picked] == ["a0", "b0", "c0", "a1"]
    assert len(gr.select_clips(clips, None)) == len(clips) == len(gr.select_clips(clips, 100))


def test_json_safe():
    out = gr.json_safe({"a": math.nan, "b": [np.float32(0.5), np.int64(3), np.bool_(True)], 1: math.inf})
    assert out == {"a": None, "b": [0.5, 3, True], "1": None}
    json.dumps(out, allow_nan=False)


def _shifted(phones, fps: float, n: int, shift_frames: float) -> np.ndarray:
    """Weights whose jaw is the phones' openness curve, late by ``shift_frames`` frames."""
    curve = openness_curve(phones, fps, n)
    w = np.zeros((n, NUM_ARKIT), np.float32)
    w[:, ARKIT_INDEX["jawOpen"]] = np.interp(np.arange(n) - shift_frames, np.arange(n), curve)
    return w


@pytest.mark.parametrize("shift", [0.0, 0.5, 2.0, -1.0])
def test_subframe_sync_lag(shift):
    fps = 30.0
    items = []
    for seed in range(3):
        phones = random_speech(seed, 6.0)
        n = math.ceil(phones[-1].end * fps)
        items.append((_shifted(phones, fps, n, shift), phones, fps))
    lag = gr.subframe_sync_lag(items)
    assert lag == pytest.approx(shift, abs=0.25)
    assert round(lag) == pooled_metrics(items)["sync_lag_pooled"] or abs(shift % 1 - 0.5) < 1e-9
    assert math.isnan(gr.subframe_sync_lag([(np.zeros((50, NUM_ARKIT)), phones, fps)]))


class StandIn:
    """A model that lip-syncs perfectly (the clip's own targets) and shows the prompt's prototype face."""

    def __init__(self, clips) -> None:
        self.by_audio = {id(c.audio): c for c in clips}
        self.mouth = np.zeros(NUM_ARKIT, bool)
        self.mouth[[ARKIT_INDEX[n] for n in MOUTH_NAMES]] = True

    def expression(self, prompt: str, intensity: float = 1.0) -> np.ndarray:
        emotion = gr.EMOTION_PROMPTS.get(prompt)
        return prototype_face(emotion, "E") if emotion else np.zeros(NUM_ARKIT, np.float32)

    def animate(
        self, audio, sample_rate, prompt="neutral", fps=30.0, intensity=1.0, *, blinks=True, gaze=True
    ):
        clip = self.by_audio[id(audio)]
        w = speech_targets(clip.phones, fps, len(audio) / sample_rate)
        w[:, ~self.mouth] = self.expression(prompt, intensity)[~self.mouth]
        return w


def test_evaluate_clips_with_a_stand_in_model():
    clips = []
    for seed in range(3):
        phones = random_speech(seed, 6.0)
        audio = np.zeros(round(phones[-1].end * 16000), np.float32)
        clips.append(CorpusClip(f"c{seed}", audio, phones, {"speaker": f"s{seed % 2}"}))
    section = gr.evaluate_clips(clips, StandIn(clips), [], gr.EMOTION_PROMPTS)
    model = section["systems"]["model:neutral"]
    assert all(gr.passes(model).values()), model
    assert set(section["style"]) == set(gr.EMOTION_PROMPTS)
    for row in section["style"].values():
        assert row["share"] == 1.0 and row["emotion_ok"] and row["lipsync_ok"]
        assert row["still_face_reads"] == row["emotion"]
    assert section["neutral_upper_face_neutral_share"] == 1.0
    assert set(section["per_clip"]["model:neutral"]) == {"c0", "c1", "c2"}
    text = "\n".join(gr.format_section("T", section))
    assert "emotion shown for every prompt: YES" in text
    assert "strength >= 85% for every emotion: YES" in text
    assert "lip-sync within 5% of neutral under every prompt: YES" in text
    oracle = section["systems"][gr.ORACLE]  # the training targets: everything in reach
    assert all(gr.passes(oracle).values()) and oracle["openness_correlation"] > 0.65
    verdicts = gr.english_targets(model)
    assert set(verdicts) == {
        "bilabial_closure_rate",
        "open_bilabial_auc",
        "rounding_auc",
        "openness_correlation",
        "openness_lag",
    }
    lines = gr.english_target_lines(verdicts)
    assert lines[-1].endswith("YES") and all(("PASS" in s) for s in lines[1:-1])
    json.dumps(gr.json_safe(section), allow_nan=False)


def test_main_without_a_corpus(tmp_path, capsys):
    assert gr.main(["--corpus", str(tmp_path / "none")]) == 2
    assert "build the corpus first" in capsys.readouterr().err


def test_style_strength():
    from expclip_blender.arkit import ARKIT_INDEX
    from expclip_train.evaluation.generator_report import style_strength

    still = np.zeros(52)
    still[ARKIT_INDEX["browDownLeft"]] = still[ARKIT_INDEX["browDownRight"]] = 0.8
    still[ARKIT_INDEX["jawOpen"]] = 0.5  # the mouth is the speech's, not counted
    frames = np.zeros((10, 52))
    frames[:, ARKIT_INDEX["browDownLeft"]] = frames[:, ARKIT_INDEX["browDownRight"]] = 0.4
    frames[:, ARKIT_INDEX["eyeBlinkLeft"]] = 1.0  # blinks are not the style either
    assert style_strength(frames, still) == pytest.approx(0.5)
    assert style_strength(np.tile(still, (3, 1)), still) == pytest.approx(1.0)
    assert np.isnan(style_strength(frames, np.zeros(52)))
