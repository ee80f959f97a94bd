"""Speech articulation for lip-sync: phones, alignment, synthesis, the target model, metrics, corpus.

- :mod:`.phones`: ARPAbet phones, visemes, openness, metric categories, the :class:`Phone` record.
- :mod:`.align`: pocketsphinx forced alignment and phone recognition (optional dependency).
- :mod:`.synth`: espeak-ng and Piper synthesis with phone timings, and a training-text generator.
- :mod:`.coarticulation`: phones (+ loudness) -> per-frame ARKit targets; :func:`mouth_aperture`.
- :mod:`.metrics`: the lip-sync metrics (closure, open-vs-bilabial AUC, pauses, sync lag, rounding).
- :mod:`.corpus`: builds the training corpus (``python -m expclip_train.speech.corpus``).

Only numpy is needed to import this package; pocketsphinx, espeak-ng and Piper are imported when used.
"""

from __future__ import annotations

from .coarticulation import mouth_aperture, nonspeech_motion, num_frames, speech_targets, targets
from .metrics import THRESHOLDS, lipsync_metrics, passes, pooled_metrics
from .phones import PHONES, SIL, VISEMES, Phone, normalize_label, normalize_timeline, openness, viseme

__all__ = [
    "PHONES",
    "SIL",
    "THRESHOLDS",
    "VISEMES",
    "Phone",
    "lipsync_metrics",
    "mouth_aperture",
    "nonspeech_motion",
    "normalize_label",
    "normalize_timeline",
    "num_frames",
    "openness",
    "passes",
    "pooled_metrics",
    "speech_targets",
    "targets",
    "viseme",
]
