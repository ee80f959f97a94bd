"""Mapping presets as the panel reads them: parsed once per file version, not on every redraw.

A sidebar redraws on every mouse move over it; reading and parsing the JSON each time would hit the disk
that often. A file is parsed again when its modification time, size or inode changes (the inode too:
the clock that stamps files ticks in milliseconds, and editors save by replacing the file). The bake
reads the file itself (``load_mapping_preset``), so it always uses what is on disk.
"""

from __future__ import annotations

import os
import threading

from ...expclip_blender.mapping import MappingError, MappingPreset, load_mapping_preset

# path -> ((mtime_ns, size, inode), the preset, or the message of the error reading it gave)
_cache: dict[str, tuple[tuple[int, int, int], MappingPreset | str]] = {}
_lock = threading.Lock()
_MAX_ENTRIES = 32  # a few presets per session; the bound only keeps a long session from growing it


def cached_mapping_preset(path: str) -> MappingPreset:
    """The mapping preset at ``path`` (absolute), parsed again only when the file changed.

    Raises MappingError as ``load_mapping_preset`` does; an unreadable file is not read again until it
    changes either.
    """
    try:
        stat = os.stat(path)
    except OSError:
        return load_mapping_preset(path)  # raises the MappingError that says what is wrong
    version = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
    with _lock:
        hit = _cache.get(path)
    if hit is None or hit[0] != version:
        try:
            value: MappingPreset | str = load_mapping_preset(path)
        except MappingError as err:
            value = str(err)
        with _lock:
            if len(_cache) >= _MAX_ENTRIES:
                _cache.clear()
            _cache[path] = (version, value)
        hit = (version, value)
    if isinstance(hit[1], str):
        raise MappingError(hit[1])  # a new exception each time: re-raising one would grow its traceback
    return hit[1]


def clear_mapping_cache() -> None:
    """Forget every parsed mapping preset."""
    with _lock:
        _cache.clear()
