"""ExpCLIP core: speech + emotion prompt -> ARKit blendshape weights. Never imports bpy.

Public API (a contract, see README):

    import expclip_blender as ex
    ex.ARKIT_NAMES                           # the 52 ARKit names, Apple's spelling and order
    m = ex.load()                            # the bundled trained models (nothing is downloaded)
    m.expression("furious", intensity=1.0)   # (52,) ARKit weights in [0, 1]
    m.embed_text(["furious", "calm"])        # (N, D) L2-normalised style embeddings
    m.embed_expression(weights)              # (N, 52) -> (N, D), the same space
"""

from __future__ import annotations

from .api import ExpClip, load
from .arkit import ARKIT_NAMES, NUM_ARKIT
from .mapping import MappingError, MappingPreset, MatchReport, auto_match, load_mapping_preset

__all__ = [
    "ARKIT_NAMES",
    "NUM_ARKIT",
    "ExpClip",
    "MappingError",
    "MappingPreset",
    "MatchReport",
    "auto_match",
    "load",
    "load_mapping_preset",
]
