"""Command line of the core: ``python -m expclip_blender COMMAND ...``."""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from .arkit import ARKIT_NAMES
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

    model = load()
    face = model.expression(args.text, intensity=args.intensity)
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
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
