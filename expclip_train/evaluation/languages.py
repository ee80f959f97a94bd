"""Per-language figures of the generator report on the held-out multilingual split of a corpus.

The split ``holdout-ml`` holds clips in many languages, spoken by voices and sentences never trained on;
each clip's metadata names its ``lang`` and ``voice``, and its phones are ARPAbet proxies of the spoken
phonemes, so :mod:`speech.metrics` reads them unchanged. Every language gets the model (neutral prompt),
the peers and the oracle (the training targets) on the same clips, and the model's figures are marked
against the ``[languages]`` targets of ``generator_targets.toml`` (and its ``[languages_floor]``: no
language below it on any of them). Languages the corpus has no training clip in (the check's own,
``trained = false`` in ``languages.toml``) are marked: the model never heard them. The evaluation itself
is the report's (passed in as ``evaluate``), so this module only groups, judges and prints.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from pathlib import Path

from .targets import LAG_FIGURES, generator_targets, mark, meets

__all__ = [
    "COLUMNS",
    "SPLIT",
    "by_language",
    "evaluate_languages",
    "format_languages",
    "load_multilingual",
    "trained_languages",
]

SPLIT = "holdout-ml"
#: The figures of the per-language table and their column titles.
COLUMNS: dict[str, str] = {
    "bilabial_closure_rate": "closure",
    "open_bilabial_auc": "open/bil AUC",
    "rounding_auc": "rounding",
    "pause_rest_rate": "rest in pauses",
    "openness_correlation": "openness r",
    "openness_lag": "lag",
}


def load_multilingual(corpus: Path) -> list:
    """The clips of the corpus's multilingual held-out split (empty when it has none)."""
    from ..speech.corpus import iter_clips

    return list(iter_clips(corpus, split=SPLIT))


def trained_languages(corpus: Path) -> set[str]:
    """The languages of the corpus's training clips (their manifest rows' ``lang``)."""
    manifest = json.loads((Path(corpus) / "manifest.json").read_text())
    return {str(e["lang"]) for e in manifest["clips"] if e.get("split") == "train" and e.get("lang")}


def by_language(clips: Sequence) -> dict[str, list]:
    """Clips grouped by their metadata's ``lang`` (sorted; "?" where it is missing)."""
    groups: dict[str, list] = {}
    for c in sorted(clips, key=lambda c: c.id):
        groups.setdefault(str(c.meta.get("lang") or "?"), []).append(c)
    return dict(sorted(groups.items()))


def language_verdicts(figures: dict[str, float]) -> dict[str, dict]:
    """figure -> {"value", "target", "ok", "floor", "floor_ok"} for the model's figures of one language."""
    targets, floors = generator_targets()["languages"], generator_targets()["languages_floor"]
    out = {}
    for k, t in targets.items():
        v = figures.get(k, math.nan)
        floor = float(floors.get(k, t))
        out[k] = {
            "value": v,
            "target": float(t),
            "ok": meets(k, v, t),
            "floor": floor,
            "floor_ok": meets(k, v, floor),
        }
    return out


def evaluate_languages(
    clips: Sequence,
    evaluate: Callable[[list], dict],
    model_name: str,
    trained: set[str] | None = None,
) -> dict:
    """Each language's clips through ``evaluate`` (clips -> a report section with "systems"), with the
    model's verdicts; ``model_name`` names the model's system in the sections; ``trained``: the languages
    the training clips speak (each row's ``trained``; None: unknown, not marked)."""
    out: dict = {"split": SPLIT, "languages": {}}
    for lang, group in by_language(clips).items():
        section = evaluate(group)
        model = section["systems"].get(model_name)
        out["languages"][lang] = {
            "clips": [c.id for c in group],
            "audio_s": float(sum(len(c.audio) for c in group) / 16000),
            "voices": sorted({str(c.meta.get("voice") or c.meta.get("speaker") or "?") for c in group}),
            "systems": section["systems"],
            "verdicts": language_verdicts(model) if model is not None else {},
            "trained": None if trained is None else lang in trained,
        }
    return out


def _cell(key: str, value: float, ok: bool | None, judged: bool) -> str:
    if not (isinstance(value, (int, float)) and math.isfinite(value)):
        return "n/a"
    text = f"{value:+.0f}" if key in LAG_FIGURES else f"{value:.3f}"
    return f"{text} {mark(ok)}" if judged else text


def _summary(languages: dict) -> list[str]:
    """The verdict lines: every language on target, none under the floor (with what misses)."""
    misses, floors = [], []
    for lang, row in languages.items():
        for k, v in row["verdicts"].items():
            if v["ok"] is not True:
                misses.append(f"{lang} {COLUMNS[k]} {_cell(k, v['value'], None, False)}")
            if v["floor_ok"] is not True:
                floors.append(f"{lang} {COLUMNS[k]} {_cell(k, v['value'], None, False)}")
    t = generator_targets()
    goals = ", ".join(f"{COLUMNS[k]} >= {v:g}" for k, v in t["languages"].items())
    floor = min(t["languages_floor"].values())
    lines = [
        f"  every language meets {goals} (model): {'NO' if misses else 'YES'}"
        + (f" (misses: {'; '.join(misses)})" if misses else ""),
        f"  no language below {floor:g} on any of them (model): {'NO' if floors else 'YES'}"
        + (f" (below: {'; '.join(floors)})" if floors else ""),
    ]
    unheard = [lang for lang, row in languages.items() if row.get("trained") is False]
    if unheard:
        ok = [lang for lang in unheard if all(v["ok"] is True for v in languages[lang]["verdicts"].values())]
        lines.append(
            f"  languages never trained on (*): {len(ok)} of {len(unheard)} meet every target"
            + (f" (not: {', '.join(x for x in unheard if x not in ok)})" if len(ok) < len(unheard) else "")
        )
    return lines


def format_languages(section: dict | None, model_name: str) -> list[str]:
    """The printed per-language section (a sentence when the corpus has no multilingual split)."""
    if not section or not section["languages"]:
        return [
            f"Held-out multilingual check: this corpus has no clips in the split {SPLIT!r}, so there are no "
            "per-language figures (build the corpus with its multilingual held-out clips to get them)."
        ]
    langs = section["languages"]
    n = sum(len(r["clips"]) for r in langs.values())
    out = [
        f"Held-out multilingual check (split {SPLIT!r}): {n} clips in {len(langs)} languages; voices and "
        "sentences never trained on; phones are ARPAbet proxies; 30 fps. The model's figures are marked "
        "against the per-language targets; the peers' and the oracle's (the training targets) are beside it. "
        "* a language with no training clip: the model never heard it.",
        "",
        f"{'lang':<8}{'clips':>6}{'audio s':>9}  {'system':<16}"
        + "".join(f"{c:>16}" for c in COLUMNS.values()),
    ]
    for lang, row in langs.items():
        first = True
        for system, figs in row["systems"].items():
            judged = system == model_name
            verdicts = row["verdicts"] if judged else {}
            cells = [
                _cell(k, figs.get(k, math.nan), verdicts.get(k, {}).get("ok"), judged and k in verdicts)
                for k in COLUMNS
            ]
            name = f"{lang}*" if row.get("trained") is False else lang
            head = f"{name:<8}{len(row['clips']):>6}{row['audio_s']:>9.1f}" if first else " " * 23
            out.append(f"{head}  {system:<16}" + "".join(f"{c:>16}" for c in cells))
            first = False
        out.append(f"{'':<23}  voices: {', '.join(row['voices'])}")
    return [*out, "", *_summary(langs)]
