"""Dataset commands: ``python -m expclip_blender.data tead --out DIR [--seed 0] [--no-goemotions]``."""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

from .tead.build import DEFAULT_GOEMOTIONS_DIR, build_tead


def _cmd_tead(args: argparse.Namespace) -> int:
    go_dir = None if args.no_goemotions else Path(args.goemotions)
    tead = build_tead(seed=args.seed, goemotions_dir=go_dir)
    out = tead.save(args.out)
    seconds = tead.info["build_seconds"]
    print(
        f"TEAD seed {args.seed}: {len(tead.meta)} expressions, {len(tead.pairs)} pairs (built in {seconds} s)"
    )
    for name, counts in (
        ("category", Counter(m.category for m in tead.meta)),
        ("kind", Counter(p.kind for p in tead.pairs)),
        ("split", Counter(p.split for p in tead.pairs)),
    ):
        print(f"  by {name}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    if tead.info["goemotions"].get("used"):
        print(f"  GoEmotions: used, from {go_dir}")
    elif go_dir is None:
        print("  GoEmotions: not used (--no-goemotions)")
    else:
        print(f"  GoEmotions: not used (no data in {go_dir})")
    print(f"wrote {out.resolve()} (expressions.npy, meta.jsonl, pairs.jsonl, info.json, datasheet.md)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m expclip_blender.data", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    tead = sub.add_parser("tead", help="build the text-expression alignment dataset (TEAD)")
    tead.add_argument("--out", required=True, type=Path, help="folder to write the dataset into")
    tead.add_argument("--seed", type=int, default=0, help="random seed (same seed, same dataset)")
    tead.add_argument("--no-goemotions", action="store_true", help="leave the GoEmotions sentences out")
    tead.add_argument(
        "--goemotions", default=str(DEFAULT_GOEMOTIONS_DIR), help="GoEmotions folder (default: %(default)s)"
    )
    tead.set_defaults(run=_cmd_tead)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
