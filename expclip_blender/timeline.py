"""The emotion timeline: timeline markers that change the prompt during a shot.

A marker named ``expclip: <prompt>`` switches the style to ``<prompt>`` from its frame on; the style
embedding blends over the transition time centred on the marker, so the face changes smoothly.
``expclip: <prompt> @0.7`` also sets the intensity (0 to 2; default 1). ``expclip:`` alone goes back to
neutral. The prefix is case-insensitive and spaces around ``:`` and ``@`` are optional:
``ExpCLIP:furious@1.5`` works. Other markers are ignored.

A marker on or before the first baked frame sets the style the shot starts with (the panel's prompt
applies before the first marker otherwise); markers after the last baked frame have no effect.

Markers are read here as ``(frame, name)`` pairs, so this module needs no Blender; the extension reads
them off ``scene.timeline_markers``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from .limits import INTENSITY_RANGE

__all__ = [
    "MAX_INTENSITY",
    "PREFIX",
    "MarkerCue",
    "TimelineError",
    "cues_from_markers",
    "describe_cue",
    "marker_name",
    "parse_marker_name",
    "resolve_cues",
]

PREFIX = "expclip:"
MAX_INTENSITY = INTENSITY_RANGE[1]
_MARKER = re.compile(r"^\s*expclip\s*:(?P<body>.*)$", re.IGNORECASE | re.DOTALL)
_INTENSITY = re.compile(r"^(?P<prompt>.*?)\s*@\s*(?P<value>\S*)\s*$", re.DOTALL)


class TimelineError(ValueError):
    """A marker that looks like an ExpCLIP cue but cannot be read; the message names it."""


@dataclass(frozen=True)
class MarkerCue:
    """One ExpCLIP marker: from ``frame`` on, the style is ``prompt`` at ``intensity``."""

    frame: int
    prompt: str
    intensity: float
    marker: str  # the marker's name, for messages


def parse_marker_name(name: str) -> tuple[str, float] | None:
    """``'expclip: furious @0.7'`` -> ``('furious', 0.7)``; None for a marker that is not a cue.

    Raises TimelineError for a cue whose intensity is not a number from 0 to 2.
    """
    match = _MARKER.match(name)
    if match is None:
        return None
    body = match["body"].strip()
    intensity = 1.0
    with_value = _INTENSITY.match(body)
    if with_value is not None:
        body, text = with_value["prompt"].strip(), with_value["value"]
        try:
            intensity = float(text)
        except ValueError:
            intensity = float("nan")
        if not 0.0 <= intensity <= MAX_INTENSITY:  # also rejects NaN
            raise TimelineError(
                f"Marker '{name}': the intensity after '@' must be a number from 0 to {MAX_INTENSITY:g} "
                f"(got '{text}'). Rename the marker, e.g. 'expclip: {body or 'furious'} @0.7'."
            )
    return " ".join(body.split()), intensity


def cues_from_markers(markers: Iterable[tuple[int, str]]) -> list[MarkerCue]:
    """The ExpCLIP cues among ``(frame, name)`` markers in frame order (TimelineError for a bad one)."""
    cues = []
    for frame, name in markers:
        parsed = parse_marker_name(name)
        if parsed is not None:
            cues.append(MarkerCue(int(frame), parsed[0], parsed[1], name))
    return sorted(cues, key=lambda c: c.frame)


def describe_cue(cue: MarkerCue) -> str:
    """'frame 48: furious x0.7' for the panel's cue list."""
    prompt = cue.prompt or "neutral"
    return f"frame {cue.frame}: {prompt}" + (f" x{cue.intensity:g}" if cue.intensity != 1.0 else "")


def resolve_cues(
    cues: list[MarkerCue], prompt: str, intensity: float, start_frame: int, frame_count: int, fps: float
) -> tuple[str, float, list[tuple[float, str, float]]]:
    """Turn markers into the model's inputs for a bake of ``frame_count`` frames from ``start_frame``.

    Returns ``(prompt, intensity, [(time_s, prompt, intensity), ...])`` with times in seconds from the
    first baked frame. The last marker on or before the first frame replaces the starting prompt; markers
    at or after the end are dropped.
    """
    timed = []
    for cue in cues:
        if cue.frame <= start_frame:
            prompt, intensity = cue.prompt, cue.intensity
        elif cue.frame < start_frame + frame_count:
            timed.append(((cue.frame - start_frame) / fps, cue.prompt, cue.intensity))
    return prompt, intensity, timed


def marker_name(prompt: str, intensity: float = 1.0) -> str:
    """The marker name that :func:`parse_marker_name` reads back as ``(prompt, intensity)``."""
    prompt = " ".join(prompt.split())
    return f"{PREFIX} {prompt}" + (f" @{intensity:g}" if intensity != 1.0 else "")
