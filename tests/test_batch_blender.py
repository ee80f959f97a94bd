"""The ``expclip`` command (blender --background ... --command expclip) on real Blender, with the model.

There is no Blender executable here: bpy is Blender, so the tests call the registered command's handler
(``operators.services.batch.run_command``) with the argument list Blender would pass it. The shots are
real .blend files: the demo head named "Face" and a sound strip of a generated WAV (the PyPI bpy 4.2 wheel
has no Audaspace, so strip shots skip there and the audio-file jobs cover 4.2).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from expclip_blender import ARKIT_NAMES

pytestmark = pytest.mark.blender

JAW = ARKIT_NAMES.index("jawOpen")
FPS = 24


@pytest.fixture
def registered(ext, empty_scene, bpy_module):
    ext.register()
    yield bpy_module
    ext.unregister()


@pytest.fixture(scope="module")
def speech_wav(tmp_path_factory) -> Path:
    from bake_helpers import speech_like, write_wav

    return write_wav(tmp_path_factory.mktemp("audio") / "speech.wav", speech_like(2.0))


def _head(ext, name: str = "Face"):
    import bpy
    from expclip_ext.operators.services.demo_head import create_demo_head_object

    scene = bpy.context.scene
    scene.render.fps, scene.render.fps_base = FPS, 1.0
    return create_demo_head_object(name=name)


def _save(path: Path) -> Path:
    import bpy

    path.parent.mkdir(parents=True, exist_ok=True)
    bpy.ops.wm.save_as_mainfile(filepath=str(path))
    return path


@pytest.fixture
def strip_shot(registered, ext, speech_wav, tmp_path) -> Path:
    """shots/shot.blend: the demo head "Face" and a sound strip "voice" on frames 11-58."""
    import bpy
    from bake_helpers import add_sound_strip

    _head(ext)
    add_sound_strip(bpy.context.scene, speech_wav, 11)
    return _save(tmp_path / "shots" / "shot.blend")


@pytest.fixture
def plain_shot(registered, ext, tmp_path) -> Path:
    """shots/plain.blend: the demo head "Face" and no audio (the jobs give an audio file); works on 4.2."""
    _head(ext)
    return _save(tmp_path / "shots" / "plain.blend")


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _open(path: Path):
    import bpy

    bpy.ops.wm.open_mainfile(filepath=str(path))
    return bpy


def _baked(path: Path, name: str = "Face") -> tuple[str, np.ndarray, np.ndarray]:
    """(action name, keyed frames, (frames, 52) values) of ``name``'s shape keys in the saved file."""
    from blender_helpers import fcurve_by_key

    bpy = _open(path)
    anim = bpy.data.objects[name].data.shape_keys.animation_data
    curves = fcurve_by_key(anim.action, anim)
    keys = []
    for channel in ARKIT_NAMES:
        points = curves[channel].keyframe_points
        co = np.zeros(2 * len(points), np.float32)
        points.foreach_get("co", co)
        keys.append(co.reshape(-1, 2))
    return anim.action.name, keys[0][:, 0], np.stack([k[:, 1] for k in keys], axis=1)


def _run(ext, argv: list[str]) -> int:
    return ext.operators.services.batch.run_command(argv)


# --- registration ----------------------------------------------------------------------------------


@pytest.mark.blender_compat
def test_the_command_is_registered_with_the_extension(ext, empty_scene, bpy_module):
    batch = ext.operators.batch
    assert hasattr(bpy_module.utils, "register_cli_command")  # 4.2 and later
    ext.register()
    try:
        assert batch._handle is not None
    finally:
        ext.unregister()
    assert batch._handle is None


@pytest.mark.blender_compat
def test_a_job_sets_eye_movement_over_its_preset_and_the_shot(registered, ext):
    scene = registered.context.scene
    scene.expclip.gaze, scene.expclip.gaze_amount = False, 0.2
    batch, Job = ext.operators.services.batch, ext.expclip_blender.jobs.Job
    shot = batch.job_settings(scene, Job(objects=("Face",)))
    assert (shot.gaze, shot.gaze_amount) == (False, pytest.approx(0.2))  # the shot's own settings
    preset = batch.job_settings(scene, Job(objects=("Face",), preset="Furious"))
    assert (preset.gaze, preset.gaze_amount) == (True, 1.0)  # a built-in preset leaves them at the defaults
    own = batch.job_settings(scene, Job(objects=("Face",), preset="Furious", gaze_amount=1.7))
    assert (own.gaze, own.gaze_amount) == (True, 1.7)
    assert scene.expclip.gaze is False  # a batch bake never changes the scene's settings


@pytest.mark.blender_compat
def test_help_and_usage_errors(registered, ext, capsys, tmp_path):
    assert _run(ext, ["--help"]) == 0
    assert "usage: blender --background SHOT.blend --command expclip" in capsys.readouterr().out
    assert _run(ext, ["bake", "--help"]) == 0
    assert "--object NAME" in capsys.readouterr().out
    assert _run(ext, ["bake", "--prompt", "x"]) == 2
    assert "--object NAME" in capsys.readouterr().err
    assert _run(ext, ["jobs", str(tmp_path / "missing.json")]) == 2
    assert "missing.json' does not exist" in capsys.readouterr().err


# --- bake: one shot --------------------------------------------------------------------------------


def test_bake_the_open_shot_to_an_output_file(strip_shot, ext, tmp_path, capsys):
    before = _digest(strip_shot)
    _open(strip_shot)
    out = tmp_path / "out" / "baked.blend"
    code = _run(ext, ["bake", "--object", "Face", "--prompt", "furious", "--output", str(out)])
    text = capsys.readouterr()
    assert code == 0, text.err
    assert "[1/1] bake (shot.blend): Baked 'furious' from sound strip 'voice' on frames 11-58." in text.out
    assert f"Saved '{out}'" in text.out
    assert "1 of 1 job(s) baked" in text.out
    assert _digest(strip_shot) == before  # the shot itself is not touched
    action, frames, values = _baked(out)
    assert action == "furious"
    np.testing.assert_array_equal(frames, np.arange(11, 59, dtype=np.float32))
    assert values[:, JAW].max() > 0.05  # the speech opens the jaw
    import bpy

    assert bpy.context.scene.expclip.prompt == "neutral"  # the shot's own settings are not changed


def test_bake_in_place_with_blend_option_and_the_shots_settings(strip_shot, ext, capsys):
    import bpy

    _open(strip_shot)
    bpy.context.scene.expclip.prompt = "sad"  # set up in the panel and saved with the shot
    _save(strip_shot)
    bpy.ops.wm.read_factory_settings(use_empty=True)
    assert _run(ext, ["bake", "--blend", str(strip_shot), "--object", "Face"]) == 0, capsys.readouterr().err
    action, frames, _ = _baked(strip_shot)
    assert action == "sad"
    assert len(frames) == 48


def test_a_failed_bake_saves_nothing(strip_shot, ext, capsys):
    before = _digest(strip_shot)
    _open(strip_shot)
    assert _run(ext, ["bake", "--object", "Head", "--prompt", "furious"]) == 1
    err = capsys.readouterr().err
    assert "There is no object named 'Head' in 'shot.blend' (meshes with shape keys here: Face)." in err
    assert _digest(strip_shot) == before


@pytest.mark.blender_compat
def test_bake_needs_a_file_to_save_to(registered, ext, capsys, speech_wav):
    _head(ext)
    assert _run(ext, ["bake", "--object", "Face", "--audio", str(speech_wav)]) == 1
    assert "No .blend file is open and no --output is given" in capsys.readouterr().err


@pytest.mark.blender_compat
def test_a_blend_blender_cannot_read(registered, ext, tmp_path, capsys):
    broken = tmp_path / "broken.blend"
    broken.write_bytes(b"BLENDER-v300" + bytes(200))
    assert _run(ext, ["bake", "--blend", str(broken), "--object", "Face"]) == 1
    assert f"Blender cannot open '{broken}': " in capsys.readouterr().err
    assert broken.read_bytes() == b"BLENDER-v300" + bytes(200)


# --- jobs files ------------------------------------------------------------------------------------


def _copies(shot: Path, count: int) -> list[Path]:
    paths = []
    for i in range(1, count + 1):
        path = shot.with_name(f"shot{i}.blend")
        shutil.copyfile(shot, path)
        paths.append(path)
    return paths


def _bad_jobs(shots: Path, audio: Path) -> list[dict]:
    """Five jobs that cannot be baked, one problem each; their files exist (except the missing one)."""
    bad = _copies(shots / "plain.blend", 5)
    wav = str(audio)
    return [
        {"blend": "shots/nope.blend", "object": "Face", "audio": wav, "output": "out/bad1.blend"},
        {"blend": str(bad[1]), "object": "Head", "audio": wav, "output": "out/bad2.blend"},
        {"blend": str(bad[2]), "object": "Face", "audio": "missing.wav", "output": "out/b3.blend"},
        {"blend": str(bad[3]), "object": "Face", "audio": wav, "preset": "No Such Preset", "overwrite": True},
        {"blend": str(bad[4]), "object": "Face", "audio": wav, "intensity": "very", "output": "out/b5.blend"},
    ]  # fmt: skip


@pytest.mark.blender_compat
def test_jobs_file_bakes_the_good_jobs_and_reports_each_bad_one(
    plain_shot, ext, speech_wav, tmp_path, capsys
):
    shots = plain_shot.parent
    good = [shots / f"good{i}.blend" for i in (1, 2)]
    for path in good:
        shutil.copyfile(plain_shot, path)
    bad = _bad_jobs(shots, speech_wav)
    jobs = [
        {"blend": "shots/good1.blend", "object": "Face", "audio": str(speech_wav), "prompt": "happy",
         "output": "out/good1.blend"},
        *bad[:3],
        {"blend": "shots/good2.blend", "object": ["Face"], "audio": str(speech_wav), "preset": "Furious",
         "intensity": 0.5, "blinks": False, "overwrite": True},  # saved in place, as the row says
        *bad[3:],
    ]  # fmt: skip
    jobs_file = tmp_path / "jobs.json"
    jobs_file.write_text(json.dumps(jobs))
    before = {p: _digest(p) for p in shots.glob("shot*.blend")}

    assert _run(ext, ["jobs", str(jobs_file)]) == 1
    text = capsys.readouterr()
    progress = [line for line in text.out.splitlines() if line.startswith("[")]
    assert [line.split(":")[0] for line in progress] == [
        "[1/7] jobs.json job 1 (good1.blend)",
        "[2/7] jobs.json job 2 (nope.blend)",
        "[3/7] jobs.json job 3 (shot2.blend)",
        "[4/7] jobs.json job 4 (shot3.blend)",
        "[5/7] jobs.json job 5 (good2.blend)",
        "[6/7] jobs.json job 6 (shot4.blend)",
        "[7/7] jobs.json job 7",
    ]
    assert "FAILED" not in progress[0] and "FAILED" not in progress[4]
    failed = text.err.splitlines()
    assert failed[0].startswith("expclip: 2 of 7 job(s) baked in")
    assert failed[0].endswith("; 5 failed, their files left unchanged:")
    missing = shots / "nope.blend"
    assert failed[1] == f"  jobs.json job 2 (nope.blend): The .blend file '{missing}' does not exist."
    assert failed[2] == (
        "  jobs.json job 3 (shot2.blend): There is no object named 'Head' in 'shot2.blend' "
        "(meshes with shape keys here: Face)."
    )
    assert failed[3].startswith("  jobs.json job 4 (shot3.blend): ") and "missing.wav" in failed[3]
    assert failed[4] == (
        "  jobs.json job 6 (shot4.blend): There is no preset named 'No Such Preset'; "
        "pick one from the preset menu"
    )
    assert failed[5] == "  jobs.json job 7: field 'intensity' must be a number from 0 to 2, got 'very'"
    assert len(failed) == 6

    # The bad jobs' files are untouched and their outputs were not written.
    assert {p: _digest(p) for p in shots.glob("shot*.blend")} == before
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["good1.blend"]
    # The good jobs are baked: one to its output, one in place, with the preset's prompt at half intensity.
    action, frames, values = _baked(tmp_path / "out" / "good1.blend")
    assert action == "happy" and frames[0] == 1 and len(frames) == 48
    assert values[:, JAW].max() > 0.05
    action, _, _ = _baked(good[1])
    from expclip_blender.presets import builtin_presets

    furious = next(p for p in builtin_presets() if p.name == "Furious")
    assert action == furious.prompt


def test_csv_jobs_from_sound_strips_load_the_model_once(strip_shot, ext, tmp_path, capsys, monkeypatch):
    shots = _copies(strip_shot, 3)
    (tmp_path / "shots.csv").write_text(
        "blend,object,strip,prompt,output\n"
        "shots/shot1.blend,Face,voice,calm,out/a.blend\n"
        "shots/shot2.blend,Face,,smug half smile,out/b.blend\n"
        "shots/shot3.blend,Face,music,sad,out/c.blend\n",
        encoding="utf-8",
    )
    model_cache = ext.operators.services.model_cache
    model_cache.clear_model_cache()
    real_load, loads = ext.expclip_blender.load, []

    def counting_load(*args, **kwargs):
        loads.append(args)
        return real_load(*args, **kwargs)

    monkeypatch.setattr(ext.expclip_blender, "load", counting_load)
    assert _run(ext, ["jobs", str(tmp_path / "shots.csv")]) == 1
    text = capsys.readouterr()
    assert len(loads) == 1  # one model for every job
    assert "shots.csv row 4 (shot3.blend): There is no strip named 'music'" in text.err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.blend", "b.blend"]
    assert _baked(tmp_path / "out" / "a.blend")[0] == "calm"
    assert _baked(tmp_path / "out" / "b.blend")[0] == "smug half smile"
    assert all(p.stat().st_size > 0 for p in shots)


def test_each_job_starts_from_its_own_file(strip_shot, ext, tmp_path, capsys):
    """A job that fails after changing the open file (here, at the save) does not leak into the next."""
    shots = _copies(strip_shot, 2)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the output folder should be")
    jobs = [
        {"blend": str(shots[0]), "object": "Face", "prompt": "sad", "output": str(blocker / "a.blend")},
        {"blend": str(shots[1]), "object": "Face", "prompt": "happy", "output": str(tmp_path / "b.blend")},
    ]
    (tmp_path / "jobs.json").write_text(json.dumps(jobs))
    assert _run(ext, ["jobs", str(tmp_path / "jobs.json")]) == 1
    assert f"Cannot save '{blocker / 'a.blend'}'" in capsys.readouterr().err
    bpy = _open(tmp_path / "b.blend")
    anim = bpy.data.objects["Face"].data.shape_keys.animation_data
    assert anim.action.name == "happy" and len(anim.nla_tracks) == 0  # no stash of the failed job's bake
    assert "sad" not in bpy.data.actions


@pytest.mark.blender_compat
def test_a_stray_quote_in_a_csv_never_overwrites_a_shot(plain_shot, ext, speech_wav, tmp_path, capsys):
    """The open quote used to swallow the output column and every later row: qx.blend was saved over
    itself (its Action named after the rest of the file), the other rows were never baked, exit 0."""
    for name in ("qx", "a", "b"):
        shutil.copyfile(plain_shot, plain_shot.with_name(f"{name}.blend"))
    qx = plain_shot.with_name("qx.blend")
    before = _digest(qx)
    jobs = tmp_path / "shots.csv"
    jobs.write_text(
        "blend,object,audio,prompt,output\n"
        f'shots/qx.blend,Face,{speech_wav},"furious,out/qx.blend\n'
        f"shots/a.blend,Face,{speech_wav},calm,out/a.blend\n"
        f"shots/b.blend,Face,{speech_wav},sad,out/b.blend\n",
        encoding="utf-8",
    )
    assert _run(ext, ["jobs", str(jobs)]) == 1
    text = capsys.readouterr()
    assert f"expclip: read 3 job(s) from '{jobs}'" in text.out
    assert "expclip: 2 of 3 job(s) baked" in text.err
    assert (
        "  shots.csv row 2: a quoted field is not closed on its line (a stray '\"'?); "
        "fields cannot span lines"
    ) in text.err.splitlines()
    assert _digest(qx) == before
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.blend", "b.blend"]
    assert _baked(tmp_path / "out" / "b.blend")[0] == "sad"


@pytest.mark.blender_compat
def test_jobs_save_over_their_shot_only_when_the_row_says_overwrite(plain_shot, ext, speech_wav, capsys):
    shots = _copies(plain_shot, 3)
    before = [_digest(p) for p in shots]
    audio = str(speech_wav)
    jobs = [
        {"blend": str(shots[0]), "object": "Face", "audio": audio, "prompt": "sad"},
        {"blend": str(shots[1]), "object": "Face", "audio": audio, "output": "//shot2.blend"},
        {"blend": str(shots[2]), "object": "Face", "audio": audio, "prompt": "happy", "overwrite": True},
    ]
    jobs_file = plain_shot.parent / "jobs.json"
    jobs_file.write_text(json.dumps(jobs))
    assert _run(ext, ["jobs", str(jobs_file)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[1] == (
        f"  jobs.json job 1: The job has no output, so it would save over its own .blend "
        f"'{shots[0]}': give an 'output' (a new .blend), or set 'overwrite' to true to save over the shot."
    )
    assert err[2].startswith(f"  jobs.json job 2: The job has the output '{shots[1]}', so it")
    assert [_digest(p) for p in shots[:2]] == before[:2]
    assert _digest(shots[2]) != before[2] and _baked(shots[2])[0] == "happy"


@pytest.mark.blender_compat
def test_rows_bake_part_of_a_jobs_file_numbered_as_in_the_whole(plain_shot, ext, speech_wav, capsys):
    shots = _copies(plain_shot, 4)
    before = [_digest(p) for p in shots]
    audio = str(speech_wav)
    jobs_file = plain_shot.parent / "jobs.csv"
    jobs_file.write_text(
        "blend,object,audio,prompt,output\n"
        + "".join(f"{p.name},Face,{audio},sad,out{i}.blend\n" for i, p in enumerate(shots, 1))
        + f"{shots[0].name},Face,{audio},sad,\n",  # row 6 (job 5): no output, no overwrite
        encoding="utf-8",
    )
    assert _run(ext, ["jobs", str(jobs_file), "--rows", "2-3"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"expclip: read 5 job(s) from '{jobs_file}'; baking rows 2-3"
    progress = [line.split(":")[0] for line in out if line.startswith("[")]
    assert progress == [f"[2/5] jobs.csv row 3 ({shots[1].name})", f"[3/5] jobs.csv row 4 ({shots[2].name})"]
    assert sorted(p.name for p in plain_shot.parent.glob("out*.blend")) == ["out2.blend", "out3.blend"]

    assert _run(ext, ["jobs", str(jobs_file), "--rows", "4-"]) == 1  # to the end: rows 4 and 5
    text = capsys.readouterr()
    assert [line.split(":")[0] for line in text.out.splitlines() if line.startswith("[")] == [
        f"[4/5] jobs.csv row 5 ({shots[3].name})",
        "[5/5] jobs.csv row 6",
    ]
    assert "  jobs.csv row 6: The job has no output, so it would save over its own .blend" in text.err
    assert [_digest(p) for p in shots] == before

    assert _run(ext, ["jobs", str(jobs_file), "--rows", "5-6"]) == 2
    assert "--rows 5-6 asks for rows beyond the end of the jobs file" in capsys.readouterr().err
    assert _run(ext, ["jobs", str(jobs_file), "--rows", "3-2"]) == 2
    assert "--rows 3-2: the first row is 1 or more" in capsys.readouterr().err


@pytest.mark.blender_compat
def test_blender_relative_outputs_are_next_to_the_shot(plain_shot, ext, speech_wav, tmp_path, capsys):
    """``//`` outputs used to be written at the filesystem root (/expclip_out.blend, /expclip_rel/)."""
    root = [Path("/expclip_test_out.blend"), Path("/expclip_test_rel")]
    assert not any(p.exists() for p in root)
    _open(plain_shot)
    argv = ["bake", "--object", "Face", "--audio", str(speech_wav), "--prompt", "calm"]
    assert _run(ext, [*argv, "--output", "//expclip_test_out.blend"]) == 0, capsys.readouterr().err
    jobs = [
        {"blend": str(plain_shot), "object": "Face", "audio": str(speech_wav), "prompt": "sad",
         "output": "//expclip_test_rel/b.blend"},
    ]  # fmt: skip
    (tmp_path / "jobs.json").write_text(json.dumps(jobs))
    assert _run(ext, ["jobs", str(tmp_path / "jobs.json")]) == 0, capsys.readouterr().err
    assert not any(p.exists() for p in root)
    assert _baked(plain_shot.parent / "expclip_test_out.blend")[0] == "calm"
    assert _baked(plain_shot.parent / "expclip_test_rel" / "b.blend")[0] == "sad"


@pytest.mark.blender_compat
def test_a_failed_save_leaves_the_old_output_whole(plain_shot, ext, speech_wav, tmp_path, capsys):
    """Blender writes ``out.blend@`` and renames it over ``out.blend``: with the temporary file's name
    taken by a folder the save fails, and the output from an earlier run is still whole."""
    out = tmp_path / "out.blend"
    out.write_bytes(b"an earlier bake")
    (tmp_path / "out.blend@").mkdir()
    _open(plain_shot)
    argv = ["bake", "--object", "Face", "--audio", str(speech_wav), "--output", str(out)]
    assert _run(ext, argv) == 1
    assert f"Cannot save '{out}'" in capsys.readouterr().err
    assert out.read_bytes() == b"an earlier bake"


# --- the plain --python script ---------------------------------------------------------------------


@pytest.mark.blender_compat
def test_bake_shot_script(plain_shot, ext, speech_wav, tmp_path, monkeypatch, capsys):
    import runpy
    import sys

    script = Path(__file__).resolve().parent.parent / "scripts" / "bake_shot.py"
    _open(plain_shot)
    out = tmp_path / "script-out.blend"
    args = ["--object", "Face", "--audio", str(speech_wav), "--prompt", "furious", "--output", str(out)]
    monkeypatch.setattr(
        sys, "argv", ["blender", "--background", str(plain_shot), "--python", str(script), "--", *args]
    )
    with pytest.raises(SystemExit) as info:
        runpy.run_path(str(script), run_name="__main__")
    assert info.value.code == 0, capsys.readouterr().err
    action, frames, _ = _baked(out)
    assert action == "furious" and len(frames) == 48
    _open(plain_shot)
    monkeypatch.setattr(
        sys, "argv", ["blender", "--", "--object", "Face", "--audio", str(tmp_path / "no.wav")]
    )
    with pytest.raises(SystemExit) as info:
        runpy.run_path(str(script), run_name="__main__")
    assert info.value.code == 1
    assert "bake_shot: " in capsys.readouterr().err
