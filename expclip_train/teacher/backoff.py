"""Stand-ins for unseen prompt words read off the teacher: the trained emotion phrases nearest to them.

all-mpnet-base-v2 (:mod:`.mpnet`) knows rare emotion words far better than the MiniLM that ships: it puts
"crabby" beside "cranky" and "grumpy" where MiniLM goes by spelling. At build time the teacher has embedded
every word and expression of the distillation vocabulary (:mod:`.vocabulary`: WordNet's emotion-bearing
lemmas, the trained emotion phrases...); an unseen word's nearest trained phrases, at or above a cosine
floor, become its first stand-ins in the backoff table (:mod:`expclip_blender.lexicon`), before WordNet's.
Only the table ships; the teacher never does. The recipe is ``recipes/lexicon.toml``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from expclip_blender.lexicon import inflection_candidates

from ..recipes import config_from_dict, load_recipe, recipe_path, recipe_values
from ..tead.thesaurus import ThesaurusRecipe
from ..training.text_data import Teacher

__all__ = [
    "LexiconRecipe",
    "lexicon_recipe",
    "merge_stand_ins",
    "names_one_emotion",
    "same_word",
    "teacher_stand_ins",
]


@dataclass(frozen=True)
class LexiconRecipe:
    """How the backoff table is built (``recipes/lexicon.toml``)."""

    teacher_stand_ins: int  # nearest trained phrases kept per unseen word (0: WordNet alone)
    teacher_min_similarity: float  # cosine floor in the teacher's space: a farther phrase is no stand-in
    wordnet_stand_ins: bool  # WordNet's synonyms follow the teacher's phrases (up to wordnet.MAX_TERMS)
    derivation_stand_ins: int  # trained phrases WordNet derives a word from, for words with none (0: none)
    thesaurus_stand_ins: int  # trained phrases from the thesaurus for terms neither gives one (0: none)
    thesaurus_min_overlap: float  # cosine of the two thesaurus neighbour sets a stand-in needs
    thesaurus_min_emotion_share: float  # share of the term's thesaurus neighbours that are trained phrases

    @property
    def thesaurus(self) -> ThesaurusRecipe:
        """The thesaurus part of the recipe."""
        return ThesaurusRecipe(
            self.thesaurus_stand_ins, self.thesaurus_min_overlap, self.thesaurus_min_emotion_share
        )


def lexicon_recipe(path: Path | None = None) -> LexiconRecipe:
    """The lexicon recipe at ``path`` (default: the shipped one)."""
    if path is None:
        return config_from_dict(recipe_path("lexicon"), recipe_values("lexicon"), LexiconRecipe)
    return load_recipe(path, {"lexicon": LexiconRecipe})[1]


def _unit(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, np.float32)
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)


def names_one_emotion(phrase: str) -> bool:
    """Whether a trained phrase can stand in for one word: the annotator's blends ("spooked and shocked",
    "hurt and angry") name two emotions, and a word named after one of them would read as the mixture."""
    return " and " not in f" {phrase.lower()} "


def same_word(phrase: str, word: str) -> bool:
    """Whether ``phrase`` is ``word`` or one of its inflections ("animated" for "animate"): their
    closeness is spelling, not meaning, and the word's own senses come with it ("please animate a stoic
    face" would gain "animated")."""
    a, b = phrase.lower(), word.lower()
    return a == b or a in inflection_candidates(b) or b in inflection_candidates(a)


def teacher_stand_ins(
    teacher: Teacher, unseen: Iterable[str], phrases: Mapping[str, str], count: int, min_similarity: float
) -> dict[str, list[str]]:
    """``{unseen word: up to count phrases}``, nearest first, for the unseen words the teacher embedded.

    ``phrases`` maps each trained phrase as the teacher embedded it (pronoun slots filled) to the text the
    table appends; phrases the teacher did not embed are skipped. Texts match case-insensitively."""
    if count <= 0:
        return {}
    row = {t.lower(): i for i, t in enumerate(teacher.texts)}
    kept = [(row[k.lower()], v) for k, v in phrases.items() if k.lower() in row]
    words = [w for w in dict.fromkeys(unseen) if w.lower() in row]
    if not kept or not words:
        return {}
    targets = _unit(teacher.embeddings[[i for i, _ in kept]])
    queries = _unit(teacher.embeddings[[row[w.lower()] for w in words]])
    similarity = queries @ targets.T
    nearest = np.argsort(-similarity, axis=1, kind="stable")[:, :count]
    out: dict[str, list[str]] = {}
    for q, word in enumerate(words):
        terms = [kept[j][1] for j in nearest[q] if similarity[q, j] >= min_similarity]
        terms = [t for t in dict.fromkeys(terms) if not same_word(t, word)]
        if terms:
            out[word] = terms
    return out


def merge_stand_ins(
    first: Mapping[str, list[str]], then: Mapping[str, list[str]], limit: int
) -> dict[str, list[str]]:
    """Both tables in one: ``first``'s stand-ins, then ``then``'s, without repeats, at most ``limit``
    beyond ``first``'s (sorted by word, as :meth:`Lexicon.save` writes them)."""
    out = {}
    for word in sorted(set(first) | set(then)):
        head = list(first.get(word, []))
        out[word] = list(dict.fromkeys(head + list(then.get(word, []))))[: len(head) + limit]
    return out
