"""ExpCLIP core: speech + emotion prompt -> ARKit blendshape weights. Never imports bpy.

Public API (a contract, see README):

    import expclip_blender as ex
    ex.ARKIT_NAMES            # the 52 ARKit blendshape names, Apple's spelling and order
"""

from __future__ import annotations

from .arkit import ARKIT_NAMES, NUM_ARKIT
from .mapping import MappingError, MappingPreset, MatchReport, auto_match, load_mapping_preset

__all__ = [
    "ARKIT_NAMES",
    "NUM_ARKIT",
    "MappingError",
    "MappingPreset",
    "MatchReport",
    "auto_match",
    "load_mapping_preset",
]
