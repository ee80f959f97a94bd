"""The generator report's per-language and robustness sections, and the whole report on a tiny corpus.

The corpus is written with the corpus module's own clip and manifest writers: real-English held-out clips
of two speakers, a training clip of a third and a multilingual held-out split ("holdout-ml") in two
languages. A stand-in model lip-syncs perfectly (each clip's own targets), so every target is met and
no degradation moves a figure; the tests check the sections' paths and verdicts, not a trained model.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from invariants import speech_like
from phone_sequences import random_speech

from expclip_blender.arkit import ARKIT_INDEX, MOUTH_NAMES, NUM_ARKIT
from expclip_blender.facs import prototype_face
from expclip_train.evaluation import generator_report as gr
from expclip_train.evaluation import languages, robustness
from expclip_train.speech import corpus as corpus_module
from expclip_train.speech.coarticulation import speech_targets

SR = 16000
MODEL = "model:neutral"


class StandInByLength:
    """A model that lip-syncs perfectly: the targets of the clip with the heard audio's length."""

    def __init__(self, phones_by_length: dict[int, list]) -> None:
        self.phones_by_length = phones_by_length
        self.mouth = np.zeros(NUM_ARKIT, bool)
        self.mouth[[ARKIT_INDEX[n] for n in MOUTH_NAMES]] = True

    def expression(self, prompt: str, intensity: float = 1.0) -> np.ndarray:
        emotion = gr.EMOTION_PROMPTS.get(prompt)
        return prototype_face(emotion, "E") if emotion else np.zeros(NUM_ARKIT, np.float32)

    def animate(
        self, audio, sample_rate, prompt="neutral", fps=30.0, intensity=1.0, *, blinks=True, gaze=True
    ):
        w = speech_targets(self.phones_by_length[len(audio)], fps, len(audio) / sample_rate)
        w[:, ~self.mouth] = self.expression(prompt, intensity)[~self.mouth]
        return w


def _write_corpus(folder, multilingual: bool) -> dict[int, list]:
    """A tiny corpus (module docstring) in ``folder``; returns each clip's phones by its audio length."""
    clips_dir = folder / "clips"
    clips_dir.mkdir(parents=True)
    specs = [  # id, speaker, split, source, timing, lang, voice
        ("realA", "A", "holdout", "real", "pocketsphinx-align", None, None),
        ("realB", "B", "holdout", "real", "pocketsphinx-align", None, None),
        ("realC", "C", "train", "real", "pocketsphinx-align", None, None),
    ]
    if multilingual:
        specs += [
            ("mlfr0", "espeak:fr+m1", "holdout-ml", "synth", "espeak-events", "fr", "fr+m1"),
            ("mlfr1", "espeak:fr+f2", "holdout-ml", "synth", "espeak-events", "fr", "fr+f2"),
            ("mlpl0", "espeak:pl+m3", "holdout-ml", "synth", "espeak-events", "pl", "pl+m3"),
            ("mlfrT", "espeak:fr+m2", "train", "synth", "espeak-events", "fr", "fr+m2"),  # pl: never trained
        ]
    entries, by_length = [], {}
    for i, (cid, speaker, split, source, timing, lang, voice) in enumerate(specs):
        phones = random_speech(40 + i, 4.0)
        n = round(phones[-1].end * SR)
        audio = speech_like(n / SR, seed=i)[:n]
        meta = {"speaker": speaker, "source": source, "engine": None, "timing": timing, "split": split}
        meta |= {"lang": lang, "voice": voice} if lang else {}
        corpus_module._write_clip(clips_dir, cid, audio, phones, {**meta, "duration": n / SR})
        entries.append({"id": cid, **meta, "duration": n / SR})
        assert n not in by_length
        by_length[n] = phones
    manifest = corpus_module._manifest(0, ["A", "B"], entries, {}, [])
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return by_length


@pytest.fixture
def run_report(tmp_path, monkeypatch, capsys):
    def run(multilingual: bool) -> tuple[int, str, dict]:
        by_length = _write_corpus(tmp_path / "corpus", multilingual)
        monkeypatch.setattr(gr, "_load_model", lambda device, models: StandInByLength(by_length))
        out = tmp_path / "report.json"
        rc = gr.main(
            ["--corpus", str(tmp_path / "corpus"), "--no-peers", "--no-cache", "--json-out", str(out)]
        )
        return rc, capsys.readouterr().out, json.loads(out.read_text())

    return run


def test_report_with_a_multilingual_split(run_report):
    rc, text, report = run_report(multilingual=True)
    assert rc == 0
    langs = report["languages"]["languages"]
    assert list(langs) == ["fr", "pl"] and len(langs["fr"]["clips"]) == 2
    assert langs["fr"]["voices"] == ["fr+f2", "fr+m1"]
    assert set(langs["pl"]["systems"]) == {MODEL, gr.ORACLE}
    assert all(v["ok"] for lang in langs.values() for v in lang["verdicts"].values())
    assert "Held-out multilingual check (split 'holdout-ml'): 3 clips in 2 languages" in text
    assert "(model): YES" in text and "(model): NO" not in text
    assert langs["fr"]["trained"] is True and langs["pl"]["trained"] is False
    assert "languages never trained on (*): 1 of 1 meet every target" in text
    row = next(s for s in text.splitlines() if s.startswith("pl* "))
    assert MODEL in row and row.count("PASS") == 4  # closure, AUC, rounding, rest; r and lag unmarked
    # The real-English parts are there too, and the stand-in's degraded clips score as the clean ones.
    assert (
        "Targets on the real-English held-out clips" in text and "every real-English target met: YES" in text
    )
    conditions = report["robustness"]["conditions"]
    assert list(conditions) == list(robustness.CONDITIONS) and all(c["ok"] for c in conditions.values())
    assert "robust under every condition: YES" in text
    assert "strength >= 85% for every emotion: YES" in text
    assert set(report["section_s"]) == {"english", "languages", "robustness"} and "Report computed in" in text


def test_report_without_a_multilingual_split(run_report):
    rc, text, report = run_report(multilingual=False)
    assert rc == 0 and report["languages"] is None
    assert "this corpus has no clips in the split 'holdout-ml'" in text


def test_language_verdicts_and_summary():
    good = {
        "bilabial_closure_rate": 0.95,
        "open_bilabial_auc": 0.99,
        "rounding_auc": 0.9,
        "pause_rest_rate": 0.97,
    }
    bad = good | {"bilabial_closure_rate": 0.6, "rounding_auc": 0.86}
    v = languages.language_verdicts(bad)
    assert v["bilabial_closure_rate"]["ok"] is False and v["bilabial_closure_rate"]["floor_ok"] is False
    assert v["rounding_auc"]["ok"] is True and v["open_bilabial_auc"]["ok"] is True
    assert languages.language_verdicts(good | {"pause_rest_rate": math.nan})["pause_rest_rate"]["ok"] is None
    section = {
        "languages": {
            lang: {
                "clips": ["x"],
                "audio_s": 3.0,
                "voices": ["v"],
                "systems": {MODEL: f},
                "verdicts": languages.language_verdicts(f),
            }
            for lang, f in (("cs", bad), ("es", good))
        }
    }
    text = "\n".join(languages.format_languages(section, MODEL))
    assert "0.600 MISS" in text and "(misses: cs closure 0.600)" in text
    assert "(below: cs closure 0.600)" in text
    assert "languages never trained on" not in text and "cs* " not in text  # unknown: nothing marked
    section["languages"]["cs"]["trained"] = False
    text = "\n".join(languages.format_languages(section, MODEL))
    assert "languages never trained on (*): 0 of 1 meet every target (not: cs)" in text


def test_robustness_verdicts():
    clean = {"bilabial_closure_rate": 0.95, "rounding_auc": 0.9, "openness_lag": 0.0}
    worse = {"bilabial_closure_rate": 0.89, "rounding_auc": 0.86, "openness_lag": 2.0}
    v = robustness.verdicts(clean, worse, list(clean))
    assert v["bilabial_closure_rate"]["ok"] is False and v["bilabial_closure_rate"][
        "change"
    ] == pytest.approx(-0.06)
    assert v["rounding_auc"]["ok"] is True and v["openness_lag"]["ok"] is False
    assert robustness.verdicts(clean, {}, ["rounding_auc"])["rounding_auc"]["ok"] is None


def test_babble_comes_from_other_speakers(tmp_path):
    _write_corpus(tmp_path, multilingual=True)
    pool = robustness.babble_pool(tmp_path)
    assert sorted(s for s, _ in pool) == ["A", "B", "C"]  # real clips only, held-out and training
    talkers = robustness._talkers(pool, "A", 4, np.random.default_rng(0))
    own = next(a for s, a in pool if s == "A")
    assert len(talkers) == 2 and not any(t is own for t in talkers)
    clip = corpus_module.CorpusClip("x", own, [], {"speaker": "A"})
    noisy = robustness.degraded(clip, "babble", pool, np.random.default_rng(0))
    assert noisy.audio.shape == own.shape and not np.array_equal(noisy.audio, own) and clip.audio is own
    with pytest.raises(ValueError, match="unknown condition"):
        robustness.degraded(clip, "wind", pool, np.random.default_rng(0))
