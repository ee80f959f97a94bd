"""The Blender-side loader (``operators.services.audio_aud``): decoding with ``aud``, agreement with the
core loader, and the same clear errors, raised as the extension's own AudioError.

The bpy 4.2 wheel on PyPI is built without audaspace (``bpy.app.build_options.audaspace`` is False, no
``aud`` module), so there the loader falls back to the core decoder; the tests that need ``aud`` itself
skip, the rest check the fallback.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
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

pytestmark = [pytest.mark.blender, pytest.mark.blender_compat]

# FFmpeg's Vorbis decoder in aud does not apply the end trim of the last Ogg page exactly: the decoded
# length differs by up to one Vorbis block at the end (24 ms at 8 kHz), never at the start.
LOSSY_LENGTH_SLACK_S = 0.03


def speechlike_signal(rate: int, duration: float = 1.5) -> np.ndarray:
    """Stereo, non-periodic (so alignment is unambiguous): a 150-3500 Hz chirp plus noise bursts."""
    t = np.arange(round(duration * rate)) / rate
    chirp = np.sin(2 * np.pi * (150 * t + (3500 - 150) / (2 * duration) * t**2))
    noise = np.random.default_rng(3).standard_normal(len(t)) * (np.sin(2 * np.pi * 3 * t) > 0.5)
    return np.stack([0.5 * chirp, 0.15 * noise], axis=1).astype(np.float32)


def aligned(a: np.ndarray, b: np.ndarray, max_lag: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Shift ``a`` against ``b`` by the lag (|lag| <= max_lag) that best matches them; return both cut."""
    core = b[max_lag : len(b) - max_lag]
    scores = np.correlate(a[: len(b)], core, mode="valid")
    lag = int(np.argmax(scores)) - max_lag
    a = a[lag:] if lag >= 0 else np.concatenate([np.zeros(-lag, a.dtype), a])
    n = min(len(a), len(b))
    return a[:n], b[:n], lag


@pytest.fixture(scope="module")
def audio_aud(ext):
    from expclip_ext.operators.services import audio_aud

    return audio_aud


@pytest.fixture(scope="module")
def core(ext):
    """The core audio module as the extension sees it (its AudioError is the one the loader raises)."""
    from expclip_ext.expclip_blender import audio

    return audio


@pytest.fixture
def needs_aud(audio_aud):
    if not audio_aud.HAS_AUD:
        pytest.skip("this bpy build has no aud (audaspace off: the PyPI bpy 4.2 wheel)")


def test_aud_presence_matches_build(audio_aud, bpy_module) -> None:
    # The fallback must only ever be taken where Blender really has no audaspace.
    has_audaspace = bool(bpy_module.app.build_options.audaspace)
    assert audio_aud.HAS_AUD is has_audaspace


@pytest.mark.parametrize(("fmt", "rate", "channels"), format_cases())
def test_formats_rates_and_channels(tmp_path: Path, audio_aud, fmt: str, rate: int, channels: int) -> None:
    path = write_file(tmp_path / f"tone{FORMATS[fmt][0]}", tone_signal(rate, channels), rate, fmt)
    y = audio_aud.load_audio_with_aud(path, 16000)

    assert y.dtype == np.float32
    assert y.ndim == 1
    assert np.isfinite(y).all()
    slack = LOSSY_LENGTH_SLACK_S * 16000 if FORMATS[fmt][3] else 4
    assert abs(len(y) - 16000) <= slack, len(y)
    tol = 0.1 if FORMATS[fmt][3] else 0.02
    if channels == 2:
        # Averaged, not summed as audaspace's rechannel(1) would (that doubles both tones).
        assert tone_amplitude(y, 16000, F_LEFT) == pytest.approx(A_LEFT / 2, rel=tol)
        assert tone_amplitude(y, 16000, F_RIGHT) == pytest.approx(A_RIGHT / 2, rel=tol)
    else:
        assert tone_amplitude(y, 16000, F_LEFT) == pytest.approx(A_LEFT, rel=tol)
        assert tone_amplitude(y, 16000, F_RIGHT) < 0.01


@pytest.mark.parametrize("fmt", list(FORMATS))
@pytest.mark.parametrize("rate", [22050, 48000])
def test_agrees_with_core_loader(tmp_path: Path, audio_aud, core, fmt: str, rate: int) -> None:
    path = write_file(tmp_path / f"speech{FORMATS[fmt][0]}", speechlike_signal(rate), rate, fmt)
    from_aud = audio_aud.load_audio_with_aud(path, 16000)
    from_core = core.load_audio(path, 16000)

    a, b, lag = aligned(from_aud, from_core, max_lag=160)
    assert lag == 0  # no decoder delay between FFmpeg and libsndfile: lip sync must not drift
    assert np.corrcoef(a, b)[0, 1] > 0.999
    assert np.sqrt(np.mean((a - b) ** 2)) < 0.02 * np.sqrt(np.mean(b**2))


def test_aac_only_blender_decodes(tmp_path: Path, audio_aud, core, needs_aud) -> None:
    """A format libsndfile lacks (AAC, written here by aud's own FFmpeg encoder) still loads in Blender."""
    import aud

    path = tmp_path / "tone.aac"
    aud.Sound.buffer(tone_signal(48000, 2), 48000).write(
        str(path), 48000, aud.CHANNELS_STEREO, aud.FORMAT_S16, aud.CONTAINER_AAC, aud.CODEC_AAC, 128000
    )
    y = audio_aud.load_audio_with_aud(path, 16000)
    # Raw AAC (ADTS) has no gapless info: the encoder's 1024-sample priming stays, as in Blender's player.
    assert abs(len(y) - 16000) <= 0.05 * 16000
    assert tone_amplitude(y, 16000, F_LEFT) == pytest.approx(A_LEFT / 2, rel=0.1)
    assert tone_amplitude(y, 16000, F_RIGHT) == pytest.approx(A_RIGHT / 2, rel=0.1)

    # Outside Blender it needs FFmpeg (through audioread); without it, the core says so clearly.
    try:
        y_core = core.load_audio(path, 16000)
    except core.AudioError as err:
        assert f"'{path}'" in str(err) and "FFmpeg" in str(err)
    else:
        assert tone_amplitude(y_core, 16000, F_LEFT) == pytest.approx(A_LEFT / 2, rel=0.1)


def test_fallback_without_aud_is_the_core_loader(tmp_path: Path, audio_aud, core, monkeypatch) -> None:
    path = write_file(tmp_path / "speech.flac", speechlike_signal(44100), 44100, "flac")
    monkeypatch.setattr(audio_aud, "HAS_AUD", False)
    np.testing.assert_array_equal(audio_aud.load_audio_with_aud(path, 16000), core.load_audio(path, 16000))


def test_requested_rate_and_str_path(tmp_path: Path, audio_aud) -> None:
    path = write_file(tmp_path / "tone.flac", tone_signal(44100, 1, duration=0.5), 44100, "flac")
    y = audio_aud.load_audio_with_aud(str(path), 22050)
    assert abs(len(y) - 22050 // 2) <= 2
    assert tone_amplitude(y, 22050, F_LEFT) == pytest.approx(A_LEFT, rel=0.02)


# ---- errors: the extension's AudioError, naming the file, the problem and what to do ------------------


def raises_naming(core, path: Path, call, *words: str) -> None:
    with pytest.raises(core.AudioError) as err:
        call()
    message = str(err.value)
    assert f"'{path}'" in message
    assert err.value.path == str(path)
    for word in words:
        assert word in message, message


def test_missing_file(tmp_path: Path, audio_aud, core) -> None:
    path = tmp_path / "nowhere" / "speech.wav"
    raises_naming(core, path, lambda: audio_aud.load_audio_with_aud(path), "does not exist")


def test_empty_file(tmp_path: Path, audio_aud, core) -> None:
    path = tmp_path / "empty.mp3"
    path.write_bytes(b"")
    raises_naming(core, path, lambda: audio_aud.load_audio_with_aud(path), "empty (0 bytes)")


def test_directory(tmp_path: Path, audio_aud, core) -> None:
    path = tmp_path / "folder.wav"
    path.mkdir()
    raises_naming(core, path, lambda: audio_aud.load_audio_with_aud(path), "folder, not a file")


@pytest.mark.parametrize("name", ["noise.wav", "noise.mp3", "noise.flac", "noise.ogg", "notes.txt"])
def test_corrupt_file(tmp_path: Path, audio_aud, core, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(np.random.default_rng(7).bytes(8192))
    raises_naming(core, path, lambda: audio_aud.load_audio_with_aud(path), "damaged", "Re-export")


@pytest.mark.parametrize("fmt", ["flac", "ogg-vorbis", "mp3"])
@pytest.mark.parametrize("damage", ["header-only", "header-then-noise"])
def test_damaged_after_header(tmp_path: Path, audio_aud, core, fmt: str, damage: str) -> None:
    # Also guards the order of aud calls: data() on a file aud cannot open would abort the process.
    whole = write_file(tmp_path / f"whole{FORMATS[fmt][0]}", speechlike_signal(44100), 44100, fmt)
    head = whole.read_bytes()[: 60 if damage == "header-only" else 200]
    path = tmp_path / f"damaged{FORMATS[fmt][0]}"
    path.write_bytes(head if damage == "header-only" else head + np.random.default_rng(5).bytes(20000))
    # FFmpeg and libsndfile disagree on what is left ("no audio" or "cannot decode"); both name the file.
    raises_naming(core, path, lambda: audio_aud.load_audio_with_aud(path), "Cannot read audio file")


def test_corrupt_file_message_in_blender(tmp_path: Path, audio_aud, core, needs_aud) -> None:
    # aud itself says only "The file couldn't be read with any installed file reader."
    path = tmp_path / "noise.wav"
    path.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk" * 100)
    raises_naming(core, path, lambda: audio_aud.load_audio_with_aud(path), "Blender cannot decode it")


def test_wav_header_without_data(tmp_path: Path, audio_aud, core) -> None:
    # aud reports a negative length for this file and returns an empty array.
    path = write_file(tmp_path / "silence.wav", np.zeros((0, 2), np.float32), 44100, "wav-pcm16")
    raises_naming(core, path, lambda: audio_aud.load_audio_with_aud(path), "no audio (0 samples)")


def test_too_short(tmp_path: Path, audio_aud, core) -> None:
    path = write_file(tmp_path / "blip.ogg", tone_signal(44100, 2)[:441], 44100, "ogg-vorbis")
    raises_naming(core, path, lambda: audio_aud.load_audio_with_aud(path), "too short", "longer recording")


def test_all_nan(tmp_path: Path, audio_aud, core) -> None:
    # aud decodes NaN samples as they are; the shared validation rejects them.
    path = write_file(tmp_path / "nan.wav", np.full((4410, 2), np.nan, np.float32), 44100, "wav-float32")
    raises_naming(core, path, lambda: audio_aud.load_audio_with_aud(path), "not numbers (NaN or infinity)")


# Seekable files are decoded a block at a time; 1-s blocks make four blocks of a 3.3 s file.
BLOCK_FORMATS = {"wav-pcm16": True, "wav-float32": True, "flac": False, "ogg-vorbis": False, "mp3": False}


@pytest.mark.parametrize("fmt", list(BLOCK_FORMATS))
def test_block_decode_equals_whole_decode(tmp_path: Path, audio_aud, core, needs_aud, fmt: str) -> None:
    import aud

    path = write_file(tmp_path / f"speech{FORMATS[fmt][0]}", speechlike_signal(48000, 3.3), 48000, fmt)
    # WAV goes block by block; a seek in FLAC/MP3/Vorbis is not sample-exact (see below), so those go whole.
    assert audio_aud._seeks_exactly(path) is BLOCK_FORMATS[fmt]
    whole = core.resample(core.to_mono(aud.Sound(str(path)).data()), 48000, 16000)
    for seconds in (1, 2, 100):
        blocks = audio_aud.load_audio_with_aud(path, 16000, block_seconds=seconds)
        assert blocks.dtype == np.float32
        np.testing.assert_array_equal(blocks, whole)


def test_block_decode_reads_the_blocks(tmp_path: Path, audio_aud, needs_aud, monkeypatch) -> None:
    path = write_file(tmp_path / "speech.wav", speechlike_signal(48000, 3.3), 48000, "wav-pcm16")
    seen = []
    blocks = audio_aud._blocks
    monkeypatch.setattr(audio_aud, "_blocks", lambda *a: (seen.append(len(b)) or b for b in blocks(*a)))
    audio_aud.load_audio_with_aud(path, 16000, block_seconds=1)
    assert seen == [48000] * 3 + [14400]


def test_block_decode_nan_in_one_block(tmp_path: Path, audio_aud, core) -> None:
    data = speechlike_signal(44100, 2.0)
    data[50000, 1] = np.nan  # in the second block
    path = write_file(tmp_path / "nan.wav", data, 44100, "wav-float32")
    call = lambda: audio_aud.load_audio_with_aud(path, block_seconds=1)  # noqa: E731
    raises_naming(core, path, call, f"1 of its {len(data)} samples are not numbers")


def test_block_decode_too_short_and_truncated(tmp_path: Path, audio_aud, core) -> None:
    path = write_file(tmp_path / "blip.wav", tone_signal(48000, 2)[:480], 48000, "wav-pcm16")
    call = lambda: audio_aud.load_audio_with_aud(path, block_seconds=1)  # noqa: E731
    raises_naming(core, path, call, "too short", "longer recording")
    whole = write_file(tmp_path / "whole.wav", speechlike_signal(48000, 3.0), 48000, "wav-pcm16")
    cut = tmp_path / "cut.wav"
    cut.write_bytes(whole.read_bytes()[: 44 + 48000 * 4])  # the header still states 3 s
    with pytest.warns(core.AudioWarning, match=r"'cut\.wav' is truncated: 1\.00 s decoded of the 3\.00 s"):
        samples = audio_aud.load_audio_with_aud(cut, 16000, block_seconds=1)  # ends on a block's end
    assert len(samples) == 16000


def test_block_seconds_must_be_whole(tmp_path: Path, audio_aud) -> None:
    path = write_file(tmp_path / "speech.wav", speechlike_signal(48000, 1.0), 48000, "wav-pcm16")
    with pytest.raises(ValueError, match="whole number of seconds"):
        audio_aud.load_audio_with_aud(path, block_seconds=0.5)  # type: ignore[arg-type]


@pytest.mark.parametrize("fmt", ["flac", "ogg-vorbis", "mp3"])
def test_seeks_in_compressed_formats_are_inexact(tmp_path: Path, audio_aud, needs_aud, fmt: str) -> None:
    # Why only WAV is read in blocks: were these seeks ever exact, blocks could be used for them too.
    path = write_file(tmp_path / f"speech{FORMATS[fmt][0]}", speechlike_signal(48000, 3.3), 48000, fmt)
    sound = audio_aud.aud.Sound(str(path))
    blocks = np.concatenate(list(audio_aud._blocks(sound, 48000, 1)))
    whole = sound.data()
    assert blocks.shape != whole.shape or not np.array_equal(blocks, whole)
