"""Procedural eye movement (gaze) in the ``eyeLook*`` channels, added like the blinks.

Where a speaker looks is not predictable from audio, so it is added after the generator. The eyes hold a
fixation and make small saccades (1-3 degrees every 0.3-1.2 s), with larger gaze shifts (6-12 degrees)
every 4-10 s and after most pauses in the speech (speakers look away as a phrase ends). A larger shift
near a blink usually moves to it (gaze shifts are often made with a blink). Larger shifts alternate
between looking away and back towards the listener. Both eyes move together: looking to the face's left is
``eyeLookOutLeft`` + ``eyeLookInRight``, so the eyes never cross. Deterministic from a seed and drawn in
seconds, so every frame rate shows the same movements. A style can bias it (:func:`gaze_style`).

ARKit gives no angles for the ``eyeLook*`` weights; this module assumes weight 1.0 = 30 degrees of eye
rotation (about the comfortable range of eye-in-head rotation), horizontally and vertically.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .arkit import ARKIT_INDEX
from .curves import smoothstep

__all__ = [
    "GAZE_INDEX",
    "GAZE_NAMES",
    "GazeEvents",
    "GazeStyle",
    "gaze_channels",
    "gaze_curves",
    "gaze_events",
    "gaze_style",
]

#: The gaze channels, in the column order of :func:`gaze_curves` and :func:`gaze_channels`.
GAZE_NAMES = tuple(f"eyeLook{d}{side}" for side in ("Left", "Right") for d in ("Down", "In", "Out", "Up"))
GAZE_INDEX = [ARKIT_INDEX[n] for n in GAZE_NAMES]

DEGREES_PER_WEIGHT = 30.0  # assumed: eyeLook weight 1.0 = 30 degrees of rotation (rigs differ)
SACCADE_DEG = (1.0, 3.0)  # small saccades within a fixation: amplitude, degrees
SACCADE_INTERVAL_S = (0.3, 1.2)  # fixation durations between small saccades in conversation
VERTICAL_SHARE = 0.5  # small saccades are mostly horizontal: vertical extent relative to horizontal
SHIFT_DEG = (6.0, 12.0)  # larger gaze shifts away from the listener: horizontal amplitude, degrees
SHIFT_PITCH_DEG = (-5.0, 2.0)  # and their vertical part: people look away sideways and down more than up
SHIFT_INTERVAL_S = (4.0, 10.0)  # larger shifts while the speech goes on without a pause
PAUSE_SHIFT_SHARE = 0.7  # share of the pauses in the speech that start a larger shift ...
PAUSE_DELAY_S = (0.05, 0.2)  # ... this long after the pause starts
BLINK_WINDOW_S = 1.0  # a larger shift within a second of a blink (one comes every 2-6 s) ...
BLINK_SHARE = 0.8  # ... moves to it with this probability
SETTLE_S = 0.2  # no small saccade this soon after a larger shift (the eyes land first)
# Saccade durations follow the "main sequence": about 21 ms + 2.2 ms per degree travelled.
SACCADE_BASE_S, SACCADE_PER_DEG_S = 0.021, 0.0022
SAD_PITCH_DEG = -5.0  # downcast eyes for a sad style
FEAR_SCALE = 0.5  # wide, steady eyes for a fearful style: half the movement
_STREAM = 0x6A5E  # the gaze's own random stream under a seed, so the blinks of that seed stay as they were


@dataclass(frozen=True)
class GazeStyle:
    """How a style biases the gaze: a constant vertical offset (degrees, down < 0) and a movement scale."""

    pitch_deg: float = 0.0
    scale: float = 1.0


@dataclass(frozen=True)
class GazeEvents:
    """Gaze movements, sorted by time: each moves the eyes to (``yaw``, ``pitch``) degrees, starting at
    ``time`` s and taking ``duration`` s. Yaw > 0 looks to the face's left, pitch > 0 up; ``large`` marks
    the larger shifts."""

    time: np.ndarray
    duration: np.ndarray
    yaw: np.ndarray
    pitch: np.ndarray
    large: np.ndarray


def gaze_style(face: np.ndarray) -> GazeStyle:
    """The gaze bias of a style, from its static face (52,) as ``facs.read_emotion`` reads the upper face:
    sadness looks down (:data:`SAD_PITCH_DEG`), fear moves less (:data:`FEAR_SCALE`), anything else none."""
    from .facs import read_emotion

    emotion = read_emotion(np.asarray(face, np.float64), region="upper")
    if emotion == "sadness":
        return GazeStyle(pitch_deg=SAD_PITCH_DEG)
    if emotion == "fear":
        return GazeStyle(scale=FEAR_SCALE)
    return GazeStyle()


def _shift_times(
    duration: float, rng: np.random.Generator, pauses: np.ndarray, blinks: np.ndarray
) -> np.ndarray:
    """Start times of the larger shifts: most pauses, every 4-10 s in between, most near a blink on it."""
    times = [float(p) + rng.uniform(*PAUSE_DELAY_S) for p in pauses if rng.uniform() < PAUSE_SHIFT_SHARE]
    t = rng.uniform(*SHIFT_INTERVAL_S)
    while t < duration:
        if all(abs(t - s) >= SHIFT_INTERVAL_S[0] for s in times):  # a pause's shift stands in for it
            times.append(t)
        t += rng.uniform(*SHIFT_INTERVAL_S)
    out = []
    for s in sorted(times):
        near = blinks[np.abs(blinks - s) < BLINK_WINDOW_S]
        on_blink = rng.uniform() < BLINK_SHARE
        out.append(float(near[np.argmin(np.abs(near - s))]) if near.size and on_blink else s)
    return np.unique([s for s in out if 0.0 <= s < duration])


def _shift_targets(n: int, rng: np.random.Generator) -> np.ndarray:
    """(n, 2) fixations (yaw, pitch degrees) the larger shifts move to: away, back, away, ..."""
    away = np.stack(
        [rng.choice([-1.0, 1.0], n) * rng.uniform(*SHIFT_DEG, n), rng.uniform(*SHIFT_PITCH_DEG, n)], axis=1
    )
    back = rng.uniform(-1.0, 1.0, (n, 2))  # near the listener, not exactly on the same spot
    return np.where((np.arange(n) % 2 == 0)[:, None], away, back)


def _saccades(duration: float, rng: np.random.Generator, shifts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Times of the small saccades and their (m, 2) offsets (degrees) from the current fixation."""
    times = []
    t = rng.uniform(*SACCADE_INTERVAL_S)
    while t < duration:
        times.append(t)
        t += rng.uniform(*SACCADE_INTERVAL_S)
    times_a = np.asarray(times, np.float64)
    amp, angle = rng.uniform(*SACCADE_DEG, len(times_a)), rng.uniform(0.0, 2.0 * np.pi, len(times_a))
    offsets = np.stack([amp * np.cos(angle), VERTICAL_SHARE * amp * np.sin(angle)], axis=1)
    since = times_a[:, None] - shifts[None, :]
    keep = ~((since >= 0) & (since < SETTLE_S)).any(axis=1)
    return times_a[keep], offsets[keep]


def gaze_events(
    duration: float,
    rng: np.random.Generator,
    pauses: np.ndarray,
    blink_starts: np.ndarray,
    style: GazeStyle = GazeStyle(),
) -> GazeEvents:
    """The gaze movements of a clip of ``duration`` s, at the default amount (``pauses`` and
    ``blink_starts``: times in s)."""
    pauses, blinks = np.asarray(pauses, np.float64), np.asarray(blink_starts, np.float64)
    shifts = _shift_times(duration, rng, pauses, blinks)
    targets = _shift_targets(len(shifts), rng)
    small, offsets = _saccades(duration, rng, shifts)
    time = np.concatenate([shifts, small])
    order = np.argsort(time, kind="stable")
    large = np.concatenate([np.ones(len(shifts), bool), np.zeros(len(small), bool)])[order]
    # Each event's fixation: the target of the last larger shift at or before it (none yet: straight on).
    held = np.cumsum(large) - 1
    centre = np.concatenate([np.zeros((1, 2)), targets])[held + 1]
    where = centre + np.where(
        large[:, None], 0.0, np.concatenate([np.zeros((len(shifts), 2)), offsets])[order]
    )
    where = style.scale * where + [0.0, style.pitch_deg]
    before = np.concatenate([[[0.0, style.pitch_deg]], where[:-1]])
    travel = np.hypot(*(where - before).T)
    return GazeEvents(
        time[order], SACCADE_BASE_S + SACCADE_PER_DEG_S * travel, where[:, 0], where[:, 1], large
    )


def _render(t: np.ndarray, events: GazeEvents, values: np.ndarray, start: float) -> np.ndarray:
    """A gaze coordinate at times ``t``: ``start``, then each event's value reached by a smoothstep."""
    steps = np.diff(np.concatenate([[start], values]))
    level = np.zeros(len(t) + 1)
    moving = np.zeros(len(t))
    for t0, dur, step in zip(events.time, events.duration, steps, strict=True):
        i0, i1 = np.searchsorted(t, [t0, t0 + dur])
        moving[i0:i1] += step * smoothstep((t[i0:i1] - t0) / dur)
        level[i1] += step
    return start + np.cumsum(level)[:-1] + moving


def gaze_channels(yaw_deg: np.ndarray, pitch_deg: np.ndarray, amount: float = 1.0) -> np.ndarray:
    """(n, 8) ``GAZE_NAMES`` weights in [0, 1] of a conjugate gaze (degrees) times ``amount``: to the
    face's left is Out on the left eye and In on the right, up and down are the same on both eyes."""
    h = amount * np.asarray(yaw_deg, np.float64) / DEGREES_PER_WEIGHT
    v = amount * np.asarray(pitch_deg, np.float64) / DEGREES_PER_WEIGHT
    left, right, up, down = np.maximum(h, 0), np.maximum(-h, 0), np.maximum(v, 0), np.maximum(-v, 0)
    # Down, In, Out, Up of the left eye, then of the right.
    channels = np.stack([down, right, left, up, down, left, right, up], axis=1)
    return np.clip(channels, 0.0, 1.0).astype(np.float32)


def gaze_curves(
    n_frames: int,
    fps: float,
    seed: int = 0,
    pauses: np.ndarray | None = None,
    blink_starts: np.ndarray | None = None,
    amount: float = 1.0,
    style: GazeStyle = GazeStyle(),
) -> np.ndarray:
    """(n_frames, 8) ``GAZE_NAMES`` weights in [0, 1] at ``fps``; ``amount`` scales the movement (0: none)."""
    if amount == 0:
        return np.zeros((n_frames, len(GAZE_NAMES)), np.float32)
    t = np.arange(n_frames) / float(fps)
    none = np.zeros(0)
    rng = np.random.default_rng([seed, _STREAM])
    events = gaze_events(
        n_frames / float(fps),
        rng,
        none if pauses is None else pauses,
        none if blink_starts is None else blink_starts,
        style,
    )
    yaw = _render(t, events, events.yaw, 0.0)
    pitch = _render(t, events, events.pitch, style.pitch_deg)
    return gaze_channels(yaw, pitch, amount)
