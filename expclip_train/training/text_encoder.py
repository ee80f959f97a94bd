"""Stage 3 of ExpCLIP: fine-tune the text side (MiniLM's top layers and the text projection).

    python -m expclip_train.training.text_encoder [--teacher DIR] [--out-dir DIR] [--work DIR]
        [--steps N] [--threads 2] [--max-minutes M] [--checkpoint-every 100]

The hyperparameters come from ``recipes/expclip-text.toml`` (or ``--recipe``); a few options override
single fields. The expression encoder, decoder and temperature of the ``init`` weights (stage 2's) stay
frozen bit for bit, so the style space, and the speech generator conditioned on it, do not change.

Per step: ``batch_size`` TEAD and GoEmotions pairs drawn with stage 2's weights (:mod:`.text_data`: with
the validation split kept out and the multi-label GoEmotions sentences in), and ``distil_batch`` texts of
the teacher's vocabulary:

    loss = w_c * InfoNCE(proj(enc(t)), frozen expression embedding; soft targets)
         + w_rec * |dec(proj(enc(t))) - x|^2                                   (side choice as stage 2)
         + w_distil * (1 - cos(map(enc(v)), teacher(v)))      (map: 384 -> 768, training only)

Batches are drawn from ``(seed, step)``, so a resumed run trains on the batches an uninterrupted one
would. Checkpoints (safetensors: trained weights and optimiser moments) go to ``WORK/checkpoint.
safetensors`` every ``--checkpoint-every`` steps and when ``--max-minutes`` runs out; a rerun of the same
command resumes. At the end: ``OUT/text_encoder.safetensors`` (the trained layers, the base model's
identity and the recipe in the header), ``OUT/expclip.safetensors`` (``init``'s file with the new
``text_proj.*`` and the layers' digest), ``OUT/text_encoder.train-log.json``, and the validation figures.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

from expclip_blender.arkit import MIRROR_ORDER
from expclip_blender.model_folder import EXPCLIP_FILE, MODELS_DIR, TEXT_ENCODER_FILE

from ..recipes import load_recipe, recipe_path
from .bottom_cache import BottomCache
from .minilm_torch import MiniLMTorch, Tokens
from .text_data import Teacher, TextStageData, distillation_set, read_teacher, text_stage_data

if TYPE_CHECKING:
    from ..tead.build import Pair

ROOT = Path(__file__).resolve().parents[2]
RECIPE = "expclip-text"
CHECKPOINT = "checkpoint.safetensors"
TEACHER_DIM = 768  # all-mpnet-base-v2


@dataclass
class TextEncoderConfig:
    """Stage 3. The values live in ``recipes/expclip-text.toml`` (with what each one does)."""

    seed: int
    init: str
    teacher: str
    trained_layers: int
    dropout: float
    steps: int
    warmup: int
    batch_size: int
    distil_batch: int
    lr_encoder: float
    lr_projection: float
    weight_decay: float
    contrastive_weight: float
    rec_weight: float
    target_temperature: float
    text_noise: float
    emotion_weight: float
    mirrored_weight: float
    side_choice: bool
    side_named_weight: float
    word_balance: float
    goemotions_weight: float
    goemotions_neutral_weight: float
    distil_weight: float
    validation_share: float
    goemotions_validation_share: float
    storage: str
    bottom_cache: bool


def shipped_recipe() -> TextEncoderConfig:
    """The stage-3 recipe file's configuration."""
    return load_recipe(recipe_path(RECIPE), {RECIPE: TextEncoderConfig})[1]


@dataclass
class Batches:
    """Everything a step draws from: the texts (training pairs' first, then the teacher's), each pair's
    text row, face and draw probability, the frozen faces' embeddings and mirror images."""

    tokens: Tokens
    texts: list[str]
    pair_text: np.ndarray
    pair_expr: torch.Tensor
    cumulative: np.ndarray  # cumulative draw probabilities of the pairs
    expressions: torch.Tensor
    expr_emb: torch.Tensor
    mirror_x: torch.Tensor
    mirror_emb: torch.Tensor
    side_free: torch.Tensor  # per pair: may the face's mirror image stand in (side choice)
    teacher_rows: np.ndarray  # rows of ``tokens`` holding the teacher's texts
    teacher_emb: torch.Tensor

    def draw(self, cfg: TextEncoderConfig, step: int) -> tuple[np.ndarray, np.ndarray]:
        """(pair indices, teacher indices) of step ``step``: the same for any run of this recipe."""
        rng = np.random.default_rng([cfg.seed, step])
        pairs = np.searchsorted(self.cumulative, rng.random(cfg.batch_size) * self.cumulative[-1], "right")
        pairs = np.minimum(pairs, len(self.cumulative) - 1)
        n_teacher = len(self.teacher_rows) if cfg.distil_weight > 0 else 0
        teacher = rng.integers(n_teacher, size=cfg.distil_batch) if n_teacher else np.zeros(0, np.int64)
        return pairs, teacher


def goemotions_draw_factors(pairs: list[Pair], cfg: TextEncoderConfig) -> np.ndarray:
    """Each pair's draw factor on top of stage 2's weights: ``goemotions_weight`` for a GoEmotions sentence,
    times ``goemotions_neutral_weight`` where its class is neutral, 1 for every other pair."""
    go = np.array([p.kind == "goemotions" for p in pairs], dtype=bool)
    neutral = go & np.array([p.emotion == "neutral" for p in pairs], dtype=bool)
    return np.where(go, cfg.goemotions_weight, 1.0) * np.where(neutral, cfg.goemotions_neutral_weight, 1.0)


def prepare(cfg: TextEncoderConfig, heads, teacher: Teacher | None, goemotions_dir: Path | None):
    """(the re-split data, the batches) of a run: TEAD built from the seed, the validation split, all of
    GoEmotions train, the stage-2 draw weights and the teacher's texts."""
    from ..tead.build import build_tead
    from .expclip import names_a_side, text_draw_weights

    start = time.time()
    tead = build_tead(seed=cfg.seed, goemotions_dir=goemotions_dir)
    data = text_stage_data(
        tead, cfg.seed, cfg.validation_share, cfg.goemotions_validation_share, goemotions_dir
    )
    split = data.tead
    dropped = 0
    if teacher is not None:  # no description outside training (held-out, validation, dev) is distilled
        teacher, dropped = distillation_set(teacher, split)
    train = [p for p in split.pairs if p.split == "train"]  # train_pairs() order
    side_named = np.array([names_a_side(p.kind, p.text) for p in train])
    draw = text_draw_weights(split, cfg, side_named) * data.share
    draw *= goemotions_draw_factors(train, cfg)
    pair_texts = sorted({p.text for p in train})
    teacher_texts = teacher.texts if teacher is not None else []
    texts = pair_texts + teacher_texts
    row = {t: i for i, t in enumerate(pair_texts)}
    expressions = torch.from_numpy(np.asarray(split.expressions, dtype=np.float32))
    mirror_x = expressions[:, torch.tensor(MIRROR_ORDER)]
    with torch.no_grad():
        expr_emb, mirror_emb = heads.embed_expression(expressions), heads.embed_expression(mirror_x)
    one_sided = np.array([split.meta[p.expr].one_sided for p in train])
    batches = Batches(
        tokens=Tokens(texts),
        texts=texts,
        pair_text=np.array([row[p.text] for p in train], dtype=np.int64),
        pair_expr=torch.tensor([p.expr for p in train], dtype=torch.int64),
        cumulative=np.cumsum(draw / draw.sum()),
        expressions=expressions,
        expr_emb=expr_emb,
        mirror_x=mirror_x,
        mirror_emb=mirror_emb,
        side_free=torch.from_numpy(~side_named & one_sided & cfg.side_choice),
        teacher_rows=np.arange(len(pair_texts), len(texts), dtype=np.int64),
        teacher_emb=torch.from_numpy(teacher.embeddings.astype(np.float32))
        if teacher is not None
        else torch.zeros(0, TEACHER_DIM),
    )
    data.info |= {"unique_pair_texts": len(pair_texts), "teacher_texts": len(teacher_texts),
                  "teacher_texts_dropped": dropped}  # fmt: skip
    print(
        f"data: {len(train):,} training pairs ({len(pair_texts):,} texts), {len(teacher_texts):,} teacher "
        f"texts; validation {data.info['validation_pairs']} ({time.time() - start:.0f} s)",
        flush=True,
    )
    return data, batches


class Student(nn.Module):
    """What stage 3 trains: the encoder's top layers, the heads' text projection, the distillation map."""

    def __init__(self, encoder: MiniLMTorch, heads, distil: bool) -> None:
        super().__init__()
        self.encoder, self.heads = encoder, heads
        self.distil = (
            nn.Linear(encoder.embeddings.word_embeddings.embedding_dim, TEACHER_DIM) if distil else None
        )

    def trained(self) -> dict[str, nn.Parameter]:
        """The trained parameters by checkpoint name, in a fixed order (the optimiser's)."""
        named = dict(self.encoder.named_parameters())
        out = {f"encoder.{k}": named[k] for k in self.encoder.trained_names()}
        out |= {f"heads.text_proj.{k}": p for k, p in self.heads.text_proj.named_parameters()}
        if self.distil is not None:
            out |= {f"distil.{k}": p for k, p in self.distil.named_parameters()}
        return out


def batch_loss(student: Student, batches: Batches, cache: BottomCache, cfg: TextEncoderConfig, step: int):
    """(total, contrastive, reconstruction, distillation) loss of step ``step``'s batch."""
    from .expclip import contrastive_loss

    pairs, teacher = batches.draw(cfg, step)
    rows = np.concatenate([batches.pair_text[pairs], batches.teacher_rows[teacher]])
    hidden, lengths = cache.hidden(rows)
    sentence = student.encoder.top(hidden, lengths)
    s, v = sentence[: len(pairs)], sentence[len(pairs) :]
    heads = student.heads
    zt = heads.embed_text(s + cfg.text_noise * torch.randn_like(s))
    decoded = heads.decode(zt)
    expr = batches.pair_expr[torch.from_numpy(pairs)]
    x, ze = batches.expressions[expr], batches.expr_emb[expr]
    # A description that names no side fits the face's mirror image as well: learn whichever is nearer.
    xm = batches.mirror_x[expr]
    with torch.no_grad():
        nearer = ((decoded - xm) ** 2).mean(-1) < ((decoded - x) ** 2).mean(-1)
    flip = (batches.side_free[torch.from_numpy(pairs)] & nearer)[:, None]
    x, ze = torch.where(flip, xm, x), torch.where(flip, batches.mirror_emb[expr], ze)
    scale = heads.logit_scale.exp().clamp(max=100.0)
    loss_c = contrastive_loss(zt, ze, x, scale, cfg.target_temperature)
    loss_r = nn.functional.mse_loss(decoded, x)
    loss = cfg.contrastive_weight * loss_c + cfg.rec_weight * loss_r
    loss_d = torch.zeros(())
    if student.distil is not None and len(teacher):
        target = batches.teacher_emb[torch.from_numpy(teacher)]
        loss_d = (1 - nn.functional.cosine_similarity(student.distil(v), target, dim=-1)).mean()
        loss = loss + cfg.distil_weight * loss_d
    return loss, loss_c, loss_r, loss_d


def lr_factor(step: int, cfg: TextEncoderConfig) -> float:
    """Linear warm-up, then cosine decay to 3% of the peak at the last step."""
    if step < cfg.warmup:
        return (step + 1) / cfg.warmup
    frac = (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup)
    return 0.03 + 0.97 * 0.5 * (1 + math.cos(math.pi * min(frac, 1.0)))


def make_optimizer(student: Student, cfg: TextEncoderConfig) -> torch.optim.AdamW:
    """AdamW with the encoder's layers at ``lr_encoder`` and the projection and map at ``lr_projection``."""
    trained = student.trained()
    encoder = [p for k, p in trained.items() if k.startswith("encoder.")]
    rest = [p for k, p in trained.items() if not k.startswith("encoder.")]
    groups = [{"params": encoder, "lr": cfg.lr_encoder, "peak": cfg.lr_encoder},
              {"params": rest, "lr": cfg.lr_projection, "peak": cfg.lr_projection}]  # fmt: skip
    return torch.optim.AdamW(groups, weight_decay=cfg.weight_decay)


def save_checkpoint(path: Path, student: Student, opt, step: int, log: list, cfg: TextEncoderConfig) -> None:
    """Trained weights and AdamW moments (safetensors), the step, the log and the recipe."""
    from safetensors.torch import save_file

    tensors = {}
    for name, p in student.trained().items():
        tensors[f"model.{name}"] = p.detach().contiguous()
        state = opt.state.get(p, {})
        if state:
            tensors[f"opt.{name}.exp_avg"] = state["exp_avg"].contiguous()
            tensors[f"opt.{name}.exp_avg_sq"] = state["exp_avg_sq"].contiguous()
    meta = {"step": str(step), "log": json.dumps(log), "recipe": json.dumps(asdict(cfg))}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    save_file(tensors, str(tmp), metadata=meta)
    os.replace(tmp, path)


def load_checkpoint(path: Path, student: Student, opt, cfg: TextEncoderConfig) -> tuple[int, list]:
    """(step, log) of a checkpoint of this recipe, its weights and moments put in place."""
    from expclip_blender.model_files import read_safetensors

    tensors, meta = read_safetensors(path, "Checkpoint", framework="pt")
    if json.loads(meta.get("recipe", "{}")) != asdict(cfg):
        raise SystemExit(f"{path} is a checkpoint of another recipe: remove it, or pass its --work elsewhere")
    step = int(meta["step"])
    with torch.no_grad():
        for name, p in student.trained().items():
            p.copy_(tensors[f"model.{name}"])
            if f"opt.{name}.exp_avg" in tensors:
                opt.state[p] = {
                    "step": torch.tensor(float(step)),
                    "exp_avg": tensors[f"opt.{name}.exp_avg"],
                    "exp_avg_sq": tensors[f"opt.{name}.exp_avg_sq"],
                }
    return step, json.loads(meta.get("log", "[]"))


def train(student: Student, batches: Batches, cfg: TextEncoderConfig, work: Path, run: dict) -> bool:
    """Train until ``cfg.steps`` (True) or until ``run["max_seconds"]`` is spent (False, checkpointed)."""
    opt = make_optimizer(student, cfg)
    ckpt = work / CHECKPOINT
    step, log = load_checkpoint(ckpt, student, opt, cfg) if ckpt.is_file() else (0, [])
    if step:
        print(f"resumed at step {step}", flush=True)
    cache = BottomCache(
        student.encoder, batches.tokens, batches.texts, run["cache_dir"] if cfg.bottom_cache else None
    )
    student.train()
    t0, seen, sums, since = time.perf_counter(), 0, np.zeros(4), step
    before = log[-1]["train_seconds"] if log else 0.0  # training time of earlier runs of this recipe
    while step < cfg.steps:
        if time.perf_counter() - t0 > run["max_seconds"]:
            cache.flush()
            save_checkpoint(ckpt, student, opt, step, log, cfg)
            print(f"paused at step {step} of {cfg.steps}: run the same command again to go on", flush=True)
            return False
        for g in opt.param_groups:
            g["lr"] = g["peak"] * lr_factor(step, cfg)
        torch.manual_seed(cfg.seed * 1_000_003 + step)  # noise and dropout: the same on a resumed run
        losses = batch_loss(student, batches, cache, cfg, step)
        opt.zero_grad(set_to_none=True)
        losses[0].backward()
        opt.step()
        step, seen = step + 1, seen + 1
        sums += [float(v.detach()) for v in losses]
        if step % 25 == 0 or step == cfg.steps:
            rate = (time.perf_counter() - t0) / seen
            names = ("loss", "contrastive", "rec", "distil")
            values = " ".join(f"{n} {v.item():.4f}" for n, v in zip(names, losses, strict=True))
            print(f"step {step}/{cfg.steps} {values} {rate:.2f} s/step", flush=True)
        if step % run["checkpoint_every"] == 0 or step == cfg.steps:
            names = ("loss", "contrastive", "reconstruction", "distillation")
            means = dict(zip(names, sums / max(1, step - since), strict=True))
            elapsed = time.perf_counter() - t0
            log.append(
                {"step": step, **means, "train_seconds": round(before + elapsed, 1),
                 "s_per_step": round(elapsed / seen, 3), "bottom_computed": cache.computed}
            )  # fmt: skip
            sums[:], since = 0, step
            cache.flush()
            save_checkpoint(ckpt, student, opt, step, log, cfg)
    run["log"] = log
    student.eval()
    return True


def overlay_tensors(encoder: MiniLMTorch, storage: str) -> dict[str, np.ndarray]:
    """The trained layers as they ship (``storage``: "float16" or "float32"), under the package's names."""
    dtype = {"float16": np.float16, "float32": np.float32}[storage]
    state = encoder.state_dict()
    return {k: state[k].detach().numpy().astype(dtype) for k in encoder.trained_names()}


def _save_atomic(tensors: dict[str, np.ndarray], path: Path, metadata: dict[str, str]) -> None:
    from safetensors.numpy import save_file

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    save_file({k: np.ascontiguousarray(v) for k, v in tensors.items()}, str(tmp), metadata=metadata)
    os.replace(tmp, path)


def save_outputs(student: Student, cfg: TextEncoderConfig, init: Path, out_dir: Path, run: dict) -> str:
    """Write ``text_encoder.safetensors`` and ``expclip.safetensors`` (``init``'s tensors with the trained
    projection; the expression side checked unchanged) into ``out_dir``; returns the layers' digest."""
    import importlib.metadata

    from expclip_blender.expclip import expression_side_sha256
    from expclip_blender.model_files import read_safetensors
    from expclip_blender.text_encoder import (
        BASE_PACKAGE,
        HEADS_FIELD,
        OVERLAY_FORMAT,
        base_model_sha256,
        overlay_sha256,
    )

    overlay = overlay_tensors(student.encoder, cfg.storage)
    digest = overlay_sha256(overlay)
    version = importlib.metadata.version(BASE_PACKAGE)
    overlay_meta = {
        "format": OVERLAY_FORMAT,
        "base_model": f"{BASE_PACKAGE} {version} (sentence-transformers/all-MiniLM-L6-v2)",
        "base_sha256": base_model_sha256(),
        "layers": json.dumps(student.encoder.trained_layers()),
        "storage": cfg.storage,
        "recipe": json.dumps(asdict(cfg)),
    }
    tensors, metadata = read_safetensors(init, "ExpCLIP")
    before = expression_side_sha256(tensors)
    for k, v in student.heads.text_proj.state_dict().items():
        tensors[f"text_proj.{k}"] = v.detach().numpy().astype(tensors[f"text_proj.{k}"].dtype)
    after = expression_side_sha256(tensors)
    if after != before or metadata.get("expression_sha256", before) != before:
        raise RuntimeError(f"the expression side changed ({before} -> {after}): nothing is saved")
    metadata |= {HEADS_FIELD: digest, "text_encoder_stage": json.dumps(asdict(cfg)),
                 "text_encoder_run": json.dumps(run)}  # fmt: skip
    _save_atomic(overlay, out_dir / TEXT_ENCODER_FILE, overlay_meta)
    _save_atomic(tensors, out_dir / EXPCLIP_FILE, metadata)
    return digest


def agreement(student: Student, cfg: TextEncoderConfig, out_dir: Path, prompts: list[str]) -> dict:
    """How the shipped files, read by the numpy runtime, agree with the torch model: the same stored
    weights in both (``twin_max_abs``: sentence embeddings), and the trained float32 model against the
    stored weights (what the storage costs: sentence embeddings, styles, decoded faces)."""
    from expclip_blender.expclip import load_heads
    from expclip_blender.text_encoder import MiniLMEncoder

    runtime = MiniLMEncoder(overlay=out_dir / TEXT_ENCODER_FILE)
    heads = load_heads(out_dir / EXPCLIP_FILE)
    ids, lengths = Tokens(prompts).batch(np.arange(len(prompts)))
    stored = MiniLMTorch.from_package(cfg.trained_layers, 0.0).eval()
    shipped = overlay_tensors(student.encoder, cfg.storage)
    stored.load_state_dict(
        {k: torch.from_numpy(v.astype(np.float32)) for k, v in shipped.items()}, strict=False
    )
    with torch.no_grad():
        twin = stored(ids, lengths).numpy()
        trained = student.encoder(ids, lengths)
        trained_style = student.heads.embed_text(trained).numpy()
    sentence = runtime.encode(prompts)
    style = heads.project_text(sentence)
    return {
        "prompts": len(prompts),
        "twin_max_abs": float(np.abs(sentence - twin).max()),
        "storage_max_abs": float(np.abs(sentence - trained.numpy()).max()),
        "storage_min_style_cosine": float((style * trained_style).sum(1).min()),
        "storage_max_face_abs": float(np.abs(heads.decode(style) - heads.decode(trained_style)).max()),
    }


# Recipe fields the command line can change (each overrides the recipe file's value when given).
_CLI_RECIPE = ("seed", "steps", "trained_layers", "batch_size", "distil_batch", "distil_weight",
               "goemotions_weight", "goemotions_neutral_weight", "lr_encoder", "lr_projection", "teacher",
               "init", "validation_share", "goemotions_validation_share")  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    """The stage-3 command's options."""
    ap = argparse.ArgumentParser(
        prog="python -m expclip_train.training.text_encoder",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--recipe", type=Path, default=recipe_path(RECIPE), help="default: the shipped one")
    ap.add_argument(
        "--out-dir", type=Path, default=MODELS_DIR, help="where the weights go (default: bundled)"
    )
    ap.add_argument("--work", type=Path, default=ROOT / "build" / "expclip-text", help="checkpoints")
    ap.add_argument("--cache", type=Path, default=ROOT / "build" / "cache", help="the bottom layers' cache")
    ap.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    ap.add_argument("--max-minutes", type=float, default=None, help="pause (checkpointed) after this long")
    ap.add_argument("--checkpoint-every", type=int, default=100, help="steps between checkpoints")
    ap.add_argument("--no-validate", action="store_true", help="skip the validation figures at the end")
    ap.add_argument("--goemotions", type=Path, default=None, help="GoEmotions folder (default: ../shared)")
    kinds = {f.name: f.type for f in fields(TextEncoderConfig)}
    for name in _CLI_RECIPE:  # --seed, --steps, ...: default: the recipe's value
        ap.add_argument(
            "--" + name.replace("_", "-"), type={"int": int, "float": float, "str": str}[kinds[name]]
        )
    return ap


def config_from_args(args: argparse.Namespace) -> TextEncoderConfig:
    """The recipe file's configuration with the options given on the command line in place of theirs."""
    cfg = load_recipe(args.recipe, {RECIPE: TextEncoderConfig})[1]
    for name in _CLI_RECIPE:
        if getattr(args, name) is not None:
            setattr(cfg, name, getattr(args, name))
    return cfg


def _init_heads(parser: argparse.ArgumentParser, cfg: TextEncoderConfig) -> tuple[Path, nn.Module]:
    """The stage-2 heads to start from (a stage-3 file is refused: the run would not be reproducible)."""
    from expclip_blender.text_encoder import HEADS_FIELD

    from .expclip import _freeze_expression_side, load_model

    init = ROOT / cfg.init
    if not init.is_file():
        parser.error(f"stage 3 starts from stage 2's weights: '{init}' does not exist (see the recipe's top)")
    heads, _, metadata = load_model(init)
    if metadata.get(HEADS_FIELD):
        parser.error(
            f"'{init}' is already a stage-3 file; start from stage 2's weights (see the recipe's top)"
        )
    split = {k: getattr(cfg, k) for k in ("seed", "validation_share", "goemotions_validation_share")}
    kept_out = json.loads(metadata.get("validation_split", "null")) or {}
    if cfg.validation_share > 0 and {k: kept_out.get(k) for k in split} != split:
        print(
            f"warning: '{init}' was not trained with this validation split kept out (stage 2 "
            "--exclude-validation): its projection has seen the validation items, and the validation "
            "figures will flatter",
            flush=True,
        )
    _freeze_expression_side(heads)
    return init, heads


def main(argv: list[str] | None = None) -> int:
    from expclip_blender.model_folder import check_models_dir

    from ..evaluation.expclip_report import INTENSITY_LADDERS
    from ..tead.build import DEFAULT_GOEMOTIONS_DIR

    parser = build_parser()
    args = parser.parse_args(argv)
    cfg = config_from_args(args)
    torch.set_num_threads(args.threads)
    start = time.time()
    init, heads = _init_heads(parser, cfg)
    teacher = None
    if cfg.distil_weight > 0:
        try:
            teacher = read_teacher(ROOT / cfg.teacher)
        except (FileNotFoundError, ValueError) as exc:
            parser.error(f"{exc} (--teacher PATH, or --distil-weight 0)")
    go_dir = args.goemotions or DEFAULT_GOEMOTIONS_DIR
    data, batches = prepare(cfg, heads, teacher, go_dir)
    torch.manual_seed(cfg.seed)
    student = Student(MiniLMTorch.from_package(cfg.trained_layers, cfg.dropout), heads, teacher is not None)
    run: dict = {"cache_dir": args.cache, "checkpoint_every": args.checkpoint_every,
                 "max_seconds": math.inf if args.max_minutes is None else 60 * args.max_minutes}  # fmt: skip
    if not train(student, batches, cfg, args.work, run):
        return 0
    record = {"data": data.info, "threads": torch.get_num_threads(), "torch": torch.__version__,
              "init": init.name, "train_seconds": run["log"][-1]["train_seconds"]}  # fmt: skip
    digest = save_outputs(student, cfg, init, args.out_dir, record)
    prompts = [p for ladder in INTENSITY_LADDERS.values() for p in ladder]
    record |= {"config": asdict(cfg), "history": run["log"], "text_encoder_sha256": digest,
               "agreement": agreement(student, cfg, args.out_dir, prompts)}  # fmt: skip
    check = check_models_dir(args.out_dir)
    print(check.message)
    if not args.no_validate:
        record["validation"] = _validate(args.out_dir, data)
    record["total_seconds"] = time.time() - start
    log_path = args.out_dir / "text_encoder.train-log.json"
    log_path.write_text(json.dumps(record, indent=1, default=str), encoding="utf-8")
    print(f"wrote {args.out_dir / TEXT_ENCODER_FILE}, {args.out_dir / EXPCLIP_FILE}, {log_path.name}; "
          f"agreement {record['agreement']}")  # fmt: skip
    return 0 if check.ok else 1


def _validate(out_dir: Path, data: TextStageData) -> dict:
    """The validation figures of the weights just written, read by the runtime (both paths), printed."""
    from expclip_blender.api import load

    from .text_validation import format_validation, validation_figures

    model = load(models_dir=out_dir)
    figures = {path: validation_figures(model, data, path) for path in ("heads", "api")}
    print(format_validation(figures))
    return figures


if __name__ == "__main__":
    raise SystemExit(main())
