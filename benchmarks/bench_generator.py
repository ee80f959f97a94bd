"""Benchmark: log-mel features + the speech generator (untrained, default size) on synthetic audio.

    .venv/bin/python benchmarks/bench_generator.py [--durations 10 60 600] [--device cpu cuda]

Prints wall time, x real time and the process's peak RSS after each run: time should grow linearly with
the duration and peak memory should stay nearly flat (chunked inference). Durations run shortest first
because peak RSS never goes down. Trained-model figures come with the trained weights.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time

import numpy as np
import torch

from expclip_blender.features import log_mel
from expclip_blender.generator import GeneratorConfig, SpeechToFace, run_chunked, to_fps


def peak_rss_mb() -> float:
    # ru_maxrss is KiB on Linux, bytes on macOS.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def synthetic_audio(seconds: float, sr: int = 16000) -> np.ndarray:
    """Noise and a voiced tone under a 4 Hz syllable envelope, made in 60 s pieces to keep memory low."""
    rng = np.random.default_rng(0)
    pieces, done = [], 0
    total = round(seconds * sr)
    while done < total:
        n = min(60 * sr, total - done)
        t = (done + np.arange(n)) / sr
        env = np.clip(np.sin(2 * np.pi * 4 * t), 0, None)
        pieces.append(
            ((rng.standard_normal(n) * 0.05 + 0.3 * np.sin(2 * np.pi * 180 * t)) * env).astype(np.float32)
        )
        done += n
    return np.concatenate(pieces)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--durations", type=float, nargs="+", default=[10.0, 60.0, 600.0])
    parser.add_argument("--device", nargs="+", default=None, help="default: cpu, and cuda when available")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    devices = args.device or (["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"])

    torch.manual_seed(0)
    base = SpeechToFace(GeneratorConfig()).eval()
    rf = base.receptive_field_frames
    print(f"generator: {base.num_parameters():,} parameters, receptive field +-{rf} frames")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads")
    style = np.random.default_rng(1).standard_normal(base.config.style_dim).astype(np.float32)
    log_mel(synthetic_audio(1.0), 16000)  # warm-up: imports librosa's filter bank once
    header = ["device", "audio s", "features s", "generator s", "total s", "x real time", "peak RSS MB"]
    print(" ".join(f"{h:>11}" for h in header))
    for device in devices:
        model = base.to(device)
        run_chunked(model, np.zeros((500, 80), np.float32), style, device)  # warm-up (CUDA context, kernels)
        for seconds in sorted(args.durations):
            audio = synthetic_audio(seconds)
            t0 = time.perf_counter()
            mel = log_mel(audio, 16000)
            t1 = time.perf_counter()
            frames = run_chunked(model, mel, style, device)
            to_fps(frames, seconds, 30.0)
            if device == "cuda":
                torch.cuda.synchronize()
            t2 = time.perf_counter()
            total = t2 - t0
            row = [
                f"{seconds:.0f}",
                f"{t1 - t0:.2f}",
                f"{t2 - t1:.2f}",
                f"{total:.2f}",
                f"{seconds / total:.1f}",
            ]
            print(" ".join(f"{c:>11}" for c in [device, *row, f"{peak_rss_mb():.0f}"]), flush=True)
            del audio, mel, frames
        if device == "cuda":
            print(f"cuda peak allocated: {torch.cuda.max_memory_allocated() / 2**20:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
