"""Experiment, not shipped: lip rounding on real Mandarin speech, the only real non-English speech found in
the registries, against espeak-ng speaking the same syllables.

Debian's ``gcin-voice`` (an input method's pronunciation samples) holds Mandarin syllables recorded by two
people, named by their Bopomofo spelling: ``ogg/<syllable>/3.ogg`` (Edward Der-Hua Liu; GPL-3 or LGPL-3)
and ``5.ogg`` (Chu Lo, for ChionMeilin; CC-BY-3.0). Isolated syllables, no timings: each syllable's vowel
is taken at the middle of its loud stretch (30 fps frames within 6 dB of the peak), and the rounding
(mouthFunnel + mouthPucker, as the report reads it) there is compared between syllables whose final is a
rounded vowel (u, o, uo, ü) and those whose final is a spread one (i, ie, ei, e): ROC AUC, as the report's
rounding figure. The same syllables spoken by espeak-ng's ``cmn-latn-pinyin`` voice (two variants, through
``pypinyin``'s Bopomofo spelling) go through the same steps, so the protocol (isolated syllables, the
vowel's place guessed) is measured apart from the voices being real; with ``--corpus``, so are real English
voices heard the same way: each rounded (UW OW UH AO) and spread (IY IH EH EY) vowel of the corpus's
aligned held-out clips cut out with 150 ms either side and heard alone. Neutral prompt; pylipsync beside.

    apt-get download gcin-voice && dpkg-deb -x gcin-voice_*.deb build/gcin-voice
    .venv/bin/python -m expclip_train.experiments.real_mandarin_syllables \\
        --ogg build/gcin-voice/usr/share/gcin-voice/ogg [--models FOLDER] [--corpus build/corpus]

What it measured is in docs/experiments.md. Nothing of it is committed or trained on.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..evaluation.peers import pylipsync_weights
from ..speech.metrics import lip_rounding, roc_auc

FPS = 30
INITIALS = frozenset("ㄅㄆㄇㄈㄉㄊㄋㄌㄍㄎㄏㄐㄑㄒㄓㄔㄕㄖㄗㄘㄙ")
ROUNDED = {"ㄨ": "u", "ㄛ": "o", "ㄨㄛ": "uo", "ㄩ": "ü"}
SPREAD = {"ㄧ": "i", "ㄧㄝ": "ie", "ㄟ": "ei", "ㄝ": "e"}
RECORDED_VOICES = {"3": "Edward Der-Hua Liu (GPL-3 or LGPL-3)", "5": "Chu Lo (CC-BY-3.0)"}
ESPEAK_VARIANTS = ("f3", "m3")
# English vowels as the finals ``score`` compares: rounded ones as "ㄨ", spread ones as "ㄧ".
ENGLISH_VOWEL_KIND = dict.fromkeys(("UW", "OW", "UH", "AO"), "ㄨ") | dict.fromkeys(
    ("IY", "IH", "EH", "EY"), "ㄧ"
)


def final_of(syllable: str) -> str:
    """The Bopomofo final of a gcin folder name (tone digits and marks, and the initial, left off)."""
    name = syllable.rstrip("12345ˊˇˋ˙")
    return name[1:] if name[:1] in INITIALS else name


def pinyin_of_bopomofo() -> dict[str, str]:
    """Toneless Bopomofo -> toneless pinyin (``ü`` kept), over every syllable pypinyin knows."""
    from pypinyin import Style
    from pypinyin.pinyin_dict import pinyin_dict
    from pypinyin.style import convert

    out: dict[str, str] = {}
    for readings in pinyin_dict.values():
        for p in readings.split(","):
            bopomofo = convert(p, Style.BOPOMOFO, strict=True).strip("ˊˇˋ˙")
            out.setdefault(bopomofo, convert(p, Style.TONE3, strict=True).rstrip("12345"))
    return out


def vowel_rounding(weights: np.ndarray, audio: np.ndarray, sr: int) -> float:
    """Rounding at the middle of the clip's loud stretch (3 frames around it)."""
    hop = sr // FPS
    rms = np.sqrt(np.convolve(audio**2, np.ones(hop) / hop, "same")[::hop] + 1e-12)
    loud = np.flatnonzero(rms > rms.max() / 2)
    c = int((loud[0] + loud[-1]) / 2)
    return float(lip_rounding(weights)[max(0, c - 1) : c + 2].mean())


def _values(values: dict[tuple[str, str], list[float]], voices: set[str], finals: set[str]) -> np.ndarray:
    return np.array([x for (v, f), xs in values.items() if v in voices and f in finals for x in xs])


def score(clips: list[tuple[str, str, np.ndarray, int]], systems: dict[str, Callable]) -> dict:
    """system -> {"all" | voice | rounded final: AUC, "n": counts} for (voice, final, audio, sr) clips."""
    out = {}
    for name, animate in systems.items():
        values: dict[tuple[str, str], list[float]] = defaultdict(list)
        for voice, final, audio, sr in clips:
            edge = np.zeros(int(0.3 * sr), np.float32)
            padded = np.concatenate([edge, audio, edge])
            values[voice, final].append(vowel_rounding(animate(padded, sr), padded, sr))
        voices = {v for v, _ in values}
        rounded, spread = _values(values, voices, set(ROUNDED)), _values(values, voices, set(SPREAD))
        row: dict = {"all": roc_auc(rounded, spread)}
        for voice in sorted(voices):
            row[voice] = roc_auc(
                _values(values, {voice}, set(ROUNDED)), _values(values, {voice}, set(SPREAD))
            )
        for final, label in ROUNDED.items():
            row[label] = roc_auc(_values(values, voices, {final}), spread)
        row["n"] = (len(rounded), len(spread))
        out[name] = row
    return out


def english_vowels_alone(corpus: Path) -> list[tuple[str, str, np.ndarray, int]]:
    """(speaker, final, audio, sr): the aligned held-out clips' rounded and spread vowels, each cut out with
    150 ms either side (20 ms fades), as ``score`` takes them ("ㄨ" standing for rounded, "ㄧ" for spread)."""
    from ..evaluation.generator_report import load_heldout

    aligned, _, _ = load_heldout(corpus)
    sr = 16000
    ramp = np.linspace(0.0, 1.0, int(0.02 * sr), dtype=np.float32)
    out = []
    for clip in aligned:
        for p in clip.phones:
            kind = ENGLISH_VOWEL_KIND.get(p.label.rstrip("012"))
            if kind is None or p.end - p.start < 0.06:
                continue
            cut = clip.audio[int(max(0.0, p.start - 0.15) * sr) : int((p.end + 0.15) * sr)].copy()
            cut[: len(ramp)] *= ramp
            cut[-len(ramp) :] *= ramp[::-1]
            out.append((str(clip.meta.get("speaker", "?")), kind, cut, sr))
    return out


def main(argv: list[str] | None = None) -> int:
    import soundfile as sf

    import expclip_blender as ex

    from ..speech.synth import EspeakSynth

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--ogg", type=Path, required=True, help="gcin-voice's ogg folder")
    parser.add_argument("--models", type=Path, default=None, help="a models folder (default: the bundled)")
    parser.add_argument("--corpus", type=Path, default=None, help="also real English vowels heard alone")
    args = parser.parse_args(argv)
    model = ex.load(models_dir=args.models) if args.models else ex.load()
    systems = {
        "model:neutral": lambda a, sr: model.animate(a, sr, prompt="", fps=FPS, blinks=False, gaze=False),
        "pylipsync": lambda a, sr: pylipsync_weights(a, sr, float(FPS)),
    }
    pinyin = pinyin_of_bopomofo()
    recorded, spoken, seen = [], [], set()
    for folder in sorted(p for p in args.ogg.iterdir() if p.is_dir()):
        final = final_of(folder.name)
        if final not in ROUNDED and final not in SPREAD:
            continue
        for voice in RECORDED_VOICES:
            if (folder / f"{voice}.ogg").exists():
                audio, sr = sf.read(folder / f"{voice}.ogg", dtype="float32", always_2d=True)
                recorded.append((voice, final, audio.mean(axis=1), sr))
        toneless = folder.name.rstrip("12345ˊˇˋ˙")
        if toneless in pinyin and toneless not in seen:
            seen.add(toneless)
            spoken += [(v, final, pinyin[toneless] + "1") for v in ESPEAK_VARIANTS]
    synth = EspeakSynth()
    espeak = [
        (
            v,
            f,
            synth.synth(text, voice="cmn-latn-pinyin", variant=v, rate=150).audio.astype(np.float32),
            16000,
        )
        for v, f, text in spoken
    ]
    sources = [("recorded (gcin-voice)", recorded), ("espeak-ng, the same syllables", espeak)]
    if args.corpus is not None:
        sources.append(("real English held-out vowels, each heard alone", english_vowels_alone(args.corpus)))
    for title, clips in sources:
        print(f"{title}: rounding AUC, rounded finals against spread ones")
        for name, row in score(clips, systems).items():
            by = "  ".join(f"{k} {v:.3f}" for k, v in row.items() if k not in ("all", "n") and np.isfinite(v))
            print(f"  {name:<14} {row['all']:.3f} (n {row['n'][0]} / {row['n'][1]})  {by}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
