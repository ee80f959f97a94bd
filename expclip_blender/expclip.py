"""ExpCLIP: text and facial expressions in one style space (inference, numpy only).

Three small MLPs on top of the sentence encoder (see ``text_encoder``):

* ``text_proj``  384 (MiniLM sentence embedding) -> D style embedding, L2-normalised
* ``expr_enc``   52 (ARKit weights) -> D style embedding, L2-normalised
* ``expr_dec``   D -> 52 ARKit weights in [0, 1] (sigmoid)

Weights live in ``expclip_blender/models/expclip.safetensors`` (trained by the workshop's
``expclip_train.training.expclip``, which defines the same layers in torch under the same names).
Loading never executes code.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .arkit import NUM_ARKIT
from .model_files import ModelFileError, read_safetensors

HEADS = ("text_proj", "expr_enc", "expr_dec")
#: The heads the speech generator depends on (it is conditioned on expr_enc and decodes with expr_dec).
EXPRESSION_SIDE = ("expr_enc", "expr_dec")


def _silu(x: np.ndarray) -> np.ndarray:
    return x / (1.0 + np.exp(-x))


def _l2(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)


@dataclass
class Mlp:
    """Linear layers with SiLU between them (torch: ``nn.Sequential(Linear, SiLU, Linear, ...)``)."""

    weights: list[np.ndarray]
    biases: list[np.ndarray]

    def __call__(self, x: np.ndarray) -> np.ndarray:
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            x = x @ w.T + b
            if i < len(self.weights) - 1:
                x = _silu(x)
        return x

    @classmethod
    def from_tensors(cls, tensors: dict[str, np.ndarray], prefix: str) -> Mlp:
        indices = sorted(
            int(k.split(".")[1]) for k in tensors if k.startswith(prefix + ".") and k.endswith(".weight")
        )
        if not indices:
            raise ModelFileError(f"the weights file has no tensors for {prefix!r}")
        weights = [tensors[f"{prefix}.{i}.weight"].astype(np.float32) for i in indices]
        biases = [tensors[f"{prefix}.{i}.bias"].astype(np.float32) for i in indices]
        for i, (w, b) in enumerate(zip(weights, biases, strict=True)):
            if w.ndim != 2 or b.shape != (w.shape[0],):
                raise ModelFileError(f"{prefix} layer {i}: weight {w.shape} and bias {b.shape} do not fit")
            if i and w.shape[1] != weights[i - 1].shape[0]:
                raise ModelFileError(
                    f"{prefix} layer {i} takes {w.shape[1]} inputs, the layer before gives "
                    f"{weights[i - 1].shape[0]}"
                )
        return cls(weights, biases)

    @property
    def in_dim(self) -> int:
        return self.weights[0].shape[1]

    @property
    def out_dim(self) -> int:
        return self.weights[-1].shape[0]


@dataclass
class ExpClipHeads:
    """The trained heads of ExpCLIP and the learned temperature."""

    text_proj: Mlp
    expr_enc: Mlp
    expr_dec: Mlp
    logit_scale: float
    metadata: dict[str, str]

    @property
    def style_dim(self) -> int:
        return self.expr_enc.out_dim

    def project_text(self, sentence_embeddings: np.ndarray) -> np.ndarray:
        """(N, 384) sentence embeddings -> (N, D) L2-normalised style embeddings."""
        return _l2(self.text_proj(np.asarray(sentence_embeddings, np.float32))).astype(np.float32)

    def encode_expression(self, weights: np.ndarray) -> np.ndarray:
        """(N, 52) ARKit weights -> (N, D) L2-normalised style embeddings."""
        weights = np.asarray(weights, np.float32)
        if weights.ndim != 2 or weights.shape[1] != NUM_ARKIT:
            raise ValueError(f"expression weights must be (N, {NUM_ARKIT}), got {weights.shape}")
        return _l2(self.expr_enc(weights)).astype(np.float32)

    def decode(self, style: np.ndarray) -> np.ndarray:
        """(N, D) style embeddings -> (N, 52) ARKit weights in [0, 1]."""
        logits = self.expr_dec(np.asarray(style, np.float32))
        return (1.0 / (1.0 + np.exp(-logits))).astype(np.float32)


def load_heads(path: str | Path, text_dim: int = 384) -> ExpClipHeads:
    """Read ExpCLIP heads from safetensors (no code runs); shapes are checked with clear messages."""
    path = Path(path)
    tensors, metadata = read_safetensors(path, "ExpCLIP")
    # A NaN weight would pass every shape check and then set every shape key to NaN.
    bad = [k for k, v in tensors.items() if np.issubdtype(v.dtype, np.floating) and not np.isfinite(v).all()]
    if bad:
        raise ModelFileError(
            f"ExpCLIP weights '{path}' contain NaN or infinite values in {', '.join(sorted(bad)[:5])}: "
            "the training diverged; use another checkpoint"
        )
    scale = tensors.get("logit_scale")
    try:
        heads = ExpClipHeads(
            text_proj=Mlp.from_tensors(tensors, "text_proj"),
            expr_enc=Mlp.from_tensors(tensors, "expr_enc"),
            expr_dec=Mlp.from_tensors(tensors, "expr_dec"),
            logit_scale=float(np.exp(scale.reshape(-1)[0])) if scale is not None else 1.0,
            metadata=metadata,
        )
    except (ModelFileError, KeyError) as exc:  # KeyError: a layer's bias is missing
        what = f"tensor {exc} is missing" if isinstance(exc, KeyError) else str(exc)
        raise ModelFileError(f"ExpCLIP weights '{path}' do not fit: {what}") from None
    checks = [
        (
            heads.text_proj.in_dim == text_dim,
            f"text_proj takes {heads.text_proj.in_dim} inputs, not {text_dim}",
        ),
        (heads.expr_enc.in_dim == NUM_ARKIT, f"expr_enc takes {heads.expr_enc.in_dim} inputs, not 52"),
        (heads.expr_dec.out_dim == NUM_ARKIT, f"expr_dec gives {heads.expr_dec.out_dim} outputs, not 52"),
        (
            heads.text_proj.out_dim == heads.style_dim == heads.expr_dec.in_dim,
            "text_proj, expr_enc and expr_dec disagree on the style dimension",
        ),
    ]
    for ok, message in checks:
        if not ok:
            raise ModelFileError(f"ExpCLIP weights '{path}' do not fit: {message}")
    return heads


def config_from_metadata(metadata: dict[str, str]) -> dict:
    """The training configuration stored in the safetensors header (JSON), or {}."""
    try:
        return json.loads(metadata.get("config", "{}"))
    except json.JSONDecodeError:
        return {}


def expression_side_sha256(tensors: Mapping[str, np.ndarray]) -> str:
    """SHA-256 over the expression encoder and decoder tensors (names, dtypes, shapes and bytes).

    The speech generator is trained on expression-encoder embeddings, so a weights file whose expression
    side has another digest puts prompts into a space the generator never saw; retraining the text side
    alone (``training.expclip --text-only``) must leave this digest unchanged.
    """
    names = sorted(k for k in tensors if k.split(".", 1)[0] in EXPRESSION_SIDE)
    if not names:
        raise ModelFileError("the weights have no expression encoder or decoder tensors")
    digest = hashlib.sha256()
    for name in names:
        array = np.ascontiguousarray(tensors[name])
        digest.update(f"{name}|{array.dtype.str}|{array.shape}\n".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()
