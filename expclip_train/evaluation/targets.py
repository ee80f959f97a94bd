"""The generator report's targets (``generator_targets.toml``) and the PASS / MISS verdicts against them."""

from __future__ import annotations

import functools
import math
import tomllib
from pathlib import Path

__all__ = ["LAG_FIGURES", "generator_targets", "mark", "meets", "target_text"]

TARGETS_FILE = Path(__file__).with_name("generator_targets.toml")
#: Figures in frames, judged by their absolute value.
LAG_FIGURES = frozenset({"sync_lag", "openness_lag"})


@functools.cache
def generator_targets() -> dict:
    """The parsed targets file (its sections: english, languages, languages_floor, style, robustness,
    speed)."""
    with open(TARGETS_FILE, "rb") as f:
        return tomllib.load(f)


def _finite(x: object) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x)


def meets(name: str, value: float | None, threshold: float) -> bool | None:
    """Does ``value`` of figure ``name`` meet ``threshold``: |value| <= it for a lag, value >= it
    otherwise; None when the value is missing."""
    if not _finite(value):
        return None
    assert value is not None
    return abs(value) <= threshold if name in LAG_FIGURES else value >= threshold


def mark(ok: bool | None) -> str:
    """PASS, MISS, or n/a (nothing to measure)."""
    return "n/a" if ok is None else "PASS" if ok else "MISS"


def target_text(name: str, threshold: float) -> str:
    """The target as printed: ">= 0.95", or "|x| <= 1" for a lag."""
    return f"|x| <= {threshold:g}" if name in LAG_FIGURES else f">= {threshold:g}"
