"""Which weight files a model is loaded from: a custom folder's, else the ones bundled in the package.

This is the one place that decides; ``load()``, the add-on preferences' Check and the batch command all
ask it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .model_files import ModelFileError

__all__ = [
    "EXPCLIP_FILE",
    "GENERATOR_FILE",
    "MODELS_DIR",
    "TEXT_ENCODER_FILE",
    "WeightsCheck",
    "check_models_dir",
    "model_path",
]

MODELS_DIR = Path(__file__).resolve().parent / "models"  # the bundled weights, with their model cards
EXPCLIP_FILE = "expclip.safetensors"
GENERATOR_FILE = "generator.safetensors"
#: Fine-tuned top layers of the sentence encoder, used by ExpCLIP heads that name them in their header.
TEXT_ENCODER_FILE = "text_encoder.safetensors"
# Formats that unpickle (and so can run code) when loaded: recognised to say why they are not used.
PICKLE_SUFFIXES = (".pt", ".pth", ".bin", ".ckpt", ".pkl", ".pickle")


def model_path(models_dir: str | Path | None, name: str) -> Path:
    """``models_dir/name`` when that folder has it, else the bundled file."""
    if models_dir is not None:
        folder = Path(models_dir)
        if folder.is_file():
            raise ModelFileError(
                f"The model folder '{folder}' is a file: choose the folder that holds it (models_dir is a "
                f"folder of {EXPCLIP_FILE} and/or {GENERATOR_FILE})"
            )
        if not folder.is_dir():
            raise ModelFileError(
                f"The model folder '{folder}' does not exist: choose a folder of .safetensors files"
            )
        if (folder / name).exists():
            return folder / name
    return MODELS_DIR / name


@dataclass(frozen=True)
class WeightsCheck:
    """The result of checking a custom weights folder: ok, and one line per finding."""

    ok: bool
    lines: tuple[str, ...]

    @property
    def message(self) -> str:
        return " ".join(self.lines)


def _check_expclip(path: Path) -> str:
    from .expclip import load_heads
    from .text_encoder import load_text_encoder

    heads = load_heads(path)
    # The text encoder they were trained with: the folder's fine-tuned layers, else the bundled ones.
    load_text_encoder(heads.metadata, model_path(path.parent, TEXT_ENCODER_FILE))
    return f"{path.name} fits (style dimension {heads.style_dim})"


def _check_text_encoder(path: Path) -> str:
    from .expclip import load_heads
    from .text_encoder import HEADS_FIELD, MiniLMEncoder, load_text_encoder

    heads = load_heads(model_path(path.parent, EXPCLIP_FILE))
    if not heads.metadata.get(HEADS_FIELD):
        MiniLMEncoder(overlay=path)  # checked all the same
        return f"{path.name} fits, but the ExpCLIP weights in use do not use it (they take the base encoder)"
    load_text_encoder(heads.metadata, path)
    return f"{path.name} fits"


def _check_generator(path: Path) -> str:
    from .generator import load_generator  # imports torch: only when a generator file is checked

    load_generator(path, device="cpu")  # shapes are what matter here; the bake picks the device
    return f"{path.name} fits"


def _empty_folder_check(folder: Path) -> WeightsCheck:
    try:
        pickles = sorted(p.name for p in folder.iterdir() if p.suffix.lower() in PICKLE_SUFFIXES)
    except OSError as exc:
        return WeightsCheck(False, (f"Custom weights folder '{folder}' cannot be read: {exc}",))
    if pickles:
        return WeightsCheck(
            False,
            (
                f"Custom weights folder '{folder}' holds {', '.join(pickles)}, but only .safetensors "
                "files are loaded (pickle files can run code). Convert them with safetensors' save_file "
                f"and name them {EXPCLIP_FILE} / {GENERATOR_FILE}.",
            ),
        )
    return WeightsCheck(
        False,
        (
            f"Custom weights folder '{folder}' holds neither {EXPCLIP_FILE} nor {GENERATOR_FILE}. "
            "Put the trained files there under these names, or clear the field.",
        ),
    )


def check_models_dir(folder: str | Path | None) -> WeightsCheck:
    """Check a custom weights folder: each model file present must load and fit; pickle files are refused.

    An empty folder setting is fine (the bundled models are used). A model file absent from the folder
    falls back to the bundled one, as ``load(models_dir=...)`` does.
    """
    if not folder or not str(folder).strip():
        return WeightsCheck(True, ("No custom weights folder: the bundled models are used.",))
    folder = Path(folder)
    if not folder.exists():
        return WeightsCheck(
            False,
            (
                f"Custom weights folder '{folder}' does not exist. Choose a folder holding "
                f"{EXPCLIP_FILE} and/or {GENERATOR_FILE}, or clear the field to use the bundled models.",
            ),
        )
    if not folder.is_dir():
        return WeightsCheck(
            False, (f"Custom weights '{folder}' is a file; choose the folder that holds it.",)
        )
    checks = {
        EXPCLIP_FILE: _check_expclip,
        GENERATOR_FILE: _check_generator,
        TEXT_ENCODER_FILE: _check_text_encoder,  # optional: named only when the folder has it
    }
    present = [name for name in checks if (folder / name).is_file()]
    if not present:
        return _empty_folder_check(folder)
    lines, ok = [], True
    for name, check in checks.items():
        if name not in present:
            if name != TEXT_ENCODER_FILE:
                lines.append(f"{name}: not in the folder, the bundled one is used.")
            continue
        try:
            lines.append(check(folder / name) + ".")
        except ModelFileError as exc:
            ok = False
            lines.append(f"{exc}. Use weights trained for this version of ExpCLIP, or remove the file.")
        except Exception as exc:  # e.g. torch missing for the generator: say so instead of failing
            ok = False
            lines.append(f"{name} cannot be loaded: {exc}")
    return WeightsCheck(ok, tuple(lines))
