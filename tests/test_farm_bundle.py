"""``python -m expclip_blender farm-bundle``: a jobs file's job bundle (template, values, references)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from expclip_blender.__main__ import main
from expclip_blender.farm_bundle import TEMPLATE, bundle_values


def _jobs(tmp_path: Path) -> Path:
    for name in ("a.blend", "b.blend", "c.blend", "line.wav"):
        (tmp_path / name).write_bytes(b"x")
    rows = [
        {"blend": "a.blend", "object": "Face", "audio": "line.wav", "output": "out/a.blend"},
        {"blend": "b.blend", "object": "Face", "audio": "gone.wav", "output": "//baked/b.blend"},
        {"blend": "c.blend", "object": "Face", "overwrite": True},  # saved in place, as the row says
        {"blend": "b.blend", "object": "Face"},  # no output, no overwrite: counted, reported by its task
        {"blend": "d.txt", "object": "Face"},  # not a .blend: counted, reported by its task
        {"blend": "c.blend", "object": "Face", "output": "out/c.blend"},
    ]
    path = tmp_path / "shots.json"
    path.write_text(json.dumps(rows), encoding="utf-8")
    return path


def test_bundle_holds_the_template_its_values_and_what_the_jobs_read_and_write(tmp_path, capsys):
    jobs = _jobs(tmp_path)
    assert main(["farm-bundle", str(jobs), "--out", str(tmp_path / "bundle"), "--shots-per-task", "2"]) == 0
    assert "wrote the job bundle" in capsys.readouterr().out
    bundle = tmp_path / "bundle"
    assert (bundle / "template.yaml").read_bytes() == TEMPLATE.read_bytes()
    values = json.loads((bundle / "parameter_values.yaml").read_text())["parameterValues"]
    assert {v["name"]: v["value"] for v in values} == {
        "JobsFile": str(jobs), "ShotsPerTask": 2, "Chunks": 3, "BlenderExecutable": "blender",
    }  # fmt: skip
    refs = json.loads((bundle / "asset_references.yaml").read_text())["assetReferences"]
    assert refs["inputs"]["filenames"] == [
        str(tmp_path / n) for n in ("a.blend", "b.blend", "c.blend", "line.wav", "shots.json")
    ]  # gone.wav is missing: its task says so
    assert refs["outputs"]["directories"] == [str(tmp_path), str(tmp_path / "baked"), str(tmp_path / "out")]


def test_bundle_refuses_a_jobs_file_it_cannot_read(tmp_path, capsys):
    (tmp_path / "shots.csv").write_text("blend,colour\na.blend,red\n", encoding="utf-8")
    assert main(["farm-bundle", str(tmp_path / "shots.csv"), "--out", str(tmp_path / "b")]) == 2
    assert "unknown column(s) 'colour'" in capsys.readouterr().err
    assert not (tmp_path / "b").exists()
    with pytest.raises(ValueError, match="shots per task must be 1 or more"):
        bundle_values(_jobs(tmp_path), 0)
