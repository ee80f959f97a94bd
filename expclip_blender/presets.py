"""Emotion presets: a prompt with its intensity, smoothing, blinks, gaze and optional rig mapping, as JSON.

Presets come from three folders, in rising precedence:

* **built-in**: the set shipped inside the extension (``expclip_blender/presets/``), read-only;
* **studio**: a folder chosen in the preferences and shared by a team, read-only;
* **user**: the animator's own folder, the only one written to (save, delete, import).

A preset in a later folder hides one of the same name (case-insensitive) in an earlier folder, and the
listing says which hides which. Listing never raises: a file that cannot be used is listed with the reason.
A ``*.json`` that is not a regular file (a FIFO, a device) is listed as broken without being opened,
and a file over ``MAX_FILE_BYTES`` is refused after reading no more than that.

A preset file::

    {
      "format": "expclip-preset",
      "version": 1,
      "name": "Furious",
      "prompt": "furious, absolutely livid, shouting through clenched teeth",
      "intensity": 1.3,
      "smoothing": 0.1,
      "blinks": true,
      "gaze": true,
      "gaze_amount": 1.0,
      "mapping": null,
      "description": "Full-on rage for shouted lines."
    }

Only ``prompt`` is required; ``name`` defaults to the file name, the others to the values above
(``gaze``: procedural eye movement, ``gaze_amount`` 0 to 2; presets written before these fields load with
them as above). ``mapping`` is an optional path to a JSON mapping preset (see
:mod:`expclip_blender.mapping`); a relative path is relative to the preset file's folder, so a studio can
keep its rig mappings next to its presets (in a sub-folder: files directly in a preset folder are read as
emotion presets).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from .files import FileTooLargeError, NotARegularFileError, parse_json, read_regular_file
from .limits import GAZE_AMOUNT_RANGE, INTENSITY_RANGE, SMOOTHING_RANGE, check_number

FORMAT = "expclip-preset"
VERSION = 1
BUILTIN_DIR = Path(__file__).resolve().parent / "presets"

BUILTIN, STUDIO, USER = "builtin", "studio", "user"
SOURCES = (BUILTIN, STUDIO, USER)  # rising precedence
SOURCE_LABELS = {BUILTIN: "Built-in", STUDIO: "Studio", USER: "User"}

MAX_NAME_LENGTH = 63  # a menu line; Blender's own data names stop at 63 characters too
MAX_PROMPT_LENGTH = 1000
MAX_FILE_BYTES = 1 << 20  # a preset is a few hundred bytes; anything larger is not one

_FIELDS = (
    "format",
    "version",
    "name",
    "prompt",
    "intensity",
    "smoothing",
    "blinks",
    "gaze",
    "gaze_amount",
    "mapping",
    "description",
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SLUG_DROP = re.compile(r"[^a-z0-9]+")


class PresetError(ValueError):
    """A preset that cannot be read, written or used; the message names the file and the field."""


class PresetExistsError(PresetError):
    """Saving or importing would replace a user preset and no overwrite was asked for."""


class PresetReadOnlyError(PresetError):
    """The preset is built-in or from the studio folder, which are never written to."""


@dataclass(frozen=True)
class Preset:
    """One emotion preset: what the animator would otherwise type and set in the panel."""

    name: str
    prompt: str
    intensity: float = 1.0
    smoothing: float = 0.0
    blinks: bool = True
    mapping: str | None = None  # path of a JSON mapping preset; relative = to the preset file's folder
    description: str = ""
    gaze: bool = True  # after the older fields, so presets made positionally keep their meaning
    gaze_amount: float = 1.0

    def __post_init__(self) -> None:
        # Values made in code are checked (and normalised: stripped name, float numbers) like file values.
        values = _validated(self.to_dict(), where=f"Preset {self.name!r}", default_name=None)
        for key, value in values.items():
            object.__setattr__(self, key, value)

    def to_dict(self) -> dict:
        """The JSON object written to a preset file."""
        data = {
            "format": FORMAT,
            "version": VERSION,
            "name": self.name,
            "prompt": self.prompt,
            "intensity": self.intensity,
            "smoothing": self.smoothing,
            "blinks": self.blinks,
            "gaze": self.gaze,
            "gaze_amount": self.gaze_amount,
            "mapping": self.mapping,
        }
        if self.description:
            data["description"] = self.description
        return data

    def mapping_path(self, base_dir: str | Path | None) -> str | None:
        """The mapping path to use: relative paths resolved against ``base_dir`` (the preset's folder).

        Blender-relative paths (``//rig.json``) and absolute paths are returned unchanged.
        """
        if not self.mapping:
            return None
        if self.mapping.startswith("//") or base_dir is None or Path(self.mapping).is_absolute():
            return self.mapping
        return str((Path(base_dir) / self.mapping).resolve())


def _number(data: Mapping, key: str, default: float, bounds: tuple[float, float], where: str) -> float:
    try:
        return check_number(data.get(key, default), f"field {key!r}", bounds)
    except ValueError as exc:
        raise PresetError(f"{where}: {exc}") from None


def check_name(name: object, where: str = "Preset") -> str:
    """A usable preset name (stripped) or PresetError saying what is wrong with it."""
    if not isinstance(name, str):
        raise PresetError(f"{where}: field 'name' must be text, got {name!r}")
    name = name.strip()
    if not name:
        raise PresetError(f"{where}: the preset name is empty; type a name")
    if len(name) > MAX_NAME_LENGTH:
        raise PresetError(f"{where}: the preset name is longer than {MAX_NAME_LENGTH} characters; shorten it")
    if _CONTROL.search(name):
        raise PresetError(f"{where}: the preset name contains control characters (line breaks, tabs)")
    return name


def preset_from_dict(data: object, where: str = "Preset", default_name: str | None = None) -> Preset:
    """Validate parsed JSON and build a :class:`Preset`; errors name ``where`` and the faulty field."""
    return Preset(**_validated(data, where, default_name))


def _validated(data: object, where: str, default_name: str | None) -> dict:
    """The Preset fields from parsed JSON, checked; PresetError names ``where`` and the field."""
    if not isinstance(data, Mapping):
        raise PresetError(f"{where}: the top level must be a JSON object with at least a 'prompt' field")
    if data.get("format", FORMAT) != FORMAT:
        raise PresetError(f"{where}: field 'format' is {data['format']!r}, not {FORMAT!r}")
    if "channels" in data and "prompt" not in data:
        raise PresetError(
            f"{where}: this is a rig mapping preset, not an emotion preset; keep mapping files in a "
            "sub-folder and point a preset's 'mapping' field at them"
        )
    unknown = sorted(set(data) - set(_FIELDS))
    if unknown:
        raise PresetError(f"{where}: unknown field(s) {unknown}; the fields are {list(_FIELDS)}")
    version = data.get("version", VERSION)
    if isinstance(version, bool) or not isinstance(version, int):
        raise PresetError(f"{where}: field 'version' must be a whole number, got {version!r}")
    if version > VERSION:
        raise PresetError(
            f"{where}: field 'version' is {version}, made by a newer ExpCLIP (this one reads {VERSION}); "
            "update the extension"
        )
    if "prompt" not in data:
        raise PresetError(f"{where}: field 'prompt' is missing (the emotion text, e.g. \"furious\")")
    prompt = data["prompt"]
    if not isinstance(prompt, str):
        raise PresetError(f"{where}: field 'prompt' must be text, got {prompt!r}")
    if len(prompt) > MAX_PROMPT_LENGTH:
        raise PresetError(f"{where}: field 'prompt' is longer than {MAX_PROMPT_LENGTH} characters")
    name = check_name(data.get("name", default_name), where)
    blinks, gaze = data.get("blinks", True), data.get("gaze", True)
    for key, flag in (("blinks", blinks), ("gaze", gaze)):
        if not isinstance(flag, bool):
            raise PresetError(f"{where}: field {key!r} must be true or false, got {flag!r}")
    mapping = data.get("mapping")
    if mapping is not None and (not isinstance(mapping, str) or _CONTROL.search(mapping)):
        raise PresetError(f"{where}: field 'mapping' must be the path of a mapping preset or null")
    description = data.get("description", "")
    if not isinstance(description, str):
        raise PresetError(f"{where}: field 'description' must be text, got {description!r}")
    return dict(
        name=name,
        prompt=prompt,
        intensity=_number(data, "intensity", 1.0, INTENSITY_RANGE, where),
        smoothing=_number(data, "smoothing", 0.0, SMOOTHING_RANGE, where),
        blinks=blinks,
        gaze=gaze,
        gaze_amount=_number(data, "gaze_amount", 1.0, GAZE_AMOUNT_RANGE, where),
        mapping=mapping or None,
        description=description,
    )


def read_preset(path: str | Path) -> Preset:
    """Read and validate a preset file; PresetError names the file and the field."""
    path = Path(path)
    where = f"Preset file '{path}'"
    if path.suffix.lower() != ".json":
        raise PresetError(f"{where}: presets are .json files")
    try:
        # Only a regular file, and never more than the limit: a FIFO named *.json would block the menu.
        text = read_regular_file(path, MAX_FILE_BYTES).decode("utf-8")
    except FileNotFoundError:
        raise PresetError(f"{where} does not exist") from None
    except IsADirectoryError:
        raise PresetError(f"{where} is a folder, not a preset file") from None
    except NotARegularFileError:
        raise PresetError(f"{where} is not a regular file (a pipe, device or socket): remove it") from None
    except FileTooLargeError:
        raise PresetError(
            f"{where}: larger than {MAX_FILE_BYTES} bytes, far too large for a preset (not a preset file?)"
        ) from None
    except UnicodeDecodeError:
        raise PresetError(f"{where} is not UTF-8 text") from None
    except OSError as exc:
        raise PresetError(f"{where} cannot be read: {exc.strerror or exc}") from None
    try:
        data = parse_json(text)
    except json.JSONDecodeError as exc:
        raise PresetError(
            f"{where} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    return preset_from_dict(data, where=where, default_name=path.stem)


def write_preset(preset: Preset, path: str | Path) -> Path:
    """Write a preset as indented JSON, atomically (a failed write leaves any old file intact)."""
    path = Path(path)
    text = json.dumps(preset.to_dict(), indent=2, ensure_ascii=False) + "\n"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".preset-", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise PresetError(f"Preset file '{path}' cannot be written: {exc.strerror or exc}") from None
    return path


def slugify(name: str) -> str:
    """File stem for a preset name: ``"Whispering, Tense!"`` -> ``"whispering-tense"``."""
    slug = _SLUG_DROP.sub("-", name.casefold()).strip("-")
    return slug or "preset"


def name_key(name: str) -> str:
    """Names compare case-insensitively and ignoring surrounding or repeated spaces."""
    return " ".join(name.split()).casefold()


# --- listing ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PresetFile:
    """One file found in a preset folder: its preset, or why it cannot be used."""

    path: Path
    source: str  # BUILTIN, STUDIO or USER
    preset: Preset | None = None
    error: str | None = None

    @property
    def name(self) -> str:
        return self.preset.name if self.preset is not None else self.path.stem

    @property
    def ok(self) -> bool:
        return self.preset is not None

    @property
    def key(self) -> str:
        return name_key(self.name)

    @property
    def source_label(self) -> str:
        return SOURCE_LABELS[self.source]

    def mapping_path(self) -> str | None:
        """The preset's mapping path, resolved against this file's folder."""
        return self.preset.mapping_path(self.path.parent) if self.preset is not None else None


@dataclass(frozen=True)
class FolderProblem:
    """A preset folder that could not be listed (missing network share, not a folder, no permission)."""

    source: str
    path: Path
    reason: str


@dataclass
class PresetListing:
    """Every preset file found, in precedence order, with the winner for each name."""

    files: list[PresetFile] = field(default_factory=list)  # all, lowest precedence first
    problems: list[FolderProblem] = field(default_factory=list)

    def winners(self) -> dict[str, PresetFile]:
        """name key -> the usable file that is in effect for that name."""
        out: dict[str, PresetFile] = {}
        for entry in self.files:
            if entry.ok:
                out[entry.key] = entry  # later (higher precedence) wins
        return out

    def presets(self) -> list[PresetFile]:
        """The presets in effect, sorted by name."""
        return sorted(self.winners().values(), key=lambda e: e.key)

    def by_source(self, source: str) -> list[PresetFile]:
        """Every file of one folder (usable, hidden or broken), sorted by name."""
        return sorted((e for e in self.files if e.source == source), key=lambda e: (e.key, e.path.name))

    def broken(self) -> list[PresetFile]:
        return [e for e in self.files if not e.ok]

    def find(self, name: str) -> PresetFile | None:
        """The preset in effect for ``name``, or None."""
        return self.winners().get(name_key(name))

    def hidden_by(self, entry: PresetFile) -> PresetFile | None:
        """The file that hides ``entry`` (a same-named preset of higher precedence), or None."""
        winner = self.winners().get(entry.key) if entry.ok else None
        return winner if winner is not None and winner is not entry else None

    def hides(self, entry: PresetFile) -> list[PresetFile]:
        """The usable files of lower precedence that ``entry`` hides."""
        if self.hidden_by(entry) is not None or not entry.ok:
            return []
        return [e for e in self.files if e.ok and e.key == entry.key and e is not entry]


def _list_folder(source: str, folder: Path) -> tuple[list[PresetFile], FolderProblem | None]:
    try:
        if not folder.exists():
            return [], FolderProblem(source, folder, "the folder does not exist")
        if not folder.is_dir():
            return [], FolderProblem(source, folder, "this is a file, not a folder")
        paths = sorted(
            p for p in folder.iterdir() if p.suffix.lower() == ".json" and not p.name.startswith(".")
        )
    except OSError as exc:
        return [], FolderProblem(source, folder, f"the folder cannot be read: {exc.strerror or exc}")
    files = []
    for path in paths:
        try:
            files.append(PresetFile(path, source, preset=read_preset(path)))
        except PresetError as exc:
            files.append(PresetFile(path, source, error=_reason(str(exc), path)))
        except Exception as exc:  # listing must never break the panel, whatever the file holds
            files.append(PresetFile(path, source, error=f"cannot be used: {exc}"))
    return files, None


def _reason(message: str, path: Path) -> str:
    """The error without the file prefix (the listing already shows the file)."""
    prefix = f"Preset file '{path}'"
    if message.startswith(prefix):
        message = message[len(prefix) :].lstrip(":").strip()
    return message


def _same_folder(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


def list_presets(folders: Iterable[tuple[str, str | Path | None]]) -> PresetListing:
    """List ``(source, folder)`` pairs given in rising precedence; folders that are None or "" are skipped.

    Never raises: unusable files are listed with ``error``, unreadable folders in ``problems``.
    """
    listing = PresetListing()
    seen: list[Path] = []
    for source, folder in folders:
        if not folder:
            continue
        folder = Path(folder)
        if any(_same_folder(folder, other) for other in seen):
            listing.problems.append(FolderProblem(source, folder, "already listed as another preset folder"))
            continue
        seen.append(folder)
        files, problem = _list_folder(source, folder)
        listing.files.extend(files)
        if problem is not None and source != USER:  # a user folder that does not exist yet is normal
            listing.problems.append(problem)
    return listing


# --- the library: listing plus the write operations (user folder only) ---------------------------


class PresetLibrary:
    """The preset folders of one installation: built-in and studio (read-only) and the user folder."""

    def __init__(
        self,
        user_dir: str | Path,
        studio_dir: str | Path | None = None,
        builtin_dir: str | Path = BUILTIN_DIR,
    ) -> None:
        self.user_dir = Path(user_dir)
        self.studio_dir = Path(studio_dir) if studio_dir else None
        self.builtin_dir = Path(builtin_dir)

    @property
    def folders(self) -> list[tuple[str, Path | None]]:
        return [(BUILTIN, self.builtin_dir), (STUDIO, self.studio_dir), (USER, self.user_dir)]

    def listing(self) -> PresetListing:
        return list_presets(self.folders)

    def get(self, name: str) -> PresetFile:
        """The preset in effect for ``name``; PresetError when there is none or every file of it is broken."""
        listing = self.listing()
        entry = listing.find(name)
        if entry is not None:
            return entry
        broken = [e for e in listing.broken() if name_key(e.name) == name_key(name)]
        if broken:
            e = broken[-1]
            raise PresetError(f"{e.source_label} preset '{e.path}' cannot be used: {e.error}")
        raise PresetError(f"There is no preset named {name!r}; pick one from the preset menu")

    def _user_files(self, name: str) -> list[PresetFile]:
        """User files for ``name`` (usable ones by preset name, broken ones by file name)."""
        files, _ = _list_folder(USER, self.user_dir) if self.user_dir.is_dir() else ([], None)
        return [e for e in files if e.key == name_key(name)]

    def _target(self, preset: Preset, overwrite: bool) -> Path:
        existing = [e for e in self._user_files(preset.name) if e.ok]
        if existing:
            if not overwrite:
                raise PresetExistsError(
                    f"A user preset named {existing[-1].name!r} already exists ('{existing[-1].path}'); "
                    "choose another name or tick Overwrite"
                )
            return existing[-1].path
        stem = slugify(preset.name)
        path = self.user_dir / f"{stem}.json"
        number = 2
        while path.exists():  # a broken or differently named file holds the name: never clobber it
            path = self.user_dir / f"{stem}-{number}.json"
            number += 1
        return path

    def save(self, preset: Preset, overwrite: bool = False) -> Path:
        """Write ``preset`` into the user folder; PresetExistsError when the name is taken and not overwrite.

        A user preset may have the name of a built-in or studio one: it then hides it.
        """
        return write_preset(preset, self._target(preset, overwrite))

    def delete(self, name: str) -> Path:
        """Delete the user preset ``name`` (also a broken user file, by its file name).

        PresetReadOnlyError for a built-in or studio preset; PresetError when there is no such preset.
        """
        files = self._user_files(name)
        if not files:
            others = [e for e in self.listing().files if e.key == name_key(name) and e.source != USER]
            if others:
                e = others[-1]
                raise PresetReadOnlyError(
                    f"{e.name!r} is a {e.source_label.lower()} preset; built-in and studio presets are "
                    "read-only. Save a copy under another name, or ask whoever manages the studio folder"
                )
            raise PresetError(f"There is no user preset named {name!r} to delete")
        path = files[-1].path
        try:
            path.unlink()
        except OSError as exc:
            raise PresetError(f"User preset '{path}' cannot be deleted: {exc.strerror or exc}") from None
        return path

    def import_file(self, source: str | Path, overwrite: bool = False) -> tuple[Preset, Path]:
        """Validate a preset file and copy it into the user folder; returns (preset, new path).

        A relative mapping path is made absolute so that it still points at the same file after the copy.
        """
        source = Path(source)
        if source.is_dir():
            raise PresetError(f"'{source}' is a folder; choose a preset .json file")
        preset = read_preset(source)
        mapping = preset.mapping_path(source.parent)
        if mapping and not mapping.startswith("//") and not Path(mapping).exists():
            mapping = preset.mapping  # keep what the file says; applying it will name the missing file
        preset = replace(preset, mapping=mapping)
        target = self._target(preset, overwrite)
        if _same_folder(source, target):
            raise PresetError(f"'{source}' is already in the user preset folder")
        return preset, write_preset(preset, target)

    def export(self, name: str, destination: str | Path, overwrite: bool = True) -> Path:
        """Write the preset in effect for ``name`` to ``destination`` (a .json file), for sharing."""
        destination = Path(destination)
        if destination.suffix.lower() != ".json":
            raise PresetError(f"Export to '{destination}': preset files end in .json")
        if destination.is_dir():
            raise PresetError(f"Export to '{destination}': this is a folder; type a file name")
        if destination.exists() and not overwrite:
            raise PresetExistsError(f"Export to '{destination}': the file exists; choose another name")
        entry = self.get(name)
        assert entry.preset is not None
        mapping = entry.mapping_path()
        return write_preset(replace(entry.preset, mapping=mapping), destination)


def builtin_presets() -> list[Preset]:
    """The presets shipped with the extension (PresetError if one of them is broken: a packaging bug)."""
    listing = list_presets([(BUILTIN, BUILTIN_DIR)])
    for entry in listing.files:
        if not entry.ok:
            raise PresetError(f"Built-in preset '{entry.path}': {entry.error}")
    return [e.preset for e in listing.presets() if e.preset is not None]
