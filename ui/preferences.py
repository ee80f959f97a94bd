"""Add-on preferences: compute device, the studio preset folder and an optional folder of custom weights.

Nothing heavy runs at register time: whether CUDA is usable is asked of torch the first time the
preferences are drawn, then remembered for the session. Custom weights are safetensors only; the Check
button loads them with the core loaders, which check every tensor's shape and say what does not fit.
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass
from pathlib import Path

import bpy
from bpy.props import EnumProperty, StringProperty

from ..expclip_blender.model_files import ModelFileError
from ..expclip_blender.presets import STUDIO, list_presets

# The extension's root package ("bl_ext.user_default.expclip" when installed); this is <root>.ui.preferences.
ADDON_PACKAGE = __package__.rpartition(".")[0]

EXPCLIP_FILE = "expclip.safetensors"
GENERATOR_FILE = "generator.safetensors"
# Formats that unpickle (and so can run code) when loaded: recognised to say why they are not used.
_PICKLE_SUFFIXES = (".pt", ".pth", ".bin", ".ckpt", ".pkl", ".pickle")

_cuda_status: tuple[bool, str] | None = None
_weights_checks: dict[str, WeightsCheck] = {}  # folder -> the last Check result shown in the preferences


def addon_preferences(context: bpy.types.Context | None = None) -> EXPCLIP_AddonPreferences | None:
    """The extension's preferences, or None when it is not enabled as an add-on (e.g. run from source)."""
    context = context if context is not None else bpy.context
    addon = context.preferences.addons.get(ADDON_PACKAGE)
    return getattr(addon, "preferences", None) if addon is not None else None


def cuda_status() -> tuple[bool, str]:
    """(usable, what was found) for CUDA; imports torch on the first call only, then answers from memory."""
    global _cuda_status
    if _cuda_status is None:
        _cuda_status = _detect_cuda()
    return _cuda_status


def _detect_cuda() -> tuple[bool, str]:
    if importlib.util.find_spec("torch") is None:
        return False, "torch is not installed: the generator runs on the CPU"
    try:
        import torch

        if not torch.cuda.is_available():
            return False, f"No CUDA GPU usable by torch {torch.__version__}: the CPU is used"
        return True, f"CUDA GPU: {torch.cuda.get_device_name(0)}"
    except Exception as exc:  # a broken driver or torch build must not break the preferences
        return False, f"CUDA could not be checked ({exc}): the CPU is used"


# --- custom weights ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class WeightsCheck:
    """The result of checking a custom weights folder: ok, and one line per finding."""

    ok: bool
    lines: tuple[str, ...]

    @property
    def message(self) -> str:
        return " ".join(self.lines)


def _load_expclip(path: Path) -> str:
    from ..expclip_blender.expclip import load_heads

    heads = load_heads(path)
    return f"{path.name} fits (style dimension {heads.style_dim})"


def _load_generator(path: Path) -> str:
    from ..expclip_blender.generator import load_generator

    load_generator(path, device="cpu")  # shapes are what matter here; the bake picks the device
    return f"{path.name} fits"


def check_models_dir(folder: str | Path | None) -> WeightsCheck:
    """Check a custom weights folder: each model file present must load and fit; pickle files are refused.

    An empty folder setting is fine (the bundled models are used). A model file absent from the folder
    falls back to the bundled one, as ``expclip_blender.load(models_dir=...)`` does.
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
    loaders = {EXPCLIP_FILE: _load_expclip, GENERATOR_FILE: _load_generator}
    present = [name for name in loaders if (folder / name).is_file()]
    if not present:
        try:
            pickles = sorted(p.name for p in folder.iterdir() if p.suffix.lower() in _PICKLE_SUFFIXES)
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
    lines, ok = [], True
    for name, load in loaders.items():
        path = folder / name
        if name not in present:
            lines.append(f"{name}: not in the folder, the bundled one is used.")
            continue
        try:
            lines.append(load(path) + ".")
        except ModelFileError as exc:
            ok = False
            lines.append(f"{exc}. Use weights trained for this version of ExpCLIP, or remove the file.")
        except Exception as exc:  # e.g. torch missing for the generator: say so instead of failing
            ok = False
            lines.append(f"{name} cannot be loaded: {exc}")
    return WeightsCheck(ok, tuple(lines))


def _model_settings_changed(self, context) -> None:
    """Device or weights folder changed: drop the loaded model so the next bake loads the new one."""
    _weights_checks.clear()
    try:
        cache = importlib.import_module(".operators.model_cache", ADDON_PACKAGE)
    except ModuleNotFoundError as exc:
        if exc.name != f"{ADDON_PACKAGE}.operators.model_cache":
            raise
        return
    clear = getattr(cache, "clear_model_cache", None) or getattr(cache, "clear", None)
    if clear is not None:
        clear()


def _abspath(path: str) -> str:
    return bpy.path.abspath(path.strip()) if path and path.strip() else ""


class EXPCLIP_OT_check_model_weights(bpy.types.Operator):
    """Load the custom weights (safetensors) and check that every tensor fits the model"""

    bl_idname = "expclip.check_model_weights"
    bl_label = "Check Weights"
    bl_options = {"REGISTER", "INTERNAL"}

    folder: StringProperty(
        name="Folder",
        description="Folder to check; empty = the custom weights folder of the preferences",
        subtype="DIR_PATH",
        options={"SKIP_SAVE"},
    )

    def execute(self, context):
        folder = self.folder
        if not folder:
            prefs = addon_preferences(context)
            folder = prefs.custom_models_dir if prefs is not None else ""
        folder = _abspath(folder)
        result = check_models_dir(folder)
        _weights_checks[folder] = result
        if not result.ok:
            self.report({"ERROR"}, result.message)
            return {"CANCELLED"}
        self.report({"INFO"}, result.message)
        return {"FINISHED"}


class EXPCLIP_AddonPreferences(bpy.types.AddonPreferences):
    bl_idname = ADDON_PACKAGE

    device: EnumProperty(
        name="Device",
        description="Where the speech generator runs",
        items=(
            ("AUTO", "Auto", "The CUDA GPU when one is usable, else the CPU"),
            ("CPU", "CPU", "Always the CPU"),
            ("CUDA", "CUDA", "An NVIDIA GPU through CUDA (bakes fail with a message when none is usable)"),
        ),
        default="AUTO",
        update=_model_settings_changed,
    )
    studio_presets_dir: StringProperty(
        name="Studio Presets",
        description="A folder of emotion presets shared by the team (read-only here; listed under Studio)",
        subtype="DIR_PATH",
        default="",
    )
    custom_models_dir: StringProperty(
        name="Custom Weights",
        description=(
            f"Optional folder holding {EXPCLIP_FILE} and/or {GENERATOR_FILE} (safetensors only); "
            "a file absent from it falls back to the bundled one. Empty = the bundled models"
        ),
        subtype="DIR_PATH",
        default="",
        update=_model_settings_changed,
    )

    def draw(self, context):
        layout = self.layout
        layout.use_property_split = True
        layout.use_property_decorate = False

        col = layout.column()
        col.prop(self, "device")
        usable, found = cuda_status()
        col.label(text=found, icon="CHECKMARK" if usable else "INFO")
        if self.device == "CUDA" and not usable:
            col.label(
                text="CUDA is chosen but not usable here: bakes will fail. Choose Auto or CPU.", icon="ERROR"
            )

        layout.separator()
        col = layout.column()
        col.prop(self, "studio_presets_dir")
        studio = _abspath(self.studio_presets_dir)
        if studio:
            listing = list_presets([(STUDIO, studio)])
            for problem in listing.problems:
                col.label(text=f"Studio folder: {problem.reason}", icon="ERROR")
            if not listing.problems:
                usable_count, broken = len(listing.presets()), len(listing.broken())
                note = f"{usable_count} presets" + (
                    f", {broken} unusable (see the preset menu)" if broken else ""
                )
                col.label(text=note, icon="ERROR" if broken else "PRESET")

        layout.separator()
        col = layout.column()
        row = col.row(align=True)
        row.prop(self, "custom_models_dir")
        row.operator(EXPCLIP_OT_check_model_weights.bl_idname, text="Check", icon="CHECKMARK")
        result = _weights_checks.get(_abspath(self.custom_models_dir))
        if result is not None:
            for line in result.lines:
                col.label(text=line, icon="CHECKMARK" if result.ok else "ERROR")


CLASSES = (EXPCLIP_OT_check_model_weights, EXPCLIP_AddonPreferences)
