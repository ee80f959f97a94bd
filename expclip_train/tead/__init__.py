"""TEAD: the text-expression alignment dataset (ExpCLIP, Zhong et al., AAAI 2024), built offline.

``build_tead(seed)`` makes ARKit-52 expressions from FACS action units and pairs each with prompt-like
descriptions from an offline annotator (and, when present, real GoEmotions sentences).
"""

from __future__ import annotations

from .build import Tead, build_tead, load_tead

__all__ = ["Tead", "build_tead", "load_tead"]
