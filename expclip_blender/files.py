"""Reading small text files that a user points at (jobs files, presets) without ever hanging or filling
memory: only regular files are opened, never a FIFO or device, and never more than a limit is read."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path


class NotARegularFileError(OSError):
    """The path is a pipe, device or socket: opening or reading it could wait forever."""


class FileTooLargeError(OSError):
    """The file is larger than the caller's limit (it was not read whole)."""


def read_regular_file(path: str | Path, max_bytes: int) -> bytes:
    """The bytes of a regular file of at most ``max_bytes``; never blocks on a FIFO and never reads more
    than ``max_bytes + 1`` bytes. OSError subclasses for what is wrong (IsADirectoryError for a folder)."""
    info = os.stat(path)  # follows links, as open() does
    if stat.S_ISDIR(info.st_mode):
        raise IsADirectoryError(f"'{path}' is a folder")
    if not stat.S_ISREG(info.st_mode):
        raise NotARegularFileError(f"'{path}' is not a regular file")
    # O_NONBLOCK: if the path was swapped for a FIFO after the stat, opening it still returns at once.
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise NotARegularFileError(f"'{path}' is not a regular file")
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise FileTooLargeError(f"'{path}' is larger than {max_bytes} bytes")
    return data


def parse_json(text: str) -> object:
    """``json.loads(text)``, with every way a file can fail to parse as a json.JSONDecodeError (which
    callers already turn into their own message): arrays nested too deeply for the parser (RecursionError)
    and integers longer than Python converts (ValueError) included."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise
    except RecursionError:
        raise json.JSONDecodeError("arrays or objects nested too deeply", text, 0) from None
    except ValueError:  # "Exceeds the limit (4300 digits) for integer string conversion"
        raise json.JSONDecodeError("a number with thousands of digits", text, 0) from None
