"""Training recipes: TOML files whose values are the hyperparameters of the shipped models.

A recipe file names what it configures (``recipe = "expclip-stage2"``) and holds every field of that
configuration dataclass in its ``[config]`` table. The files are the one source of the values: the
dataclasses have no defaults, and tests/test_recipes.py checks the files against the headers of the
shipped weights.
"""

from __future__ import annotations

import dataclasses
import tomllib
import typing
from pathlib import Path
from typing import Any, TypeVar

RECIPES_DIR = Path(__file__).resolve().parent

T = TypeVar("T")


class RecipeError(ValueError):
    """A recipe file that cannot be read, or whose keys or values do not fit its configuration."""


def recipe_path(name: str) -> Path:
    """The shipped recipe file called ``name`` ("expclip-stage1", "expclip-stage2", "generator")."""
    return RECIPES_DIR / f"{name}.toml"


def recipe_values(name: str) -> dict[str, Any]:
    """The ``[config]`` table of the shipped recipe ``name``, as written in its file."""
    return dict(_read(recipe_path(name))["config"])


def recipe_name(path: Path) -> str:
    """What the recipe file at ``path`` configures (its ``recipe`` key)."""
    return str(_read(path).get("recipe", ""))


def _read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RecipeError(f"recipe '{path}' cannot be read: {exc}") from None


def _checked(path: Path, key: str, value: Any, kind: Any) -> Any:
    """``value`` as the field's type; ints are accepted where a float is wanted, nothing else converts."""
    if kind is float and type(value) is int:
        return float(value)
    if type(value) is not kind:
        raise RecipeError(
            f"recipe '{path}': '{key}' must be {kind.__name__}, not {type(value).__name__} ({value!r})"
        )
    return value


def config_from_dict(path: Path, values: dict[str, Any], cls: type[T]) -> T:
    """``cls`` built from ``values``: every field present, no other key, each of its field's type."""
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
    for key in values:
        if key not in hints:
            raise RecipeError(f"recipe '{path}': unknown key '{key}' (known: {', '.join(names)})")
    missing = [n for n in names if n not in values]
    if missing:
        raise RecipeError(f"recipe '{path}': missing {', '.join(repr(n) for n in missing)}")
    return cls(**{n: _checked(path, n, values[n], hints[n]) for n in names})


def load_recipe(path: Path, kinds: dict[str, type[T]]) -> tuple[str, T]:
    """The recipe at ``path`` as (its name, its configuration); ``kinds`` maps the recipe names the caller
    accepts to their configuration dataclasses."""
    data = _read(path)
    for key in data:
        if key not in ("recipe", "config"):
            raise RecipeError(f"recipe '{path}': unknown key '{key}' (a recipe holds 'recipe' and [config])")
    name = data.get("recipe")
    if name not in kinds:
        raise RecipeError(
            f"recipe '{path}' is {name!r}; this command takes {', '.join(repr(k) for k in kinds)}"
        )
    if not isinstance(data.get("config"), dict):
        raise RecipeError(f"recipe '{path}' has no [config] table")
    return name, config_from_dict(path, data["config"], kinds[name])
