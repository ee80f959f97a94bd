"""Baking: gather and check a bake's inputs, run the model (in place or in a worker thread), write the
result on every target mesh all or nothing, and put a prompt's static expression on the shape keys.

A plan (:func:`plan_bake`, :func:`plan_for`) reads the audio (``sound_source``), the emotion timeline
(``timeline``) and the target meshes; everything that can fail on the input is checked before the model
runs and before the file is touched. :func:`write_bake` writes one new Action named after the prompt on
each target mesh's shape keys through the shape-key writer (each mesh receives the channels it has); the
writes are rolled back together if one fails, so a failed bake leaves the file exactly as it was. The
Action the shape keys had is stashed by the writer (muted NLA track "[Action Stash]" + fake user), where
the Action Editor keeps stashed actions.

:class:`BakeJob` runs the model in a worker thread for the Bake operator's modal run; the batch command
and a Bake from a script run it in place (:func:`run_model`).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Literal

import bpy
import numpy as np

from ... import expclip_blender as ex
from ...expclip_blender.audio import AudioError
from ...expclip_blender.mapping import MappingError, MatchReport, apply_mapping, load_mapping_preset
from ...expclip_blender.model_files import ModelFileError
from ...expclip_blender.timeline import TimelineError, resolve_cues
from .model_cache import get_model
from .scene_settings import NOT_ENABLED_MESSAGE, settings_of
from .shape_key_writer import ShapeKeyWriteError, check_target, resolve_channels, write_shape_key_action
from .sound_source import NO_AUDIO_MESSAGE, BakeAudio, SoundSourceError, audio_available, bake_audio
from .targets import match_names, scene_fps, target_meshes, targets_problem
from .timeline import marker_cues

# Errors that describe bad input; their messages already say what to do.
INPUT_ERRORS = (ShapeKeyWriteError, SoundSourceError, TimelineError, MappingError, AudioError, ModelFileError)


class BakeInputError(ValueError):
    """Something the user has to fix before baking; the message says what."""


# --- what to bake ---------------------------------------------------------------------------------


def resolve_targets(
    context: bpy.types.Context, mapping_preset: str = ""
) -> list[tuple[bpy.types.Object, MatchReport]]:
    """The target meshes with the shape keys each one drives (BakeInputError, ShapeKeyWriteError or
    MappingError when one cannot be baked).

    A mapping preset applies to the meshes that have at least one of the shape keys it names (the face);
    the others (teeth, brows as separate objects) are matched by name (``targets.match_names``).
    """
    problem = targets_problem(context)
    if problem:
        raise BakeInputError(problem)
    return match_targets(target_meshes(context), mapping_preset)


def match_targets(
    objects: list[bpy.types.Object], mapping_preset: str = ""
) -> list[tuple[bpy.types.Object, MatchReport]]:
    """``objects`` with the shape keys each one drives (see :func:`resolve_targets`); the batch command
    names its meshes instead of selecting them."""
    preset = load_mapping_preset(bpy.path.abspath(mapping_preset)) if mapping_preset.strip() else None
    out = []
    for obj in objects:
        key = check_target(obj)
        names = [kb.name for kb in key.key_blocks[1:]]
        out.append((obj, resolve_channels(key, match_names(names, preset))))
    return out


@dataclass
class BakePlan:
    """Everything a bake needs, gathered and checked on the main thread before the model runs."""

    targets: list[tuple[bpy.types.Object, MatchReport]]
    audio: BakeAudio
    fps: float
    prompt: str
    intensity: float
    cues: list[tuple[float, str, float]] = field(default_factory=list)  # (seconds from start, prompt, x)
    transition_s: float = 0.5
    blinks: bool = True
    gaze: bool = True
    gaze_amount: float = 1.0
    smoothing: float = 0.0
    silent: bool = False

    @property
    def action_name(self) -> str:
        return self.prompt or "neutral"


def plan_bake(context: bpy.types.Context) -> BakePlan:
    """Read and check every input of a bake (raises one of INPUT_ERRORS or BakeInputError)."""
    scene, settings = context.scene, settings_of(context)
    if scene is None or settings is None:  # no scene, no settings: one message for both
        raise BakeInputError(NOT_ENABLED_MESSAGE)
    return plan_for(scene, settings, resolve_targets(context, settings.mapping_preset))


def plan_for(
    scene: bpy.types.Scene, settings, targets: list[tuple[bpy.types.Object, MatchReport]]
) -> BakePlan:
    """The plan of a bake of ``scene`` onto ``targets`` with ``settings`` (the scene's ExpCLIP settings,
    or any object with the same attributes: the batch command overrides some of them)."""
    if not audio_available(scene, settings):
        raise BakeInputError(NO_AUDIO_MESSAGE)
    audio = bake_audio(scene, settings)
    fps = scene_fps(scene)
    prompt, intensity = " ".join(settings.prompt.split()), float(settings.intensity)
    cues: list[tuple[float, str, float]] = []
    if settings.use_timeline:
        prompt, intensity, cues = resolve_cues(
            marker_cues(scene), prompt, intensity, audio.start_frame, audio.frame_count, fps
        )
    return BakePlan(
        targets=targets,
        audio=audio,
        fps=fps,
        prompt=prompt,
        intensity=intensity,
        cues=cues,
        transition_s=float(settings.transition_s),
        blinks=bool(settings.blinks),
        gaze=bool(settings.gaze),
        gaze_amount=float(settings.gaze_amount),
        smoothing=float(settings.smoothing),
        silent=bool(ex.audio_is_silent(audio.samples)),
    )


# --- running the model ----------------------------------------------------------------------------


def run_model(plan: BakePlan, model, progress=None) -> np.ndarray:
    """(plan.audio.frame_count, 52) weights: one row per baked frame (no bpy: safe in a worker thread)."""
    cues = [ex.StyleCue(t, p, i) for t, p, i in plan.cues] or None
    weights = model.animate(
        plan.audio.samples,
        plan.audio.sample_rate,
        prompt=plan.prompt,
        fps=plan.fps,
        intensity=plan.intensity,
        cues=cues,
        transition_s=plan.transition_s,
        blinks=plan.blinks,
        gaze=plan.gaze,
        gaze_amount=plan.gaze_amount,
        smoothing=plan.smoothing,
        progress=progress,
    )
    weights = np.asarray(weights, np.float32)[: plan.audio.frame_count]
    missing = plan.audio.frame_count - len(weights)
    if missing > 0:  # rounding of the sample count can leave the last frame out: hold the last face
        weights = np.concatenate([weights, np.repeat(weights[-1:], missing, axis=0)])
    return weights


class BakeJob:
    """The model run of a bake in a worker thread: progress to read, cancel to ask for, result or error."""

    def __init__(self, plan: BakePlan, device: str = "auto", models_dir: str | None = None) -> None:
        self.plan = plan
        self.device, self.models_dir = device, models_dir
        self.fraction = 0.0
        self.weights: np.ndarray | None = None
        self.error: BaseException | None = None
        self.cancelled = False
        self._cancel = threading.Event()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="expclip-bake", daemon=True)

    def start(self) -> BakeJob:
        self._thread.start()
        return self

    def cancel(self) -> None:
        """Ask the model to stop at its next progress report; ``cancelled`` is set when it has."""
        self._cancel.set()

    @property
    def cancel_requested(self) -> bool:
        return self._cancel.is_set()

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        return self._done.wait(timeout)

    def _progress(self, fraction: float) -> bool:
        self.fraction = float(fraction)
        return not self._cancel.is_set()

    def _run(self) -> None:
        try:
            if self._cancel.is_set():
                raise ex.Cancelled("cancelled before the model ran")
            model = get_model(self.device, self.models_dir)
            self.weights = run_model(self.plan, model, progress=self._progress)
        except ex.Cancelled:
            self.cancelled = True
        except BaseException as err:  # reported on the main thread
            self.error = err
        finally:
            self._done.set()


# --- writing --------------------------------------------------------------------------------------


@dataclass
class _KeyAnimState:
    """How a shape-key datablock's animation looked before a write, to put it back exactly."""

    key: bpy.types.Key
    had_animation_data: bool
    action: bpy.types.Action | None
    slot: bpy.types.ActionSlot | None  # None where actions have no slots (before Blender 4.4)
    track_count: int
    fake_user: bool

    @classmethod
    def of(cls, key: bpy.types.Key) -> _KeyAnimState:
        anim = key.animation_data
        action = anim.action if anim is not None else None
        return cls(
            key=key,
            had_animation_data=anim is not None,
            action=action,
            slot=getattr(anim, "action_slot", None) if anim is not None else None,
            track_count=len(anim.nla_tracks) if anim is not None else 0,
            fake_user=bool(action.use_fake_user) if action is not None else False,
        )

    def restore(self, new_action: bpy.types.Action) -> None:
        anim = self.key.animation_data
        if anim is not None:
            while len(anim.nla_tracks) > self.track_count:  # the stash track the write added
                anim.nla_tracks.remove(anim.nla_tracks[-1])
            if self.had_animation_data:
                anim.action = self.action
                if self.slot is not None and self.action is not None:
                    anim.action_slot = self.slot
            else:
                self.key.animation_data_clear()
        if self.action is not None:
            self.action.use_fake_user = self.fake_user
        bpy.data.actions.remove(new_action)


def write_bake(plan: BakePlan, weights: np.ndarray) -> list[str]:
    """Write ``weights`` on every target of ``plan``; all or nothing. Returns one summary line per mesh."""
    written: list[tuple[_KeyAnimState, bpy.types.Action]] = []
    lines = []
    try:
        for obj, report in plan.targets:
            key = check_target(obj)  # again: the file may have changed while the model ran
            state = _KeyAnimState.of(key)
            result = write_shape_key_action(
                obj,
                weights,
                fps=plan.fps,
                start_frame=plan.audio.start_frame,
                scene_fps=plan.fps,
                channels=resolve_channels(key, report),
                name=plan.action_name,
            )
            written.append((state, result.action))
            lines.append(f"{obj.name}: {result.report.summary()}")
    except BaseException:
        for state, action in reversed(written):
            state.restore(action)
        raise
    return lines


def bake_message(plan: BakePlan, lines: list[str]) -> str:
    """What a finished bake reports: the Action, the audio, the frames, and one summary per mesh."""
    first, count = plan.audio.start_frame, plan.audio.frame_count
    text = f"Baked '{plan.action_name}' from {plan.audio.label} on frames {first}-{first + count - 1}. "
    if plan.silent:
        text += "The audio is silent: baked a resting face. "
    warned = "".join(f" Warning: {w}" for w in plan.audio.warnings)
    return text + "; ".join(lines) + warned


# What Operator.report accepts, a set of these (sets are invariant: a narrower Literal set is refused).
ReportType = Literal[
    "DEBUG", "INFO", "OPERATOR", "PROPERTY", "WARNING", "ERROR",
    "ERROR_INVALID_INPUT", "ERROR_INVALID_CONTEXT", "ERROR_OUT_OF_MEMORY",
]  # fmt: skip


def bake_report_type(plan: BakePlan) -> set[ReportType]:
    """The report type of a finished bake: WARNING when the audio decoded short of its stated length."""
    return {"WARNING"} if plan.audio.warnings else {"INFO"}


# --- preview ----------------------------------------------------------------------------------------


def preview_expression(targets: list[tuple[bpy.types.Object, MatchReport]], face: np.ndarray) -> list[str]:
    """Put the 52 ARKit values ``face`` on the targets' shape keys (no keyframes); all or nothing.

    Returns the names of the meshes whose animation sets the keys again when the frame changes.
    """
    # Compute every value first, then set them: nothing is half applied.
    updates = []
    for obj, report in targets:
        blocks = obj.data.shape_keys.key_blocks
        values = apply_mapping(np.asarray(face, np.float32)[None], report.channels)[0]
        for channel, value in zip(report.channels, values, strict=True):
            block = blocks[channel.shape_key]
            updates.append((block, float(np.clip(value, block.slider_min, block.slider_max))))
    for block, value in updates:
        block.value = value
    # The targets were checked to have shape keys; Object.data.shape_keys is typed Optional.
    return [obj.name for obj, _ in targets if _has_action(obj.data.shape_keys)]  # type: ignore[arg-type]


def _has_action(key: bpy.types.Key) -> bool:
    return key.animation_data is not None and key.animation_data.action is not None
