"""Training recipes: the files are what the shipped weights were trained with, and the loader is strict."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import pytest

from expclip_blender.model_files import read_safetensors
from expclip_blender.model_folder import MODELS_DIR
from expclip_train.recipes import RecipeError, load_recipe, recipe_path

pytest.importorskip("torch")


def _header(name: str) -> dict[str, str]:
    path = MODELS_DIR / f"{name}.safetensors"
    if not path.is_file():
        pytest.skip(f"{path.name} is not trained yet")
    return read_safetensors(path, name)[1]


def _recipe_values(name: str) -> dict:
    from expclip_train.training import expclip, generator

    kinds = {**expclip.RECIPE_KINDS, "generator": generator.TrainConfig}
    return asdict(load_recipe(recipe_path(name), kinds)[1])


def test_stage_1_recipe_is_what_the_shipped_expression_side_was_trained_with():
    header = _header("expclip")
    assert json.loads(header["config"]) == _recipe_values("expclip-stage1")  # the file's heads
    assert json.loads(header["joint_stage"])["config"] == _recipe_values("expclip-stage1")


def test_stage_2_recipe_is_what_the_shipped_text_projection_was_trained_with():
    header = _header("expclip")
    assert json.loads(header["text_stage"]) == _recipe_values("expclip-stage2")
    assert json.loads(header["run"])["config"] == _recipe_values("expclip-stage2")


def test_generator_recipe_is_what_the_shipped_generator_was_trained_with():
    header = _header("generator")
    assert json.loads(header["training"])["recipe"] == _recipe_values("generator")


def test_train_logs_record_the_same_configuration_as_the_headers():
    """The cards are rendered from the train logs: they must be the headers' runs."""
    expclip, generator = _header("expclip"), _header("generator")
    log = json.loads((MODELS_DIR / "expclip.train-log.json").read_text(encoding="utf-8"))
    assert log["config"] == json.loads(expclip["text_stage"])
    assert log["joint_stage"]["config"] == json.loads(expclip["joint_stage"])["config"]
    assert log["expression_sha256"] == expclip["expression_sha256"]
    log = json.loads((MODELS_DIR / "generator.train-log.json").read_text(encoding="utf-8"))
    assert log["recipe"] == json.loads(generator["training"])["recipe"]


@dataclass
class _Config:
    rate: float
    steps: int
    on: bool
    init: str


_GOOD = 'recipe = "demo"\n[config]\nrate = 1\nsteps = 3\non = true\ninit = "x"\n'


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "demo.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_loader_builds_the_dataclass(tmp_path):
    name, cfg = load_recipe(_write(tmp_path, _GOOD), {"demo": _Config})
    assert name == "demo" and cfg == _Config(rate=1.0, steps=3, on=True, init="x")
    assert type(cfg.rate) is float  # an integer is taken where a float is wanted


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (_GOOD + "sped = 2\n", r"demo\.toml': unknown key 'sped'"),
        (_GOOD.replace("steps = 3\n", ""), r"demo\.toml': missing 'steps'"),
        (_GOOD.replace("steps = 3", "steps = 3.5"), r"demo\.toml': 'steps' must be int, not float"),
        (_GOOD.replace("on = true", "on = 1"), r"'on' must be bool, not int"),
        (_GOOD.replace('recipe = "demo"', 'recipe = "other"'), r"is 'other'; this command takes 'demo'"),
        ("extra = 1\n" + _GOOD, r"demo\.toml': unknown key 'extra'"),
        ('recipe = "demo"\n', r"has no \[config\] table"),
        ("recipe = ", r"demo\.toml' cannot be read"),
    ],
    ids=["unknown", "missing", "type", "bool", "kind", "top-level", "no-config", "syntax"],
)
def test_loader_refuses_what_does_not_fit(tmp_path, text, message):
    with pytest.raises(RecipeError, match=message):
        load_recipe(_write(tmp_path, text), {"demo": _Config})


def test_expclip_command_line_overrides_single_fields(tmp_path):
    from expclip_train.training.expclip import build_parser, config_from_args, shipped_recipe

    parser = build_parser()

    def config(*argv: str):
        return config_from_args(parser, parser.parse_args(list(argv)))

    assert config() == (1, shipped_recipe(1), 0)
    assert config("--stage", "2") == (2, shipped_recipe(2), 0)
    stage, cfg, tead_seed = config(
        "--text-only", "--init", "S1.safetensors", "--emotion-weight", "4", "--no-side-choice"
    )
    assert stage == 2 and tead_seed == 0
    assert asdict(cfg) == {**asdict(shipped_recipe(2)), "emotion_weight": 4.0, "side_choice": False,
                           "init": "S1.safetensors"}  # fmt: skip
    stage, cfg, tead_seed = config("--stage", "2", "--seed", "3", "--train-seed", "1")
    assert (cfg.seed, tead_seed) == (1, 3)
    custom = tmp_path / "mine.toml"
    custom.write_text(
        recipe_path("expclip-stage2").read_text(encoding="utf-8").replace("epochs = 12", "epochs = 5"),
        encoding="utf-8",
    )
    stage, cfg, _ = config("--recipe", str(custom))  # the file says its stage
    assert stage == 2 and cfg.epochs == 5 and cfg.emotion_weight == shipped_recipe(2).emotion_weight
    with pytest.raises(SystemExit):
        config("--stage", "1", "--recipe", str(custom))
    with pytest.raises(SystemExit):
        config("--recipe", str(recipe_path("generator")))


def test_generator_command_line_overrides_single_fields():
    from expclip_train.training.generator import build_parser, config_from_args, shipped_recipe

    parser = build_parser()
    assert config_from_args(parser.parse_args([])) == shipped_recipe()
    cfg = config_from_args(parser.parse_args(["--steps", "10", "--viseme-block", "-1"]))
    assert asdict(cfg) == {**asdict(shipped_recipe()), "steps": 10, "viseme_block": -1}
