"""The public inference API: ``load()`` and the model object it returns."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from .arkit import NUM_ARKIT
from .expclip import ExpClipHeads, load_heads
from .text_encoder import MiniLMEncoder

MODELS_DIR = Path(__file__).resolve().parent.parent / "models"
EXPCLIP_FILE = "expclip.safetensors"


class ExpClip:
    """Text and expressions in one style space, and prompts turned into faces.

    Build it with :func:`load`. All outputs are numpy arrays in ARKit order (``ARKIT_NAMES``).
    """

    def __init__(self, heads: ExpClipHeads, text_encoder: MiniLMEncoder, device: str = "auto") -> None:
        self.heads = heads
        self.text_encoder = text_encoder
        self.device = device

    @property
    def style_dim(self) -> int:
        return self.heads.style_dim

    def embed_text(self, prompts: str | list[str]) -> np.ndarray:
        """(N, D) L2-normalised style embeddings of prompts (a single string gives N = 1)."""
        prompts = [prompts] if isinstance(prompts, str) else list(prompts)
        if not prompts:
            return np.zeros((0, self.style_dim), np.float32)
        cleaned = [_clean_prompt(p) for p in prompts]
        return self.heads.project_text(self.text_encoder.encode(cleaned))

    def embed_expression(self, weights: np.ndarray) -> np.ndarray:
        """(N, 52) ARKit weights -> (N, D) style embeddings in the same space as :meth:`embed_text`."""
        weights = np.asarray(weights, np.float32)
        if weights.ndim == 1:
            weights = weights[None]
        return self.heads.encode_expression(weights)

    def decode(self, style: np.ndarray) -> np.ndarray:
        """(N, D) style embeddings -> (N, 52) ARKit weights in [0, 1]."""
        return self.heads.decode(np.atleast_2d(style))

    def expression(self, prompt: str, intensity: float = 1.0) -> np.ndarray:
        """The static face a prompt describes: (52,) ARKit weights in [0, 1].

        ``intensity`` 0 gives the neutral face, 1 the face as prompted, above 1 exaggerates (values are
        clipped to [0, 1]). An empty prompt means neutral.
        """
        if not np.isfinite(intensity) or intensity < 0:
            raise ValueError(f"intensity must be a finite number >= 0, got {intensity}")
        if not _clean_prompt(prompt) or intensity == 0:
            return np.zeros(NUM_ARKIT, np.float32)
        face = self.heads.decode(self.embed_text(prompt))[0]
        return np.clip(face * np.float32(intensity), 0.0, 1.0).astype(np.float32)


def _clean_prompt(prompt: object) -> str:
    if prompt is None:
        return ""
    if not isinstance(prompt, str):
        raise TypeError(f"a prompt must be text, got {type(prompt).__name__}")
    return " ".join(prompt.split())


def resolve_device(device: str = "auto") -> str:
    """ "auto" -> "cuda" when torch is installed with CUDA and a GPU is usable, else "cpu"."""
    if device not in ("auto", "cpu", "cuda"):
        raise ValueError(f"device must be 'auto', 'cpu' or 'cuda', got {device!r}")
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


def load(device: str = "auto", models_dir: str | Path | None = None) -> ExpClip:
    """Load the bundled trained models (``models/``); nothing is downloaded.

    ExpCLIP itself runs in numpy (a prompt is one short sentence; this keeps ``load()`` and
    ``expression()`` fast and torch-free); ``device`` ("auto", "cpu" or "cuda") is for the generator and is
    resolved when the generator first runs.
    """
    if device not in ("auto", "cpu", "cuda"):
        raise ValueError(f"device must be 'auto', 'cpu' or 'cuda', got {device!r}")
    models_dir = Path(models_dir) if models_dir is not None else MODELS_DIR
    heads = load_heads(models_dir / EXPCLIP_FILE)
    encoder = MiniLMEncoder()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        encoder.encode(["warm up"])  # first call imports scipy.special; pay it here, not on the first prompt
    return ExpClip(heads, encoder, device=device)
