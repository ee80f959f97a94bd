"""Phone set, visemes, categories, timelines and the synthesisers' phone mappings."""

from __future__ import annotations

import itertools

import pytest

from expclip_train.speech.phones import (
    BILABIALS,
    LABIODENTALS,
    OPEN_VOWELS,
    OPENNESS,
    PHONES,
    ROUNDED,
    SIL,
    SPREAD_VOWELS,
    VISEME_OF,
    VISEMES,
    Phone,
    from_espeak,
    ipa_to_arpabet,
    load_phones,
    normalize_label,
    normalize_timeline,
    openness_class,
    save_phones,
    viseme,
)


def test_phone_set_is_cmudict_plus_silence():
    assert len(PHONES) == 40 and SIL in PHONES
    assert set(VISEME_OF) == set(PHONES) == set(OPENNESS)
    assert set(VISEME_OF.values()) == set(VISEMES) and len(VISEMES) == 15
    assert all(0.0 <= v <= 1.0 for v in OPENNESS.values())


def test_categories():
    for cat in (BILABIALS, LABIODENTALS, ROUNDED, SPREAD_VOWELS, OPEN_VOWELS):
        assert cat <= set(PHONES)
    assert {viseme(p) for p in BILABIALS} == {"PP"}
    assert {viseme(p) for p in LABIODENTALS} == {"FF"}
    assert min(OPENNESS[p] for p in OPEN_VOWELS) > max(OPENNESS[p] for p in SPREAD_VOWELS)
    assert all(OPENNESS[p] == 0.0 for p in BILABIALS)


@pytest.mark.parametrize(
    ("raw", "want"),
    [("AH0", "AH"), ("ey1", "EY"), ("ER2", "ER"), ("sil", SIL), ("<sil>", SIL), ("+NSN+", SIL),
     ("+SPN+", SIL), ("SIL", SIL), ("", SIL), (" p ", "P")],
)  # fmt: skip
def test_normalize_label(raw, want):
    assert normalize_label(raw) == want


def test_normalize_label_rejects_unknown():
    with pytest.raises(ValueError, match="not an ARPAbet phone"):
        normalize_label("QX")


def test_normalize_timeline_fills_gaps_and_merges_silence():
    phones = [Phone("b", 0.2, 0.3), Phone("AA1", 0.3, 0.5), Phone("sil", 0.5, 0.6), Phone("M", 0.9, 1.0)]
    out = normalize_timeline(phones, duration=1.2)
    assert [p.label for p in out] == [SIL, "B", "AA", SIL, "M", SIL]
    assert out[0].start == 0.0 and out[-1].end == pytest.approx(1.2)
    assert all(a.end == pytest.approx(b.start) for a, b in itertools.pairwise(out))


def test_normalize_timeline_cuts_overlaps_and_trims():
    out = normalize_timeline(
        [Phone("P", 0.0, 0.2), Phone("IY", 0.15, 0.4), Phone("T", 0.4, 0.9)], duration=0.5
    )
    assert [(p.label, p.start, p.end) for p in out] == [("P", 0.0, 0.2), ("IY", 0.2, 0.4), ("T", 0.4, 0.5)]


def test_save_and_load_phones(tmp_path):
    phones = [Phone(SIL, 0.0, 0.1), Phone("B", 0.1, 0.2)]
    save_phones(tmp_path / "x.json", phones, speaker="s1", text="b")
    back, meta = load_phones(tmp_path / "x.json")
    assert back == phones and meta == {"speaker": "s1", "text": "b"}


def test_from_espeak():
    assert from_espeak("p") == ("P",)
    assert from_espeak("A@") == ("AA", "R")
    assert from_espeak("oU") == ("OW",)
    assert from_espeak("_:") == (SIL,)
    assert from_espeak(";") == ()
    assert from_espeak("u:#") == ("UW",)  # unknown suffix: falls back to the stem
    with pytest.raises(ValueError):
        from_espeak("§§")


def test_ipa_to_arpabet_groups_code_points():
    units = [*list("pˈiːɾɚ bˈaɪtʃ"), ","]
    groups = ipa_to_arpabet(units)
    assert [g for g, _ in groups] == ["P", "IY", "D", "ER", "B", "AY", "CH", SIL]
    assert groups[1][1] == [1, 2, 3]  # the stress mark and the length mark belong to the vowel
    assert 6 not in {i for _, idx in groups for i in idx}  # the space is left to the caller


def test_openness_classes():
    assert {openness_class(p) for p in OPEN_VOWELS} == {"open vowel"}
    assert {openness_class(p) for p in BILABIALS} == {"bilabial"}
    assert openness_class("sil") == "pause" and openness_class("IY1") == "vowel"
    assert openness_class("HH") == openness_class("W") == openness_class("F") == "consonant"
    assert {openness_class(p) for p in PHONES} == {"open vowel", "vowel", "consonant", "bilabial", "pause"}
