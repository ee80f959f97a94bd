"""The public inference API: ``load()`` and the model object it returns."""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .arkit import ARKIT_INDEX, NUM_ARKIT
from .audio import all_finite
from .cancel import Progress
from .curves import smoothstep
from .device import check_device, resolve_device
from .emotion_phrase import (
    PHRASE_APART_MAX_WORDS,
    PHRASE_SHARE,
    bundled_phrase_embeddings,
    bundled_phrase_finder,
    read_whole,
)
from .expclip import ExpClipHeads, load_heads
from .face_rules import bundled_face_rules
from .lexicon import bundled_lexicon
from .limits import (
    check_fps,
    check_gaze_amount,
    check_intensity,
    check_seed,
    check_smoothing,
    check_time,
    check_transition,
)
from .model_folder import EXPCLIP_FILE, GENERATOR_FILE, MODELS_DIR, TEXT_ENCODER_FILE, model_path
from .text_encoder import MAX_TOKENS, MiniLMEncoder, load_text_encoder

if TYPE_CHECKING:  # the generator module imports torch, which expression() alone never needs
    from .generator import SpeechToFace

SILENCE_PEAK = 10 ** (-60 / 20)  # -60 dBFS
_BLINK = [ARKIT_INDEX["eyeBlinkLeft"], ARKIT_INDEX["eyeBlinkRight"]]
_WIDE = [ARKIT_INDEX["eyeWideLeft"], ARKIT_INDEX["eyeWideRight"]]
PHRASE_CACHE_SIZE = 4096  # emotion-phrase styles kept between calls (a few hundred bytes each)
PROMPT_CACHE_SIZE = 256  # prompts' still faces and styles kept between animate() calls


@dataclass(frozen=True)
class ReadingOptions:
    """How the API reads a prompt: each step around the trained heads can be switched off, to measure
    what it brings (the evaluation report's ablation). The defaults are what ships."""

    wordnet_backoff: bool = True  # unseen words get trained stand-ins (lexicon.py)
    phrase_apart: bool = True  # the one emotion phrase is also read alone (emotion_phrase.py)
    phrase_share: float = PHRASE_SHARE  # that reading's share of the prompt's style
    phrase_apart_max_words: int = PHRASE_APART_MAX_WORDS  # longer prompts (sentences) are read whole only
    face_rules: bool = True  # antagonistic pairs, sides and named brows (face_rules.py)


@dataclass(frozen=True)
class StyleCue:
    """From ``time_s`` (seconds from the start of the audio) on, the face speaks in ``prompt``'s style."""

    time_s: float
    prompt: str
    intensity: float = 1.0

    def __post_init__(self) -> None:
        # Checked when made, so a NaN time from a marker or the command line fails before any work.
        object.__setattr__(self, "time_s", check_time(self.time_s, "a cue's time_s"))
        object.__setattr__(self, "intensity", check_intensity(self.intensity, "a cue's intensity"))
        if not isinstance(self.prompt, str):
            raise ValueError(f"a cue's prompt must be text, got {self.prompt!r}")


def audio_is_silent(audio: np.ndarray) -> bool:
    """True when ``audio`` holds nothing audible (its peak is below -60 dBFS, or it is empty)."""
    a = np.asarray(audio)
    return a.size == 0 or float(np.nanmax(np.abs(a))) < SILENCE_PEAK


class ExpClip:
    """Text and expressions in one style space, and prompts turned into faces.

    Build it with :func:`load`. All outputs are numpy arrays in ARKit order (``ARKIT_NAMES``).
    """

    def __init__(
        self,
        heads: ExpClipHeads,
        text_encoder: MiniLMEncoder,
        device: str = "auto",
        generator_path: str | Path | None = None,
        options: ReadingOptions | None = None,
    ) -> None:
        self.heads = heads
        self.options = options or ReadingOptions()
        self.face_rules = bundled_face_rules() if self.options.face_rules else None
        self.text_encoder = text_encoder
        self.device = device
        self.generator_path = Path(generator_path) if generator_path else MODELS_DIR / GENERATOR_FILE
        # Loaded on first use: torch is only imported when speech is animated.
        self._generator: SpeechToFace | None = None
        # (prompt, intensity) -> (still face, style): prompts recur bake after bake
        self._prompts: dict[tuple[str, float], tuple[np.ndarray, np.ndarray]] = {}
        self.lexicon = bundled_lexicon()
        self.phrase_finder = bundled_phrase_finder()  # over the same table; compiled once per process
        self._phrase_styles: dict[str, np.ndarray] = {}  # emotion phrases recur across prompts
        # Shipped encodings of the bare trained phrases: only phrases with intensity words are encoded live.
        identity = getattr(text_encoder, "identity", "")
        self.phrase_embeddings = bundled_phrase_embeddings(identity) if self.phrase_finder is not None else {}

    @property
    def generator(self) -> SpeechToFace:
        """The speech-driven generator (:class:`.generator.SpeechToFace`), loaded on first use."""
        if self._generator is None:
            from .generator import load_generator

            gen = load_generator(self.generator_path, device=self.device)
            if gen.config.style_dim != self.style_dim:
                from .model_files import ModelFileError

                raise ModelFileError(
                    f"Generator weights '{self.generator_path}' expect {gen.config.style_dim}-d styles, but "
                    f"the ExpCLIP model makes {self.style_dim}-d ones: use a generator trained with it"
                )
            self._generator = gen
        return self._generator

    @property
    def style_dim(self) -> int:
        return self.heads.style_dim

    def embed_text(self, prompts: str | list[str]) -> np.ndarray:
        """(N, D) L2-normalised style embeddings of prompts (a single string gives N = 1)."""
        prompts = [prompts] if isinstance(prompts, str) else list(prompts)
        if not prompts:
            return np.zeros((0, self.style_dim), np.float32)
        cleaned = [_clean_prompt(p) for p in prompts]
        texts = [self.with_known_words(p) for p in cleaned]
        finder = self.phrase_finder if self.options.phrase_apart else None
        longest = self.options.phrase_apart_max_words
        phrases = [
            finder.read_apart(p) if finder is not None and not read_whole(p, longest) else [] for p in cleaned
        ]
        wanted = {f for found in phrases for f in found}
        if len(self._phrase_styles) + len(wanted) > PHRASE_CACHE_SIZE:
            self._phrase_styles.clear()
        new = sorted(wanted - self._phrase_styles.keys())
        stored = [f for f in new if f in self.phrase_embeddings]
        extra = [f for f in new if f not in self.phrase_embeddings]
        # One encoder call for prompts and new phrases: its cost is mostly streaming the weights once.
        embeddings = self.text_encoder.encode(texts + extra)
        if stored:
            embeddings = np.concatenate([embeddings, np.stack([self.phrase_embeddings[f] for f in stored])])
        styles = self.heads.project_text(embeddings)
        out = styles[: len(texts)].copy()
        self._phrase_styles.update(zip(extra + stored, styles[len(texts) :].copy(), strict=True))
        share = self.options.phrase_share
        for i, found in enumerate(phrases):
            if found:
                alone = _unit(np.mean([self._phrase_styles[f] for f in found], axis=0))
                out[i] = _unit((1.0 - share) * out[i] + share * alone)
        return out

    def with_known_words(self, prompt: str) -> str:
        """The prompt as the encoder reads it: words unseen in training get known stand-ins appended
        (:mod:`.lexicon`), unless that would push the prompt past the encoder's length."""
        lexicon = self.lexicon if self.options.wordnet_backoff else None
        expanded = lexicon.expand(prompt) if lexicon is not None and prompt else prompt
        if expanded != prompt and len(self.text_encoder.tokenizer.encode(expanded).ids) > MAX_TOKENS:
            return prompt
        return expanded

    def embed_expression(self, weights: np.ndarray) -> np.ndarray:
        """(N, 52) ARKit weights -> (N, D) style embeddings in the same space as :meth:`embed_text`."""
        weights = np.asarray(weights, np.float32)
        if weights.ndim == 1:
            weights = weights[None]
        return self.heads.encode_expression(weights)

    def decode(self, style: np.ndarray) -> np.ndarray:
        """(N, D) style embeddings -> (N, 52) ARKit weights in [0, 1]."""
        return self.heads.decode(np.atleast_2d(style))

    def expression(self, prompt: str, intensity: float = 1.0) -> np.ndarray:
        """The static face a prompt describes: (52,) ARKit weights in [0, 1].

        ``intensity`` 0 gives the neutral face, 1 the face as prompted, up to 2 exaggerates (values are
        clipped to [0, 1]; ``limits.INTENSITY_RANGE``). An empty prompt means neutral.
        """
        return self.faces([prompt], intensity)[0]

    def faces(self, prompts: str | Sequence[str], intensity: float = 1.0) -> np.ndarray:
        """(N, 52) the faces of several prompts at once, each as :meth:`expression` makes it.

        The decoded face obeys the face rules (``face_rules.toml``): symmetric unless the prompt asks for
        a side, a smirk or a half smile; a named raised brow visibly raised (both before ``intensity``
        scales the face); no antagonistic pair of shapes both above 0.4 (after it)."""
        intensity = check_intensity(intensity)
        cleaned = [_clean_prompt(p) for p in ([prompts] if isinstance(prompts, str) else prompts)]
        out = np.zeros((len(cleaned), NUM_ARKIT), np.float32)
        live = [i for i, p in enumerate(cleaned) if p] if intensity > 0 else []
        if not live:
            return out
        decoded = self.heads.decode(self.embed_text([cleaned[i] for i in live]))
        rules = self.face_rules
        for i, face in zip(live, decoded, strict=True):
            out[i] = rules.shape(face, cleaned[i]) if rules is not None else face
        out = np.clip(out * np.float32(intensity), 0.0, 1.0)
        return (rules.resolve(out) if rules is not None else out).astype(np.float32)

    def style_of(self, prompt: str, intensity: float = 1.0) -> np.ndarray:
        """The generator's condition for a prompt: (D,) the expression embedding of ``expression()``.

        The generator was trained on expression-encoder embeddings (EPA); going through the decoded face
        puts a prompt in exactly that space, and makes ``intensity`` mean the same as in ``expression()``.
        """
        return self._face_and_style(prompt, intensity)[1].copy()

    def _face_and_style(self, prompt: str, intensity: float) -> tuple[np.ndarray, np.ndarray]:
        """(``expression()``, ``style_of()``) of a prompt, kept: animate() needs both, call after call."""
        key = (_clean_prompt(prompt), check_intensity(intensity))
        found = self._prompts.get(key)
        if found is None:
            if len(self._prompts) >= PROMPT_CACHE_SIZE:
                self._prompts.clear()
            face = self.expression(prompt, intensity)
            found = self._prompts[key] = (face, self.embed_expression(face)[0])
        return found

    def animate(
        self,
        audio: np.ndarray,
        sample_rate: int,
        prompt: str = "neutral",
        fps: float = 30.0,
        intensity: float = 1.0,
        *,
        cues: Sequence[StyleCue] | None = None,
        transition_s: float = 0.5,
        blinks: bool = True,
        gaze: bool = True,
        gaze_amount: float = 1.0,
        smoothing: float = 0.0,
        seed: int = 0,
        progress: Progress | None = None,
    ) -> np.ndarray:
        """Speech -> (ceil(duration * fps), 52) ARKit weights in [0, 1]; row i is the face at i / fps.

        ``audio`` is mono at any sample rate (multichannel is mixed down); a line trimmed right at its
        first and last sound animates to its edges (the generator hears it inside quiet room tone,
        ``features.EDGE_PAD_S`` each side). ``cues`` change the style
        during the clip (each from its time on); the style embedding crossfades over ``transition_s``
        around each cue. ``blinks`` adds
        procedural blinks and ``gaze`` procedural eye movement (``gaze.py``; ``gaze_amount`` 0..2, 1 = the
        modest default, biased by the prompt's face), both deterministic from ``seed``; ``smoothing``
        (0..1) smooths motion over up to 60 ms. ``progress(fraction)`` is called as the work advances;
        returning False cancels (raises :class:`Cancelled`).
        """
        from .features import EDGE_PAD_S, FEATURE_RATE, log_mel
        from .generator import run_chunked, to_fps

        fps, intensity, smoothing = check_fps(fps), check_intensity(intensity), check_smoothing(smoothing)
        transition_s, seed = check_transition(transition_s), check_seed(seed)
        gaze_amount = check_gaze_amount(gaze_amount) if gaze else 0.0
        if any(not isinstance(c, StyleCue) for c in cues or []):
            raise ValueError("cues must be StyleCue(time_s, prompt, intensity) objects")
        audio = _check_audio(audio, sample_rate)
        duration = len(audio) / float(sample_rate)
        cues = sorted(cues or [], key=lambda c: c.time_s)
        styles = np.stack(
            [self.style_of(prompt, intensity)] + [self.style_of(c.prompt, c.intensity) for c in cues]
        )
        model = self.generator
        # The clip sits in room tone (features.EDGE_PAD_S each side, a whole number of output frames), so
        # a line trimmed mid-word still moves the mouth to its last sound; the padding is cut off again.
        mel = log_mel(audio, sample_rate, pad_s=EDGE_PAD_S)
        rate, stride = model.config.output_rate, model.config.stride
        pad = round(EDGE_PAD_S * FEATURE_RATE) // stride
        n_clip = math.ceil(len(mel) / stride) - 2 * pad
        mix = None
        if cues:
            t = (np.arange(n_clip + 2 * pad) - pad) / rate
            mix = style_mix(t, [c.time_s for c in cues], transition_s)
        else:
            styles = styles[0]
        frames = run_chunked(model, mel, styles, device=_torch_device(model), mix=mix, progress=progress)
        frames = frames[pad : pad + n_clip]
        out = to_fps(frames, duration, fps, rate=rate)
        if smoothing > 0 and len(out) > 1:
            out = _gaussian_smooth(out, sigma_frames=smoothing * 0.06 * fps)
        if (blinks or gaze_amount > 0) and len(out):
            face = self._face_and_style(prompt, intensity)[0] if gaze_amount > 0 else None  # read only
            _add_eyes(out, fps, seed, audio, sample_rate, blinks, gaze_amount, face)
        out = np.clip(out, 0.0, 1.0)
        # The frames obey the same antagonistic-pair rule as the still face of expression().
        return (self.face_rules.resolve(out) if self.face_rules is not None else out).astype(np.float32)


def _add_eyes(
    out: np.ndarray,
    fps: float,
    seed: int,
    audio: np.ndarray,
    sample_rate: int,
    blinks: bool,
    gaze_amount: float,
    face: np.ndarray | None,
) -> None:
    """Add the procedural blinks and eye movement to ``out`` (frames, 52) in place."""
    from .blinks import blink_curve, blink_starts, pause_starts
    from .gaze import GAZE_INDEX, gaze_curves, gaze_style

    pauses = pause_starts(audio, sample_rate)
    if blinks:
        blink = blink_curve(len(out), fps, seed=seed, pauses=pauses)
        out[:, _BLINK] = 1.0 - (1.0 - out[:, _BLINK]) * (1.0 - blink[:, None])
        out[:, _WIDE] *= 1.0 - blink[:, None]  # the closing lid takes the raised upper lid down with it
    if gaze_amount > 0 and face is not None:
        # Larger gaze shifts go with the blinks when there are any; added to the generator's own gaze.
        starts = blink_starts(len(out), fps, seed=seed, pauses=pauses) if blinks else None
        style = gaze_style(face)
        out[:, GAZE_INDEX] += gaze_curves(len(out), fps, seed, pauses, starts, gaze_amount, style)


def style_mix(times: np.ndarray, cue_times: Sequence[float], transition_s: float) -> np.ndarray:
    """(T, K + 1) weights of the styles before and after each cue at ``times``: rows sum to 1.

    Style k + 1 takes over from style k in a smoothstep centred on cue k's time, ``transition_s`` wide.
    """
    times = np.asarray(times, np.float64)
    take = []  # how far each cue's style has taken over, 0..1
    for c in cue_times:
        if transition_s > 0:
            take.append(smoothstep((times - c) / transition_s + 0.5))
        else:
            take.append((times >= c).astype(np.float64))
    # Telescoping: style k holds take[k-1] - take[k] (with take[-1] = 1, take[K] = 0).
    held = np.stack([np.ones_like(times), *take, np.zeros_like(times)], axis=1)
    held = np.minimum.accumulate(held, axis=1)  # later cues never exceed earlier ones (overlapping fades)
    return (held[:, :-1] - held[:, 1:]).astype(np.float32)


def _unit(v: np.ndarray) -> np.ndarray:
    return (v / max(float(np.linalg.norm(v)), 1e-12)).astype(np.float32)


def _gaussian_smooth(x: np.ndarray, sigma_frames: float) -> np.ndarray:
    if sigma_frames < 0.3:
        return x
    radius = max(1, math.ceil(3 * sigma_frames))
    k = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma_frames) ** 2)
    k /= k.sum()
    padded = np.pad(x, ((radius, radius), (0, 0)), mode="edge")
    return np.stack([np.convolve(padded[:, j], k, mode="valid") for j in range(x.shape[1])], axis=1)


def _check_audio(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    a = np.asarray(audio, np.float32)
    if a.ndim == 2 and min(a.shape) <= 8:
        # Multichannel: (samples, channels) as soundfile reads it, or (channels, samples). Kept as
        # (samples, channels) and mixed down block by block where it is read (features, pauses): an hour
        # of 48 kHz mixed down whole would be 690 MB.
        a = a if a.shape[1] <= a.shape[0] else a.T
        a = a[:, 0] if a.shape[1] == 1 else a
    elif a.ndim != 1:
        raise ValueError(f"audio must be mono samples (or up to 8 channels), got shape {a.shape}")
    if not isinstance(sample_rate, (int, np.integer)) or sample_rate < 1000:
        raise ValueError(f"sample_rate must be a whole number of Hz (8000 or more), got {sample_rate!r}")
    if a.size == 0:
        raise ValueError("the audio is empty (zero samples): choose a clip with sound in it")
    if not all_finite(a):
        a = np.nan_to_num(a, nan=0.0, posinf=1.0, neginf=-1.0)
    return a


def _torch_device(model) -> str:
    return str(next(model.parameters()).device)


def _clean_prompt(prompt: object) -> str:
    if prompt is None:
        return ""
    if not isinstance(prompt, str):
        raise TypeError(f"a prompt must be text, got {type(prompt).__name__}")
    # Lone surrogates (from a broken paste or a filename decoded with surrogateescape) are not text the
    # tokenizer accepts: pairs are joined into their character, lone ones dropped.
    prompt = prompt.encode("utf-16", "surrogatepass").decode("utf-16", "replace").replace("\ufffd", " ")
    return " ".join(prompt.split())


def load(
    device: str = "auto", models_dir: str | Path | None = None, options: ReadingOptions | None = None
) -> ExpClip:
    """Load the bundled trained models (``expclip_blender/models/``); nothing is downloaded.

    ExpCLIP itself runs in numpy (a prompt is one short sentence; this keeps ``load()`` and
    ``expression()`` fast and torch-free); ``device`` ("auto", "cpu" or "cuda") is for the generator, which
    is loaded on the first ``animate()``. ``models_dir``: a folder of custom weights; a file it does not
    have (``expclip.safetensors``, ``text_encoder.safetensors``, ``generator.safetensors``) comes from the
    bundled models. The text encoder is the one the ExpCLIP heads were trained with (their header says
    whether it has fine-tuned layers, and which).
    ``options``: how prompts are read (:class:`ReadingOptions`; the default is what ships).
    """
    if check_device(device) == "cuda":
        resolve_device(device)  # fail now, with the reason, rather than at the first animation
    heads = load_heads(model_path(models_dir, EXPCLIP_FILE))
    encoder = load_text_encoder(heads.metadata, model_path(models_dir, TEXT_ENCODER_FILE))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        encoder.encode(["warm up"])  # pay the first call's imports here, not on the first prompt
    return ExpClip(
        heads, encoder, device=device, generator_path=model_path(models_dir, GENERATOR_FILE), options=options
    )
