"""Calling code that might block on a FIFO, with a time limit, so that a test fails instead of hanging."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest

T = TypeVar("T")


def within(seconds: float, call: Callable[[], T], fifo: Path) -> T:
    """``call()``'s result (or its exception), or a test failure after ``seconds``.

    On a timeout the FIFO is opened for writing and closed: the blocked reader sees the end of the file
    and its thread ends, so nothing is left waiting after the test.
    """
    result: list[T] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            result.append(call())
        except BaseException as err:  # handed to the test's thread
            errors.append(err)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        thread.join(5)
        pytest.fail(f"blocked for more than {seconds} s on the FIFO '{fifo}'")
    if errors:
        raise errors[0]
    return result[0]
