"""Long audio is mixed down, resampled and high-passed block by block, as if it were done whole."""

from __future__ import annotations

import numpy as np
import pytest

from expclip_blender.audio import HighPass, highpass, mono_blocks, resample, to_mono
from expclip_blender.features import EDGE_PAD_S, log_mel


def _stereo(seconds: float, rate: int) -> np.ndarray:
    rng = np.random.default_rng(5)
    return (rng.standard_normal((round(seconds * rate), 2)) * 0.1 + 0.02).astype(np.float32)


@pytest.mark.parametrize("rate", [16000, 44100, 48000])
def test_mono_blocks_equal_whole_mixdown_and_resampling(rate):
    audio = _stereo(23.3, rate)
    blocks = np.concatenate(list(mono_blocks(audio, rate, 16000, seconds=4.0)))
    np.testing.assert_array_equal(blocks, resample(to_mono(audio), rate, 16000))


def test_highpass_in_blocks_equals_highpass_whole():
    x = to_mono(_stereo(3.0, 16000))
    filt = HighPass(16000)
    parts = np.concatenate([filt(x[i : i + 5000]) for i in range(0, len(x), 5000)])
    np.testing.assert_allclose(parts, highpass(x, 16000), atol=1e-6)


@pytest.mark.parametrize(("rate", "seconds"), [(48000, 12.5), (22050, 0.5), (16000, 10.01)])
def test_log_mel_reads_channels_as_their_mixdown(rate, seconds):
    audio = _stereo(seconds, rate)
    for pad in (0.0, EDGE_PAD_S):
        np.testing.assert_array_equal(log_mel(audio, rate, pad), log_mel(to_mono(audio), rate, pad))
