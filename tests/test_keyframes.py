"""Keyframe reduction keeps every curve within the stated tolerance (core, no bpy)."""

from __future__ import annotations

import numpy as np
import pytest

from expclip_blender.keyframes import keyframe_coords, reduce_keys, reduce_keys_many


def _linear_error(values: np.ndarray, keep: np.ndarray) -> float:
    return float(np.max(np.abs(np.interp(np.arange(len(values)), keep, values[keep]) - values)))


@pytest.mark.parametrize("tolerance", [0.001, 0.01, 0.05])
def test_reduction_stays_within_tolerance(tolerance):
    rng = np.random.default_rng(0)
    t = np.arange(1800) / 30.0
    curve = (
        0.5
        + 0.3 * np.sin(2 * np.pi * 0.7 * t)
        + 0.1 * np.sin(2 * np.pi * 3.1 * t)
        + 0.01 * rng.normal(size=t.size)
    )
    keep = reduce_keys(curve, tolerance)
    assert keep[0] == 0 and keep[-1] == len(curve) - 1
    assert np.all(np.diff(keep) > 0)
    assert _linear_error(curve, keep) <= tolerance + 1e-12
    assert len(keep) < len(curve)


def test_flat_and_piecewise_linear_curves_collapse():
    assert list(reduce_keys(np.zeros(100), 1e-4)) == [0, 99]
    ramp = np.concatenate([np.linspace(0, 1, 50), np.linspace(1, 0, 51)[1:]])
    assert list(reduce_keys(ramp, 1e-6)) == [0, 49, 99]


def test_zero_tolerance_and_short_curves_keep_everything():
    curve = np.random.default_rng(1).random(20)
    assert list(reduce_keys(curve, 0)) == list(range(20))
    assert list(reduce_keys(curve[:2], 0.1)) == [0, 1]


def test_keyframe_coords_interleave_frames_and_values():
    co = keyframe_coords(np.array([0.1, 0.2, 0.3]), np.array([10.0, 11.0, 12.0]))
    np.testing.assert_allclose(co, [10, 0.1, 11, 0.2, 12, 0.3], rtol=1e-6)
    assert co.dtype == np.float32
    values = np.array([0.0, 0.5, 1.0])
    reduced = keyframe_coords(values, np.array([1.0, 2.0, 3.0]), reduce_keys(values, 1e-3))
    np.testing.assert_allclose(reduced, [1, 0, 3, 1])


def _recursive_rdp(values: np.ndarray, tolerance: float) -> list[int]:
    """The textbook Ramer-Douglas-Peucker on vertical distance, as a yardstick for the key count."""
    keep = {0, len(values) - 1}

    def split(lo: int, hi: int) -> None:
        if hi - lo < 2:
            return
        span = np.arange(lo + 1, hi)
        error = np.abs(
            values[lo + 1 : hi] - (values[lo] + (values[hi] - values[lo]) * (span - lo) / (hi - lo))
        )
        worst = int(np.argmax(error))
        if error[worst] > tolerance:
            keep.add(lo + 1 + worst)
            split(lo, lo + 1 + worst)
            split(lo + 1 + worst, hi)

    split(0, len(values) - 1)
    return sorted(keep)


def test_many_curves_at_once_each_within_tolerance_and_as_sparse_as_rdp():
    rng = np.random.default_rng(3)
    curves = np.cumsum(rng.normal(scale=0.05, size=(400, 6)), axis=0)
    curves[:, 5] = 0.25  # a flat curve next to busy ones
    batched = reduce_keys_many(curves, 0.02)
    assert list(batched[5]) == [0, 399]
    for c in range(curves.shape[1]):
        assert _linear_error(curves[:, c], batched[c]) <= 0.02 + 1e-12
        assert list(batched[c]) == list(reduce_keys(curves[:, c], 0.02))  # columns do not interact
        assert len(batched[c]) <= 1.1 * len(_recursive_rdp(curves[:, c], 0.02))
