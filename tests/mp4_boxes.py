"""A small reader of MP4 (ISO BMFF) boxes: the movie's duration and each track's kind, codec and duration.

Enough to check a rendered video without ffprobe: ``moov/mvhd`` (movie timescale and duration) and per
track ``mdia/mdhd`` (its timescale and duration), ``mdia/hdlr`` (handler: 'vide', 'soun') and the first
sample entry of ``mdia/minf/stbl/stsd`` (the codec's fourcc: 'avc1', 'mp4a').
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

_CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl"}


@dataclass(frozen=True)
class Track:
    handler: str  # 'vide', 'soun', ...
    codec: str  # the sample entry's fourcc: 'avc1', 'mp4a', ...
    duration_s: float


@dataclass(frozen=True)
class Movie:
    duration_s: float
    tracks: list[Track]


def boxes(data: bytes, start: int = 0, end: int | None = None) -> list[tuple[bytes, bytes]]:
    """The ``(type, payload)`` boxes laid end to end in ``data[start:end]``."""
    end = len(data) if end is None else end
    out = []
    pos = start
    while pos + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, pos)
        header = 8
        if size == 1:  # a 64-bit size follows the type
            (size,) = struct.unpack_from(">Q", data, pos + 8)
            header = 16
        elif size == 0:  # the box runs to the end
            size = end - pos
        if size < header or pos + size > end:
            raise ValueError(f"box {kind!r} at {pos} has a bad size {size}")
        out.append((kind, data[pos + header : pos + size]))
        pos += size
    return out


def _find(payload: bytes, path: list[bytes]) -> bytes | None:
    for kind, inner in boxes(payload):
        if kind == path[0]:
            return inner if len(path) == 1 else _find(inner, path[1:])
    return None


def _timed_duration(header: bytes) -> float:
    """Duration in seconds from an mvhd or mdhd payload (version 0 or 1)."""
    if header[0] == 1:
        timescale, duration = struct.unpack_from(">IQ", header, 20)
    else:
        timescale, duration = struct.unpack_from(">II", header, 12)
    return duration / timescale


def read_movie(path: str | Path) -> Movie:
    """The movie's duration and tracks (ValueError for a file without a readable ``moov``)."""
    data = Path(path).read_bytes()
    moov = _find(data, [b"moov"])
    mvhd = moov and _find(moov, [b"mvhd"])
    if not mvhd:
        raise ValueError(f"{path}: no moov/mvhd box")
    tracks = []
    for kind, trak in boxes(moov):
        if kind != b"trak":
            continue
        mdhd, hdlr = _find(trak, [b"mdia", b"mdhd"]), _find(trak, [b"mdia", b"hdlr"])
        stsd = _find(trak, [b"mdia", b"minf", b"stbl", b"stsd"])
        if mdhd is None or hdlr is None or stsd is None:
            raise ValueError(f"{path}: a track lacks mdhd, hdlr or stsd")
        codec = boxes(stsd, 8)[0][0] if struct.unpack_from(">I", stsd, 4)[0] else b"????"
        tracks.append(Track(hdlr[8:12].decode("latin-1"), codec.decode("latin-1"), _timed_duration(mdhd)))
    return Movie(_timed_duration(mvhd), tracks)
