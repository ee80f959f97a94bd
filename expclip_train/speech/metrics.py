"""Lip-sync metrics: per-frame ARKit weights at some fps against timed phones.

Every metric reads the lips through :func:`coarticulation.mouth_aperture`. A phone's frames are those
whose time lies within half a frame of the phone's interval (at least the frame nearest its centre, so
even a phone shorter than a frame has one); its *centre value* is the signal at the phone's centre,
interpolated linearly between the two frames around it.
Definitions (and the thresholds in :data:`THRESHOLDS`):

- ``ref_aperture``: the clip's open-vowel aperture, the median over open vowels (AA AE AH AO AW AY, of
  at least 50 ms: shorter ones are reduced and barely open) of each vowel's largest aperture.
  (Without open vowels: the 95th percentile over speech frames.)
- ``bilabial_closure_rate``: share of P/B/M phones whose smallest aperture is <= 30% of ref (>= 0.90).
- ``open_bilabial_auc``: ROC AUC separating open vowels (>= 50 ms) from bilabials by their centre
  apertures (>= 0.97). Centre values, not extremes: a jittering mouth must not pass by chance.
- ``pause_rest_rate``: share of frames inside pauses (SIL >= 300 ms, less 100 ms at each end for the
  mouth to close and to open ahead of speech) whose aperture is <= 30% of ref (>= 0.90).
- ``openness_curve``: the phone sounding at each frame time, by its openness class
  (:func:`phones.openness_class`, :data:`OPENNESS_LEVELS`): open vowels 1, other vowels 2/3, consonants
  1/3, bilabials and pauses 0 (high, middle, low, zero: equally spaced, as no finer order is claimed).
- ``sync_lag``: the shift (frames, within +-0.3 s) maximising the cross-correlation between the aperture
  and the openness curve; positive = the mouth is late (|lag| <= 1 frame).
- ``openness_correlation`` and ``openness_lag``: how well the aperture follows the sounds: the Pearson
  correlation of the aperture at frame i + lag with the openness curve at frame i (over their overlap)
  at the lag within +-:data:`MAX_OPENNESS_LAG` frames that maximises it (>= 0.65; |lag| <= 1 frame).
  Pooled over clips: the clips' correlations averaged per lag, weighted by their lengths, and the best
  lag of that average (one lag for all clips: a system has one latency).
- ``rounding_auc``: ROC AUC separating rounded (UW OW W) from spread vowels (IY IH EH) by the mean of
  mouthFunnel + mouthPucker at each phone's centre (>= 0.85).

AUCs are Mann-Whitney statistics computed with average ranks (ties count one half). A metric with
nothing to measure (no bilabials, no long pauses...) is NaN. :func:`pooled_metrics` pools many clips
(apertures normalised by each clip's ref first) for corpus-level figures.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np

from expclip_blender.arkit import ARKIT_INDEX

from .coarticulation import frame_times, mouth_aperture
from .phones import (
    BILABIALS,
    OPEN_VOWELS,
    ROUNDED,
    SIL,
    SPREAD_VOWELS,
    Phone,
    normalize_timeline,
    openness_class,
)

__all__ = [
    "MAX_OPENNESS_LAG",
    "OPENNESS_LEVELS",
    "THRESHOLDS",
    "bilabial_closure_rate",
    "lip_rounding",
    "lipsync_metrics",
    "open_bilabial_auc",
    "openness_correlation",
    "openness_curve",
    "passes",
    "pause_rest_rate",
    "phone_frames",
    "pooled_metrics",
    "reference_aperture",
    "roc_auc",
    "rounding_auc",
    "sync_lag",
]

CLOSED_FRACTION = 0.3
MIN_PAUSE = 0.3
PAUSE_MARGIN = 0.1
MAX_LAG_S = 0.3
MIN_OPEN_VOWEL = 0.05  # shorter "open" vowels are reduced (a 20 ms schwa cannot open the mouth)
MAX_OPENNESS_LAG = 10  # frames either way searched for the openness correlation's best lag
#: The openness curve's level for each openness class (phones.openness_class).
OPENNESS_LEVELS: dict[str, float] = {
    "open vowel": 1.0,
    "vowel": 2.0 / 3.0,
    "consonant": 1.0 / 3.0,
    "bilabial": 0.0,
    "pause": 0.0,
}

# name -> (comparison, threshold); sync_lag is compared by absolute value.
THRESHOLDS: dict[str, tuple[str, float]] = {
    "bilabial_closure_rate": (">=", 0.90),
    "open_bilabial_auc": (">=", 0.97),
    "pause_rest_rate": (">=", 0.90),
    "sync_lag": ("|<=|", 1.0),
    "rounding_auc": (">=", 0.85),
    "openness_correlation": (">=", 0.65),
    "openness_lag": ("|<=|", 1.0),
}


def roc_auc(positives: Sequence[float], negatives: Sequence[float]) -> float:
    """P(positive > negative) + 0.5 P(tie), from average ranks (Mann-Whitney U); NaN if a side is empty."""
    pos = np.asarray(positives, np.float64).ravel()
    neg = np.asarray(negatives, np.float64).ravel()
    if pos.size == 0 or neg.size == 0:
        return math.nan
    both = np.concatenate([pos, neg])
    order = np.argsort(both, kind="mergesort")
    ranks = np.empty(both.size)
    sorted_vals = both[order]
    # Average ranks over ties.
    i = 0
    while i < both.size:
        j = i
        while j + 1 < both.size and sorted_vals[j + 1] == sorted_vals[i]:
            j += 1
        ranks[order[i : j + 1]] = 0.5 * (i + j) + 1.0
        i = j + 1
    u = ranks[: pos.size].sum() - pos.size * (pos.size + 1) / 2.0
    return float(u / (pos.size * neg.size))


def phone_frames(phone: Phone, fps: float, n: int) -> np.ndarray:
    """Frames within half a frame of the phone's interval (at least the frame nearest its centre)."""
    half = 0.5 / fps
    lo = max(0, math.ceil((phone.start - half) * fps - 1e-9))
    hi = min(n - 1, math.floor((phone.end + half) * fps + 1e-9))
    if hi < lo:
        near = min(max(round(phone.center * fps), 0), n - 1)
        return np.array([near])
    return np.arange(lo, hi + 1)


def _phones(phones: Sequence[Phone], n: int, fps: float) -> list[Phone]:
    return normalize_timeline(phones, max(n / fps, max((p.end for p in phones), default=0.0)))


def _stats(
    ap: np.ndarray,
    phones: Sequence[Phone],
    fps: float,
    labels: frozenset[str],
    how: str,
    min_dur: float = 0.0,
) -> np.ndarray:
    """Per-phone statistic of ``ap`` for the phones in ``labels``: "min" / "max" over the phone's frames,
    or "centre": the value at the phone's centre, interpolated linearly between frames."""
    end, n = len(ap) / fps, len(ap)
    sel = [p for p in phones if p.label in labels and p.start < end and p.duration >= min_dur - 1e-9]
    if how == "centre":
        return np.interp([p.center * fps for p in sel], np.arange(n), ap) if sel else np.zeros(0)
    fn = np.min if how == "min" else np.max
    return np.asarray([fn(ap[phone_frames(p, fps, n)]) for p in sel], np.float64)


def _open_peaks(ap: np.ndarray, phones: Sequence[Phone], fps: float) -> np.ndarray:
    """Largest aperture of each open vowel of at least MIN_OPEN_VOWEL."""
    return _stats(ap, phones, fps, OPEN_VOWELS, "max", MIN_OPEN_VOWEL)


def reference_aperture(ap: np.ndarray, phones: Sequence[Phone], fps: float) -> float:
    """The clip's open-vowel aperture (see the module docstring)."""
    peaks = _open_peaks(ap, phones, fps)
    if peaks.size:
        return float(np.median(peaks))
    speech = np.zeros(len(ap), bool)
    for p in phones:
        if p.label != SIL:
            speech[phone_frames(p, fps, len(ap))] = True
    return float(np.percentile(ap[speech], 95)) if speech.any() else math.nan


def bilabial_closure_rate(weights: np.ndarray, phones: Sequence[Phone], fps: float) -> float:
    ap = mouth_aperture(weights)
    phones = _phones(phones, len(ap), fps)
    mins = _stats(ap, phones, fps, BILABIALS, "min")
    ref = reference_aperture(ap, phones, fps)
    if mins.size == 0 or not np.isfinite(ref):
        return math.nan
    return float(np.mean(mins <= CLOSED_FRACTION * ref))


def open_bilabial_auc(weights: np.ndarray, phones: Sequence[Phone], fps: float) -> float:
    ap = mouth_aperture(weights)
    phones = _phones(phones, len(ap), fps)
    return roc_auc(
        _stats(ap, phones, fps, OPEN_VOWELS, "centre", MIN_OPEN_VOWEL),
        _stats(ap, phones, fps, BILABIALS, "centre"),
    )


def _pause_frames(phones: Sequence[Phone], fps: float, n: int) -> np.ndarray:
    t = frame_times(n, fps)
    mask = np.zeros(n, bool)
    for p in phones:
        if p.label == SIL and p.duration >= MIN_PAUSE - 1e-9:
            mask |= (t >= p.start + PAUSE_MARGIN) & (t <= p.end - PAUSE_MARGIN)
    return mask


def pause_rest_rate(weights: np.ndarray, phones: Sequence[Phone], fps: float) -> float:
    ap = mouth_aperture(weights)
    phones = _phones(phones, len(ap), fps)
    mask = _pause_frames(phones, fps, len(ap))
    ref = reference_aperture(ap, phones, fps)
    if not mask.any() or not np.isfinite(ref):
        return math.nan
    return float(np.mean(ap[mask] <= CLOSED_FRACTION * ref))


def openness_curve(phones: Sequence[Phone], fps: float, n: int) -> np.ndarray:
    """The openness level (:data:`OPENNESS_LEVELS`) of the phone sounding at each frame time (0 outside
    the phones)."""
    t = frame_times(n, fps)
    out = np.zeros(n)
    for p in phones:
        out[(t >= p.start) & (t < p.end)] = OPENNESS_LEVELS[openness_class(p.label)]
    return out


def _lag_correlations(ap: np.ndarray, curve: np.ndarray, max_lag: int) -> tuple[np.ndarray, np.ndarray]:
    """Pearson r of ``ap[i + lag]`` with ``curve[i]`` over their overlap for lag -max_lag..max_lag, and the
    overlaps' lengths (the weights: 0, with r 0, where either side is constant over the overlap)."""
    n = len(ap)
    rs, ws = np.zeros(2 * max_lag + 1), np.zeros(2 * max_lag + 1)
    for j, lag in enumerate(range(-max_lag, max_lag + 1)):
        if n - abs(lag) < 2:
            continue
        a, o = (ap[lag:], curve[: n - lag]) if lag >= 0 else (ap[: n + lag], curve[-lag:])
        if a.std() < 1e-9 or o.std() < 1e-9:
            continue
        rs[j], ws[j] = float(np.corrcoef(a, o)[0, 1]), len(a)
    return rs, ws


def _best_correlation(rs: np.ndarray, ws: np.ndarray) -> tuple[float, float]:
    """(the largest correlation, its lag) among the lags with a weight; ties: the smallest shift."""
    if not (ws > 0).any():
        return math.nan, math.nan
    max_lag = (len(rs) - 1) // 2
    lags = np.arange(-max_lag, max_lag + 1)
    vals = np.where(ws > 0, rs, -np.inf)
    best = np.flatnonzero(vals >= vals.max() - 1e-12)
    k = best[np.argmin(np.abs(lags[best]))]
    return float(rs[k]), float(lags[k])


def openness_correlation(
    weights: np.ndarray, phones: Sequence[Phone], fps: float, max_lag: int = MAX_OPENNESS_LAG
) -> tuple[float, float]:
    """(correlation, lag in frames) of the aperture with the openness curve at the best lag; NaN when
    either signal is constant."""
    ap = mouth_aperture(weights)
    phones = _phones(phones, len(ap), fps)
    return _best_correlation(*_lag_correlations(ap, openness_curve(phones, fps, len(ap)), max_lag))


def _xcorr(ap: np.ndarray, ref_curve: np.ndarray, max_lag: int) -> np.ndarray | None:
    """Biased normalised cross-correlation for lags -max_lag..max_lag (aperture at i + lag vs curve at i).

    Dividing every lag by the full length (not the overlap) damps the long lags, whose short overlaps
    would otherwise give chance peaks on short clips.
    """
    a = ap - ap.mean()
    o = ref_curve - ref_curve.mean()
    n = len(a)
    if n < 2 or a.std() < 1e-9 or o.std() < 1e-9:
        return None
    out = np.empty(2 * max_lag + 1)
    for j, lag in enumerate(range(-max_lag, max_lag + 1)):
        if abs(lag) >= n:
            out[j] = 0.0
        elif lag >= 0:
            out[j] = np.dot(a[lag:], o[: n - lag])
        else:
            out[j] = np.dot(a[: n + lag], o[-lag:])
    return out / (n * a.std() * o.std())


def _best_lag(xc: np.ndarray | None) -> float:
    if xc is None:
        return math.nan
    max_lag = (len(xc) - 1) // 2
    lags = np.arange(-max_lag, max_lag + 1)
    best = np.flatnonzero(xc >= xc.max() - 1e-12)
    return float(lags[best[np.argmin(np.abs(lags[best]))]])  # ties: the smallest shift


def _lag(ap: np.ndarray, ref_curve: np.ndarray, max_lag: int) -> float:
    return _best_lag(_xcorr(ap, ref_curve, max_lag))


def sync_lag(weights: np.ndarray, phones: Sequence[Phone], fps: float, max_lag_s: float = MAX_LAG_S) -> float:
    ap = mouth_aperture(weights)
    phones = _phones(phones, len(ap), fps)
    return _lag(ap, openness_curve(phones, fps, len(ap)), max(1, round(max_lag_s * fps)))


def lip_rounding(weights: np.ndarray) -> np.ndarray:
    """Lip rounding per frame, as the rounding figures read it: mouthFunnel + mouthPucker."""
    w = np.asarray(weights, np.float64)
    return w[:, ARKIT_INDEX["mouthFunnel"]] + w[:, ARKIT_INDEX["mouthPucker"]]


def rounding_auc(weights: np.ndarray, phones: Sequence[Phone], fps: float) -> float:
    r = lip_rounding(weights)
    phones = _phones(phones, len(r), fps)
    return roc_auc(_stats(r, phones, fps, ROUNDED, "centre"), _stats(r, phones, fps, SPREAD_VOWELS, "centre"))


def lipsync_metrics(weights: np.ndarray, phones: Sequence[Phone], fps: float) -> dict[str, float]:
    """All metrics of one clip, with the counts behind them."""
    weights = np.asarray(weights)
    ap = mouth_aperture(weights)
    n = len(ap)
    phones = _phones(phones, n, fps)
    ref = reference_aperture(ap, phones, fps)
    mins = _stats(ap, phones, fps, BILABIALS, "min")
    open_centre = _stats(ap, phones, fps, OPEN_VOWELS, "centre", MIN_OPEN_VOWEL)
    bilabial_centre = _stats(ap, phones, fps, BILABIALS, "centre")
    pause = _pause_frames(phones, fps, n)
    r = lip_rounding(weights)
    rounded = _stats(r, phones, fps, ROUNDED, "centre")
    spread = _stats(r, phones, fps, SPREAD_VOWELS, "centre")
    ok = np.isfinite(ref) and ref > 0
    curve = openness_curve(phones, fps, n)
    corr, corr_lag = _best_correlation(*_lag_correlations(ap, curve, MAX_OPENNESS_LAG))
    return {
        "ref_aperture": ref,
        "bilabial_closure_rate": float(np.mean(mins <= CLOSED_FRACTION * ref))
        if mins.size and ok
        else math.nan,
        "open_bilabial_auc": roc_auc(open_centre, bilabial_centre),
        "pause_rest_rate": float(np.mean(ap[pause] <= CLOSED_FRACTION * ref))
        if pause.any() and ok
        else math.nan,
        "sync_lag": _lag(ap, curve, max(1, round(MAX_LAG_S * fps))),
        "rounding_auc": roc_auc(rounded, spread),
        "openness_correlation": corr,
        "openness_lag": corr_lag,
        "n_frames": n,
        "n_open": int(open_centre.size),
        "n_bilabial": int(mins.size),
        "n_pause_frames": int(pause.sum()),
        "n_rounded": int(rounded.size),
        "n_spread": int(spread.size),
    }


def passes(metrics: dict[str, float]) -> dict[str, bool | None]:
    """Each thresholded metric -> True/False, or None where it is NaN (nothing to measure)."""
    out: dict[str, bool | None] = {}
    for name, (op, thr) in THRESHOLDS.items():
        v = metrics.get(name, math.nan)
        if v is None or not np.isfinite(v):
            out[name] = None
        elif op == "|<=|":
            out[name] = abs(v) <= thr
        else:
            out[name] = v >= thr
    return out


def pooled_metrics(items: Iterable[tuple[np.ndarray, Sequence[Phone], float]]) -> dict[str, float]:
    """Corpus-level metrics over (weights, phones, fps) clips.

    Phone statistics are pooled after dividing each clip's apertures by its ref (so loud and quiet clips
    compare); ``openness_correlation`` / ``openness_lag`` as in the module docstring; ``sync_lag`` is the
    median of the clips' lags, ``sync_within_1`` the share of clips with |lag| <= 1 frame and
    ``sync_lag_pooled`` the best lag of the clips' summed cross-correlations (when all clips share one
    fps).
    """
    opens, mins, bil_centre, pause_vals, rounded, spread, lags = [], [], [], [], [], [], []
    xc_sum: dict[float, np.ndarray] = {}
    r_sum, w_sum = np.zeros(2 * MAX_OPENNESS_LAG + 1), np.zeros(2 * MAX_OPENNESS_LAG + 1)
    clips = 0
    for weights, phones, fps in items:
        clips += 1
        ap = mouth_aperture(weights)
        ph = _phones(phones, len(ap), fps)
        ref = reference_aperture(ap, ph, fps)
        r = lip_rounding(weights)
        rounded.append(_stats(r, ph, fps, ROUNDED, "centre"))
        spread.append(_stats(r, ph, fps, SPREAD_VOWELS, "centre"))
        curve = openness_curve(ph, fps, len(ap))
        xc = _xcorr(ap, curve, max(1, round(MAX_LAG_S * fps)))
        lags.append(_best_lag(xc))
        rs, ws = _lag_correlations(ap, curve, MAX_OPENNESS_LAG)
        r_sum, w_sum = r_sum + rs * ws, w_sum + ws
        if xc is not None:  # pooled over clips of one fps, weighted by length
            xc_sum[fps] = xc_sum.get(fps, 0.0) + xc * len(ap)
        if not (np.isfinite(ref) and ref > 0):
            continue
        apn = ap / ref
        opens.append(_stats(apn, ph, fps, OPEN_VOWELS, "centre", MIN_OPEN_VOWEL))
        mins.append(_stats(apn, ph, fps, BILABIALS, "min"))
        bil_centre.append(_stats(apn, ph, fps, BILABIALS, "centre"))
        pause_vals.append(apn[_pause_frames(ph, fps, len(ap))])

    def cat(xs: list[np.ndarray]) -> np.ndarray:
        return np.concatenate(xs) if xs else np.zeros(0)

    o, m, pv, ro, sp = cat(opens), cat(mins), cat(pause_vals), cat(rounded), cat(spread)
    lg = np.array([x for x in lags if np.isfinite(x)])
    corr, corr_lag = _best_correlation(r_sum / np.maximum(w_sum, 1.0), w_sum)
    return {
        "clips": clips,
        "bilabial_closure_rate": float(np.mean(m <= CLOSED_FRACTION)) if m.size else math.nan,
        "open_bilabial_auc": roc_auc(o, cat(bil_centre)),
        "pause_rest_rate": float(np.mean(pv <= CLOSED_FRACTION)) if pv.size else math.nan,
        "sync_lag": float(np.median(lg)) if lg.size else math.nan,
        "sync_within_1": float(np.mean(np.abs(lg) <= 1)) if lg.size else math.nan,
        "sync_lag_pooled": _best_lag(next(iter(xc_sum.values()))) if len(xc_sum) == 1 else math.nan,
        "rounding_auc": roc_auc(ro, sp),
        "openness_correlation": corr,
        "openness_lag": corr_lag,
        "n_open": int(o.size),
        "n_bilabial": int(m.size),
        "n_pause_frames": int(pv.size),
        "n_rounded": int(ro.size),
        "n_spread": int(sp.size),
    }
