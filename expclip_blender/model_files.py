"""Reading model weight files: safetensors only (loading never executes code), with clear errors."""

from __future__ import annotations

from pathlib import Path


class ModelFileError(ValueError):
    """A weights file that does not fit this model; the message says which file, tensor and why."""


def read_safetensors(path: str | Path, what: str, framework: str = "numpy") -> tuple[dict, dict[str, str]]:
    """(tensors, header metadata) of a .safetensors file; ``what`` names the model in error messages."""
    from safetensors import safe_open

    path = Path(path)
    if path.suffix != ".safetensors":
        raise ModelFileError(f"'{path}': {what} weights must be a .safetensors file (pickle is never loaded)")
    if not path.is_file():
        raise ModelFileError(f"{what} weights '{path}' do not exist")
    try:
        with safe_open(str(path), framework=framework) as handle:
            tensors = {k: handle.get_tensor(k) for k in handle.keys()}  # noqa: SIM118 (not a dict)
            metadata = dict(handle.metadata() or {})
    except Exception as exc:  # safetensors raises its own error types for corrupt headers
        raise ModelFileError(f"{what} weights '{path}' cannot be read: {exc}") from None
    return tensors, metadata
