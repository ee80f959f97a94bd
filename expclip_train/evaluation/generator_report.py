"""Evaluation report of the speech generator on the held-out real speakers, beside two lip-sync peers.

    python -m expclip_train.evaluation.generator_report --corpus build/corpus [--limit N]
        [--json-out REPORT.json] [--device cpu] [--no-peers]

Clips: the held-out split of a corpus built by ``python -m expclip_train.speech.corpus`` (speakers never
seen in training). The main table uses the clips whose phones come from forced alignment of their
transcript (``pocketsphinx-align``); a secondary table uses the held-out clips without a transcript,
whose phones were *recognised* (``pocketsphinx-allphone``), not aligned: its figures are indicative only.

Systems, all at 30 fps on the same audio: the model (``ex.load()``, ``animate(..., blinks=False,
gaze=False)``: the network alone) with the prompt "neutral" and with one strong prompt per basic emotion
(:data:`EMOTION_PROMPTS`, intensity 1);
``pylipsync`` and ``openfacefx`` (audio-energy mode), mapped to ARKit weights by :mod:`.peers`.

Figures (:mod:`speech.metrics`, pooled over the clips; thresholds :data:`speech.metrics.THRESHOLDS`):
bilabial closure rate, open-vowel/bilabial AUC, pauses at rest, sync lag (best lag of the clips' summed
aperture/openness cross-correlation, in frames; the clips' median and share within one frame are in the
JSON), rounding AUC. Style while speaking: the share of frames whose upper face
(``facs.read_emotion(region="upper")``) reads the prompt's emotion (target 90%), and every lip-sync
figure's relative change against the neutral prompt (target: within 10%, read as "at most 10% worse": a
figure that improves under an emotion has kept its lip-sync; the sync lag, whose neutral value is usually 0,
by its change in frames instead: at most 1 either way). The model should beat both peers on every figure:
higher rates and AUCs, a smaller absolute lag (compared at sub-frame resolution, see
:func:`subframe_sync_lag`); equal values are reported as ties.
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
from ..speech.coarticulation import mouth_aperture
from ..speech.metrics import MAX_LAG_S, THRESHOLDS, lipsync_metrics, openness_curve, passes, pooled_metrics
from ..speech.phones import Phone

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
}
EMOTION_TARGET = 0.90  # share of frames reading the prompt's emotion
STYLE_TOLERANCE = 0.10  # relative change of a lip-sync figure against neutral
SYNC_STYLE_TOLERANCE = 1.0  # frames: the sync lag's change against neutral
ALIGNED = "pocketsphinx-align"
PEERS_MAPPING_VERSION = 1  # bump when peers.py maps the peers differently (invalidates cached outputs)
PEER_NAMES = ("pylipsync", "openfacefx")


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
    """Does a figure under an emotion prompt stay close to neutral: at most 10% worse (the sync lag: moved
    by at most 1 frame)? None when either value is missing."""
    if not (_finite(value) and _finite(neutral)):
        return None
    if name == "sync_lag":
        return abs(value - neutral) <= SYNC_STYLE_TOLERANCE
    rel = relative_change(value, neutral)
    return value >= neutral - 1e-12 if not _finite(rel) else rel >= -STYLE_TOLERANCE - 1e-12


def compare(name: str, model: float, peer: float) -> str:
    # For the sync lag pass the sub-frame lags: whole-frame lags of 0 would tie for every good system.
    """'beats' / 'ties' / 'loses' for one figure, or 'n/a' when either side has no value."""
    if not (_finite(model) and _finite(peer)):
        return "n/a"
    a, b = (-abs(model), -abs(peer)) if name == "sync_lag" else (model, peer)
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
    return f"{value:+.0f}" if name == "sync_lag" else f"{value:.3f}"


def _cell(figs: dict[str, float], key: str) -> str:
    """A figure as printed: the sync lag with its sub-frame estimate, e.g. "+0 (+0.21)"."""
    text = _fmt(figs.get(key, math.nan), key)
    sub = figs.get("sync_lag_subframe", math.nan)
    if key == "sync_lag" and _finite(sub):
        text += f" ({sub:+.2f})"
    return text


def _mark(ok: bool | None) -> str:
    return {True: "PASS", False: "fail", None: "n/a"}[ok]


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
            cells.append(f"{_cell(systems[n], key)} {_mark(passes({key: v})[key])}")
        lines.append(f"{label:<27}{_target(key):<10}" + "".join(f"{c:>{width}}" for c in cells))
    return lines


def style_table(
    neutral: dict[str, float], emotions: dict[str, dict], target: float = EMOTION_TARGET
) -> tuple[list[str], dict[str, dict]]:
    """Rows of the style-while-speaking table and their verdicts.

    ``emotions``: prompt -> {"emotion": name, "share": upper-face share, "figures": figures dict}.
    Each cell: the figure and its relative change against ``neutral`` (sync lag: change in frames).
    """
    short = {
        "bilabial_closure_rate": "bilabial",
        "open_bilabial_auc": "open/bil AUC",
        "pause_rest_rate": "pauses",
        "sync_lag": "sync",
        "rounding_auc": "rounding",
    }
    head = f"{'prompt':<12}{'emotion':<11}{'upper face':>12}" + "".join(f"{short[k]:>17}" for k in FIGURES)
    lines = [head + "   lip-sync kept"]
    cells = "".join(f"{_cell(neutral, k):>17}" for k in FIGURES)
    lines.append(f"{NEUTRAL_PROMPT:<12}{'neutral':<11}{'':>12}" + cells)
    verdicts: dict[str, dict] = {}
    for prompt, row in emotions.items():
        figs = row["figures"]
        within = {k: style_within(k, figs.get(k, math.nan), neutral.get(k, math.nan)) for k in FIGURES}
        cells = []
        for k in FIGURES:
            v, ref = figs.get(k, math.nan), neutral.get(k, math.nan)
            if k == "sync_lag":
                delta = f"{v - ref:+.0f}f" if _finite(v) and _finite(ref) else "n/a"
            else:
                rel = relative_change(v, ref)
                delta = f"{100 * rel:+.1f}%" if _finite(rel) else "n/a"
            cells.append(f"{_fmt(v, k)} ({delta})")
        share = row["share"]
        share_ok = None if not _finite(share) else share >= target
        known = [w for w in within.values() if w is not None]
        lipsync_ok = all(known) if known else None
        lines.append(
            f"{prompt:<12}{row['emotion']:<11}{_fmt(share) + ' ' + _mark(share_ok):>12}"
            + "".join(f"{c:>17}" for c in cells)
            + f"   {_mark(lipsync_ok)}"
            + (
                ""
                if lipsync_ok in (True, None)
                else f" ({', '.join(k for k, w in within.items() if w is False)})"
            )
        )
        verdicts[prompt] = {"emotion_ok": share_ok, "lipsync_within": within, "lipsync_ok": lipsync_ok}
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


def evaluate_clips(
    clips: Sequence,
    model,
    peers: Iterable[str],
    prompts: dict[str, str] | None,
    log: Callable[[str], None] = lambda s: None,
    cache: Path | None = None,
) -> dict:
    """Every system on ``clips``; ``prompts`` None = the neutral model only (no style section)."""

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
        neutral = run_system(
            lambda a: model.animate(a, 16000, prompt=NEUTRAL_PROMPT, fps=FPS, blinks=False, gaze=False), clips
        )
        record(model_name, neutral, per_clip=True)
        section["neutral_upper_face_neutral_share"] = float(
            np.mean([emotion_share(w, "neutral") for w in neutral.weights])
        )
    for peer in peers:
        fn = CachedPeer(peer, cache)
        record(peer, run_system(fn, clips), per_clip=True, cached=fn.hits)
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
        lines, _ = style_table(section["systems"][f"model:{NEUTRAL_PROMPT}"], section["style"])
        ok_emotion = [v["emotion_ok"] for v in section["style"].values()]
        ok_lip = [v["lipsync_ok"] for v in section["style"].values()]
        out += [
            "",
            "Style while speaking (intensity 1): upper face reads the prompt's emotion "
            f">= {EMOTION_TARGET:.0%} of frames; lip-sync figures at most {STYLE_TOLERANCE:.0%} "
            f"worse than neutral (sync: within {SYNC_STYLE_TOLERANCE:g} frame)",
            *lines,
            "  still face (expression()) reads: "
            + ", ".join(f"{p} -> {v['still_face_reads']}" for p, v in section["style"].items()),
            "  upper face while speaking, share of the still expression it carries: "
            + ", ".join(f"{p} {v.get('strength', math.nan):.0%}" for p, v in section["style"].items()),
            "  neutral prompt: upper face reads neutral in "
            f"{section.get('neutral_upper_face_neutral_share', math.nan):.0%} of frames",
            f"  emotion shown for every prompt: {'YES' if all(ok_emotion) else 'NO'}; "
            f"lip-sync kept under every prompt: {'YES' if all(v is not False for v in ok_lip) else 'NO'}",
        ]
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


def _report_sections(
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
    except (FileNotFoundError, KeyError, json.JSONDecodeError) as err:
        print(f"error: cannot read the corpus: {err}", file=sys.stderr)
        return 2
    aligned = select_clips([c for c in aligned if _clip_phones_ok(c)], args.limit)
    recognised = select_clips([c for c in recognised if _clip_phones_ok(c)], args.limit)
    if not aligned and not recognised:
        print(
            f"error: {args.corpus} has no held-out clips with phones; build it with --holdout-speakers",
            file=sys.stderr,
        )
        return 2

    model = _load_model(args.device, args.models)
    status = 0 if model is not None else 1
    peers = [] if args.no_peers else _installed_peers()
    cache = None if args.no_cache else args.peer_cache
    t0 = time.perf_counter()
    report: dict = {"corpus": str(args.corpus), "holdout_speakers": speakers, "fps": FPS}
    sections, out = _report_sections(aligned, recognised, model, peers, log, cache)
    report.update(sections)
    report["wall_s"] = time.perf_counter() - t0
    print("\n".join(out))
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps(json_safe(report), indent=1), encoding="utf-8")
    return status


if __name__ == "__main__":
    sys.exit(main())
