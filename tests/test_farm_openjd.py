"""The OpenJD farm templates (expclip_blender/farm/openjd/) checked and run by the reference runner.

``openjd run`` runs the template's sessions here, offline (no network namespace where ``unshare`` works),
with ``blender`` being scripts/blender_shim.py: the bpy wheel with the built extension zip installed, the
extension's own ``expclip`` command called by the name it registered. The shots are real .blend files made
by the installed extension's Add Demo Head operator.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from farm_local import HEAD, TEMPLATES, LocalFarm, make_farm, openjd_executable, unshare_network

pytest.importorskip("openjd.model", reason="openjd-cli is not installed (the 'farm' extra)")

pytestmark = [pytest.mark.blender, pytest.mark.slow]

TEMPLATE_FILES = sorted(TEMPLATES.glob("*.yaml"))


@pytest.fixture(scope="module")
def farm(tmp_path_factory) -> LocalFarm:
    return make_farm(tmp_path_factory.mktemp("farm"))


@pytest.fixture(scope="module")
def project(farm, tmp_path_factory) -> Path:
    """A project folder: shots/a.blend (the demo head) and audio/line.wav (2 s of speech-like sound)."""
    from bake_helpers import speech_like, write_wav

    root = tmp_path_factory.mktemp("project")
    farm.make_shot(root / "shots" / "a.blend")
    (root / "audio").mkdir()
    write_wav(root / "audio" / "line.wav", speech_like(2.0))
    return root


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _action(path: Path) -> tuple[str, int]:
    """(action name, number of shape-key curves) of the demo head in a saved .blend."""
    import bpy
    from blender_helpers import action_fcurves

    bpy.ops.wm.open_mainfile(filepath=str(path))
    anim = bpy.data.objects[HEAD].data.shape_keys.animation_data
    assert anim is not None and anim.action is not None, f"{path.name} has no baked Action"
    return anim.action.name, len(action_fcurves(anim.action, anim))


def _task_script(template: Path) -> str:
    import yaml  # openjd-model's dependency

    files = yaml.safe_load(template.read_text(encoding="utf-8"))["steps"][0]["script"]["embeddedFiles"]
    return next(f["data"] for f in files if f["filename"] == "bake_chunk.sh")


@pytest.mark.parametrize("template", TEMPLATE_FILES, ids=lambda p: p.name)
def test_every_template_passes_openjd_check(template):
    proc = subprocess.run(
        [str(openjd_executable()), "check", str(template)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "passes validation checks" in proc.stdout


def test_templates_ship_with_the_extension(farm):
    assert [p.name for p in TEMPLATE_FILES] == ["bake_jobs.yaml"]
    (built,) = (farm.root / "dist").glob("*.zip")
    assert "expclip_blender/farm/openjd/bake_jobs.yaml" in zipfile.ZipFile(built).namelist()
    import tomllib

    pyproject = tomllib.loads((TEMPLATES.parents[2] / "pyproject.toml").read_text(encoding="utf-8"))
    assert "farm/openjd/*.yaml" in pyproject["tool"]["setuptools"]["package-data"]["expclip_blender"]


@pytest.mark.parametrize(
    ("chunk", "chunks", "per_task", "rows"),
    [(1, 4, 10, "1-10"), (2, 4, 10, "11-20"), (4, 4, 10, "31-"), (1, 1, 5, "1-"), (3, 2, 1, "3-3")],
)
def test_each_task_runs_the_jobs_command_on_its_rows(tmp_path, chunk, chunks, per_task, rows):
    """The task's script does arithmetic only; the last task runs to the end of the file."""
    script = tmp_path / "bake_chunk.sh"
    script.write_text(_task_script(TEMPLATE_FILES[0]), encoding="utf-8")
    blender = tmp_path / "blender"
    blender.write_text('#!/bin/sh\necho "$@"\n', encoding="utf-8")
    blender.chmod(0o755)
    jobs = tmp_path / "my shots.csv"
    argv = [str(chunk), str(chunks), str(per_task), str(blender), str(jobs)]
    proc = subprocess.run(["sh", str(script), *argv], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == f"--background --command expclip jobs {jobs} --rows {rows}"


def test_openjd_run_bakes_each_chunk_and_fails_only_the_bad_shots_task(farm, project, tmp_path):
    shots = tmp_path / "shots"
    shots.mkdir()
    for name in ("good1", "good2", "inplace", "bad", "noout", "good3"):
        shutil.copyfile(project / "shots" / "a.blend", shots / f"{name}.blend")
    out = tmp_path / "out"
    out.mkdir()
    (out / "bad.blend").write_bytes(b"an earlier bake of the bad shot")
    audio = project / "audio" / "line.wav"
    (tmp_path / "shots.csv").write_text(
        "blend,object,audio,prompt,output,overwrite\n"
        f"shots/good1.blend,{HEAD},{audio},furious,out/good1.blend,\n"
        f"shots/good2.blend,{HEAD},{audio},sad,out/good2.blend,\n"
        f"shots/inplace.blend,{HEAD},{audio},calm,,true\n"
        f"shots/bad.blend,{HEAD},audio/missing.wav,happy,out/bad.blend,\n"
        f"shots/noout.blend,{HEAD},{audio},happy,,\n"
        f"shots/good3.blend,{HEAD},{audio},surprised,out/good3.blend,\n",
        encoding="utf-8",
    )
    before = {p: _digest(p) for p in (shots / "bad.blend", out / "bad.blend", shots / "noout.blend")}

    # Two tasks of three shots: task 1 = good1, good2, inplace (one Blender); task 2 = bad, noout, good3.
    params = {"JobsFile": tmp_path / "shots.csv", "ShotsPerTask": 3, "Chunks": 2}
    proc = farm.openjd_run(params, offline=bool(unshare_network()))
    log = proc.stdout + proc.stderr
    assert proc.returncode != 0, log
    assert "Session ended with errors" in log
    task1, task2 = log.split("Chunk(INT) = 2")
    assert "Task rows: 1-3" in task1 and "; baking rows 1-3" in task1, log
    assert "expclip: 3 of 3 job(s) baked" in task1
    assert "[2/6] shots.csv row 3 (good2.blend): Baked 'sad'" in task1  # one Blender, three shots
    assert "Task rows: 4-" in task2 and "; baking rows 4-6" in task2  # the last task: to the end
    missing = tmp_path / "audio" / "missing.wav"
    assert f"[4/6] shots.csv row 5 (bad.blend): FAILED: Cannot read audio file '{missing}'" in task2
    assert "[5/6] shots.csv row 6: FAILED: The job has no output, so it would save over its own" in task2
    assert "[6/6] shots.csv row 7 (good3.blend): Baked 'surprised'" in task2
    assert "expclip: 1 of 3 job(s) baked" in task2
    assert re.search(r"ERROR executing action: 'Run Step 'Bake' with Task parameters '\{'Chunk': '2'\}'", log)

    assert {p: _digest(p) for p in before} == before  # the failed shots' files, byte for byte
    assert sorted(p.name for p in out.iterdir()) == ["bad.blend", "good1.blend", "good2.blend", "good3.blend"]
    assert not [p for p in (*out.iterdir(), *shots.iterdir()) if p.name.endswith("@")]  # no half saves
    assert _action(out / "good1.blend") == ("furious", 52)
    assert _action(out / "good2.blend") == ("sad", 52)
    assert _action(out / "good3.blend") == ("surprised", 52)
    assert _action(shots / "inplace.blend") == ("calm", 52)  # "overwrite": baked in place
    assert _digest(shots / "good1.blend") == _digest(project / "shots" / "a.blend")  # baked to its output


def test_chunks_too_few_bake_every_row_and_too_many_fail_past_the_end(farm, project, tmp_path):
    shot = shutil.copyfile(project / "shots" / "a.blend", tmp_path / "a.blend")
    audio = project / "audio" / "line.wav"
    jobs = [{"blend": "a.blend", "object": HEAD, "audio": str(audio), "output": f"{i}.blend"} for i in "xy"]
    (tmp_path / "jobs.json").write_text(json.dumps(jobs), encoding="utf-8")
    # Chunks=3 for 2 rows: task 3 asks for rows past the end and fails before Blender opens a shot.
    proc = farm.openjd_run({"JobsFile": tmp_path / "jobs.json", "ShotsPerTask": 1, "Chunks": 3}, tasks=[3])
    assert proc.returncode != 0
    assert "--rows 3- asks for rows beyond the end of the jobs file" in proc.stdout + proc.stderr
    assert "which has 2 row(s)" in proc.stdout + proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.blend", "jobs.json"]
    # Chunks=1 for 2 rows: the one (last) task runs to the end of the file, so no row is left out.
    proc = farm.openjd_run({"JobsFile": tmp_path / "jobs.json", "ShotsPerTask": 1, "Chunks": 1})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "[2/2] jobs.json job 2 (a.blend): Baked" in proc.stdout + proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.blend", "jobs.json", "x.blend", "y.blend"]
    assert shot.stat().st_size > 0
