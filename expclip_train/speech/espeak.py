"""espeak-ng through its shared library: voices, variants, and speech with its phoneme events.

The library reports every phoneme it speaks with its start sample, so espeak-ng speech comes with exact
phone timings; ``espeak_phonemes`` also gives a pronunciation for any word (the aligner's fallback).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os
import re
import shutil
import subprocess
import threading
import warnings
from pathlib import Path

import numpy as np

from .phones import SIL, from_espeak

__all__ = ["EspeakLib", "SynthError", "espeak_phonemes", "espeak_variant_sexes", "espeak_variants"]


# Variants that distort the voice past what a human could produce (robots, demons, whisper, echo).
_VARIANT_BLOCKLIST = {
    "Demonic", "UniRobot", "anikaRobot", "croak", "whisper", "whisperf", "Tweaky", "kaukovalta",
}  # fmt: skip


class SynthError(RuntimeError):
    """A synthesiser is missing or failed; the message says which and what to install."""


# --- espeak-ng through its shared library ------------------------------------------------------------


class _EventId(ctypes.Union):
    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]


class _Event(ctypes.Structure):  # espeak_EVENT from speak_lib.h (1.49 and later)
    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", _EventId),
    ]


_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event)
)
_EV_LIST_TERMINATED, _EV_PHONEME = 0, 7
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INIT_PHONEME_EVENTS, _INIT_PHONEME_IPA, _INIT_DONT_EXIT = 0x0001, 0x0002, 0x8000
_POS_CHARACTER, _CHARS_UTF8, _PHONEME_INPUT = 1, 1, 0x100
_P_RATE, _P_PITCH, _P_RANGE, _P_WORDGAP = 1, 3, 4, 7


@functools.lru_cache(maxsize=1)
def _library_name() -> str:
    return ctypes.util.find_library("espeak-ng") or "libespeak-ng.so.1"


@functools.lru_cache(maxsize=1)
def _libc() -> ctypes.CDLL:
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    libc.dlclose.argtypes = [ctypes.c_void_p]
    return libc


def _still_loaded(name: str) -> bool:
    """Whether the shared library ``name`` is loaded in this process (asked without loading it)."""
    try:
        probe = ctypes.CDLL(name, mode=os.RTLD_NOLOAD | os.RTLD_LAZY)
    except OSError:
        return False
    _libc().dlclose(probe._handle)  # the probe took a reference of its own
    return True


class EspeakLib:
    """The process-wide espeak-ng library (it keeps global state: one synthesis at a time).

    Its phoneme events carry mnemonics; a process that constructs ``EspeakLib(ipa=True)`` instead (and
    never calls :meth:`get`) gets the phonemes' IPA names, which is how the phoneme tables learn the IPA
    of each mnemonic. One instance per process: each synthesis loads the library afresh (see
    :meth:`synth`), which would pull it from under a second instance.
    """

    _instance: EspeakLib | None = None
    _lock = threading.Lock()
    _warned_not_reset = False

    def __init__(self, ipa: bool = False) -> None:
        self._ipa = ipa
        self._chunks: list[np.ndarray] = []
        self._events: list[tuple[int, str]] = []
        self._callback = _CALLBACK(self._on_audio)  # keep a reference: the library holds a raw pointer
        # Only a library this instance loaded itself can be unloaded and reset (see _reload).
        self._resettable = not _still_loaded(_library_name())
        if not self._resettable:
            self._warn_not_reset()
        self._load()

    def _load(self) -> None:
        name = _library_name()
        try:
            self.lib = ctypes.CDLL(name)
        except OSError as err:
            raise SynthError(
                f"the espeak-ng library ({name}) cannot be loaded: {err}. "
                "Install it: apt-get install espeak-ng"
            ) from err
        self.lib.espeak_Initialize.restype = ctypes.c_int
        self.lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        self.lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        self.lib.espeak_Synth.argtypes = [
            ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int, ctypes.c_uint, ctypes.c_uint,
            ctypes.c_void_p, ctypes.c_void_p,
        ]  # fmt: skip
        flags = _INIT_PHONEME_EVENTS | (_INIT_PHONEME_IPA if self._ipa else 0) | _INIT_DONT_EXIT
        self.sample_rate = self.lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, None, flags)
        if self.sample_rate <= 0:
            raise SynthError("espeak-ng failed to initialise (is espeak-ng-data installed?)")
        self.lib.espeak_SetSynthCallback(self._callback)

    def _reload(self) -> None:
        """Unload the library and load it again, so the next synthesis starts from its initial state.

        espeak-ng keeps state between syntheses that its API cannot reset (a pitch-flutter phase that runs
        on from one utterance to the next, libc's ``rand()`` for noise): the same text and settings come
        out with a different length and waveform after other texts, so a corpus would depend on which
        clips each worker process had spoken before. Unloading restores the library's static data;
        ``rand()`` is reseeded as at process start. Where something else holds the library loaded, it
        cannot be reset (and espeak-ng 1.51 hangs when terminated and initialised again in place), so it
        is left as it is and speech depends on what was spoken before (warned once).
        """
        if not self._resettable:
            return
        self.lib.espeak_Terminate()
        _libc().dlclose(self.lib._handle)
        if _still_loaded(_library_name()):  # loaded by something else since: initialise once more, no more
            self._resettable = False
            self._warn_not_reset()
        self._load()
        _libc().srand(1)

    @staticmethod
    def _warn_not_reset() -> None:
        if not EspeakLib._warned_not_reset:
            EspeakLib._warned_not_reset = True
            warnings.warn(
                "espeak-ng is held loaded by something else in this process, so its state cannot be "
                "reset: the same text may come out slightly different depending on what was spoken before",
                RuntimeWarning,
                stacklevel=4,
            )

    @classmethod
    def get(cls) -> EspeakLib:
        with cls._lock:
            if cls._instance is None:
                cls._instance = cls()
            return cls._instance

    def _on_audio(self, wav, num_samples, events) -> int:
        if num_samples > 0 and wav:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(num_samples,)).copy())
        i = 0
        while events[i].type != _EV_LIST_TERMINATED:
            ev = events[i]
            if ev.type == _EV_PHONEME:
                self._events.append((int(ev.sample), ev.id.string.decode("utf-8", "replace")))
            i += 1
        return 0  # 0 = go on

    def synth(
        self,
        text: str,
        voice: str,
        rate: int,
        pitch: int,
        pitch_range: int,
        word_gap: int,
        phoneme_input: bool = False,
    ) -> tuple[np.ndarray, list[tuple[int, str]]]:
        """(int16 audio at self.sample_rate, [(start sample, mnemonic)]).

        With ``phoneme_input`` the text may hold phoneme mnemonics in ``[[...]]``, as on espeak-ng's
        command line. Deterministic: the same arguments give the same audio and events, in any process
        and after any other synthesis.
        """
        with self._lock:
            self._reload()  # the same request gives the same speech, whatever was spoken before
            if self.lib.espeak_SetVoiceByName(voice.encode()) != 0:
                raise SynthError(f"espeak-ng has no voice {voice!r}")
            for param, value in ((_P_RATE, rate), (_P_PITCH, pitch), (_P_RANGE, pitch_range)):
                self.lib.espeak_SetParameter(param, int(value), 0)
            self.lib.espeak_SetParameter(_P_WORDGAP, int(word_gap), 0)
            self._chunks, self._events = [], []
            data = text.encode("utf-8") + b"\0"
            flags = _CHARS_UTF8 | (_PHONEME_INPUT if phoneme_input else 0)
            # Synchronous output: espeak_Synth returns once every sample has reached the callback.
            err = self.lib.espeak_Synth(data, len(data), 0, _POS_CHARACTER, 0, flags, None, None)
            if err != 0:
                raise SynthError(f"espeak-ng failed to synthesise (error {err})")
            audio = np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.int16)
            return audio, list(self._events)


@functools.lru_cache(maxsize=1)
def _espeak_data_dir() -> Path | None:
    exe = shutil.which("espeak-ng")
    if exe is None:
        return None
    out = subprocess.run([exe, "--version"], capture_output=True, text=True, check=False).stdout
    m = re.search(r"Data at:\s*(\S+)", out)
    return Path(m.group(1)) if m else None


def espeak_variants() -> list[str]:
    """Names of espeak-ng's voice variants (``en-us+NAME``), less the ones that do not sound human."""
    data = _espeak_data_dir()
    folder = data / "voices" / "!v" if data else None
    if folder is None or not folder.is_dir():
        return ["m1", "m2", "m3", "f1", "f2", "f3"]
    return sorted(p.name for p in folder.iterdir() if p.is_file() and p.name not in _VARIANT_BLOCKLIST)


def espeak_variant_sexes() -> dict[str, str]:
    """``espeak_variants()`` -> "female" or "male": female where the variant file says ``gender female``;
    the others (male, or no gender line: espeak-ng's voices are male unless told) are "male"."""
    data = _espeak_data_dir()
    folder = data / "voices" / "!v" if data else None
    out = {}
    for name in espeak_variants():
        path = folder / name if folder is not None else None
        text = path.read_text(encoding="utf-8", errors="replace") if path and path.is_file() else ""
        female = re.search(r"^\s*gender\s+female", text, re.IGNORECASE | re.MULTILINE) or (
            not text and name.startswith("f")
        )
        out[name] = "female" if female else "male"
    return out


def espeak_phonemes(text: str, voice: str = "en-us") -> list[str]:
    """ARPAbet phones espeak-ng pronounces for ``text`` (pauses dropped): a pronunciation for any word."""
    _, events = EspeakLib.get().synth(text, voice, 175, 50, 50, 0)
    return [ph for _, m in events for ph in from_espeak(m) if ph != SIL]
