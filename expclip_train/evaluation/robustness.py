"""The generator report's robustness check: the real-English held-out clips again, degraded as recordings are.

Conditions (:mod:`.degrade`; levels in ``generator_targets.toml`` ``[robustness]``):

- *babble* at 10 dB SNR: ``babble_talkers`` (4) real clips of OTHER speakers (held-out or training;
  never the clip's own speaker), drawn by the seed from the corpus, summed;
- *music* at 10 dB SNR: synthesised (chords, bass and drums; :func:`.degrade.music`), seeded, no file;
- *phone band*: 300-3400 Hz band-pass;
- *DC offset*: 0.3 added to every sample.

The model (neutral prompt) scores each condition with the report's own evaluation (passed in as
``evaluate``); each figure's change against the clean clips is printed, and a condition passes when no
figure falls by more than ``max_drop`` (absolute) and no lag moves by more than ``lag_tolerance`` frames.
The peers are not rerun here (their clean figures are in the main table).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from . import degrade
from .targets import LAG_FIGURES, generator_targets, mark

__all__ = ["CONDITIONS", "babble_pool", "degraded", "evaluate_robustness", "format_robustness", "verdicts"]

SR = 16000
CONDITIONS = ("babble", "music", "phone band", "DC offset")
POOL_CLIPS = 16  # real clips drawn for the babble (the talkers of each clip are chosen among them)


def _settings() -> dict:
    return generator_targets()["robustness"]


def condition_label(name: str) -> str:
    """How a condition is printed, with its level."""
    s = _settings()
    lo, hi = s["phone_band_hz"]
    return {
        "babble": f"babble ({s['babble_talkers']} talkers), {s['snr_db']:g} dB SNR",
        "music": f"music, {s['snr_db']:g} dB SNR",
        "phone band": f"phone band {lo:g}-{hi:g} Hz",
        "DC offset": f"DC offset {s['dc_offset']:g}",
    }[name]


def babble_pool(corpus: Path, seed: int = 0, size: int = POOL_CLIPS) -> list[tuple[str, np.ndarray]]:
    """(speaker, audio) of up to ``size`` real clips of the corpus, drawn by ``seed`` (any split)."""
    import soundfile as sf

    manifest = json.loads((Path(corpus) / "manifest.json").read_text())
    rows = sorted((e for e in manifest["clips"] if e.get("source") == "real"), key=lambda e: e["id"])
    rng = np.random.default_rng([seed, 7])
    picked = [rows[i] for i in sorted(rng.permutation(len(rows))[:size])]
    out = []
    for e in picked:
        audio, _ = sf.read(Path(corpus) / "clips" / f"{e['id']}.flac", dtype="float32")
        out.append((str(e.get("speaker")), audio))
    return out


def _talkers(pool: Sequence[tuple[str, np.ndarray]], speaker: str, k: int, rng) -> list[np.ndarray]:
    """Up to ``k`` pool clips of speakers other than ``speaker``, distinct speakers first."""
    others = [pool[i] for i in rng.permutation(len(pool)) if pool[i][0] != speaker]
    first: list[np.ndarray] = []
    rest: list[np.ndarray] = []
    seen: set[str] = set()
    for s, audio in others:
        (rest if s in seen else first).append(audio)
        seen.add(s)
    return (first + rest)[:k]


def degraded(clip, condition: str, pool: Sequence[tuple[str, np.ndarray]], rng: np.random.Generator):
    """A copy of ``clip`` (a corpus clip) with its audio degraded by ``condition``."""
    s = _settings()
    audio = clip.audio
    if condition == "babble":
        talkers = _talkers(pool, str(clip.meta.get("speaker")), int(s["babble_talkers"]), rng)
        if not talkers:
            raise ValueError("no clip of another real speaker in the corpus to make babble from")
        noise = degrade.babble(talkers, len(audio), SR, rng)
        audio = degrade.mix_at_snr(audio, noise, float(s["snr_db"]), SR)
    elif condition == "music":
        audio = degrade.mix_at_snr(audio, degrade.music(len(audio), SR, rng), float(s["snr_db"]), SR)
    elif condition == "phone band":
        audio = degrade.phone_band(audio, SR, *map(float, s["phone_band_hz"]))
    elif condition == "DC offset":
        audio = degrade.dc_offset(audio, float(s["dc_offset"]))
    else:
        raise ValueError(f"unknown condition {condition!r}; choose one of {CONDITIONS}")
    return replace(clip, audio=audio)


def degraded_clips(
    clips: Sequence, condition: str, pool: Sequence[tuple[str, np.ndarray]], seed: int = 0
) -> list:
    """Every clip degraded by ``condition`` as the report degrades it (clip ``i`` drawn from
    ``[seed, the condition's index, i]``)."""
    ci = CONDITIONS.index(condition)
    return [degraded(c, condition, pool, np.random.default_rng([seed, ci, i])) for i, c in enumerate(clips)]


def verdicts(clean: dict[str, float], figures: dict[str, float], keys: Sequence[str]) -> dict[str, dict]:
    """figure -> {"value", "change", "ok"}: ok when it falls by at most ``max_drop`` (a lag: moves by at
    most ``lag_tolerance`` frames); None where either side has nothing to measure."""
    s = _settings()
    out = {}
    for k in keys:
        v, c = figures.get(k, math.nan), clean.get(k, math.nan)
        change = v - c if math.isfinite(v) and math.isfinite(c) else math.nan
        if not math.isfinite(change):
            ok = None
        elif k in LAG_FIGURES:
            ok = abs(change) <= float(s["lag_tolerance"]) + 1e-9
        else:
            ok = change >= -float(s["max_drop"]) - 1e-9
        out[k] = {"value": v, "change": change, "ok": ok}
    return out


def evaluate_robustness(
    clips: Sequence,
    clean: dict[str, float],
    evaluate: Callable[[list], dict[str, float]],
    pool: Sequence[tuple[str, np.ndarray]],
    keys: Sequence[str],
    seed: int = 0,
) -> dict:
    """Every condition on ``clips``: ``evaluate`` (clips -> the model's figures) against ``clean``."""
    out: dict = {"clean": clean, "conditions": {}}
    for name in CONDITIONS:
        bad = degraded_clips(clips, name, pool, seed)
        figs = evaluate(bad)
        v = verdicts(clean, figs, keys)
        known = [x["ok"] for x in v.values() if x["ok"] is not None]
        out["conditions"][name] = {
            "label": condition_label(name),
            "figures": figs,
            "verdicts": v,
            "ok": all(known) if known else None,
        }
    return out


def _cell(key: str, value: float, change: float | None = None) -> str:
    if not math.isfinite(value):
        return "n/a"
    text = f"{value:+.0f}" if key in LAG_FIGURES else f"{value:.3f}"
    if change is None or not math.isfinite(change):
        return text
    return text + (f" ({change:+.0f}f)" if key in LAG_FIGURES else f" ({change:+.3f})")


def format_robustness(section: dict, labels: dict[str, str]) -> list[str]:
    """The printed robustness table; ``labels``: figure -> its short column title."""
    s = _settings()
    keys = list(labels)
    out = [
        "Robustness: the real-English held-out clips degraded, model (neutral prompt); each figure and its "
        f"change against the clean clips. PASS: no figure falls by more than {s['max_drop']:g} (absolute), "
        f"no lag moves by more than {s['lag_tolerance']:g} frame",
        f"{'condition':<34}" + "".join(f"{labels[k]:>18}" for k in keys) + "   verdict",
        f"{'clean':<34}" + "".join(f"{_cell(k, section['clean'].get(k, math.nan)):>18}" for k in keys),
    ]
    for row in section["conditions"].values():
        v = row["verdicts"]
        cells = "".join(f"{_cell(k, v[k]['value'], v[k]['change']):>18}" for k in keys)
        worse = [labels[k] for k in keys if v[k]["ok"] is False]
        out.append(
            f"{row['label']:<34}{cells}   {mark(row['ok'])}" + (f" ({', '.join(worse)})" if worse else "")
        )
    oks = [row["ok"] for row in section["conditions"].values()]
    out.append(f"  robust under every condition: {'YES' if oks and all(ok is True for ok in oks) else 'NO'}")
    return out
