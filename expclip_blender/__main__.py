"""Command line of the core: ``python -m expclip_blender COMMAND ...``."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

from .arkit import ARKIT_NAMES
from .limits import (
    check_fps,
    check_gaze_amount,
    check_intensity,
    check_seed,
    check_smoothing,
    check_transition,
)
from .mapping import MappingError, auto_match, load_mapping_preset


def _cmd_names(_args: argparse.Namespace) -> int:
    print("\n".join(ARKIT_NAMES))
    return 0


def _cmd_match(args: argparse.Namespace) -> int:
    try:
        report = load_mapping_preset(args.preset).resolve(args.keys) if args.preset else auto_match(args.keys)
    except MappingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for ch in report.channels:
        mix = " + ".join(f"{w:g}*{n}" if w != 1 else n for n, w in ch.sources)
        gain = f" x{ch.gain:g}" if ch.gain != 1 else ""
        print(f"{ch.shape_key:32s} <- {mix}{gain} ({ch.how})")
    for key in report.unmatched_keys:
        print(f"{key:32s}    not driven: no ARKit name matches")
    for key, kept in report.duplicate_keys.items():
        print(f"{key:32s}    not driven: duplicate of {kept}")
    print(report.summary())
    return 0


def _cmd_expression(args: argparse.Namespace) -> int:
    from .api import load
    from .facs import read_emotion
    from .model_files import ModelFileError

    try:
        check_intensity(args.intensity, "--intensity")  # before the model loads: a bad value costs nothing
        face = load().expression(args.text, intensity=args.intensity)
    except (ModelFileError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(
            json.dumps(
                {
                    "prompt": args.text,
                    "intensity": args.intensity,
                    "weights": {n: round(float(v), 4) for n, v in zip(ARKIT_NAMES, face, strict=True)},
                }
            )
        )
        return 0
    print(f"prompt: {args.text!r}  intensity: {args.intensity:g}  reads as: {read_emotion(face)}")
    for i in np.argsort(-face):
        if face[i] < args.show_above:
            break
        print(f"  {ARKIT_NAMES[i]:20s} {face[i]:.3f}")
    return 0


def _parse_cue(text: str):
    from .api import StyleCue

    when, sep, prompt = text.partition("=")
    try:
        if not sep:
            raise ValueError
        seconds = float(when)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a cue is SECONDS=PROMPT, e.g. 2.5=furious; got {text!r}") from None
    try:
        return StyleCue(seconds, prompt.strip())
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"cue {text!r}: {exc}") from None


def _output_problem(out: str) -> str | None:
    """Why ``--out`` cannot be written (checked before any work is done), or None."""
    path = Path(out)
    if path.suffix.lower() not in (".csv", ".json", ".npy"):
        return f"--out must end in .csv, .json or .npy, got {out!r}"
    folder = path.parent
    if not folder.exists():
        return f"--out: the folder '{folder}' does not exist: create it or choose another"
    if not folder.is_dir():
        return f"--out: '{folder}' is a file, not a folder"
    if path.is_dir():
        return f"--out: '{path}' is a folder: give a file name ending in .csv, .json or .npy"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"--out: the folder '{folder}' is not writable: choose a folder you can write to"
    return None


def _check_animate_numbers(args: argparse.Namespace) -> None:
    """The numbers of ``animate`` checked before the audio and model load (ValueError says which)."""
    check_fps(args.fps, "--fps")
    check_intensity(args.intensity, "--intensity")
    check_smoothing(args.smoothing, "--smoothing")
    check_transition(args.transition, "--transition")
    check_seed(args.seed, "--seed")
    check_gaze_amount(args.gaze_amount, "--gaze-amount")


def _cmd_animate(args: argparse.Namespace) -> int:
    from .api import load
    from .audio import AudioError, load_audio
    from .model_files import ModelFileError
    from .weights_io import save_weights

    problem = _output_problem(args.out)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    try:
        _check_animate_numbers(args)
        audio, sr = load_audio(args.audio), 16000
        model = load(device=args.device, models_dir=args.models)
        weights = model.animate(
            audio, sr, args.prompt, fps=args.fps, intensity=args.intensity, cues=args.cue,
            transition_s=args.transition, blinks=not args.no_blinks, gaze=not args.no_gaze,
            gaze_amount=args.gaze_amount, smoothing=args.smoothing, seed=args.seed,
        )  # fmt: skip
    except (AudioError, ModelFileError, ValueError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        save_weights(args.out, weights, args.fps)  # atomic: a failed write leaves no partial file
    except OSError as exc:
        print(f"error: cannot write {args.out!r}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    print(f"wrote {args.out}: {len(weights)} frames at {args.fps:g} fps, 52 ARKit channels")
    return 0


def _cmd_farm_bundle(args: argparse.Namespace) -> int:
    from .farm_bundle import write_bundle
    from .jobs import JobsFileError

    try:
        out = write_bundle(args.jobs, args.out, args.shots_per_task, args.blender)
    except (JobsFileError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote the job bundle {out}: template.yaml, parameter_values.yaml, asset_references.yaml")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m expclip_blender", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("names", help="print the 52 ARKit blendshape names").set_defaults(run=_cmd_names)
    match = sub.add_parser("match", help="show how shape-key names map onto ARKit channels")
    match.add_argument("keys", nargs="+", help="shape-key names, as the rig spells them")
    match.add_argument("--preset", help="a JSON mapping preset to apply first")
    match.set_defaults(run=_cmd_match)
    expr = sub.add_parser("expression", help="the static ARKit face a prompt describes")
    expr.add_argument("text", help='an emotion prompt, e.g. "smug half smile"')
    expr.add_argument("--intensity", type=float, default=1.0, help="0 neutral, 1 as prompted, >1 exaggerated")
    expr.add_argument("--json", action="store_true", help="print all 52 weights as JSON")
    expr.add_argument("--show-above", type=float, default=0.05, help="list channels at least this strong")
    expr.set_defaults(run=_cmd_expression)
    anim = sub.add_parser(
        "animate", help="speech audio + a prompt -> ARKit weights per frame (CSV, JSON, NPY)"
    )
    anim.add_argument("audio", help="a WAV, FLAC, OGG or MP3 file")
    anim.add_argument(
        "--prompt", default="neutral", help='the speaking style, e.g. "furious" (default neutral)'
    )
    anim.add_argument("--fps", type=float, default=30.0, help="frames per second of the output (default 30)")
    anim.add_argument("--out", required=True, help="output file: .csv, .json or .npy")
    anim.add_argument("--intensity", type=float, default=1.0, help="0 neutral, 1 as prompted, >1 exaggerated")
    anim.add_argument(
        "--cue", type=_parse_cue, action="append", default=[], metavar="SECONDS=PROMPT",
        help="change the style at a time, e.g. --cue 4.5=furious (repeatable)",
    )  # fmt: skip
    anim.add_argument("--transition", type=float, default=0.5, help="seconds a style change takes (0.5)")
    anim.add_argument("--smoothing", type=float, default=0.0, help="0..1 temporal smoothing (default 0)")
    anim.add_argument("--no-blinks", action="store_true", help="do not add procedural blinks")
    anim.add_argument("--no-gaze", action="store_true", help="do not add procedural eye movement")
    anim.add_argument(
        "--gaze-amount", type=float, default=1.0, help="eye movement, 0 none, 1 modest (default), up to 2"
    )
    anim.add_argument("--seed", type=int, default=0, help="seed of the blinks and eye movement")
    anim.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    anim.add_argument("--models", default=None, help="a folder of custom .safetensors weights (optional)")
    anim.set_defaults(run=_cmd_animate)
    farm = sub.add_parser("farm-bundle", help="an OpenJD / Deadline Cloud job bundle baking a jobs file")
    farm.add_argument("jobs", type=Path, help="the jobs file (.csv or .json, docs/batch.md)")
    farm.add_argument("--out", type=Path, required=True, help="the bundle folder to write")
    farm.add_argument("--shots-per-task", type=int, default=10, help="shots per task, one model load (10)")
    farm.add_argument("--blender", default="blender", help="Blender on the workers (default: blender)")
    farm.set_defaults(run=_cmd_farm_bundle)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
