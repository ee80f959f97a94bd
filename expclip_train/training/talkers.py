"""Other speakers' clips for the babble under the generator's training data.

The pool holds the corpus's *training* clips only, and none of a speaker who has any held-out clip (the
manifest's ``holdout_speakers`` and the speakers of every clip outside the training split), so the
held-out checks never hear a voice the training heard as babble. :meth:`TalkerPool.draw` picks distinct
speakers other than the clip's own, one clip each; it reads the audio from the corpus when asked (worker
processes share nothing but the pool's list), keeping the last few clips read.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

import numpy as np

__all__ = ["TalkerPool"]

CACHE_CLIPS = 64  # clips kept in memory by each process (a few MB)


class TalkerPool:
    """The training clips babble is made of, by speaker (ids sorted, so a seed draws the same talkers)."""

    def __init__(self, corpus: Path | str, clips: list[tuple[str, str]]) -> None:
        self.corpus = Path(corpus)
        by_speaker: dict[str, list[str]] = {}
        for cid, speaker in sorted(clips):
            by_speaker.setdefault(speaker, []).append(cid)
        self.speakers = sorted(by_speaker)
        self.by_speaker = by_speaker
        self._cache: OrderedDict[tuple[str, int], np.ndarray] = OrderedDict()

    @classmethod
    def from_manifest(cls, corpus: Path | str, manifest: dict) -> TalkerPool:
        """The pool of a corpus: its training clips of speakers with nothing held out."""
        clips = manifest["clips"]
        held = {str(s) for s in manifest.get("holdout_speakers", [])}
        held |= {str(e.get("speaker")) for e in clips if e.get("split", "train") != "train"}
        train = [e for e in clips if e.get("split", "train") == "train"]
        return cls(
            corpus, [(e["id"], str(e.get("speaker"))) for e in train if str(e.get("speaker")) not in held]
        )

    def __len__(self) -> int:
        return sum(len(v) for v in self.by_speaker.values())

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_cache": OrderedDict()}  # a worker starts with an empty cache

    def draw(self, speaker: str, k: int, rng: np.random.Generator, sr: int) -> list[np.ndarray]:
        """Clips of up to ``k`` distinct speakers other than ``speaker`` (fewer when the pool has fewer),
        at ``sr``."""
        others = [s for s in self.speakers if s != speaker]
        if not others or k <= 0:
            return []
        picked = rng.choice(len(others), size=min(k, len(others)), replace=False)
        out = []
        for i in picked:
            ids = self.by_speaker[others[int(i)]]
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
