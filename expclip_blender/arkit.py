"""The 52 ARKit blendshape names (Apple's spelling and order) and groupings of them."""

from __future__ import annotations

ARKIT_NAMES: tuple[str, ...] = (
    "eyeBlinkLeft", "eyeLookDownLeft", "eyeLookInLeft", "eyeLookOutLeft", "eyeLookUpLeft",
    "eyeSquintLeft", "eyeWideLeft",
    "eyeBlinkRight", "eyeLookDownRight", "eyeLookInRight", "eyeLookOutRight", "eyeLookUpRight",
    "eyeSquintRight", "eyeWideRight",
    "jawForward", "jawLeft", "jawRight", "jawOpen",
    "mouthClose", "mouthFunnel", "mouthPucker", "mouthLeft", "mouthRight",
    "mouthSmileLeft", "mouthSmileRight", "mouthFrownLeft", "mouthFrownRight",
    "mouthDimpleLeft", "mouthDimpleRight", "mouthStretchLeft", "mouthStretchRight",
    "mouthRollLower", "mouthRollUpper", "mouthShrugLower", "mouthShrugUpper",
    "mouthPressLeft", "mouthPressRight", "mouthLowerDownLeft", "mouthLowerDownRight",
    "mouthUpperUpLeft", "mouthUpperUpRight",
    "browDownLeft", "browDownRight", "browInnerUp", "browOuterUpLeft", "browOuterUpRight",
    "cheekPuff", "cheekSquintLeft", "cheekSquintRight",
    "noseSneerLeft", "noseSneerRight",
    "tongueOut",
)  # fmt: skip

NUM_ARKIT = len(ARKIT_NAMES)
ARKIT_INDEX: dict[str, int] = {name: i for i, name in enumerate(ARKIT_NAMES)}

# Channels that carry speech articulation (jaw and lips); the rest of the face carries expression.
MOUTH_NAMES: tuple[str, ...] = tuple(
    n for n in ARKIT_NAMES if n.startswith(("jaw", "mouth")) or n == "tongueOut"
)
EYE_NAMES: tuple[str, ...] = tuple(n for n in ARKIT_NAMES if n.startswith("eye"))
BROW_NAMES: tuple[str, ...] = tuple(n for n in ARKIT_NAMES if n.startswith("brow"))

# Left <-> right channel permutation: ``weights[..., MIRROR_ORDER]`` mirrors a face about the midline.
MIRROR_ORDER: tuple[int, ...] = tuple(
    ARKIT_INDEX[n.replace("Left", "\0").replace("Right", "Left").replace("\0", "Right")] for n in ARKIT_NAMES
)

# ARKit channels some rigs split into left and right halves.
SPLIT_CHANNELS: tuple[str, ...] = ("browInnerUp", "cheekPuff")


def arkit_index(name: str) -> int:
    """Index of an ARKit name in ARKIT_NAMES; raises KeyError with the valid names otherwise."""
    try:
        return ARKIT_INDEX[name]
    except KeyError:
        raise KeyError(f"{name!r} is not one of the 52 ARKit blendshape names") from None
