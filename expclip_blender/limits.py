"""The accepted ranges of every number a user gives (API, command line, panel, presets, jobs files).

One place decides them, so the panel's sliders, the command line and the API accept the same values.
Each ``check_*`` returns the value as a plain Python number or raises ValueError saying what is accepted.
"""

from __future__ import annotations

import math
from numbers import Integral, Real

__all__ = [
    "FPS_RANGE",
    "GAZE_AMOUNT_RANGE",
    "INTENSITY_RANGE",
    "SEED_RANGE",
    "SMOOTHING_RANGE",
    "TRANSITION_RANGE",
    "check_fps",
    "check_gaze_amount",
    "check_intensity",
    "check_number",
    "check_seed",
    "check_smoothing",
    "check_time",
    "check_transition",
    "is_finite_number",
]

#: 0 = neutral, 1 = as prompted, up to 2 exaggerates; past 2 every channel saturates at 1.
INTENSITY_RANGE = (0.0, 2.0)
#: 0 = no smoothing, 1 = the strongest (a 60 ms Gaussian).
SMOOTHING_RANGE = (0.0, 1.0)
#: Output frames per second. From 1: a clip of any length then has ceil(duration * fps) >= 1 frames, and
#: slower rates cannot show speech. Up to 1000: 20x the generator's own 50 frames/s and above any capture
#: or playback rate (Blender's soft maximum is 240); beyond it the output only grows (1e6 fps wrote 426 MB
#: for one second). Blender's hard limits (fps 32767, fps_base 1e-5) do not bound a meaningful rate.
FPS_RANGE = (1.0, 1000.0)
#: Seconds a style change at a cue takes; the panel's Transition field has the same maximum.
TRANSITION_RANGE = (0.0, 30.0)
#: Seeds of the procedural blinks (numpy's generators take non-negative integers).
SEED_RANGE = (0, 2**63 - 1)
#: The procedural eye movement (``gaze.py``): 0 = none, 1 = the modest default, 2 = twice as far (beyond it
#: the larger shifts reach the eyeLook channels' limit of 1).
GAZE_AMOUNT_RANGE = (0.0, 2.0)


def check_number(value: object, name: str, bounds: tuple[float, float] | None = None) -> float:
    """``value`` as a float: a finite real number (not a bool or text) within ``bounds`` when given."""
    span = f"from {bounds[0]:g} to {bounds[1]:g}" if bounds else ""
    if isinstance(value, bool) or not isinstance(value, Real) or not _finite(value):
        raise ValueError(
            f"{name} must be a {'number ' + span if span else 'finite number'}, got {_shown(value)}"
        )
    number = float(value)
    if bounds is not None and not bounds[0] <= number <= bounds[1]:
        raise ValueError(f"{name} must be {span}, got {number:g}")
    return number


def check_intensity(value: object, name: str = "intensity") -> float:
    """An intensity (0 neutral, 1 as prompted, up to 2)."""
    return check_number(value, name, INTENSITY_RANGE)


def check_smoothing(value: object, name: str = "smoothing") -> float:
    """A smoothing amount, 0 to 1."""
    return check_number(value, name, SMOOTHING_RANGE)


def check_fps(value: object, name: str = "fps") -> float:
    """An output frame rate, 1 to 1000 frames per second."""
    return check_number(value, name, FPS_RANGE)


def check_gaze_amount(value: object, name: str = "gaze_amount") -> float:
    """An amount of procedural eye movement, 0 (none) to 2 (1 = the default)."""
    return check_number(value, name, GAZE_AMOUNT_RANGE)


def check_transition(value: object, name: str = "transition_s") -> float:
    """Seconds a style change takes, 0 to 30."""
    return check_number(value, name, TRANSITION_RANGE)


def check_time(value: object, name: str = "time_s") -> float:
    """A time in seconds: any finite number (a cue before the clip's start sets the style from frame 0)."""
    return check_number(value, name)


def check_seed(value: object, name: str = "seed") -> int:
    """A seed: a whole number from 0 (numpy integers are accepted; floats and bools are not)."""
    low, high = SEED_RANGE
    if isinstance(value, bool) or not isinstance(value, Integral) or not low <= int(value) <= high:
        raise ValueError(f"{name} must be a whole number from {low} to {high}, got {_shown(value)}")
    return int(value)


def is_finite_number(value: object) -> bool:
    """Whether ``value`` is a finite real number, not a bool (an integer beyond float's range is not)."""
    return not isinstance(value, bool) and isinstance(value, Real) and _finite(value)


def _finite(value: Real) -> bool:
    try:
        return math.isfinite(value)
    except OverflowError:  # an integer beyond float's range (a JSON 1e400 written out in digits)
        return False


def _shown(value: object) -> str:
    """``value`` as a message shows it: its repr, cut short (a 400-digit number is not read)."""
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:30]}... ({len(text)} characters)"
