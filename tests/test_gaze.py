"""The procedural eye movement (expclip_blender/gaze.py): conjugate, in range, seeded, timed in seconds."""

from __future__ import annotations

import numpy as np
import pytest

from expclip_blender.arkit import ARKIT_INDEX
from expclip_blender.blinks import blink_curve, blink_starts
from expclip_blender.gaze import (
    GAZE_INDEX,
    GAZE_NAMES,
    GazeStyle,
    gaze_channels,
    gaze_curves,
    gaze_events,
    gaze_style,
)

EPS = 1e-6
COL = {name: i for i, name in enumerate(GAZE_NAMES)}


def _pauses(duration: float, seed: int = 5) -> np.ndarray:
    """Pause starts every 2-8 s, as a long take of speech has them."""
    rng = np.random.default_rng(seed)
    return np.cumsum(rng.uniform(2.0, 8.0, int(duration / 2)))[: int(duration / 5)]


def _face(**weights: float) -> np.ndarray:
    face = np.zeros(52)
    for name, value in weights.items():
        face[ARKIT_INDEX[name]] = value
    return face


def test_the_channels_are_the_eight_eyelook_ones():
    assert sorted(GAZE_NAMES) == sorted(n for n in ARKIT_INDEX if n.startswith("eyeLook"))
    assert [ARKIT_INDEX[n] for n in GAZE_NAMES] == GAZE_INDEX


def test_same_seed_same_curves_other_seed_other_curves():
    pauses = _pauses(60.0)
    a = gaze_curves(1800, 30.0, seed=4, pauses=pauses)
    assert np.array_equal(a, gaze_curves(1800, 30.0, seed=4, pauses=pauses))
    assert not np.array_equal(a, gaze_curves(1800, 30.0, seed=5, pauses=pauses))
    assert np.ptp(a, axis=0).max() > 0.1  # the eyes move


@pytest.mark.parametrize("amount", [0.5, 1.0, 2.0])
@pytest.mark.parametrize("style", [GazeStyle(), GazeStyle(pitch_deg=-5.0), GazeStyle(scale=0.5)])
def test_both_eyes_move_together_and_never_cross(amount, style):
    g = gaze_curves(3000, 50.0, seed=1, pauses=_pauses(60.0), amount=amount, style=style)
    assert g.min() >= 0.0 and g.max() <= 1.0
    # Looking to one side is Out on one eye and In on the other, by the same amount.
    np.testing.assert_array_equal(g[:, COL["eyeLookOutLeft"]], g[:, COL["eyeLookInRight"]])
    np.testing.assert_array_equal(g[:, COL["eyeLookInLeft"]], g[:, COL["eyeLookOutRight"]])
    np.testing.assert_array_equal(g[:, COL["eyeLookUpLeft"]], g[:, COL["eyeLookUpRight"]])
    np.testing.assert_array_equal(g[:, COL["eyeLookDownLeft"]], g[:, COL["eyeLookDownRight"]])
    for first, second in (("InLeft", "InRight"), ("OutLeft", "OutRight"), ("UpLeft", "DownLeft")):
        both = np.minimum(g[:, COL[f"eyeLook{first}"]], g[:, COL[f"eyeLook{second}"]])
        assert both.max() <= EPS, (first, second)
    assert g[:, COL["eyeLookInLeft"]].max() > 0.05 and g[:, COL["eyeLookOutLeft"]].max() > 0.05  # both ways


def test_the_channels_saturate_at_one():
    g = gaze_channels(np.array([-90.0, 0.0, 90.0]), np.array([90.0, 0.0, -90.0]), amount=2.0)
    assert g.max() == 1.0 and g.min() == 0.0 and g[1].max() == 0.0


def test_amount_scales_and_zero_is_none():
    pauses = _pauses(30.0)
    one = gaze_curves(900, 30.0, seed=2, pauses=pauses)
    half = gaze_curves(900, 30.0, seed=2, pauses=pauses, amount=0.5)
    np.testing.assert_allclose(half, 0.5 * one, atol=1e-6)
    assert one.max() < 0.5  # modest: a third of the channels' range at most (no clipping at amount 1)
    assert not gaze_curves(900, 30.0, seed=2, pauses=pauses, amount=0.0).any()


def test_every_frame_rate_shows_the_same_movements():
    pauses = _pauses(20.0)
    at24 = gaze_curves(480, 24.0, seed=3, pauses=pauses)
    at60 = gaze_curves(1200, 60.0, seed=3, pauses=pauses)
    np.testing.assert_allclose(at24[::2], at60[::5], atol=1e-6)  # the frames both have (every 1/12 s)


def test_saccades_are_fast_and_small_shifts_larger():
    events = gaze_events(300.0, np.random.default_rng(0), _pauses(300.0), np.zeros(0))
    assert np.all(np.diff(events.time) >= 0)
    assert events.duration.min() >= 0.02 and events.duration.max() <= 0.08  # tens of milliseconds
    travel = np.hypot(np.diff(events.yaw, prepend=0.0), np.diff(events.pitch, prepend=0.0))
    small, large = travel[~events.large], travel[events.large]
    assert np.median(small) < 4.0 < np.median(large)  # a few degrees within a fixation
    gaps = np.diff(events.time[~events.large])
    assert 0.25 < np.median(gaps) < 1.2  # fixations of a fraction of a second


def test_more_gaze_shifts_near_pauses_than_elsewhere():
    duration = 600.0
    pauses = _pauses(duration)
    rates = []
    for seed in range(3):
        ev = gaze_events(duration, np.random.default_rng(seed), pauses, np.zeros(0))
        shifts = ev.time[ev.large]
        near = (np.abs(shifts[:, None] - (pauses[None, :] + 0.15)) < 0.25).any(axis=1)
        window = len(pauses) * 0.5  # seconds of the clip within 0.25 s of a pause's shift time
        rates.append((near.sum() / window, (~near).sum() / (duration - window)))
    near_rate, elsewhere_rate = np.mean(rates, axis=0)
    assert near_rate > 10 * elsewhere_rate
    assert elsewhere_rate > 0.01  # some between pauses too (where no pause shift is within 4 s)


def test_larger_shifts_often_come_with_a_blink():
    share = []
    for seed in range(4):
        pauses = _pauses(300.0, seed)
        starts = blink_starts(9000, 30.0, seed=seed, pauses=pauses)
        ev = gaze_events(300.0, np.random.default_rng(seed), pauses, starts)
        share.append(np.isin(ev.time[ev.large], starts).mean())  # exactly on a blink: never by chance
    assert np.mean(share) > 0.3
    # blink_starts are the blinks blink_curve draws: the lid closes right after each one.
    curve = blink_curve(9000, 30.0, seed=seed, pauses=pauses)
    frames = np.ceil(starts * 30.0).astype(int) + 2
    assert curve[frames[frames < 9000]].min() > 0.2


def test_style_bias_sad_looks_down_fear_moves_less():
    sad = _face(browInnerUp=0.7, browDownLeft=0.3, browDownRight=0.3)
    fear = _face(browInnerUp=0.7, browDownLeft=0.3, browDownRight=0.3, eyeWideLeft=0.7, eyeWideRight=0.7)
    assert gaze_style(np.zeros(52)) == GazeStyle() and gaze_style(_face(mouthSmileLeft=0.8)) == GazeStyle()
    assert gaze_style(sad).pitch_deg < 0 and gaze_style(fear).scale < 1
    pauses = _pauses(60.0)
    plain = gaze_curves(1800, 30.0, seed=0, pauses=pauses)
    down = gaze_curves(1800, 30.0, seed=0, pauses=pauses, style=gaze_style(sad))
    steady = gaze_curves(1800, 30.0, seed=0, pauses=pauses, style=gaze_style(fear))
    look_down = COL["eyeLookDownLeft"]
    assert down[:, look_down].mean() > plain[:, look_down].mean() + 0.1
    assert np.abs(np.diff(steady, axis=0)).sum() < 0.6 * np.abs(np.diff(plain, axis=0)).sum()
