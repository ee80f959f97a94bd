"""Mapping ARKit channels onto a rig's shape keys.

Two ways in:

* **Name matching** (no configuration): a rig's shape-key names are normalised and matched against the 52
  ARKit names whatever the spelling: ``eyeBlinkLeft``, ``eyeBlink_L``, ``EyeBlink_Left``,
  ``eyeBlinkLeft.001``, ``Face.eyeBlinkLeft``; left/right halves of ``browInnerUp`` and ``cheekPuff``
  (``browInnerUp_L``) both follow the single ARKit channel.
* **JSON mapping presets** for custom rigs: each shape key takes one ARKit channel or a weighted mix of
  them, with a gain and an offset::

      {
        "name": "My rig",
        "auto_match": true,
        "channels": {
          "Blink_L": "eyeBlinkLeft",
          "Smile": {"source": {"mouthSmileLeft": 0.5, "mouthSmileRight": 0.5}, "gain": 1.2},
          "JawDrop": {"source": "jawOpen", "gain": 0.8, "offset": 0.0}
        }
      }

Nothing is guessed silently: every shape key that is not driven and every ARKit channel that drives
nothing is reported by name in a :class:`MatchReport`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .arkit import ARKIT_INDEX, ARKIT_NAMES, NUM_ARKIT, SPLIT_CHANNELS
from .files import FileTooLargeError, NotARegularFileError, parse_json, read_regular_file
from .limits import is_finite_number

# Shape keys that are the rest shape, never a channel.
_REFERENCE_NAMES = {"basis", "base", "neutral", "reference", "rest"}
_NUMERIC_SUFFIX = re.compile(r"\.\d+$")
_SEPARATORS = re.compile(r"[\s_\-.]+")
_SIDE_SUFFIX = re.compile(r"^(?P<stem>.*?)[\s_\-.]*(?P<side>left|right|l|r)$", re.IGNORECASE)

_CANONICAL: dict[str, str] = {n.lower(): n for n in ARKIT_NAMES}
_SPLIT: dict[str, str] = {n.lower(): n for n in SPLIT_CHANNELS}

MAX_MAPPING_BYTES = 1 << 20  # a mapping of every ARKit channel is a few kB


class MappingError(ValueError):
    """A mapping preset that cannot be used; the message says which entry and why."""


@dataclass(frozen=True)
class Channel:
    """One driven shape key: ``value = offset + gain * sum(weight * arkit[source])``."""

    shape_key: str
    sources: tuple[tuple[str, float], ...]
    gain: float = 1.0
    offset: float = 0.0
    how: str = "name"  # "name" (exact or normalised spelling), "split" (half of a split channel), "preset"


@dataclass
class MatchReport:
    """What a mapping drives and, by name, what it leaves alone."""

    channels: list[Channel]
    unmatched_keys: list[str] = field(default_factory=list)  # shape keys that nothing drives
    duplicate_keys: dict[str, str] = field(default_factory=dict)  # skipped key -> key driven instead
    missing_arkit: list[str] = field(default_factory=list)  # ARKit names that drive nothing

    @property
    def driven_arkit(self) -> list[str]:
        used = {name for ch in self.channels for name, _ in ch.sources}
        return [n for n in ARKIT_NAMES if n in used]

    def summary(self) -> str:
        """One line an animator can read: how many of the 52 channels this mesh receives."""
        text = f"{len(self.driven_arkit)}/{NUM_ARKIT} ARKit channels -> {len(self.channels)} shape keys"
        if self.missing_arkit:
            text += f"; missing: {', '.join(self.missing_arkit[:8])}"
            if len(self.missing_arkit) > 8:
                text += f" (+{len(self.missing_arkit) - 8} more)"
        return text


def normalize_key_name(name: str) -> str:
    """Strip what rigs add around a channel name: ``.001`` copies, ``Face.``/``ns:``/``a|b`` prefixes."""
    name = _NUMERIC_SUFFIX.sub("", name.strip())
    for sep in ("|", ":"):
        name = name.rsplit(sep, 1)[-1]
    # A dotted prefix ("Face.eyeBlinkLeft"), but not a dotted side suffix ("eyeBlink.L").
    if "." in name:
        head, tail = name.rsplit(".", 1)
        if tail.lower() not in ("l", "r", "left", "right"):
            name = tail
        else:
            name = head.rsplit(".", 1)[-1] + "." + tail
    return name


def match_arkit_name(name: str) -> tuple[str, str] | None:
    """The ARKit channel a shape-key name stands for, and how it matched ("name" or "split").

    Returns None when the name is not an ARKit channel in any known spelling.
    """
    core = normalize_key_name(name)
    flat = _SEPARATORS.sub("", core).lower()
    if flat in _CANONICAL:
        return _CANONICAL[flat], "name"
    side = _SIDE_SUFFIX.match(core)
    if side:
        stem = _SEPARATORS.sub("", side["stem"]).lower()
        word = "left" if side["side"].lower() in ("l", "left") else "right"
        if stem + word in _CANONICAL:
            return _CANONICAL[stem + word], "name"
        if stem in _SPLIT:
            return _SPLIT[stem], "split"
    return None


def _spelling_rank(key: str, arkit: str) -> tuple[int, int]:
    """Lower is better: Apple's exact spelling first, then no ``.001`` suffix, then shorter names."""
    return (0 if key == arkit else 1 if not _NUMERIC_SUFFIX.search(key) else 2, len(key))


def auto_match(shape_keys: Iterable[str]) -> MatchReport:
    """Match a mesh's shape-key names to ARKit channels by spelling alone."""
    keys = [k for k in shape_keys if k.strip().lower() not in _REFERENCE_NAMES]
    found: dict[tuple[str, str], list[str]] = {}  # (arkit, side-of-split or "") -> candidate keys
    how: dict[str, str] = {}
    unmatched: list[str] = []
    for key in keys:
        hit = match_arkit_name(key)
        if hit is None:
            unmatched.append(key)
            continue
        arkit, kind = hit
        slot = "" if kind == "name" else _split_side(key)
        found.setdefault((arkit, slot), []).append(key)
        how[key] = kind
    channels: list[Channel] = []
    duplicates: dict[str, str] = {}
    for (arkit, _slot), candidates in found.items():
        best, *others = sorted(candidates, key=lambda k: _spelling_rank(k, arkit))
        channels.append(Channel(best, ((arkit, 1.0),), how=how[best]))
        duplicates.update({other: best for other in others})
    channels.sort(key=lambda ch: (ARKIT_INDEX[ch.sources[0][0]], ch.shape_key))
    return _report(channels, keys, duplicates)


def _split_side(key: str) -> str:
    side = _SIDE_SUFFIX.match(normalize_key_name(key))
    return side["side"][0].lower() if side else ""


def _report(channels: list[Channel], keys: Sequence[str], duplicates: dict[str, str]) -> MatchReport:
    driven = {ch.shape_key for ch in channels}
    used = {name for ch in channels for name, _ in ch.sources}
    return MatchReport(
        channels=channels,
        unmatched_keys=[k for k in keys if k not in driven and k not in duplicates],
        duplicate_keys=duplicates,
        missing_arkit=[n for n in ARKIT_NAMES if n not in used],
    )


# --- JSON presets ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class MappingPreset:
    """A rig mapping read from JSON: explicit channels, optionally on top of name matching."""

    name: str
    channels: tuple[Channel, ...]
    auto_match: bool = True

    def resolve(self, shape_keys: Iterable[str]) -> MatchReport:
        """Apply the preset to a mesh's shape keys; keys named in the preset but absent are errors."""
        keys = [k for k in shape_keys if k.strip().lower() not in _REFERENCE_NAMES]
        present = set(keys)
        absent = [ch.shape_key for ch in self.channels if ch.shape_key not in present]
        if absent:
            raise MappingError(
                f"Mapping preset {self.name!r} drives shape keys this mesh does not have: "
                f"{', '.join(absent)}. Choose the preset made for this rig, or edit the preset."
            )
        explicit = {ch.shape_key for ch in self.channels}
        channels = list(self.channels)
        duplicates: dict[str, str] = {}
        if self.auto_match:
            auto = auto_match(k for k in keys if k not in explicit)
            channels += auto.channels
            duplicates = auto.duplicate_keys
        return _report(channels, keys, duplicates)

    def to_dict(self) -> dict:
        out: dict[str, dict] = {}
        for ch in self.channels:
            src: str | dict[str, float]
            src = ch.sources[0][0] if len(ch.sources) == 1 and ch.sources[0][1] == 1.0 else dict(ch.sources)
            out[ch.shape_key] = {"source": src, "gain": ch.gain, "offset": ch.offset}
        return {"name": self.name, "auto_match": self.auto_match, "channels": out}


def _parse_channel(key: str, spec: object, where: str) -> Channel:
    if isinstance(spec, str):
        spec = {"source": spec}
    if not isinstance(spec, Mapping):
        raise MappingError(f"{where}: channel {key!r} must be an ARKit name or an object with 'source'")
    unknown = set(spec) - {"source", "gain", "offset"}
    if unknown:
        raise MappingError(f"{where}: channel {key!r} has unknown fields {sorted(unknown)}")
    source = spec.get("source")
    if isinstance(source, str):
        mix = {source: 1.0}
    elif isinstance(source, Mapping) and source:
        mix = dict(source)
    else:
        raise MappingError(f"{where}: channel {key!r} needs 'source': an ARKit name or {{name: weight}}")
    for name, weight in mix.items():
        if name not in ARKIT_INDEX:
            hint = match_arkit_name(str(name))
            tip = f" (did you mean {hint[0]!r}?)" if hint else ""
            raise MappingError(f"{where}: channel {key!r}: {name!r} is not an ARKit name{tip}")
        if not is_finite_number(weight):
            raise MappingError(f"{where}: channel {key!r}: weight of {name!r} must be a number")
    gain, offset = spec.get("gain", 1.0), spec.get("offset", 0.0)
    for label, value in (("gain", gain), ("offset", offset)):
        if not is_finite_number(value):
            raise MappingError(f"{where}: channel {key!r}: {label} must be a finite number")
    sources = tuple((n, float(w)) for n, w in mix.items())
    return Channel(key, sources, float(gain), float(offset), how="preset")


def preset_from_dict(data: object, where: str = "mapping preset") -> MappingPreset:
    """Validate and build a mapping preset from parsed JSON."""
    if not isinstance(data, Mapping):
        raise MappingError(f"{where}: the top level must be a JSON object with a 'channels' object")
    channels = data.get("channels", {})
    if not isinstance(channels, Mapping):
        raise MappingError(f"{where}: 'channels' must be an object of shape key -> ARKit source")
    auto = data.get("auto_match", True)
    if not isinstance(auto, bool):
        raise MappingError(f"{where}: 'auto_match' must be true or false")
    parsed = tuple(_parse_channel(str(k), v, where) for k, v in channels.items())
    return MappingPreset(name=str(data.get("name", where)), channels=parsed, auto_match=auto)


def load_mapping_preset(path: str | Path) -> MappingPreset:
    """Read a JSON mapping preset; errors name the file and the faulty entry."""
    path = Path(path)
    try:
        # Only a regular file, and never more than the limit: a FIFO named *.json would block the bake.
        data = parse_json(read_regular_file(path, MAX_MAPPING_BYTES).decode("utf-8"))
    except FileNotFoundError:
        raise MappingError(f"Mapping preset '{path}' does not exist") from None
    except IsADirectoryError:
        raise MappingError(f"Mapping preset '{path}' is a folder: choose the .json file in it") from None
    except NotARegularFileError:
        raise MappingError(
            f"Mapping preset '{path}' is not a regular file (a pipe, device or socket): choose a .json file"
        ) from None
    except FileTooLargeError:
        raise MappingError(
            f"Mapping preset '{path}' is larger than {MAX_MAPPING_BYTES} bytes: not a mapping preset?"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise MappingError(f"Mapping preset '{path}' cannot be read: {exc}") from None
    except json.JSONDecodeError as exc:
        raise MappingError(
            f"Mapping preset '{path}' is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    return preset_from_dict(data, where=f"Mapping preset '{path}'")


def save_mapping_preset(preset: MappingPreset, path: str | Path) -> None:
    """Write a mapping preset as indented JSON."""
    Path(path).write_text(json.dumps(preset.to_dict(), indent=2) + "\n", encoding="utf-8")


# --- applying a mapping ---------------------------------------------------------------------------


def mapping_matrix(channels: Sequence[Channel]) -> tuple[np.ndarray, np.ndarray]:
    """(52, K) mixing matrix and (K,) offsets so that ``values = weights @ M + offsets``."""
    matrix = np.zeros((NUM_ARKIT, len(channels)), dtype=np.float32)
    offsets = np.zeros(len(channels), dtype=np.float32)
    for k, ch in enumerate(channels):
        for name, weight in ch.sources:
            matrix[ARKIT_INDEX[name], k] += weight * ch.gain
        offsets[k] = ch.offset
    return matrix, offsets


def apply_mapping(weights: np.ndarray, channels: Sequence[Channel]) -> np.ndarray:
    """ARKit weights (frames x 52) -> shape-key values (frames x len(channels)), unclipped."""
    weights = np.asarray(weights, dtype=np.float32)
    if weights.ndim != 2 or weights.shape[1] != NUM_ARKIT:
        raise ValueError(f"weights must be (frames, {NUM_ARKIT}), got {weights.shape}")
    matrix, offsets = mapping_matrix(channels)
    return weights @ matrix + offsets
