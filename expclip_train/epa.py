"""Expression Prompt Augmentation (EPA): an expression blended into speech-driven targets.

During generator training, a TEAD expression at a random intensity is blended into each clip's speech
targets, and the generator is conditioned on that expression's ExpCLIP embedding, so it learns to speak
in any style the text side can name. The blend keeps speech in charge of the lips:

* **Upper face** (eyes, brows, cheeks, nose) carries the expression, combined with the speech targets'
  blinks and brow emphasis as a soft union ``1 - (1 - a)(1 - b)``: a blink still closes a frowning eye.
* **Mouth corners** (smile, frown, dimple, stretch) carry the expression while speaking too, at
  ``corner_gain``: a smile shows while the lips articulate, and corners do not open or close the lips.
* **Lip and jaw shapes** follow speech. The expression's lip shapes that do not part the lips (funnel,
  pucker, roll, shrug, press, mouth left/right) appear only away from the phones themselves. Shapes that
  open the mouth (jaw, lower-down, upper-up, tongue) are left out by default: the lip-sync contract is that
  the mouth rests closed in every pause of 300 ms or more, whatever the style, and a surprised or shouting
  face shows through brows, eyes and corners. ``open_mouth_outside_speech=True`` lets them show outside
  whole speech passages (short pauses between phrases still rest closed). ``mouthClose`` is a corrective
  tied to ``jawOpen`` and is never taken from the expression.
"""

from __future__ import annotations

import numpy as np

from expclip_blender.arkit import ARKIT_INDEX, ARKIT_NAMES, MOUTH_NAMES, NUM_ARKIT

CORNER_NAMES: tuple[str, ...] = tuple(
    n for n in MOUTH_NAMES if n.startswith(("mouthSmile", "mouthFrown", "mouthDimple", "mouthStretch"))
)
OPENER_NAMES: tuple[str, ...] = (
    "jawOpen", "jawForward", "jawLeft", "jawRight", "mouthLowerDownLeft", "mouthLowerDownRight",
    "mouthUpperUpLeft", "mouthUpperUpRight", "tongueOut",
)  # fmt: skip
SHAPE_NAMES: tuple[str, ...] = tuple(
    n for n in MOUTH_NAMES if n not in CORNER_NAMES and n not in OPENER_NAMES and n != "mouthClose"
)
UPPER_NAMES: tuple[str, ...] = tuple(n for n in ARKIT_NAMES if n not in MOUTH_NAMES)

_ARTICULATORS = [ARKIT_INDEX[n] for n in (*OPENER_NAMES, *SHAPE_NAMES, "mouthClose")]


def _index(names: tuple[str, ...]) -> np.ndarray:
    return np.array([ARKIT_INDEX[n] for n in names], dtype=np.int64)


def _running_max(x: np.ndarray, radius: int) -> np.ndarray:
    if radius <= 0:
        return x
    padded = np.pad(x, radius, mode="edge")
    return np.lib.stride_tricks.sliding_window_view(padded, 2 * radius + 1).max(axis=1)


def _moving_average(x: np.ndarray, radius: int) -> np.ndarray:
    if radius <= 0:
        return x
    kernel = np.ones(2 * radius + 1) / (2 * radius + 1)
    return np.convolve(np.pad(x, radius, mode="edge"), kernel, mode="valid")


def speech_activity(speech: np.ndarray, fps: float, reach_s: float, threshold: float = 0.05) -> np.ndarray:
    """(T,) in [0, 1]: 1 within ``reach_s`` of any articulating frame, fading smoothly to 0 beyond."""
    moving = (np.asarray(speech)[:, _ARTICULATORS].max(axis=1) > threshold).astype(np.float64)
    reach = max(1, round(reach_s * fps))
    fade = max(1, round(0.1 * fps))
    return np.clip(_moving_average(_running_max(moving, reach), fade), 0.0, 1.0)


def blend_expression(
    speech: np.ndarray,
    expression: np.ndarray,
    fps: float,
    corner_gain: float = 0.8,
    open_mouth_outside_speech: bool = False,
) -> np.ndarray:
    """Speech targets (T, 52) with ``expression`` (52,) blended in as described in the module docstring."""
    speech = np.asarray(speech, dtype=np.float32)
    expression = np.clip(np.asarray(expression, dtype=np.float32), 0.0, 1.0)
    if speech.ndim != 2 or speech.shape[1] != NUM_ARKIT or expression.shape != (NUM_ARKIT,):
        raise ValueError(
            f"expected speech (T, 52) and expression (52,), got {speech.shape}, {expression.shape}"
        )
    near = speech_activity(speech, fps, reach_s=0.15)[:, None]  # the phones themselves
    passage = speech_activity(speech, fps, reach_s=1.0)[:, None]  # the phrase, short pauses included
    out = speech.copy()
    upper, corners, openers, shapes = (
        _index(n) for n in (UPPER_NAMES, CORNER_NAMES, OPENER_NAMES, SHAPE_NAMES)
    )
    out[:, upper] = 1.0 - (1.0 - speech[:, upper]) * (1.0 - expression[upper])
    out[:, corners] = speech[:, corners] + expression[corners] * (
        corner_gain + (1.0 - corner_gain) * (1.0 - near)
    )
    if open_mouth_outside_speech:
        out[:, openers] = speech[:, openers] + expression[openers] * (1.0 - passage)
    out[:, shapes] = speech[:, shapes] + expression[shapes] * (1.0 - near)
    return np.clip(out, 0.0, 1.0).astype(np.float32)
