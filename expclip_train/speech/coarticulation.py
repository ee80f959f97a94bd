r"""The lip-sync target model: timed phones (+ the audio's loudness) -> per-frame ARKit weights.

This is what the speech-driven generator is trained to reproduce, so it has to be right by construction
on what the evaluation checks (lips closed on p/b/m, open on open vowels, closed in pauses, in sync,
rounded on uw/ow/w).

Model
-----
Time is continuous: every channel is a function of t (seconds) sampled at frame times t_i = i / fps,
i = 0 .. ceil(duration * fps) - 1, so any frame rate (24, 25, 29.97, 30, 60...) samples the same motion.
Phones are first made into a gap-free timeline (gaps are ``SIL``).

1. **Articulatory targets blended by dominance** (Cohen & Massaro 1993). Each phone k on [s_k, e_k]
   has, per articulatory parameter, a target T_k and a dominance

   .. math:: D_k(t) = \alpha_k \exp\!\big(-\max(0, s_k - t)/w^{pre} - \max(0, t - e_k)/w^{post}\big)

   (full strength inside the phone, decaying exponentially before it, the anticipatory part, and after
   it, the carry-over part). The parameter is :math:`\sum_k D_k T_k / \sum_k D_k`. Phones that do not
   use an articulator have a small alpha there, so their neighbours' shape runs through them (e.g. lip
   rounding of "oo" spreads back across "s t" in "stoop"). Jaw and lips are separate parameters, as in
   JALI (Edwards et al. 2016):

   - *jaw*: target = openness(phone) (see :data:`phones.OPENNESS`: AA 1 ... IY/UW 0.25, consonants
     0-0.45) x ``jaw_scale``; vowels are further scaled by the vowel's loudness
     (``loud_floor + (1 - loud_floor) * loudness``; loudness 0..1 is the vowel's RMS level relative to
     the clip's loud speech, 30 dB range), so stressed, loud vowels open wider. Sibilants and
     labiodentals hold the jaw up with full dominance, labials, dentals and alveolars with 0.6-0.75 (the
     jaw rises between two vowels), velars 0.45; HH lets the vowel's jaw through. The jaw's dominance
     decays over 30 ms, so the aperture follows the phones' openness (:func:`mouth_aperture` against
     :data:`phones.OPENNESS` frame by frame: correlation 0.72 on real English, 0.57 with 70 ms).
   - *rounding* -> ``mouthFunnel`` / ``mouthPucker``: UW, W pucker (0.9) with some funnel; OW, AO, OY
     funnel; postalveolars (SH CH JH ZH) and R slightly; spread and unrounded vowels pull to 0 with
     high dominance. Anticipation is wider than carry-over (rounding starts early).
   - *spreading* -> ``mouthStretch`` / ``mouthSmile`` (slight): IY > IH, EY > EH, AE, Y.
   - *teeth show* -> ``mouthLowerDown`` / ``mouthUpperUp`` without jaw: CH JH SH ZH > S Z > T D N TH DH.
   - *tongue* -> ``tongueOut`` small on TH/DH.

2. **Lip constraints that blending cannot guarantee** (blending never reaches a target fully when
   the phone is short): closure functions in [0, 1], the maximum over phones of a plateau with smooth
   (smoothstep) ramps.

   - *bilabial closure* C(t) for P, B, M: 1 on the phone, a phone shorter than ``min_closure`` (50 ms)
     widened to it (backwards first, as lips close ahead of the sound, but never into the middle of a
     neighbouring vowel; animation practice holds a bilabial for at least one frame, and any frame rate
     of 20 fps or more then has a frame inside it); it ramps up over ``bilabial_lead`` (120 ms) *before*
     the phone (lips start closing 100-150 ms before the sound) and releases over ``bilabial_release``
     (70 ms), both ramps shortened where a vowel is nearer (never past the vowel's middle, at least
     20 ms), so a vowel between two closures still opens. Lips sealed = ``mouthClose`` equal to
     ``jawOpen`` (ARKit's mouthClose is a corrective that closes the lips against an open jaw), plus, once
     the lips meet (C > 0.8), ``mouthPress`` (P/B 0.35, M 0.2) and a little ``mouthRollLower``/``Upper``.
   - *labiodental* L(t) for F, V (lower lip under the upper teeth): plateau on the phone (at least
     50 ms), 90 ms lead, 60 ms release: ``mouthRollLower`` 0.45, ``mouthUpperUp`` 0.12, no lip drop.

3. **Pauses**: a ``SIL`` of at least ``pause_min`` (120 ms) brings the whole mouth to rest (all mouth
   channels 0: relaxed and closed): a rest weight r(t) rises over ``pause_close`` (80 ms) after the
   speech stops and falls over ``pause_open`` (100 ms) before it resumes (the mouth opens ahead of the
   sound); every mouth channel is multiplied by 1 - r(t). Clip edges in silence rest from/to the edge.

4. **Non-speech motion** (:func:`nonspeech_motion`, deterministic from a seed, independent of fps):
   blinks (``eyeBlinkLeft/Right``) every 2-6 s, each 150-250 ms (fast close 40%, slower open 60%),
   drawn towards the start of long pauses (people blink at phrase boundaries); brow raises
   (``browInnerUp`` and, smaller, ``browOuterUpLeft/Right``, 0.08-0.28) on emphasis: the loudest
   vowels (top 20% of the clip, at least 0.7 s apart), rising 120 ms ahead of the vowel and decaying
   over about 250 ms after it.

Channel assembly (J jaw, C closure, L labiodental, F/P funnel/pucker, S spread, E teeth show,
seal = smoothstep((C - 0.8) / 0.2), open = (1 - C)(1 - L); every mouth channel then x (1 - r)):

    jawOpen = J                     mouthClose = C J              mouthPress = press(phone) seal
    mouthRollLower = 0.15 seal + 0.45 L                           mouthRollUpper = 0.1 seal
    mouthLowerDown = open (0.35 J + 0.1 E)                      mouthUpperUp = open (0.15 J + 0.1 E) + 0.12 L
    mouthFunnel = F (1 - 0.5 C)     mouthPucker = P               mouthStretch = 0.25 S (1 - C)
    mouthSmile = 0.1 S              tongueOut = tongue

Mouth aperture
--------------
:func:`mouth_aperture` reads "how far apart are the lips" back from any ARKit weights (targets, a
model's output, a face capture), for the metrics and for comparing with other lip-sync tools:

    aperture = clip(jawOpen - mouthClose + 0.5 lowerDown + 0.25 upperUp
                    - 0.25 (rollLower + rollUpper) - 0.5 press - 0.15 pucker, 0, 1)

(lowerDown, upperUp, press: means of left and right). jawOpen - mouthClose is the lip gap ARKit's
corrective implies; lip drop adds to it; rolled, pressed and puckered lips take from it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from expclip_blender.arkit import ARKIT_INDEX, NUM_ARKIT
from expclip_blender.blinks import blink_events
from expclip_blender.curves import raised, smoothstep
from expclip_blender.frames import frame_times, num_frames
from expclip_blender.loudness import loudness_envelope

from .phones import (
    BILABIALS,
    LABIODENTALS,
    OPENNESS,
    SIL,
    VOWELS,
    Phone,
    normalize_timeline,
)

__all__ = [
    "DEFAULT_PARAMS",
    "CoarticulationParams",
    "frame_times",
    "loudness_envelope",
    "mouth_aperture",
    "nonspeech_motion",
    "num_frames",
    "rest_weight",
    "speech_targets",
    "targets",
]

_I = ARKIT_INDEX


@dataclass(frozen=True)
class CoarticulationParams:
    """The model's constants (seconds unless stated); the defaults are the documented model."""

    jaw_scale: float = 0.6  # jawOpen of the most open vowel (AA) at full loudness
    loud_floor: float = 0.55  # jaw gain of the quietest vowel
    loud_range_db: float = 30.0  # loudness 0..1 spans this many dB below the clip's loud speech
    # Jaw dominance decay before / after a phone: short enough that the jaw moves phone by phone (0.07
    # blurred each phone's opening over its neighbours: aperture/openness correlation 0.57 -> 0.72).
    jaw_pre: float = 0.03
    jaw_post: float = 0.03
    round_pre: float = 0.10  # rounding anticipates more than it carries over
    round_post: float = 0.06
    lip_pre: float = 0.06  # spreading, teeth show, tongue
    lip_post: float = 0.05
    # Lip parting without the jaw (mouthLowerDown / mouthUpperUp) per unit of teeth show: sibilants part
    # the lips a little, the teeth stay together (0.2 opened an "s" as far as an "ih").
    teeth_lips: float = 0.1
    min_closure: float = 0.05
    bilabial_lead: float = 0.12
    bilabial_release: float = 0.07
    min_labiodental: float = 0.05
    labiodental_lead: float = 0.09
    labiodental_release: float = 0.06
    pause_min: float = 0.12
    pause_close: float = 0.08
    pause_open: float = 0.10


DEFAULT_PARAMS = CoarticulationParams()

# Per-phone (target, dominance) for each blended parameter. Jaw targets come from OPENNESS.
# Consonants hold their own (raised) jaw against the neighbouring vowels' (alpha 1) strongly enough that
# the jaw rises between two vowels: with lower values a "t" between two vowels kept 60% of their opening,
# and the aperture followed the phones' openness no better than loudness does.
_JAW_ALPHA: dict[str, float] = {
    SIL: 1.0, "HH": 0.05, "K": 0.45, "G": 0.45, "NG": 0.45, "W": 0.6, "Y": 0.6, "R": 0.6, "L": 0.6,
    "T": 0.6, "D": 0.6, "N": 0.6, "TH": 0.75, "DH": 0.75, "P": 0.75, "B": 0.75, "M": 0.75, "F": 1.0,
    "V": 1.0, "S": 1.0, "Z": 1.0, "SH": 1.0, "ZH": 1.0, "CH": 1.0, "JH": 1.0,
}  # fmt: skip
_JAW_ALPHA_DEFAULT = 0.6
# (funnel, pucker, dominance)
_ROUND: dict[str, tuple[float, float, float]] = {
    "UW": (0.4, 0.9, 2.0), "W": (0.3, 0.9, 2.0), "UH": (0.3, 0.5, 1.0), "OW": (0.6, 0.4, 2.0),
    "AO": (0.4, 0.15, 1.0), "OY": (0.4, 0.3, 1.0), "AW": (0.25, 0.2, 0.6), "ER": (0.25, 0.2, 0.8),
    "R": (0.3, 0.2, 0.8), "SH": (0.35, 0.2, 0.6), "ZH": (0.35, 0.2, 0.6), "CH": (0.35, 0.2, 0.6),
    "JH": (0.35, 0.2, 0.6),
    "IY": (0.0, 0.0, 2.0), "IH": (0.0, 0.0, 2.0), "EH": (0.0, 0.0, 2.0), "EY": (0.0, 0.0, 1.5),
    "AE": (0.0, 0.0, 1.0), "AA": (0.0, 0.0, 0.8), "AH": (0.0, 0.0, 0.8), "AY": (0.0, 0.0, 0.8),
    "Y": (0.0, 0.0, 1.0), "F": (0.0, 0.0, 0.5), "V": (0.0, 0.0, 0.5), SIL: (0.0, 0.0, 0.6),
}  # fmt: skip
_ROUND_DEFAULT = (0.0, 0.0, 0.05)  # other consonants: transparent to rounding
_SPREAD: dict[str, tuple[float, float]] = {  # (target, dominance)
    "IY": (1.0, 1.0), "IH": (0.6, 1.0), "EY": (0.6, 1.0), "EH": (0.5, 1.0), "AE": (0.4, 1.0),
    "Y": (0.6, 0.6), "S": (0.3, 0.3), "Z": (0.3, 0.3), "UW": (0.0, 1.5), "W": (0.0, 1.5),
    "OW": (0.0, 1.5), "UH": (0.0, 1.0), "AO": (0.0, 1.0), "OY": (0.0, 1.0), SIL: (0.0, 0.6),
}  # fmt: skip
_SPREAD_DEFAULT = (0.0, 0.1)
_TEETH: dict[str, tuple[float, float]] = {
    "CH": (1.0, 0.8), "JH": (1.0, 0.8), "SH": (1.0, 0.8), "ZH": (1.0, 0.8), "S": (0.6, 0.6),
    "Z": (0.6, 0.6), "T": (0.3, 0.3), "D": (0.3, 0.3), "N": (0.3, 0.3), "TH": (0.3, 0.3),
    "DH": (0.3, 0.3),
}  # fmt: skip
_TEETH_DEFAULT = (0.0, 0.5)
_TONGUE = {"TH": (0.15, 1.0), "DH": (0.12, 1.0)}
_TONGUE_DEFAULT = (0.0, 0.5)
_PRESS = {"P": 0.35, "B": 0.35, "M": 0.2}

_MOUTH_IDX = np.array(
    [i for n, i in ARKIT_INDEX.items() if n.startswith(("jaw", "mouth")) or n == "tongueOut"]
)


def _phone_loudness(phones: Sequence[Phone], times: np.ndarray, loud: np.ndarray) -> np.ndarray:
    """Mean loudness over each phone (the nearest envelope value for phones shorter than a hop)."""
    out = np.empty(len(phones))
    for k, p in enumerate(phones):
        lo, hi = np.searchsorted(times, [p.start, p.end])
        out[k] = loud[lo:hi].mean() if hi > lo else loud[min(lo, len(loud) - 1)]
    return out


def _blend(
    t: np.ndarray,
    phones: Sequence[Phone],
    target: np.ndarray,
    alpha: np.ndarray,
    w_pre: float,
    w_post: float,
) -> np.ndarray:
    """Cohen-Massaro blend: sum_k D_k T_k / sum_k D_k with plateau-exponential dominance functions."""
    num = np.zeros_like(t)
    den = np.full_like(t, 1e-9)
    reach_pre, reach_post = 8.0 * w_pre, 8.0 * w_post  # beyond this a dominance is < e^-8
    for k, p in enumerate(phones):
        lo, hi = np.searchsorted(t, [p.start - reach_pre, p.end + reach_post])
        if hi <= lo or alpha[k] <= 0:
            continue
        tt = t[lo:hi]
        d = alpha[k] * np.exp(-np.maximum(p.start - tt, 0.0) / w_pre - np.maximum(tt - p.end, 0.0) / w_post)
        num[lo:hi] += d * target[k]
        den[lo:hi] += d
    return num / den


def _plateaus(
    t: np.ndarray,
    phones: Sequence[Phone],
    labels: frozenset[str],
    min_len: float,
    lead: float,
    release: float,
) -> tuple[np.ndarray, list[tuple[str, np.ndarray]]]:
    """Max over matching phones of a plateau (at least ``min_len``) with smoothstep lead/release ramps.

    A ramp never reaches past the middle of the neighbouring vowel (down to ``_MIN_RAMP``), so a vowel
    between two closures still opens at its centre. Returns (combined, [(label, per-phone curve)]).
    """
    total = np.zeros_like(t)
    parts = []
    for k, p in enumerate(phones):
        if p.label not in labels:
            continue
        s, e = p.start, p.end
        prev_v = next((q for q in reversed(phones[:k]) if q.label in VOWELS or q.label == SIL), None)
        next_v = next((q for q in phones[k + 1 :] if q.label in VOWELS or q.label == SIL), None)
        if e - s < min_len:
            # Widen, backwards first (lips close ahead of the sound), but not into a neighbouring vowel's
            # middle: the vowel must still open.
            room_back = s - (prev_v.center + _MIN_RAMP) if prev_v is not None and prev_v.label != SIL else 1.0
            room_fwd = (next_v.center - _MIN_RAMP) - e if next_v is not None and next_v.label != SIL else 1.0
            need = min_len - (e - s)
            back = min(need, max(room_back, 0.0))
            fwd = min(need - back, max(room_fwd, 0.0))
            s, e = s - back - 0.5 * (need - back - fwd), e + fwd + 0.5 * (need - back - fwd)
        k_lead = lead if prev_v is None or prev_v.label == SIL else min(lead, s - prev_v.center)
        k_rel = release if next_v is None or next_v.label == SIL else min(release, next_v.center - e)
        k_lead, k_rel = max(k_lead, _MIN_RAMP), max(k_rel, _MIN_RAMP)
        lo, hi = np.searchsorted(t, [s - k_lead, e + k_rel])
        if hi <= lo:
            continue
        tt = t[lo:hi]
        v = np.minimum(smoothstep((tt - (s - k_lead)) / k_lead), smoothstep(((e + k_rel) - tt) / k_rel))
        curve = np.zeros_like(t)
        curve[lo:hi] = v
        total = np.maximum(total, curve)
        parts.append((p.label, curve))
    return total, parts


_MIN_RAMP = 0.02


def rest_weight(
    t: np.ndarray, phones: Sequence[Phone], duration: float, params: CoarticulationParams = DEFAULT_PARAMS
) -> np.ndarray:
    """r(t) in [0, 1]: 1 where the mouth rests in a pause (SIL >= ``pause_min``), ramps at its edges."""
    r = np.zeros_like(t)
    for p in phones:
        if p.label != SIL or p.duration < params.pause_min:
            continue
        up = np.ones_like(t) if p.start <= 0 else smoothstep((t - p.start) / params.pause_close)
        down = np.ones_like(t) if p.end >= duration else smoothstep((p.end - t) / params.pause_open)
        inside = (t >= p.start) & (t <= p.end)
        r = np.maximum(r, np.where(inside, np.minimum(up, down), 0.0))
    return r


def _prepare(
    phones: Sequence[Phone], duration: float | None, audio: np.ndarray | None, sample_rate: int
) -> tuple[list[Phone], float]:
    if duration is None:
        if audio is not None:
            duration = len(audio) / float(sample_rate)
        else:
            duration = max((p.end for p in phones), default=0.0)
    return normalize_timeline(phones, duration), float(duration)


def speech_targets(
    phones: Sequence[Phone],
    fps: float,
    duration: float | None = None,
    audio: np.ndarray | None = None,
    sample_rate: int = 16000,
    params: CoarticulationParams = DEFAULT_PARAMS,
) -> np.ndarray:
    """(ceil(duration * fps), 52) float32: the jaw, lip and tongue channels only (the rest are 0).

    ``duration`` defaults to the audio's length, else the last phone's end. Without ``audio`` every
    vowel counts as fully loud.
    """
    phones, duration = _prepare(phones, duration, audio, sample_rate)
    n = num_frames(duration, fps)
    out = np.zeros((n, NUM_ARKIT), np.float32)
    if n == 0 or not phones:
        return out
    t = frame_times(n, fps)
    labels = [p.label for p in phones]

    if audio is not None and len(audio):
        env_t, env = loudness_envelope(audio, sample_rate, range_db=params.loud_range_db)
        loud = _phone_loudness(phones, env_t, env)
    else:
        loud = np.ones(len(phones))
    is_vowel = np.array([lab in VOWELS for lab in labels])
    gain = np.where(is_vowel, params.loud_floor + (1.0 - params.loud_floor) * loud, 1.0)
    jaw_target = np.array([OPENNESS[lab] for lab in labels]) * params.jaw_scale * gain
    jaw_alpha = np.where(is_vowel, 1.0, [_JAW_ALPHA.get(lab, _JAW_ALPHA_DEFAULT) for lab in labels])
    jaw = _blend(t, phones, jaw_target, jaw_alpha, params.jaw_pre, params.jaw_post)

    rnd = np.array([_ROUND.get(lab, _ROUND_DEFAULT) for lab in labels])
    funnel = _blend(t, phones, rnd[:, 0], rnd[:, 2], params.round_pre, params.round_post)
    pucker = _blend(t, phones, rnd[:, 1], rnd[:, 2], params.round_pre, params.round_post)
    spr = np.array([_SPREAD.get(lab, _SPREAD_DEFAULT) for lab in labels])
    spread = _blend(t, phones, spr[:, 0], spr[:, 1], params.lip_pre, params.lip_post)
    tee = np.array([_TEETH.get(lab, _TEETH_DEFAULT) for lab in labels])
    teeth = _blend(t, phones, tee[:, 0], tee[:, 1], params.lip_pre, params.lip_post)
    ton = np.array([_TONGUE.get(lab, _TONGUE_DEFAULT) for lab in labels])
    tongue = _blend(t, phones, ton[:, 0], ton[:, 1], params.lip_pre, params.lip_post)

    closure, parts = _plateaus(
        t, phones, BILABIALS, params.min_closure, params.bilabial_lead, params.bilabial_release
    )
    press = np.zeros_like(t)
    for lab, curve in parts:
        press = np.maximum(press, _PRESS[lab] * smoothstep((curve - 0.8) / 0.2))
    # Pressing and rolling happen once the lips meet, not while they approach.
    seal = smoothstep((closure - 0.8) / 0.2)
    labio, _ = _plateaus(
        t, phones, LABIODENTALS, params.min_labiodental, params.labiodental_lead, params.labiodental_release
    )
    open_lips = (1.0 - closure) * (1.0 - labio)

    def put(names: Sequence[str], values: np.ndarray) -> None:
        for name in names:
            out[:, _I[name]] = values

    put(["jawOpen"], jaw)
    put(["mouthClose"], closure * jaw)
    put(["mouthPressLeft", "mouthPressRight"], press)
    put(["mouthRollLower"], 0.15 * seal + 0.45 * labio)
    put(["mouthRollUpper"], 0.1 * seal)
    lips = params.teeth_lips * teeth
    put(["mouthLowerDownLeft", "mouthLowerDownRight"], open_lips * (0.35 * jaw + lips))
    put(["mouthUpperUpLeft", "mouthUpperUpRight"], open_lips * (0.15 * jaw + lips) + 0.12 * labio)
    put(["mouthFunnel"], funnel * (1.0 - 0.5 * closure))
    put(["mouthPucker"], pucker)
    put(["mouthStretchLeft", "mouthStretchRight"], 0.25 * spread * (1.0 - closure))
    put(["mouthSmileLeft", "mouthSmileRight"], 0.1 * spread)
    put(["tongueOut"], tongue)

    rest = rest_weight(t, phones, duration, params)
    out[:, _MOUTH_IDX] *= (1.0 - rest)[:, None].astype(np.float32)
    np.clip(out, 0.0, 1.0, out=out)
    return out


def nonspeech_motion(
    phones: Sequence[Phone],
    fps: float,
    duration: float | None = None,
    audio: np.ndarray | None = None,
    sample_rate: int = 16000,
    seed: int = 0,
) -> np.ndarray:
    """(ceil(duration * fps), 52) float32: blinks and emphasis brow raises (other channels 0).

    Deterministic from ``seed``; event times are drawn in seconds, so every fps samples the same events.
    """
    phones, duration = _prepare(phones, duration, audio, sample_rate)
    n = num_frames(duration, fps)
    out = np.zeros((n, NUM_ARKIT), np.float32)
    if n == 0:
        return out
    t = frame_times(n, fps)
    rng = np.random.default_rng(seed)

    # Blinks: intervals of 2-6 s, pulled to the start of a long pause when one is near.
    pause_starts = np.array([p.start for p in phones if p.label == SIL and p.duration >= 0.3 and p.start > 0])
    blink = blink_events(t, duration, rng, pause_starts)
    out[:, _I["eyeBlinkLeft"]] = blink
    out[:, _I["eyeBlinkRight"]] = blink

    # Emphasis: the loudest vowels (or the longest, without audio), at least 0.7 s apart.
    vowels = [p for p in phones if p.label in VOWELS and p.duration >= 0.05]
    if vowels:
        if audio is not None and len(audio):
            env_t, env = loudness_envelope(audio, sample_rate)
            score = _phone_loudness(vowels, env_t, env)
        else:
            score = np.array([p.duration for p in vowels])
        q = np.quantile(score, 0.8)
        span = max(float(score.max() - q), 1e-6)
        chosen: list[int] = []
        for k in np.argsort(-score, kind="stable"):
            if score[k] < q:
                break
            if all(abs(vowels[k].center - vowels[j].center) >= 0.7 for j in chosen):
                chosen.append(int(k))
        inner = np.zeros_like(t)
        outer = np.zeros_like(t)
        for k in sorted(chosen):
            if rng.random() > 0.75:  # not every emphasis moves the brows
                continue
            v = vowels[k]
            amp = (0.08 + 0.2 * (score[k] - q) / span) * rng.uniform(0.8, 1.2)
            bump = raised(t, v.start - 0.12, 0.12 + 0.5 * v.duration, v.center, 0.25 + 0.5 * v.duration)
            inner = np.maximum(inner, amp * bump)
            outer = np.maximum(outer, 0.7 * amp * rng.uniform(0.9, 1.1) * bump)
        out[:, _I["browInnerUp"]] = inner
        out[:, _I["browOuterUpLeft"]] = outer
        out[:, _I["browOuterUpRight"]] = outer
    np.clip(out, 0.0, 1.0, out=out)
    return out


def targets(
    phones: Sequence[Phone],
    fps: float,
    duration: float | None = None,
    audio: np.ndarray | None = None,
    sample_rate: int = 16000,
    seed: int = 0,
    nonspeech: bool = True,
    params: CoarticulationParams = DEFAULT_PARAMS,
) -> np.ndarray:
    """The full training target: speech articulation plus (optionally) blinks and brow emphasis.

    Returns (ceil(duration * fps), 52) float32 in [0, 1], ARKIT_NAMES order; row i is time i / fps.
    """
    out = speech_targets(phones, fps, duration, audio, sample_rate, params)
    if nonspeech:
        out += nonspeech_motion(phones, fps, duration, audio, sample_rate, seed)
        np.clip(out, 0.0, 1.0, out=out)
    return out


# Mouth aperture is linear in the weights: jaw opening, minus the lip seal, plus lip parting without the
# jaw, minus rolled, pressed and puckered lips (see the module docstring).
_APERTURE_TERMS = {
    "jawOpen": 1.0, "mouthClose": -1.0,
    "mouthLowerDownLeft": 0.25, "mouthLowerDownRight": 0.25,
    "mouthUpperUpLeft": 0.125, "mouthUpperUpRight": 0.125,
    "mouthRollLower": -0.25, "mouthRollUpper": -0.25,
    "mouthPressLeft": -0.25, "mouthPressRight": -0.25,
    "mouthPucker": -0.15,
}  # fmt: skip
APERTURE_WEIGHTS = np.zeros(NUM_ARKIT)
for _name, _coef in _APERTURE_TERMS.items():
    APERTURE_WEIGHTS[_I[_name]] = _coef


def mouth_aperture(weights: np.ndarray) -> np.ndarray:
    """How far apart the lips are, from (N, 52) ARKit weights (see the module docstring): (N,) in [0, 1].

    The unclipped value is ``weights @ APERTURE_WEIGHTS`` (training uses that form on tensors)."""
    w = np.asarray(weights, np.float64)
    if w.ndim == 1:
        w = w[None]
    if w.shape[-1] != NUM_ARKIT:
        raise ValueError(f"expected (N, {NUM_ARKIT}) ARKit weights, got shape {w.shape}")
    return np.clip(w @ APERTURE_WEIGHTS, 0.0, 1.0)
