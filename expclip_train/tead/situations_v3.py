"""The third annotator pass: the situations of situations_v3.toml, with soft targets.

Each entry is written in ``TEXTS_PER_SITUATION`` distinct descriptions (a subject and a training frame each:
the v1/v2 situation frames for verb phrases, the clause frames for whole clauses). Each description is
paired with one face of every label the entry lists, weighted by that label's weight, so that a situation
people read in several ways ("{pos} flight got cancelled": anger, sadness) teaches a spread of faces
rather than one. Faces are drawn among the label's faces at the entry's grades (any neutral face for
neutral). Nothing of this pass is held out: its vocabulary is checked against the held-out entries
instead (tests/test_tead_situations_v3.py), and the build drops any description that would still meet one.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Sequence
from dataclasses import dataclass

from expclip_blender.facs import GRADES

from .expressions import ExpressionMeta
from .vocabulary import WeightedSituation, load

#: Distinct descriptions written per situation (fewer where its frames and subjects allow fewer).
TEXTS_PER_SITUATION = 16


@dataclass(frozen=True)
class WeightedPair:
    """One description of a third-pass situation paired with one face, and the pair's weight."""

    expr: int
    text: str
    weight: float
    label: str  # the situations_v3.toml table the situation is listed under
    situation: str  # the entry's text, as in the file ("{pos} flight was cancelled at the gate")


def _choice(rng: random.Random, seq: Sequence):
    return seq[int(rng.random() * len(seq))]


class FacePools:
    """The faces of each label by grade (1..5), blends left out; neutral faces under every grade."""

    def __init__(self, meta: Sequence[ExpressionMeta]) -> None:
        self.by_grade: dict[tuple[str, int], list[int]] = {}
        self.by_label: dict[str, list[int]] = {}
        for m in meta:
            if m.category == "blend":
                continue
            self.by_label.setdefault(m.label, []).append(m.index)
            grades = range(1, 6) if m.grade is None else (GRADES.index(m.grade) + 1,)
            for g in grades:
                self.by_grade.setdefault((m.label, g), []).append(m.index)

    @functools.lru_cache(maxsize=1024)  # noqa: B019 - one pool per build; the cache dies with it
    def options(self, label: str, lo: int, hi: int) -> tuple[int, ...]:
        """The faces of ``label`` at grades lo..hi (all of its faces where none is there)."""
        found = tuple(i for g in range(lo, hi + 1) for i in self.by_grade.get((label, g), ()))
        return found or tuple(self.by_label.get(label, ()))

    def pick(self, label: str, lo: int, hi: int, rng: random.Random) -> int | None:
        """A face of ``label`` at a grade in lo..hi (see :meth:`options`), or None if it has no faces."""
        options = self.options(label, lo, hi)
        return _choice(rng, options) if options else None


def describe_situation(
    entry: WeightedSituation, rng: random.Random, n: int = TEXTS_PER_SITUATION
) -> list[str]:
    """Up to ``n`` distinct descriptions of one situation, each with a subject and a training frame."""
    v = load()
    frames = v.clause_frames if entry.clause else (*v.situation_frames["v1"], *v.situation_frames["v2"])
    out: list[str] = []
    seen: set[str] = set()
    for _ in range(6 * n):
        if len(out) == n:
            break
        subject = _choice(rng, v.subjects)
        frame = _choice(rng, frames)
        text = frame.replace("{vp}", subject.fill(entry.text))
        if "{vp_someone}" in text:
            text = text.replace("{vp_someone}", v.someone.fill(entry.text))
        text = " ".join(subject.fill(text).split()).replace(" ,", ",")
        if text.lower() not in seen:
            seen.add(text.lower())
            out.append(text)
    return out


def third_pass(meta: Sequence[ExpressionMeta], rng: random.Random) -> list[WeightedPair]:
    """Every situation of situations_v3.toml (file order), described and paired with weighted faces."""
    pools = FacePools(meta)
    out: list[WeightedPair] = []
    for label, entries in load().situations_v3.items():
        for entry in entries:
            for text in describe_situation(entry, rng):
                for name, weight in entry.emotions:
                    face = pools.pick(name, entry.lo, entry.hi, rng)
                    if face is not None:
                        out.append(WeightedPair(face, text, weight, label, entry.text))
    return out
