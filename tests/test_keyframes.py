"""Keyframe reduction keeps every curve within the stated tolerance (core, no bpy)."""

from __future__ import annotations

import numpy as np
import pytest

from expclip_blender.keyframes import keyframe_coords, reduce_keys


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
    reduced = keyframe_coords(np.array([0.0, 0.5, 1.0]), np.array([1.0, 2.0, 3.0]), tolerance=1e-3)
    np.testing.assert_allclose(reduced, [1, 0, 3, 1])
