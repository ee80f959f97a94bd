"""The core audio loader (no bpy): formats, rates, channel averaging, resampling and clear errors.

Every file is written into tmp_path by the test itself with soundfile (libsndfile 1.2 writes WAV, FLAC,
OGG/Vorbis, OGG/Opus and MP3), so nothing is downloaded or committed.
"""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from audio_signals import (
    A_LEFT,
    A_RIGHT,
    F_LEFT,
    F_RIGHT,
    FORMATS,
    format_cases,
    tone_amplitude,
    tone_signal,
    write_file,
)

from expclip_blender.audio import AudioError, load_audio, resample, to_mono, validate_audio

ROOT = Path(__file__).resolve().parent.parent


def peak_frequency(y: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(y * np.hanning(len(y)), n=8 * len(y)))  # zero-padded: ~0.1 Hz bins
    return float(np.fft.rfftfreq(8 * len(y), 1 / rate)[np.argmax(spectrum)])


@pytest.mark.parametrize(("fmt", "rate", "channels"), format_cases())
def test_formats_rates_and_channels(tmp_path: Path, fmt: str, rate: int, channels: int) -> None:
    path = write_file(tmp_path / f"tone{FORMATS[fmt][0]}", tone_signal(rate, channels), rate, fmt)
    y = load_audio(path, 16000)

    assert y.dtype == np.float32
    assert y.ndim == 1
    assert y.flags.c_contiguous
    assert abs(len(y) - 16000) <= 4, len(y)
    assert np.isfinite(y).all()
    # The 440 Hz tone survives decoding and resampling at its frequency.
    assert peak_frequency(y, 16000) == pytest.approx(F_LEFT, abs=2.0)
    tol = 0.1 if FORMATS[fmt][3] else 0.02  # lossy codecs at 8 kHz lose a little level
    if channels == 2:
        # Channels are averaged: each tone at half its level (a sum would double them; left-only would
        # lose the 1000 Hz tone entirely).
        assert tone_amplitude(y, 16000, F_LEFT) == pytest.approx(A_LEFT / 2, rel=tol)
        assert tone_amplitude(y, 16000, F_RIGHT) == pytest.approx(A_RIGHT / 2, rel=tol)
    else:
        assert tone_amplitude(y, 16000, F_LEFT) == pytest.approx(A_LEFT, rel=tol)
        assert tone_amplitude(y, 16000, F_RIGHT) < 0.01


def test_ogg_opus(tmp_path: Path) -> None:
    path = tmp_path / "tone.opus"
    sf.write(path, tone_signal(48000, 2), 48000, format="OGG", subtype="OPUS")
    y = load_audio(path, 16000)
    assert abs(len(y) - 16000) <= 4
    assert tone_amplitude(y, 16000, F_LEFT) == pytest.approx(A_LEFT / 2, rel=0.1)


@pytest.mark.parametrize("target", [8000, 16000, 22050, 48000])
def test_requested_rate(tmp_path: Path, target: int) -> None:
    path = write_file(tmp_path / "tone.flac", tone_signal(44100, 1, duration=0.5), 44100, "flac")
    y = load_audio(path, target)
    assert abs(len(y) - target // 2) <= 2
    assert peak_frequency(y, target) == pytest.approx(F_LEFT, abs=2.0)


def test_same_rate_is_not_resampled(tmp_path: Path) -> None:
    data = tone_signal(16000, 2, duration=0.25)
    path = write_file(tmp_path / "same.wav", data, 16000, "wav-float32")
    y = load_audio(str(path), 16000)  # str and Path both accepted
    np.testing.assert_array_equal(y, data.mean(axis=1))


def test_exactly_one_frame_passes_and_less_fails(tmp_path: Path) -> None:
    one_frame = write_file(tmp_path / "frame.wav", tone_signal(48000, 1, duration=1 / 30), 48000, "wav-pcm16")
    assert len(load_audio(one_frame, 48000)) == 1600
    shorter = write_file(tmp_path / "shorter.wav", tone_signal(48000, 1)[:1590], 48000, "wav-pcm16")
    with pytest.raises(AudioError, match="too short"):
        load_audio(shorter, 48000)
    assert len(load_audio(shorter, 48000, min_duration=0.01)) == 1590  # the limit is configurable


def test_speed_without_numba(tmp_path: Path) -> None:
    """Loading must not import librosa/numba: their first call costs seconds (minutes cold)."""
    path = write_file(tmp_path / "tone.mp3", tone_signal(44100, 2), 44100, "mp3")
    code = (
        "import sys; from expclip_blender.audio import load_audio; "
        f"y = load_audio({str(path)!r}, 16000); "
        "assert len(y) == 16000; "
        "heavy = sorted(m for m in ('numba', 'librosa', 'scipy', 'bpy') if m in sys.modules); "
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, timeout=60)


# ---- errors ------------------------------------------------------------------------------------------


def assert_names_file(err: pytest.ExceptionInfo, path: Path, *words: str) -> None:
    message = str(err.value)
    assert f"'{path}'" in message
    assert err.value.path == str(path)
    for word in words:
        assert word in message, message


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "speech.wav"
    with pytest.raises(AudioError) as err:
        load_audio(path)
    assert_names_file(err, path, "does not exist", "Check the path")


def test_unreadable_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "locked" / "speech.wav"

    def deny(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "stat", deny)  # tests run as root here, so chmod cannot lock a folder
    with pytest.raises(AudioError) as err:
        load_audio(path)
    monkeypatch.undo()
    assert_names_file(err, path, "cannot be opened (Permission denied)", "permissions")


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.wav"
    path.write_bytes(b"")
    with pytest.raises(AudioError) as err:
        load_audio(path)
    assert_names_file(err, path, "empty (0 bytes)", "Choose")


def test_directory(tmp_path: Path) -> None:
    path = tmp_path / "folder.wav"
    path.mkdir()
    with pytest.raises(AudioError) as err:
        load_audio(path)
    assert_names_file(err, path, "folder, not a file")


@pytest.mark.parametrize("name", ["noise.wav", "noise.mp3", "noise.flac", "noise.ogg", "notes.txt"])
def test_corrupt_file(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(np.random.default_rng(7).bytes(8192))
    with pytest.raises(AudioError) as err:
        load_audio(path)
    assert_names_file(err, path, "not a readable audio file", "damaged", "Re-export")


def test_a_damaged_file_in_a_libsndfile_format_never_falls_back(tmp_path: Path, monkeypatch) -> None:
    """Whether FFmpeg is installed must not change the answer: a damaged FLAC is damaged."""
    import expclip_blender.audio as audio

    salvaged: list[Path] = []

    def salvage(path: Path) -> tuple[np.ndarray, int]:  # what FFmpeg does with half a FLAC
        salvaged.append(path)
        return np.zeros((4000, 1), np.float32) + 0.1, 16000

    monkeypatch.setattr(audio, "_decode_audioread", salvage)
    path = tmp_path / "noise.flac"
    path.write_bytes(np.random.default_rng(7).bytes(8192))
    with pytest.raises(AudioError) as err:
        load_audio(path)
    assert_names_file(err, path, "damaged")
    assert salvaged == []


def test_truncated_flac(tmp_path: Path) -> None:
    whole = write_file(tmp_path / "whole.flac", tone_signal(44100, 2), 44100, "flac").read_bytes()
    path = tmp_path / "cut.flac"
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(AudioError) as err:
        load_audio(path)
    assert_names_file(err, path, "damaged")


def test_wav_header_without_data(tmp_path: Path) -> None:
    path = write_file(tmp_path / "silence.wav", np.zeros((0, 1), np.float32), 16000, "wav-pcm16")
    with pytest.raises(AudioError) as err:
        load_audio(path)
    assert_names_file(err, path, "no audio (0 samples)")


def test_too_short(tmp_path: Path) -> None:
    path = write_file(tmp_path / "blip.wav", tone_signal(44100, 2)[:441], 44100, "wav-pcm16")  # 10 ms
    with pytest.raises(AudioError) as err:
        load_audio(path)
    assert_names_file(err, path, "too short", "10.0 ms", "33.3 ms", "longer recording")


def test_all_nan(tmp_path: Path) -> None:
    path = write_file(tmp_path / "nan.wav", np.full((4410, 2), np.nan, np.float32), 44100, "wav-float32")
    with pytest.raises(AudioError) as err:
        load_audio(path)
    assert_names_file(err, path, "4410 of its 4410 samples are not numbers (NaN or infinity)")


def test_blender_relative_path() -> None:
    with pytest.raises(AudioError) as err:
        load_audio("//audio/line.wav")
    assert "'//audio/line.wav'" in str(err.value)
    assert "bpy.path.abspath" in str(err.value)


def test_audio_error_is_value_error_and_picklable(tmp_path: Path) -> None:
    err = AudioError(tmp_path / "x.wav", "the file is empty (0 bytes)")
    assert isinstance(err, ValueError)
    copy = pickle.loads(pickle.dumps(err))
    assert str(copy) == str(err)
    assert copy.path == err.path == str(tmp_path / "x.wav")


def test_bad_sample_rate(tmp_path: Path) -> None:
    path = write_file(tmp_path / "tone.wav", tone_signal(16000, 1), 16000, "wav-pcm16")
    with pytest.raises(ValueError, match="sample_rate"):
        load_audio(path, 0)


def test_audioread_fallback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Files in a format libsndfile lacks go through audioread (here its standard-library WAV reader)."""
    wav = write_file(tmp_path / "tone.wav", tone_signal(22050, 2), 22050, "wav-pcm16")
    path = wav.rename(tmp_path / "tone.m4a")  # a suffix libsndfile has no format for

    def refuse(*args, **kwargs):
        raise sf.LibsndfileError(1, "Error opening: ")

    monkeypatch.setattr(sf, "read", refuse)  # the module load_audio imports when it runs
    y = load_audio(path, 16000)
    assert y.dtype == np.float32 and y.ndim == 1
    assert abs(len(y) - 16000) <= 4
    assert tone_amplitude(y, 16000, F_LEFT) == pytest.approx(A_LEFT / 2, rel=0.02)
    assert tone_amplitude(y, 16000, F_RIGHT) == pytest.approx(A_RIGHT / 2, rel=0.02)


# ---- helpers -----------------------------------------------------------------------------------------


def test_to_mono() -> None:
    stereo = np.array([[1.0, 0.0], [0.5, -0.5], [0.2, 0.4]])
    np.testing.assert_allclose(to_mono(stereo), [0.5, 0.0, 0.3], atol=1e-7)
    assert to_mono(stereo).dtype == np.float32
    np.testing.assert_array_equal(to_mono(np.array([[0.1], [0.2]])), np.float32([0.1, 0.2]))
    np.testing.assert_array_equal(to_mono(np.float64([0.1, 0.2])), np.float32([0.1, 0.2]))
    np.testing.assert_allclose(to_mono(np.ones((4, 6)) * [1, 2, 3, 4, 5, 6]), np.full(4, 3.5))
    with pytest.raises(ValueError, match="shape"):
        to_mono(np.zeros((2, 2, 2)))


def test_resample_lengths_and_identity() -> None:
    x = np.random.default_rng(0).standard_normal(44100).astype(np.float32)
    assert len(resample(x, 44100, 16000)) == 16000
    assert resample(x, 44100, 16000).dtype == np.float32
    assert resample(x, 44100, 44100) is x


def test_validate_audio_reports_infinity() -> None:
    samples = np.zeros(16000, np.float32)
    samples[[3, 99]] = [np.inf, -np.inf]
    with pytest.raises(AudioError, match="2 of its 16000 samples"):
        validate_audio(samples, 16000, "clip.wav")
    assert validate_audio(np.zeros(16000, np.float32), 16000, "clip.wav") is not None
