"""Phone sequences the speech tests build: hand-written ones and random speech with pauses."""

from __future__ import annotations

import numpy as np

from expclip_train.speech.phones import (
    BILABIALS,
    CONSONANTS,
    LABIODENTALS,
    OPEN_VOWELS,
    ROUNDED,
    SIL,
    SPREAD_VOWELS,
    VOWELS,
    Phone,
)


def seq(spec: str, t0: float = 0.0) -> list[Phone]:
    """'SIL:0.3 P:0.08 AA:0.15' -> consecutive phones."""
    out, t = [], t0
    for item in spec.split():
        lab, dur = item.split(":")
        out.append(Phone(lab, t, t + float(dur)))
        t += float(dur)
    return out


def random_speech(seed: int, seconds: float = 8.0) -> list[Phone]:
    """Random CV(C) syllables with realistic durations and pauses; every metric category occurs."""
    rng = np.random.default_rng(seed)
    cons, vows = sorted(CONSONANTS), sorted(VOWELS)
    special = sorted(BILABIALS | LABIODENTALS | ROUNDED | SPREAD_VOWELS | OPEN_VOWELS)
    out, t = [Phone(SIL, 0.0, 0.3)], 0.3
    while t < seconds:
        for _ in range(int(rng.integers(3, 9))):
            c = special[rng.integers(len(special))] if rng.random() < 0.5 else cons[rng.integers(len(cons))]
            v = vows[rng.integers(len(vows))]
            for lab, lo, hi in ((c, 0.03, 0.11), (v, 0.05, 0.2)):
                d = float(rng.uniform(lo, hi))
                out.append(Phone(lab, t, t + d))
                t += d
        d = float(rng.uniform(0.1, 0.8))  # a pause, short or long
        out.append(Phone(SIL, t, t + d))
        t += d
    return out
