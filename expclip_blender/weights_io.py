"""Reading and writing ARKit weight sequences (frames x 52) as CSV, JSON or NPY.

CSV: a header row of ARKit names (any spelling the name matcher knows, so Live Link Face's
``EyeBlinkLeft`` columns read too; other columns such as ``Timecode`` are ignored), one row per frame.
JSON: ``{"fps": 30.0, "names": [...52 names...], "frames": [[...52 values...], ...]}``.
NPY: a float array (frames, 52) in ARKIT_NAMES order.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import secrets
from pathlib import Path

import numpy as np

from .arkit import ARKIT_INDEX, ARKIT_NAMES, NUM_ARKIT
from .files import parse_json
from .limits import is_finite_number
from .mapping import match_arkit_name

FORMATS = (".csv", ".json", ".npy")


class WeightsFileError(ValueError):
    """A weights file that cannot be used; the message names the file and the problem."""


def save_weights(path: str | Path, weights: np.ndarray, fps: float) -> None:
    """Write ``weights`` (frames x 52) to .csv, .json or .npy, chosen by the file's suffix.

    The file is written beside its destination and renamed into place, so a failed write (a full disk)
    leaves any previous file intact and never a truncated one.
    """
    path = Path(path)
    weights = np.asarray(weights, dtype=np.float32)
    if weights.ndim != 2 or weights.shape[1] != NUM_ARKIT:
        raise ValueError(f"weights must be (frames, {NUM_ARKIT}), got {weights.shape}")
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise WeightsFileError(f"'{path}': unknown format {suffix!r}; use one of {', '.join(FORMATS)}")
    # A fresh name opened with "x" (never another file's) gets the usual permissions, unlike mkstemp's 0600.
    temporary = path.parent / f".{path.name}.{secrets.token_hex(4)}.tmp"
    try:
        with open(temporary, "x", newline="", encoding="utf-8") as out:
            if suffix == ".npy":
                np.save(out.buffer, weights)
            elif suffix == ".json":
                doc = {"fps": float(fps), "names": list(ARKIT_NAMES), "frames": np.round(weights, 5).tolist()}
                out.write(json.dumps(doc))
            else:
                writer = csv.writer(out)
                writer.writerow(["time", *ARKIT_NAMES])
                for i, row in enumerate(weights):
                    writer.writerow([f"{i / fps:.6f}", *(f"{v:.5f}" for v in row)])
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def load_weights(path: str | Path) -> tuple[np.ndarray, float | None]:
    """Read a weights file -> ((frames, 52) float32 in ARKit order, fps if the file records it)."""
    path = Path(path)
    if not path.is_file():
        raise WeightsFileError(f"Weights file '{path}' does not exist")
    suffix = path.suffix.lower()
    try:
        if suffix == ".npy":
            weights, fps = _read_npy(path), None
        elif suffix == ".json":
            doc = _check_json_rows(parse_json(path.read_text(encoding="utf-8")), path)
            weights = _columns_to_arkit(doc["names"], np.asarray(doc["frames"], dtype=np.float32), path)
            fps = _json_fps(doc.get("fps"), path)
        elif suffix == ".csv":
            weights, fps = _read_csv(path)
        else:
            raise WeightsFileError(f"'{path}': unknown format {suffix!r}; use one of {', '.join(FORMATS)}")
    except WeightsFileError:
        raise
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise WeightsFileError(f"Weights file '{path}' cannot be read: {exc}") from None
    weights = np.asarray(weights, dtype=np.float32)
    if weights.ndim != 2 or weights.shape[1] != NUM_ARKIT or len(weights) == 0:
        raise WeightsFileError(f"Weights file '{path}' holds shape {weights.shape}, expected (frames, 52)")
    if not np.all(np.isfinite(weights)):
        frame = int(np.argwhere(~np.isfinite(weights))[0][0])
        raise WeightsFileError(f"Weights file '{path}' contains NaN or infinite values (frame {frame + 1})")
    if fps is not None and not (np.isfinite(fps) and fps > 0):
        raise WeightsFileError(f"Weights file '{path}' records an fps of {fps}; a frame rate must be > 0")
    return weights, fps


def _read_npy(path: Path) -> np.ndarray:
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError, KeyError, TypeError):
        raise
    except Exception:  # a damaged header fails inside numpy's parser (tokenize.TokenError, SyntaxError)
        raise WeightsFileError(
            f"Weights file '{path}' is not a readable .npy file (its header is damaged)"
        ) from None


def _read_csv(path: Path) -> tuple[np.ndarray, float | None]:
    with path.open(newline="", encoding="utf-8") as handle:
        rows = [row for row in csv.reader(handle) if row]
    if len(rows) < 2:
        raise WeightsFileError(f"Weights file '{path}' has no frames (a header row and one row per frame)")
    header, body = rows[0], rows[1:]
    # Only ARKit columns and a "time" column are numeric; others (Live Link Face's Timecode) are skipped.
    wanted = [c for c, name in enumerate(header) if match_arkit_name(name) or name.strip().lower() == "time"]
    table = np.zeros((len(body), len(header)), dtype=np.float64)
    for r, row in enumerate(body):
        if len(row) < len(header):  # a cut-off file (a full disk) or a row missing cells
            raise WeightsFileError(
                f"Weights file '{path}': row {r + 2} has {len(row)} values but the header has "
                f"{len(header)} columns (the file is cut off or damaged): export it again"
            )
        for c in wanted:
            cell = row[c].strip()
            table[r, c] = float(cell) if cell else 0.0
    fps = None
    if header[0].strip().lower() == "time" and len(table) > 1:
        duration = float(table[-1, 0] - table[0, 0])
        fps = _snap_fps((len(table) - 1) / duration) if duration > 0 else None
    return _columns_to_arkit(header, table, path), fps


def _check_json_rows(doc: object, path: Path) -> dict:
    """``doc`` when it is a JSON weights file whose every frame has one value per name (a short frame is
    named)."""
    if not isinstance(doc, dict) or not {"names", "frames"} <= set(doc):
        raise WeightsFileError(
            f"Weights file '{path}': a JSON weights file is an object with 'names' and 'frames'"
        )
    names, frames = doc["names"], doc["frames"]
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise WeightsFileError(f"Weights file '{path}': 'names' must be a list of channel names")
    if not isinstance(frames, list) or not frames:
        raise WeightsFileError(f"Weights file '{path}' has no frames ('frames': a list of lists of numbers)")
    for i, frame in enumerate(frames):
        if not isinstance(frame, list) or len(frame) != len(names):
            count = len(frame) if isinstance(frame, list) else "no"
            raise WeightsFileError(
                f"Weights file '{path}': frame {i + 1} has {count} values for {len(names)} names "
                "(the file is cut off or damaged): export it again"
            )
    return doc


_COMMON_FPS = (23.976, 24.0, 25.0, 29.97, 30.0, 48.0, 50.0, 59.94, 60.0, 120.0)


def _json_fps(value: object, path: Path) -> float | None:
    """The fps a JSON weights file records: None when it records none (null, 0, ""), else a finite number
    (numeric text is read as the number)."""
    if not value:
        return None
    number = value
    if isinstance(value, str):
        with contextlib.suppress(ValueError):  # not a number: reported below as given
            number = float(value)
    if not is_finite_number(number):
        shown = str(value) if len(str(value)) <= 40 else f"{str(value)[:30]}..."
        raise WeightsFileError(f"Weights file '{path}' records an fps of {shown}; a frame rate must be > 0")
    return float(number)  # type: ignore[arg-type]  # a finite Real


def _snap_fps(fps: float) -> float:
    """A frame rate measured from rounded time stamps, snapped to the standard rate it is within 0.05% of."""
    nearest = min(_COMMON_FPS, key=lambda c: abs(c - fps))
    return nearest if abs(nearest - fps) <= 5e-4 * nearest else round(fps, 3)


def _columns_to_arkit(names: list[str], table: np.ndarray, path: Path) -> np.ndarray:
    out = np.zeros((len(table), NUM_ARKIT), dtype=np.float32)
    seen: set[str] = set()
    for column, name in enumerate(names):
        hit = match_arkit_name(str(name))
        if hit is None or hit[1] != "name":
            continue
        out[:, ARKIT_INDEX[hit[0]]] = table[:, column]
        seen.add(hit[0])
    if not seen:
        raise WeightsFileError(f"Weights file '{path}' has no column named after an ARKit blendshape")
    return out
