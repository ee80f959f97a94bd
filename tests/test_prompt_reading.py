"""How the sidebar says the model reads a prompt (``expclip_blender.prompt_reading``), without Blender."""

from __future__ import annotations

from expclip_blender.prompt_reading import normalize_prompt, prompt_phrase, prompt_reading


def test_normalize_prompt():
    assert normalize_prompt("  on the verge\tof   tears \n") == "on the verge of tears"
    assert normalize_prompt("") == ""


def test_unseen_prompt_words_are_read_with_stand_ins():
    assert "grumpy" in prompt_reading("feeling  crabby")
    assert prompt_reading("furious") is None and prompt_reading("") is None
    assert prompt_reading("très en colère") is None


def test_the_emotion_phrase_read_on_its_own():
    assert prompt_phrase("honestly,  she is a tiny bit judgy") == "a tiny bit judgy"
    assert prompt_phrase("furious") is None  # the prompt is its own phrase
    assert prompt_phrase("absolutely livid") is None  # its grade variants are read, not shown
    assert prompt_phrase("happy but a little surprised") is None and prompt_phrase("") is None
    # A sentence is read whole, as the model reads it (emotion_phrase.PHRASE_APART_MAX_WORDS).
    assert prompt_phrase("honestly, after the meeting this morning she is a tiny bit judgy") is None
