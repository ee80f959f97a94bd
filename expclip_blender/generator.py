"""The speech-driven generator: log-mel (100 frames/s) + style embedding -> 52 ARKit weights per frame.

A non-autoregressive stack of residual dilated 1-D convolutions (non-causal: a face moves ahead of the
sound, e.g. lips close before a "b"), each block conditioned on the style embedding by FiLM. The input
stacks ``stride`` consecutive 10 ms feature frames into one (default 2: the network runs at 50 frames/s,
which is finer than any animation rate it is sampled at, and costs half as much). Every layer works per
frame or over a fixed window (LayerNorm over channels, never over time), so output frame t depends only
on the input within +-:attr:`SpeechToFace.receptive_field_frames`; that is what makes chunked inference
(:func:`run_chunked`) equal to a whole-utterance run and lets an hour of audio run in bounded memory.

The style is one embedding per clip, or a *style track*: K embeddings and per-frame mixing weights
(T, K). FiLM is affine in the style, so mixing the K FiLM parameters per frame is exactly conditioning
on the interpolated embedding, at the cost of K embeddings rather than T.

Weights are safetensors with the configuration as JSON in the header (:func:`save_generator`,
:func:`load_generator`); pickle is never loaded.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import cast

import numpy as np
import torch
from torch import nn

from .arkit import NUM_ARKIT
from .cancel import Cancelled, Progress, report_progress
from .device import resolve_device
from .files import parse_json
from .frames import num_frames
from .model_files import ModelFileError, read_safetensors

__all__ = [
    "FORMAT",
    "Cancelled",
    "GeneratorConfig",
    "SpeechToFace",
    "load_generator",
    "run_chunked",
    "save_generator",
    "stack_frames",
    "to_fps",
]

FORMAT = "expclip-speech-generator"
FEATURE_RATE = 100.0  # frames per second of the features
# Upper bounds of a config read from a weights file's header: far above any trained model (128 channels,
# 8 blocks; about a million parameters), low enough that building the layers cannot exhaust memory.
CONFIG_MAX = {
    "n_mels": 512,
    "style_dim": 4096,
    "channels": 4096,
    "blocks": 256,
    "kernel_size": 63,
    "dilation_cycle": 16,
    "n_out": 1024,
    "stride": 16,
}
MAX_PARAMETERS = 200_000_000  # 800 MB of float32


@dataclass
class GeneratorConfig:
    """Shape of a :class:`SpeechToFace`; stored in the weights file's header."""

    n_mels: int = 80
    style_dim: int = 128
    channels: int = 128
    blocks: int = 8
    kernel_size: int = 5
    # Dilations cycle through 1, 2, ..., 2 ** (dilation_cycle - 1): with kernel 5 and 8 blocks that is
    # 2 * (1 + 2 + 4 + 8) * 2 = 60 output frames (1.2 s at stride 2) of context on each side.
    dilation_cycle: int = 4
    n_out: int = NUM_ARKIT
    stride: int = 2  # 10 ms feature frames per output frame

    @property
    def output_rate(self) -> float:
        """Output frames per second."""
        return FEATURE_RATE / self.stride

    def __post_init__(self) -> None:
        # Checked before any layer is built: a header claiming 60,000 channels must fail, not allocate 72 GB.
        for f in fields(self):
            value, high = getattr(self, f.name), CONFIG_MAX[f.name]
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= high:
                raise ValueError(f"'{f.name}' must be a whole number from 1 to {high}, got {value!r}")
        if self.kernel_size % 2 != 1:
            raise ValueError(f"'kernel_size' must be odd (a centred window), got {self.kernel_size}")
        if self.parameter_estimate() > MAX_PARAMETERS:
            raise ValueError(
                f"the config describes {self.parameter_estimate():,} parameters, more than the "
                f"{MAX_PARAMETERS:,} a generator may have"
            )

    def parameter_estimate(self) -> int:
        """The number of parameters (weights and biases) the layers of this config hold."""
        c, d = self.channels, self.style_dim
        block = c * c * self.kernel_size + c + 2 * c + d * 2 * c + 2 * c + c * c + c
        return self.n_mels * self.stride * c + c + self.blocks * block + 2 * c + c * self.n_out + self.n_out

    def dilations(self) -> list[int]:
        return [2 ** (i % self.dilation_cycle) for i in range(self.blocks)]


class _ChannelNorm(nn.LayerNorm):
    """LayerNorm over channels at each frame of a (B, C, T) tensor (never over time: chunks stay exact)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x.transpose(1, 2)).transpose(1, 2)


class _Block(nn.Module):
    """x + Conv1x1(GELU(FiLM(LayerNorm(DilatedConv(x)))))."""

    def __init__(self, channels: int, style_dim: int, kernel_size: int, dilation: int) -> None:
        super().__init__()
        self.conv = nn.Conv1d(
            channels, channels, kernel_size, dilation=dilation, padding=dilation * (kernel_size - 1) // 2
        )
        self.norm = _ChannelNorm(channels)
        self.film = nn.Linear(style_dim, 2 * channels)
        self.mix = nn.Conv1d(channels, channels, 1)
        self.reach = dilation * (kernel_size - 1) // 2  # frames of context on each side

    def forward(self, x: torch.Tensor, style: torch.Tensor, mix: torch.Tensor | None = None) -> torch.Tensor:
        film = self.film(style)  # (B, 2C), or (B, K, 2C) for a style track
        film = film.unsqueeze(-1) if mix is None else torch.einsum("btk,bkc->bct", mix, film)
        scale, shift = film.chunk(2, dim=1)  # (B, C, 1) or (B, C, T) each
        h = self.norm(self.conv(x))
        # 1 + scale: a zero style (or a FiLM layer near zero at the start of training) is the identity.
        h = torch.nn.functional.gelu(h * (1.0 + scale) + shift)
        return x + self.mix(h)


class SpeechToFace(nn.Module):
    """(B, T, n_mels) log-mel at 100 Hz + style -> (B, ceil(T / stride), 52) ARKit weights in [0, 1].

    ``style`` is (B, style_dim), or a style track: (B, K, style_dim) with ``mix`` (B, T_out, K) weights
    (rows summing to 1) saying how much of each style every output frame has.
    """

    def __init__(self, config: GeneratorConfig | None = None) -> None:
        super().__init__()
        self.config = config or GeneratorConfig()
        c = self.config
        self.inp = nn.Linear(c.n_mels * c.stride, c.channels)
        self.blocks = nn.ModuleList(_Block(c.channels, c.style_dim, c.kernel_size, d) for d in c.dilations())
        self.out_norm = nn.LayerNorm(c.channels)
        self.head = nn.Linear(c.channels, c.n_out)

    @property
    def receptive_field_frames(self) -> int:
        """Frames of input on *each* side of frame t that can change output frame t."""
        return sum(cast(_Block, b).reach for b in self.blocks)  # ModuleList items are typed Module

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def forward(
        self, mel: torch.Tensor, style: torch.Tensor, mix: torch.Tensor | None = None
    ) -> torch.Tensor:
        return torch.sigmoid(self.logits(mel, style, mix))

    def logits(self, mel: torch.Tensor, style: torch.Tensor, mix: torch.Tensor | None = None) -> torch.Tensor:
        """Pre-sigmoid outputs (B, T_out, 52), for losses that want them (BCE with logits)."""
        if mel.ndim != 3 or mel.shape[-1] != self.config.n_mels:
            raise ValueError(f"mel must be (B, T, {self.config.n_mels}), got {tuple(mel.shape)}")
        return self.logits_stacked(stack_frames(mel, self.config.stride), style, mix)

    def logits_stacked(
        self, x: torch.Tensor, style: torch.Tensor, mix: torch.Tensor | None = None
    ) -> torch.Tensor:
        """As :meth:`logits`, on features already grouped by :func:`stack_frames`."""
        b, t = x.shape[0], x.shape[1]
        d = self.config.style_dim
        if mix is None:
            if style.shape != (b, d):
                raise ValueError(f"style must be ({b}, {d}), got {tuple(style.shape)}")
        elif (
            style.ndim != 3
            or style.shape[0] != b
            or style.shape[2] != d
            or mix.shape != (b, t, style.shape[1])
        ):
            raise ValueError(
                f"a style track must be style (B, K, {d}) with mix (B, {t}, K), "
                f"got {tuple(style.shape)} and {tuple(mix.shape)}"
            )
        x = self.inp(x).transpose(1, 2)  # (B, C, T) for the convolutions
        for block in self.blocks:
            x = block(x, style, mix)
        return self.head(self.out_norm(x.transpose(1, 2)))


def stack_frames(mel: torch.Tensor, stride: int) -> torch.Tensor:
    """(B, T, F) -> (B, ceil(T / stride), F * stride): consecutive frames side by side, the last repeated."""
    if stride == 1:
        return mel
    b, t, f = mel.shape
    pad = (-t) % stride
    if pad:
        mel = torch.cat([mel, mel[:, -1:].expand(b, pad, f)], dim=1)
    return mel.reshape(b, (t + pad) // stride, f * stride)


@torch.no_grad()
def run_chunked(
    model: SpeechToFace,
    mel: np.ndarray,
    style: np.ndarray,
    device: str | torch.device = "cpu",
    chunk_frames: int = 3000,
    overlap_frames: int | None = None,
    mix: np.ndarray | None = None,
    progress: Progress | None = None,
) -> np.ndarray:
    """(T, n_mels) features + style -> (ceil(T / stride), 52) float32 weights at ``output_rate``.

    ``style`` is (D,), or (K, D) with ``mix`` (T_out, K) for a style track. Output frames are cut into
    cores of ``chunk_frames``; each runs with ``overlap_frames`` of extra input on both sides (so no call
    sees more than ``chunk_frames + 2 * overlap_frames`` frames), and neighbours are crossfaded linearly
    over the middle ``overlap_frames`` frames around each cut. With ``overlap_frames >= 2 * receptive
    field`` (the default) every crossfaded frame is already exact in both chunks, so the result equals a
    single run up to float rounding. ``progress(fraction)`` is called after each chunk; if it returns
    False the run stops and :class:`Cancelled` is raised.
    """
    mel = np.asarray(mel, np.float32)
    style = np.asarray(style, np.float32)
    if mel.ndim != 2:
        raise ValueError(f"mel must be (T, n_mels), got shape {mel.shape}")
    if chunk_frames <= 0:
        raise ValueError(f"chunk_frames must be positive, got {chunk_frames}")
    overlap = 2 * model.receptive_field_frames if overlap_frames is None else int(overlap_frames)
    if overlap < 0:
        raise ValueError(f"overlap_frames must be >= 0, got {overlap_frames}")
    model.eval()  # no dropout or batch statistics at inference, whatever the caller left it in
    device = torch.device(device)
    stride = model.config.stride
    x_all = stack_frames(torch.from_numpy(mel)[None], stride)[0].numpy() if len(mel) else mel[:0]
    n = len(x_all)
    out = np.zeros((n, model.config.n_out), np.float32)
    if n == 0:
        return out
    if mix is None:
        style_t = torch.from_numpy(style.reshape(-1)).to(device)[None]
    else:
        mix = np.asarray(mix, np.float32)
        if style.ndim != 2 or mix.shape != (n, len(style)):
            raise ValueError(
                f"a style track needs style (K, D) and mix ({n}, K), got {style.shape}, {mix.shape}"
            )
        style_t = torch.from_numpy(style).to(device)[None]

    def run(lo: int, hi: int) -> np.ndarray:
        x = torch.from_numpy(np.ascontiguousarray(x_all[lo:hi])).to(device)[None]
        m = None if mix is None else torch.from_numpy(np.ascontiguousarray(mix[lo:hi])).to(device)[None]
        return torch.sigmoid(model.logits_stacked(x, style_t, m))[0].float().cpu().numpy()

    if n <= chunk_frames:
        out = run(0, n)
        report_progress(progress, 1.0)
        return out
    # Half-width of each crossfade: never wider than the extra context, nor than half a core.
    fade = min(overlap // 2, chunk_frames // 2)
    cuts = list(range(chunk_frames, n, chunk_frames))
    starts, ends = [0, *cuts], [*cuts, n]
    for k, (a, b) in enumerate(zip(starts, ends, strict=True)):
        lo, hi = max(0, a - overlap), min(n, b + overlap)
        y = run(lo, hi)
        t = np.arange(lo, hi, dtype=np.float64)
        # Piecewise-linear weights: 1 inside the core, ramps over [cut - fade, cut + fade) at each inner cut
        # that are complementary to the neighbour's, so weights sum to 1 at every frame.
        w = ((t >= a) & (t < b)).astype(np.float64)
        if fade > 0:
            if k > 0:
                ramp = np.clip((t - (a - fade) + 0.5) / (2 * fade), 0.0, 1.0)
                w = np.where(np.abs(t - a + 0.5) < fade, ramp, w)
            if k < len(starts) - 1:
                ramp = np.clip(((b + fade) - t - 0.5) / (2 * fade), 0.0, 1.0)
                w = np.where(np.abs(t - b + 0.5) < fade, ramp, w)
        out[lo:hi] += (w[:, None] * y).astype(np.float32)
        report_progress(progress, b / n)
    return out


def to_fps(frames: np.ndarray, duration_s: float, fps: float, rate: float = FEATURE_RATE) -> np.ndarray:
    """Frames at ``rate`` -> (ceil(duration * fps), C) float32: row i linearly interpolated at i / fps.

    Times past the last frame hold its value (the clamp), so the end of the clip never extrapolates.
    """
    frames100 = np.asarray(frames, np.float32)
    if frames100.ndim != 2:
        raise ValueError(f"frames must be (T, channels), got shape {frames100.shape}")
    n = num_frames(float(duration_s), float(fps))
    if n == 0:
        return np.zeros((0, frames100.shape[1]), np.float32)
    if len(frames100) == 0:
        raise ValueError("no frames to resample")
    pos = np.arange(n, dtype=np.float64) * (float(rate) / float(fps))
    pos = np.clip(pos, 0.0, len(frames100) - 1)
    i0 = np.floor(pos).astype(np.int64)
    i1 = np.minimum(i0 + 1, len(frames100) - 1)
    frac = (pos - i0).astype(np.float32)[:, None]
    return ((1.0 - frac) * frames100[i0] + frac * frames100[i1]).astype(np.float32)


def save_generator(model: SpeechToFace, path: str | Path, extra: dict | None = None) -> None:
    """Write the weights as safetensors, the config (and ``extra`` entries) as JSON in the header."""
    from safetensors.torch import save_file

    tensors = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    metadata = {"format": FORMAT, "config": json.dumps(asdict(model.config))}
    if extra:
        metadata.update({k: json.dumps(v) for k, v in extra.items()})
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(path), metadata=metadata)


def _config_fields(text: str) -> dict:
    """The fields of a GeneratorConfig from a header's JSON; ValueError names what does not fit."""
    data = parse_json(text)
    if not isinstance(data, dict):
        raise ValueError(f"it must be a JSON object of sizes, got {type(data).__name__}")
    known = [f.name for f in fields(GeneratorConfig)]
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise ValueError(
            f"unknown field(s) {', '.join(map(repr, unknown))}; the fields are {', '.join(known)}"
        )
    return data


def load_generator(path: str | Path, device: str = "auto") -> SpeechToFace:
    """Read a generator from safetensors (no code runs) onto ``device`` ("auto", "cpu", "cuda"), in eval mode.

    Raises ModelFileError naming the file and the problem: missing, unreadable, no config, or tensors
    missing, unexpected or of the wrong shape for the stored config.
    """
    path = Path(path)
    name = f"Generator weights '{path}'"
    tensors, metadata = read_safetensors(path, "Generator", framework="pt")
    if metadata.get("format", FORMAT) != FORMAT:
        raise ModelFileError(f"{name} hold a {metadata['format']!r} model, not the speech generator")
    if "config" not in metadata:
        raise ModelFileError(f"{name} have no 'config' entry in their header")
    try:
        config = GeneratorConfig(**_config_fields(metadata["config"]))
    except (json.JSONDecodeError, ValueError) as exc:
        raise ModelFileError(f"{name} have an unusable config in their header: {exc}") from None

    model = SpeechToFace(config)
    expected = model.state_dict()
    missing = sorted(set(expected) - set(tensors))
    unexpected = sorted(set(tensors) - set(expected))
    wrong = [
        f"{k} is {tuple(tensors[k].shape)}, expected {tuple(v.shape)}"
        for k, v in expected.items()
        if k in tensors and tensors[k].shape != v.shape
    ]
    problems = []
    if missing:
        problems.append(f"missing tensors {', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}")
    if unexpected:
        problems.append(
            f"unexpected tensors {', '.join(unexpected[:5])}{' ...' if len(unexpected) > 5 else ''}"
        )
    if wrong:
        problems.append("; ".join(wrong[:5]) + (" ..." if len(wrong) > 5 else ""))
    if problems:
        raise ModelFileError(f"{name} do not fit the stored config: {'; '.join(problems)}")
    bad = [k for k, v in tensors.items() if v.is_floating_point() and not torch.isfinite(v).all()]
    if bad:
        raise ModelFileError(f"{name} contain NaN or infinite values in {', '.join(bad[:5])}")
    model.load_state_dict({k: v.float() for k, v in tensors.items()})
    return model.to(resolve_device(device)).eval()
