"""Experiment, not shipped: the share of the emotion phrase read alone, on the text stage's validation split.

Heads trained with the validation split kept out (stage 3 ``--validation-share 0.1
--goemotions-validation-share 0.1``), read through the API with the unseen-word table built for them (the
lexicon command with ``--models``). Each variant is ``SHARE`` or ``SHARE:WORDS`` (the phrase read alone
only in prompts of at most WORDS words, ``ReadingOptions.phrase_apart_max_words``); figures as
``training.text_validation`` prints them on the ``api`` path (emotion words and situations per description
and per item, GoEmotions validation macro-F1), with the intensity ladders and the knob.

    python -m expclip_train.experiments.phrase_share --models FOLDER --lexicon TABLE 0.75 0.5 0.25 0.75:6 0

What it measured is in docs/experiments.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

from ..evaluation.expclip_report import intensity_checks
from ..tead.build import DEFAULT_GOEMOTIONS_DIR, build_tead
from ..training.text_data import text_stage_data
from ..training.text_validation import validation_figures

NO_LIMIT = 1 << 30  # "SHARE" alone: the phrase read apart in prompts of any length


def main(argv: list[str] | None = None) -> int:
    from expclip_blender.api import ExpClip, load
    from expclip_blender.emotion_phrase import EmotionPhraseFinder
    from expclip_blender.lexicon import Lexicon

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--models", type=Path, required=True, help="heads trained with the split kept out")
    parser.add_argument("--lexicon", type=Path, required=True, help="the table built for those heads")
    parser.add_argument("variants", nargs="+", help="SHARE or SHARE:WORDS")
    args = parser.parse_args(argv)
    model = load(models_dir=args.models)
    recipe = json.loads(model.heads.metadata.get("text_encoder_stage", "null"))
    if not recipe or not recipe.get("validation_share"):
        parser.error(f"the heads in '{args.models}' were trained on the validation split: nothing to score")
    seed = recipe["seed"]
    data = text_stage_data(
        build_tead(seed=seed),
        seed,
        recipe["validation_share"],
        recipe["goemotions_validation_share"],
        DEFAULT_GOEMOTIONS_DIR,
    )
    lexicon = Lexicon.load(args.lexicon)
    finder = EmotionPhraseFinder(lexicon)
    for variant in args.variants:
        share, _, words = variant.partition(":")
        t0 = time.perf_counter()
        options = replace(
            model.options, phrase_share=float(share), phrase_apart_max_words=int(words) if words else NO_LIMIT
        )
        reader = ExpClip(model.heads, model.text_encoder, options=options)
        reader.lexicon, reader.phrase_finder = lexicon, finder
        figures = validation_figures(reader, data, "api")
        ladders = intensity_checks(reader)
        parts = []
        for kind in ("emotion_word", "situation"):
            r = figures[kind]
            mostly = sum(v["accuracy"] > 0.5 for v in r["items"].values())
            parts.append(f"{kind} {r['accuracy']:.2%} ({mostly}/{len(r['items'])} items)")
        print(
            f"share {float(share):.2f}{f' (prompts of <= {words} words)' if words else ''}: "
            + "  ".join(parts)
            + f"  GoEmotions {figures['goemotions']['macro_f1']:.4f}  ladders {ladders['ladders_ordered']}/6"
            f"  knob {sum(ladders['knob_monotonic'].values())}/6  ({time.perf_counter() - t0:.0f} s)",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
