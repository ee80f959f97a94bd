"""Benchmark: peak memory of ``animate()`` (and optionally a bpy bake) on long synthetic speech.

    .venv/bin/python benchmarks/bench_memory.py [--minutes 10 60] [--bake]

Each figure comes from a fresh child process. For ``animate()`` the child loads the model, runs one short
warm-up animation (so the generator and torch are loaded), makes the audio, then resets its peak RSS
(``/proc/self/clear_refs``) and animates: the figure is the peak RSS above that point, i.e. what
``animate()`` itself needs on top of the loaded model and the caller's audio array. Inputs: 16 kHz mono
and 48 kHz stereo (mixed down and resampled inside). ``--bake`` adds bpy bakes of a sound strip of the
longest duration onto the production-sized face, from a 16 kHz mono and a 48 kHz stereo PCM16 WAV (written
by the parent, so the child holds no copy of its own); each figure is the child's whole peak RSS
(``ru_maxrss``: bpy, the model, decoding and the bake). Targets: ``animate()`` on 60 min <= 600 MB above the
loaded model; a 60-min bake <= 2 GB peak. Synthetic speech: ``tests/invariants.speech_like`` (30 s)
repeated with varying gains.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "scripts"), str(ROOT / "tests")]
MB = 1024 * 1024


def speech(minutes: float, rate: int, channels: int) -> np.ndarray:
    """``minutes`` of speech-like audio at ``rate`` Hz: (n,) for mono, (n, channels) otherwise."""
    from invariants import speech_like

    from expclip_blender.audio import resample

    piece = resample(speech_like(30.0, seed=3), 16000, rate)
    reps = int(np.ceil(minutes * 60 * rate / len(piece)))
    gains = np.random.default_rng(0).uniform(0.5, 1.0, reps).astype(np.float32)
    mono = np.concatenate([piece * g for g in gains])[: round(minutes * 60 * rate)]
    if channels == 1:
        return mono
    return np.stack([mono * np.float32(0.8**c) for c in range(channels)], axis=1)


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def child_animate(minutes: float, rate: int, channels: int) -> None:
    """Print the peak RSS above the loaded model and the audio while animating (MB), and the time."""
    import expclip_blender as ex

    model = ex.load(device="cpu")
    model.animate(speech(0.1, 16000, 1), 16000, "happy")
    audio = speech(minutes, rate, channels)
    Path("/proc/self/clear_refs").write_text("5")  # VmHWM := VmRSS from here on
    base = _status_kb("VmRSS")
    t = time.perf_counter()
    out = model.animate(audio, rate, "happy")
    took = time.perf_counter() - t
    peak = _status_kb("VmHWM")
    print(
        f"RESULT {(peak - base) / 1024:.0f} MB above, {took:.1f} s, {out.shape[0]} frames, "
        f"baseline {base / 1024:.0f} MB (audio {audio.nbytes / MB:.0f} MB)"
    )


def write_speech_wav(path: Path, minutes: float, rate: int, channels: int) -> None:
    """:func:`speech` written as a PCM16 WAV one 30-s piece at a time (an hour at 48 kHz is never held)."""
    import soundfile as sf
    from invariants import speech_like

    from expclip_blender.audio import resample

    piece = resample(speech_like(30.0, seed=3), 16000, rate)
    total = round(minutes * 60 * rate)
    reps = int(np.ceil(total / len(piece)))
    gains = np.random.default_rng(0).uniform(0.5, 1.0, reps).astype(np.float32)
    with sf.SoundFile(path, "w", rate, channels, subtype="PCM_16") as f:
        for i, g in enumerate(gains):
            mono = (piece * g)[: total - i * len(piece)]
            f.write(np.stack([mono * np.float32(0.8**c) for c in range(channels)], axis=1))


def child_bake(wav: str) -> None:
    """Bake the speech in ``wav`` from a sound strip in bpy; print the process's peak RSS (MB)."""
    import bpy
    from bake_helpers import add_sound_strip
    from ext_loader import import_extension
    from production_mesh import production_face_object

    ext = import_extension()
    bpy.ops.wm.read_factory_settings(use_empty=True)
    ext.register()
    scene = bpy.context.scene
    obj, _ = production_face_object()
    bpy.context.view_layer.objects.active = obj
    obj.select_set(True)
    add_sound_strip(scene, wav, 1)
    t = time.perf_counter()
    assert bpy.ops.expclip.bake() == {"FINISHED"}
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"RESULT {peak:.0f} MB peak RSS (whole process), {time.perf_counter() - t:.1f} s")


def bake(minutes: float, rate: int, channels: int) -> str:
    """The peak RSS line of a bake of ``minutes`` of speech from a WAV at ``rate`` Hz, ``channels``."""
    work = Path(tempfile.mkdtemp(prefix="expclip-mem-"))
    wav = work / "speech.wav"
    try:
        write_speech_wav(wav, minutes, rate, channels)
        return _run(["--child", "bake", str(wav)])
    finally:
        wav.unlink(missing_ok=True)
        work.rmdir()


def _run(args: list[str]) -> str:
    env = dict(os.environ)
    env.setdefault("BLENDER_USER_RESOURCES", tempfile.mkdtemp(prefix="expclip-bench-"))
    run = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, env=env)
    lines = [ln for ln in run.stdout.splitlines() if ln.startswith("RESULT ")]
    return lines[-1][7:] if lines else f"failed (exit {run.returncode}): {run.stderr.strip()[-400:]}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, nargs="+", default=[10.0, 60.0])
    parser.add_argument("--bake", action="store_true", help="also bake the longest duration in bpy")
    parser.add_argument("--no-animate", action="store_true", help="skip the animate() figures")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        if kind == "animate":
            child_animate(float(rest[0]), int(rest[1]), int(rest[2]))
        else:
            child_bake(rest[0])
        return 0
    print(f"{os.cpu_count()} CPUs; peak RSS above the loaded model and the input audio")
    for minutes in [] if args.no_animate else args.minutes:
        for rate, channels in ((16000, 1), (48000, 2)):
            what = f"animate() {minutes:g} min {rate // 1000} kHz {'mono' if channels == 1 else 'stereo'}"
            print(f"{what:34s} {_run(['--child', 'animate', str(minutes), str(rate), str(channels)])}")
    if args.bake:
        minutes = max(args.minutes)
        for rate, channels in ((16000, 1), (48000, 2)):
            what = f"bake {minutes:g} min {rate // 1000} kHz {'mono' if channels == 1 else 'stereo'} WAV"
            print(f"{what:34s} {bake(minutes, rate, channels)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
