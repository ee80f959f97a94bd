"""A truncated audio file decodes to its first part: the core loader warns with both lengths."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from expclip_blender.audio import AudioWarning, load_audio, wav_stated_frames

RATE = 44100


def _tone(seconds: float) -> np.ndarray:
    return (0.3 * np.sin(2 * np.pi * 220 * np.arange(round(seconds * RATE)) / RATE)).astype(np.float32)


def _cut(path: Path, fraction: float = 0.5) -> Path:
    data = path.read_bytes()
    cut = path.with_name(f"cut{path.suffix}")
    cut.write_bytes(data[: int(len(data) * fraction)])
    return cut


def test_wav_header_states_its_frames(tmp_path: Path) -> None:
    sf.write(tmp_path / "a.wav", np.zeros((1000, 2), np.float32), RATE, subtype="PCM_24")
    assert wav_stated_frames(tmp_path / "a.wav") == 1000
    sf.write(tmp_path / "a.flac", np.zeros(1000, np.float32), RATE)
    assert wav_stated_frames(tmp_path / "a.flac") is None


def test_truncated_wav_warns_with_both_lengths(tmp_path: Path) -> None:
    sf.write(tmp_path / "whole.wav", _tone(4.0), RATE, subtype="PCM_16")
    with pytest.warns(AudioWarning, match=r"'cut\.wav' is truncated: 2\.00 s decoded of the 4\.00 s"):
        audio = load_audio(_cut(tmp_path / "whole.wav"))
    assert len(audio) == pytest.approx(2.0 * 16000, abs=20)  # what is there still loads


@pytest.mark.skipif("MP3" not in sf.available_formats(), reason="this libsndfile writes no MP3")
def test_truncated_mp3_warns(tmp_path: Path) -> None:
    sf.write(tmp_path / "whole.mp3", _tone(4.0), RATE, format="MP3")
    with pytest.warns(AudioWarning, match=r"'cut\.mp3' is truncated: .* of the 4\.00 s"):
        load_audio(_cut(tmp_path / "whole.mp3"))


@pytest.mark.parametrize("fmt", ["wav", "flac", "mp3"])
def test_whole_files_do_not_warn(tmp_path: Path, fmt: str) -> None:
    if fmt.upper() not in sf.available_formats():
        pytest.skip(f"this libsndfile writes no {fmt}")
    sf.write(tmp_path / f"whole.{fmt}", _tone(2.0), RATE, format=fmt.upper())
    with warnings.catch_warnings():
        warnings.simplefilter("error", AudioWarning)
        load_audio(tmp_path / f"whole.{fmt}")
