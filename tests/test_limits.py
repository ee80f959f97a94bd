"""The accepted ranges of user numbers (``expclip_blender.limits``), shared by API, CLI, presets and jobs."""

from __future__ import annotations

import numpy as np
import pytest

from expclip_blender import limits


@pytest.mark.parametrize(
    ("check", "good", "bad"),
    [
        (
            limits.check_intensity,
            [0, 1, 2.0, np.float32(0.5)],
            [-0.1, 2.01, 1e9, float("nan"), "1", True, None],
        ),
        (limits.check_smoothing, [0, 0.5, 1], [-1e-9, 1.5, float("inf")]),
        (limits.check_fps, [1, 24, 29.97, 1000], [0, 1e-9, 0.5, 1000.5, 1e6, float("nan")]),
        (limits.check_transition, [0, 0.5, 30], [-0.1, 31, float("nan"), float("inf")]),
        (limits.check_time, [-3.0, 0, 1e4], [float("nan"), float("-inf"), "2"]),
    ],
)
def test_numbers_in_range_pass_and_others_say_what_is_accepted(check, good, bad):
    for value in good:
        assert check(value) == float(value) and type(check(value)) is float
    for value in bad:
        with pytest.raises(ValueError, match="must be"):
            check(value)


def test_out_of_range_message_names_the_range():
    with pytest.raises(ValueError, match=r"^fps must be from 1 to 1000, got 1e\+06$"):
        limits.check_fps(1e6)
    with pytest.raises(ValueError, match=r"^--intensity must be a number from 0 to 2, got nan$"):
        limits.check_intensity(float("nan"), "--intensity")
    with pytest.raises(ValueError, match=r"^time_s must be a finite number, got inf$"):
        limits.check_time(float("inf"))


def test_seed_is_a_whole_number():
    assert limits.check_seed(np.int64(3)) == 3 and limits.check_seed(0) == 0
    for bad in (1.5, -1, True, "3", 2**64):
        with pytest.raises(ValueError, match="seed must be a whole number"):
            limits.check_seed(bad)


def test_presets_jobs_and_markers_use_the_same_ranges():
    from expclip_blender import jobs, presets, timeline

    assert presets.INTENSITY_RANGE == jobs.INTENSITY_RANGE == limits.INTENSITY_RANGE == (0.0, 2.0)
    assert presets.SMOOTHING_RANGE == jobs.SMOOTHING_RANGE == limits.SMOOTHING_RANGE == (0.0, 1.0)
    assert limits.INTENSITY_RANGE[1] == timeline.MAX_INTENSITY
