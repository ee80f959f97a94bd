"""Rules every face of the API obeys, read from ``face_rules.toml`` (the data and the reasons are there).

* **Antagonistic pairs** (:meth:`FaceRules.resolve`): no face drives both shapes of a pair (eyeWide with
  eyeSquint or eyeBlink, mouthSmile with mouthFrown, same side) above the limit; the stronger is kept.
  It works on any number of faces, so the frames of an animation obey it as well as a still face.
* **Sides** (:meth:`FaceRules.shape`): a face is symmetric unless its prompt asks for a side, a smirk, a
  half smile or another one-sided shape, or the face reads as contempt (one-sided by definition; not for
  words of pride and satisfaction); a prompt that names one raised brow gets it visibly, and one that
  asks for a smirk or a half smile gets one corner visibly higher.

numpy and the standard library only.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from .arkit import ARKIT_INDEX, ARKIT_NAMES
from .facs import EMOTIONS, read_emotion

__all__ = ["FACE_RULES_FILE", "FaceRules", "bundled_face_rules"]

FACE_RULES_FILE = Path(__file__).resolve().parent / "face_rules.toml"
_CLAUSE = re.compile(r"[,;:.!?()\n]+")
_WORD = re.compile(r"[a-z][a-z'-]*")


def _phrase_pattern(phrases: list[str]) -> re.Pattern[str] | None:
    if not phrases:
        return None
    body = "|".join(
        r"\s+".join(re.escape(w) for w in p.lower().split()) for p in sorted(phrases, key=len, reverse=True)
    )
    return re.compile(rf"(?<![\w-])(?:{body})(?![\w-])")


@dataclass(frozen=True)
class FaceRules:
    """The rules of ``face_rules.toml``, with channel names resolved to ARKit indices."""

    limit: float
    blend: float
    pairs: tuple[tuple[int, int], ...]
    side_words: frozenset[str]
    parts: frozenset[str]
    within: int
    one_sided: re.Pattern[str] | None
    one_sided_emotions: frozenset[str]
    symmetric_words: re.Pattern[str] | None
    mirrored: tuple[tuple[int, int], ...]  # Left/Right pairs averaged by symmetry
    sideways: tuple[tuple[int, int], ...]
    brow_nouns: frozenset[str]
    raising: frozenset[str]
    raised_after: frozenset[str]
    brow_within: int
    brow_difference: float
    one_sided_smile: re.Pattern[str] | None
    smile_difference: float

    @classmethod
    def load(cls, path: str | Path = FACE_RULES_FILE) -> FaceRules:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        pairs, sides, brow, smile = data["antagonistic"], data["sides"], data["brow"], data["smile"]

        def index(names: list[str]) -> tuple[int, ...]:
            unknown = [n for n in names if n not in ARKIT_INDEX]
            if unknown:
                raise ValueError(f"face rules '{path}' name unknown ARKit shapes: {', '.join(unknown)}")
            return tuple(ARKIT_INDEX[n] for n in names)

        sideways = tuple(index(p) for p in sides["sideways"])
        emotions = frozenset(sides["one_sided_emotions"])
        if not emotions <= set(EMOTIONS):
            unknown_emotions = ", ".join(sorted(emotions - set(EMOTIONS)))
            raise ValueError(f"face rules '{path}' name unknown emotions: {unknown_emotions}")
        kept = {i for p in sideways for i in p} | set(index(sides["gaze"]))
        mirrored = tuple(
            (ARKIT_INDEX[n], ARKIT_INDEX[n.replace("Left", "Right")])
            for n in ARKIT_NAMES
            if "Left" in n and ARKIT_INDEX[n] not in kept
        )
        return cls(
            limit=float(pairs["limit"]),
            blend=float(pairs["blend"]),
            pairs=tuple((a, b) for a, b in (index(p) for p in pairs["pairs"])),
            side_words=frozenset(sides["side_words"]),
            parts=frozenset(sides["parts"]),
            within=int(sides["within"]),
            one_sided=_phrase_pattern(sides["one_sided"]),
            one_sided_emotions=emotions,
            symmetric_words=_phrase_pattern(sides["symmetric_words"]),
            mirrored=mirrored,
            sideways=tuple((a, b) for a, b in sideways),
            brow_nouns=frozenset(brow["nouns"]),
            raising=frozenset(brow["raising"]),
            raised_after=frozenset(brow["after"]),
            brow_within=int(brow["within"]),
            brow_difference=float(brow["difference"]),
            one_sided_smile=_phrase_pattern(smile["words"]),
            smile_difference=float(smile["difference"]),
        )

    # ---- antagonistic pairs -----------------------------------------------------------------------

    def resolve(self, faces: np.ndarray) -> np.ndarray:
        """``faces`` (..., 52) with no antagonistic pair both above the limit (a new array).

        The weaker of a pair over the limit goes to the limit; the stronger keeps its value, less the
        weaker's excess scaled by (1 - gap / blend)^2, so at a tie both reach the limit and the result is
        continuous. Values only ever go down, so the pairs sharing a shape can be resolved one by one."""
        out = np.array(faces, np.float32, copy=True)
        # The largest float32 not above the limit: float32(0.4) itself is 0.40000000596.
        cap = np.float32(self.limit)
        if float(cap) > self.limit:
            cap = np.nextafter(cap, np.float32(0))
        for ia, ib in self.pairs:
            a, b = out[..., ia], out[..., ib]
            high, low = np.maximum(a, b), np.minimum(a, b)
            excess = low - cap
            over = excess > 0
            if not over.any():
                continue
            gap = (high - low) / max(self.blend, 1e-6)
            yielded = high - excess * np.clip(1.0 - gap, 0.0, 1.0) ** 2
            a_high = a >= b
            out[..., ia] = np.where(over, np.where(a_high, yielded, cap), a)
            out[..., ib] = np.where(over, np.where(a_high, cap, yielded), b)
        return out

    # ---- sides ------------------------------------------------------------------------------------

    def asks_for_side(self, prompt: str) -> bool:
        """Whether ``prompt`` asks for a one-sided face (a side of a face part, or a one-sided shape)."""
        text = prompt.lower()
        if self.one_sided is not None and self.one_sided.search(text):
            return True
        for clause in _CLAUSE.split(text):
            words = _WORD.findall(clause)
            for i, word in enumerate(words):
                if word in self.side_words and self.parts.intersection(words[i + 1 : i + 1 + self.within]):
                    return True
        return self.named_brow(prompt) is not None

    def named_brow(self, prompt: str) -> str | None:
        """``"Left"``, ``"Right"`` or ``"either"`` when ``prompt`` names one raised brow, else None."""
        for clause in _CLAUSE.split(prompt.lower()):
            words = _WORD.findall(clause)
            for i, word in enumerate(words):
                if word not in self.brow_nouns:
                    continue
                near = words[max(0, i - self.brow_within) : i + self.brow_within + 1]
                follows = words[i + 1] if i + 1 < len(words) else ""
                if self.raising.intersection(near) or follows in self.raised_after:
                    return "Left" if "left" in words else "Right" if "right" in words else "either"
        return None

    def symmetric(self, face: np.ndarray) -> np.ndarray:
        """``face`` (52,) with each Left/Right pair at the mean of its sides and no sideways movement; gaze
        is left as it is."""
        out = np.array(face, np.float32, copy=True)
        for left, right in self.mirrored:
            out[left] = out[right] = 0.5 * (face[left] + face[right])
        for one, other in self.sideways:
            out[one] = out[other] = min(face[one], face[other])
        return out

    def raise_brow(self, face: np.ndarray, side: str) -> np.ndarray:
        """``face`` (52,) with the ``side`` ("Left", "Right" or "either": the higher) brow raised at least
        the rule's difference above the other."""
        left, right = ARKIT_INDEX["browOuterUpLeft"], ARKIT_INDEX["browOuterUpRight"]
        if side == "either":
            side = "Left" if face[left] > face[right] else "Right"
        up, other = (left, right) if side == "Left" else (right, left)
        out = np.array(face, np.float32, copy=True)
        out[up] = min(1.0, max(face[up], face[other] + self.brow_difference))
        out[other] = min(face[other], out[up] - self.brow_difference)
        return out

    def named_smile(self, prompt: str) -> str | None:
        """``"Left"``, ``"Right"`` or ``"either"`` when ``prompt`` asks for a one-sided smile, else None."""
        text = prompt.lower()
        if self.one_sided_smile is None or not self.one_sided_smile.search(text):
            return None
        words = set(_WORD.findall(text))
        return "Left" if "left" in words else "Right" if "right" in words else "either"

    def lift_corner(self, face: np.ndarray, side: str) -> np.ndarray:
        """``face`` (52,) with the ``side`` ("Left", "Right" or "either": the higher) mouth corner's smile at
        least the rule's difference above the other's."""
        left, right = ARKIT_INDEX["mouthSmileLeft"], ARKIT_INDEX["mouthSmileRight"]
        if side == "either":
            side = "Left" if face[left] > face[right] else "Right"
        up, other = (left, right) if side == "Left" else (right, left)
        out = np.array(face, np.float32, copy=True)
        out[up] = max(face[up], self.smile_difference)
        out[other] = min(face[other], out[up] - self.smile_difference)
        return out

    def shape(self, face: np.ndarray, prompt: str) -> np.ndarray:
        """The side rules for one decoded face (52,) of ``prompt``: symmetric unless a side is asked for
        or the face reads as a one-sided emotion (contempt; not for words of pride and satisfaction), a
        named raised brow raised visibly and an asked one-sided smile one-sided."""
        brow, smile = self.named_brow(prompt), self.named_smile(prompt)
        if brow is not None:
            face = self.raise_brow(face, brow)
        if smile is not None:
            face = self.lift_corner(face, smile)
        if brow is not None or smile is not None or self.asks_for_side(prompt):
            return face
        symmetric_word = self.symmetric_words is not None and self.symmetric_words.search(prompt.lower())
        if not symmetric_word and read_emotion(face) in self.one_sided_emotions:
            return face
        return self.symmetric(face)


@lru_cache(maxsize=1)
def bundled_face_rules() -> FaceRules:
    """The shipped rules (``face_rules.toml`` beside this module)."""
    return FaceRules.load()
