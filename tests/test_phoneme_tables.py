"""The multilingual phoneme tables: every phoneme espeak-ng can emit for a covered language has a viseme."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from expclip_train.speech.multilingual_text import LANGUAGES
from expclip_train.speech.phoneme_tables import (
    IPA_CLASSES,
    ipa_viseme,
    load_table,
    table_names,
    table_of,
    viseme_of,
    visemes_of_events,
)
from expclip_train.speech.phones import VISEMES

SAMPLES = tomllib.loads((Path(__file__).parent / "data" / "phoneme_samples.toml").read_text("utf-8"))
REQUIRED = {"fr", "de", "es", "it", "pt", "pt-br", "nl", "pl", "cs", "ru", "ja", "cmn", "hi"}


def _espeak():
    from expclip_train.speech.espeak import EspeakLib, SynthError
    from expclip_train.speech.phoneme_tables import espeak_data

    try:
        espeak_data.data_dir()
        return EspeakLib.get()
    except (FileNotFoundError, SynthError) as err:
        pytest.skip(f"espeak-ng is not installed: {err}")


def test_covered_languages_have_tables_and_samples():
    assert set(LANGUAGES) >= REQUIRED
    assert set(SAMPLES) == set(LANGUAGES)
    for key in LANGUAGES:
        assert table_of(key) in table_names()


@pytest.mark.parametrize("table", table_names())
def test_table_loads_and_every_phoneme_maps(table):
    phonemes = load_table(table)
    assert len(phonemes) > 50
    for m, ph in phonemes.items():
        if ph.type not in ("pause", "stress"):
            assert ph.ipa and ph.source in ("espeak", "base", "override"), (table, m)
            assert ipa_viseme(ph.ipa).cls in IPA_CLASSES
        v = viseme_of(table, m)
        assert v is None if ph.type == "stress" else v in VISEMES, (table, m, v)
    for m in ("p", "b", "m"):
        assert viseme_of(table, m) == "PP", (table, m)


@pytest.mark.parametrize("table", table_names())
def test_tables_hold_the_whole_phontab_inventory(table):
    """The committed table has every phoneme espeak-ng's phontab gives the table (its own and inherited)."""
    _espeak()
    from expclip_train.speech.phoneme_tables.espeak_data import inventory

    spoken = {ph.mnemonic: ph.type for ph in inventory(table)}
    assert spoken == {m: ph.type for m, ph in load_table(table).items()}


@pytest.mark.parametrize("lang", sorted(LANGUAGES))
def test_fresh_synthesis_maps_every_event(lang):
    """espeak-ng speaking the language's sample: every event (switches to other tables too) has a viseme."""
    lib = _espeak()
    _, events = lib.synth(SAMPLES[lang], LANGUAGES[lang].voice, 175, 50, 50, 0)
    mnemonics = [m for _, m in events]
    visemes = visemes_of_events(lang, mnemonics)  # KeyError on an unmapped mnemonic
    spoken = [v for m, v in zip(mnemonics, visemes, strict=True) if v not in (None, "sil")]
    assert len(spoken) >= 20
    assert "(en)" not in mnemonics  # the sample is read in the language itself, not as English
    assert "PP" in spoken  # every sample has a bilabial


def test_ipa_map_classes_agree_with_visemes():
    assert ipa_viseme("p").cls == "bilabial"
    assert ipa_viseme("ɛ̃").viseme == "E"  # nasal vowels keep their oral vowel's viseme
    assert ipa_viseme("tʃʲ").viseme == "CH"  # palatalised affricate
    assert ipa_viseme("aɪ").viseme == "aa"  # a falling diphthong: where it starts
    assert ipa_viseme("ua").viseme == "aa"  # a rising one: its nucleus
    assert ipa_viseme("ɐ̃ʊ̃").cls == "open vowel"
    with pytest.raises(KeyError):
        ipa_viseme("☃")


def test_japanese_u_is_compressed_neither_spread_nor_rounded():
    from expclip_train.speech.phones import ROUNDED, SPREAD_VOWELS

    u = load_table("ja")["u"].ipa
    assert u == "ɯᵝ" and ipa_viseme(u).arpabet == "UH"  # the lips compressed: not counted either way
    assert ipa_viseme(u).arpabet not in ROUNDED | SPREAD_VOWELS
    assert ipa_viseme("ɯ").arpabet in SPREAD_VOWELS  # Turkish ı is spread


def test_visemes_of_events_follow_language_switches():
    assert visemes_of_events("cmn", ["(en)", "T", "(cmn)", "s."]) == [None, "TH", None, "CH"]
    assert viseme_of("fr", "'") is None and viseme_of("fr", "_:") == "sil"
    with pytest.raises(KeyError):
        viseme_of("fr", "no such phoneme")


def test_text_generator_is_deterministic():
    pytest.importorskip("wordfreq")
    pytest.importorskip("pypinyin")
    from expclip_train.speech.multilingual_text import MultilingualTextGenerator

    for lang in ("fr", "ja", "cmn", "hi"):
        gen = MultilingualTextGenerator(lang, seed=3)
        many = [gen.sentence() for _ in range(5)]
        assert MultilingualTextGenerator(lang, seed=3).sentence() == many[0]
        assert len(set(many)) == 5
    assert MultilingualTextGenerator("fr", 1).sentence() != MultilingualTextGenerator("fr", 2).sentence()
