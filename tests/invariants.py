"""Outputs of ``expression()`` and ``animate()`` on a fixed set of prompts and clips.

Refactors must not change what the shipped models do: ``tests/test_invariants.py`` compares these outputs
with the ones stored in ``tests/data/invariants.npz``. After a change that is meant to change the outputs
(new weights), rewrite the file and say why in the commit:

    .venv/bin/python tests/invariants.py --write
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

STORED = Path(__file__).resolve().parent / "data" / "invariants.npz"
PROMPTS = (
    "",
    "furious",
    "on the verge of tears",
    "smug half smile",
    "absolutely livid",
    "a tiny bit judgy",
    "feeling crabby",
    "please animate a stoic face",
    "happy but a little nervous",
    "half a smile; left mouth corner tucked in",
    "she just heard her dog died",
    "überrascht",
)
SAMPLE_RATE = 16000


def speech_like(seconds: float = 3.0, seed: int = 7) -> np.ndarray:
    """A seeded voiced signal with syllables and pauses (formant-shaped pulse trains): deterministic
    everywhere numpy is, so the check needs no speech synthesiser."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    f0 = 120.0 + 20.0 * np.sin(2 * np.pi * 0.7 * t)
    phase = np.cumsum(f0 / SAMPLE_RATE)
    pulses = (np.diff(np.floor(phase), prepend=0.0) > 0).astype(np.float64)
    envelope = np.zeros(n)
    start = 0.2
    while start < seconds - 0.3:
        length = rng.uniform(0.12, 0.3)
        i0, i1 = int(start * SAMPLE_RATE), int((start + length) * SAMPLE_RATE)
        envelope[i0:i1] = np.hanning(i1 - i0) * rng.uniform(0.5, 1.0)
        start += length + rng.choice([0.03, 0.05, 0.4])
    out = np.zeros(n)
    for formant, bandwidth in ((700.0, 90.0), (1200.0, 110.0), (2600.0, 160.0)):
        decay = np.exp(-np.pi * bandwidth / SAMPLE_RATE)
        kernel_t = np.arange(400) / SAMPLE_RATE
        kernel = decay ** np.arange(400) * np.sin(2 * np.pi * formant * kernel_t)
        out += np.convolve(pulses, kernel)[:n]
    out *= envelope
    out += 0.002 * rng.standard_normal(n)
    return (0.5 * out / np.abs(out).max()).astype(np.float32)


def compute() -> dict[str, np.ndarray]:
    """Every output the invariant test compares, by name."""
    import expclip_blender as ex

    model = ex.load(device="cpu")
    audio = speech_like()
    out = {"expression": np.stack([model.expression(p) for p in PROMPTS])}
    out["expression_half"] = np.stack([model.expression(p, intensity=0.5) for p in PROMPTS[1:4]])
    out["embed_text"] = model.embed_text(list(PROMPTS[1:6]))
    out["animate_furious_30"] = model.animate(audio, SAMPLE_RATE, "furious", fps=30.0)
    out["animate_cues_24"] = model.animate(
        audio,
        SAMPLE_RATE,
        "calm",
        fps=24.0,
        cues=[ex.StyleCue(1.5, "on the verge of tears", 0.8)],
        smoothing=0.5,
        seed=3,
    )
    out["animate_noblink_60"] = model.animate(
        audio[:20000], SAMPLE_RATE, "smug half smile", 60.0, blinks=False
    )
    # Without the procedural eye movement.
    out["animate_cues_24_nogaze"] = model.animate(
        audio,
        SAMPLE_RATE,
        "calm",
        fps=24.0,
        cues=[ex.StyleCue(1.5, "on the verge of tears", 0.8)],
        smoothing=0.5,
        seed=3,
        gaze=False,
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"store the outputs in {STORED}")
    args = parser.parse_args()
    outputs = compute()
    if args.write:
        STORED.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(STORED, **outputs)
        print(f"wrote {STORED}")
    for name, value in outputs.items():
        print(f"{name:22s} {value.shape} sum {float(value.sum()):.6f}")


if __name__ == "__main__":
    import sys

    # Run as a script, Python puts tests/ first on the path and would import the package installed in the
    # environment (perhaps another checkout's); the outputs must be this checkout's.
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    main()
