"""Babble and music under the training speech: levels, talkers, seeds, and targets that ignore them."""

from __future__ import annotations

import json

import numpy as np
import pytest
from invariants import speech_like

from expclip_train.speech import augment, mixing
from expclip_train.speech.phones import Phone
from expclip_train.training.talkers import TalkerPool

SR = 16000


def _draw(rng, talkers=None, babble=0.5, music=0.5, snr=(0.0, 20.0)):
    return augment.draw_background(
        rng, SR, babble_share=babble, music_share=music, snr_db=snr, talkers=(2, 6), draw_talkers=talkers
    )


def _voices(k, rng):
    return [speech_like(1.5 + 0.5 * i, seed=100 + i) for i in range(k)]


@pytest.mark.parametrize("seed", range(6))
def test_the_mix_is_at_the_drawn_snr(seed):
    """With every other augmentation off, what was added sits at the drawn SNR below the speech."""
    speech = 0.05 * speech_like(3.0, seed=seed).astype(np.float32)  # quiet: nothing clips
    bg = _draw(np.random.default_rng(seed), _voices)
    assert bg is not None
    out = augment.augment(speech, SR, np.random.default_rng(seed), strength=0.0, background=bg)
    added = out.audio.astype(np.float64) - speech
    got = 20 * np.log10(mixing.active_rms(speech, SR) / np.sqrt(np.mean(added**2)))
    assert got == pytest.approx(bg.snr_db, abs=0.5)
    assert out.applied == [bg.name]


def test_shares_and_snr_range():
    rng = np.random.default_rng(0)
    draws = [_draw(rng, _voices, babble=0.25, music=0.25, snr=(0.0, 20.0)) for _ in range(400)]
    names = [d.name.split()[0] if d else None for d in draws]
    assert 0.18 < names.count("babble") / 400 < 0.32 and 0.18 < names.count("music") / 400 < 0.32
    assert all(0.0 <= d.snr_db <= 20.0 for d in draws if d)
    assert all(_draw(rng, _voices, babble=0.0, music=0.0) is None for _ in range(20))
    # No talkers to draw from: no babble, never a failure.
    assert all(d is None or d.name.startswith("music") for d in (_draw(rng, None) for _ in range(50)))
    with pytest.raises(ValueError):
        _draw(rng, _voices, babble=0.7, music=0.5)


def test_backgrounds_are_seeded():
    speech = 0.05 * speech_like(2.0).astype(np.float32)
    outs = []
    for _ in range(2):
        bg = _draw(np.random.default_rng(3), _voices)
        outs.append(augment.augment(speech, SR, np.random.default_rng(3), background=bg).audio)
    assert np.array_equal(outs[0], outs[1])


def test_training_music_varies_and_the_report_style_is_unchanged():
    styles = {augment.music_style(np.random.default_rng(i)) for i in range(20)}
    assert len(styles) == 20
    m = mixing.music(3 * SR, SR, np.random.default_rng(1), augment.music_style(np.random.default_rng(1)))
    assert np.isfinite(m).all() and np.sqrt(np.mean(m**2)) == pytest.approx(1.0)
    default = mixing.music(3 * SR, SR, np.random.default_rng(1))
    assert np.array_equal(default, mixing.music(3 * SR, SR, np.random.default_rng(1), mixing.MusicStyle()))


def _corpus(tmp_path):
    """A manifest of training and held-out clips (the pool reads audio only when drawn)."""
    import soundfile as sf

    clips = [
        *({"id": f"a{i}", "speaker": "A", "split": "train", "source": "real"} for i in range(3)),
        *({"id": f"b{i}", "speaker": "B", "split": "train", "source": "real"} for i in range(2)),
        {"id": "c0", "speaker": "C", "split": "train"},
        {"id": "d0", "speaker": "D", "split": "train"},
        {"id": "h0", "speaker": "H", "split": "holdout"},
        {"id": "h1", "speaker": "H", "split": "train"},  # a held-out speaker's training clip: never babble
        {"id": "l0", "speaker": "L", "split": "train"},  # listed as held out by the manifest
        {"id": "s0", "speaker": "S", "split": "holdout"},
    ]
    (tmp_path / "clips").mkdir()
    for i, e in enumerate(clips):
        sf.write(tmp_path / "clips" / f"{e['id']}.flac", 0.1 * speech_like(1.0, seed=i), SR)
    manifest = {"clips": clips, "holdout_speakers": ["L"]}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    return manifest


def test_babble_is_never_the_speaker_nor_held_out(tmp_path, monkeypatch):
    pool = TalkerPool.from_manifest(tmp_path, _corpus(tmp_path))
    assert pool.speakers == ["A", "B", "C", "D"] and len(pool) == 7
    read: list[str] = []
    real_audio = TalkerPool._audio
    monkeypatch.setattr(
        TalkerPool, "_audio", lambda self, cid, sr: read.append(cid) or real_audio(self, cid, sr)
    )
    rng = np.random.default_rng(0)
    for speaker in ("A", "B", "C", "D", "H"):
        for _ in range(20):
            read.clear()
            clips = pool.draw(speaker, int(rng.integers(2, 7)), rng, SR)
            assert len(clips) == len(read) >= 2
            spoken = [cid[0].upper() for cid in read]
            assert speaker not in spoken and len(set(spoken)) == len(spoken)  # distinct other speakers
            assert not {"H", "L", "S"} & set(spoken)
    assert len(pool.draw("A", 6, rng, SR)) == 3  # asked for more than there are: the others, no failure
    for share, kind in ((1.0, {"A", "B"}), (0.0, {"C", "D"})):  # real talkers (A, B) first, or synthetic
        read.clear()
        pool.draw("H", 2, rng, SR, real_share=share)
        assert {cid[0].upper() for cid in read} == kind


def test_pool_draws_are_seeded(tmp_path):
    pool = TalkerPool.from_manifest(tmp_path, _corpus(tmp_path))
    a = pool.draw("A", 3, np.random.default_rng(5), SR)
    b = TalkerPool.from_manifest(tmp_path, json.loads((tmp_path / "manifest.json").read_text())).draw(
        "A", 3, np.random.default_rng(5), SR
    )
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


def test_targets_follow_the_clean_clip():
    """A version with babble underneath has the same targets and visemes as the same version without."""
    from expclip_train.training.generator import training_example

    audio = 0.1 * speech_like(3.0).astype(np.float32)
    phones = [Phone("SIL", 0.0, 0.5), Phone("M", 0.5, 0.6), Phone("AA", 0.6, 1.0), Phone("SIL", 1.0, 3.0)]
    bg = _draw(np.random.default_rng(1), _voices, babble=1.0, music=0.0, snr=(0.0, 0.0))
    noisy = training_example(audio, SR, phones, augment_rng=np.random.default_rng(4), background=bg)
    clean = training_example(audio, SR, phones, augment_rng=np.random.default_rng(4))
    assert np.array_equal(noisy["tgt"], clean["tgt"]) and np.array_equal(noisy["vis"], clean["vis"])
    assert not np.array_equal(noisy["mel"], clean["mel"])
    assert bg.name in noisy["applied"]
