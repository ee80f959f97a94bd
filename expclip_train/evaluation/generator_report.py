"""Evaluation report of the speech generator on the held-out real speakers, beside two lip-sync peers.

    python -m expclip_train.evaluation.generator_report --corpus build/corpus [--limit N]
        [--json-out REPORT.json] [--device cpu] [--no-peers] [--no-languages] [--no-robustness] [--threads N]

Clips: the held-out split of a corpus built by ``python -m expclip_train.speech.corpus`` (speakers never
seen in training). The main table uses the clips whose phones come from forced alignment of their
transcript (``pocketsphinx-align``); a secondary table uses the held-out clips without a transcript,
whose phones were *recognised* (``pocketsphinx-allphone``), not aligned: its figures are indicative only.

Systems, all at 30 fps on the same audio: the model (``ex.load()``, ``animate(..., blinks=False,
gaze=False)``: the network alone) with the prompt "neutral" and with one strong prompt per basic emotion
(:data:`EMOTION_PROMPTS`, intensity 1);
``pylipsync`` and ``openfacefx`` (audio-energy mode), mapped to ARKit weights by :mod:`.peers`; and the
*oracle*: the training targets themselves (``coarticulation.speech_targets`` on the clip's phones and
audio, what the model is trained to reproduce), the ceiling of what training on them can reach.

Figures (:mod:`speech.metrics`, pooled over the clips; thresholds :data:`speech.metrics.THRESHOLDS`):
bilabial closure rate, open-vowel/bilabial AUC, pauses at rest, sync lag (best lag of the clips' summed
aperture/openness cross-correlation, in frames; the clips' median and share within one frame are in the
JSON), rounding AUC, and the aperture-openness correlation with its lag (how well the mouth's opening
follows how open the sounds are). The targets (:mod:`.targets`, ``generator_targets.toml``) are marked
PASS / MISS: the general thresholds in the tables, the real-English targets under the main table. Style
while speaking: the share of frames whose upper face (``facs.read_emotion(region="upper")``) reads the
prompt's emotion, the upper face's strength as a share of the still expression's (target 85% for every
emotion), and every lip-sync figure's relative change against the neutral prompt (target: within 5%, read
as "at most 5% worse": a figure that improves under an emotion has kept its lip-sync; a lag, whose
neutral value is usually 0, by its change in frames instead: at most 1 either way). The model should beat
both peers on every figure: higher rates, AUCs and correlations, a smaller absolute lag (the sync lag
compared at sub-frame resolution, see :func:`subframe_sync_lag`); equal values are reported as ties.

Two more sections (:mod:`.languages`, :mod:`.robustness`): per-language figures on the held-out
multilingual split ``holdout-ml`` beside the peers (said so when the corpus has none), and the
real-English held-out clips again with babble and music underneath, through a phone band and with a DC
offset (:mod:`.degrade`), each figure's change against the clean clips.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from expclip_blender.arkit import ARKIT_INDEX
from expclip_blender.facs import read_emotions

from ..epa import UPPER_NAMES
from ..speech.coarticulation import mouth_aperture, speech_targets
from ..speech.metrics import MAX_LAG_S, THRESHOLDS, lipsync_metrics, openness_curve, passes, pooled_metrics
from ..speech.phones import Phone, normalize_timeline
from .languages import by_language, evaluate_languages, format_languages, load_multilingual, trained_languages
from .robustness import CONDITIONS as ROBUSTNESS_CONDITIONS
from .robustness import babble_pool, evaluate_robustness, format_robustness
from .targets import LAG_FIGURES, generator_targets, mark, meets, target_text

FPS = 30.0
NEUTRAL_PROMPT = "neutral"
#: One strong prompt per basic emotion -> the emotion the upper face should show.
EMOTION_PROMPTS: dict[str, str] = {
    "furious": "anger",
    "overjoyed": "happiness",
    "devastated": "sadness",
    "terrified": "fear",
    "disgusted": "disgust",
    "shocked": "surprise",
}
#: The lip-sync figures with a target (keys of pooled_metrics / THRESHOLDS) and their labels.
FIGURES: dict[str, str] = {
    "bilabial_closure_rate": "bilabial closure rate",
    "open_bilabial_auc": "open vowel / bilabial AUC",
    "pause_rest_rate": "pauses at rest",
    "sync_lag": "sync lag (frames)",
    "rounding_auc": "rounding AUC",
    "openness_correlation": "aperture-openness r",
    "openness_lag": "openness lag (frames)",
}
_STYLE = generator_targets()["style"]
EMOTION_TARGET = float(_STYLE["reads_emotion"])  # share of frames reading the prompt's emotion
STRENGTH_TARGET = float(_STYLE["strength"])  # upper face while speaking / the still expression
STYLE_TOLERANCE = float(_STYLE["lipsync_tolerance"])  # relative change of a lip-sync figure against neutral
SYNC_STYLE_TOLERANCE = float(_STYLE["lag_tolerance"])  # frames: a lag's change against neutral
ALIGNED = "pocketsphinx-align"
PEERS_MAPPING_VERSION = 1  # bump when peers.py maps the peers differently (invalidates cached outputs)
PEER_NAMES = ("pylipsync", "openfacefx")
ORACLE = "oracle:targets"


# --- pure functions --------------------------------------------------------------------------------


def _finite(x: float | None) -> bool:
    return x is not None and isinstance(x, (int, float)) and math.isfinite(x)


def figures(pooled: dict[str, float], subframe_lag: float = math.nan) -> dict[str, float]:
    """The lip-sync figures from :func:`pooled_metrics`: the sync lag is the pooled one; ``subframe_lag``
    (:func:`subframe_sync_lag`) is kept beside it as ``sync_lag_subframe``."""
    out = {k: pooled.get(k, math.nan) for k in FIGURES}
    out["sync_lag"] = pooled.get("sync_lag_pooled", math.nan)
    out["sync_lag_subframe"] = subframe_lag
    return out


def subframe_sync_lag(items: Iterable[tuple[np.ndarray, Sequence[Phone], float]]) -> float:
    """The pooled sync lag in fractional frames: the peak of the clips' summed aperture/openness
    cross-correlation (normalised per clip, weighted by length, as :func:`pooled_metrics` sums it), refined
    by a parabola through the peak and its neighbours. Tells apart systems whose whole-frame lag ties."""
    total: np.ndarray | None = None
    max_lag = 0
    for weights, phones, fps in items:
        ap = mouth_aperture(weights)
        n = len(ap)
        cur = openness_curve(phones, fps, n)
        a, o = ap - ap.mean(), cur - cur.mean()
        if n < 2 or a.std() < 1e-9 or o.std() < 1e-9:
            continue
        max_lag = max(1, round(MAX_LAG_S * fps))
        full = np.correlate(a, o, "full")  # index n - 1 + lag: sum_i a[i + lag] o[i]
        lags = np.arange(-max_lag, max_lag + 1)
        xc = np.where(np.abs(lags) < n, full[np.clip(n - 1 + lags, 0, 2 * n - 2)], 0.0)
        xc = xc / (a.std() * o.std())  # per clip: / n, then weighted by n
        total = xc if total is None else total + xc
    if total is None:
        return math.nan
    k = int(np.argmax(total))
    shift = 0.0
    if 0 < k < len(total) - 1:
        y0, y1, y2 = total[k - 1], total[k], total[k + 1]
        denom = y0 - 2 * y1 + y2
        if denom < 0:
            shift = float(np.clip(0.5 * (y0 - y2) / denom, -0.5, 0.5))
    return float(k - max_lag + shift)


def relative_change(value: float, reference: float) -> float:
    """(value - reference) / |reference|; NaN when either is missing or the reference is 0."""
    if not (_finite(value) and _finite(reference)) or reference == 0:
        return math.nan
    return (value - reference) / abs(reference)


def style_within(name: str, value: float, neutral: float) -> bool | None:
    """Does a figure under an emotion prompt stay close to neutral: at most :data:`STYLE_TOLERANCE` worse
    (a lag: moved by at most :data:`SYNC_STYLE_TOLERANCE` frames)? None when either value is missing."""
    if not (_finite(value) and _finite(neutral)):
        return None
    if name in LAG_FIGURES:
        return abs(value - neutral) <= SYNC_STYLE_TOLERANCE
    rel = relative_change(value, neutral)
    return value >= neutral - 1e-12 if not _finite(rel) else rel >= -STYLE_TOLERANCE - 1e-12


def compare(name: str, model: float, peer: float) -> str:
    # For the sync lag pass the sub-frame lags: whole-frame lags of 0 would tie for every good system.
    """'beats' / 'ties' / 'loses' for one figure, or 'n/a' when either side has no value."""
    if not (_finite(model) and _finite(peer)):
        return "n/a"
    a, b = (-abs(model), -abs(peer)) if name in LAG_FIGURES else (model, peer)
    if abs(a - b) < 1e-9:
        return "ties"
    return "beats" if a > b else "loses"


def style_strength(weights: np.ndarray, still: np.ndarray) -> float:
    """How much of the prompt's still expression the upper face carries while speaking: the frames' mean
    upper face (blinks left out) projected on the still face's, as a fraction (1 = all of it)."""
    idx = [ARKIT_INDEX[n] for n in UPPER_NAMES if not n.startswith("eyeBlink")]
    w, s = np.asarray(weights, np.float64)[:, idx], np.asarray(still, np.float64).reshape(-1)[idx]
    norm = float(s @ s)
    return float(w.mean(axis=0) @ s / norm) if len(w) and norm > 1e-9 else math.nan


def emotion_share(weights: np.ndarray, emotion: str) -> float:
    """Share of frames whose upper face reads as ``emotion``."""
    w = np.asarray(weights)
    if len(w) == 0:
        return math.nan
    reads = read_emotions(w, region="upper")
    return float(np.mean([r == emotion for r in reads]))


def _fmt(value: float | None, name: str = "") -> str:
    if not _finite(value):
        return "n/a"
    return f"{value:+.0f}" if name in LAG_FIGURES else f"{value:.3f}"


def _cell(figs: dict[str, float], key: str) -> str:
    """A figure as printed: the sync lag with its sub-frame estimate, e.g. "+0 (+0.21)"."""
    text = _fmt(figs.get(key, math.nan), key)
    sub = figs.get("sync_lag_subframe", math.nan)
    if key == "sync_lag" and _finite(sub):
        text += f" ({sub:+.2f})"
    return text


def _target(name: str) -> str:
    op, thr = THRESHOLDS[name]
    return f"|x|<={thr:g}" if op == "|<=|" else f"{op} {thr:g}"


def figures_table(systems: dict[str, dict[str, float]]) -> list[str]:
    """Text table: one row per figure, one column per system, each value with PASS/fail."""
    names = list(systems)
    width = max(18, *(len(n) + 2 for n in names))
    lines = [f"{'figure':<27}{'target':<10}" + "".join(f"{n:>{width}}" for n in names)]
    for key, label in FIGURES.items():
        cells = []
        for n in names:
            v = systems[n].get(key, math.nan)
            cells.append(f"{_cell(systems[n], key)} {mark(passes({key: v})[key])}")
        lines.append(f"{label:<27}{_target(key):<10}" + "".join(f"{c:>{width}}" for c in cells))
    return lines


def _style_cell(key: str, value: float, neutral: float) -> str:
    """A figure under an emotion prompt and its change against neutral (a lag: in frames)."""
    if key in LAG_FIGURES:
        delta = f"{value - neutral:+.0f}f" if _finite(value) and _finite(neutral) else "n/a"
    else:
        rel = relative_change(value, neutral)
        delta = f"{100 * rel:+.1f}%" if _finite(rel) else "n/a"
    return f"{_fmt(value, key)} ({delta})"


_STYLE_SHORT = {
    "bilabial_closure_rate": "bilabial",
    "open_bilabial_auc": "open/bil AUC",
    "pause_rest_rate": "pauses",
    "sync_lag": "sync",
    "rounding_auc": "rounding",
    "openness_correlation": "openness r",
    "openness_lag": "openness lag",
}


def style_table(
    neutral: dict[str, float], emotions: dict[str, dict], target: float = EMOTION_TARGET
) -> tuple[list[str], dict[str, dict]]:
    """Rows of the style-while-speaking table and their verdicts.

    ``emotions``: prompt -> {"emotion": name, "share": upper-face share, "figures": figures dict, and
    optionally "strength": the upper face's share of the still expression}. Each figure cell: the figure
    and its relative change against ``neutral`` (a lag: change in frames).
    """
    head = f"{'prompt':<12}{'emotion':<11}{'reads':>11}{'strength':>11}"
    lines = [head + "".join(f"{_STYLE_SHORT[k]:>16}" for k in FIGURES) + "   lip-sync kept"]
    cells = "".join(f"{_cell(neutral, k):>16}" for k in FIGURES)
    lines.append(f"{NEUTRAL_PROMPT:<12}{'neutral':<11}{'':>22}" + cells)
    verdicts: dict[str, dict] = {}
    for prompt, row in emotions.items():
        figs = row["figures"]
        within = {k: style_within(k, figs.get(k, math.nan), neutral.get(k, math.nan)) for k in FIGURES}
        share, strength = row["share"], row.get("strength", math.nan)
        share_ok = None if not _finite(share) else share >= target
        strength_ok = None if not _finite(strength) else strength >= STRENGTH_TARGET - 1e-12
        known = [w for w in within.values() if w is not None]
        lipsync_ok = all(known) if known else None
        missed = [k for k, w in within.items() if w is False]
        lines.append(
            f"{prompt:<12}{row['emotion']:<11}{_fmt(share) + ' ' + mark(share_ok):>11}"
            + (f"{strength:.0%} {mark(strength_ok)}" if _finite(strength) else "n/a").rjust(11)
            + "".join(
                f"{_style_cell(k, figs.get(k, math.nan), neutral.get(k, math.nan)):>16}" for k in FIGURES
            )
            + f"   {mark(lipsync_ok)}"
            + (f" ({', '.join(missed)})" if missed else "")
        )
        verdicts[prompt] = {
            "emotion_ok": share_ok,
            "strength_ok": strength_ok,
            "lipsync_within": within,
            "lipsync_ok": lipsync_ok,
        }
    return lines, verdicts


def peer_comparison(model: dict[str, float], peers: dict[str, dict[str, float]]) -> dict[str, dict[str, str]]:
    """peer -> figure -> 'beats' / 'ties' / 'loses' / 'n/a' (the model against that peer); the sync lag
    compares the sub-frame lags where both have one."""

    def value(figs: dict[str, float], key: str) -> float:
        sub = figs.get("sync_lag_subframe", math.nan)
        return sub if key == "sync_lag" and _finite(sub) else figs.get(key, math.nan)

    return {p: {k: compare(k, value(model, k), value(f, k)) for k in FIGURES} for p, f in peers.items()}


def comparison_lines(comparison: dict[str, dict[str, str]]) -> list[str]:
    """Which figures the model beats each peer on, and the overall verdict."""
    lines = []
    every = True
    for peer, verdicts in comparison.items():
        for what in ("beats", "ties", "loses", "n/a"):
            ks = [FIGURES[k] for k, v in verdicts.items() if v == what]
            if ks:
                lines.append(f"  vs {peer}: {what} on {', '.join(ks)}")
        every &= all(v == "beats" for v in verdicts.values())
    lines.append(f"  beats both peers on every figure: {'YES' if every and comparison else 'NO'}")
    return lines


def select_clips(clips: Sequence, limit: int | None) -> list:
    """At most ``limit`` clips, taken in turn from each speaker (sorted by id) so every speaker counts."""
    by_speaker: dict[str, list] = {}
    for c in sorted(clips, key=lambda c: c.id):
        by_speaker.setdefault(str(c.meta.get("speaker", "?")), []).append(c)
    if limit is None or limit >= len(clips):
        return [c for s in sorted(by_speaker) for c in by_speaker[s]]
    out: list = []
    queues = [by_speaker[s] for s in sorted(by_speaker)]
    i = 0
    while len(out) < limit and any(queues):
        q = queues[i % len(queues)]
        if q:
            out.append(q.pop(0))
        i += 1
    return out


def json_safe(obj):
    """NaN and infinities -> None, numpy scalars -> Python numbers (recursively)."""
    if isinstance(obj, dict):
        return {str(k): json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    if isinstance(obj, (np.floating, float)):
        return float(obj) if math.isfinite(obj) else None
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj


# --- running the systems ---------------------------------------------------------------------------


@dataclass
class SystemRun:
    """One system's output on a set of clips."""

    weights: list[np.ndarray] = field(default_factory=list)
    seconds: float = 0.0  # compute time


def neutral_animation(model) -> Callable[[np.ndarray], np.ndarray]:
    """``audio16k -> weights`` of ``model`` as the report scores its lip-sync: the neutral prompt, no blinks
    or gaze."""
    return lambda a: model.animate(a, 16000, prompt=NEUTRAL_PROMPT, fps=FPS, blinks=False, gaze=False)


def run_system(fn: Callable[[np.ndarray], np.ndarray], clips: Sequence) -> SystemRun:
    """``fn(audio16k) -> (n, 52)`` on every clip, timed."""
    run = SystemRun()
    for c in clips:
        t0 = time.perf_counter()
        w = np.asarray(fn(c.audio), np.float32)
        run.seconds += time.perf_counter() - t0
        run.weights.append(w)
    return run


def _pooled(run: SystemRun, clips: Sequence) -> tuple[dict[str, float], dict[str, float]]:
    """(pooled metrics, figures) of a run."""
    items = [(w, c.phones, FPS) for w, c in zip(run.weights, clips, strict=True)]
    pooled = pooled_metrics(items)
    return pooled, figures(pooled, subframe_sync_lag(items))


def _per_clip(run: SystemRun, clips: Sequence) -> dict[str, dict]:
    return {c.id: lipsync_metrics(w, c.phones, FPS) for w, c in zip(run.weights, clips, strict=True)}


class CachedPeer:
    """``audio16k -> weights`` of a peer, remembered in ``cache`` (the peers are deterministic and
    pylipsync is slow). The key covers the audio, the peer's version, the frame rate and
    :data:`PEERS_MAPPING_VERSION`. ``hits`` counts the answers that came from the cache."""

    def __init__(self, peer: str, cache: Path | None) -> None:
        from importlib.metadata import version

        self.peer, self.cache, self.hits = peer, cache, 0
        self._key = f"{peer}-{version(peer)}-{FPS}-{PEERS_MAPPING_VERSION}".encode()

    def __call__(self, audio: np.ndarray) -> np.ndarray:
        import hashlib

        from .peers import peer_weights

        if self.cache is None:
            return peer_weights(self.peer, audio, 16000, FPS)
        h = hashlib.sha1(np.ascontiguousarray(audio, np.float32).tobytes())
        h.update(self._key)
        path = self.cache / f"{self.peer}-{h.hexdigest()}.npy"
        if path.is_file():
            self.hits += 1
            return np.load(path)
        w = peer_weights(self.peer, audio, 16000, FPS)
        self.cache.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npy")
        np.save(tmp, w)
        tmp.replace(path)
        return w


def oracle_weights(clip) -> np.ndarray:
    """The training targets of a clip (:func:`speech_targets` on its phones, with its audio's loudness)
    at the report's fps: what the model is trained to reproduce."""
    duration = len(clip.audio) / 16000
    return speech_targets(normalize_timeline(clip.phones, duration), FPS, duration, clip.audio, 16000)


def run_oracle(clips: Sequence) -> SystemRun:
    """:func:`oracle_weights` of every clip, timed."""
    run = SystemRun()
    for c in clips:
        t0 = time.perf_counter()
        run.weights.append(oracle_weights(c))
        run.seconds += time.perf_counter() - t0
    return run


def evaluate_clips(
    clips: Sequence,
    model,
    peers: Iterable[str],
    prompts: dict[str, str] | None,
    log: Callable[[str], None] = lambda s: None,
    cache: Path | None = None,
    oracle: bool = True,
) -> dict:
    """Every system on ``clips`` (the oracle too unless ``oracle`` is False); ``prompts`` None = the
    neutral model only (no style section)."""

    audio_s = float(sum(len(c.audio) for c in clips) / 16000)
    section: dict = {
        "clips": [c.id for c in clips],
        "speakers": sorted({str(c.meta.get("speaker")) for c in clips}),
        "audio_s": audio_s,
        "systems": {},
        "pooled": {},
        "per_clip": {},
        "compute_s": {},
    }

    def record(name: str, run: SystemRun, per_clip: bool, cached: int = 0) -> dict[str, float]:
        section["pooled"][name], section["systems"][name] = _pooled(run, clips)
        # Time only runs computed in full here (a cached peer's time would be the cache's).
        section["compute_s"][name] = None if cached else run.seconds
        if per_clip:
            section["per_clip"][name] = _per_clip(run, clips)
        log(
            f"  {name}: {run.seconds:.1f} s for {audio_s:.0f} s of audio"
            + (f" ({cached} cached)" if cached else "")
        )
        return section["systems"][name]

    model_name = f"model:{NEUTRAL_PROMPT}"
    if model is not None:
        neutral = run_system(neutral_animation(model), clips)
        record(model_name, neutral, per_clip=True)
        section["neutral_upper_face_neutral_share"] = float(
            np.mean([emotion_share(w, "neutral") for w in neutral.weights])
        )
    for peer in peers:
        fn = CachedPeer(peer, cache)
        record(peer, run_system(fn, clips), per_clip=True, cached=fn.hits)
    if oracle:
        record(ORACLE, run_oracle(clips), per_clip=True)
    if model is not None and peers:
        section["vs_peers"] = peer_comparison(
            section["systems"][model_name], {p: section["systems"][p] for p in peers}
        )
    if model is not None and prompts:
        style: dict[str, dict] = {}
        for prompt, emotion in prompts.items():
            run = run_system(
                lambda a, p=prompt: model.animate(
                    a, 16000, prompt=p, fps=FPS, intensity=1.0, blinks=False, gaze=False
                ),
                clips,
            )
            frames = np.concatenate(run.weights) if run.weights else np.zeros((0, 52), np.float32)
            still = np.asarray(model.expression(prompt, intensity=1.0))[None]
            style[prompt] = {
                "emotion": emotion,
                "share": emotion_share(frames, emotion),
                "still_face_reads": read_emotions(still, region="upper")[0],
                "strength": style_strength(frames, still[0]),
                "figures": _pooled(run, clips)[1],
                "compute_s": run.seconds,
            }
            log(
                f"  model:{prompt}: {style[prompt]['share']:.2f} of frames read {emotion}, "
                f"upper face at {style[prompt]['strength']:.0%} of the still expression"
            )
        _, verdicts = style_table(section["systems"][model_name], style)
        for prompt, v in verdicts.items():
            style[prompt].update(v)
        section["style"] = style
    return section


def format_section(title: str, section: dict, note: str | None = None) -> list[str]:
    """The printed form of one section of :func:`evaluate_clips`."""
    out = [
        title,
        f"  {len(section['clips'])} clips, {section['audio_s']:.1f} s, "
        f"speakers {', '.join(section['speakers'])}; {FPS:g} fps",
    ]
    if note:
        out.append(f"  {note}")
    out.append("")
    out += figures_table(section["systems"])
    out.append("  (sync lag: pooled over clips; clips' median / share within 1 frame: "
               + ", ".join(
                   f"{n} {_fmt(p.get('sync_lag'), 'sync_lag')} / {_fmt(p.get('sync_within_1'))}"
                   for n, p in section["pooled"].items()
               ) + ")")  # fmt: skip
    out.append(
        "  compute: "
        + ", ".join(
            f"{n} {s:.1f} s ({section['audio_s'] / s:.0f}x real time)" if s else f"{n} (from cache)"
            for n, s in section["compute_s"].items()
        )
    )
    if "vs_peers" in section:
        out += ["", "Model (neutral) against the peers:", *comparison_lines(section["vs_peers"])]
    if "style" in section:
        out += ["", *style_lines(section)]
    return out


def style_lines(section: dict) -> list[str]:
    """The style-while-speaking block of a section with a "style" part."""
    style = section["style"]
    lines, _ = style_table(section["systems"][f"model:{NEUTRAL_PROMPT}"], style)
    ok_emotion = [v["emotion_ok"] for v in style.values()]
    ok_strength = [v.get("strength_ok") for v in style.values()]
    ok_lip = [v["lipsync_ok"] for v in style.values()]

    def yes(oks: list) -> str:
        return "YES" if oks and all(v is True for v in oks) else "NO"

    return [
        "Style while speaking (intensity 1): 'reads': share of frames whose upper face reads the prompt's "
        f"emotion (>= {EMOTION_TARGET:.0%}); 'strength': the upper face's projection on the still "
        f"expression, as a share of it (>= {STRENGTH_TARGET:.0%}); lip-sync figures at most "
        f"{STYLE_TOLERANCE:.0%} worse than neutral (lags: within {SYNC_STYLE_TOLERANCE:g} frame)",
        *lines,
        "  still face (expression()) reads: "
        + ", ".join(f"{p} -> {v['still_face_reads']}" for p, v in style.items()),
        "  neutral prompt: upper face reads neutral in "
        f"{section.get('neutral_upper_face_neutral_share', math.nan):.0%} of frames",
        f"  emotion shown for every prompt: {yes(ok_emotion)}; "
        f"strength >= {STRENGTH_TARGET:.0%} for every emotion: {yes(ok_strength)}; "
        f"lip-sync within {STYLE_TOLERANCE:.0%} of neutral under every prompt: "
        f"{'YES' if ok_lip and all(v is not False for v in ok_lip) else 'NO'}",
    ]


def english_targets(model: dict[str, float]) -> dict[str, dict]:
    """figure -> {"value", "target", "ok"} for the real-English targets (generator_targets.toml)."""
    return {
        k: {"value": model.get(k, math.nan), "target": float(t), "ok": meets(k, model.get(k, math.nan), t)}
        for k, t in generator_targets()["english"].items()
    }


def english_target_lines(verdicts: dict[str, dict]) -> list[str]:
    """The printed real-English targets: one line each, PASS / MISS."""
    out = ["Targets on the real-English held-out clips (model, neutral prompt):"]
    for k, v in verdicts.items():
        label = FIGURES.get(k, k)
        out.append(f"  {label:<27}{target_text(k, v['target']):<11}{_fmt(v['value'], k):>7} {mark(v['ok'])}")
    oks = [v["ok"] for v in verdicts.values()]
    out.append(f"  every real-English target met: {'YES' if all(ok is True for ok in oks) else 'NO'}")
    return out


def load_heldout(corpus: Path) -> tuple[list, list, list[str]]:
    """(aligned clips, recognised clips, held-out speakers) of a built corpus."""
    from ..speech.corpus import iter_clips

    manifest_path = corpus / "manifest.json"
    if not manifest_path.is_file():
        raise FileNotFoundError(
            f"{manifest_path} does not exist: build the corpus first "
            "(python -m expclip_train.speech.corpus --out DIR --real-dir ../shared/data/speech) "
            "or wait for a running build to finish (it writes the manifest last)"
        )
    speakers = json.loads(manifest_path.read_text())["holdout_speakers"]
    clips = list(iter_clips(corpus, split="holdout"))
    aligned = [c for c in clips if c.meta.get("timing") == ALIGNED]
    recognised = [c for c in clips if c.meta.get("timing") != ALIGNED]
    return aligned, recognised, speakers


def _clip_phones_ok(clip) -> bool:
    return any(isinstance(p, Phone) and p.label != "SIL" for p in clip.phones)


def _build_parser() -> argparse.ArgumentParser:
    """The report command's options."""
    parser = argparse.ArgumentParser(
        prog="python -m expclip_train.evaluation.generator_report",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--corpus", type=Path, default=Path("build/corpus"), help="built corpus folder")
    parser.add_argument(
        "--limit", type=int, default=None, help="at most N clips per table (spread over speakers)"
    )
    parser.add_argument("--json-out", type=Path, default=None, help="also write the report as JSON")
    parser.add_argument("--device", default="cpu", help="model device: auto, cpu or cuda (default cpu)")
    parser.add_argument(
        "--models", type=Path, default=None, help="folder with the model files (default: bundled)"
    )
    parser.add_argument("--no-peers", action="store_true", help="skip pylipsync and openfacefx")
    parser.add_argument(
        "--peer-cache", type=Path, default=Path("build/cache/peers"), help="where the peers' outputs are kept"
    )
    parser.add_argument("--no-cache", action="store_true", help="always rerun the peers")
    parser.add_argument(
        "--no-languages", action="store_true", help="skip the per-language section (split holdout-ml)"
    )
    parser.add_argument("--no-robustness", action="store_true", help="skip the degraded-audio section")
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch CPU threads (default 1: the model is cheap beside the peers, and more threads on a busy "
        "2-core machine made the report 8x slower; 0: torch's default)",
    )
    return parser


def _load_model(device: str, models_dir: Path | None):
    """The loaded model, or None (with the reason on stderr) when it cannot be loaded."""
    try:
        from expclip_blender import api

        loaded = api.load(device=device, models_dir=models_dir)
        if not hasattr(loaded, "animate"):
            raise AttributeError("this version of the API has no animate() yet")
        # The generator may load lazily: one tenth of a second of silence makes a missing file show now.
        loaded.animate(np.zeros(1600, np.float32), 16000, prompt=NEUTRAL_PROMPT, fps=FPS, blinks=False)
    except Exception as err:  # a missing or unfit model file: the peers' figures are still worth printing
        print(
            f"error: the model could not be loaded ({type(err).__name__}: {err}); peers only", file=sys.stderr
        )
        return None
    return loaded


def _installed_peers() -> list[str]:
    """The peers that are installed; a warning on stderr for each one that is not."""
    from .peers import peer_available

    peers: list[str] = []
    for p in PEER_NAMES:
        if peer_available(p):
            peers.append(p)
        else:
            print(f"warning: peer {p} is not installed (pip install -e '.[eval]'); skipped", file=sys.stderr)
    return peers


def _english_sections(
    aligned: list, recognised: list, model, peers: list[str], log: Callable[[str], None], cache: Path | None
) -> tuple[dict, list[str]]:
    """Evaluate the aligned and the recognised held-out clips: (figures by section, printed text)."""
    report: dict = {}
    out: list[str] = []
    if aligned:
        log(f"aligned held-out clips: {len(aligned)}")
        report["aligned"] = evaluate_clips(aligned, model, peers, EMOTION_PROMPTS, log, cache)
        out += format_section(
            "Held-out real speakers, phones from forced alignment of the transcript (pocketsphinx)",
            report["aligned"],
        )
        model_figs = report["aligned"]["systems"].get(f"model:{NEUTRAL_PROMPT}")
        if model_figs is not None:
            report["aligned"]["english_targets"] = english_targets(model_figs)
            out += ["", *english_target_lines(report["aligned"]["english_targets"])]
    else:
        out.append("No held-out clip has forced-aligned phones: the main table is empty.")
    if recognised:
        log(f"recognised held-out clips: {len(recognised)}")
        report["recognised"] = evaluate_clips(recognised, model, peers, None, log, cache)
        out += [
            "",
            *format_section(
                "Secondary: held-out real speakers without transcripts",
                report["recognised"],
                note="phones RECOGNISED by pocketsphinx's phone decoder, not aligned to a transcript: "
                "they contain recognition errors, so these figures are indicative only",
            ),
        ]
    return report, out


def _language_section(
    clips: list,
    model,
    peers: list[str],
    log: Callable[[str], None],
    cache: Path | None,
    trained: set[str] | None = None,
) -> tuple[dict | None, list[str]]:
    """The per-language section of the multilingual held-out clips (None and a sentence without any)."""
    if not clips:
        return None, format_languages(None, f"model:{NEUTRAL_PROMPT}")
    log(f"multilingual held-out clips: {len(clips)}")

    def evaluate(group: list) -> dict:
        log(f" {group[0].meta.get('lang', '?')}: {len(group)} clips")
        return evaluate_clips(group, model, peers, None, log, cache)

    section = evaluate_languages(clips, evaluate, f"model:{NEUTRAL_PROMPT}", trained)
    return section, format_languages(section, f"model:{NEUTRAL_PROMPT}")


def _robustness_section(
    aligned: list, clean: dict[str, float] | None, model, corpus: Path, log: Callable[[str], None]
) -> tuple[dict | None, list[str]]:
    """The degraded real-English clips scored by the model against its clean figures."""
    if model is None or clean is None or not aligned:
        return None, ["Robustness: not measured (it needs the model and forced-aligned held-out clips)."]
    log(f"robustness: {len(aligned)} clips x {len(ROBUSTNESS_CONDITIONS)} conditions")

    def evaluate(clips: list) -> dict[str, float]:
        run = run_system(
            lambda a: model.animate(a, 16000, prompt=NEUTRAL_PROMPT, fps=FPS, blinks=False, gaze=False), clips
        )
        return _pooled(run, clips)[1]

    keys = [k for k in FIGURES if k != "sync_lag"]
    section = evaluate_robustness(aligned, clean, evaluate, babble_pool(corpus), keys)
    return section, format_robustness(section, {k: _STYLE_SHORT[k] for k in keys})


def _report_sections(
    args, aligned: list, recognised: list, multilingual: list, model, log
) -> tuple[dict, list]:
    """Every section of the report, timed: (figures by section, printed text)."""
    peers = [] if args.no_peers else _installed_peers()
    cache = None if args.no_cache else args.peer_cache
    report: dict = {"section_s": {}}
    t0 = time.perf_counter()
    sections, out = _english_sections(aligned, recognised, model, peers, log, cache)
    report.update(sections)
    report["section_s"]["english"] = time.perf_counter() - t0
    if not args.no_languages:
        t0 = time.perf_counter()
        trained = trained_languages(args.corpus)
        report["languages"], lines = _language_section(multilingual, model, peers, log, cache, trained)
        report["section_s"]["languages"] = time.perf_counter() - t0
        out += ["", *lines]
    if not args.no_robustness:
        t0 = time.perf_counter()
        clean = report.get("aligned", {}).get("systems", {}).get(f"model:{NEUTRAL_PROMPT}")
        report["robustness"], lines = _robustness_section(aligned, clean, model, args.corpus, log)
        report["section_s"]["robustness"] = time.perf_counter() - t0
        out += ["", *lines]
    return report, out


def main(argv: list[str] | None = None) -> int:
    """Print the held-out lip-sync report; 0 when the model was evaluated, 1 peers only, 2 no corpus."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    if args.limit is not None and args.limit < 1:
        parser.error("--limit must be at least 1")

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    try:
        aligned, recognised, speakers = load_heldout(args.corpus)
        multilingual = [] if args.no_languages else load_multilingual(args.corpus)
    except (FileNotFoundError, KeyError, json.JSONDecodeError) as err:
        print(f"error: cannot read the corpus: {err}", file=sys.stderr)
        return 2
    aligned = select_clips([c for c in aligned if _clip_phones_ok(c)], args.limit)
    recognised = select_clips([c for c in recognised if _clip_phones_ok(c)], args.limit)
    multilingual = [
        c
        for group in by_language([c for c in multilingual if _clip_phones_ok(c)]).values()
        for c in select_clips(group, args.limit)
    ]
    if not (aligned or recognised or multilingual):
        print(
            f"error: {args.corpus} has no held-out clips with phones; build it with --holdout-speakers",
            file=sys.stderr,
        )
        return 2

    if args.threads > 0:
        import torch

        torch.set_num_threads(args.threads)
    model = _load_model(args.device, args.models)
    status = 0 if model is not None else 1
    t0 = time.perf_counter()
    report: dict = {"corpus": str(args.corpus), "holdout_speakers": speakers, "fps": FPS}
    sections, out = _report_sections(args, aligned, recognised, multilingual, model, log)
    report.update(sections)
    report["wall_s"] = time.perf_counter() - t0
    out += [
        "",
        f"Report computed in {report['wall_s']:.0f} s ("
        + ", ".join(f"{k} {v:.0f} s" for k, v in report["section_s"].items())
        + "; the peers' outputs come from the cache where they were computed before)",
    ]
    print("\n".join(out))
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps(json_safe(report), indent=1), encoding="utf-8")
    return status


if __name__ == "__main__":
    sys.exit(main())
