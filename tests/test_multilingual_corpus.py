"""Multilingual training data: ARPAbet stand-ins for every language's phonemes, espeak-ng speech in every
covered language labelled through them, and the held-out multilingual check of the corpus."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import numpy as np
import pytest

from expclip_train.speech import phoneme_tables
from expclip_train.speech.ml_corpus import DEFAULT_ML_LANGS, HOLDOUT_SPLIT, variant_pools
from expclip_train.speech.multilingual_text import LANGUAGES
from expclip_train.speech.phones import (
    BILABIALS,
    CONSONANTS,
    OPEN_VOWELS,
    PHONES,
    ROUNDED,
    SIL,
    VISEME_OF,
    VOWELS,
)

SAMPLES = tomllib.loads((Path(__file__).parent / "data" / "phoneme_samples.toml").read_text("utf-8"))
IPA_FILE = Path(phoneme_tables.__file__).parent.parent / "ipa_visemes.toml"


def _synth():
    from expclip_train.speech.synth import EspeakSynth, SynthError

    try:
        return EspeakSynth()
    except SynthError as err:
        pytest.skip(f"espeak-ng is not installed: {err}")


def test_arpabet_stand_ins_keep_viseme_and_category():
    data = tomllib.loads(IPA_FILE.read_text(encoding="utf-8"))
    for section in ("segments", "sequences"):
        for ipa, e in data[section].items():
            arpa, cls = e["arpabet"], e["class"]
            assert VISEME_OF[arpa] == e["viseme"], ipa
            assert (cls == "bilabial") == (arpa in BILABIALS), ipa
            if cls == "open vowel":
                assert arpa in OPEN_VOWELS, ipa
            elif cls == "vowel":
                assert arpa in VOWELS and arpa not in OPEN_VOWELS, ipa
                assert not e.get("rounded") or arpa in ROUNDED | {"UH"}, ipa
            else:
                assert arpa in CONSONANTS, ipa
    assert [phoneme_tables.ipa_viseme(x).arpabet for x in ("p", "b", "m", "a", "e", "i", "u", "y")] == [
        "P", "B", "M", "AA", "EH", "IY", "UW", "UW",
    ]  # fmt: skip


@pytest.mark.parametrize("table", phoneme_tables.table_names())
def test_every_table_phoneme_has_an_arpabet_stand_in(table):
    for m, ph in phoneme_tables.load_table(table).items():
        got = phoneme_tables.arpabet_of(table, m)
        if ph.type == "stress":
            assert got is None
        else:
            assert got is not None and got[0] in PHONES, (table, m, got)
            assert (got[0] == SIL) == (ph.type == "pause"), (table, m)


@pytest.mark.parametrize("lang", DEFAULT_ML_LANGS)
def test_fresh_utterance_is_labelled_in_arpabet(lang):
    """Every phone of a fresh utterance is ARPAbet, the IPA is kept, and p/b/m are bilabials."""
    u = _synth().synth(SAMPLES[lang], voice=LANGUAGES[lang].voice, variant="f2", rate=160)
    assert u.phones[0].start == 0.0 and abs(u.phones[-1].end - u.duration) < 1e-6
    assert all(p.label in PHONES for p in u.phones)
    assert sum(p.label != SIL for p in u.phones) >= 15
    assert u.ipa_phones and all(p.end > p.start for p in u.ipa_phones)
    starts = np.array([p.start for p in u.phones])
    lips = [p for p in u.ipa_phones if p.label[:1] in ("p", "b", "m") and not p.label.startswith("ph")]
    lips += [p for p in u.ipa_phones if p.label.startswith("ph")]  # aspirated p (Mandarin, Hindi)
    assert lips, "every sample has a bilabial"
    for p in lips:
        at = u.phones[int(np.searchsorted(starts, p.center, side="right")) - 1]
        assert at.label in BILABIALS, (lang, p, at)


def _speak_sample(lang: str, variant: str) -> tuple[bytes, list[tuple[str, float]]]:
    """(the audio's bytes, the phones) of a language's sample sentence; module level, so a spawned
    process can run it."""
    u = _synth().synth(SAMPLES[lang], voice=LANGUAGES[lang].voice, variant=variant, rate=170)
    return u.audio.tobytes(), [(p.label, p.start) for p in u.phones]


def test_the_same_request_gives_the_same_speech():
    """espeak-ng keeps state between utterances (a pitch-flutter phase, rand()): without a reset, the same
    sentence came out 20-190 samples longer or shorter after other sentences, so a corpus depended on
    which clips each worker had spoken before. Same request, same audio: after other speech and in a
    fresh process."""
    import multiprocessing

    first = _speak_sample("pl", "Alicia")
    _speak_sample("de", "m1")  # other speech in between, another voice
    _speak_sample("pl", "klatt2")
    assert _speak_sample("pl", "Alicia") == first
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        assert pool.apply(_speak_sample, ("pl", "Alicia")) == first


def _speak_beside_another_holder(held_from_start: bool) -> tuple[list[str], list[int]]:
    """In a fresh process: speak while something else also holds espeak-ng loaded (from the start, or
    from after the first utterance); (the warnings raised, the audio lengths of three utterances)."""
    import ctypes
    import warnings

    from expclip_train.speech import espeak

    holder = ctypes.CDLL(espeak._library_name()) if held_from_start else None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        lengths = [len(_speak_sample("pl", "Alicia")[0])]
        if holder is None:
            holder = ctypes.CDLL(espeak._library_name())
        lengths += [len(_speak_sample("pl", "Alicia")[0]) for _ in range(2)]
    return [str(w.message) for w in caught], lengths


@pytest.mark.parametrize("held_from_start", [True, False])
def test_speech_that_cannot_be_reset_says_so(held_from_start):
    """When something else holds espeak-ng loaded, it cannot be reset (and must not be terminated in place:
    espeak-ng 1.51 then hangs): one warning says so, and speech goes on."""
    import multiprocessing

    _synth()
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        messages, lengths = pool.apply_async(_speak_beside_another_holder, (held_from_start,)).get(timeout=60)
    assert len(messages) == 1 and "cannot be reset" in messages[0]
    assert len(lengths) == 3 and min(lengths) > 0


def test_voice_without_a_table_is_refused():
    from expclip_train.speech.synth import SynthError

    with pytest.raises(SynthError, match="no phoneme table"):
        _synth().synth("Tere hommikust.", voice="et")


def test_held_out_words_never_train():
    pytest.importorskip("wordfreq")
    pytest.importorskip("pypinyin")
    from expclip_train.speech.multilingual_text import MultilingualTextGenerator, split_words

    for lang in ("fr", "pl", "ja", "cmn"):
        parts = split_words(lang)
        held_only = set(parts["holdout"]) - set(parts["all"][:100])
        assert len(held_only) > 50 and not held_only & set(parts["train"])
        assert set(parts["train"]) | held_only == set(parts["all"])
        gen = MultilingualTextGenerator(lang, seed=5, part="holdout")
        words = {w.lower() for _ in range(20) for w in re.findall(r"[^\s.,;!?]+", gen.sentence())}
        assert words <= {w.lower() for w in parts["holdout"]}
        assert words & {w.lower() for w in held_only}
    with pytest.raises(ValueError):
        MultilingualTextGenerator("fr", part="test")


def test_check_only_languages_get_held_out_clips_only():
    from expclip_train.speech.corpus import MlPlan
    from expclip_train.speech.ml_corpus import DEFAULT_CHECK_LANGS

    assert DEFAULT_CHECK_LANGS and not set(DEFAULT_CHECK_LANGS) & set(DEFAULT_ML_LANGS)
    assert all(not LANGUAGES[k].trained for k in DEFAULT_CHECK_LANGS)
    assert set(DEFAULT_ML_LANGS) | set(DEFAULT_CHECK_LANGS) | {"en-us"} == set(LANGUAGES)
    plan = MlPlan(("fr", "pl"), train=3, holdout=2, check_langs=("fi", "fr"))
    ids = [cid for cid, *_ in plan.clips()]
    assert not [c for c in ids if c.startswith("synml-fi")]
    assert [c for c in ids if c.startswith("synmlh-")] == [
        "synmlh-fr-000", "synmlh-fr-001", "synmlh-pl-000", "synmlh-pl-001", "synmlh-fi-000", "synmlh-fi-001"
    ]  # fmt: skip
    # the trained languages' clips are where they were without the check's languages
    assert plan.clips()[: 3 * 2 + 4] == MlPlan(("fr", "pl"), train=3, holdout=2).clips()


def test_corpus_command_refuses_unknown_check_languages(tmp_path, capsys):
    from expclip_train.speech.corpus import main

    for flag in ("--ml-check-langs", "--ml-langs"):
        with pytest.raises(SystemExit):
            main(["--out", str(tmp_path / "c"), "--ml-holdout", "1", flag, "fr,xx", "--quiet"])
        assert f"unknown {flag} ['xx']" in capsys.readouterr().err
    assert not (tmp_path / "c").exists()  # refused before anything is written


def test_variant_pools_reserve_both_sexes():
    sexes = {f"f{i}": "female" for i in range(5)} | {f"m{i}": "male" for i in range(8)}
    sexes |= {"robosoft": "male", "robosoft2": "male"}
    pools = variant_pools(sexes, seed=0, n_holdout=6)
    held = [v for v, _ in pools.holdout]
    assert [s for _, s in pools.holdout] == ["female", "male"] * 3
    assert not set(held) & set(pools.train["female"] + pools.train["male"])
    assert None in pools.train["male"] and not any(v.startswith("robosoft") for v in held)
    assert variant_pools(sexes, seed=0, n_holdout=6) == pools
    assert variant_pools(sexes, seed=1, n_holdout=6) != pools


def test_small_multilingual_corpus(tmp_path):
    _synth()
    pytest.importorskip("wordfreq")
    from expclip_train.speech.coarticulation import targets
    from expclip_train.speech.corpus import MlPlan, build_corpus, iter_clips
    from expclip_train.speech.metrics import bilabial_closure_rate

    plan = MlPlan(("fr", "pl"), train=2, holdout=1, check_langs=("fi",))
    manifest = build_corpus(tmp_path, synth_utterances=0, progress=False, ml=plan)
    assert manifest["counts"]["train"] == 4 and manifest["counts"][HOLDOUT_SPLIT] == 3
    assert manifest["counts"]["languages"] == ["fi", "fr", "pl"]
    reserved = set(manifest["ml_holdout_variants"])
    held = list(iter_clips(tmp_path, split=HOLDOUT_SPLIT))
    assert {c.meta["lang"] for c in held} == {"fr", "pl", "fi"}  # fi: the check's only
    assert {c.meta["lang"] for c in iter_clips(tmp_path, split="train")} == {"fr", "pl"}
    for c in held:
        assert c.id.startswith("synmlh-") and c.meta["voice"].split("+")[1] in reserved
        assert 3.5 <= c.meta["duration"] <= 6.5
    for c in iter_clips(tmp_path, split="train"):
        assert c.id.startswith("synml-")  # "syn": the training reads it as synthetic
        assert c.meta["voice"].partition("+")[2] not in reserved and c.meta["ipa_phones"]
        w = targets(c.phones, 30.0, c.meta["duration"], audio=c.audio)
        assert np.isfinite(w).all()
        if any(p.label in BILABIALS for p in c.phones):  # the stand-ins close the target's lips
            assert bilabial_closure_rate(w, c.phones, 30.0) >= 0.9
    again = build_corpus(tmp_path, synth_utterances=0, progress=False, ml=plan)  # resumes: nothing to do
    assert "ml-all" not in again["throughput_this_run"]
    assert json.loads((tmp_path / "manifest.json").read_text())["clips"] == again["clips"]
