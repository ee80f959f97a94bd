"""The distillation vocabulary: a large English list of what animators type, for the teacher to embed.

Sources, each tagged with its kind:

- ``phrase``: the annotator's trained emotion words and nouns (pronoun slots filled);
- ``wordnet_word`` / ``wordnet_mwe``: WordNet 3.0 lemmas, single words and expressions of 2 to
  ``MAX_EXPRESSION_WORDS`` plain words, from every adjective (participles included) and adverb, the nouns
  of feeling and the verbs of emotion and of the body;
- ``tead``: a seeded sample of TEAD's training descriptions (annotator texts; the GoEmotions ones come
  from the next source);
- ``goemotions``: a seeded sample of GoEmotions train sentences (all of train, multi-label rows too);
- ``frame``: a seeded share of the WordNet words in short sentence frames (``frames.toml``).

No labels are used, so WordNet words stay in whether or not the strict split holds them out (as for the
backoff table); but no text that equals one of TEAD's held-out descriptions (strict or second split) or a
GoEmotions dev sentence is ever kept. Texts are deduplicated in TEAD's comparison form; first source wins.
"""

from __future__ import annotations

import random
import re
import tomllib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from expclip_blender.lexicon import MAX_EXPRESSION_WORDS, TOKEN

from ..tead.annotator import Annotator
from ..tead.build import Tead, normalize_text
from ..tead.goemotions import is_goemotions_dir, load_goemotions
from ..tead.wordnet import WordNet

__all__ = ["KINDS", "Vocabulary", "build_vocabulary", "excluded_texts", "wordnet_lemmas"]

KINDS: tuple[str, ...] = ("phrase", "wordnet_word", "wordnet_mwe", "tead", "goemotions", "frame")
FRAMES: dict[str, list[str]] = tomllib.loads(Path(__file__).with_name("frames.toml").read_text("utf-8"))
# WordNet lexicographer files kept, by part of speech (None: all of that part of speech).
# 12 noun.feeling; 29 verb.body (smile, frown, wince); 37 verb.emotion.
_KEPT: dict[str, set[int] | None] = {"a": None, "r": None, "n": {12}, "v": {29, 37}}
_PERTAINYM = 1  # adj.pert: relational adjectives ("iberian", "annexal"), kept as words, not framed
_AN = re.compile(r"(^|\s)a ([aeiou])")  # "a angry face" -> "an angry face"
EXCLUDED_SPLITS = ("heldout", "heldout_phrasing", "goemotions_dev")


@dataclass
class Vocabulary:
    """Texts in order, each with its kind (one of :data:`KINDS`)."""

    texts: list[str]
    kinds: list[str]

    def counts(self) -> dict[str, int]:
        return dict(Counter(self.kinds))

    def __len__(self) -> int:
        return len(self.texts)


def wordnet_lemmas(wordnet: WordNet, framed: bool = False) -> dict[str, str]:
    """``{lemma: part of speech}`` for the kept lemmas (first part of speech in a, r, n, v order).
    ``framed``: only those worth a sentence frame (not relational adjectives alone: "iberian")."""
    out: dict[str, str] = {}
    for pos in ("a", "r", "n", "v"):
        kept = _KEPT[pos]
        for (p, lemma), offsets in sorted(wordnet.index.items()):
            if p != pos or lemma in out:
                continue
            words = lemma.split()
            if len(words) > MAX_EXPRESSION_WORDS or not all(TOKEN.fullmatch(w) for w in words):
                continue
            lexnames = {
                s.lexname
                for o in offsets
                if (s := wordnet.synsets.get((pos, o))) is not None  # "s" satellites live under "a"
            }
            if framed:
                lexnames -= {_PERTAINYM}
            if lexnames and (kept is None or lexnames & kept):
                out[lemma] = pos
    return out


def excluded_texts(tead: Tead) -> set[str]:
    """TEAD's held-out descriptions (strict and second split) and GoEmotions dev sentences, normalised."""
    return {normalize_text(p.text) for p in tead.pairs if p.split in EXCLUDED_SPLITS}


def _frames(lemmas: dict[str, str], share: float, rng: random.Random) -> list[str]:
    chosen = [w for w in sorted(lemmas) if rng.random() < share]
    texts = [rng.choice(FRAMES[lemmas[w]]).format(w=w) for w in chosen]
    return [_AN.sub(r"\1an \2", t) for t in texts]


def _sample(texts: list[str], n: int, rng: random.Random) -> list[str]:
    unique = list(dict.fromkeys(texts))
    return unique if n >= len(unique) else rng.sample(unique, n)


def build_vocabulary(
    tead: Tead,
    wordnet: WordNet | None,
    goemotions_dir: Path | None,
    *,
    seed: int = 0,
    n_tead: int = 7_000,
    n_goemotions: int = 2_000,
    frame_share: float = 0.2,
) -> Vocabulary:
    """The vocabulary (deterministic from the arguments). ``wordnet`` None leaves WordNet out,
    ``goemotions_dir`` None (or a folder without the data) leaves GoEmotions out."""
    rng = random.Random(f"teacher-vocabulary-{seed}")
    wide = Annotator(wide=True)
    sources: list[tuple[str, list[str]]] = [("phrase", [wide.display(p) for p in wide.emotion_phrases()])]
    lemmas = wordnet_lemmas(wordnet) if wordnet is not None else {}
    sources.append(("wordnet_word", [w for w in lemmas if " " not in w]))
    sources.append(("wordnet_mwe", [w for w in lemmas if " " in w]))
    train = [p.text for p in tead.pairs if p.split == "train" and p.kind != "goemotions"]
    sources.append(("tead", _sample(train, n_tead, rng)))
    go: list[str] = []
    if goemotions_dir is not None and is_goemotions_dir(Path(goemotions_dir)):
        go = _sample([s.text for s in load_goemotions(Path(goemotions_dir), "train")], n_goemotions, rng)
    sources.append(("goemotions", go))
    framed = wordnet_lemmas(wordnet, framed=True) if wordnet is not None else {}
    sources.append(("frame", _frames(framed, frame_share, rng)))

    seen = excluded_texts(tead)
    texts, kinds = [], []
    for kind, items in sources:
        for text in items:
            key = normalize_text(text)
            if key and key not in seen:
                seen.add(key)
                texts.append(text.strip())
                kinds.append(kind)
    return Vocabulary(texts, kinds)
