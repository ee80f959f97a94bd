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


def _embedded_script(template: Path) -> str:
    import yaml  # openjd-model's dependency

    files = yaml.safe_load(template.read_text(encoding="utf-8"))["steps"][0]["script"]["embeddedFiles"]
    return next(f["data"] for f in files if f["filename"].endswith(".py"))


@pytest.mark.parametrize("template", TEMPLATE_FILES, ids=lambda p: p.name)
def test_every_template_passes_openjd_check(template):
    proc = subprocess.run(
        [str(openjd_executable()), "check", str(template)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "passes validation checks" in proc.stdout
    compile(_embedded_script(template), f"{template.name}:bake_chunk.py", "exec")


def test_templates_ship_with_the_extension(farm):
    assert [p.name for p in TEMPLATE_FILES] == ["bake_jobs.yaml"]
    (built,) = (farm.root / "dist").glob("*.zip")
    assert "expclip_blender/farm/openjd/bake_jobs.yaml" in zipfile.ZipFile(built).namelist()
    import tomllib

    pyproject = tomllib.loads((TEMPLATES.parents[2] / "pyproject.toml").read_text(encoding="utf-8"))
    assert "farm/openjd/*.yaml" in pyproject["tool"]["setuptools"]["package-data"]["expclip_blender"]


def test_openjd_run_bakes_each_chunk_and_fails_only_the_bad_shots_task(farm, project, tmp_path):
    shots = tmp_path / "shots"
    shots.mkdir()
    for name in ("good1", "good2", "bad", "inplace"):
        shutil.copyfile(project / "shots" / "a.blend", shots / f"{name}.blend")
    out = tmp_path / "out"
    out.mkdir()
    (out / "bad.blend").write_bytes(b"an earlier bake of the bad shot")
    audio = project / "audio" / "line.wav"
    (tmp_path / "shots.csv").write_text(
        "blend,object,audio,prompt,output\n"
        f"shots/good1.blend,{HEAD},{audio},furious,out/good1.blend\n"
        f"shots/good2.blend,{HEAD},{audio},sad,out/good2.blend\n"
        f"shots/bad.blend,{HEAD},audio/missing.wav,happy,out/bad.blend\n"
        f"shots/inplace.blend,{HEAD},{audio},calm,\n",
        encoding="utf-8",
    )
    before = {p: _digest(p) for p in (shots / "bad.blend", out / "bad.blend")}

    # Two tasks of two shots: task 1 = good1 + good2 (one Blender), task 2 = bad + inplace.
    params = {"JobsFile": tmp_path / "shots.csv", "ShotsPerTask": 2, "Chunks": 2}
    proc = farm.openjd_run(params, offline=bool(unshare_network()))
    log = proc.stdout + proc.stderr
    assert proc.returncode != 0, log
    assert "Session ended with errors" in log
    task1, task2 = log.split("Chunk(INT) = 2")
    assert "Task 1: 2 of 2 shot(s) baked and moved into place; Blender exit status 0." in task1
    assert "[2/2] shots-task1.json job 2 (good2.blend): Baked 'sad'" in task1  # one Blender, two shots
    missing = tmp_path / "audio" / "missing.wav"
    assert f"FAILED: Cannot read audio file '{missing}': the file does not exist." in task2
    assert "shots-task2.json job 1 is shots.csv row 4" in task2
    assert "Task 2: 1 of 2 shot(s) baked and moved into place; Blender exit status 1." in task2
    assert re.search(r"ERROR executing action: 'Run Step 'Bake' with Task parameters '\{'Chunk': '2'\}'", log)

    assert {p: _digest(p) for p in before} == before  # the bad shot's files, byte for byte
    assert sorted(p.name for p in out.iterdir()) == ["bad.blend", "good1.blend", "good2.blend"]  # no temps
    assert not [p for p in shots.iterdir() if p.name.startswith(".")]
    assert _action(out / "good1.blend") == ("furious", 52)
    assert _action(out / "good2.blend") == ("sad", 52)
    assert _action(shots / "inplace.blend") == ("calm", 52)
    assert _digest(shots / "good1.blend") == _digest(project / "shots" / "a.blend")  # baked to its output


def test_a_task_range_that_does_not_fit_the_jobs_file_bakes_nothing(farm, project, tmp_path):
    shot = shutil.copyfile(project / "shots" / "a.blend", tmp_path / "a.blend")
    audio = project / "audio" / "line.wav"
    jobs = [{"blend": "a.blend", "object": HEAD, "audio": str(audio), "output": f"{i}.blend"} for i in "xy"]
    (tmp_path / "jobs.json").write_text(json.dumps(jobs), encoding="utf-8")
    proc = farm.openjd_run({"JobsFile": tmp_path / "jobs.json", "ShotsPerTask": 1, "Chunks": 1})
    assert proc.returncode != 0
    assert "Chunks=1 does not fit 2 jobs at 1 per task: use Chunks=2." in proc.stdout + proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.blend", "jobs.json"]
    assert shot.stat().st_size > 0


def test_chunk_rows_keep_paths_and_bake_to_a_hidden_file_next_to_the_destination(tmp_path):
    """The task script's row handling: relative paths from the jobs file, ``//`` next to the .blend."""
    namespace: dict = {"__name__": "bake_chunk"}
    exec(compile(_embedded_script(TEMPLATE_FILES[0]), "bake_chunk.py", "exec"), namespace)
    (tmp_path / "jobs.csv").write_text(
        "# shots of sc01\nblend,object,audio,output\n\nsh/a.blend,Face;Teeth,a.wav,//baked/a.blend\n"
        "/abs/b.blend,Face,,\nc.blend,Face,calm, then irritated,c.blend\n",
        encoding="utf-8",
    )
    rows = namespace["read_rows"](tmp_path / "jobs.csv")
    assert [label for label, _ in rows] == ["jobs.csv row 4", "jobs.csv row 5", "jobs.csv row 6"]
    assert rows[2][1] == "5 cells but 4 columns (a comma in an unquoted value?)"  # the command reports it
    row, final, temp = namespace["plan"](rows[0][1], tmp_path)
    assert final == tmp_path / "sh" / "baked" / "a.blend"
    assert temp.parent == final.parent and temp.suffix == ".blend"
    assert temp.name.startswith(".a.expclip-farm-")  # hidden, and named after the shot it replaces
    assert row == {"blend": str(tmp_path / "sh" / "a.blend"), "object": "Face;Teeth",
                   "audio": str(tmp_path / "a.wav"), "output": str(temp)}  # fmt: skip
    row, final, temp = namespace["plan"](rows[1][1], tmp_path)
    assert final == Path("/abs/b.blend") and row["output"] == str(temp) and temp.parent == Path("/abs")
    assert namespace["plan"]("not a row", tmp_path) == ("not a row", None, None)
