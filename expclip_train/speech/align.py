"""Phone timings for real speech with pocketsphinx 5.1 (its bundled US English model and CMUdict).

- :func:`align_text`: forced alignment of a known transcript. Two passes, as pocketsphinx's own
  alignment example does: ``set_align_text`` decodes the words (an FSG of the transcript with optional
  silences), ``set_alignment`` then aligns that word sequence down to phones and HMM states.
  Words missing from CMUdict get a pronunciation from espeak-ng (when it is installed) mapped to ARPAbet.
- :func:`recognise_phones`: phone recognition without text (pocketsphinx's "allphone" search with its
  phone language model); far less accurate, for clips without a transcript.

Timings come in 10 ms frames. Both return phones covering the whole clip (gaps become ``SIL``).
Failures raise :class:`AlignmentError` with the reason; ``try_align`` returns None instead.
Decoders are built once per process (about 0.6 s) and reused; they are not thread-safe, hence a lock.
A transcript the default beams cannot follow is retried once with much wider beams.
"""

from __future__ import annotations

import functools
import os
import re
import threading
from collections.abc import Sequence

import numpy as np

from .phones import SIL, Phone, normalize_label, normalize_timeline

__all__ = [
    "AlignmentError",
    "align_text",
    "pocketsphinx_available",
    "recognise_phones",
    "transcript_words",
    "try_align",
]

SAMPLE_RATE = 16000
FRAME = 0.01  # pocketsphinx's frame shift (s)
_LOCK = threading.Lock()


class AlignmentError(RuntimeError):
    """Alignment or recognition failed; the message says why."""


def pocketsphinx_available() -> bool:
    try:
        import pocketsphinx  # noqa: F401
    except ImportError:
        return False
    return True


def _model_dir() -> str:
    try:
        from pocketsphinx import get_model_path
    except ImportError as err:
        raise AlignmentError("pocketsphinx is not installed (pip install pocketsphinx==5.1.1)") from err
    return os.path.join(get_model_path(), "en-us")


@functools.lru_cache(maxsize=2)
def _align_decoder(wide: bool = False):
    from pocketsphinx import Decoder

    # bestpath=False: the alignment needs the FSG search's own best path (as in pocketsphinx's example).
    # The wide decoder is the retry: beams far below the defaults (1e-48) keep the path alive through
    # stretches the acoustic model scores badly (about 1% of VCTK clips need it).
    beams = {"beam": 1e-200, "wbeam": 1e-200, "pbeam": 1e-200} if wide else {}
    return Decoder(samprate=SAMPLE_RATE, bestpath=False, loglevel="FATAL", **beams)


@functools.lru_cache(maxsize=1)
def _phone_decoder():
    from pocketsphinx import Decoder

    # Settings from pocketsphinx's documentation for phone recognition with the phone language model.
    return Decoder(
        samprate=SAMPLE_RATE,
        allphone=os.path.join(_model_dir(), "en-us-phone.lm.bin"),
        lw=2.0,
        pip=0.3,
        beam=1e-200,
        pbeam=1e-20,
        loglevel="FATAL",
    )


def _pcm16(audio16k: np.ndarray) -> bytes:
    a = np.asarray(audio16k)
    if a.ndim != 1 or a.size < SAMPLE_RATE * 0.1:
        raise AlignmentError(f"expected at least 0.1 s of 1-D audio at 16 kHz, got shape {a.shape}")
    if a.dtype == np.int16:
        return a.tobytes()
    a = np.nan_to_num(a.astype(np.float32))
    return (np.clip(a, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()


_WORD_RE = re.compile(r"[a-z0-9]+(?:'[a-z0-9]+)*")


def transcript_words(transcript: str) -> list[str]:
    """Lower-case words of a transcript (apostrophes inside words kept, punctuation dropped)."""
    text = transcript.lower().replace("\u2019", "'").replace("-", " ")
    return _WORD_RE.findall(text)


def _ensure_words(decoder, words: Sequence[str]) -> list[str]:
    """Add pronunciations for words CMUdict lacks (from espeak-ng); returns the words still unknown."""
    missing = []
    for w in dict.fromkeys(words):
        if decoder.lookup_word(w) is not None:
            continue
        try:
            from .espeak import espeak_phonemes

            phones = espeak_phonemes(w)
        except Exception:  # no espeak-ng: report the word below
            phones = []
        if phones:
            decoder.add_word(w, " ".join(phones), True)
        else:
            missing.append(w)
    return missing


def _run(decoder, pcm: bytes) -> None:
    decoder.start_utt()
    decoder.process_raw(pcm, no_search=False, full_utt=True)
    decoder.end_utt()


def align_text(audio16k: np.ndarray, transcript: str) -> list[Phone]:
    """Forced alignment of ``transcript`` to 16 kHz mono audio: phones covering the whole clip.

    Raises AlignmentError when pocketsphinx is missing, the transcript has no words, a word has no
    pronunciation, or the decoder finds no path through the transcript (audio and text disagree).
    """
    words = transcript_words(transcript)
    if not words:
        raise AlignmentError(f"the transcript has no words: {transcript!r}")
    pcm = _pcm16(audio16k)
    duration = len(pcm) / 2 / SAMPLE_RATE
    _model_dir()  # a clear error when pocketsphinx is missing
    with _LOCK:
        for wide in (False, True):
            d = _align_decoder(wide)
            missing = _ensure_words(d, words)
            if missing:
                raise AlignmentError(f"no pronunciation for {', '.join(missing)} (install espeak-ng)")
            try:
                d.set_align_text(" ".join(words))
                _run(d, pcm)
                if d.hyp() is None:
                    continue  # no path with these beams: retry wider
                d.set_alignment()
                _run(d, pcm)
                alignment = d.get_alignment()
                break
            except RuntimeError as err:
                raise AlignmentError(f"pocketsphinx failed to align: {err}") from err
        else:
            raise AlignmentError("the decoder found no path through the transcript (audio and text differ?)")
        phones = []
        for word in alignment:
            for ph in word:
                label = SIL if word.name.startswith("<") else normalize_label(ph.name)
                start = ph.start * FRAME
                phones.append(Phone(label, start, start + ph.duration * FRAME))
    if not any(p.label != SIL for p in phones):
        raise AlignmentError("the alignment contains no speech")
    return normalize_timeline(phones, duration)


def recognise_phones(audio16k: np.ndarray) -> list[Phone]:
    """Phone recognition (no transcript): phones covering the whole clip. Raises AlignmentError."""
    pcm = _pcm16(audio16k)
    duration = len(pcm) / 2 / SAMPLE_RATE
    _model_dir()
    with _LOCK:
        d = _phone_decoder()
        try:
            _run(d, pcm)
            segs = [(s.word, s.start_frame, s.end_frame) for s in d.seg()]
        except RuntimeError as err:
            raise AlignmentError(f"pocketsphinx failed to recognise phones: {err}") from err
    phones = []
    for word, start, end in segs:
        try:
            label = normalize_label(word)
        except ValueError:
            label = SIL
        phones.append(Phone(label, start * FRAME, (end + 1) * FRAME))
    if not any(p.label != SIL for p in phones):
        raise AlignmentError("no speech was recognised")
    return normalize_timeline(phones, duration)


def try_align(audio16k: np.ndarray, transcript: str | None) -> tuple[list[Phone] | None, str]:
    """Best phones available: forced alignment if a transcript is given and works, else recognition.

    Returns (phones, method) with method "pocketsphinx-align" or "pocketsphinx-allphone", or
    (None, reason) when both fail.
    """
    reasons = []
    if transcript and transcript.strip():
        try:
            return align_text(audio16k, transcript), "pocketsphinx-align"
        except AlignmentError as err:
            reasons.append(f"alignment: {err}")
    try:
        return recognise_phones(audio16k), "pocketsphinx-allphone"
    except AlignmentError as err:
        reasons.append(f"recognition: {err}")
    return None, "; ".join(reasons)
