"""The GPU benchmark's recorded encoder outputs: loadable, MiniLM-shaped, and what the live encoder gives."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_cuda.py"


def _bench():
    spec = importlib.util.spec_from_file_location("expclip_bench_cuda", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_recording_replays_the_live_encoder() -> None:
    from expclip_blender.text_encoder import EMBED_DIM, MiniLMEncoder

    bench = _bench()
    recorded = bench.RecordedEncoder()
    assert recorded.table, "the recording is empty"
    texts = sorted(recorded.table)
    replayed = recorded.encode(texts)
    assert replayed.shape == (len(texts), EMBED_DIM) and replayed.dtype == np.float32
    # A stale recording (the encoder or the prompt's expansion changed) would make the GPU run disagree
    # with what users get: it must equal the live encoder's outputs.
    np.testing.assert_allclose(replayed, MiniLMEncoder().encode(texts), atol=1e-6)
    # animate() with the default prompt sends only recorded texts (a missing one raises KeyError).
    model = bench.make_model(recorded, "cpu")
    out = model.animate(bench.speech_like(1.0), bench.SR, "happy", bench.FPS)
    assert out.shape == (30, 52)
