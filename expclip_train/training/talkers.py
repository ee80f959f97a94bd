"""Other speakers' clips for the babble under the generator's training data.

The pool holds the corpus's *training* clips only, and none of a speaker who has any held-out clip (the
manifest's ``holdout_speakers`` and the speakers of every clip outside the training split), so the
held-out checks never hear a voice the training heard as babble. :meth:`TalkerPool.draw` picks distinct
speakers other than the clip's own, one clip each, each a real recording's speaker with a given
probability (a synthetic voice's otherwise; the other kind when one runs out). It reads the audio from
the corpus when asked (worker processes share nothing but the pool's list), keeping the last few read.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

import numpy as np

__all__ = ["TalkerPool"]

CACHE_CLIPS = 64  # clips kept in memory by each process (a few MB)


class TalkerPool:
    """The training clips babble is made of, by speaker (ids sorted, so a seed draws the same talkers)."""

    def __init__(self, corpus: Path | str, clips: list[tuple[str, str, bool]]) -> None:
        """``clips``: (id, speaker, real recording?)."""
        self.corpus = Path(corpus)
        by_speaker: dict[str, list[str]] = {}
        real: dict[str, bool] = {}
        for cid, speaker, is_real in sorted(clips):
            by_speaker.setdefault(speaker, []).append(cid)
            real[speaker] = real.get(speaker, True) and is_real
        self.speakers = sorted(by_speaker)
        self.by_speaker = by_speaker
        self.real = real
        self._cache: OrderedDict[tuple[str, int], np.ndarray] = OrderedDict()

    @classmethod
    def from_manifest(cls, corpus: Path | str, manifest: dict) -> TalkerPool:
        """The pool of a corpus: its training clips of speakers with nothing held out."""
        clips = manifest["clips"]
        held = {str(s) for s in manifest.get("holdout_speakers", [])}
        held |= {str(e.get("speaker")) for e in clips if e.get("split", "train") != "train"}
        train = [e for e in clips if e.get("split", "train") == "train"]
        rows = [(e["id"], str(e.get("speaker")), e.get("source") == "real") for e in train]
        return cls(corpus, [r for r in rows if r[1] not in held])

    def __len__(self) -> int:
        return sum(len(v) for v in self.by_speaker.values())

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_cache": OrderedDict()}  # a worker starts with an empty cache

    def draw(
        self, speaker: str, k: int, rng: np.random.Generator, sr: int, real_share: float = 1.0
    ) -> list[np.ndarray]:
        """Clips of up to ``k`` distinct speakers other than ``speaker`` (fewer when the pool has fewer),
        at ``sr``; each talker a real recording's speaker with probability ``real_share``."""
        kinds = {
            want: [s for s in self.speakers if s != speaker and self.real[s] == want]
            for want in (True, False)
        }
        out = []
        for _ in range(k):
            want = bool(rng.random() < real_share)
            group = kinds[want] or kinds[not want]
            if not group:
                break
            who = group.pop(int(rng.integers(len(group))))
            ids = self.by_speaker[who]
            out.append(self._audio(ids[int(rng.integers(len(ids)))], sr))
        return out

    def _audio(self, cid: str, sr: int) -> np.ndarray:
        key = (cid, sr)
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        import soundfile as sf

        from expclip_blender.audio import resample

        audio, rate = sf.read(self.corpus / "clips" / f"{cid}.flac", dtype="float32")
        if audio.ndim > 1:
            audio = audio.mean(axis=1)
        if rate != sr:
            audio = resample(audio, rate, sr)
        self._cache[key] = audio
        if len(self._cache) > CACHE_CLIPS:
            self._cache.popitem(last=False)
        return audio
