"""The speech to bake: a sound strip of the scene's sequencer (as Blender plays it) or an audio file.

A strip is read the way Blender's sequencer plays it (``BKE_sound_move_scene_sound``): the sound's time
``s`` plays at scene time ``frame_start / fps + sound_offset + s``, audible only between the strip's
handles (:func:`strip_handles`, i.e. after the start/end trims). ``fps`` is the
scene's real rate, ``render.fps / render.fps_base``. The samples returned cover exactly the frames
between the handles, so animation row ``i`` belongs on the first frame between them ``+ i``; where the
sound does not reach (a positive ``sound_offset``), the window holds silence.

Volume, pan and the strip's mute flag are playback settings and are ignored: the speech is the same.
A strip retimed to another speed is refused (its audio would not line up with a 1:1 reading).

The API differs between versions (docs/blender-differences.md): strips are
``sequence_editor.strips_all`` on 5.x and ``sequences_all`` on 4.2 (4.5 has both); ``sound_offset``
exists from 4.3 on. Both are detected.
"""

from __future__ import annotations

import math
import os
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import bpy
import numpy as np

from ...expclip_blender.audio import AudioError, AudioWarning
from .audio_aud import load_audio_with_aud
from .targets import scene_fps

SAMPLE_RATE = 16000  # what the generator's features are computed at; any rate >= 8 kHz would do

NO_AUDIO_MESSAGE = "Add a sound strip or choose a file"


class SoundSourceError(ValueError):
    """The audio to bake cannot be read; the message says what to do."""


@dataclass(frozen=True)
class BakeAudio:
    """Mono speech at ``sample_rate`` and where its animation goes on the timeline."""

    samples: np.ndarray  # (n,) float32
    sample_rate: int
    start_frame: int  # the frame sample 0 plays on (animation row 0 lands here)
    frame_count: int  # frames the animation covers: start_frame .. start_frame + frame_count - 1
    label: str  # what was read, for messages ("sound strip 'voice' (frames 10-81)")
    warnings: tuple[str, ...] = ()  # decoded, but not as it should (a truncated file): for the report

    @property
    def duration(self) -> float:
        return len(self.samples) / self.sample_rate


def all_strips(scene: bpy.types.Scene) -> list:
    """Every strip of the scene's sequencer, metastrip contents included (4.2 and 5.x)."""
    editor = scene.sequence_editor
    if editor is None:
        return []
    for name in ("strips_all", "sequences_all"):  # 5.x name first; 4.2 only has the second
        if hasattr(editor, name):
            return list(getattr(editor, name))
    return []


def strip_handles(strip) -> tuple[int, int]:
    """(first frame, frame after the last) between ``strip``'s handles: ``left_handle`` and
    ``right_handle`` where Blender has them (5.3+, which deprecates the older names), else
    ``frame_final_start`` and ``frame_final_end``."""
    if hasattr(strip, "left_handle"):
        return int(strip.left_handle), int(strip.right_handle)
    return int(strip.frame_final_start), int(strip.frame_final_end)


def strip_content_start(strip) -> float:
    """The timeline frame where ``strip``'s source begins: ``content_start`` in 5.3+, else ``frame_start``."""
    return float(strip.content_start if hasattr(strip, "content_start") else strip.frame_start)


def sound_strips(scene: bpy.types.Scene) -> list:
    """The scene's sound strips, earliest first (then lowest channel)."""
    strips = [s for s in all_strips(scene) if s.type == "SOUND"]
    return sorted(strips, key=lambda s: (strip_handles(s)[0], s.channel, s.name))


def default_sound_strip(scene: bpy.types.Scene):
    """The active sound strip if selected, else the first selected sound strip, else the first sound strip.

    Muted strips come after audible ones at each step.
    """
    strips = sorted(sound_strips(scene), key=lambda s: s.mute)  # stable: keeps the timeline order
    if not strips:
        return None
    active = scene.sequence_editor.active_strip
    if active is not None and active.type == "SOUND" and active.select:
        return active
    selected = [s for s in strips if s.select]
    return (selected or strips)[0]


def chosen_strip(scene: bpy.types.Scene, name: str):
    """The strip named ``name`` (empty: :func:`default_sound_strip`); SoundSourceError if unusable."""
    if not name:
        strip = default_sound_strip(scene)
        if strip is None:
            raise SoundSourceError(
                "The scene has no sound strip: add one in the Video Sequencer (Add > Sound) or choose "
                "'File' as the audio source."
            )
        return strip
    strip = next((s for s in all_strips(scene) if s.name == name), None)
    if strip is None:
        raise SoundSourceError(
            f"There is no strip named '{name}' in the sequencer: pick another strip, or clear the field "
            "to use the selected sound strip."
        )
    if strip.type != "SOUND":
        kind = strip.type.lower()
        raise SoundSourceError(f"Strip '{name}' is a {kind} strip, not sound: pick a sound strip.")
    return strip


def audio_available(scene: bpy.types.Scene, settings) -> bool:
    """Whether there is something to read: a file path, or a sound strip (for the buttons' poll)."""
    if settings.audio_source == "FILE":
        return bool(settings.audio_file.strip())
    return bool(sound_strips(scene))


def frame_range_text(scene: bpy.types.Scene, strip) -> str:
    """'frames 10-81 (72 frames, 3.00 s)' for the panel: the frames a bake of ``strip`` covers."""
    first, end = strip_handles(strip)
    seconds = (end - first) / scene_fps(scene)
    return f"frames {first}-{end - 1} ({end - first} frames, {seconds:.2f} s)"


def strip_window(
    frame_start: float, first: int, end: int, sound_offset: float, fps: float, sample_rate: int
) -> tuple[int, int]:
    """(index of the sound's sample heard at frame ``first``, number of samples up to frame ``end``).

    The index is negative where the sound starts after ``first`` (positive ``sound_offset``).
    """
    sound_time = (first - frame_start) / fps - sound_offset
    count = round((end - first) / fps * sample_rate)
    return round(sound_time * sample_rate), count


def read_strip_audio(scene: bpy.types.Scene, strip) -> BakeAudio:
    """The samples ``strip`` plays between its handles, at SAMPLE_RATE Hz, as :class:`BakeAudio`."""
    label = f"sound strip '{strip.name}'"
    sound = strip.sound
    if sound is None:
        raise SoundSourceError(f"The {label} has no sound: delete it and add the audio again.")
    fps = scene_fps(scene)
    samples, problems = _decode_sound(sound, label)
    if len(getattr(strip, "retiming_keys", ())):
        natural = len(samples) / SAMPLE_RATE * fps
        length = strip.content_duration if hasattr(strip, "content_duration") else strip.frame_duration
        if abs(length - natural) > 1.0:
            raise SoundSourceError(
                f"The {label} is retimed to another speed: reset its retiming (Strip > Retiming > Reset) "
                "or bake from the audio file."
            )
    first, end = strip_handles(strip)
    offset = float(getattr(strip, "sound_offset", 0.0))  # 4.3+; 4.2 has no sound offset
    index, count = strip_window(strip_content_start(strip), first, end, offset, fps, SAMPLE_RATE)
    lo, hi = max(index, 0), min(index + count, len(samples))
    if lo == index and hi - lo == count and 2 * count > len(samples):
        window = samples[lo:hi]  # inside the sound and most of it: no copy (an hour is 230 MB)
    else:
        window = np.zeros(max(count, 0), np.float32)
        if hi > lo:
            window[lo - index : hi - index] = samples[lo:hi]
    if len(window) == 0:
        raise SoundSourceError(f"The {label} is empty (zero frames long): lengthen it or pick another.")
    return BakeAudio(window, SAMPLE_RATE, first, end - first, label, problems)


def read_file_audio(scene: bpy.types.Scene, path: str) -> BakeAudio:
    """An audio file (``//`` relative paths allowed), its animation starting on the scene's start frame."""
    if not path.strip():
        raise SoundSourceError("No audio file chosen: choose a file, or use a sound strip.")
    absolute = bpy.path.abspath(path)
    try:
        samples, problems = _decode_noting_problems(absolute)
    except AudioError as err:
        raise SoundSourceError(str(err)) from err
    frames = math.ceil(len(samples) / SAMPLE_RATE * scene_fps(scene) - 1e-6)
    label = f"file '{Path(absolute).name}'"
    return BakeAudio(samples, SAMPLE_RATE, scene.frame_start, frames, label, problems)


def bake_audio(scene: bpy.types.Scene, settings) -> BakeAudio:
    """The audio the scene's ExpCLIP ``settings`` point at (a strip or a file)."""
    if settings.audio_source == "FILE":
        return read_file_audio(scene, settings.audio_file)
    return read_strip_audio(scene, chosen_strip(scene, settings.strip.strip()))


def _decode_noting_problems(path: str) -> tuple[np.ndarray, tuple[str, ...]]:
    """Decode ``path`` at SAMPLE_RATE; the AudioWarnings it raised (a truncated file) come back as text."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", AudioWarning)
        samples = load_audio_with_aud(path, SAMPLE_RATE)
    problems = tuple(str(w.message) for w in caught if issubclass(w.category, AudioWarning))
    return samples, problems


def _decode_sound(sound: bpy.types.Sound, label: str) -> tuple[np.ndarray, tuple[str, ...]]:
    """Decode a Sound datablock (its file, or its packed copy) to mono float32 at SAMPLE_RATE, with the
    problems noticed on the way (:func:`_decode_noting_problems`)."""
    if sound.packed_file is not None:
        # Packed into the .blend: decode a temporary copy (the decoders read files, not bytes).
        suffix = Path(sound.filepath).suffix or ".wav"
        handle, temp = tempfile.mkstemp(prefix="expclip-packed-", suffix=suffix)
        try:
            with os.fdopen(handle, "wb") as f:
                f.write(sound.packed_file.data)
            return _load(temp, label, shown=f"{sound.filepath or sound.name} (packed in the .blend)")
        finally:
            os.unlink(temp)
    if not sound.filepath:
        raise SoundSourceError(f"The {label} has no file path: add the audio again.")
    path = bpy.path.abspath(sound.filepath, library=sound.library)
    return _load(path, label)


def _load(path: str, label: str, shown: str | None = None) -> tuple[np.ndarray, tuple[str, ...]]:
    """Decode ``path``; errors name the strip and ``shown`` (the path the user knows) instead of it."""
    try:
        samples, problems = _decode_noting_problems(path)
        if shown:  # a packed sound's temporary copy: name what the user knows
            problems = tuple(p.replace(f"'{Path(path).name}'", f"'{shown}'") for p in problems)
        return samples, problems
    except AudioError as err:
        named = AudioError(shown, err.problem, err.hint) if shown else err
        raise SoundSourceError(f"The {label}: {named}") from err
