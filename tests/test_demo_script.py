"""The demo (scripts/demo.py, what scripts/run_demo.sh runs), end to end on real Blender with the model."""

from __future__ import annotations

import importlib.util
import os
import shutil
import struct
from pathlib import Path

import numpy as np
import pytest
from mp4_boxes import Movie, Track, read_movie

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "demo.py"
SIDE_BY_SIDE = SCRIPT.with_name("side_by_side.py")


def _demo():
    spec = importlib.util.spec_from_file_location("expclip_demo_script", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_sample_frames_takes_the_most_open_mouth_in_the_middle_of_each_slice():
    demo = _demo()
    jaw = np.zeros(40, np.float32)
    jaw[[3, 12, 25, 38]] = [0.5, 0.4, 0.9, 0.2]
    # frames 11..50, switch at 31: calm slices 11-20, 21-30; angry slices 31-40, 41-50, each searched in
    # its middle (13-18, 23-28, 33-38, 43-48): frame 49's peak is at an edge, so 43 (all zero) is taken
    assert demo.sample_frames(jaw, 11, 31, 2) == [14, 23, 36, 43]


@pytest.mark.blender
@pytest.mark.slow
def test_the_demo_bakes_saves_and_renders(empty_scene, ext, tmp_path, capsys):
    if shutil.which("espeak-ng") is None and importlib.util.find_spec("piper") is None:
        pytest.skip("no offline speech synthesiser (espeak-ng or Piper)")
    import bpy
    from expclip_ext.operators.services.render_video import video_support

    demo = _demo()
    assert demo.main(["--out", str(tmp_path), "--tiles", "2", "--size", "64", "--video-size", "96"]) == 0
    out = capsys.readouterr().out
    for name in ("demo.blend", "demo_sheet.png", "demo_speech.wav"):
        assert (tmp_path / name).is_file() and str(tmp_path / name) in out
    support = video_support()
    assert (tmp_path / "demo.mp4").is_file() == support.video
    if support.video:
        _check_video(tmp_path / "demo.mp4", tmp_path / "demo_speech.wav", support.audio)

    ext.register()
    try:
        bpy.ops.wm.open_mainfile(filepath=str(tmp_path / "demo.blend"))
        scene = bpy.context.scene
        markers = sorted((m.frame, m.name) for m in scene.timeline_markers)
        assert [name for _, name in markers] == ["expclip: calm", "expclip: furious"]
        switch = markers[1][0]
        head = bpy.data.objects["ExpCLIP Demo Head"]
        assert head.data.shape_keys.animation_data.action is not None
        assert bpy.data.sounds[0].packed_file is not None
        jaw = head.data.shape_keys.key_blocks["jawOpen"]
        brows = [head.data.shape_keys.key_blocks[n] for n in ("browDownLeft", "browDownRight")]
        calm, angry = [], []
        for frame in range(scene.frame_start, scene.frame_end + 1):
            scene.frame_set(frame)
            row = (jaw.value, sum(b.value for b in brows))
            if frame < switch - 15:  # away from the transition centred on the marker
                calm.append(row)
            elif frame > switch + 15:
                angry.append(row)
        calm, angry = np.array(calm), np.array(angry)
        assert calm[:, 0].max() > 0.05 and angry[:, 0].max() > 0.05  # both sentences are spoken
        assert angry[:, 1].mean() > calm[:, 1].mean() + 0.05  # furious lowers the brows
    finally:
        ext.unregister()

    sheet = bpy.data.images.load(str(tmp_path / "demo_sheet.png"))
    try:
        assert sheet.size[0] > 2 * 64 and sheet.size[1] > 2 * 64  # 2 x 2 tiles of 64 px plus gaps
    finally:
        bpy.data.images.remove(sheet)


@pytest.mark.blender
@pytest.mark.slow
def test_side_by_side_writes_one_video_with_sound(empty_scene, ext, tmp_path):
    if shutil.which("espeak-ng") is None and importlib.util.find_spec("piper") is None:
        pytest.skip("no offline speech synthesiser (espeak-ng or Piper)")
    if any(importlib.util.find_spec(p) is None for p in ("pylipsync", "openfacefx")):
        pytest.skip("the lip-sync peers (the eval extra) are not installed")
    from expclip_ext.operators.services.render_video import video_support

    support = video_support()
    if not support.video:
        pytest.skip("this bpy build cannot write H.264 video")
    spec = importlib.util.spec_from_file_location("expclip_side_by_side", SIDE_BY_SIDE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(["--out", str(tmp_path), "--width", "240"]) == 0
    _check_video(tmp_path / "side_by_side.mp4", tmp_path / "demo_speech.wav", support.audio)


def _check_video(video: Path, wav: Path, audio: bool) -> None:
    """An H.264 track (and an AAC one where the build has audio) as long as the speech, to a frame."""
    import soundfile as sf

    clip_s = sf.info(str(wav)).duration
    movie = read_movie(video)
    kinds = {t.handler: t for t in movie.tracks}
    assert kinds["vide"].codec == "avc1"
    assert abs(kinds["vide"].duration_s - clip_s) < 2 / 30
    assert abs(movie.duration_s - clip_s) < 2 / 30
    if audio:
        assert kinds["soun"].codec == "mp4a"
        assert abs(kinds["soun"].duration_s - clip_s) < 0.05  # AAC frames of 1024 samples, priming
    else:
        assert "soun" not in kinds


def test_mp4_reader_reads_tracks_and_durations(tmp_path):
    def box(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I4s", 8 + len(payload), kind) + payload

    def trak(handler: bytes, codec: bytes, timescale: int, duration: int, version: int = 0) -> bytes:
        if version:  # 64-bit times and duration
            mdhd = bytes([1, 0, 0, 0]) + struct.pack(">QQIQ", 0, 0, timescale, duration) + bytes(4)
        else:
            mdhd = bytes(4) + struct.pack(">IIII", 0, 0, timescale, duration) + bytes(4)
        hdlr = bytes(8) + handler + bytes(13)
        stsd = bytes(4) + struct.pack(">I", 1) + box(codec, bytes(8))
        stbl = box(b"stbl", box(b"stsd", stsd))
        mdia = box(b"mdhd", mdhd) + box(b"hdlr", hdlr) + box(b"minf", box(b"vmhd", bytes(12)) + stbl)
        return box(b"trak", box(b"tkhd", bytes(84)) + box(b"mdia", mdia))

    mvhd = bytes(4) + struct.pack(">IIII", 0, 0, 1000, 12500) + bytes(80)
    moov = box(
        b"moov",
        box(b"mvhd", mvhd)
        + trak(b"vide", b"avc1", 15360, 192000)
        + trak(b"soun", b"mp4a", 48000, 600000, version=1),
    )
    path = tmp_path / "x.mp4"
    path.write_bytes(box(b"ftyp", b"isom" + bytes(4)) + box(b"free", b"") + moov)
    assert read_movie(path) == Movie(12.5, [Track("vide", "avc1", 12.5), Track("soun", "mp4a", 12.5)])
    path.write_bytes(box(b"ftyp", b"isom" + bytes(4)))
    with pytest.raises(ValueError, match="moov"):
        read_movie(path)


@pytest.mark.parametrize(
    "script", ["scripts/demo.py", "scripts/side_by_side.py", "benchmarks/bench_generator.py"]
)
def test_scripts_that_use_the_workshop_run_from_a_fresh_checkout(script):
    """Run as README says (``.venv/bin/python scripts/demo.py``): the workshop is not installed, only the
    runtime is, so each script must find ``expclip_train`` in the source tree itself."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    # The script's top level runs (not its main), then the workshop must be importable, as its main needs.
    code = (
        f"import runpy; runpy.run_path({str(root / script)!r}, run_name='check'); import expclip_train.speech"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd="/", env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
