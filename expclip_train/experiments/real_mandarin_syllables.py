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
vowel's place guessed) is measured apart from the voices being real. Neutral prompt; pylipsync beside.

    apt-get download gcin-voice && dpkg-deb -x gcin-voice_*.deb build/gcin-voice
    .venv/bin/python -m expclip_train.experiments.real_mandarin_syllables \\
        --ogg build/gcin-voice/usr/share/gcin-voice/ogg [--models FOLDER]

What it measured is in docs/experiments.md. Nothing of it is committed or trained on.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import numpy as np

from expclip_blender.arkit import ARKIT_INDEX

from ..evaluation.peers import pylipsync_weights
from ..speech.metrics import roc_auc

FPS = 30
INITIALS = frozenset("ㄅㄆㄇㄈㄉㄊㄋㄌㄍㄎㄏㄐㄑㄒㄓㄔㄕㄖㄗㄘㄙ")
ROUNDED = {"ㄨ": "u", "ㄛ": "o", "ㄨㄛ": "uo", "ㄩ": "ü"}
SPREAD = {"ㄧ": "i", "ㄧㄝ": "ie", "ㄟ": "ei", "ㄝ": "e"}
RECORDED_VOICES = {"3": "Edward Der-Hua Liu (GPL-3 or LGPL-3)", "5": "Chu Lo (CC-BY-3.0)"}
ESPEAK_VARIANTS = ("f3", "m3")


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
    r = weights[:, ARKIT_INDEX["mouthFunnel"]] + weights[:, ARKIT_INDEX["mouthPucker"]]
    return float(r[max(0, c - 1) : c + 2].mean())


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


def main(argv: list[str] | None = None) -> int:
    import soundfile as sf

    import expclip_blender as ex

    from ..speech.synth import EspeakSynth

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--ogg", type=Path, required=True, help="gcin-voice's ogg folder")
    parser.add_argument("--models", type=Path, default=None, help="a models folder (default: the bundled)")
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
    for title, clips in (("recorded (gcin-voice)", recorded), ("espeak-ng, the same syllables", espeak)):
        print(f"{title}: rounding AUC, rounded finals against spread ones")
        for name, row in score(clips, systems).items():
            by = "  ".join(f"{k} {v:.3f}" for k, v in row.items() if k not in ("all", "n"))
            print(f"  {name:<14} {row['all']:.3f} (n {row['n'][0]} / {row['n'][1]})  {by}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
