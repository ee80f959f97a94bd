"""Seeded fuzzing of every input a user hands the runtime: audio files, prompts, numbers, jobs files,
presets, mapping presets and model weight files.

Each case must end in a clear error (the project's own exception type, a message that is not a bare
Python internal error) or a finite result within its documented range, and must leave every file as it
was. The seeds are fixed and every assertion names the family, seed and case, so a failure reproduces
with ``pytest tests/test_fuzz.py -k <family>`` (and the same EXPCLIP_FUZZ_SEED / EXPCLIP_FUZZ_CASES, if
set). The whole file runs in a few seconds.
"""

from __future__ import annotations

import io
import json
import math
import os
import random
import struct
import traceback
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import expclip_blender as ex
from expclip_blender import jobs, limits
from expclip_blender.audio import AudioError, AudioWarning, load_audio
from expclip_blender.expclip import load_heads
from expclip_blender.mapping import MappingError, MappingPreset, load_mapping_preset
from expclip_blender.model_files import ModelFileError
from expclip_blender.presets import MAX_FILE_BYTES, Preset, PresetError, read_preset
from expclip_blender.weights_io import WeightsFileError, load_weights

MODELS_DIR = Path(ex.__file__).parent / "models"
# EXPCLIP_FUZZ_SEED / EXPCLIP_FUZZ_CASES run other or more cases (a longer hunt than CI's).
SEED = int(os.environ.get("EXPCLIP_FUZZ_SEED", "20261206"))
CASES = int(os.environ.get("EXPCLIP_FUZZ_CASES", "40"))  # per family: enough variety, a few seconds in all

# What a Python internal error says; a user-facing message never does.
_INTERNAL = (
    "index out of range",
    "has no attribute",
    "unhashable type",
    "not subscriptable",
    "is not iterable",
    "referenced before assignment",
    "maximum recursion depth",
    "Exceeds the limit",
    "too large to convert",
    "unsupported operand",
    "NoneType",
    "object is not callable",
    "takes no arguments",
    "has no len()",
    "indices must be integers",
    "unexpected keyword argument",
)


# --- helpers ---------------------------------------------------------------------------------------


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under ``folder`` with its bytes and modification time (what must not change)."""
    return {
        str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def attempt(call: Callable[[], object], allowed: tuple[type[BaseException], ...], case: str) -> object | None:
    """``call()``'s result, or None when it raised one of ``allowed`` with a clear message; any other
    exception fails the test naming ``case`` (with the traceback's last lines)."""
    try:
        return call()
    except allowed as exc:
        message = str(exc)
        assert message.strip(), f"{case}: {type(exc).__name__} with an empty message"
        internal = [s for s in _INTERNAL if s in message]
        assert not internal, f"{case}: {type(exc).__name__} says a Python internal error: {message!r}"
        return None
    except Exception as exc:  # the defect this file is here to find
        tail = "".join(traceback.format_exception(exc)[-3:])
        pytest.fail(f"{case}: unexpected {type(exc).__name__}: {exc!r}\n{tail}")


def unchanged(folder: Path, before: dict[str, tuple[bytes, int]], case: str) -> None:
    after = snapshot(folder)
    assert sorted(after) == sorted(before), f"{case}: files added or removed: {sorted(after)}"
    for name, state in before.items():
        assert after[name] == state, f"{case}: '{name}' was changed"


def mutate_text(rng: random.Random, text: str) -> str:
    """``text`` with one random edit: a character inserted, deleted or repeated, or a slice swapped."""
    junk = ['"', ",", "\n", "\r", "\x00", "\ufeff", "//", "{", "}", "[", "]", ":", "\\", "'", "é", "\ud800"]
    pos = rng.randrange(len(text) + 1)
    kind = rng.randrange(5)
    if kind == 0:
        return text[:pos] + rng.choice(junk) + text[pos:]
    if kind == 1:
        return text[:pos] + text[pos + rng.randint(1, 20) :]
    if kind == 2:
        return text[:pos] + text[pos : pos + 10] * rng.randint(2, 5) + text[pos:]
    if kind == 3:
        return text[:pos]
    other = rng.randrange(len(text) + 1)
    a, b = sorted((pos, other))
    return text[:a] + text[b:] + text[a:b]


WEIRD_VALUES: list[object] = [
    math.nan,
    math.inf,
    -math.inf,
    -1,
    -0.0,
    0,
    0.5,
    1,
    2,
    2.0001,
    31,
    1001,
    1e308,
    -1e308,
    10**400,
    -(10**400),
    2**64,
    "1",
    "nan",
    "",
    True,
    False,
    None,
    [],
    {},
    [1.0],
    np.float32("nan"),
    np.float64(0.25),
    np.int64(3),
    "\ud800",
]


def weird_json_value(rng: random.Random) -> object:
    """A JSON-able value of a random type and size (never NaN: json.dumps writes it, but as a literal)."""
    pool: list[object] = [
        None,
        True,
        False,
        -1,
        0,
        1,
        2.5,
        1e308,
        10**30,
        10**400,
        -(10**400),
        "",
        "x",
        "furious",
        "\x00\x1f",
        "é" * 300,
        "//shot.blend",
        [],
        [1, "a"],
        {},
        {"a": 1},
        "Face;;Teeth",
        "x" * 5000,
    ]
    return rng.choice(pool)


def deep_json(depth: int) -> str:
    return "[" * depth + "]" * depth


# --- audio files -----------------------------------------------------------------------------------


def _sound_bytes(fmt: str, subtype: str | None = None, *, data: np.ndarray | None = None) -> bytes:
    import soundfile as sf

    t = np.arange(8000) / 16000
    samples = data if data is not None else (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    buffer = io.BytesIO()
    sf.write(buffer, samples, 16000, format=fmt, subtype=subtype)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def sounds() -> dict[str, bytes]:
    pytest.importorskip("soundfile")
    nan = np.full(8000, np.nan, np.float32)
    return {
        "wav": _sound_bytes("WAV", "PCM_16"),
        "flac": _sound_bytes("FLAC"),
        "ogg": _sound_bytes("OGG", "VORBIS"),
        "mp3": _sound_bytes("MP3"),
        "nan.wav": _sound_bytes("WAV", "FLOAT", data=nan),
    }


def _mangle_audio(rng: random.Random, data: bytes) -> tuple[str, bytes]:
    kind = rng.randrange(8)
    if kind == 0:
        return "truncated", data[: rng.randrange(len(data))]
    if kind == 1:
        garbled = bytearray(data)
        for _ in range(rng.randint(1, 64)):
            garbled[rng.randrange(len(garbled))] = rng.randrange(256)
        return "garbled", bytes(garbled)
    if kind == 2:
        return "wrong header", bytes(rng.randrange(256) for _ in range(16)) + data[16:]
    if kind == 3:
        return "zero-length", b""
    if kind == 4:  # RIFF and data sizes that claim 4 GB
        if data[:4] == b"RIFF":
            huge = bytearray(data)
            huge[4:8] = struct.pack("<I", 0xFFFFFFF0)
            at = huge.find(b"data")
            huge[at + 4 : at + 8] = struct.pack("<I", 0xFFFFFF00)
            return "huge claimed size", bytes(huge)
        return "huge claimed size", data[:64] + b"\xff" * 64 + data[128:]
    if kind == 5:
        return "random bytes", bytes(rng.randrange(256) for _ in range(rng.randint(1, 4096)))
    if kind == 6:
        return "header only", data[:44]
    return "tail only", data[len(data) // 2 :]


def test_fuzz_audio_files(sounds: dict[str, bytes], tmp_path: Path) -> None:
    rng = random.Random(SEED)
    names = sorted(sounds)
    for i in range(CASES + 10):
        source = rng.choice(names)
        kind, data = ("as made", sounds[source]) if i < len(names) else _mangle_audio(rng, sounds[source])
        suffix = (
            source.rsplit(".", 1)[-1] if rng.random() < 0.8 else rng.choice(["wav", "flac", "ogg", "mp3"])
        )
        path = tmp_path / f"case{i}.{suffix}"
        path.write_bytes(data)
        case = f"audio seed={SEED} case={i} ({kind} {source} named .{suffix}, {len(data)} bytes)"
        before = snapshot(tmp_path)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", AudioWarning)  # a truncated file may warn and still decode
            out = attempt(lambda p=path: load_audio(p, 16000), (AudioError,), case)
        if out is not None:
            assert isinstance(out, np.ndarray) and out.ndim == 1 and out.dtype == np.float32, case
            assert len(out) > 0 and np.isfinite(out).all(), f"{case}: non-finite or empty samples"
        unchanged(tmp_path, before, case)


# --- prompts and numbers against the model ---------------------------------------------------------


@pytest.fixture(scope="module")
def model() -> ex.ExpClip:
    if not (MODELS_DIR / "expclip.safetensors").is_file():
        pytest.skip("models/expclip.safetensors is not trained yet")
    return ex.load()


def random_prompt(rng: random.Random) -> object:
    kind = rng.randrange(9)
    if kind == 0:
        return "".join(chr(rng.randrange(0x20, 0x2FFFF)) for _ in range(rng.randint(1, 40)))
    if kind == 1:  # lone surrogates among words
        return "angry " + chr(rng.randrange(0xD800, 0xE000)) + " and sad" + chr(rng.randrange(0xDC00, 0xE000))
    if kind == 2:
        return "".join(chr(rng.randrange(0, 0x20)) for _ in range(rng.randint(1, 30)))
    if kind == 3:
        return "very " * rng.randint(500, 5000) + "happy"
    if kind == 4:
        return rng.choice(["", " ", "\t\n", "\u200b", "\ufeff"])
    if kind == 5:
        return rng.choice([None, 3, 2.5, b"furious", ["sad"], {"prompt": "sad"}, True])
    if kind == 6:
        return "x" * rng.randint(5_000, 20_000)
    if kind == 7:
        return "😡" * rng.randint(1, 300)
    return rng.choice(["furious", "quietly pleased", "SAD!!!", "neutral", "résigné, fatigué"])


def check_face(face: object, case: str) -> None:
    assert isinstance(face, np.ndarray) and face.shape == (52,), f"{case}: {face!r}"
    assert np.isfinite(face).all() and face.min() >= 0 and face.max() <= 1, f"{case}: out of range"


@pytest.mark.filterwarnings("ignore::expclip_blender.text_encoder.PromptTruncatedWarning")
def test_fuzz_prompts(model: ex.ExpClip) -> None:
    rng = random.Random(SEED + 1)
    for i in range(CASES):
        prompt = random_prompt(rng)
        intensity = rng.choice([0.0, 0.5, 1.0, 2.0])
        case = f"prompt seed={SEED + 1} case={i} prompt={str(prompt)[:60]!r} intensity={intensity}"
        # A prompt that is not text is a programming error: TypeError says so, as Python does.
        face = attempt(lambda p=prompt, k=intensity: model.expression(p, k), (TypeError,), case)
        if face is not None:
            check_face(face, case)


def test_fuzz_limits() -> None:
    """Every number check accepts exactly the finite real numbers in its range, and says so otherwise."""
    checks = {
        limits.check_intensity: limits.INTENSITY_RANGE,
        limits.check_fps: limits.FPS_RANGE,
        limits.check_smoothing: limits.SMOOTHING_RANGE,
        limits.check_transition: limits.TRANSITION_RANGE,
        limits.check_time: (-math.inf, math.inf),
        limits.check_seed: limits.SEED_RANGE,
    }
    for check, (low, high) in checks.items():
        for value in WEIRD_VALUES:
            case = f"{check.__name__}({value!r})"
            out = attempt(lambda c=check, v=value: c(v), (ValueError,), case)
            if out is not None:
                assert isinstance(out, float | int) and not isinstance(out, bool), case
                assert math.isfinite(out) and low <= out <= high, f"{case} -> {out!r}"


def test_fuzz_animate_numbers(model: ex.ExpClip) -> None:
    rng = random.Random(SEED + 2)
    t = np.arange(8000) / 16000
    audio = (0.3 * np.sin(2 * np.pi * 180 * t) * (1 + np.sin(2 * np.pi * 3 * t))).astype(np.float32)
    good = {"fps": 30.0, "intensity": 1.0, "smoothing": 0.2, "transition_s": 0.1, "seed": 1}
    for i in range(CASES * 2 // 3):  # each accepted case runs the generator
        args = dict(good)
        for name in rng.sample([*good, "cue_time", "cue_intensity"], rng.randint(1, 2)):
            args[name] = rng.choice(WEIRD_VALUES)
        case = f"animate seed={SEED + 2} case={i} {args!r}"

        def run(a: dict = args) -> np.ndarray:
            cues = None
            if "cue_time" in a or "cue_intensity" in a:
                cues = [ex.StyleCue(a.pop("cue_time", 0.25), "sad", a.pop("cue_intensity", 1.0))]
            return model.animate(audio, 16000, "furious", cues=cues, **a)

        out = attempt(run, (ValueError,), case)
        if out is not None:
            assert isinstance(out, np.ndarray) and out.shape == (math.ceil(0.5 * args["fps"]), 52), case
            assert np.isfinite(out).all() and out.min() >= 0 and out.max() <= 1, f"{case}: out of range"


# --- jobs files ------------------------------------------------------------------------------------

_VALID_JOBS = [
    {"blend": "shots/a.blend", "object": "Face", "audio": "a.wav", "prompt": "furious",
     "output": "out/a.blend"},
    {"blend": "shots/b.blend", "object": "Face;Teeth", "prompt": "sad", "intensity": 0.5, "overwrite": True},
    {"blend": "c.blend", "object": "Head", "preset": "Calm", "smoothing": 0.3, "blinks": False,
     "output": "//c_out.blend"},
]  # fmt: skip
_CSV_HEADER = ["blend", "object", "audio", "prompt", "preset", "intensity", "smoothing", "blinks", "output",
               "overwrite"]  # fmt: skip


def _valid_csv() -> str:
    lines = [",".join(_CSV_HEADER)]
    for job in _VALID_JOBS:
        lines.append(",".join(f'"{job[k]}"' if k in job else "" for k in _CSV_HEADER))
    return "\n".join(lines) + "\n"


def _mutated_jobs(rng: random.Random, suffix: str) -> str | bytes:
    kind = rng.randrange(10)
    if kind == 0:
        return b"\xff\xfe" + os.urandom(rng.randint(0, 64))  # not UTF-8
    if kind == 1:
        return "\ufeff" + (_valid_csv() if suffix == ".csv" else json.dumps(_VALID_JOBS))
    if suffix == ".csv":
        text = _valid_csv()
        if kind == 2:  # a duplicate or unknown header
            return (
                text.splitlines()[0] + "\n" + text if rng.random() < 0.5 else "blend,object,colour\n" + text
            )
        if kind == 3:
            return text.replace(",", ",extra,", 1) if rng.random() < 0.5 else text.replace(",", "", 2)
        if kind == 4:
            return text + "x" * 200_000 + "\n"  # one cell larger than csv's field limit
        for _ in range(rng.randint(1, 4)):
            text = mutate_text(rng, text)
        return text
    jobs_list = json.loads(json.dumps(_VALID_JOBS))
    if kind == 2:
        return deep_json(rng.choice([100, 5_000, 100_000]))
    if kind == 3:
        return rng.choice(["", "null", "{}", '{"jobs": 3}', "[1, 2]", '"x"', '{"jobs": [], "x": 1}'])
    if kind == 4:
        return '[{"blend": "a.blend", "object": "F", "intensity": ' + "9" * rng.choice([400, 5000]) + "}]"
    if kind in (5, 6, 7):
        for _ in range(rng.randint(1, 3)):
            job = rng.choice(jobs_list)
            field = rng.choice([*jobs.FIELDS, "colour", ""])
            job[field] = weird_json_value(rng)
        return json.dumps(jobs_list)
    text = json.dumps(jobs_list)
    for _ in range(rng.randint(1, 4)):
        text = mutate_text(rng, text)
    return text


@pytest.mark.parametrize("suffix", [".csv", ".json"])
def test_fuzz_jobs_files(suffix: str, tmp_path: Path) -> None:
    rng = random.Random(f"{SEED}{suffix}")
    for i in range(CASES):
        folder = tmp_path / f"case{i}"
        folder.mkdir()
        content = _mutated_jobs(rng, suffix)
        path = folder / f"jobs{suffix}"
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8", errors="surrogatepass")
        case = f"jobs seed={SEED}{suffix} case={i} ({path.read_bytes()[:80]!r}...)"
        before = snapshot(folder)
        entries = attempt(lambda p=path: jobs.read_jobs(p), (jobs.JobsFileError,), case)
        for entry in entries or []:
            assert isinstance(entry, jobs.JobEntry), case
            if entry.job is None:
                assert entry.error and entry.error.strip(), f"{case}: {entry.label} failed without a message"
                internal = [s for s in _INTERNAL if s in entry.error]
                assert not internal, f"{case}: {entry.label}: {entry.error!r}"
            else:
                job = entry.job
                assert job.objects and all(n.strip() for n in job.objects), case
                for value, (low, high) in (
                    (job.intensity, limits.INTENSITY_RANGE),
                    (job.smoothing, limits.SMOOTHING_RANGE),
                ):
                    assert value is None or (math.isfinite(value) and low <= value <= high), case
        unchanged(folder, before, case)


# --- presets and mapping presets -------------------------------------------------------------------

_VALID_PRESET = {"format": "expclip-preset", "version": 1, "name": "Calm", "prompt": "calm and content",
                 "intensity": 0.8, "smoothing": 0.2, "blinks": True, "mapping": None,
                 "description": "x"}  # fmt: skip
_VALID_MAPPING = {"name": "Rig", "auto_match": False,
                  "channels": {"Jaw_Open": "jawOpen", "Smile": {"source": {"mouthSmileLeft": 0.5,
                               "mouthSmileRight": 0.5}, "gain": 1.2, "offset": -0.1}}}  # fmt: skip


def _mutated_json(rng: random.Random, valid: dict, limit: int) -> str | bytes:
    kind = rng.randrange(8)
    if kind == 0:
        return deep_json(rng.choice([50, 5_000, 100_000]))
    if kind == 1:
        return json.dumps(valid)[:-1] + ', "big": "' + "x" * (limit + 10) + '"}'
    if kind == 2:
        return '{"intensity": ' + "9" * rng.choice([400, 5000]) + ', "prompt": "x", "channels": {}}'
    if kind == 3:
        return b"\xc3\x28" + os.urandom(rng.randint(0, 32))
    if kind == 4:
        return rng.choice(["", "null", "[]", "3", '"x"', "NaN", '{"prompt": NaN}', '{"channels": []}'])
    data = json.loads(json.dumps(valid))
    if kind in (5, 6):
        target = data
        if "channels" in data and rng.random() < 0.6:
            target = data["channels"]
            if rng.random() < 0.5:
                target = target["Smile"]
                if rng.random() < 0.5:
                    target = target["source"]
        key = rng.choice([*target, "unknown", "mouthSmileLeft"])
        target[key] = weird_json_value(rng)
        return json.dumps(data)
    text = json.dumps(data)
    for _ in range(rng.randint(1, 4)):
        text = mutate_text(rng, text)
    return text


def _write(path: Path, content: str | bytes) -> None:
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8", errors="surrogatepass")


def test_fuzz_preset_files(tmp_path: Path) -> None:
    rng = random.Random(SEED + 3)
    for i in range(CASES):
        path = tmp_path / f"case{i}.json"
        _write(path, _mutated_json(rng, _VALID_PRESET, MAX_FILE_BYTES))
        case = f"preset seed={SEED + 3} case={i} ({path.read_bytes()[:100]!r})"
        before = snapshot(tmp_path)
        preset = attempt(lambda p=path: read_preset(p), (PresetError,), case)
        if preset is not None:
            assert isinstance(preset, Preset) and preset.name.strip() and isinstance(preset.prompt, str), case
            assert 0 <= preset.intensity <= 2 and 0 <= preset.smoothing <= 1, case
        unchanged(tmp_path, before, case)


def test_fuzz_mapping_presets(tmp_path: Path) -> None:
    rng = random.Random(SEED + 4)
    for i in range(CASES):
        path = tmp_path / f"case{i}.json"
        _write(path, _mutated_json(rng, _VALID_MAPPING, 1 << 20))
        case = f"mapping seed={SEED + 4} case={i} ({path.read_bytes()[:100]!r})"
        before = snapshot(tmp_path)
        mapping = attempt(lambda p=path: load_mapping_preset(p), (MappingError,), case)
        if mapping is not None:
            assert isinstance(mapping, MappingPreset), case
            for channel in mapping.channels:
                numbers = [channel.gain, channel.offset, *(w for _, w in channel.sources)]
                assert all(math.isfinite(v) for v in numbers), f"{case}: {channel}"
        unchanged(tmp_path, before, case)


# --- model weight files ----------------------------------------------------------------------------


def safetensors_bytes(header: dict, data: bytes) -> bytes:
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw + data


def _heads_file() -> tuple[dict, bytes]:
    """(header, data) of a small valid ExpCLIP heads file: 384 -> 8 text, 52 -> 8 -> 52 expressions."""
    rng = np.random.default_rng(0)
    shapes = {
        "text_proj.0.weight": (8, 384),
        "text_proj.0.bias": (8,),
        "expr_enc.0.weight": (8, 52),
        "expr_enc.0.bias": (8,),
        "expr_dec.0.weight": (52, 8),
        "expr_dec.0.bias": (52,),
        "logit_scale": (1,),
    }
    header: dict = {"__metadata__": {"format": "expclip-heads"}}
    chunks, offset = [], 0
    for name, shape in shapes.items():
        raw = rng.normal(0, 0.1, shape).astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    return header, b"".join(chunks)


def _mutated_weights(rng: random.Random, header: dict, data: bytes) -> tuple[str, bytes]:
    header = json.loads(json.dumps(header))
    names = [k for k in header if k != "__metadata__"]
    entry = header[rng.choice(names)]
    kind = rng.randrange(10)
    if kind == 0:
        entry["shape"] = rng.choice([[2**40, 2**40], [0], [], [-1, 8], [2**63], [1] * 64, ["8"]])
    elif kind == 1:
        entry["dtype"] = rng.choice(["I64", "BOOL", "F16", "U8", "XYZ", "", 3, "F64"])
    elif kind == 2:
        entry["data_offsets"] = rng.choice([[0, 2**62], [10, 5], [-1, 4], [0], "x", [0, len(data) + 4]])
    elif kind == 3:  # the header length lies
        raw = safetensors_bytes(header, data)
        lie = rng.choice([0, 1, len(raw), 2**40, 2**64 - 1])
        return "header length lie", struct.pack("<Q", lie) + raw[8:]
    elif kind == 4:
        return "truncated", safetensors_bytes(header, data)[: rng.randrange(len(data))]
    elif kind == 5:  # NaN or infinity in one tensor
        values = bytearray(data)
        start, _end = entry["data_offsets"]
        values[start : start + 4] = struct.pack("<f", rng.choice([math.nan, math.inf]))
        return "non-finite value", safetensors_bytes(header, bytes(values))
    elif kind == 6:
        header["__metadata__"] = rng.choice([{"config": 3}, {"format": None}, [1], {"config": "{"}])
    elif kind == 7:
        del header[rng.choice(names)]
    elif kind == 8:
        return "garbage header", struct.pack("<Q", 64) + os.urandom(64) + data
    else:
        header[rng.choice(["x", "text_proj.9.weight", "expr_dec.0.bias"])] = rng.choice(
            [{"dtype": "F32", "shape": [3], "data_offsets": [0, 12]}, "x", None]
        )
    return f"header {kind}", safetensors_bytes(header, data)


def test_fuzz_expclip_weights(tmp_path: Path) -> None:
    rng = random.Random(SEED + 5)
    header, data = _heads_file()
    for i in range(CASES):
        kind, content = _mutated_weights(rng, header, data)
        path = tmp_path / f"case{i}.safetensors"
        path.write_bytes(content)
        case = f"expclip weights seed={SEED + 5} case={i} ({kind})"
        before = snapshot(tmp_path)
        heads = attempt(lambda p=path: load_heads(p), (ModelFileError,), case)
        if heads is not None:
            face = heads.decode(heads.project_text(np.ones((1, 384), np.float32)))
            assert np.isfinite(face).all(), f"{case}: the loaded heads give non-finite faces"
        unchanged(tmp_path, before, case)


def test_fuzz_generator_config(tmp_path: Path) -> None:
    """Generator headers claiming huge or malformed configs fail before any layer is built."""
    pytest.importorskip("torch")
    from expclip_blender.generator import GeneratorConfig, SpeechToFace, load_generator, save_generator

    small = GeneratorConfig(style_dim=8, channels=4, blocks=1, kernel_size=3, dilation_cycle=1)
    valid = tmp_path / "valid.safetensors"
    save_generator(SpeechToFace(small), valid)
    raw = valid.read_bytes()
    size = struct.unpack("<Q", raw[:8])[0]
    header, data = json.loads(raw[8 : 8 + size]), raw[8 + size :]
    valid.unlink()
    rng = random.Random(SEED + 6)
    fields = list(json.loads(header["__metadata__"]["config"]))
    for i in range(CASES // 2):
        config = json.loads(header["__metadata__"]["config"])
        for _ in range(rng.randint(1, 3)):
            config[rng.choice([*fields, "extra"])] = rng.choice(
                [10**9, 2**31, 4096, -1, 0, "8", 8.0, None, True, [4], 10**400, 2]
            )
        changed = json.loads(json.dumps(header))
        changed["__metadata__"]["config"] = json.dumps(config) if rng.random() < 0.9 else "{"
        path = tmp_path / f"case{i}.safetensors"
        path.write_bytes(safetensors_bytes(changed, data))
        case = f"generator seed={SEED + 6} case={i} config={changed['__metadata__']['config']!r}"
        before = snapshot(tmp_path)
        model = attempt(lambda p=path: load_generator(p, device="cpu"), (ModelFileError,), case)
        if model is not None:
            assert model.num_parameters() < 10_000_000, case
        unchanged(tmp_path, before, case)


# --- weights files (Import Weights) ----------------------------------------------------------------


def test_fuzz_weights_files(tmp_path: Path) -> None:
    from expclip_blender.arkit import ARKIT_NAMES

    rng = random.Random(SEED + 7)
    frames = np.random.default_rng(1).random((4, 52)).round(3)
    csv_text = "time," + ",".join(ARKIT_NAMES) + "\n"
    csv_text += "".join(f"{i / 30}," + ",".join(map(str, row)) + "\n" for i, row in enumerate(frames))
    json_text = json.dumps({"fps": 30, "names": list(ARKIT_NAMES), "frames": frames.tolist()})
    buffer = io.BytesIO()
    np.save(buffer, frames.astype(np.float32))
    npy = buffer.getvalue()
    for i in range(CASES):
        suffix = rng.choice([".csv", ".json", ".npy"])
        if suffix == ".npy":
            content: str | bytes = _mangle_audio(rng, npy)[1]
        elif suffix == ".json" and rng.random() < 0.4:
            doc: dict = json.loads(json_text)
            doc[rng.choice(["fps", "names", "frames", "x"])] = weird_json_value(rng)
            content = json.dumps(doc)
        else:
            content = csv_text if suffix == ".csv" else json_text
            for _ in range(rng.randint(1, 4)):
                content = mutate_text(rng, content)
        path = tmp_path / f"case{i}{suffix}"
        _write(path, content)
        case = f"weights seed={SEED + 7} case={i} ({path.read_bytes()[:80]!r})"
        before = snapshot(tmp_path)
        out = attempt(lambda p=path: load_weights(p), (WeightsFileError,), case)
        if out is not None:
            weights, fps = out
            assert weights.ndim == 2 and weights.shape[1] == 52 and np.isfinite(weights).all(), case
            assert fps is None or (math.isfinite(fps) and fps > 0), case
        unchanged(tmp_path, before, case)


# --- the defects this fuzzing found, kept as fixed cases ---------------------------------------------

_DEEP, _LONG_INT = deep_json(100_000), "9" * 5000


def _first_job_error(path: Path) -> None:
    """Raise the first job's JobError as read_jobs reports it (a bad job does not fail the file)."""
    entry = jobs.read_jobs(path)[0]
    if entry.error:
        raise jobs.JobError(f"{path}: {entry.error}")


@pytest.mark.parametrize(
    ("name", "content", "read", "error"),
    [
        ("jobs.json", _DEEP, jobs.read_jobs, jobs.JobsFileError),
        ("jobs.json", f'[{{"blend": "a.blend", "object": "F", "intensity": {_LONG_INT}}}]', jobs.read_jobs,
         jobs.JobsFileError),
        ("preset.json", _DEEP, read_preset, PresetError),
        ("preset.json", f'{{"prompt": "x", "intensity": {_LONG_INT}}}', read_preset, PresetError),
        ("rig.json", _DEEP, load_mapping_preset, MappingError),
        ("weights.json", f'{{"names": ["jawOpen"], "frames": [[{_LONG_INT}]]}}', load_weights,
         WeightsFileError),
        ("weights.json", '{"names": ["jawOpen"], "frames": []}', load_weights, WeightsFileError),
        ("weights.json", "[1]", load_weights, WeightsFileError),
        ("weights.json", f'{{"fps": {_LONG_INT[:400]}, "names": ["jawOpen"], "frames": [[0.5]]}}',
         load_weights, WeightsFileError),
        ("jobs.json", '[{"blend": "a.blend", "object": "F", "audio": "a\\u0000.wav"}]', _first_job_error,
         jobs.JobError),
        ("rig.json", f'{{"channels": {{"Jaw": {{"source": "jawOpen", "gain": {_LONG_INT[:400]}}}}}}}',
         load_mapping_preset, MappingError),
        ("weights.npy", b"\x93NUMPY\x01\x00v\x00{'descr': '<f4', 'fortran_order': False, 'shape': (4, ",
         load_weights, WeightsFileError),
    ],
)  # fmt: skip
def test_found_cases_fail_clearly(
    name: str, content: str | bytes, read: Callable, error: type, tmp_path: Path
):
    path = tmp_path / name
    _write(path, content)
    before = snapshot(tmp_path)
    with pytest.raises(error) as raised:
        read(path)
    assert str(path) in str(raised.value) and not [s for s in _INTERNAL if s in str(raised.value)]
    unchanged(tmp_path, before, name)


def test_found_huge_integer_numbers_fail_clearly() -> None:
    with pytest.raises(
        ValueError, match=r"intensity must be a number from 0 to 2, got 1000.*\(401 characters\)"
    ):
        limits.check_intensity(10**400)
    with pytest.raises(ValueError, match="finite number"):
        limits.check_time(-(10**400))
