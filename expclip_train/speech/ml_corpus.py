"""Multilingual clips of the lip-sync corpus: espeak-ng speaking every covered language, and the held-out
multilingual check.

- *Training* clips ``synml-<lang>-NNNNN`` (split ``train``): :class:`MultilingualTextGenerator` sentences
  from the training words, spoken by the language's espeak-ng voice with a voice variant (either sex
  with equal chance, then a variant of that sex; the voice's own default counts as male), random rate,
  pitch, pitch range and word gaps as the English clips have them.
- *Held-out* clips ``synmlh-<lang>-NNN`` (split ``holdout-ml``), also in the languages of the check
  only (``trained = false`` in ``languages.toml``: :data:`DEFAULT_CHECK_LANGS`): sentences from the
  held-out words (words no training sentence uses, see :mod:`.multilingual_text`), from another random
  stream, spoken with variants reserved for the check (half female, none robotic): no multilingual
  training clip uses them. They are heard in the English part, which uses every variant; each (language,
  variant) voice of the check is new. Sentences are joined until the clip (with its silent edges) lasts 4-6 s.

Phones are the tables' ARPAbet stand-ins with espeak-ng's own timings (:class:`synth.EspeakSynth`); the
clip's metadata adds ``lang`` (a key of ``languages.toml``), ``voice`` (``fr+f3``; the bare voice name for
its default), ``sex`` and ``ipa_phones`` (the same timeline labelled with IPA). Every clip is determined
by (seed, language, index): the language's stream is seeded by a hash of its key, so adding a language
changes no other language's clips.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .multilingual_text import LANGUAGES, MultilingualTextGenerator
from .phones import Phone, normalize_timeline, phones_to_dicts

__all__ = [
    "DEFAULT_CHECK_LANGS",
    "DEFAULT_ML_LANGS",
    "HOLDOUT_SPLIT",
    "VariantPools",
    "holdout_clip",
    "ml_clip",
    "place_in_silence",
    "variant_pools",
]

SAMPLE_RATE = 16000
HOLDOUT_SPLIT = "holdout-ml"
# Every trained language but English (whose clips come from the English text and voices).
DEFAULT_ML_LANGS: tuple[str, ...] = tuple(
    k for k, v in LANGUAGES.items() if v.trained and not k.startswith("en")
)
# The languages of the held-out check only: the generator never hears them in training.
DEFAULT_CHECK_LANGS: tuple[str, ...] = tuple(k for k, v in LANGUAGES.items() if not v.trained)
_HOLDOUT_SECONDS = (4.0, 6.0)
_HOLDOUT_TRIES = 12
# Variants never reserved for the check: the robotic ones would make it about a voice nobody animates.
_NOT_FOR_CHECK = ("robosoft",)


@dataclass(frozen=True)
class VariantPools:
    """Voice variants by use: training ones per sex (None = the voice's default) and the held-out ones."""

    train: dict[str, tuple[str | None, ...]]
    holdout: tuple[tuple[str, str], ...]  # (variant, sex), sexes alternating


def variant_pools(sexes: dict[str, str], seed: int, n_holdout: int) -> VariantPools:
    """Reserve ``n_holdout`` variants (half female, rounded down) for the check, chosen by ``seed``."""
    rng = np.random.default_rng([seed, 21])
    by_sex = {sex: sorted(v for v, s in sexes.items() if s == sex) for sex in ("female", "male")}
    held: dict[str, list[str]] = {}
    for sex, n in (("female", n_holdout // 2), ("male", n_holdout - n_holdout // 2)):
        names = [v for v in by_sex[sex] if not v.startswith(_NOT_FOR_CHECK)]
        rng.shuffle(names)
        held[sex] = sorted(names[: min(n, max(len(names) - 1, 0))])  # leave one for training
    train: dict[str, tuple[str | None, ...]] = {
        sex: tuple(v for v in by_sex[sex] if v not in held[sex]) for sex in by_sex
    }
    train["male"] = (None, *train["male"])  # the voice's own default
    order = [v for pair in zip(held["female"], held["male"], strict=False) for v in pair]
    order += held["female"][len(held["male"]) :] + held["male"][len(held["female"]) :]
    return VariantPools(train, tuple((v, sexes[v]) for v in order))


def place_in_silence(
    audio: np.ndarray,
    phones: Sequence[Phone],
    rng: np.random.Generator,
    edges: tuple[float, float] | None = None,
):
    """Silence at both ends (``edges`` seconds, else 0.1-0.6 s each) and a random level (peak 0.3-0.95),
    as recordings start and end at rest: (audio, phones on the new timeline, the shift in seconds)."""
    lead, tail = rng.uniform(0.1, 0.6, size=2) if edges is None else edges
    n_lead, n_tail = round(lead * SAMPLE_RATE), round(tail * SAMPLE_RATE)
    peak = float(np.max(np.abs(audio))) or 1.0
    gain = float(rng.uniform(0.3, 0.95)) / peak
    out = np.concatenate([np.zeros(n_lead), audio * gain, np.zeros(n_tail)]).astype(np.float32)
    shift = n_lead / SAMPLE_RATE
    moved = [Phone(p.label, p.start + shift, p.end + shift) for p in phones]
    return out, normalize_timeline(moved, len(out) / SAMPLE_RATE), shift


def _lang_stream(seed: int, stream: int, lang: str, index: int) -> np.random.Generator:
    return np.random.default_rng([seed, stream, zlib.crc32(lang.encode()), index])


def _voice_settings(rng: np.random.Generator) -> dict:
    """Rate, pitch, pitch range and word gap as the English espeak-ng clips draw them."""
    return {
        "rate": int(rng.integers(120, 231)),
        "pitch": int(rng.integers(25, 76)),
        "pitch_range": int(rng.integers(20, 91)),
        "word_gap": int(rng.choice([0, 0, 0, 1, 2, 5])),
    }


def _clip(
    utt, rng: np.random.Generator, lang: str, sex: str, edges=None
) -> tuple[np.ndarray, list[Phone], dict]:
    """The utterance placed in silence, with its metadata."""
    audio, phones, shift = place_in_silence(utt.audio, utt.phones, rng, edges)
    ipa = [Phone(p.label, p.start + shift, p.end + shift) for p in utt.ipa_phones]
    variant = utt.params["variant"]
    meta = {
        "source": "synth",
        "engine": utt.engine,
        "speaker": utt.speaker,
        "timing": utt.timing,
        "text": utt.text,
        "params": utt.params,
        "lang": lang,
        "voice": f"{utt.params['voice']}+{variant}" if variant else utt.params["voice"],
        "sex": sex,
        "ipa_phones": phones_to_dicts(ipa),
    }
    return audio, phones, meta


def ml_clip(lang: str, index: int, seed: int, synth, pools: VariantPools):
    """Training clip ``index`` of ``lang``: (audio, phones, meta), determined by (seed, lang, index)."""
    rng = _lang_stream(seed, 11, lang, index)
    text = MultilingualTextGenerator(lang, seed=int(rng.integers(2**31)), part="train").sentence()
    sex = "female" if rng.random() < 0.5 else "male"
    options = pools.train[sex]
    variant = options[int(rng.integers(len(options)))]
    utt = synth.synth(text, voice=LANGUAGES[lang].voice, variant=variant, **_voice_settings(rng))
    return _clip(utt, rng, lang, sex)


def holdout_clip(lang: str, index: int, seed: int, synth, pools: VariantPools):
    """Held-out clip ``index`` of ``lang`` (4-6 s where the sentences allow): (audio, phones, meta)."""
    if not pools.holdout:
        raise ValueError("no voice variants are reserved for the held-out check")
    rng = _lang_stream(seed, 12, lang, index)
    # Each language starts the round of reserved variants elsewhere, so few clips still hear them all.
    variant, sex = pools.holdout[(index + zlib.crc32(lang.encode())) % len(pools.holdout)]
    gen = MultilingualTextGenerator(lang, seed=int(rng.integers(2**31)), part="holdout")
    settings = _voice_settings(rng)
    edges = tuple(float(e) for e in rng.uniform(0.15, 0.4, size=2))
    lo, hi = _HOLDOUT_SECONDS[0] - sum(edges), _HOLDOUT_SECONDS[1] - sum(edges)
    voice = LANGUAGES[lang].voice
    sentences: list[str] = []
    best = None
    for attempt in range(_HOLDOUT_TRIES):
        # Whole sentences first; then single clauses, shorter, to fill what is left below 6 s.
        candidate = gen.sentence() if attempt < _HOLDOUT_TRIES // 2 else gen.clause().capitalize() + "."
        utt = synth.synth(" ".join([*sentences, candidate]), voice=voice, variant=variant, **settings)
        if utt.duration > hi:
            continue  # too long with this sentence: draw another
        sentences.append(candidate)
        best = utt
        if utt.duration >= lo:
            break
    if best is None:  # every single sentence was too long: take a short one as it is
        best = synth.synth(gen.sentence(), voice=voice, variant=variant, **settings)
    return _clip(best, rng, lang, sex, edges)
