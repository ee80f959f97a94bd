"""Where the generator runs: device names, their resolution, and the CUDA probe shown to users.

torch is imported only when a question needs it, so importing this module stays free.
"""

from __future__ import annotations

import importlib.util

__all__ = ["DEVICES", "check_device", "cuda_status", "resolve_device"]

DEVICES = ("auto", "cpu", "cuda")

_cuda_status: tuple[bool, str] | None = None


def check_device(device: str) -> str:
    """``device`` itself when it is one of :data:`DEVICES`, else a ValueError saying what is accepted."""
    if device not in DEVICES:
        raise ValueError(f"device must be 'auto', 'cpu' or 'cuda', got {device!r}")
    return device


def resolve_device(device: str = "auto") -> str:
    """ "auto" -> "cuda" when torch is installed with CUDA and a GPU is usable, else "cpu"."""
    check_device(device)
    if device == "cpu":
        return "cpu"
    try:
        import torch

        available = torch.cuda.is_available()
    except ImportError:
        available = False
    if device == "cuda" and not available:
        raise RuntimeError("device='cuda' was asked for, but no CUDA GPU is usable by this torch build")
    return "cuda" if available else "cpu"


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
