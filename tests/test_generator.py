"""Speech features and the speech-to-face generator (untrained, small, fixed seed; CPU unless CUDA exists)."""

from __future__ import annotations

import json
import math
from dataclasses import asdict

import numpy as np
import pytest
import torch

from expclip_blender.expclip import ModelFileError
from expclip_blender.features import N_MELS, log_mel
from expclip_blender.generator import (
    Cancelled,
    GeneratorConfig,
    SpeechToFace,
    load_generator,
    run_chunked,
    save_generator,
    stack_frames,
    to_fps,
)

SMALL = GeneratorConfig(channels=32, blocks=3, style_dim=16)


@pytest.fixture(scope="module")
def model() -> SpeechToFace:
    torch.manual_seed(0)
    return SpeechToFace(SMALL).eval()


def _speechlike(duration: float, sr: int, seed: int = 0) -> np.ndarray:
    """Noise bursts under a 4 Hz syllable envelope: enough spectral and temporal change for the tests."""
    rng = np.random.default_rng(seed)
    t = np.arange(round(duration * sr)) / sr
    envelope = np.clip(np.sin(2 * np.pi * 4 * t), 0, None)
    tone = np.sin(2 * np.pi * 180 * t) * 0.3
    return ((rng.standard_normal(len(t)) * 0.05 + tone) * envelope).astype(np.float32)


def _inputs(n: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, N_MELS)).astype(np.float32), rng.standard_normal(SMALL.style_dim).astype(
        np.float32
    )


@pytest.mark.parametrize("sr", [8000, 16000, 44100])
@pytest.mark.parametrize("duration", [0.0334, 1.0, 2.345, 3.0])
def test_log_mel_shape_and_length(sr, duration):
    audio = _speechlike(duration, sr)
    mel = log_mel(audio, sr)
    assert mel.dtype == np.float32
    assert mel.shape == (math.ceil(len(audio) / sr * 100 - 1e-6), N_MELS)
    assert np.all(np.isfinite(mel))


def test_log_mel_is_normalised_and_silence_is_finite():
    mel = log_mel(_speechlike(2.0, 16000), 16000)
    np.testing.assert_allclose(mel.mean(axis=0), 0.0, atol=1e-4)
    assert np.all(mel.std(axis=0) <= 1.0 + 1e-4)
    for silence in (np.zeros(16000, np.float32), np.full(16000, 1e-9, np.float32)):
        quiet = log_mel(silence, 16000)
        assert quiet.shape == (100, N_MELS) and np.all(np.isfinite(quiet)) and np.abs(quiet).max() < 1.0


def test_log_mel_frame_is_centred_on_its_time():
    # A click at 0.5 s: the loudest frame is frame 50 whatever the sample rate.
    for sr in (16000, 44100):
        audio = np.zeros(sr, np.float32)
        audio[sr // 2] = 1.0
        assert int(np.argmax(log_mel(audio, sr).sum(axis=1))) == 50
        # Padded with room tone: the same click sits P frames later, P = pad_s * 100.
        assert int(np.argmax(log_mel(audio, sr, pad_s=0.3).sum(axis=1))) == 80


@pytest.mark.parametrize("duration", [0.0334, 0.1, 2.345])
def test_log_mel_room_tone_padding(duration):
    audio = _speechlike(duration, 16000)
    plain, padded = log_mel(audio, 16000), log_mel(audio, 16000, pad_s=1.2)
    assert padded.shape == (len(plain) + 240, N_MELS) and np.all(np.isfinite(padded))
    np.testing.assert_array_equal(padded, log_mel(audio, 16000, pad_s=1.2))  # seeded tone: deterministic
    if duration > 1:
        # The tone is quiet: every padding frame is well under the clip's loud frames.
        loudness = padded.mean(axis=1)
        assert loudness[:110].max() < np.percentile(loudness[120:-120], 75)
        assert loudness[-110:].max() < np.percentile(loudness[120:-120], 75)
    with pytest.raises(ValueError, match="whole number of 10 ms frames"):
        log_mel(audio, 16000, pad_s=0.005)


def test_output_shape_and_range(model):
    mel, style = _inputs(250)
    out = run_chunked(model, mel, style)
    assert SMALL.stride == 2 and SMALL.output_rate == 50.0
    assert out.shape == (125, 52) and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 1.0
    batch = model(torch.from_numpy(mel)[None].repeat(2, 1, 1), torch.from_numpy(style)[None].repeat(2, 1))
    assert batch.shape == (2, 125, 52)
    # An odd number of feature frames: the last output frame still exists (its pair repeats the frame).
    odd, _ = _inputs(251)
    assert run_chunked(model, odd, style).shape == (126, 52)
    assert run_chunked(model, mel[:0], style).shape == (0, 52)


def test_stack_frames_puts_pairs_side_by_side():
    mel = torch.arange(5 * 3, dtype=torch.float32).reshape(1, 5, 3)
    stacked = stack_frames(mel, 2)
    assert stacked.shape == (1, 3, 6)
    assert stacked[0, 0].tolist() == [0, 1, 2, 3, 4, 5]
    assert stacked[0, 2].tolist() == [12, 13, 14, 12, 13, 14]


def test_style_track_interpolates_the_embedding(model):
    mel, a = _inputs(200, seed=1)
    _, b = _inputs(200, seed=2)
    styles = np.stack([a, b])
    n = 100
    only_a = run_chunked(model, mel, styles, mix=np.tile([1.0, 0.0], (n, 1)))
    np.testing.assert_allclose(only_a, run_chunked(model, mel, a), atol=1e-5)
    half = run_chunked(model, mel, styles, mix=np.full((n, 2), 0.5), chunk_frames=37)
    np.testing.assert_allclose(half, run_chunked(model, mel, (a + b) / 2), atol=1e-5)
    with pytest.raises(ValueError, match="style track"):
        run_chunked(model, mel, styles, mix=np.full((n + 1, 2), 0.5))


def test_progress_reports_and_cancels(model):
    mel, style = _inputs(1000)
    seen: list[float] = []
    run_chunked(model, mel, style, chunk_frames=100, progress=seen.append)
    assert seen == sorted(seen) and seen[-1] == 1.0 and len(seen) == 5
    with pytest.raises(Cancelled):
        run_chunked(model, mel, style, chunk_frames=100, progress=lambda f: f < 0.5)


def test_receptive_field(model):
    # kernel 5, dilations 1, 2, 4: 2 * (1 + 2 + 4) output frames each side; a change further away has no
    # effect. Feature frame 100 is in output frame 50 (stride 2).
    assert model.receptive_field_frames == 14
    mel, style = _inputs(200)
    base = run_chunked(model, mel, style)
    mel2 = mel.copy()
    mel2[100] += 5.0
    diff = np.abs(run_chunked(model, mel2, style) - base).max(axis=1)
    assert diff[50 - 14] > 0 and diff[50 + 14] > 0
    assert diff[: 50 - 14].max() == 0 and diff[50 + 15 :].max() == 0


def test_chunked_equals_unchunked_with_bounded_chunks(model):
    mel, style = _inputs(2000)
    full = run_chunked(model, mel, style, chunk_frames=10**6)
    seen: list[int] = []
    hook = model.inp.register_forward_hook(lambda _m, args, _out: seen.append(args[0].shape[1]))
    try:
        chunked = run_chunked(model, mel, style, chunk_frames=97)
    finally:
        hook.remove()
    overlap = 2 * model.receptive_field_frames
    assert len(seen) == math.ceil(1000 / 97)
    assert max(seen) <= 97 + 2 * overlap
    assert np.abs(chunked - full).max() < 1e-4
    # Chunks shorter than the crossfade, and a last chunk of a single frame, still join up.
    for chunk in (10, 111):
        n = 2 * (8 * chunk + 1)
        whole = run_chunked(model, mel[:n], style, chunk_frames=n)
        assert np.abs(run_chunked(model, mel[:n], style, chunk_frames=chunk) - whole).max() < 1e-4


def test_deterministic(model):
    mel, style = _inputs(300)
    a = run_chunked(model, mel, style, chunk_frames=128)
    b = run_chunked(model, mel, style, chunk_frames=128)
    assert np.array_equal(a, b)


@pytest.mark.parametrize("fps", [24.0, 25.0, 29.97, 30.0, 60.0])
@pytest.mark.parametrize("duration", [1.0, 2.0, 3.37])
def test_to_fps_length_and_interpolation(fps, duration):
    n100 = math.ceil(duration * 100 - 1e-6)
    t100 = np.arange(n100) / 100.0
    frames = np.stack([t100, np.sin(t100)], axis=1).astype(np.float32)
    out = to_fps(frames, duration, fps)
    n = math.ceil(duration * fps - 1e-6)
    assert out.shape == (n, 2)
    times = np.arange(n) / fps
    # Linear in t is reproduced exactly (up to the clamp past the last 100 Hz frame).
    np.testing.assert_allclose(out[:, 0], np.minimum(times, t100[-1]), atol=1e-5)
    np.testing.assert_allclose(out[:, 1], np.interp(times, t100, frames[:, 1]), atol=1e-5)


def test_to_fps_known_lengths():
    frames = np.zeros((1000, 52), np.float32)
    assert len(to_fps(frames, 10.0, 30.0)) == 300
    assert len(to_fps(frames, 10.0, 29.97)) == 300
    assert len(to_fps(frames, 2.0, 30.0)) == 60


def test_save_load_round_trip(model, tmp_path):
    path = tmp_path / "generator.safetensors"
    save_generator(model, path)
    loaded = load_generator(path, device="cpu")
    assert loaded.config == SMALL and not loaded.training
    mel, style = _inputs(200)
    assert np.array_equal(run_chunked(model, mel, style), run_chunked(loaded, mel, style))


def test_bad_files_give_clear_errors(model, tmp_path):
    with pytest.raises(ModelFileError, match="do not exist"):
        load_generator(tmp_path / "nope.safetensors", device="cpu")
    with pytest.raises(ModelFileError, match="pickle"):
        load_generator(tmp_path / "generator.pt", device="cpu")
    corrupt = tmp_path / "corrupt.safetensors"
    corrupt.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00not a header at all")
    with pytest.raises(ModelFileError, match="cannot be read"):
        load_generator(corrupt, device="cpu")

    from safetensors.torch import save_file

    mismatched = tmp_path / "mismatched.safetensors"
    other = SpeechToFace(GeneratorConfig(channels=48, blocks=3, style_dim=16))
    tensors = {k: v.contiguous() for k, v in other.state_dict().items()}
    save_file(tensors, str(mismatched), metadata={"config": '{"channels": 32, "blocks": 3, "style_dim": 16}'})
    with pytest.raises(ModelFileError, match=r"inp\.weight is \(48, 160\), expected \(32, 160\)"):
        load_generator(mismatched, device="cpu")
    no_config = tmp_path / "no_config.safetensors"
    save_file(tensors, str(no_config))
    with pytest.raises(ModelFileError, match="no 'config'"):
        load_generator(no_config, device="cpu")


def test_non_finite_generator_weights_are_refused(model, tmp_path):
    from safetensors.torch import save_file

    tensors = {k: v.clone().contiguous() for k, v in model.state_dict().items()}
    tensors["head.weight"][0, 0] = float("nan")
    path = tmp_path / "generator.safetensors"
    save_file(tensors, str(path), metadata={"config": json.dumps(asdict(SMALL))})
    with pytest.raises(ModelFileError, match=rf"'{path}' contain NaN or infinite values in head\.weight"):
        load_generator(path, device="cpu")


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            {"channels": 5000, "blocks": 1, "kernel_size": 1, "style_dim": 1},
            "'channels' must be a whole number",
        ),
        ({"channels": 60_000}, "'channels' must be a whole number from 1 to 4096, got 60000"),
        ({"blocks": 10_000}, "'blocks' must be a whole number from 1 to 256"),
        ({"style_dim": 12.5}, "'style_dim' must be a whole number"),
        ({"channels": "128"}, "'channels' must be a whole number"),
        ({"channels": 4096, "blocks": 256, "kernel_size": 63}, "parameters, more than the"),
    ],
)
def test_header_config_is_checked_before_anything_is_allocated(tmp_path, config, message):
    from safetensors.torch import save_file

    path = tmp_path / "generator.safetensors"
    save_file({"x": torch.zeros(1)}, str(path), metadata={"config": json.dumps(config)})
    with pytest.raises(
        ModelFileError, match=rf"^Generator weights '{path}' have an unusable config.*{message}"
    ):
        load_generator(path, device="cpu")


def test_cuda_matches_cpu(model, tmp_path):
    if not torch.cuda.is_available():
        pytest.skip("CUDA is not available in this torch build / on this machine")
    path = tmp_path / "generator.safetensors"
    save_generator(model, path)
    gpu = load_generator(path, device="cuda")
    assert next(gpu.parameters()).is_cuda
    mel, style = _inputs(700)
    cpu_out = run_chunked(model, mel, style, chunk_frames=256)
    gpu_out = run_chunked(gpu, mel, style, device="cuda", chunk_frames=256)
    assert np.abs(cpu_out - gpu_out).max() < 1e-4
