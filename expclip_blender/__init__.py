"""ExpCLIP core: speech + emotion prompt -> ARKit blendshape weights. Never imports bpy.

Public API (a contract, see README):

    import expclip_blender as ex
    ex.ARKIT_NAMES                           # the 52 ARKit names, Apple's spelling and order
    m = ex.load()                            # the bundled trained models (nothing is downloaded)
    m.expression("furious", intensity=1.0)   # (52,) ARKit weights in [0, 1]
    m.embed_text(["furious", "calm"])        # (N, D) L2-normalised style embeddings
    m.embed_expression(weights)              # (N, 52) -> (N, D), the same space
    m.animate(audio, sample_rate, prompt="neutral", fps=30.0, intensity=1.0)  # (ceil(dur * fps), 52)
"""

from __future__ import annotations

from .api import ExpClip, ReadingOptions, StyleCue, audio_is_silent, load
from .arkit import ARKIT_NAMES, NUM_ARKIT
from .cancel import Cancelled
from .mapping import MappingError, MappingPreset, MatchReport, auto_match, load_mapping_preset
from .model_files import ModelFileError

__all__ = [
    "ARKIT_NAMES",
    "NUM_ARKIT",
    "Cancelled",
    "ExpClip",
    "MappingError",
    "MappingPreset",
    "MatchReport",
    "ModelFileError",
    "ReadingOptions",
    "StyleCue",
    "audio_is_silent",
    "auto_match",
    "load",
    "load_mapping_preset",
]
