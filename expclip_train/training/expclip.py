"""Train ExpCLIP on TEAD: a symmetric InfoNCE loss with learnable temperature, plus reconstruction.

    python -m expclip_train.training.expclip --stage 1 --out build/expclip-stage1.safetensors
    python -m expclip_train.training.expclip --stage 2      # reads the stage-1 weights the recipe names
    python -m expclip_train.training.expclip --recipe FILE [--init STAGE1.safetensors] [--word-balance 0.3]

Stage 3 (the text encoder's top layers with the projection) is its own command:
``python -m expclip_train.training.text_encoder``.

The hyperparameters come from a recipe file (default: the shipped one of the stage, in
``expclip_train/recipes/``); options given on the command line override single fields.

Steps: build TEAD (deterministic from the seed), embed every description once with the frozen MiniLM
(cached under build/), then train the three heads (text projection, expression encoder, expression decoder):

    loss = InfoNCE(text, expression; soft targets) + w_rec * (|dec(enc(x)) - x|^2 + |dec(proj(t)) - x|^2)

Soft targets: a batch often holds several expressions of the same emotion, so the contrastive target of a
text is spread over the batch's expressions in proportion to their similarity to its own expression
(a sharp softmax), instead of pretending they are negatives.

Stage 2 (``--stage 2`` or ``--text-only``): retrain only the text projection, starting from the heads in
the stage-1 weights (the recipe's ``init`` or ``--init``), whose expression encoder, decoder and learned
temperature stay frozen, bit for bit: the speech generator is conditioned on that expression space. The
expression side's SHA-256 is checked after training and recorded in the weights' metadata and the model
card; nothing is saved if it changed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from expclip_blender.arkit import MIRROR_ORDER, NUM_ARKIT
from expclip_blender.expclip import expression_side_sha256
from expclip_blender.model_folder import MODELS_DIR
from expclip_blender.text_encoder import EMBED_DIM

from ..recipes import load_recipe, recipe_name, recipe_path
from ..tead.annotator import KINDS
from ..text_embeddings import embed_texts_cached

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class TrainConfig:
    """Stage 1: all three heads, jointly. The values live in ``recipes/expclip-stage1.toml`` (with what
    each one does); a weights file records the ones it was trained with in its header."""

    seed: int
    style_dim: int
    hidden: int
    batch_size: int
    epochs: int
    lr: float
    weight_decay: float
    rec_weight: float
    target_temperature: float
    init_logit_scale: float
    text_noise: float
    text_hidden_layers: int
    dropout: float


@dataclass
class TextStageConfig:
    """Stage 2: the text projection alone, against a frozen expression encoder and decoder. The values
    live in ``recipes/expclip-stage2.toml`` (with what each one does)."""

    seed: int
    batch_size: int
    epochs: int
    lr: float
    weight_decay: float
    contrastive_weight: float
    rec_weight: float
    target_temperature: float
    text_noise: float
    emotion_weight: float
    mirrored_weight: float
    side_choice: bool
    side_named_weight: float
    perturbed_share: float
    word_balance: float
    class_weight: float
    init: str


#: The recipe names the training command takes, with the configuration each one fills.
RECIPE_KINDS: dict[str, type] = {"expclip-stage1": TrainConfig, "expclip-stage2": TextStageConfig}


def shipped_recipe(stage: int) -> TrainConfig | TextStageConfig:
    """The configuration of the shipped weights' stage ``stage`` (1 or 2), from its recipe file."""
    return load_recipe(recipe_path(f"expclip-stage{stage}"), RECIPE_KINDS)[1]


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


def contrastive_loss(zt: torch.Tensor, ze: torch.Tensor, x: torch.Tensor, scale: torch.Tensor, tau: float):
    """Symmetric InfoNCE with targets softened over near-identical expressions in the batch."""
    logits = scale * zt @ ze.T
    xn = nn.functional.normalize(x + 1e-6, dim=-1)
    targets = torch.softmax((xn @ xn.T) / tau, dim=-1)
    loss_t = -(targets * torch.log_softmax(logits, dim=-1)).sum(-1).mean()
    loss_e = -(targets * torch.log_softmax(logits.T, dim=-1)).sum(-1).mean()
    return 0.5 * (loss_t + loss_e)


def _epoch_entry(
    epoch: int, epochs: int, means: np.ndarray, model, start: float, log, what: str = ""
) -> dict:
    """One epoch's log entry (mean loss, contrastive, reconstruction; temperature; time), also printed."""
    entry = {
        "epoch": epoch + 1,
        "loss": means[0],
        "contrastive": means[1],
        "reconstruction": means[2],
        "temperature": 1 / float(model.logit_scale.detach().exp()),
        "seconds": time.time() - start,
    }
    log(
        f"epoch {epoch + 1:3d}/{epochs}  loss {means[0]:.4f}  (contrastive {means[1]:.4f}, "
        f"{what}reconstruction {means[2]:.5f})  T={entry['temperature']:.4f}  {entry['seconds']:.0f}s"
    )
    return entry


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
        history.append(_epoch_entry(epoch, cfg.epochs, totals / max(steps_per_epoch, 1), model, start, log))
    run = {
        "config": asdict(cfg),
        "history": history,
        "train_pairs": len(pair_expr),
        "unique_texts": len(unique_texts),
        "train_seconds": time.time() - start,
    }
    return model, run


def load_model(path: Path) -> tuple[ExpClipTorch, TrainConfig, dict[str, str]]:
    """The heads of a weights file written by :func:`save_model`, as the torch model, with the joint
    stage's configuration and the file's metadata."""
    from expclip_blender.model_files import ModelFileError, read_safetensors

    tensors, metadata = read_safetensors(path, "ExpCLIP", framework="pt")
    known = {f for f in TrainConfig.__dataclass_fields__}
    try:
        cfg = TrainConfig(**{k: v for k, v in json.loads(metadata["config"]).items() if k in known})
    except (KeyError, json.JSONDecodeError, TypeError) as exc:
        raise ModelFileError(f"'{path}' has no readable training configuration in its header") from exc
    model = ExpClipTorch(cfg)
    try:
        model.load_state_dict(tensors, strict=True)
    except RuntimeError as exc:
        raise ModelFileError(f"'{path}' does not fit its own configuration: {exc}") from None
    return model.eval(), cfg, metadata


def model_expression_sha256(model: ExpClipTorch) -> str:
    """:func:`..expclip.expression_side_sha256` of a torch model's heads."""
    return expression_side_sha256({k: v.detach().cpu().numpy() for k, v in model.state_dict().items()})


_NAMES_A_SIDE = re.compile(r"\b(?:left|right)\b")


def names_a_side(kind: str, text: str) -> bool:
    """Whether a description says which side of the face does something (physical descriptions only:
    "left", "right" elsewhere are idioms such as "right now" or "left out")."""
    return kind == "physical" and bool(_NAMES_A_SIDE.search(text))


def pair_weights(tead, emotion_weight: float, mirrored_weight: float = 1.0) -> np.ndarray:
    """Sampling probabilities of ``tead``'s training pairs (in ``train_pairs()`` order): annotator
    descriptions of faces that have an emotion class weigh ``emotion_weight``, all others 1; mirrored faces
    with a description that names no side are multiplied by ``mirrored_weight`` (see the stage-2 recipe).
    Each is multiplied by the pair's own weight (``Pair.weight``: a soft target's share, 1 otherwise), so a
    text paired with faces of several emotions is drawn as often as any text, its faces in their shares."""
    train = [p for p in tead.pairs if p.split == "train"]
    weights = np.array(
        [
            (emotion_weight if p.kind != "goemotions" and tead.meta[p.expr].emotion is not None else 1.0)
            * p.weight
            for p in train
        ]
    )
    mirrored = np.array([tead.meta[p.expr].mirrored and not names_a_side(p.kind, p.text) for p in train])
    weights[mirrored] *= mirrored_weight
    return weights / weights.sum()


def word_balance_weights(tead, power: float) -> np.ndarray:
    """Per training pair (``train_pairs()`` order): (median count / count of its emotion word) ** power for
    emotion-word descriptions, clipped to 0.25..4; 1 for the rest and where no trained word is found."""
    from ..tead.annotator import Annotator
    from ..tead.build import PhraseFinder

    train = [p for p in tead.pairs if p.split == "train"]
    out = np.ones(len(train))
    if power <= 0:
        return out
    finder = PhraseFinder(p for p in Annotator(wide=True).emotion_phrases() if "{" not in p)
    found = [finder.search(p.text) if p.kind == "emotion_word" else None for p in train]
    counts = Counter(w for w in found if w is not None)
    if not counts:
        return out
    median = float(np.median(list(counts.values())))
    for i, w in enumerate(found):
        if w is not None:
            out[i] = float(np.clip((median / counts[w]) ** power, 0.25, 4.0))
    return out


def frame_words(
    texts: list[str], labels: list[str], min_count: int = 50, min_entropy: float = 0.9
) -> list[str]:
    """Words of the training descriptions that say nothing about the emotion: frequent, and spread over
    the emotion classes almost evenly (normalised entropy of their class distribution >= ``min_entropy``).
    These are the sentence frames' words ("the", "looking", "face", "character"), found from the data."""
    classes = sorted(set(labels))
    counts: dict[str, np.ndarray] = {}
    for text, label in zip(texts, labels, strict=True):
        k = classes.index(label)
        for w in set(_WORD.findall(text.lower())):
            counts.setdefault(w, np.zeros(len(classes)))[k] += 1
    totals = np.array([labels.count(c) for c in classes], np.float64)
    out = []
    for w, c in counts.items():
        if c.sum() < min_count:
            continue
        rate = c / totals  # per-class rate: big classes do not make a word look emotional
        q = rate / rate.sum()
        entropy = -(q[q > 0] * np.log(q[q > 0])).sum() / np.log(len(classes))
        if entropy >= min_entropy:
            out.append(w)
    return sorted(out)


def perturbed_text(text: str, rng: np.random.Generator, fillers: list[str]) -> str:
    """A copy of ``text`` with one of its frame words dropped and/or a frame word inserted: the words
    that carry the emotion (and its intensity) are never touched."""
    words, frame = text.split(), set(fillers)
    framing = [i for i, w in enumerate(words) if w.lower().strip(".,;:!?'\"") in frame]
    dropped = bool(framing) and len(words) >= 3 and rng.random() < 0.5
    if dropped:
        del words[framing[int(rng.integers(len(framing)))]]
    if fillers and (not dropped or rng.random() < 0.5):
        words.insert(int(rng.integers(len(words) + 1)), fillers[int(rng.integers(len(fillers)))])
    return " ".join(words)


def intensity_words() -> set[str]:
    """Every word of TEAD's intensity modifiers ("slightly", "absolutely", "a hint of"...)."""
    from ..tead.vocabulary import load

    return {word for phrase in load().intensity_words() for word in _WORD.findall(phrase.lower())}


_WORD = re.compile(r"[a-z']+")
# Never dropped or inserted although evenly spread: they complete idioms that carry the emotion ("put off",
# "fed up", "freaked out", "feeling bad", "without a care").
_PARTICLES = frozenset({"off", "up", "out", "over", "down", "through", "bad", "hard", "without", "not", "no"})


@dataclass
class _TextStageData:
    """What stage 2 reads per batch: the pairs' text and expression rows and the tensors they index."""

    text_emb: torch.Tensor  # (unique texts, 384) MiniLM embeddings
    pair_text: torch.Tensor  # per training pair: its row of text_emb
    pair_expr: torch.Tensor  # per training pair: its expression
    expressions: torch.Tensor  # (E, 52)
    expr_emb: torch.Tensor  # the frozen expression encoder's embedding of each expression
    perturbed_emb: torch.Tensor | None = None  # text_emb with the annotator's texts perturbed
    mirror_x: torch.Tensor | None = None  # each expression mirrored left to right
    mirror_emb: torch.Tensor | None = None
    side_free: torch.Tensor | None = None  # per pair: may the face's mirror image stand in for it
    class_head: nn.Linear | None = None  # training-only emotion classifier on the projected text
    pair_class: torch.Tensor | None = None  # per pair: the face's emotion class, -100 where it has none
    class_loss_weights: torch.Tensor | None = None


def _freeze_expression_side(model: ExpClipTorch) -> None:
    """Stop the expression encoder, the decoder and the temperature from training."""
    for p in (*model.expr_enc.parameters(), *model.expr_dec.parameters(), model.logit_scale):
        p.requires_grad_(False)


def _mirror_targets(
    tead, model: ExpClipTorch, data: _TextStageData, train: list, side_named: np.ndarray
) -> None:
    """Fill ``data``'s mirrored faces, their embeddings and which pairs may take them instead."""
    data.mirror_x = data.expressions[:, torch.tensor(MIRROR_ORDER)]
    with torch.no_grad():
        data.mirror_emb = model.embed_expression(data.mirror_x)
    # Only faces of one-sided recipes (and blends with one) have a mirror image in TEAD; a symmetric
    # recipe's small individual asymmetries are left as they are.
    one_sided = np.array([tead.meta[p.expr].one_sided for p in train])
    data.side_free = torch.from_numpy(~side_named & one_sided)


def text_draw_weights(tead, cfg, side_named: np.ndarray) -> np.ndarray:
    """How often each training pair is drawn per epoch (sums to 1); ``cfg``: a stage-2 or text-encoder
    recipe (its emotion, mirrored, side-named and word-balance weights)."""
    draw = pair_weights(tead, cfg.emotion_weight, cfg.mirrored_weight)
    if cfg.side_named_weight != 1.0:
        draw = draw * np.where(side_named, cfg.side_named_weight, 1.0)
        draw = draw / draw.sum()
    if cfg.word_balance > 0:
        draw = draw * word_balance_weights(tead, cfg.word_balance)
        draw = draw / draw.sum()
    return draw


def _class_targets(tead, model: ExpClipTorch, data: _TextStageData, expr_idx: np.ndarray) -> None:
    """Fill ``data``'s emotion classifier head, each pair's class and the class-balancing loss weights."""
    classes = sorted({m.emotion for m in tead.meta if m.emotion is not None})
    labels = [tead.meta[e].emotion for e in expr_idx]
    data.pair_class = torch.tensor([classes.index(c) if c else -100 for c in labels], dtype=torch.int64)
    seen = np.bincount(data.pair_class[data.pair_class >= 0].numpy(), minlength=len(classes)).astype(
        np.float64
    )
    balanced = seen.sum() / np.maximum(seen, 1) / len(classes)
    data.class_loss_weights = torch.from_numpy(balanced.astype(np.float32))
    data.class_head = nn.Linear(model.text_proj[-1].out_features, len(classes))


def _perturbed_embeddings(
    tead,
    cfg: TextStageConfig,
    pairs: tuple[np.ndarray, list[str]],
    unique_texts: list[str],
    text_emb: torch.Tensor,
    cache_dir: Path,
    log,
) -> torch.Tensor:
    """``text_emb`` with each annotator description's row replaced by a perturbed copy's embedding.

    One perturbed copy per annotator description (GoEmotions' sentences are real writing already),
    embedded once and cached like the originals."""
    expr_idx, texts = pairs
    written = set(tead.train_pairs([k for k in KINDS if k != "goemotions"])[1])
    labelled = [(t, tead.meta[e].emotion) for e, t in zip(expr_idx, texts, strict=True) if t in written]
    labelled = [(t, lab) for t, lab in labelled if lab is not None]
    keep = intensity_words() | _PARTICLES
    found = frame_words([t for t, _ in labelled], [lab for _, lab in labelled])
    fillers = [w for w in found if w not in keep]
    prng = np.random.default_rng([cfg.seed, 5])
    rows = [i for i, t in enumerate(unique_texts) if t in written]
    copies = [perturbed_text(unique_texts[i], prng, fillers) for i in rows]
    perturbed_emb = text_emb.clone()
    perturbed_emb[torch.from_numpy(np.array(rows, np.int64))] = torch.from_numpy(
        embed_texts_cached(copies, cache_dir)
    )
    log(f"perturbed copies: {len(copies):,} ({len(fillers)} frame words: {', '.join(fillers)})")
    return perturbed_emb


def _text_batch_loss(
    model: ExpClipTorch, data: _TextStageData, batch: torch.Tensor, cfg: TextStageConfig, rng
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(total, contrastive, reconstruction) loss of one batch of pair indices."""
    t = data.text_emb[data.pair_text[batch]]
    if data.perturbed_emb is not None:
        swap = torch.from_numpy(rng.random(len(batch)) < cfg.perturbed_share)
        t = torch.where(swap[:, None], data.perturbed_emb[data.pair_text[batch]], t)
    t = t + cfg.text_noise * torch.randn_like(t)
    x, ze = data.expressions[data.pair_expr[batch]], data.expr_emb[data.pair_expr[batch]]
    zt = model.embed_text(t)
    decoded = model.decode(zt)
    if data.side_free is not None:
        # A description that names no side fits the face's mirror image as well: learn whichever is nearer.
        xm = data.mirror_x[data.pair_expr[batch]]
        with torch.no_grad():
            nearer = ((decoded - xm) ** 2).mean(-1) < ((decoded - x) ** 2).mean(-1)
        flip = (data.side_free[batch] & nearer)[:, None]
        x = torch.where(flip, xm, x)
        ze = torch.where(flip, data.mirror_emb[data.pair_expr[batch]], ze)
    scale = model.logit_scale.exp().clamp(max=100.0)
    loss_c = contrastive_loss(zt, ze, x, scale, cfg.target_temperature)
    loss_r = nn.functional.mse_loss(decoded, x)
    loss = cfg.contrastive_weight * loss_c + cfg.rec_weight * loss_r
    if data.class_head is not None:
        target = data.pair_class[batch]
        if bool((target >= 0).any()):
            loss = loss + cfg.class_weight * nn.functional.cross_entropy(
                data.class_head(zt), target, weight=data.class_loss_weights, ignore_index=-100
            )
    return loss, loss_c, loss_r


def _text_stage_data(
    tead, model: ExpClipTorch, cfg: TextStageConfig, cache_dir: Path, log
) -> tuple[_TextStageData, np.ndarray, int]:
    """Everything stage 2 trains on: (the batch data, each pair's draw weight, the number of unique texts).

    The order of the steps is part of the result: the class head's initial weights come from torch's
    random stream after the expression embeddings."""
    expr_idx, texts = tead.train_pairs()
    unique_texts = sorted(set(texts))
    text_row = {t: i for i, t in enumerate(unique_texts)}
    text_emb = torch.from_numpy(embed_texts_cached(unique_texts, cache_dir))
    expressions = torch.from_numpy(np.asarray(tead.expressions, dtype=np.float32))
    with torch.no_grad():
        expr_emb = model.embed_expression(expressions)
    data = _TextStageData(
        text_emb=text_emb,
        pair_text=torch.from_numpy(np.array([text_row[t] for t in texts], dtype=np.int64)),
        pair_expr=torch.from_numpy(np.asarray(expr_idx, dtype=np.int64)),
        expressions=expressions,
        expr_emb=expr_emb,
    )
    train = [p for p in tead.pairs if p.split == "train"]  # train_pairs() order
    side_named = np.array([names_a_side(p.kind, p.text) for p in train])
    if cfg.side_choice:
        _mirror_targets(tead, model, data, train, side_named)
    draw = text_draw_weights(tead, cfg, side_named)
    if cfg.class_weight > 0:
        _class_targets(tead, model, data, expr_idx)
    if cfg.perturbed_share > 0:
        data.perturbed_emb = _perturbed_embeddings(
            tead, cfg, (expr_idx, texts), unique_texts, data.text_emb, cache_dir, log
        )
    return data, draw, len(unique_texts)


def train_text_projection(
    tead, model: ExpClipTorch, cfg: TextStageConfig, cache_dir: Path, log=print
) -> tuple[ExpClipTorch, dict]:
    """Stage 2: train ``model.text_proj`` alone on ``tead``'s training pairs; the expression encoder, decoder
    and temperature are frozen (the embeddings of TEAD's faces are computed once).

    loss = w_c * InfoNCE(text, frozen expression embedding) + w_rec * |dec(proj(t)) - x|^2
           + w_class * CE(linear head(proj(t)), emotion class of x)   (class-balanced; head not shipped)

    Each epoch draws as many pairs as there are, with replacement, weighted by :func:`pair_weights` (which
    honours each pair's soft-target weight) and :func:`word_balance_weights`.
    """
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    _freeze_expression_side(model)
    data, draw, unique_texts = _text_stage_data(tead, model, cfg, cache_dir, log)
    head = data.class_head
    params = [*model.text_proj.parameters(), *(head.parameters() if head is not None else ())]
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    n_pairs = len(data.pair_expr)
    steps_per_epoch = n_pairs // cfg.batch_size
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=cfg.lr, total_steps=steps_per_epoch * cfg.epochs, pct_start=0.1
    )
    model.train()
    history = []
    start = time.time()
    for epoch in range(cfg.epochs):
        order = torch.from_numpy(rng.choice(n_pairs, size=n_pairs, p=draw))
        totals = np.zeros(3)
        for step in range(steps_per_epoch):
            batch = order[step * cfg.batch_size : (step + 1) * cfg.batch_size]
            loss, loss_c, loss_r = _text_batch_loss(model, data, batch, cfg, rng)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            totals += [loss.item(), loss_c.item(), loss_r.item()]
        means = totals / max(steps_per_epoch, 1)
        history.append(_epoch_entry(epoch, cfg.epochs, means, model, start, log, "text "))
    model.eval()
    run = {
        "stage": "text",
        "config": asdict(cfg),
        "history": history,
        "train_pairs": n_pairs,
        "unique_texts": unique_texts,
        "train_seconds": time.time() - start,
    }
    return model, run


def save_model(model: ExpClipTorch, cfg: TrainConfig, path: Path, extra: dict | None = None) -> None:
    """Write the heads as safetensors with the configuration in the header and the expression side's
    SHA-256. Written to a temporary file first and moved into place, so that a reader (the generator's
    training) never sees half a file."""
    from safetensors.torch import save_file

    tensors = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    metadata = {
        "format": "expclip-heads",
        "config": json.dumps(asdict(cfg)),
        "expression_sha256": model_expression_sha256(model),
    }
    if extra:
        metadata.update({k: json.dumps(v) for k, v in extra.items()})
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    save_file(tensors, str(tmp), metadata=metadata)
    os.replace(tmp, path)


def _joint_record(init: Path, metadata: dict[str, str]) -> dict:
    """What the card needs about the stage that trained ``init``'s expression side: carried over from
    ``init``'s metadata (and its training log, when it lies beside it)."""
    if "joint_stage" in metadata:  # init is itself a stage-2 file: its stage 1 carries over
        return json.loads(metadata["joint_stage"])
    record = json.loads(metadata.get("run", "{}"))
    record.setdefault("config", json.loads(metadata["config"]))
    log_path = init.with_suffix(".train-log.json")
    if log_path.is_file():
        log = json.loads(log_path.read_text(encoding="utf-8"))
        if log.get("config") == record["config"] and log.get("history"):
            record["final_epoch"] = log["history"][-1]
    # Stage-1 files that do not record their data (commit 0386891's, trained on TEAD v1's 5,590 faces).
    record.setdefault("expressions", 5590)
    record.setdefault("tead_version", "1")
    return record


# Command-line options that override one field of the recipe when given, per stage ("train_seed" sets
# stage 2's seed apart from TEAD's), in the order a card's command lists them.
_OVERRIDES = {
    1: ("epochs",),
    2: ("epochs", "perturbed_share", "word_balance", "class_weight", "emotion_weight", "train_seed",
        "mirrored_weight", "side_named_weight", "side_choice"),
}  # fmt: skip


def _recipe_and_stage(parser: argparse.ArgumentParser, args: argparse.Namespace) -> tuple[Path, int]:
    """The recipe file and stage a command line asks for: ``--stage``/``--text-only`` pick the shipped
    recipe of that stage, ``--recipe`` a file (whose own name says its stage)."""
    stage = 2 if args.text_only else args.stage
    if args.text_only and args.stage == 1:
        parser.error("--text-only is stage 2")
    if args.recipe is None:
        return recipe_path(f"expclip-stage{stage or 1}"), stage or 1
    name = recipe_name(args.recipe)
    file_stage = {"expclip-stage1": 1, "expclip-stage2": 2}.get(name)
    if file_stage is None:
        parser.error(f"--recipe {args.recipe} is {name!r}, not an ExpCLIP recipe")
    if stage is not None and stage != file_stage:
        parser.error(f"--recipe {args.recipe} is a stage-{file_stage} recipe, not stage {stage}")
    return args.recipe, file_stage


def config_from_args(
    parser: argparse.ArgumentParser, args: argparse.Namespace
) -> tuple[int, TrainConfig | TextStageConfig, int]:
    """(stage, configuration, TEAD's seed) of a command line: the recipe file's values, with the options
    given on the command line in place of theirs."""
    recipe_file, stage = _recipe_and_stage(parser, args)
    if args.init is not None and stage != 2:
        parser.error("--init is only used by stage 2 (--stage 2 or --text-only)")
    cfg = load_recipe(recipe_file, RECIPE_KINDS)[1]
    tead_seed = cfg.seed if args.seed is None else args.seed
    cfg.seed = tead_seed
    for name in _OVERRIDES[stage]:
        if getattr(args, name) is not None:
            setattr(cfg, "seed" if name == "train_seed" else name, getattr(args, name))
    if stage == 2 and args.init is not None:
        cfg.init = str(args.init)
    return stage, cfg, tead_seed


def build_parser() -> argparse.ArgumentParser:
    """The training command's options."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--stage",
        type=int,
        choices=(1, 2, 3),
        default=None,
        help="default 1 (or --recipe's); 3 is python -m expclip_train.training.text_encoder",
    )
    parser.add_argument(
        "--recipe", type=Path, default=None, help="recipe file (default: the shipped recipe of the stage)"
    )
    parser.add_argument("--out", type=Path, default=MODELS_DIR / "expclip.safetensors")
    parser.add_argument("--seed", type=int, default=None, help="TEAD's seed and the run's (default: recipe)")
    parser.add_argument("--epochs", type=int, default=None, help="default: the recipe's")
    parser.add_argument("--cache", type=Path, default=ROOT / "build" / "cache")
    parser.add_argument(
        "--text-only",
        action="store_true",
        help="stage 2: retrain the text projection only; expression encoder and decoder from --init, frozen",
    )
    parser.add_argument(
        "--init", type=Path, default=None, help="stage 2: the stage-1 weights (default: the recipe's init)"
    )
    parser.add_argument(
        "--threads", type=int, default=None, help="torch CPU threads (default 2; 1 for stage 2)"
    )
    parser.add_argument(
        "--perturbed-share", type=float, default=None, help="stage 2: share of perturbed descriptions"
    )
    parser.add_argument(
        "--word-balance", type=float, default=None, help="stage 2: power of the rare-word draw (0 = off)"
    )
    parser.add_argument(
        "--class-weight", type=float, default=None, help="stage 2: emotion-class loss weight (0 = off)"
    )
    parser.add_argument(
        "--emotion-weight",
        type=float,
        default=None,
        help="stage 2: draw weight of descriptions of faces with an emotion class",
    )
    parser.add_argument(
        "--side-choice",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="stage 2: score side-free descriptions against the nearer of a face and its mirror image",
    )
    parser.add_argument(
        "--side-named-weight",
        type=float,
        default=None,
        help="stage 2: draw weight of descriptions that name a side",
    )
    parser.add_argument(
        "--mirrored-weight",
        type=float,
        default=None,
        help="stage 2: draw weight of mirrored faces with side-free descriptions",
    )
    parser.add_argument(
        "--exclude-validation",
        action="store_true",
        help="stage 2: keep the text-encoder stage's validation split out of training (its starting point)",
    )
    parser.add_argument(
        "--fresh-projection",
        action="store_true",
        help="with --exclude-validation: start the projection from random weights, not stage 1's",
    )
    parser.add_argument("--no-report", action="store_true", help="skip the evaluation report and the card")
    parser.add_argument(
        "--train-seed",
        type=int,
        default=None,
        help="stage 2: seed of the projection's initialisation and draw order (default: --seed)",
    )
    return parser


def _train_stage_2(tead, cfg: TextStageConfig, args: argparse.Namespace, start: float, base_info: tuple):
    """Stage 2's training and weights file: (model, run, the training log's record, expression SHA-256).
    ``base_info``: the stage-1 model, its configuration, metadata and expression SHA-256, and the
    validation split kept out (None: none)."""
    base, base_cfg, base_meta, base_sha, validation = base_info
    model, run = train_text_projection(tead, base, cfg, args.cache)
    sha = model_expression_sha256(model)
    if sha != base_sha:  # cannot happen with frozen parameters; never ship it if it does
        raise RuntimeError(f"the expression side changed during text-only training ({base_sha} -> {sha})")
    run["total_seconds"] = time.time() - start
    run["expression_sha256"] = sha
    joint = _joint_record(Path(cfg.init), base_meta)
    extra = {"run": {k: v for k, v in run.items() if k != "history"}, "joint_stage": joint,
             "text_stage": asdict(cfg)}  # fmt: skip
    if validation is not None:
        extra["validation_split"] = validation
    save_model(model, base_cfg, args.out, extra=extra)
    return model, run, {**run, "joint_stage": joint}, sha


def without_validation(tead, seed: int, fresh: ExpClipTorch | None = None) -> tuple:
    """(``tead`` with the text-encoder stage's validation split out of training, the split's definition):
    the split recipes are chosen on (``text_data.VALIDATION_SHARES``, with the seed of
    ``recipes/expclip-text.toml``, which must be TEAD's), so that stage 3 can start from a projection that
    never saw its validation items. ``fresh``: heads whose projection is re-initialised (seeded), since
    stage 1's was trained on the validation items too."""
    from ..recipes import recipe_values
    from .text_data import VALIDATION_SHARES, text_stage_data

    values = recipe_values("expclip-text")
    if values["seed"] != seed:
        raise SystemExit(
            f"--exclude-validation: TEAD seed {seed} is not the text-encoder recipe's {values['seed']}"
        )
    split = {"seed": seed, **VALIDATION_SHARES}
    data = text_stage_data(tead, seed, split["validation_share"], split["goemotions_validation_share"], None)
    if fresh is not None:
        torch.manual_seed(seed)
        for layer in fresh.text_proj:
            if isinstance(layer, nn.Linear):
                layer.reset_parameters()
        split["fresh_projection"] = True
    return data.tead, split


def main(argv: list[str] | None = None) -> int:
    from expclip_blender.api import load

    from ..cards import render_expclip_card, store_expclip_report
    from ..evaluation.expclip_report import evaluate, format_report
    from ..tead.build import build_tead

    parser = build_parser()
    args = parser.parse_args(argv)
    if args.stage == 3:
        parser.error(
            "stage 3 (the text encoder) is its own command: python -m expclip_train.training.text_encoder"
        )
    stage, cfg, tead_seed = config_from_args(parser, args)
    if stage == 2 and not Path(cfg.init).is_file():
        parser.error(
            f"stage 2 needs the stage-1 weights (the heads whose expression side is kept): "
            f"'{cfg.init}' does not exist; pass --init WEIGHTS"
        )
    torch.set_num_threads(args.threads or (1 if stage == 2 else 2))
    start = time.time()
    if stage == 2:
        base, base_cfg, base_meta = load_model(Path(cfg.init))  # fails with a clear message before any work
        base_sha = model_expression_sha256(base)
    tead = build_tead(seed=tead_seed)
    validation = None
    if args.exclude_validation:
        if stage != 2:
            parser.error("--exclude-validation is for stage 2 (the projection stage 3 starts from)")
        tead, validation = without_validation(tead, tead_seed, base if args.fresh_projection else None)
    took = time.time() - start
    print(f"TEAD: {len(tead.expressions):,} expressions, {len(tead.pairs):,} pairs ({took:.0f} s)")
    tead_info = {
        "expressions": len(tead.expressions),
        "goemotions": any(p.kind == "goemotions" for p in tead.pairs),
        "version": tead.info.get("version"),
    }
    log_path = args.out.with_suffix(".train-log.json")
    if stage == 2:
        base_info = (base, base_cfg, base_meta, base_sha, validation)
        model, run, record, sha = _train_stage_2(tead, cfg, args, start, base_info)
        record["tead"] = tead_info
    else:
        model, run = train(tead, cfg, args.cache)
        run["total_seconds"] = time.time() - start
        run |= {"expressions": tead_info["expressions"], "tead_version": tead_info["version"]}
        save_model(model, cfg, args.out, extra={"run": {k: v for k, v in run.items() if k != "history"}})
        sha = model_expression_sha256(model)
        record = {**run, "expression_sha256": sha, "tead": tead_info}
    log_path.write_text(json.dumps(record, indent=1), encoding="utf-8")
    print(f"saved {args.out} ({run['total_seconds']:.0f} s in all); expression side SHA-256 {sha}")
    if args.no_report:
        return 0
    report = format_report(evaluate(load(models_dir=args.out.parent), tead, cache_dir=args.cache))
    print(report)
    if args.out.resolve() == (MODELS_DIR / "expclip.safetensors").resolve():
        store_expclip_report(report)  # the figures `python -m expclip_train.cards` renders the card with
    card = args.out.with_suffix(".md")
    card.write_text(render_expclip_card(args.out, report), encoding="utf-8")
    print(f"wrote {card}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
