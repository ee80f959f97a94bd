"""Training examples of the speech generator: features and targets line up in time, whatever the version.

A clip of loud "vowels" at known phone times stands in for speech, so where the sound is (the log-mel's
loudness) and where the targets open the mouth can be compared frame by frame.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from expclip_blender.features import EDGE_PAD_S
from expclip_train.speech import augment as augment_module
from expclip_train.speech.coarticulation import mouth_aperture
from expclip_train.speech.phones import VISEMES, Phone
from expclip_train.training.generator import _trim_to_speech, training_example

SR = 16000
RATE = 50.0
PAD = round(EDGE_PAD_S * RATE)  # output frames of room tone before the clip
VOWELS = [(0.6, 0.9), (1.6, 1.9), (2.8, 3.1), (3.9, 4.2)]  # AA phones; silence between


def _clip() -> tuple[np.ndarray, list[Phone]]:
    t = np.arange(int(4.6 * SR)) / SR
    audio = np.random.default_rng(0).standard_normal(len(t)) * 3e-3  # a recording's noise floor
    phones = []
    for a, b in VOWELS:
        on = (t >= a) & (t < b)
        audio[on] += 0.3 * np.sin(2 * np.pi * 220 * t[on]) + 0.2 * np.sin(2 * np.pi * 700 * t[on])
        phones.append(Phone("AA", a, b))
    return audio.astype(np.float32), phones


def _loud_frames(mel: np.ndarray) -> np.ndarray:
    """Output frames (pairs of 10 ms frames) where the clip is loud."""
    loud = mel.mean(axis=1)
    loud = loud[: len(loud) // 2 * 2].reshape(-1, 2).mean(axis=1)
    return loud > 0.5 * (loud.max() + loud.min())


def _agreement(ex: dict) -> float:
    """Share of frames where 'the mouth is open' and 'the audio is loud' agree."""
    open_ = mouth_aperture(ex["tgt"]) > 0.15
    loud = _loud_frames(ex["mel"])
    n = min(len(open_), len(loud))
    return float(np.mean(open_[:n] == loud[:n]))


def test_clean_example_is_padded_and_aligned():
    audio, phones = _clip()
    ex = training_example(audio, SR, phones)
    n_clip = int(np.ceil(len(audio) / SR * 100))
    assert ex["mel"].shape == (n_clip + 2 * round(EDGE_PAD_S * 100), 80)
    assert len(ex["tgt"]) == len(ex["vis"]) == int(np.ceil(len(ex["mel"]) / 2))
    ap = mouth_aperture(ex["tgt"])
    assert ap[:PAD].max() < 0.05 and ap[-PAD:].max() < 0.05  # at rest in the room tone
    for a, b in VOWELS:
        centre = PAD + round((a + b) / 2 * RATE)
        assert ap[centre] > 0.25
        assert VISEMES[ex["vis"][centre]] == "aa"
    assert VISEMES[ex["vis"][PAD + round(1.25 * RATE)]] == "sil"
    assert _agreement(ex) > 0.9


@pytest.mark.parametrize("factor", [0.9, 1.1])
def test_speed_perturbed_targets_follow_the_heard_audio(monkeypatch, factor):
    from expclip_blender.audio import resample

    def speed_only(audio, sr, rng, strength=1.0, background=None):
        y = resample(audio, sr, round(sr / factor))
        return augment_module.AugmentResult(y, len(audio) / len(y), [f"speed {factor}"])

    monkeypatch.setattr(augment_module, "augment", speed_only)
    audio, phones = _clip()
    ex = training_example(audio, SR, phones, augment_rng=np.random.default_rng(0))
    assert ex["applied"] == [f"speed {factor}"]
    # The last vowel moved by ~0.4 s: targets sampled at the wrong rate would miss it entirely.
    assert _agreement(ex) > 0.9
    a, b = VOWELS[-1]
    centre = PAD + round((a + b) / 2 / (len(audio) / (len(audio) / factor)) * RATE)
    assert mouth_aperture(ex["tgt"])[centre] > 0.25 and _loud_frames(ex["mel"])[centre]


def test_trimmed_example_starts_at_the_speech():
    audio, phones = _clip()
    span = _trim_to_speech(phones, len(audio) / SR, np.random.default_rng(3))
    assert VOWELS[0][0] - 0.08 <= span[0] <= VOWELS[0][0] and VOWELS[-1][1] <= span[1] <= VOWELS[-1][1] + 0.08
    ex = training_example(audio, SR, phones, span=span)
    assert len(ex["mel"]) == int(np.ceil((round(span[1] * SR) - round(span[0] * SR)) / SR * 100)) + 240
    ap = mouth_aperture(ex["tgt"])
    first = PAD + round(((VOWELS[0][0] + VOWELS[0][1]) / 2 - span[0]) * RATE)
    assert ap[first] > 0.25
    assert _agreement(ex) > 0.9


def test_training_runs_resumes_and_keeps_the_viseme_head_out_of_the_model(tmp_path):
    """A few steps on a two-clip corpus: the weights file is written, the checkpoint carries the
    training-only viseme head and its optimiser state, and a longer rerun resumes from it, ending where an
    uninterrupted run ends."""
    import json

    import soundfile as sf

    from expclip_blender.generator import load_generator
    from expclip_blender.model_files import read_safetensors
    from expclip_train.speech.phones import save_phones
    from expclip_train.training.generator import shipped_recipe, train

    corpus = tmp_path / "corpus"
    (corpus / "clips").mkdir(parents=True)
    audio, phones = _clip()
    entries = []
    for i, split in enumerate(("train", "holdout")):
        cid = f"clip{i}"
        sf.write(corpus / "clips" / f"{cid}.flac", audio, SR)
        save_phones(corpus / "clips" / f"{cid}.json", phones, source="synth", split=split, timing="test")
        entries.append({"id": cid, "source": "synth", "split": split})
    (corpus / "manifest.json").write_text(json.dumps({"format": 1, "clips": entries}))
    work, out = tmp_path / "work", tmp_path / "generator.safetensors"
    cfg = replace(shipped_recipe(), steps=2, batch_size=2, crop_s=2.0, warmup=1, viseme_weight=0.5)
    train(corpus, work, out, cfg, checkpoint_every=2)
    tensors, meta = read_safetensors(work / "checkpoint.safetensors", "Checkpoint", framework="pt")
    assert meta["step"] == "2" and any(k.startswith("aux.") for k in tensors)
    assert not any(k.startswith("aux") for k in read_safetensors(out, "Generator", framework="pt")[0])
    first = {k: v.clone() for k, v in load_generator(out, device="cpu").state_dict().items()}
    cfg.steps = 3
    train(corpus, work, out, cfg, checkpoint_every=2)
    assert json.loads(out.with_suffix(".train-log.json").read_text())["log"][-1]["step"] == 3
    after = load_generator(out, device="cpu").state_dict()
    assert any(not np.array_equal(first[k].numpy(), after[k].numpy()) for k in first)
    # The same 3 steps without the interruption end with the same weights, to the bit: batches are
    # drawn from (seed, step) and the checkpoint keeps the optimiser's moments.
    straight = tmp_path / "straight.safetensors"
    train(corpus, tmp_path / "work-straight", straight, cfg, checkpoint_every=2)
    again = load_generator(straight, device="cpu").state_dict()
    assert all(np.array_equal(after[k].numpy(), again[k].numpy()) for k in after)


class _Heads:
    """Stands in for ExpCLIP's heads: a fixed embedding and a decoder that doubles the face."""

    def encode_expression(self, w):
        return np.asarray(w, np.float32)[:, :4] + 1.0

    def decode(self, z):
        return np.tile(np.asarray(z, np.float32) * 0.1, (1, 13))


def test_epa_faces_are_the_drawn_or_the_decoded_expression():
    from expclip_train.training.generator import epa_faces

    exprs = np.zeros((3, 52), np.float32)
    exprs[1, :4] = 0.5
    exprs[2, 10] = 0.3
    heads = _Heads()
    style, faces = epa_faces(heads, exprs, decoded=False)
    assert np.array_equal(faces, exprs) and np.array_equal(style, heads.encode_expression(exprs))
    style, faces = epa_faces(heads, exprs, decoded=True)
    assert np.allclose(faces[1:], heads.decode(style)[1:])
    assert not faces[0].any()  # a neutral crop keeps a neutral face


def test_upper_weight_scales_the_channels_outside_the_mouth():
    from expclip_blender.arkit import ARKIT_INDEX, MOUTH_NAMES
    from expclip_train.training.generator import _channel_weights, shipped_recipe

    cfg = shipped_recipe()
    brow, lip = ARKIT_INDEX["browDownLeft"], ARKIT_INDEX[MOUTH_NAMES[0]]
    w1 = _channel_weights(replace(cfg, upper_weight=1.0)).numpy()
    w3 = _channel_weights(replace(cfg, upper_weight=3.0)).numpy()
    assert w3[brow] / w3[lip] == pytest.approx(3.0 * w1[brow] / w1[lip])
    assert w3.mean() == pytest.approx(1.0)
