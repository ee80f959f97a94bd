"""ExpClip.animate: lengths, edge cases, style cues, blinks, eye movement, cancelling and device choice.

Run on a small untrained generator in a temporary model folder (the shapes, timing and edge-case
contract do not depend on training); the trained model's lip-sync is checked by the evaluation report
and by tests/test_generator_quality.py.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import expclip_blender as ex
from expclip_blender.api import style_mix
from expclip_blender.arkit import ARKIT_INDEX
from expclip_blender.blinks import blink_curve, pause_starts
from expclip_blender.generator import GeneratorConfig, SpeechToFace, save_generator


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> ex.ExpClip:
    folder = tmp_path_factory.mktemp("models")
    torch.manual_seed(0)
    save_generator(
        SpeechToFace(GeneratorConfig(channels=32, blocks=3, style_dim=128)), folder / "generator.safetensors"
    )
    return ex.load(device="cpu", models_dir=folder)


def _speechlike(duration: float, sr: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(round(duration * sr)) / sr
    envelope = np.clip(np.sin(2 * np.pi * 3 * t), 0, None) * (t % 2.0 < 1.4)
    return ((rng.standard_normal(len(t)) * 0.05 + 0.3 * np.sin(2 * np.pi * 160 * t)) * envelope).astype(
        np.float32
    )


@pytest.mark.parametrize("fps", [24.0, 25.0, 29.97, 30.0, 60.0])
def test_length_is_ceil_duration_times_fps(model, fps):
    audio = _speechlike(2.345, 16000)
    out = model.animate(audio, 16000, "happy", fps=fps)
    assert out.shape == (math.ceil(2.345 * fps - 1e-9), 52) and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 1.0


@pytest.mark.parametrize("sr", [8000, 22050, 44100, 48000, 96000])
def test_any_sample_rate_gives_the_same_motion(model, sr):
    base = model.animate(_speechlike(1.5, 16000), 16000, fps=30.0, blinks=False)
    from expclip_blender.audio import resample

    other = model.animate(resample(_speechlike(1.5, 16000), 16000, sr), sr, fps=30.0, blinks=False)
    assert other.shape == base.shape
    # 8 kHz loses the top half of the spectrum: close, not equal.
    assert np.abs(other - base).mean() < (0.08 if sr == 8000 else 0.03)


def test_edge_cases(model):
    short = model.animate(_speechlike(0.1, 16000), 16000, fps=30.0)
    assert short.shape == (3, 52)
    silent = model.animate(np.zeros(3 * 16000, np.float32), 16000, fps=30.0, blinks=False, gaze=False)
    # A still face away from the clip's edges (where the convolutions see the padding).
    assert silent.shape == (90, 52) and np.ptp(silent[30:60], axis=0).max() < 1e-4
    clipped = np.clip(_speechlike(1.0, 16000) * 50, -1, 1)
    assert np.isfinite(model.animate(clipped, 16000)).all()
    stereo = np.stack([_speechlike(1.0, 44100), _speechlike(1.0, 44100, seed=1)], axis=1)
    assert model.animate(stereo, 44100).shape == (30, 52)
    assert model.animate(stereo.T, 44100).shape == (30, 52)
    with_nan = _speechlike(1.0, 16000)
    with_nan[100:200] = np.nan
    assert np.isfinite(model.animate(with_nan, 16000)).all()
    with pytest.raises(ValueError, match="empty"):
        model.animate(np.zeros(0, np.float32), 16000)
    with pytest.raises(ValueError, match="fps"):
        model.animate(_speechlike(1.0, 16000), 16000, fps=0)
    with pytest.raises(ValueError, match="sample_rate"):
        model.animate(_speechlike(1.0, 16000), 0)
    with pytest.raises(ValueError, match="mono"):
        model.animate(np.zeros((4, 100, 2), np.float32), 16000)
    assert ex.audio_is_silent(np.zeros(10)) and ex.audio_is_silent(np.full(10, 1e-4))
    assert not ex.audio_is_silent(_speechlike(0.5, 16000))


def test_deterministic_and_prompt_matters(model):
    audio = _speechlike(2.0, 16000)
    a = model.animate(audio, 16000, "furious")
    assert np.array_equal(a, model.animate(audio, 16000, "furious"))
    assert not np.array_equal(a, model.animate(audio, 16000, "calm and relaxed"))
    # An empty prompt is the neutral face's style, as intensity 0 is.
    np.testing.assert_array_equal(
        model.animate(audio, 16000, "", blinks=False),
        model.animate(audio, 16000, "furious", intensity=0.0, blinks=False),
    )


def test_a_recurring_prompt_is_read_once(model, monkeypatch):
    # A batch bakes shot after shot with one prompt: its still face and style are kept, so the text
    # encoder runs for the first call only, and the kept face is expression()'s (up to the float noise of
    # a batch's padding: the first reading encoded the prompt together with its emotion phrase).
    audio = _speechlike(1.0, 16000)
    first = model.animate(audio, 16000, "quietly seething")
    calls = []
    encode = model.text_encoder.encode
    monkeypatch.setattr(model.text_encoder, "encode", lambda texts: calls.append(texts) or encode(texts))
    np.testing.assert_array_equal(model.animate(audio, 16000, "quietly seething"), first)
    assert calls == []
    model.animate(audio, 16000, "a sly grin")
    assert len(calls) == 1
    kept_face, kept_style = model._face_and_style("quietly seething", 1.0)
    np.testing.assert_allclose(kept_face, model.expression("quietly seething"), atol=1e-5)
    np.testing.assert_array_equal(kept_style, model.style_of("quietly seething"))


def test_cues_switch_and_blend_the_style(model):
    audio = _speechlike(4.0, 16000)
    # Without the procedural blinks and eye movements, which follow the emotion but not the blend.
    calm = model.animate(audio, 16000, "calm", blinks=False, gaze=False)
    angry = model.animate(audio, 16000, "furious", blinks=False, gaze=False)
    mixed = model.animate(
        audio, 16000, "calm", cues=[ex.StyleCue(2.0, "furious")], transition_s=0.4, blinks=False, gaze=False
    )
    # Away from the cue each part equals its own prompt (the receptive field is short here).
    np.testing.assert_allclose(mixed[:40], calm[:40], atol=1e-5)
    np.testing.assert_allclose(mixed[80:], angry[80:], atol=1e-5)
    # At the cue the style is half-way: the face lies between the two (on channels where they differ;
    # the network is not linear in its style, so a channel may overshoot by a little), away from both.
    differ = np.abs(angry[60] - calm[60]) > 0.005  # an untrained model: small but real differences
    assert differ.any()
    c, a, m = calm[60][differ], angry[60][differ], mixed[60][differ]
    span = np.abs(a - c)
    assert np.all((m > np.minimum(a, c) - 0.25 * span) & (m < np.maximum(a, c) + 0.25 * span))
    assert np.abs(m - c).sum() > 0.25 * span.sum() and np.abs(m - a).sum() > 0.25 * span.sum()


def test_style_mix_rows_sum_to_one_and_overlapping_fades():
    t = np.linspace(0, 5, 501)
    mix = style_mix(t, [1.0, 1.2, 3.0], 1.0)
    np.testing.assert_allclose(mix.sum(axis=1), 1.0, atol=1e-6)
    assert mix.min() >= 0.0
    assert mix[0].tolist() == [1.0, 0.0, 0.0, 0.0] and mix[-1].tolist() == [0.0, 0.0, 0.0, 1.0]
    assert style_mix(t, [2.0], 0.0)[200].tolist() == [0.0, 1.0]


def test_blinks_are_added_and_deterministic(model):
    audio = _speechlike(8.0, 16000)
    with_blinks = model.animate(audio, 16000, seed=3)
    without = model.animate(audio, 16000, blinks=False)
    eye = ARKIT_INDEX["eyeBlinkLeft"]
    assert with_blinks[:, eye].max() > 0.9 > without[:, eye].max()  # at least one full blink in 8 s
    assert np.all(with_blinks[:, eye] >= without[:, eye] - 1e-6)
    assert np.array_equal(with_blinks, model.animate(audio, 16000, seed=3))
    curve = blink_curve(600, 30.0, seed=1)
    assert 2 <= np.sum(np.diff((curve > 0.5).astype(int)) == 1) <= 10  # a blink every 2-6 s over 20 s
    assert len(pause_starts(audio, 16000)) >= 2  # the signal pauses every 2 s


def test_eye_movement_is_added_to_the_gaze_channels_only(model):
    from expclip_blender.gaze import GAZE_INDEX, GAZE_NAMES

    audio = _speechlike(8.0, 16000)
    others = [i for i in range(52) if i not in GAZE_INDEX]
    still = model.animate(audio, 16000, "calm", seed=3, gaze=False)
    moving = model.animate(audio, 16000, "calm", seed=3)
    np.testing.assert_array_equal(moving[:, others], still[:, others])
    added = moving[:, GAZE_INDEX] - still[:, GAZE_INDEX]
    assert np.ptp(added, axis=0).max() > 0.1 and added.min() >= -1e-6  # added on top, never taken away
    assert np.array_equal(moving, model.animate(audio, 16000, "calm", seed=3))
    assert not np.array_equal(moving, model.animate(audio, 16000, "calm", seed=4))
    # Amount 0 is off; off changes nothing of the output without it.
    np.testing.assert_array_equal(model.animate(audio, 16000, "calm", seed=3, gaze_amount=0.0), still)
    np.testing.assert_array_equal(
        model.animate(audio, 16000, "calm", seed=3, gaze=False, gaze_amount=5), still
    )
    more = model.animate(audio, 16000, "calm", seed=3, gaze_amount=2.0)[:, GAZE_INDEX] - still[:, GAZE_INDEX]
    assert np.abs(more).sum() > 1.5 * np.abs(added).sum()
    left_out, right_in = GAZE_NAMES.index("eyeLookOutLeft"), GAZE_NAMES.index("eyeLookInRight")
    np.testing.assert_array_equal(added[:, left_out] > 0, added[:, right_in] > 0)
    for bad in (-0.1, 2.5, float("nan"), True):
        with pytest.raises(ValueError, match="gaze_amount must be"):
            model.animate(audio, 16000, gaze_amount=bad)


def test_smoothing_reduces_motion(model):
    audio = _speechlike(3.0, 16000)
    raw = model.animate(audio, 16000, blinks=False)
    smooth = model.animate(audio, 16000, blinks=False, smoothing=1.0)
    assert np.abs(np.diff(smooth, axis=0)).sum() < np.abs(np.diff(raw, axis=0)).sum()
    with pytest.raises(ValueError, match="smoothing"):
        model.animate(audio, 16000, smoothing=2.0)


def test_progress_and_cancel(model):
    audio = _speechlike(2.0, 16000)
    seen: list[float] = []
    model.animate(audio, 16000, progress=seen.append)
    assert seen and seen[-1] == 1.0
    with pytest.raises(ex.Cancelled):
        model.animate(audio, 16000, progress=lambda f: False)


def test_device_choice(tmp_path):
    from expclip_blender.device import resolve_device

    assert resolve_device("cpu") == "cpu"
    assert resolve_device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(ValueError, match="device"):
        ex.load(device="tpu")
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="CUDA"):
            ex.load(device="cuda")
    with pytest.raises(ex.ModelFileError, match="does not exist"):
        ex.load(models_dir=tmp_path / "missing")


def test_cuda_matches_cpu(model, tmp_path):
    if not torch.cuda.is_available():
        pytest.skip("no CUDA GPU usable by this torch build")
    gpu = ex.load(device="cuda", models_dir=model.generator_path.parent)
    audio = _speechlike(3.0, 16000)
    np.testing.assert_allclose(
        gpu.animate(audio, 16000, "happy"), model.animate(audio, 16000, "happy"), atol=1e-4
    )


def test_command_line_writes_weights(model, tmp_path, capsys):
    import soundfile as sf

    from expclip_blender.__main__ import main
    from expclip_blender.audio import load_audio
    from expclip_blender.weights_io import load_weights

    wav = tmp_path / "line.wav"
    sf.write(wav, _speechlike(2.0, 44100), 44100)
    folder = str(model.generator_path.parent)
    for suffix in ("csv", "json", "npy"):
        out = tmp_path / f"take.{suffix}"
        args = [str(wav), "--prompt", "furious", "--fps", "24", "--out", str(out), "--models", folder]
        assert main(["animate", *args, "--cue", "1.0=calm"]) == 0
        weights, fps = load_weights(out)
        assert weights.shape == (48, 52) and (fps is None or fps == 24.0)
    # --no-gaze and --gaze-amount reach animate().
    plain = ["animate", str(wav), "--out", str(tmp_path / "g.npy"), "--models", folder, "--seed", "2"]
    audio = load_audio(wav)
    runs = (([], {}), (["--no-gaze"], {"gaze": False}), (["--gaze-amount", "0.5"], {"gaze_amount": 0.5}))
    for extra, options in runs:
        assert main([*plain, *extra]) == 0
        expected = model.animate(audio, 16000, seed=2, **options)
        np.testing.assert_array_equal(load_weights(tmp_path / "g.npy")[0], expected)
    assert main(["animate", str(wav), "--out", str(tmp_path / "x.txt"), "--models", folder]) == 2
    assert main(["animate", str(tmp_path / "missing.wav"), "--out", str(tmp_path / "x.csv")]) == 2
    err = capsys.readouterr().err
    assert ".csv, .json or .npy" in err and "missing.wav" in err
    with pytest.raises(SystemExit):
        main(["animate", str(wav), "--out", str(tmp_path / "x.csv"), "--cue", "soon=calm"])


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"cues": "nan-time"}, r"a cue's time_s must be a finite number, got nan"),
        ({"cues": "nan-intensity"}, r"a cue's intensity must be a number from 0 to 2, got nan"),
        ({"transition_s": float("nan")}, r"transition_s must be a number from 0 to 30, got nan"),
        ({"intensity": float("inf")}, r"intensity must be a number from 0 to 2, got inf"),
        ({"intensity": 3.0}, r"intensity must be from 0 to 2, got 3"),
        ({"smoothing": float("nan")}, r"smoothing must be a number from 0 to 1, got nan"),
        ({"fps": 1e6}, r"fps must be from 1 to 1000, got 1e\+06"),
        ({"fps": 1e-9}, r"fps must be from 1 to 1000, got 1e-09"),
        ({"seed": 1.5}, r"seed must be a whole number from 0"),
        ({"seed": "7"}, r"seed must be a whole number from 0"),
    ],
)
def test_non_finite_and_out_of_range_numbers_are_refused(model, options, message):
    # NaN cues and transitions used to give all-NaN weights; fps 1e6 ran for a minute, 1e-9 gave 0 frames.
    audio = _speechlike(1.0, 16000)
    with pytest.raises(ValueError, match=message):
        if options.get("cues") == "nan-time":
            options = {"cues": [ex.StyleCue(float("nan"), "calm")]}
        elif options.get("cues") == "nan-intensity":
            options = {"cues": [ex.StyleCue(0.5, "calm", float("nan"))]}
        model.animate(audio, 16000, "happy", **options)


def test_a_cue_before_the_clip_is_allowed(model):
    out = model.animate(_speechlike(1.0, 16000), 16000, "calm", cues=[ex.StyleCue(-0.5, "furious")])
    assert out.shape == (30, 52) and np.isfinite(out).all()


def test_command_line_refuses_a_nan_cue(model, tmp_path, capsys):
    import soundfile as sf

    from expclip_blender.__main__ import main

    wav = tmp_path / "line.wav"
    sf.write(wav, _speechlike(1.0, 16000), 16000)
    out = tmp_path / "take.csv"
    folder = str(model.generator_path.parent)
    with pytest.raises(SystemExit) as exit_info:
        main(["animate", str(wav), "--out", str(out), "--models", folder, "--cue", "nan=calm"])
    assert exit_info.value.code == 2 and not out.exists()
    assert "a cue's time_s must be a finite number" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("out", "message"),
    [
        ("missing/take.csv", "the folder '{tmp}/missing' does not exist"),
        ("file.txt/take.csv", "'{tmp}/file.txt' is a file, not a folder"),
        ("take.txt", "--out must end in .csv, .json or .npy"),
        ("sub.csv", "is a folder"),
    ],
)
def test_command_line_checks_the_output_before_any_work(tmp_path, monkeypatch, capsys, out, message):
    import soundfile as sf

    import expclip_blender.api
    from expclip_blender.__main__ import main

    (tmp_path / "file.txt").write_text("x")
    (tmp_path / "sub.csv").mkdir()
    wav = tmp_path / "line.wav"
    sf.write(wav, _speechlike(0.5, 16000), 16000)
    monkeypatch.setattr(expclip_blender.api, "load", lambda **_: pytest.fail("the model loaded before --out"))
    assert main(["animate", str(wav), "--out", str(tmp_path / out)]) == 2
    assert message.format(tmp=tmp_path) in capsys.readouterr().err


def test_command_line_checks_numbers_before_any_work(tmp_path, monkeypatch, capsys):
    import expclip_blender.api
    from expclip_blender.__main__ import main

    monkeypatch.setattr(expclip_blender.api, "load", lambda **_: pytest.fail("the model loaded first"))
    for option, value, message in (
        ("--fps", "1e6", "--fps must be from 1 to 1000"),
        ("--fps", "nan", "--fps must be a number from 1 to 1000"),
        ("--transition", "inf", "--transition must be a number from 0 to 30"),
        ("--smoothing", "-1", "--smoothing must be from 0 to 1"),
        ("--intensity", "7", "--intensity must be from 0 to 2"),
        ("--seed", "-3", "--seed must be a whole number"),
        ("--gaze-amount", "3", "--gaze-amount must be from 0 to 2"),
        ("--gaze-amount", "nan", "--gaze-amount must be a number from 0 to 2"),
    ):
        args = ["animate", str(tmp_path / "line.wav"), "--out", str(tmp_path / "t.csv"), option, value]
        assert main(args) == 2
        assert message in capsys.readouterr().err
