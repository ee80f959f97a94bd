"""Bake and Preview: speech + the prompt -> shape-key animation on every target mesh.

**Bake** reads the audio (``sound_source``), the emotion timeline (``timeline``) and the target meshes,
runs the model once, and writes one new Action named after the prompt on each target mesh's shape keys
through the shape-key writer (each mesh receives the channels it has). Everything that can fail on the
input is checked before the model runs and before the file is touched; the writes themselves are rolled
back together if one fails, so a failed bake leaves the file exactly as it was. The Action the shape keys
had is stashed by the writer (muted NLA track "[Action Stash]" + fake user), where the Action Editor
keeps stashed actions. Undo (Ctrl+Z) removes the whole bake: the operator is one undo step.

Run from a button (``invoke`` with a window), the model runs in a worker thread while a modal handler
shows the progress in the status bar and the window manager's progress cursor; Esc cancels and nothing
changes. From scripts (``execute``), it runs in place with the progress cursor.

**Preview expression** puts the prompt's static expression on the shape-key values (no keyframes).
"""

from __future__ import annotations

import threading
import traceback
from dataclasses import dataclass, field

import bpy
import numpy as np

from .. import expclip_blender as ex
from ..expclip_blender.audio import AudioError
from ..expclip_blender.mapping import (
    MappingError,
    MatchReport,
    apply_mapping,
    auto_match,
    load_mapping_preset,
)
from ..expclip_blender.model_files import ModelFileError
from .model_cache import get_model, model_settings
from .shape_key_writer import ShapeKeyWriteError, check_target, resolve_channels, write_shape_key_action
from .sound_source import NO_AUDIO_MESSAGE, BakeAudio, SoundSourceError, audio_available, bake_audio
from .targets import scene_fps, target_meshes
from .timeline import TimelineError, marker_cues, resolve_cues

NO_TARGET_MESSAGE = "Select a mesh with shape keys"
# Errors that describe bad input; their messages already say what to do.
INPUT_ERRORS = (ShapeKeyWriteError, SoundSourceError, TimelineError, MappingError, AudioError, ModelFileError)


class BakeInputError(ValueError):
    """Something the user has to fix before baking; the message says what."""


# --- what to bake ---------------------------------------------------------------------------------


def targets_problem(context: bpy.types.Context) -> str | None:
    """Why there is nothing to bake onto (the disabled buttons' tooltip), or None."""
    if target_meshes(context):
        return None
    active = context.active_object
    if active is not None and active.type == "MESH":
        return f"{NO_TARGET_MESSAGE} ('{active.name}' has none)"
    return NO_TARGET_MESSAGE


def settings_of(context: bpy.types.Context):
    """The scene's ExpCLIP settings (``scene.expclip``), or None before the extension registers them."""
    scene = context.scene
    return getattr(scene, "expclip", None) if scene is not None else None


def resolve_targets(
    context: bpy.types.Context, mapping_preset: str = ""
) -> list[tuple[bpy.types.Object, MatchReport]]:
    """The target meshes with the shape keys each one drives (BakeInputError, ShapeKeyWriteError or
    MappingError when one cannot be baked).

    A mapping preset applies to the meshes that have at least one of the shape keys it names (the face);
    the others (teeth, brows as separate objects) are matched by name.
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
        if preset is not None and any(ch.shape_key in names for ch in preset.channels):
            report = preset.resolve(names)
        else:
            report = auto_match(names)
        out.append((obj, resolve_channels(key, report)))
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
    smoothing: float = 0.0
    silent: bool = False

    @property
    def action_name(self) -> str:
        return self.prompt or "neutral"


def plan_bake(context: bpy.types.Context) -> BakePlan:
    """Read and check every input of a bake (raises one of INPUT_ERRORS or BakeInputError)."""
    settings = settings_of(context)
    if settings is None:
        raise BakeInputError("The ExpCLIP extension is not registered: enable it in the preferences.")
    return plan_for(context.scene, settings, resolve_targets(context, settings.mapping_preset))


def plan_for(
    scene: bpy.types.Scene, settings, targets: list[tuple[bpy.types.Object, MatchReport]]
) -> BakePlan:
    """The plan of a bake of ``scene`` onto ``targets`` with ``settings`` (the scene's ExpCLIP settings,
    or any object with the same attributes: the batch command overrides some of them)."""
    if not audio_available(scene, settings):
        raise BakeInputError(NO_AUDIO_MESSAGE)
    audio = bake_audio(scene, settings)
    fps = scene_fps(scene)
    prompt, intensity, cues = " ".join(settings.prompt.split()), float(settings.intensity), []
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
    slot: object
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
    first, count = plan.audio.start_frame, plan.audio.frame_count
    text = f"Baked '{plan.action_name}' from {plan.audio.label} on frames {first}-{first + count - 1}. "
    if plan.silent:
        text += "The audio is silent: baked a resting face. "
    return text + "; ".join(lines)


# --- operators ------------------------------------------------------------------------------------


def _poll_fail(cls, message: str) -> bool:
    if hasattr(cls, "poll_message_set"):  # the disabled button's tooltip says why
        cls.poll_message_set(message)
    return False


def _report_error(op: bpy.types.Operator, err: BaseException) -> set[str]:
    if isinstance(err, (*INPUT_ERRORS, BakeInputError)):
        op.report({"ERROR"}, str(err))
    else:  # unexpected: say so, keep the traceback in the console for a bug report
        traceback.print_exception(err)
        op.report({"ERROR"}, f"ExpCLIP could not bake: {type(err).__name__}: {err}")
    return {"CANCELLED"}


class EXPCLIP_OT_bake(bpy.types.Operator):
    """Animate the target meshes' shape keys from the speech and the prompt (one new Action each)"""

    bl_idname = "expclip.bake"
    bl_label = "Bake"
    bl_options = {"REGISTER", "UNDO"}

    _job: BakeJob | None = None
    _plan: BakePlan | None = None
    _timer = None

    @classmethod
    def poll(cls, context):
        settings = settings_of(context)
        if settings is None:
            return _poll_fail(cls, "Enable the ExpCLIP extension")
        problem = targets_problem(context)
        if problem:
            return _poll_fail(cls, problem)
        if not audio_available(context.scene, settings):
            return _poll_fail(cls, NO_AUDIO_MESSAGE)
        return True

    def execute(self, context):
        try:
            plan = plan_bake(context)
            model = get_model(*model_settings(context))
        except Exception as err:
            return _report_error(self, err)
        wm = context.window_manager
        wm.progress_begin(0, 100)
        try:
            weights = run_model(plan, model, progress=lambda f: wm.progress_update(int(100 * f)))
            lines = write_bake(plan, weights)
        except ex.Cancelled:
            self.report({"INFO"}, "Bake cancelled: nothing changed.")
            return {"CANCELLED"}
        except Exception as err:
            return _report_error(self, err)
        finally:
            wm.progress_end()
        self.report({"INFO"}, bake_message(plan, lines))
        return {"FINISHED"}

    def invoke(self, context, event):
        if context.window is None:
            return self.execute(context)
        try:
            self._plan = plan_bake(context)
        except Exception as err:
            return _report_error(self, err)
        self._job = BakeJob(self._plan, *model_settings(context)).start()
        wm = context.window_manager
        self._timer = wm.event_timer_add(0.1, window=context.window)
        wm.modal_handler_add(self)
        wm.progress_begin(0, 100)
        self._status(context, 0.0)
        return {"RUNNING_MODAL"}

    def modal(self, context, event):
        job = self._job
        if event.type == "ESC" and event.value == "PRESS":
            job.cancel()
            self._status(context, job.fraction, cancelling=True)
        elif event.type == "TIMER" and not job.done:
            context.window_manager.progress_update(int(100 * job.fraction))
            self._status(context, job.fraction, cancelling=job.cancel_requested)
        if not job.done:
            return {"RUNNING_MODAL"}  # swallow input: the file must not change under the bake
        self._end(context)
        if job.cancelled or job.cancel_requested:
            self.report({"INFO"}, "Bake cancelled: nothing changed.")
            return {"CANCELLED"}
        if job.error is not None:
            return _report_error(self, job.error)
        try:
            lines = write_bake(self._plan, job.weights)
        except ReferenceError:
            self.report({"ERROR"}, "A target mesh was removed during the bake: nothing changed. Bake again.")
            return {"CANCELLED"}
        except Exception as err:
            return _report_error(self, err)
        self.report({"INFO"}, bake_message(self._plan, lines))
        return {"FINISHED"}

    def cancel(self, context):  # Blender ends the modal (window closed, file loaded): stop the worker
        if self._job is not None:
            self._job.cancel()
        self._end(context)

    def _status(self, context, fraction: float, cancelling: bool = False) -> None:
        seconds = self._plan.audio.duration
        text = f"ExpCLIP: baking {seconds:.1f} s of audio, {100 * fraction:.0f} %"
        text += " - cancelling..." if cancelling else " - Esc to cancel"
        if context.workspace is not None:
            context.workspace.status_text_set(text)

    def _end(self, context) -> None:
        wm = context.window_manager
        if self._timer is not None:
            wm.event_timer_remove(self._timer)
            self._timer = None
        wm.progress_end()
        if context.workspace is not None:
            context.workspace.status_text_set(None)


class EXPCLIP_OT_preview_expression(bpy.types.Operator):
    """Put the prompt's static expression on the target meshes' shape keys (no keyframes)"""

    bl_idname = "expclip.preview_expression"
    bl_label = "Preview Expression"
    bl_options = {"REGISTER", "UNDO"}

    @classmethod
    def poll(cls, context):
        if settings_of(context) is None:
            return _poll_fail(cls, "Enable the ExpCLIP extension")
        problem = targets_problem(context)
        return _poll_fail(cls, problem) if problem else True

    def execute(self, context):
        settings = settings_of(context)
        try:
            targets = resolve_targets(context, settings.mapping_preset)
            model = get_model(*model_settings(context))
            face = model.expression(" ".join(settings.prompt.split()), float(settings.intensity))
        except Exception as err:
            return _report_error(self, err)
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
        animated = [obj.name for obj, _ in targets if _has_action(obj.data.shape_keys)]
        prompt = settings.prompt.strip() or "neutral"
        text = f"Previewing '{prompt}' on {', '.join(obj.name for obj, _ in targets)}"
        if animated:
            text += f" (the animation of {', '.join(animated)} sets the keys again when the frame changes)"
        self.report({"INFO"}, text)
        return {"FINISHED"}


def _has_action(key: bpy.types.Key) -> bool:
    return key.animation_data is not None and key.animation_data.action is not None


CLASSES = (EXPCLIP_OT_bake, EXPCLIP_OT_preview_expression)
