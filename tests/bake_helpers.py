"""Helpers of the bake tests: sound strips, generated speech-like audio, and a fingerprint of the file.

Import inside tests or fixtures (they need bpy).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import bpy
import numpy as np
import pytest
import soundfile as sf

RATE = 16000


def add_sound_strip(
    scene: bpy.types.Scene, path: str | Path, frame_start: int, channel: int = 1, name: str = "voice"
):
    """A new sound strip (``strips`` on 5.x, ``sequences`` on 4.2); skips where bpy has no audio."""
    editor = scene.sequence_editor or scene.sequence_editor_create()
    strips = editor.strips if hasattr(editor, "strips") else editor.sequences
    try:
        return strips.new_sound(name, str(path), channel, frame_start)
    except RuntimeError as err:
        if "Audaspace" in str(err):  # the PyPI bpy 4.2 wheel is built without audio
            pytest.skip("this bpy build has no Audaspace: sound strips cannot be made")
        raise


def write_wav(path: Path, samples: np.ndarray, rate: int = RATE) -> Path:
    """A float32 WAV (exact samples, so reads can be compared value for value)."""
    sf.write(path, np.asarray(samples, np.float32), rate, subtype="FLOAT")
    return path


def speech_like(seconds: float, rate: int = RATE, seed: int = 0) -> np.ndarray:
    """Voiced syllables (harmonics of a gliding pitch, formant-ish tilt) at about 4 Hz, with short pauses."""
    rng = np.random.default_rng(seed)
    n = round(seconds * rate)
    t = np.arange(n) / rate
    f0 = 120 + 20 * np.sin(2 * np.pi * 0.5 * t)
    phase = 2 * np.pi * np.cumsum(f0) / rate
    voice = sum(np.sin(k * phase) / k for k in range(1, 12))
    syllables = np.clip(np.sin(2 * np.pi * 4.0 * t + rng.uniform(0, 6)), 0, None) ** 0.5
    pauses = (np.sin(2 * np.pi * 0.35 * t) > -0.8).astype(np.float64)
    noise = 0.05 * rng.normal(size=n)
    return (0.3 * voice * syllables * pauses + noise * syllables * pauses).astype(np.float32)


def espeak_wav(path: Path, text: str) -> Path:
    """Speech synthesised by the espeak-ng command; skips the test where it is not installed."""
    exe = shutil.which("espeak-ng")
    if exe is None:
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")
    subprocess.run([exe, "-v", "en-us", "-s", "150", "-w", str(path), text], check=True, capture_output=True)
    return path


def file_state(bpy_module=bpy) -> dict:
    """What a bake may touch, as plain data: actions, every shape-key datablock's animation and values."""
    state: dict = {
        "actions": sorted((a.name, a.use_fake_user, a.users) for a in bpy_module.data.actions),
        "keys": {},
    }
    for key in bpy_module.data.shape_keys:
        anim = key.animation_data
        state["keys"][key.name] = {
            "values": [round(kb.value, 6) for kb in key.key_blocks],
            "action": None if anim is None or anim.action is None else anim.action.name,
            "has_animation_data": anim is not None,
            "tracks": []
            if anim is None
            else [(t.name, t.mute, [s.name for s in t.strips]) for t in anim.nla_tracks],
        }
    return state
