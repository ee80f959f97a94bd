"""Build the lip-sync training corpus: speech audio + timed phones + speaker, with a speaker split.

    python -m expclip_train.speech.corpus --out DIR [--synth-utterances N] [--piper-share 0.3]
        [--real-dir ../shared/data/speech] [--real-clips M] [--holdout-speakers K] [--seed S]
        [--ml-utterances N] [--ml-holdout N] [--ml-langs fr,de,...] [--ml-check-langs fi,hu,...]
        [--ml-holdout-variants 6]

Sources:

- *synthesised*: :class:`synth.TextGenerator` sentences spoken by espeak-ng (its English voices x voice
  variants, random rate, pitch and pitch range, word gaps) and by Piper (the bundled "joe" voice, random
  speed and noise), with their own phone timings; 0.1-0.6 s of silence is added at both ends and the
  level varies, so clips start and end at rest like recordings.
- *real*: a folder laid out like ``shared/data/speech`` (``manifest.csv`` with file, speaker and
  transcript columns): forced alignment of the transcript with pocketsphinx where there is one, phone
  recognition otherwise. ``--holdout-speakers K`` real speakers are held out for evaluation: half of
  them (rounded up) from speakers with transcripts, the rest from speakers without, chosen by the seed
  among speakers with at most 50 clips (so the one large speaker stays in training).
- *multilingual* (:mod:`.ml_corpus`): ``--ml-utterances N`` training clips per language of ``--ml-langs``
  (default: every trained language but English) and ``--ml-holdout N`` held-out clips per language in
  the split ``holdout-ml`` (voice variants and words no multilingual training clip has; read them with
  ``iter_clips(DIR, split="holdout-ml")``), in those languages and in ``--ml-check-langs`` (default: the
  languages of the check only, ``trained = false`` in ``languages.toml``), which get no training clip.
  Their metadata adds ``lang``, ``voice``, ``sex`` and ``ipa_phones``. They come after the other clips
  in the manifest, so adding them moves no other clip.

Layout: ``DIR/clips/<id>.flac`` (16 kHz mono, 16-bit) and ``DIR/clips/<id>.json`` (phones and metadata:
speaker, source, engine, timing method, text, duration, split), and ``DIR/manifest.json`` (every clip,
the held-out speakers, counts and this run's throughput). Every clip is determined by (seed, its index),
so the build is reproducible and resumable: clips whose JSON exists are skipped. The JSON is written
last (atomically), so an interrupted clip is simply redone. What is reproduced is each clip's text,
voice, settings and phone sequence; the waveforms are not bit-exact: espeak-ng keeps state between
calls (pitch jitter: sub-millisecond differences in timing) and Piper draws its noise inside
onnxruntime, whose generators advance with every call (a from-scratch build in one process repeats it).
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import math
import multiprocessing
import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from .ml_corpus import (
    DEFAULT_CHECK_LANGS,
    DEFAULT_ML_LANGS,
    HOLDOUT_SPLIT,
    holdout_clip,
    ml_clip,
    place_in_silence,
    variant_pools,
)
from .multilingual_text import LANGUAGES
from .phones import Phone, load_phones, save_phones

__all__ = [
    "CorpusClip",
    "MlPlan",
    "build_corpus",
    "choose_holdout",
    "dictionary_words",
    "iter_clips",
    "main",
]

_LOG = logging.getLogger(__name__)
SAMPLE_RATE = 16000


@dataclass
class CorpusClip:
    """One clip of a built corpus."""

    id: str
    audio: np.ndarray
    phones: list[Phone]
    meta: dict


def dictionary_words(min_len: int = 3, max_len: int = 10) -> list[str]:
    """Plain alphabetic words of pocketsphinx's CMUdict (empty when pocketsphinx is missing)."""
    try:
        from pocketsphinx import get_model_path
    except ImportError:
        return []
    path = Path(get_model_path()) / "en-us" / "cmudict-en-us.dict"
    words = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            w = line.split(" ", 1)[0]
            if "(" not in w and w.isalpha() and min_len <= len(w) <= max_len:
                words.append(w)
    return words


def _write_clip(clips_dir: Path, cid: str, audio: np.ndarray, phones: list[Phone], meta: dict) -> None:
    flac = clips_dir / f"{cid}.flac"
    tmp = clips_dir / f"{cid}.tmp.flac"
    sf.write(tmp, np.clip(audio, -1.0, 1.0), SAMPLE_RATE, subtype="PCM_16", format="FLAC")
    os.replace(tmp, flac)
    save_phones(clips_dir / f"{cid}.json", phones, **meta)  # last: its presence marks the clip done


def _read_meta(path: Path) -> dict:
    data = json.loads(path.read_text())
    data.pop("phones", None)
    return data


# --- synthesised clips ------------------------------------------------------------------------------


class _Synths:
    """Synthesisers created on first use (Piper takes seconds to load)."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._espeak = None
        self._piper = None
        self._variants: list[str] | None = None

    @property
    def espeak(self):
        if self._espeak is None:
            from .synth import EspeakSynth

            self._espeak = EspeakSynth()
        return self._espeak

    @property
    def piper(self):
        if self._piper is None:
            from .synth import PiperSynth

            self._piper = PiperSynth(seed=self.seed)
        return self._piper

    @property
    def variants(self) -> list[str]:
        if self._variants is None:
            from .synth import espeak_variants

            self._variants = espeak_variants()
        return self._variants


def _synth_clip(index: int, seed: int, piper_share: float, synths: _Synths, words: list[str]):
    """Clip ``index`` of the synthetic part: (audio, phones, meta), all determined by (seed, index)."""
    from .synth import ESPEAK_VOICES, TextGenerator

    rng = np.random.default_rng([seed, 1, index])
    text = TextGenerator(seed=int(rng.integers(2**31)), words=words).sentence()
    if rng.random() < piper_share:
        utt = synths.piper.synth(
            text,
            length_scale=float(rng.uniform(0.8, 1.35)),
            noise_scale=float(rng.uniform(0.4, 0.8)),
            noise_w_scale=float(rng.uniform(0.5, 1.0)),
            sentence_pause=float(rng.uniform(0.25, 0.7)),
        )
    else:
        variants = synths.variants
        k = int(rng.integers(len(variants) + 1))
        utt = synths.espeak.synth(
            text,
            voice=ESPEAK_VOICES[int(rng.integers(len(ESPEAK_VOICES)))],
            variant=variants[k] if k < len(variants) else None,
            rate=int(rng.integers(120, 231)),
            pitch=int(rng.integers(25, 76)),
            pitch_range=int(rng.integers(20, 91)),
            word_gap=int(rng.choice([0, 0, 0, 1, 2, 5])),
        )
    audio, phones, _ = place_in_silence(utt.audio, utt.phones, rng)
    meta = {
        "source": "synth",
        "engine": utt.engine,
        "speaker": utt.speaker,
        "timing": utt.timing,
        "text": text,
        "params": utt.params,
    }
    return audio, phones, meta


# --- real clips -------------------------------------------------------------------------------------


def _read_real_manifest(real_dir: Path) -> list[dict]:
    with open(real_dir / "manifest.csv", newline="", encoding="utf-8") as f:
        return [r for r in csv.DictReader(f) if r.get("file") and r.get("speaker")]


def choose_holdout(rows: list[dict], k: int, seed: int, max_clips: int = 50) -> list[str]:
    """``k`` held-out speakers: ceil(k/2) with transcripts, the rest without (see the module docstring)."""
    if k <= 0:
        return []
    counts: dict[str, int] = {}
    has_text: dict[str, bool] = {}
    for r in rows:
        counts[r["speaker"]] = counts.get(r["speaker"], 0) + 1
        has_text[r["speaker"]] = has_text.get(r["speaker"], False) or bool(r.get("transcript", "").strip())
    eligible = sorted(s for s, c in counts.items() if c <= max_clips)
    with_text = [s for s in eligible if has_text[s]]
    without = [s for s in eligible if not has_text[s]]
    rng = np.random.default_rng([seed, 3])
    rng.shuffle(with_text)
    rng.shuffle(without)
    n_text = min(len(with_text), math.ceil(k / 2))
    chosen = with_text[:n_text] + without[: k - n_text]
    if len(chosen) < k:  # not enough of one kind: fill from the other
        rest = [s for s in with_text[n_text:] + without[k - n_text :] if s not in chosen]
        chosen += rest[: k - len(chosen)]
    return sorted(chosen)


def _select_real(rows: list[dict], holdout: list[str], limit: int | None, seed: int) -> list[dict]:
    """All rows, or ``limit`` of them: a quarter (at least one) from held-out speakers, the rest mixed."""
    if limit is None or limit >= len(rows):
        return rows
    rng = np.random.default_rng([seed, 4])
    held = [r for r in rows if r["speaker"] in holdout]
    train = [r for r in rows if r["speaker"] not in holdout]
    rng.shuffle(held)
    # Training rows: alternate transcribed and untranscribed ones so both timing methods are exercised.
    with_text = [r for r in train if r.get("transcript", "").strip()]
    without = [r for r in train if not r.get("transcript", "").strip()]
    rng.shuffle(with_text)
    rng.shuffle(without)
    n_held = min(len(held), max(1, limit // 4)) if holdout else 0
    mixed = [r for pair in zip(with_text, without, strict=False) for r in pair]
    mixed += with_text[len(without) :] + without[len(with_text) :]
    return held[:n_held] + mixed[: limit - n_held]


def _real_id(row: dict) -> str:
    stem = Path(row["file"]).stem
    return "real_" + "".join(c if c.isalnum() or c in "-_" else "_" for c in f"{row['speaker']}_{stem}")


# --- the build ---------------------------------------------------------------------------------------


# Throughput counters of one build, by how the clips were made.
_THROUGHPUT_KINDS = ("synth-espeak-ng", "synth-piper", "real-align", "real-allphone")


def _count_clip(stats: dict, kind: str, duration: float, t0: float, seconds: float | None = None) -> None:
    """Add one clip made since ``t0`` (perf_counter), or in ``seconds``, to ``stats[kind]``."""
    st = stats.setdefault(kind, {"clips": 0, "audio_s": 0.0, "process_s": 0.0})
    st["clips"] += 1
    st["audio_s"] += duration
    st["process_s"] += time.perf_counter() - t0 if seconds is None else seconds


def _synth_clips(
    clips_dir: Path,
    synth_utterances: int,
    seed: int,
    piper_share: float,
    stats: dict,
    failures: list[dict],
    log: Callable[[str], None],
) -> list[dict]:
    """Synthesise the clips not yet in ``clips_dir``; the metadata of every synthetic clip there."""
    synths = _Synths(seed)
    words: list[str] | None = None  # read only when a clip is missing
    entries: list[dict] = []
    for i in range(synth_utterances):
        cid = f"syn{i:06d}"
        meta_path = clips_dir / f"{cid}.json"
        if not meta_path.exists():
            if words is None:
                words = dictionary_words()
            t0 = time.perf_counter()
            try:
                audio, phones, meta = _synth_clip(i, seed, piper_share, synths, words)
            except Exception as err:  # one bad sentence must not stop a long build
                failures.append({"id": cid, "error": f"{type(err).__name__}: {err}"})
                log(f"{cid}: failed: {err}")
                continue
            meta.update(id=cid, split="train", duration=len(audio) / SAMPLE_RATE, sample_rate=SAMPLE_RATE)
            _write_clip(clips_dir, cid, audio, phones, meta)
            kind = "synth-piper" if meta["engine"] == "piper" else "synth-espeak-ng"
            _count_clip(stats, kind, meta["duration"], t0)
            log(f"{cid}: {meta['speaker']} {meta['duration']:.1f} s ({meta['timing']})")
        entries.append(_read_meta(meta_path))
    return entries


# --- multilingual clips -----------------------------------------------------------------------------


@dataclass(frozen=True)
class MlPlan:
    """The multilingual part: languages, training and held-out clips per language, reserved variants;
    ``check_langs``: languages with held-out clips only."""

    langs: tuple[str, ...] = DEFAULT_ML_LANGS
    train: int = 0
    holdout: int = 0
    holdout_variants: int = 6
    check_langs: tuple[str, ...] = ()

    def clips(self) -> list[tuple[str, str, int, bool]]:
        """(id, language, index, held out) in manifest order: training clips round the languages (an
        interrupted build has all of them), then the held-out ones, the check-only languages' last."""
        held = (*self.langs, *(x for x in self.check_langs if x not in self.langs))
        out = [(f"synml-{lang}-{i:05d}", lang, i, False) for i in range(self.train) for lang in self.langs]
        out += [(f"synmlh-{lang}-{i:03d}", lang, i, True) for lang in held for i in range(self.holdout)]
        return out


_WORKER_STATE: dict = {}  # per process: (seed, reserved variants) -> (EspeakSynth, VariantPools)


def _ml_task(task: tuple) -> dict:
    """Make and write one multilingual clip (possibly in a worker process): its metadata or its error."""
    clips_dir, cid, lang, index, held, seed, n_variants = task
    if (seed, n_variants) not in _WORKER_STATE:
        from .espeak import espeak_variant_sexes
        from .synth import EspeakSynth

        pools = variant_pools(espeak_variant_sexes(), seed, n_variants)
        _WORKER_STATE[seed, n_variants] = (EspeakSynth(), pools)
    synth, pools = _WORKER_STATE[seed, n_variants]
    t0 = time.perf_counter()
    try:
        audio, phones, meta = (holdout_clip if held else ml_clip)(lang, index, seed, synth, pools)
    except Exception as err:  # one bad sentence must not stop a long build
        return {"id": cid, "error": f"{type(err).__name__}: {err}"}
    split = HOLDOUT_SPLIT if held else "train"
    meta.update(id=cid, split=split, duration=len(audio) / SAMPLE_RATE, sample_rate=SAMPLE_RATE)
    _write_clip(Path(clips_dir), cid, audio, phones, meta)
    return {"id": cid, "lang": lang, "duration": meta["duration"], "seconds": time.perf_counter() - t0}


def _ml_clips(
    clips_dir: Path,
    plan: MlPlan,
    seed: int,
    processes: int,
    stats: dict,
    failures: list[dict],
    log: Callable[[str], None],
) -> list[dict]:
    """Synthesise the multilingual clips not yet in ``clips_dir`` (``processes`` at a time); the metadata
    of every one there, in manifest order."""
    ids = plan.clips()
    todo = [
        (str(clips_dir), cid, lang, i, held, seed, plan.holdout_variants)
        for cid, lang, i, held in ids
        if not (clips_dir / f"{cid}.json").exists()
    ]
    if todo:
        t0 = time.perf_counter()
        if processes > 1:  # spawned: each worker loads its own espeak-ng (the library is process-global)
            with multiprocessing.get_context("spawn").Pool(processes) as pool:
                results = list(
                    _log_ml(pool.imap_unordered(_ml_task, todo, chunksize=2), stats, failures, log)
                )
        else:
            results = list(_log_ml(map(_ml_task, todo), stats, failures, log))
        wall = time.perf_counter() - t0
        stats["ml-all"] = {"clips": len(results), "wall_s": round(wall, 2), "processes": processes}
    return [_read_meta(clips_dir / f"{cid}.json") for cid, *_ in ids if (clips_dir / f"{cid}.json").exists()]


def _log_ml(results, stats: dict, failures: list[dict], log: Callable[[str], None]):
    """Tally and log the results of :func:`_ml_task` as they come."""
    for r in results:
        if "error" in r:
            failures.append(r)
            log(f"{r['id']}: failed: {r['error']}")
        else:
            _count_clip(stats, f"ml-{r['lang']}", r["duration"], 0.0, r["seconds"])
            log(f"{r['id']}: {r['duration']:.1f} s")
        yield r


def _real_clip(
    clips_dir: Path,
    real_dir: Path,
    row: dict,
    holdout: list[str],
    stats: dict,
    failures: list[dict],
    log: Callable[[str], None],
) -> bool:
    """Load and align one recording of ``real_dir`` and write it as a clip; False (the failure recorded)
    when it cannot be read or aligned."""
    from expclip_blender.audio import load_audio

    from .align import try_align

    cid = _real_id(row)
    t0 = time.perf_counter()
    transcript = row.get("transcript", "").strip()
    try:
        audio = load_audio(real_dir / row["file"], SAMPLE_RATE)
    except Exception as err:
        failures.append({"id": cid, "error": f"{type(err).__name__}: {err}"})
        return False
    phones, method = try_align(audio, transcript or None)
    if phones is None:
        failures.append({"id": cid, "error": method})
        log(f"{cid}: failed: {method}")
        return False
    meta = {
        "id": cid,
        "source": "real",
        "engine": "recording",
        "speaker": row["speaker"],
        "timing": method,
        "text": transcript,
        "origin": row["file"],
        "split": "holdout" if row["speaker"] in holdout else "train",
        "duration": len(audio) / SAMPLE_RATE,
        "sample_rate": SAMPLE_RATE,
    }
    _write_clip(clips_dir, cid, audio, phones, meta)
    _count_clip(
        stats, "real-align" if method == "pocketsphinx-align" else "real-allphone", meta["duration"], t0
    )
    log(f"{cid}: {meta['speaker']} {meta['duration']:.1f} s ({method}, {meta['split']})")
    return True


def _real_clips(
    clips_dir: Path,
    real_dir: Path,
    real_clips: int | None,
    holdout_speakers: int,
    seed: int,
    stats: dict,
    failures: list[dict],
    log: Callable[[str], None],
) -> tuple[list[dict], list[str]]:
    """Add the chosen recordings of ``real_dir`` not yet in ``clips_dir``: (the metadata of every chosen
    one there, the held-out speakers)."""
    rows = _read_real_manifest(real_dir)
    holdout = choose_holdout(rows, holdout_speakers, seed)
    entries: list[dict] = []
    for row in _select_real(rows, holdout, real_clips, seed):
        meta_path = clips_dir / f"{_real_id(row)}.json"
        if not meta_path.exists() and not _real_clip(clips_dir, real_dir, row, holdout, stats, failures, log):
            continue
        entries.append(_read_meta(meta_path))
    return entries, holdout


def _manifest(seed: int, holdout: list[str], entries: list[dict], stats: dict, failures: list[dict]) -> dict:
    """The corpus manifest: counts, this run's throughput and failures, and one row per clip."""
    for st in stats.values():
        if "audio_s" not in st:
            continue
        st["x_realtime"] = round(st["audio_s"] / st["process_s"], 2) if st["process_s"] > 0 else None
        st["audio_s"], st["process_s"] = round(st["audio_s"], 2), round(st["process_s"], 2)
    return {
        "format": 1,
        "seed": seed,
        "sample_rate": SAMPLE_RATE,
        "holdout_speakers": holdout,
        "counts": {
            "clips": len(entries),
            "train": sum(e["split"] == "train" for e in entries),
            "holdout": sum(e["split"] == "holdout" for e in entries),
            HOLDOUT_SPLIT: sum(e["split"] == HOLDOUT_SPLIT for e in entries),
            "languages": sorted({e.get("lang") or "en" for e in entries}),
            "hours": round(sum(e["duration"] for e in entries) / 3600.0, 3),
            "speakers": len({e["speaker"] for e in entries}),
        },
        "throughput_this_run": stats,
        "failures_this_run": failures,
        "clips": [
            {k: e.get(k) for k in _MANIFEST_KEYS if k in e or k not in ("lang", "voice")} for e in entries
        ],
    }


_MANIFEST_KEYS = ("id", "speaker", "source", "engine", "timing", "split", "duration", "lang", "voice")


def build_corpus(
    out: str | os.PathLike,
    synth_utterances: int = 40,
    real_dir: str | os.PathLike | None = None,
    real_clips: int | None = None,
    holdout_speakers: int = 2,
    piper_share: float = 0.3,
    seed: int = 0,
    progress: bool = True,
    ml: MlPlan | None = None,
    processes: int = 1,
) -> dict:
    """Build (or complete) a corpus in ``out``; returns the manifest (also written to manifest.json).

    ``ml``: the multilingual part (none by default); ``processes`` synthesise it in parallel.
    """
    out = Path(out)
    clips_dir = out / "clips"
    clips_dir.mkdir(parents=True, exist_ok=True)
    stats = {k: {"clips": 0, "audio_s": 0.0, "process_s": 0.0} for k in _THROUGHPUT_KINDS}
    failures: list[dict] = []

    def log(msg: str) -> None:
        if progress:
            print(msg, file=sys.stderr, flush=True)

    entries = _synth_clips(clips_dir, synth_utterances, seed, piper_share, stats, failures, log)
    holdout: list[str] = []
    if real_dir is not None and (Path(real_dir) / "manifest.csv").is_file():
        real, holdout = _real_clips(
            clips_dir, Path(real_dir), real_clips, holdout_speakers, seed, stats, failures, log
        )
        entries += real
    elif real_dir is not None:
        log(f"no manifest.csv in {real_dir}: real speech skipped")
    if ml is not None and (ml.train or ml.holdout):
        entries += _ml_clips(clips_dir, ml, seed, processes, stats, failures, log)
    manifest = _manifest(seed, holdout, entries, stats, failures)
    if ml is not None and (ml.train or ml.holdout):
        from .espeak import espeak_variant_sexes

        pools = variant_pools(espeak_variant_sexes(), seed, ml.holdout_variants)
        manifest["ml_holdout_variants"] = [v for v, _ in pools.holdout]
    tmp = out / "manifest.json.tmp"
    tmp.write_text(json.dumps(manifest, indent=1))
    os.replace(tmp, out / "manifest.json")
    return manifest


def iter_clips(out: str | os.PathLike, split: str | None = None) -> Iterator[CorpusClip]:
    """Clips of a built corpus (optionally one split), audio as float32 at 16 kHz."""
    out = Path(out)
    manifest = json.loads((out / "manifest.json").read_text())
    for entry in manifest["clips"]:
        if split is not None and entry["split"] != split:
            continue
        phones, meta = load_phones(out / "clips" / f"{entry['id']}.json")
        audio, _ = sf.read(out / "clips" / f"{entry['id']}.flac", dtype="float32")
        yield CorpusClip(entry["id"], audio, phones, meta)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m expclip_train.speech.corpus", description=__doc__.split("\n")[0]
    )
    ap.add_argument("--out", required=True, help="corpus folder (created; an existing one is completed)")
    ap.add_argument("--synth-utterances", type=int, default=40, help="synthesised clips (default 40)")
    ap.add_argument("--piper-share", type=float, default=0.3, help="share of them spoken by Piper (0.3)")
    ap.add_argument("--real-dir", default=None, help="folder with manifest.csv of real speech")
    ap.add_argument("--real-clips", type=int, default=None, help="use at most this many real clips")
    ap.add_argument("--holdout-speakers", type=int, default=2, help="real speakers held out (default 2)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--ml-utterances", type=int, default=0, help="multilingual training clips per language")
    ap.add_argument("--ml-holdout", type=int, default=0, help="held-out multilingual clips per language")
    ap.add_argument(
        "--ml-langs",
        default=",".join(DEFAULT_ML_LANGS),
        help="languages.toml keys (default: the trained ones but English)",
    )
    ap.add_argument(
        "--ml-check-langs",
        default=",".join(DEFAULT_CHECK_LANGS),
        help="languages with held-out clips only (default: languages.toml's trained = false; '' for none)",
    )
    ap.add_argument(
        "--ml-holdout-variants", type=int, default=6, help="voice variants reserved for the check (6)"
    )
    ap.add_argument("--processes", type=int, default=1, help="processes for the multilingual part (1)")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)
    langs = tuple(x.strip() for x in args.ml_langs.split(",") if x.strip())
    checks = tuple(x.strip() for x in args.ml_check_langs.split(",") if x.strip())
    for flag, keys in (("--ml-langs", langs), ("--ml-check-langs", checks)):
        unknown = [x for x in keys if x not in LANGUAGES or x.startswith("en")]
        if unknown:
            covered = ", ".join((*DEFAULT_ML_LANGS, *DEFAULT_CHECK_LANGS))
            ap.error(f"unknown {flag} {unknown}; covered: {covered}")
    ml = MlPlan(langs, args.ml_utterances, args.ml_holdout, args.ml_holdout_variants, checks)
    t0 = time.perf_counter()
    manifest = build_corpus(
        args.out,
        synth_utterances=args.synth_utterances,
        real_dir=args.real_dir,
        real_clips=args.real_clips,
        holdout_speakers=args.holdout_speakers,
        piper_share=args.piper_share,
        seed=args.seed,
        progress=not args.quiet,
        ml=ml,
        processes=args.processes,
    )
    summary = {k: manifest[k] for k in ("counts", "holdout_speakers", "throughput_this_run")}
    summary["failures"] = len(manifest["failures_this_run"])
    summary["wall_s"] = round(time.perf_counter() - t0, 1)
    print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
