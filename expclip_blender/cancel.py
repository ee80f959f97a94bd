"""Cancelling long runs: a progress callback that returns False stops the work."""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["Cancelled", "Progress", "report_progress"]

Progress = Callable[[float], object]


class Cancelled(Exception):
    """A long run was cancelled through its progress callback; nothing was produced."""


def report_progress(progress: Progress | None, fraction: float) -> None:
    """Tell ``progress`` how far the work is (0..1); raise :class:`Cancelled` if it returns False."""
    if progress is not None and progress(min(max(fraction, 0.0), 1.0)) is False:
        raise Cancelled("cancelled")
