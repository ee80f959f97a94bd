"""Bake: speech + the prompt -> one new Action of shape-key animation on every target mesh.

The planning, the model run and the all-or-nothing write are ``services.baking``'s; the operator gathers
the inputs, runs them and reports. Undo (Ctrl+Z) removes the whole bake: the operator is one undo step.

Run from a button (``invoke`` with a window), the model runs in a worker thread while a modal handler
shows the progress in the status bar and the window manager's progress cursor; Esc cancels and nothing
changes. From scripts (``execute``), it runs in place with the progress cursor.
"""

from __future__ import annotations

import bpy

from .. import expclip_blender as ex
from .reporting import poll_fail, report_bake_error
from .services.baking import (
    BakeJob,
    BakePlan,
    bake_message,
    bake_report_type,
    plan_bake,
    run_model,
    write_bake,
)
from .services.model_cache import get_model, model_settings
from .services.scene_settings import settings_of
from .services.sound_source import NO_AUDIO_MESSAGE, audio_available
from .services.targets import targets_problem


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
            return poll_fail(cls, "Enable the ExpCLIP extension")
        problem = targets_problem(context)
        if problem:
            return poll_fail(cls, problem)
        if not audio_available(context.scene, settings):
            return poll_fail(cls, NO_AUDIO_MESSAGE)
        return True

    def execute(self, context):
        try:
            plan = plan_bake(context)
            model = get_model(*model_settings(context))
        except Exception as err:
            return report_bake_error(self, err)
        wm = context.window_manager
        wm.progress_begin(0, 100)
        try:
            weights = run_model(plan, model, progress=lambda f: wm.progress_update(int(100 * f)))
            lines = write_bake(plan, weights)
        except ex.Cancelled:
            self.report({"INFO"}, "Bake cancelled: nothing changed.")
            return {"CANCELLED"}
        except Exception as err:
            return report_bake_error(self, err)
        finally:
            wm.progress_end()
        self.report(bake_report_type(plan), bake_message(plan, lines))
        return {"FINISHED"}

    def invoke(self, context, event):
        if context.window is None:
            return self.execute(context)
        try:
            self._plan = plan_bake(context)
        except Exception as err:
            return report_bake_error(self, err)
        self._job = BakeJob(self._plan, *model_settings(context)).start()
        wm = context.window_manager
        self._timer = wm.event_timer_add(0.1, window=context.window)
        wm.modal_handler_add(self)
        wm.progress_begin(0, 100)
        self._status(context, 0.0)
        return {"RUNNING_MODAL"}

    def modal(self, context, event):
        job, plan = self._job, self._plan
        assert job is not None and plan is not None  # invoke() sets both before it adds the handler
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
            return report_bake_error(self, job.error)
        try:
            assert job.weights is not None  # a job done without error or cancel has its weights
            lines = write_bake(plan, job.weights)
        except ReferenceError:
            self.report({"ERROR"}, "A target mesh was removed during the bake: nothing changed. Bake again.")
            return {"CANCELLED"}
        except Exception as err:
            return report_bake_error(self, err)
        self.report(bake_report_type(plan), bake_message(plan, lines))
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


CLASSES = (EXPCLIP_OT_bake,)
