"""Train the speech-driven generator with Expression Prompt Augmentation (EPA).

    python -m expclip_train.training.generator --corpus build/corpus [--work build/generator-train]
        [--recipe expclip_train/recipes/generator.toml] [--steps 2400]
        [--out expclip_blender/models/generator.safetensors]

The hyperparameters come from the recipe file (default: the shipped one); ``--seed``, ``--steps``,
``--lr`` and a few more override single fields.

1. *Prepare* (cached in ``WORK/data.npz``): every training clip of the corpus as a clean version plus
   augmented versions (:mod:`..speech.augment`: speed, pitch, babble or music underneath, room, band
   limits, noise, gain; real voices get more of them than synthetic ones; the babble is other training
   speakers' clips, :class:`.talkers.TalkerPool`), each as normalised log-mel (100 Hz) and lip-sync
   targets at the generator's 50 Hz (:func:`..speech.coarticulation.targets`, phone times rescaled by the
   speed factor; blinks removed: they are not predictable from audio, :mod:`..blinks` adds them at
   inference). The targets are always the clean clip's: the face follows the speaker, not the background.
2. *Train*: random 4 s crops. EPA: each crop gets a TEAD expression (:func:`..tead.expressions.
   generate_expressions`) at a random intensity, or none (neutral); the expression is blended into the
   targets (:func:`..epa.blend_expression`: the lips keep speaking, the rest of the face carries the
   expression; with ``decoded_expression``, the ExpCLIP decoder's face of its embedding, :func:`epa_faces`)
   and the generator is conditioned on its ExpCLIP embedding (the expression encoder of
   ``expclip_blender/models/expclip.safetensors``; at inference the prompt reaches the same space through
   the text encoder and decoder, see :meth:`..api.ExpClip.style_of`). Loss: cross-entropy on the weights,
   heavier on the mouth, plus L1 on their frame-to-frame change (motion, not only poses) and on the mouth
   aperture (closed lips weighted x5). Clips timed by phone recognition (not forced alignment) weigh less.
3. Checkpoints (safetensors: model and optimiser moments) every ``--checkpoint-every`` steps in WORK;
   a rerun resumes from the last one. Batches are drawn from ``(seed, step)``, so a resumed run trains on
   the same batches as an uninterrupted one. The final weights go to ``--out`` with a training log.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
from dataclasses import asdict, dataclass, fields
from multiprocessing import Pool
from pathlib import Path

import numpy as np
import torch

from expclip_blender.arkit import ARKIT_INDEX, MOUTH_NAMES, NUM_ARKIT
from expclip_blender.expclip import load_heads
from expclip_blender.features import EDGE_PAD_S, log_mel
from expclip_blender.generator import GeneratorConfig, SpeechToFace, load_generator, save_generator
from expclip_blender.model_files import read_safetensors
from expclip_blender.model_folder import MODELS_DIR

from ..epa import blend_expression
from ..recipes import load_recipe, recipe_path
from ..speech.coarticulation import APERTURE_WEIGHTS
from ..speech.phones import SIL, VISEMES
from .talkers import TalkerPool

ROOT = Path(__file__).resolve().parents[2]
BLINKS = (ARKIT_INDEX["eyeBlinkLeft"], ARKIT_INDEX["eyeBlinkRight"])


@dataclass
class TrainConfig:
    """The generator's training recipe. The values live in ``recipes/generator.toml`` (with what each one
    does); the weights record the ones they were trained with in their header ("training" -> "recipe")."""

    seed: int
    steps: int
    batch_size: int
    crop_s: float
    lr: float
    warmup: int
    weight_decay: float
    real_share: float
    real_augmented_versions: int
    synth_augmented_share: float
    neutral_share: float
    intensity_low: float
    intensity_high: float
    mouth_weight: float
    motion_weight: float
    aperture_weight: float
    rounding_weight: float
    recognised_weight: float
    trim_share: float
    viseme_weight: float
    viseme_block: int
    upper_weight: float
    decoded_expression: bool
    babble_share: float
    music_share: float
    background_snr_low: float
    background_snr_high: float
    babble_talkers_low: int
    babble_talkers_high: int
    babble_real_share: float


def shipped_recipe() -> TrainConfig:
    """The shipped generator's recipe, from ``recipes/generator.toml``."""
    return load_recipe(recipe_path("generator"), {"generator": TrainConfig})[1]


# --------------------------------------------------------------------------------------------- prepare


def _trim_to_speech(phones, duration: float, rng: np.random.Generator) -> tuple[float, float]:
    """(start, end) seconds: the speech of a clip with at most 80 ms of its silence left at each end."""
    speech = [p for p in phones if p.label != SIL]
    if not speech:
        return 0.0, duration
    start = max(0.0, speech[0].start - float(rng.uniform(0.0, 0.08)))
    end = min(duration, speech[-1].end + float(rng.uniform(0.0, 0.08)))
    return start, end


def training_example(
    audio: np.ndarray,
    sr: int,
    phones,
    *,
    span: tuple[float, float] | None = None,
    augment_rng: np.random.Generator | None = None,
    background=None,
    seed: int = 0,
    out_rate: float = 50.0,
) -> dict:
    """One training version of a clip: what the generator hears and what it should do, frame by frame.

    ``span`` cuts the clip first (seconds); ``augment_rng`` degrades it (:func:`..speech.augment.augment`;
    speed perturbation moves every phone to time / speed; ``background``, a
    :class:`..speech.augment.Background`, is mixed under the speech, the targets staying the clean
    clip's). The audio is heard as at inference, inside ``EDGE_PAD_S`` of room tone each side, and the
    targets cover the same padded span (the mouth at rest in the tone). Returns ``mel`` (100 Hz), ``tgt``
    (52 weights) and ``vis`` (viseme index) at ``out_rate``, and ``applied`` (the augmentations).
    """
    from ..speech.augment import augment
    from ..speech.coarticulation import targets
    from ..speech.phones import VISEME_OF, VISEMES, Phone, normalize_timeline

    duration = len(audio) / sr
    if span is not None:
        lo, hi = round(span[0] * sr), round(span[1] * sr)
        audio, duration = audio[lo:hi], (hi - lo) / sr
        phones = [Phone(p.label, p.start - lo / sr, p.end - lo / sr) for p in phones]
    phones = normalize_timeline(phones, duration)
    speed, applied, heard = 1.0, [], audio
    if augment_rng is not None:
        res = augment(audio, sr, augment_rng, background=background)
        heard, speed, applied = res.audio, res.speed, res.applied
    mel = log_mel(heard, sr, pad_s=EDGE_PAD_S)
    n_out = math.ceil(len(mel) / 2)
    # Heard time = clean time / speed: output frame i (heard time i / out_rate, less the tone) is clean
    # time i * speed / out_rate, so the targets are sampled at out_rate / speed frames per clean second.
    pad_c = EDGE_PAD_S * speed
    padded = [Phone(p.label, p.start + pad_c, p.end + pad_c) for p in phones]
    quiet = np.zeros(round(pad_c * sr), np.float32)
    clean_padded = np.concatenate([quiet, audio, quiet])
    rate = out_rate / speed
    tgt = targets(padded, rate, duration + 2 * pad_c, clean_padded, sr, seed=seed)
    tgt[:, BLINKS] = 0.0
    if len(tgt) < n_out:
        tgt = np.concatenate([tgt, np.repeat(tgt[-1:], n_out - len(tgt), axis=0)])
    # The viseme sounding at each frame: the timeline covers [0, end) without gaps; past it, silence.
    timeline = normalize_timeline(padded, duration + 2 * pad_c)
    codes = np.array([VISEMES.index(VISEME_OF[p.label]) for p in timeline] + [VISEMES.index("sil")], np.int8)
    t = np.arange(n_out) / rate
    k = np.searchsorted([p.start for p in timeline], t, side="right") - 1
    vis = codes[np.where(t < timeline[-1].end, k, len(timeline))] if timeline else np.zeros(n_out, np.int8)
    return {"mel": mel, "tgt": tgt[:n_out], "vis": vis, "applied": applied}


# The babble's talkers, set in each preparing process by _init_worker.
_TALKERS: TalkerPool | None = None


def _init_worker(talkers: TalkerPool | None) -> None:
    global _TALKERS
    _TALKERS = talkers


def _background(cfg: dict, speaker: str, sr: int, rng: np.random.Generator):
    """The babble or music of an augmented version (or None), drawn by its own ``rng``."""
    from ..speech.augment import draw_background

    pool = _TALKERS
    return draw_background(
        rng,
        sr,
        babble_share=cfg["babble_share"],
        music_share=cfg["music_share"],
        snr_db=(cfg["background_snr_low"], cfg["background_snr_high"]),
        talkers=(cfg["babble_talkers_low"], cfg["babble_talkers_high"]),
        draw_talkers=None
        if pool is None
        else lambda k, r: pool.draw(speaker, k, r, sr, cfg["babble_real_share"]),
    )


def _version(task: tuple) -> dict:
    """One (clip, version) of the corpus: :func:`training_example` with its seeded trim, augmentation and
    background (each from its own seed stream; the background's talkers from the process's pool)."""
    import soundfile as sf

    from ..speech.phones import load_phones

    corpus, cid, version, seed, clip_index, out_rate, trim_share, bg_cfg = task
    phones, meta = load_phones(Path(corpus) / "clips" / f"{cid}.json")
    audio, sr = sf.read(Path(corpus) / "clips" / f"{cid}.flac", dtype="float32")
    rng = np.random.default_rng([seed, clip_index, version, 1])
    train = meta.get("split", "train") == "train"
    span = _trim_to_speech(phones, len(audio) / sr, rng) if train and rng.random() < trim_share else None
    bg_rng = np.random.default_rng([seed, clip_index, version, 2])
    background = _background(bg_cfg, str(meta.get("speaker")), sr, bg_rng) if version > 0 and bg_cfg else None
    ex = training_example(
        audio,
        sr,
        phones,
        span=span,
        augment_rng=np.random.default_rng([seed, clip_index, version]) if version > 0 else None,
        background=background,
        seed=clip_index,
        out_rate=out_rate,
    )
    return {
        "mel": ex["mel"].astype(np.float16),
        "tgt": ex["tgt"].astype(np.float16),
        "vis": ex["vis"],
        "real": meta.get("source") == "real",
        "recognised": "allphone" in str(meta.get("timing", "")),
        "split": meta.get("split", "train"),
        "id": f"{cid}/{version}",
        "applied": ex["applied"] + (["trimmed"] if span else []),
    }


_BACKGROUND_FIELDS = (
    "babble_share", "music_share", "background_snr_low", "background_snr_high", "babble_talkers_low",
    "babble_talkers_high", "babble_real_share",
)  # fmt: skip


def prepare(corpus: Path, work: Path, cfg: TrainConfig, processes: int = 2) -> dict[str, np.ndarray]:
    """Features and targets of every (clip, version), cached in ``work/data.npz``."""
    cache = work / "data.npz"
    if cache.exists():
        with np.load(cache, allow_pickle=False) as z:
            if "vis" not in z.files:
                raise ValueError(
                    f"{cache} was prepared by an older version (no viseme labels, unpadded features): "
                    "delete it or pass another --work folder"
                )
            return {k: z[k] for k in z.files}
    manifest = json.loads((corpus / "manifest.json").read_text())
    talkers = TalkerPool.from_manifest(corpus, manifest)
    bg_cfg = {k: getattr(cfg, k) for k in _BACKGROUND_FIELDS}
    rng = np.random.default_rng([cfg.seed, 99])
    tasks = []
    for i, entry in enumerate(manifest["clips"]):
        real = entry.get("source", "") == "real" or not entry["id"].startswith("syn")
        if entry["split"] != "train":
            n_aug = 0
        elif real:
            n_aug = cfg.real_augmented_versions
        else:
            n_aug = int(rng.random() < cfg.synth_augmented_share)
        tasks += [
            (str(corpus), entry["id"], v, cfg.seed, i, 50.0, cfg.trim_share, bg_cfg) for v in range(n_aug + 1)
        ]
    t0 = time.perf_counter()
    mels, tgts, vis, rows = [], [], [], []
    with Pool(processes, initializer=_init_worker, initargs=(talkers,)) as pool:
        for k, r in enumerate(pool.imap(_version, tasks, chunksize=8)):
            mels.append(r["mel"])
            tgts.append(r["tgt"])
            vis.append(r["vis"])
            rows.append((r["real"], r["recognised"], r["split"] != "train", len(r["mel"]), len(r["tgt"])))
            if (k + 1) % 500 == 0:
                print(f"prepare: {k + 1}/{len(tasks)} versions, {time.perf_counter() - t0:.0f} s", flush=True)
    info = np.array(rows, dtype=np.int64)
    data = {
        "mel": np.concatenate(mels),
        "tgt": np.concatenate(tgts),
        "vis": np.concatenate(vis),
        "real": info[:, 0].astype(bool),
        "recognised": info[:, 1].astype(bool),
        "holdout": info[:, 2].astype(bool),
        "mel_len": info[:, 3],
        "tgt_len": info[:, 4],
        "ids": np.array([f"{t[1]}/{t[2]}" for t in tasks]),
    }
    work.mkdir(parents=True, exist_ok=True)
    tmp = work / "data.tmp.npz"
    np.savez(tmp, **data)
    os.replace(tmp, cache)
    hours = len(data["mel"]) / 360000
    print(f"prepare: {len(tasks)} versions, {hours:.2f} h in {time.perf_counter() - t0:.0f} s")
    return data


# ----------------------------------------------------------------------------------------------- train


class Batches:
    """Random crops with EPA, drawn deterministically from (seed, step)."""

    def __init__(self, data: dict[str, np.ndarray], cfg: TrainConfig, heads, expressions: np.ndarray) -> None:
        self.cfg = cfg
        self.mel, self.tgt, self.vis = data["mel"], data["tgt"], data["vis"]
        self.mel_off = np.concatenate([[0], np.cumsum(data["mel_len"])])
        self.tgt_off = np.concatenate([[0], np.cumsum(data["tgt_len"])])
        self.tgt_len = data["tgt_len"]
        train = ~data["holdout"]
        self.weight = np.where(data["recognised"], cfg.recognised_weight, 1.0).astype(np.float32)
        self.pools = []
        for want_real in (True, False):
            idx = np.flatnonzero(train & (data["real"] == want_real))
            if len(idx):
                p = data["tgt_len"][idx].astype(np.float64)
                self.pools.append((idx, p / p.sum()))
        if not self.pools:
            raise ValueError("the corpus has no training clips")
        self.heads = heads
        self.expressions = expressions
        self.crop = round(cfg.crop_s * 50)

    def __call__(self, step: int) -> tuple[torch.Tensor, ...]:
        cfg, rng = self.cfg, np.random.default_rng([self.cfg.seed, 7, step])
        b, L = cfg.batch_size, self.crop
        mel = np.zeros((b, 2 * L, self.mel.shape[1]), np.float32)
        tgt = np.zeros((b, L, NUM_ARKIT), np.float32)
        mask = np.zeros((b, L), np.float32)
        vis = np.zeros((b, L), np.int64)
        exprs = np.zeros((b, NUM_ARKIT), np.float32)
        lens = np.zeros(b, np.int64)
        for i in range(b):
            # Real recordings make up real_share of each batch (when the corpus has both kinds).
            idx, p = self.pools[0 if rng.random() < cfg.real_share or len(self.pools) == 1 else 1]
            k = int(rng.choice(idx, p=p))
            n = int(self.tgt_len[k])
            start = int(rng.integers(0, max(1, n - L + 1)))
            m = min(L, n - start)
            t0 = self.tgt_off[k] + start
            clip_tgt = self.tgt[t0 : t0 + m].astype(np.float32)
            m0 = self.mel_off[k] + 2 * start
            m_len = min(2 * m, int(self.mel_off[k + 1] - m0))
            mel[i, :m_len] = self.mel[m0 : m0 + m_len]
            if rng.random() >= cfg.neutral_share:
                e = self.expressions[int(rng.integers(len(self.expressions)))]
                exprs[i] = np.clip(e * rng.uniform(cfg.intensity_low, cfg.intensity_high), 0.0, 1.0)
            tgt[i, :m] = clip_tgt
            vis[i, :m] = self.vis[t0 : t0 + m]
            mask[i, :m] = self.weight[k]
            lens[i] = m
        style, faces = epa_faces(self.heads, exprs, cfg.decoded_expression)
        for i in np.flatnonzero(exprs.any(axis=1)):
            tgt[i, : lens[i]] = blend_expression(tgt[i, : lens[i]], faces[i], fps=50.0)
        return tuple(torch.from_numpy(a) for a in (mel, style, tgt, mask, vis))


def epa_faces(heads, exprs: np.ndarray, decoded: bool) -> tuple[np.ndarray, np.ndarray]:
    """(style, face) of each drawn expression (B, 52): the style is its ExpCLIP embedding, the face the
    crop's target carries is the drawn expression itself, or with ``decoded`` the ExpCLIP decoder's face
    of that embedding. Rows of zeros (neutral crops) keep a zero face.

    The embedding is L2-normalised and barely moves between intensities 0.75 and 1.25 (cosine >= 0.985),
    and TEAD holds few faces as strong as a prompt's: trained on the drawn faces, the generator learns
    their mean near the prompt's embedding, 78-90% of the prompt's still face (neighbours of each of the
    six report prompts in TEAD). The decoder reads intensity back from the embedding (97-109% at
    intensity 1, 50-53% at 0.5) and is what ``ExpClip.expression()`` shows, so its faces make the target
    a function of the condition: the face the generator can learn is the still one."""
    style = heads.encode_expression(exprs).astype(np.float32)
    if not decoded:
        return style, exprs
    faces = heads.decode(style).astype(np.float32)
    faces[~exprs.any(axis=1)] = 0.0
    return style, faces


def _channel_weights(cfg: TrainConfig) -> torch.Tensor:
    w = np.full(NUM_ARKIT, cfg.upper_weight, np.float32)
    for name in MOUTH_NAMES:
        w[ARKIT_INDEX[name]] = cfg.mouth_weight
    for name in ("jawOpen", "mouthClose"):
        w[ARKIT_INDEX[name]] = 1.5 * cfg.mouth_weight
    return torch.from_numpy(w / w.mean())


def _aperture(w: torch.Tensor) -> torch.Tensor:
    """:func:`..speech.coarticulation.mouth_aperture` on tensors (before its clip to [0, 1])."""
    return w @ torch.as_tensor(APERTURE_WEIGHTS, dtype=w.dtype)


def _rounding(w: torch.Tensor) -> torch.Tensor:
    """Lip rounding as the evaluation reads it: mouthFunnel + mouthPucker."""
    return w[..., ARKIT_INDEX["mouthFunnel"]] + w[..., ARKIT_INDEX["mouthPucker"]]


def loss_fn(
    logits: torch.Tensor,
    tgt: torch.Tensor,
    mask: torch.Tensor,
    cw: torch.Tensor,
    motion: float,
    aperture: float,
    rounding: float = 0.0,
):
    """Masked, channel-weighted binary cross-entropy on poses (minus the target's own entropy, so a perfect
    fit is 0), L1 on frame-to-frame motion, and L1 on mouth aperture with closed-lip frames weighted x5.

    Cross-entropy rather than L1 on poses: L1 fits the median, and channels that are 0 most of the time
    (mouthClose, mouthPress: only on closures) collapse to 0; a closure blurred by a few percent on each
    channel is an open mouth.
    """
    pred = torch.sigmoid(logits)
    m = mask[..., None]
    t = tgt.clamp(1e-4, 1 - 1e-4)
    kl = torch.nn.functional.binary_cross_entropy_with_logits(logits, tgt, reduction="none")
    kl = kl + t * torch.log(t) + (1 - t) * torch.log(1 - t)
    pose = (kl * cw * m).sum() / (m.sum() * NUM_ARKIT).clamp_min(1.0)
    dm = (mask[:, 1:] * mask[:, :-1])[..., None]
    dpred, dtgt = pred[:, 1:] - pred[:, :-1], tgt[:, 1:] - tgt[:, :-1]
    vel = ((dpred - dtgt).abs() * cw * dm).sum() / (dm.sum() * NUM_ARKIT).clamp_min(1.0)
    ap_tgt = _aperture(tgt).clamp(0.0, 1.0)
    ap_pred = _aperture(pred).clamp(0.0, 1.0)
    ap_w = mask * (1.0 + 4.0 * (ap_tgt < 0.03).float())
    ap = ((ap_pred - ap_tgt).abs() * ap_w).sum() / ap_w.sum().clamp_min(1.0)
    total = pose + motion * 5.0 * vel + aperture * ap
    if rounding > 0:
        # Rounding is a small share of the pose loss (two channels, on a few phones), and the per-channel
        # cross-entropy barely separates 'oo' from 'ee' when both are mostly unrounded: an explicit term.
        rd_tgt, rd_pred = _rounding(tgt), _rounding(pred)
        rd_w = mask * (1.0 + 3.0 * (rd_tgt > 0.3).float())
        total = total + rounding * ((rd_pred - rd_tgt).abs() * rd_w).sum() / rd_w.sum().clamp_min(1.0)
    return total, pose, vel


def _sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def _lr(step: int, cfg: TrainConfig) -> float:
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    frac = (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup)
    return cfg.lr * (0.03 + 0.97 * 0.5 * (1 + math.cos(math.pi * min(frac, 1.0))))


def _save_checkpoint(
    path: Path, model, opt, step: int, log: list, aux: torch.nn.Module | None = None
) -> None:
    from safetensors.torch import save_file

    tensors = {f"model.{k}": v.detach().contiguous() for k, v in model.state_dict().items()}
    if aux is not None:
        tensors.update({f"aux.{k}": v.detach().contiguous() for k, v in aux.state_dict().items()})
    for i, p in enumerate(_trained(model, aux)):
        st = opt.state.get(p, {})
        if st:
            tensors[f"opt.{i}.exp_avg"] = st["exp_avg"].contiguous()
            tensors[f"opt.{i}.exp_avg_sq"] = st["exp_avg_sq"].contiguous()
    tmp = path.with_suffix(".tmp")
    save_file(tensors, str(tmp), metadata={"step": str(step), "log": json.dumps(log)})
    os.replace(tmp, path)


def _trained(model, aux: torch.nn.Module | None) -> list[torch.nn.Parameter]:
    """The optimiser's parameters, in checkpoint order: the generator's, then the training-only head's."""
    return [*model.parameters(), *(aux.parameters() if aux is not None else [])]


def _load_checkpoint(path: Path, model, opt, aux: torch.nn.Module | None = None) -> tuple[int, list]:
    tensors, meta = read_safetensors(path, "Checkpoint", framework="pt")
    model.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
    if aux is not None:
        aux.load_state_dict({k[4:]: v for k, v in tensors.items() if k.startswith("aux.")})
    step = int(meta["step"])
    for i, p in enumerate(_trained(model, aux)):
        if f"opt.{i}.exp_avg" in tensors:
            opt.state[p] = {
                "step": torch.tensor(float(step)),
                "exp_avg": tensors[f"opt.{i}.exp_avg"],
                "exp_avg_sq": tensors[f"opt.{i}.exp_avg_sq"],
            }
    return step, json.loads(meta.get("log", "[]"))


@torch.no_grad()
def _validate(model, data, heads, cw, cfg) -> float:
    """L1 (neutral style) on the held-out clips' clean versions."""
    model.eval()
    idx = np.flatnonzero(data["holdout"])
    style = torch.from_numpy(heads.encode_expression(np.zeros((1, NUM_ARKIT), np.float32)))
    mel_off = np.concatenate([[0], np.cumsum(data["mel_len"])])
    tgt_off = np.concatenate([[0], np.cumsum(data["tgt_len"])])
    losses = []
    for k in idx:
        mel = torch.from_numpy(data["mel"][mel_off[k] : mel_off[k + 1]].astype(np.float32))[None]
        tgt = torch.from_numpy(data["tgt"][tgt_off[k] : tgt_off[k + 1]].astype(np.float32))[None]
        pred = model(mel, style)
        losses.append(float(((pred - tgt).abs() * cw).mean()))
    model.train()
    return float(np.mean(losses)) if losses else math.nan


def _viseme_head(
    model: SpeechToFace, gcfg: GeneratorConfig, cfg: TrainConfig, hidden: list[torch.Tensor]
) -> torch.nn.Linear | None:
    """The training-only viseme classifier (None when its weight is 0); hooks the generator's features it
    reads into ``hidden``.

    Naming the sound forces the features to tell 'oo' from 'ee' and 'm' from 'ah', which the pose losses
    alone reward weakly. It reads the generator's last hidden layer, or block ``cfg.viseme_block``."""
    aux = torch.nn.Linear(gcfg.channels, len(VISEMES)) if cfg.viseme_weight > 0 else None
    if aux is not None and cfg.viseme_block < 0:
        model.out_norm.register_forward_hook(lambda _m, _i, out: hidden.append(out))
    elif aux is not None:  # a block's output is (B, C, T)
        model.blocks[cfg.viseme_block].register_forward_hook(
            lambda _m, _i, out: hidden.append(out.transpose(1, 2))
        )
    return aux


def _resume_or_init(ckpt: Path, init: Path | None, model, opt, aux) -> tuple[int, list]:
    """(step, log) to go on from: the checkpoint's when there is one, else step 0 (with ``init``'s weights
    when given)."""
    if ckpt.exists():
        step, log = _load_checkpoint(ckpt, model, opt, aux)
        print(f"resumed at step {step}")
        return step, log
    if init is not None:
        model.load_state_dict(load_generator(init, device="cpu").state_dict())
        print(f"fine-tuning {init}")
    return 0, []


def _training_info(
    cfg: TrainConfig, init: Path | None, gcfg: GeneratorConfig, model, data: dict, log: list, t_start: float
) -> dict:
    """What the weights file and the training log record about the run."""
    train_s = sum(
        e["time_s"] - (log[i - 1]["time_s"] if i else 0.0) for i, e in enumerate(log) if e["time_s"] >= 0
    )
    return {
        "recipe": asdict(cfg),
        "init": None if init is None else {"file": init.name, "sha256": _sha256(init)},
        "generator_config": asdict(gcfg),
        "parameters": model.num_parameters(),
        "data": {
            "versions": len(data["mel_len"]),
            "hours": round(len(data["mel"]) / 360000, 2),
            "real_versions": int(data["real"].sum()),
            "holdout_versions": int(data["holdout"].sum()),
        },
        "log": log,
        "train_time_s_this_run": round(time.perf_counter() - t_start, 1),
        "train_time_s_logged": round(train_s, 1),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
    }


def train(
    corpus: Path,
    work: Path,
    out: Path,
    cfg: TrainConfig,
    checkpoint_every: int = 250,
    init: Path | None = None,
) -> None:
    """Train (or, with ``init``, fine-tune a trained generator's weights with a fresh optimiser)."""
    from ..tead.expressions import generate_expressions

    torch.manual_seed(cfg.seed)
    data = prepare(corpus, work, cfg)
    t_start = time.perf_counter()  # training time, not the data preparation's
    heads = load_heads(MODELS_DIR / "expclip.safetensors")
    expressions, _ = generate_expressions(cfg.seed)
    batches = Batches(data, cfg, heads, expressions)
    gcfg = GeneratorConfig(style_dim=heads.style_dim)
    model = SpeechToFace(gcfg)
    hidden: list[torch.Tensor] = []
    aux = _viseme_head(model, gcfg, cfg, hidden)
    opt = torch.optim.AdamW(_trained(model, aux), lr=cfg.lr, weight_decay=cfg.weight_decay)
    ckpt = work / "checkpoint.safetensors"
    step, log = _resume_or_init(ckpt, init, model, opt, aux)
    cw = _channel_weights(cfg)
    model.train()
    t0, seen = time.perf_counter(), 0
    while step < cfg.steps:
        mel, style, tgt, mask, vis = batches(step)
        for g in opt.param_groups:
            g["lr"] = _lr(step, cfg)
        hidden.clear()
        logits = model.logits(mel, style)
        loss, pose, vel = loss_fn(
            logits, tgt, mask, cw, cfg.motion_weight, cfg.aperture_weight, cfg.rounding_weight
        )
        if aux is not None:
            ce = torch.nn.functional.cross_entropy(aux(hidden[-1]).transpose(1, 2), vis, reduction="none")
            loss = loss + cfg.viseme_weight * (ce * mask).sum() / mask.sum().clamp_min(1.0)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(_trained(model, aux), 1.0)
        opt.step()
        step += 1
        seen += 1
        if step % 25 == 0:
            rate = (time.perf_counter() - t0) / seen
            print(
                f"step {step}/{cfg.steps} loss {loss.item():.4f} pose {pose.item():.4f} "
                f"motion {vel.item():.4f} lr {_lr(step, cfg):.2e} {rate:.2f} s/step",
                flush=True,
            )
        if step % checkpoint_every == 0 or step == cfg.steps:
            val = _validate(model, data, heads, cw, cfg)
            log.append(
                {
                    "step": step,
                    "loss": float(loss.detach()),
                    "val_l1": val,
                    "time_s": time.perf_counter() - t_start,
                }
            )
            print(f"checkpoint at step {step}: held-out L1 {val:.4f}", flush=True)
            _save_checkpoint(ckpt, model, opt, step, log, aux)
            save_generator(model, work / "generator-latest.safetensors")
    info = _training_info(cfg, init, gcfg, model, data, log, t_start)
    save_generator(model, out, extra={"training": info})
    out.with_suffix(".train-log.json").write_text(json.dumps(info, indent=1))
    print(f"wrote {out}")


# Recipe fields the command line can change (each overrides the recipe file's value when given).
_CLI_RECIPE = (
    "seed", "steps", "lr", "warmup", "rounding_weight", "aperture_weight", "viseme_weight", "viseme_block",
    "trim_share", "upper_weight",
)  # fmt: skip


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """The recipe file's configuration with the options given on the command line in place of theirs."""
    cfg = load_recipe(args.recipe, {"generator": TrainConfig})[1]
    for name in _CLI_RECIPE:
        if getattr(args, name) is not None:
            setattr(cfg, name, getattr(args, name))
    return cfg


def build_parser() -> argparse.ArgumentParser:
    """The training command's options."""
    ap = argparse.ArgumentParser(prog="python -m expclip_train.training.generator", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    ap.add_argument("--recipe", type=Path, default=recipe_path("generator"), help="default: the shipped one")
    ap.add_argument("--corpus", default=str(ROOT / "build" / "corpus"))
    ap.add_argument("--work", default=str(ROOT / "build" / "generator-train"))
    ap.add_argument("--out", default=str(MODELS_DIR / "generator.safetensors"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--checkpoint-every", type=int, default=250)
    ap.add_argument("--prepare-only", action="store_true")
    ap.add_argument("--init", help="fine-tune these generator weights (fresh optimiser and schedule)")
    kinds = {f.name: f.type for f in fields(TrainConfig)}
    for name in _CLI_RECIPE:  # --seed, --steps, --lr, ...: default: the recipe's value
        ap.add_argument("--" + name.replace("_", "-"), type={"int": int, "float": float}[kinds[name]])
    ap.add_argument("--processes", type=int, default=2, help="processes preparing the data")
    ap.add_argument("--data", help="prepared data.npz to use (default: WORK/data.npz, built if missing)")
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    torch.set_num_threads(args.threads)
    cfg = config_from_args(args)
    if args.data:
        work = Path(args.work)
        work.mkdir(parents=True, exist_ok=True)
        link = work / "data.npz"
        if not link.exists():
            link.symlink_to(Path(args.data).resolve())
    if args.prepare_only:
        prepare(Path(args.corpus), Path(args.work), cfg, processes=args.processes)
        return 0
    init = Path(args.init) if args.init else None
    train(Path(args.corpus), Path(args.work), Path(args.out), cfg, args.checkpoint_every, init)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
