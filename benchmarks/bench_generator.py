"""Benchmark: speech -> 30 fps ARKit weights with the trained generator, through the public API.

    .venv/bin/python benchmarks/bench_generator.py [--durations 10 60 600] [--repeat 5] [--device cpu cuda]
        [--speech-dir ../shared/data/speech] [--no-peers] [--threads N]

Prints, per device (cpu, and cuda when torch sees a GPU):
* ``import expclip_blender`` and ``ex.load()`` times;
* 60 s of speech -> 30 fps weights: the first ``animate`` call after ``load()`` (target <= 3 s on CPU)
  and warm calls (median of ``--repeat``; target on the 2-core CPU: ``[speed] warm_60s_cpu`` of
  ``expclip_train/evaluation/generator_targets.toml``, 0.15 s, 400x real time, marked PASS / MISS);
* the peak memory of one call: the rise of the process's resident set (RSS) over its level before the
  call (Linux VmHWM reset through /proc/self/clear_refs; elsewhere a 2 ms RSS sampler), which counts
  torch's native allocations that tracemalloc cannot see; on CUDA also torch's peak device allocation;
* ``--durations`` (10 s / 60 s / 600 s): time and peak RSS rise each, to show that time grows linearly
  and memory stays bounded (chunked inference: the rise should track the audio and output arrays, not
  the duration squared);
* the peers on the same 60 s: pylipsync (and openfacefx's energy mode), with the model's speed-up; the
  last line puts the model's warm 60 s time, its target and pylipsync's time on the same audio side by
  side, with their ratio.

Speech: real recordings concatenated from ``--speech-dir`` (a folder with manifest.csv, such as
../shared/data/speech) when present, else sentences synthesised by espeak-ng, else a speech-like signal
(voiced tone and noise under a 4 Hz syllable envelope). The source is printed.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the workshop (speech synthesis, peers) runs from the source tree
SR = 16000
FPS = 30.0
PROMPT = "neutral"

# --- speech ----------------------------------------------------------------------------------------


def real_speech(folder: Path, seconds: float) -> tuple[np.ndarray, str] | None:
    """Recordings listed in ``folder``/manifest.csv, concatenated (looped if needed) to ``seconds``."""
    import soundfile as sf

    from expclip_blender.audio import resample, to_mono

    manifest = folder / "manifest.csv"
    if not manifest.is_file():
        return None
    with open(manifest, newline="", encoding="utf-8") as f:
        files = [folder / r["file"] for r in csv.DictReader(f) if r.get("file")]
    files = [p for p in files if p.is_file()]
    if not files:
        return None
    # Alternate sources (e.g. VCTK, LibriSpeech) so the audio has many voices.
    files = sorted(files)
    files = [p for pair in zip(files, reversed(files), strict=False) for p in pair][: len(files)]
    need = round(seconds * SR)
    pieces, have, used = [], 0, 0
    while have < need:
        data, sr = sf.read(files[used % len(files)], dtype="float32", always_2d=True)
        piece = resample(to_mono(data), sr, SR)
        pieces.append(piece)
        have += len(piece)
        used += 1
    audio = np.concatenate(pieces)[:need]
    return audio, f"real speech from {folder} ({min(used, len(files))} recordings concatenated)"


def espeak_speech(seconds: float) -> tuple[np.ndarray, str] | None:
    """espeak-ng sentences (the corpus's text generator) until ``seconds``, repeated for long durations."""
    try:
        from expclip_train.speech.synth import EspeakSynth, TextGenerator

        synth, text = EspeakSynth(), TextGenerator(seed=0)
        pieces, have = [], 0
        while have < min(seconds, 120.0) * SR:
            utt = synth.synth(text.sentence())
            pieces += [utt.audio * 0.8 / max(1e-6, float(np.abs(utt.audio).max())), np.zeros(SR // 4)]
            have += len(utt.audio) + SR // 4
    except Exception as err:  # no espeak-ng library: fall through to the synthetic signal
        print(f"(espeak-ng unavailable: {err})", file=sys.stderr)
        return None
    block = np.concatenate(pieces).astype(np.float32)
    reps = int(np.ceil(seconds * SR / len(block)))
    return np.tile(block, reps)[: round(seconds * SR)], "speech synthesised by espeak-ng"


def speechlike_signal(seconds: float) -> tuple[np.ndarray, str]:
    """Noise and a voiced tone under a 4 Hz syllable envelope."""
    rng = np.random.default_rng(0)
    t = np.arange(round(seconds * SR)) / SR
    env = np.clip(np.sin(2 * np.pi * 4 * t), 0, None)
    audio = (rng.standard_normal(len(t)) * 0.05 + 0.3 * np.sin(2 * np.pi * 180 * t)) * env
    return audio.astype(np.float32), "a synthetic speech-like signal (no real speech, no espeak-ng)"


def speech(folder: Path, seconds: float) -> tuple[np.ndarray, str]:
    return real_speech(folder, seconds) or espeak_speech(seconds) or speechlike_signal(seconds)


# --- memory ----------------------------------------------------------------------------------------


def _status_kb(key: str) -> int | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _rss_mb() -> float:
    kb = _status_kb("VmRSS")
    if kb is not None:
        return kb / 1024
    import resource  # no /proc: the lifetime peak is the best we have

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # resets VmHWM (the peak RSS) to the current RSS
        return True
    except OSError:
        return False


def measure(fn: Callable[[], object]) -> tuple[float, float, float, object]:
    """(seconds, RSS before in MB, peak RSS rise in MB, result) of ``fn()``."""
    before = _rss_mb()
    exact = _reset_peak()
    peak = [before]
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.002):
            peak[0] = max(peak[0], _rss_mb())

    sampler = None if exact else threading.Thread(target=sample, daemon=True)
    if sampler:
        sampler.start()
    t0 = time.perf_counter()
    out = fn()
    dt = time.perf_counter() - t0
    if sampler:
        stop.set()
        sampler.join()
    hwm = _status_kb("VmHWM") if exact else None
    top = hwm / 1024 if hwm is not None else max(peak[0], _rss_mb())
    return dt, before, max(0.0, top - before), out


# --- the benchmark ---------------------------------------------------------------------------------


def bench_device(
    ex, device: str, clips: dict[float, np.ndarray], repeat: int, models: Path | None = None
) -> dict[str, float]:
    import torch

    cuda = device == "cuda"
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    t0 = time.perf_counter()
    model = ex.load(device=device, models_dir=models)
    t_load = time.perf_counter() - t0
    print(f"\n[{device}] ex.load(): {t_load:.2f} s")

    def run(audio: np.ndarray) -> Callable[[], np.ndarray]:
        def call() -> np.ndarray:
            out = model.animate(audio, SR, prompt=PROMPT, fps=FPS)
            sync()
            return out

        return call

    sixty = clips[60.0]
    first, before, rise, out = measure(run(sixty))
    n_expected = int(np.ceil(len(sixty) / SR * FPS - 1e-6))
    assert out.shape == (n_expected, 52), out.shape
    warm = []
    rises = []
    for _ in range(repeat):
        if cuda:
            torch.cuda.reset_peak_memory_stats()
        dt, _, r, _ = measure(run(sixty))
        warm.append(dt)
        rises.append(r)
    med = statistics.median(warm)
    target_first, target_warm = (3.0, warm_target()) if not cuda else (None, None)
    print(
        f"[{device}] 60 s of speech -> {out.shape[0]} frames x 52 at {FPS:g} fps:\n"
        f"  first call after load(): {first:.2f} s"
        + (f" (target <= {target_first:g} s)" if target_first else "")
    )
    print(
        f"  warm: median {med:.3f} s over {repeat} (min {min(warm):.3f}, max {max(warm):.3f}), "
        f"{60.0 / med:.0f}x real time"
        + (f" (target <= {target_warm:g} s, {60 / target_warm:.0f}x: {_verdict(med)})" if target_warm else "")
    )
    print(
        f"  peak memory of a call: RSS +{max(rises):.0f} MB over {before:.0f} MB "
        f"(first call: +{rise:.0f} MB; audio in {sixty.nbytes / 2**20:.1f} MB, "
        f"weights out {out.nbytes / 2**20:.1f} MB)"
    )
    if cuda:
        print(f"  cuda: peak allocated {torch.cuda.max_memory_allocated() / 2**20:.0f} MB")

    print(f"[{device}] scaling (warm; median of 3 up to 60 s, one run beyond):")
    print(f"  {'audio s':>8} {'time s':>8} {'x real time':>12} {'s per audio min':>16} {'RSS rise MB':>12}")
    scaling = {}
    for seconds, audio in sorted(clips.items()):
        runs = [measure(run(audio)) for _ in range(3 if seconds <= 60 else 1)]
        dt = statistics.median(r[0] for r in runs)
        r = max(x[2] for x in runs)
        scaling[seconds] = dt
        print(f"  {seconds:>8.0f} {dt:>8.3f} {seconds / dt:>12.0f} {dt / seconds * 60:>16.3f} {r:>12.0f}")
    if len(scaling) >= 2:
        lo, hi = min(scaling), max(scaling)
        print(
            f"  time ratio {hi:.0f} s / {lo:.0f} s = {scaling[hi] / scaling[lo]:.1f} "
            f"for a duration ratio of {hi / lo:.0f} (linear time: about equal, or less where a fixed "
            "per-call cost dominates the short clip)"
        )
    return {"load": t_load, "first": first, "warm": med}


def warm_target() -> float:
    """The warm 60 s target on CPU (seconds), from the report's targets file."""
    from expclip_train.evaluation.targets import generator_targets

    return float(generator_targets()["speed"]["warm_60s_cpu"])


def _verdict(seconds: float) -> str:
    return "PASS" if seconds <= warm_target() else "MISS"


def _times(ratio: float) -> str:
    if ratio >= 1:
        return f"{ratio:.0f}x faster" if ratio >= 10 else f"{ratio:.1f}x faster"
    return f"{1 / ratio:.1f}x slower"


def bench_peers(audio: np.ndarray, model_warm: float) -> dict[str, float]:
    """Each installed peer's time on ``audio`` (seconds), printed beside the model's warm time."""
    from expclip_train.evaluation.peers import peer_available, peer_weights

    seconds = len(audio) / SR
    times: dict[str, float] = {}
    print(f"\npeers on the same {seconds:.0f} s of speech (CPU):")
    for name in ("pylipsync", "openfacefx"):
        if not peer_available(name):
            print(f"  {name}: not installed (pip install -e '.[eval]')")
            continue
        peer_weights(name, audio[: SR // 2], SR, FPS)  # warm-up: templates, imports
        dt, _, rise, _ = measure(lambda n=name: peer_weights(n, audio, SR, FPS))
        times[name] = dt
        print(
            f"  {name}: {dt:.2f} s ({seconds / dt:.1f}x real time, RSS +{rise:.0f} MB); "
            f"the model (warm, cpu) is {_times(dt / model_warm)}"
        )
    return times


def speed_summary(model_warm: float, peers: dict[str, float]) -> str:
    """One line: the model's warm 60 s time against its target, beside pylipsync's on the same audio."""
    line = (
        f"60 s of speech, warm, cpu: model {model_warm:.3f} s "
        f"(target <= {warm_target():g} s: {_verdict(model_warm)})"
    )
    if "pylipsync" in peers:
        ratio = peers["pylipsync"] / model_warm
        line += f"; pylipsync {peers['pylipsync']:.2f} s on the same audio (pylipsync / model = {ratio:.1f})"
    else:
        line += "; pylipsync not measured"
    return line


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--durations", type=float, nargs="+", default=[10.0, 60.0, 600.0])
    parser.add_argument("--repeat", type=int, default=5, help="warm calls on 60 s (median)")
    parser.add_argument("--device", nargs="+", default=None, help="default: cpu, and cuda when available")
    parser.add_argument("--speech-dir", type=Path, default=ROOT.parent / "shared" / "data" / "speech")
    parser.add_argument(
        "--models", type=Path, default=None, help="folder with the model files (default: bundled)"
    )
    parser.add_argument("--no-peers", action="store_true")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    args = parser.parse_args()

    t0 = time.perf_counter()
    import torch

    import expclip_blender as ex

    t_import = time.perf_counter() - t0
    if args.threads:
        torch.set_num_threads(args.threads)
    devices = args.device or (["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"])
    durations = sorted(set(args.durations) | {60.0})
    longest, source = speech(args.speech_dir, max(durations))
    clips = {d: np.ascontiguousarray(longest[: round(d * SR)]) for d in durations}
    print(f"speech: {source}")
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads; "
        f"import expclip_blender (and torch): {t_import:.2f} s"
    )
    cpu = None
    for device in devices:
        res = bench_device(ex, device, clips, args.repeat, args.models)
        if device == "cpu":
            cpu = res
    if not args.no_peers:
        if cpu is None:
            cpu = bench_device(ex, "cpu", {60.0: clips[60.0]}, args.repeat, args.models)
        print("\n" + speed_summary(cpu["warm"], bench_peers(clips[60.0], cpu["warm"])))
    elif cpu is not None:
        print("\n" + speed_summary(cpu["warm"], {}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
