"""How the operators say why they cannot run or what went wrong (shared by the operator modules)."""

from __future__ import annotations

import traceback

import bpy

from .services.baking import INPUT_ERRORS, BakeInputError


def poll_fail(cls: type[bpy.types.Operator], message: str) -> bool:
    """False from ``poll``, with ``message`` as the disabled button's tooltip where Blender shows one."""
    if hasattr(cls, "poll_message_set"):
        cls.poll_message_set(message)
    return False


def report_bake_error(op: bpy.types.Operator, err: BaseException) -> set[str]:
    """Report a failed bake or preview on ``op``; returns the operator's result."""
    if isinstance(err, (*INPUT_ERRORS, BakeInputError)):
        op.report({"ERROR"}, str(err))
    else:  # unexpected: say so, keep the traceback in the console for a bug report
        traceback.print_exception(err)
        op.report({"ERROR"}, f"ExpCLIP could not bake: {type(err).__name__}: {err}")
    return {"CANCELLED"}
