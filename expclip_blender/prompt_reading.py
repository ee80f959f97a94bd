"""How the model reads a typed prompt, in words the sidebar can show under the prompt field.

Two readings are shown: the stand-ins the text encoder reads with words training never saw
(:func:`prompt_reading`), and the emotion phrase it also reads on its own in a longer prompt
(:func:`prompt_phrase`). Both come from the bundled lexicon and phrase finder, loaded once.
"""

from __future__ import annotations

from .emotion_phrase import bundled_phrase_finder, read_whole
from .lexicon import bundled_lexicon

__all__ = ["normalize_prompt", "prompt_phrase", "prompt_reading"]


def normalize_prompt(prompt: str) -> str:
    """The prompt with its runs of whitespace made single spaces, as the model reads it."""
    return " ".join(prompt.split())


def prompt_reading(prompt: str) -> str | None:
    """How the text encoder reads a prompt whose words training never saw ("feeling crabby (cross,
    grouchy, grumpy)"), or None when it reads the prompt as typed."""
    lexicon = bundled_lexicon()
    text = normalize_prompt(prompt)
    expanded = lexicon.expand(text) if lexicon is not None and text else text
    return expanded if expanded != text else None


def prompt_phrase(prompt: str) -> str | None:
    """The emotion phrase the model also reads on its own in a longer prompt ("a tiny bit judgy" in
    "honestly, she is a tiny bit judgy"), or None when the prompt is read whole (a sentence of more than
    ``PHRASE_APART_MAX_WORDS`` words among them)."""
    finder = bundled_phrase_finder()
    text = normalize_prompt(prompt)
    if finder is None or read_whole(text):
        return None
    return ", ".join(finder.read_apart(text, variants=False)) or None
