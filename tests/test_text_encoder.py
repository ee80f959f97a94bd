"""The frozen MiniLM sentence encoder: numpy forward pass against transformers, truncation, odd input."""

from __future__ import annotations

import numpy as np
import pytest

from expclip_blender.text_encoder import EMBED_DIM, MAX_TOKENS, MiniLMEncoder, PromptTruncatedWarning

TEXTS = [
    "absolutely livid",
    "on the verge of tears",
    "smug half smile",
    "brows drawn together, lips pressed thin",
    "",
    "日本語のテキスト",
    "zxqv blorp ###",
    "Ich bin sehr wütend!",
]


@pytest.fixture(scope="module")
def encoder() -> MiniLMEncoder:
    return MiniLMEncoder()


def test_matches_transformers_bert_on_the_same_weights(encoder):
    torch = pytest.importorskip("torch")
    from transformers import BertModel, BertTokenizerFast

    from expclip_blender.text_encoder import minilm_dir

    tokenizer = BertTokenizerFast.from_pretrained(minilm_dir())
    model = BertModel.from_pretrained(minilm_dir()).eval()
    batch = tokenizer(TEXTS, return_tensors="pt", padding=True, truncation=True, max_length=MAX_TOKENS)
    with torch.no_grad():
        hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).float()
    reference = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1).numpy()
    ours = encoder.encode(TEXTS)
    assert ours.shape == (len(TEXTS), EMBED_DIM) and ours.dtype == np.float32
    assert np.abs(ours - reference).max() < 1e-4


def test_embeddings_are_unit_length_and_semantic(encoder):
    emb = encoder.encode(["furious", "enraged", "calm and relaxed"])
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)
    assert emb[0] @ emb[1] > emb[0] @ emb[2]


def test_batching_does_not_change_results(encoder):
    together = encoder.encode(TEXTS, batch_size=3)
    alone = np.concatenate([encoder.encode([t]) for t in TEXTS])
    assert np.abs(together - alone).max() < 1e-5


def test_long_prompts_are_truncated_with_a_warning(encoder):
    long_text = "very " * 400 + "angry"
    with pytest.warns(PromptTruncatedWarning, match="longer than the text encoder takes"):
        ids = encoder.tokenize(long_text)
    assert len(ids) == MAX_TOKENS and ids[0] == encoder.cls_id and ids[-1] == encoder.sep_id
    with pytest.warns(PromptTruncatedWarning):
        emb = encoder.encode([long_text])
    assert np.all(np.isfinite(emb))
