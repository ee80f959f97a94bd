"""The torch twin of the runtime's numpy MiniLM (``expclip_blender.text_encoder``), for fine-tuning its top
layers.

Same tensor names as the package's ``model.safetensors`` (``encoder.layer.{i}.attention.self.query.weight``
...), so an overlay of trained layers is a plain subset of its state dict. The forward pass is split in two:
:meth:`MiniLMTorch.bottom` (embeddings and the frozen lower layers, run without gradients and cacheable per
text) and :meth:`MiniLMTorch.top` (the trained top layers, mean pooling, L2 normalisation). Both run on
packed real tokens ((tokens, 384), sentence after sentence, as the numpy encoder does); only attention lays
them out padded.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from torch import nn

from expclip_blender.text_encoder import MAX_TOKENS, minilm_dir


class _Dense(nn.Module):
    """``{name}.dense`` (+ ``LayerNorm``): the attention output and the feed-forward output of a layer."""

    def __init__(self, d_in: int, d_out: int, eps: float, norm: bool = True) -> None:
        super().__init__()
        self.dense = nn.Linear(d_in, d_out)
        if norm:
            self.LayerNorm = nn.LayerNorm(d_out, eps=eps)


class _SelfAttention(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.query, self.key, self.value = nn.Linear(dim, dim), nn.Linear(dim, dim), nn.Linear(dim, dim)


class _Attention(nn.Module):
    def __init__(self, dim: int, eps: float) -> None:
        super().__init__()
        self.self = _SelfAttention(dim)
        self.output = _Dense(dim, dim, eps)


class MiniLMLayer(nn.Module):
    """One BERT layer (post-norm, exact GELU), as ``transformers.BertLayer`` computes it."""

    def __init__(self, dim: int, hidden: int, heads: int, eps: float, dropout: float) -> None:
        super().__init__()
        self.heads, self.dropout = heads, dropout
        self.attention = _Attention(dim, eps)
        self.intermediate = _Dense(dim, hidden, eps, norm=False)
        self.output = _Dense(hidden, dim, eps)

    def forward(self, x: torch.Tensor, layout: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        """``x`` (tokens, dim) packed real tokens; ``layout`` = (real (batch, length) bool, additive key
        mask (batch, 1, 1, length))."""
        real, mask = layout
        att = self.attention.self
        batch, length = real.shape
        dim = x.shape[-1]
        head_dim = dim // self.heads
        drop = self.dropout if self.training else 0.0

        def heads_of(t: torch.Tensor) -> torch.Tensor:
            padded = x.new_zeros(batch, length, dim)
            padded[real] = t
            return padded.view(batch, length, self.heads, head_dim).transpose(1, 2)

        q, k, v = heads_of(att.query(x)), heads_of(att.key(x)), heads_of(att.value(x))
        ctx = nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=drop)
        ctx = ctx.transpose(1, 2)[real].reshape(-1, dim)  # back to packed real tokens
        out = self.attention.output
        h = nn.functional.dropout(out.dense(ctx), drop, self.training)
        x = out.LayerNorm(x + h)
        hidden = nn.functional.gelu(self.intermediate.dense(x))
        h = nn.functional.dropout(self.output.dense(hidden), drop, self.training)
        return self.output.LayerNorm(x + h)


class _Embeddings(nn.Module):
    def __init__(self, vocab: int, positions: int, types: int, dim: int, eps: float) -> None:
        super().__init__()
        self.word_embeddings = nn.Embedding(vocab, dim)
        self.position_embeddings = nn.Embedding(positions, dim)
        self.token_type_embeddings = nn.Embedding(types, dim)
        self.LayerNorm = nn.LayerNorm(dim, eps=eps)


class _Encoder(nn.Module):
    def __init__(self, layers: list[MiniLMLayer]) -> None:
        super().__init__()
        self.layer = nn.ModuleList(layers)


def layout(lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(real tokens (batch, length) bool, additive attention mask) of sentences of ``lengths`` tokens."""
    real = torch.arange(int(lengths.max()))[None, :] < lengths[:, None]
    mask = torch.zeros(real.shape, dtype=torch.float32).masked_fill(~real, -1e9)
    return real, mask[:, None, None, :]


class MiniLMTorch(nn.Module):
    """all-MiniLM-L6-v2 in torch; ``trained`` top layers (the rest frozen, in eval mode, no dropout)."""

    def __init__(self, config: dict, trained: int, dropout: float) -> None:
        super().__init__()
        dim, n = int(config["hidden_size"]), int(config["num_hidden_layers"])
        if not 1 <= trained <= n:
            raise ValueError(f"trained layers must be 1..{n}, got {trained}")
        eps = float(config["layer_norm_eps"])
        self.embeddings = _Embeddings(
            int(config["vocab_size"]), int(config["max_position_embeddings"]), int(config["type_vocab_size"]),
            dim, eps,
        )  # fmt: skip
        layers = [
            MiniLMLayer(
                dim, int(config["intermediate_size"]), int(config["num_attention_heads"]), eps, dropout
            )
            for _ in range(n)
        ]
        self.encoder = _Encoder(layers)
        self.first_trained = n - trained

    @classmethod
    def from_package(cls, trained: int, dropout: float, model_dir: Path | None = None) -> MiniLMTorch:
        """The package's weights; the bottom layers and embeddings frozen."""
        from safetensors.torch import load_file

        model_dir = Path(model_dir) if model_dir is not None else minilm_dir()
        config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
        model = cls(config, trained, dropout)
        weights = {
            k.removeprefix("bert."): v for k, v in load_file(str(model_dir / "model.safetensors")).items()
        }
        own = model.state_dict()
        model.load_state_dict({k: weights[k] for k in own}, strict=True)
        for name, p in model.named_parameters():
            p.requires_grad_(name in model.trained_names())
        return model

    def trained_names(self) -> list[str]:
        """State-dict names of the trained top layers (what an overlay file holds)."""
        return [
            f"encoder.layer.{i}.{name}"
            for i in range(self.first_trained, len(self.encoder.layer))
            for name, _ in self.encoder.layer[i].named_parameters()
        ]

    def trained_layers(self) -> list[int]:
        return list(range(self.first_trained, len(self.encoder.layer)))

    def train(self, mode: bool = True) -> MiniLMTorch:
        """Only the trained layers ever use dropout: the frozen part stays as the runtime computes it."""
        super().train(False)
        for i in self.trained_layers():
            self.encoder.layer[i].train(mode)
        return self

    @torch.no_grad()
    def bottom(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Packed ids (tokens,) of sentences of ``lengths`` -> (tokens, dim) after the frozen layers."""
        emb = self.embeddings
        positions = torch.cat([torch.arange(int(n)) for n in lengths])
        x = (
            emb.word_embeddings(ids)
            + emb.position_embeddings(positions)
            + emb.token_type_embeddings.weight[0]
        )
        x = emb.LayerNorm(x)
        lay = layout(lengths)
        for i in range(self.first_trained):
            x = self.encoder.layer[i](x, lay)
        return x

    def top(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """(tokens, dim) after the frozen layers -> (sentences, dim) mean-pooled, L2-normalised."""
        lay = layout(lengths)
        for i in self.trained_layers():
            x = self.encoder.layer[i](x, lay)
        sentence = torch.repeat_interleave(torch.arange(len(lengths)), lengths)
        pooled = torch.zeros(len(lengths), x.shape[-1], dtype=x.dtype).index_add_(0, sentence, x)
        pooled = pooled / lengths[:, None].to(x.dtype)
        return nn.functional.normalize(pooled, dim=-1)

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        return self.top(self.bottom(ids, lengths), lengths)


class Tokens:
    """Every text's token ids, packed (the runtime tokenizer: same ids, same truncation)."""

    def __init__(self, texts: list[str], model_dir: Path | None = None) -> None:
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(Path(model_dir or minilm_dir()) / "tokenizer.json"))
        tokenizer.no_padding()
        tokenizer.enable_truncation(MAX_TOKENS)  # [CLS] ... [SEP] kept, as the runtime cuts
        encoded = tokenizer.encode_batch(texts)
        self.lengths = np.array([len(e.ids) for e in encoded], dtype=np.int64)
        self.offsets = np.concatenate([[0], np.cumsum(self.lengths)])
        self.ids = (
            np.concatenate([np.asarray(e.ids, np.int64) for e in encoded]) if texts else np.zeros(0, np.int64)
        )

    def __len__(self) -> int:
        return len(self.lengths)

    def batch(self, rows: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        """(packed ids, lengths) of the texts ``rows``."""
        ids = np.concatenate([self.ids[self.offsets[r] : self.offsets[r + 1]] for r in rows])
        return torch.from_numpy(ids), torch.from_numpy(self.lengths[rows])
