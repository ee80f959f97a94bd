"""Experiment, not shipped: what unfreezing MiniLM's top layers would buy on the held-out splits.

The design keeps all-MiniLM-L6-v2 frozen and trains a projection on it. The strict held-out split
(unseen words and situations) stays far below its targets with it; fine-tuning MiniLM's top layers is the
obvious way on, and this script measures what it buys. It starts from the heads in ``--models``, trains
MiniLM's top ``--layers`` transformer layers together with the text projection on TEAD's training pairs
with stage 2's loss (InfoNCE against the frozen expression embeddings, 20 x reconstruction through the
frozen decoder) and a draw of its own (emotion weight 4, mirrored weight 0.25, word balance 0.5, no side
choice), and prints the emotion read off the decoded face on both held-out splits after every epoch,
beside the same path with the frozen encoder. The path is the WordNet backoff, the encoder, the
projection and the decoder: the API's emotion-phrase reading is left out on both sides, so its figures
sit a little under the evaluation report's.

The lower layers are run once and their token states kept in memory (float16, about 1 GB for TEAD v2),
so an epoch costs only the top layers: about 9 minutes for one layer on the 2-core development machine.

    .venv/bin/python -m expclip_train.experiments.unfreeze_minilm --layers 1 --epochs 3

What it measured is in docs/experiments.md.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from expclip_blender.facs import emotion_strength, read_emotions
from expclip_blender.lexicon import bundled_lexicon
from expclip_blender.model_folder import MODELS_DIR
from expclip_blender.text_encoder import minilm_dir
from expclip_train.evaluation.expclip_report import INTENSITY_LADDERS
from expclip_train.tead.build import build_tead
from expclip_train.training.expclip import (
    contrastive_loss,
    load_model,
    pair_weights,
    word_balance_weights,
)

ROOT = Path(__file__).resolve().parents[2]

PROBES = ("smug", "smirking", "snooty", "riding the train to work", "lectured by someone who knows nothing")


class TopLayers:
    """MiniLM split in two: the frozen lower layers (run once per text) and the top ``k`` (trained)."""

    def __init__(self, k: int) -> None:
        from tokenizers import Tokenizer
        from transformers import BertModel

        model_dir = minilm_dir()
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(128)
        self.bert = BertModel.from_pretrained(str(model_dir)).eval()
        self.split = len(self.bert.encoder.layer) - k
        self.top = self.bert.encoder.layer[self.split :]

    def ids(self, text: str) -> list[int]:
        return self.tokenizer.encode(text).ids

    @staticmethod
    def pad(seqs: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
        n = max(len(s) for s in seqs)
        ids = torch.zeros(len(seqs), n, dtype=torch.long)
        mask = torch.zeros(len(seqs), n, dtype=torch.long)
        for i, s in enumerate(seqs):
            ids[i, : len(s)] = torch.tensor(s)
            mask[i, : len(s)] = 1
        return ids, mask

    @staticmethod
    def run(h: torch.Tensor, mask: torch.Tensor, layers) -> torch.Tensor:
        additive = (1.0 - mask[:, None, None, :].float()) * -1e4
        for layer in layers:
            out = layer(h, attention_mask=additive)
            h = out[0] if isinstance(out, tuple) else out
        return h

    @staticmethod
    def pool(h: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Mean pooling over the tokens, L2-normalised (as the shipped encoder)."""
        m = mask[..., None].float()
        return nn.functional.normalize((h * m).sum(1) / m.sum(1), dim=-1)

    @torch.no_grad()
    def lower(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        h = self.bert.embeddings(input_ids=ids, token_type_ids=torch.zeros_like(ids))
        return self.run(h, mask, self.bert.encoder.layer[: self.split])

    @torch.no_grad()
    def encode(self, texts: list[str], batch_size: int = 128) -> torch.Tensor:
        out = []
        for i in range(0, len(texts), batch_size):
            ids, mask = self.pad([self.ids(t) for t in texts[i : i + batch_size]])
            out.append(self.pool(self.run(self.lower(ids, mask), mask, self.top), mask))
        return torch.cat(out)


def evaluation_sets(tead, lexicon) -> dict[str, tuple[list[str], list[str]]]:
    """Held-out descriptions with an emotion class, as the API reads them (WordNet backoff applied)."""
    sets = {}
    for split in ("heldout", "heldout_phrasing"):
        for kind in ("emotion_word", "situation", "physical"):
            rows, texts = tead.select(split, [kind])
            keep = [i for i, e in enumerate(rows) if tead.emotions[e] is not None]
            if keep:
                sets[f"{split}/{kind}"] = (
                    [lexicon.expand(texts[i]) for i in keep],
                    [tead.emotions[rows[i]] for i in keep],
                )
    return sets


@torch.no_grad()
def evaluate(encoder: TopLayers, heads, sets, lexicon) -> dict:
    """Accuracy of the emotion read off the decoded face per set, the intensity ladders, a few prompts."""

    def faces(texts):
        return heads.decode(heads.embed_text(encoder.encode(texts))).numpy()

    result: dict = {}
    for name, (texts, truth) in sets.items():
        read = read_emotions(faces(texts))
        result[name] = round(float(np.mean([a == b for a, b in zip(read, truth, strict=True)])), 3)
    ladders = {}
    for emotion, prompts in INTENSITY_LADDERS.items():
        strengths = [float(emotion_strength(f, emotion)) for f in faces([lexicon.expand(p) for p in prompts])]
        ladders[emotion] = [round(s, 3) for s in strengths]
    result["ladders_ordered"] = sum(s[0] < s[1] < s[2] for s in ladders.values())
    result["ladders"] = ladders
    result["prompts"] = dict(
        zip(PROBES, read_emotions(faces([lexicon.expand(p) for p in PROBES])), strict=True)
    )
    return result


def _build_parser() -> argparse.ArgumentParser:
    """The experiment's options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--layers", type=int, default=1, help="top MiniLM layers to train (1..6)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--lr-encoder", type=float, default=5e-5)
    parser.add_argument("--lr-projection", type=float, default=3e-4)
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--models", type=Path, default=MODELS_DIR, help="folder with expclip.safetensors")
    return parser


class TokenStates:
    """The frozen lower layers' token states of a list of texts, run once and kept (float16), one after
    another: text ``j``'s are ``states[offsets[j] : offsets[j + 1]]``."""

    def __init__(self, encoder: TopLayers, texts: list[str]) -> None:
        token_ids = [encoder.ids(t) for t in texts]
        self.lengths = np.array([len(s) for s in token_ids])
        self.offsets = np.concatenate([[0], np.cumsum(self.lengths)])
        self.states = torch.zeros(int(self.offsets[-1]), encoder.bert.config.hidden_size, dtype=torch.float16)
        by_length = np.argsort(self.lengths, kind="stable")  # little padding per batch
        for i in range(0, len(by_length), 256):
            batch = by_length[i : i + 256]
            ids, mask = encoder.pad([token_ids[j] for j in batch])
            h = encoder.lower(ids, mask)
            for r, j in enumerate(batch):
                self.states[self.offsets[j] : self.offsets[j + 1]] = h[r, : self.lengths[j]].half()

    def batch(self, rows: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        """(token states, attention mask) of the texts ``rows``, padded to the longest (float32)."""
        n = int(self.lengths[rows].max())
        h = torch.zeros(len(rows), n, self.states.shape[1])
        mask = torch.zeros(len(rows), n, dtype=torch.long)
        for r, j in enumerate(rows):
            h[r, : self.lengths[j]] = self.states[self.offsets[j] : self.offsets[j + 1]].float()
            mask[r, : self.lengths[j]] = 1
        return h, mask


def _optimiser(encoder: TopLayers, heads, args: argparse.Namespace, steps: int):
    """(AdamW: one learning rate for the top layers, one for the projection; its one-cycle schedule)."""
    opt = torch.optim.AdamW(
        [
            {"params": encoder.top.parameters(), "lr": args.lr_encoder},
            {"params": heads.text_proj.parameters(), "lr": args.lr_projection},
        ],
        weight_decay=1e-4,
    )
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=[args.lr_encoder, args.lr_projection], total_steps=steps * args.epochs, pct_start=0.1
    )
    return opt, sched


def _batch_loss(
    encoder: TopLayers, heads, kept: TokenStates, rows: np.ndarray, x: torch.Tensor, ze: torch.Tensor, scale
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(total, contrastive, reconstruction) loss of texts ``rows`` against faces ``x`` (embedded ``ze``)."""
    h, mask = kept.batch(rows)
    t = encoder.pool(encoder.run(h, mask, encoder.top), mask)
    zt = heads.embed_text(t + 0.05 * torch.randn_like(t))
    loss_c = contrastive_loss(zt, ze, x, scale, 0.02)
    loss_r = nn.functional.mse_loss(heads.decode(zt), x)
    return loss_c + 20.0 * loss_r, loss_c, loss_r


def main(argv: list[str] | None = None) -> int:
    """Train the top layers with the projection and print the held-out figures before and per epoch."""
    args = _build_parser().parse_args(argv)

    torch.set_num_threads(2)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    start = time.time()

    def log(*parts) -> None:
        print(f"[{time.time() - start:6.0f} s]", *parts, flush=True)

    encoder = TopLayers(args.layers)
    heads, _, _ = load_model(args.models / "expclip.safetensors")
    for p in heads.parameters():
        p.requires_grad_(False)
    lexicon = bundled_lexicon()
    tead = build_tead(seed=0)
    sets = evaluation_sets(tead, lexicon)
    log("frozen encoder:", json.dumps(evaluate(encoder, heads, sets, lexicon)))

    expr_rows, texts = tead.train_pairs()
    unique = sorted(set(texts))
    row_of = {t: i for i, t in enumerate(unique)}
    kept = TokenStates(encoder, unique)
    log(f"kept layer-{encoder.split} token states of {len(unique):,} texts ({len(kept.states):,} tokens)")

    draw = pair_weights(tead, 4.0, 0.25) * word_balance_weights(tead, 0.5)
    draw /= draw.sum()
    pair_text = np.array([row_of[t] for t in texts])
    pair_expr = torch.from_numpy(np.asarray(expr_rows, dtype=np.int64))
    expressions = torch.from_numpy(np.asarray(tead.expressions, dtype=np.float32))
    expr_emb = heads.embed_expression(expressions)
    scale = heads.logit_scale.exp().clamp(max=100.0).detach()
    for p in (*encoder.top.parameters(), *heads.text_proj.parameters()):
        p.requires_grad_(True)
    steps = len(pair_expr) // args.batch_size
    opt, sched = _optimiser(encoder, heads, args, steps)
    for epoch in range(args.epochs):
        encoder.top.train()
        heads.text_proj.train()
        order = rng.choice(len(pair_expr), size=len(pair_expr), p=draw)
        totals = np.zeros(3)
        for step in range(steps):
            batch = order[step * args.batch_size : (step + 1) * args.batch_size]
            x, ze = expressions[pair_expr[batch]], expr_emb[pair_expr[batch]]
            loss, loss_c, loss_r = _batch_loss(encoder, heads, kept, pair_text[batch], x, ze, scale)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            totals += [loss.item(), loss_c.item(), loss_r.item()]
        encoder.top.eval()
        heads.text_proj.eval()
        m = totals / steps
        log(
            f"epoch {epoch + 1}/{args.epochs}: loss {m[0]:.4f} "
            f"(contrastive {m[1]:.4f}, reconstruction {m[2]:.5f})"
        )
        log(
            f"top {args.layers} layer(s) trained, epoch {epoch + 1}:",
            json.dumps(evaluate(encoder, heads, sets, lexicon)),
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
