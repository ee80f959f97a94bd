"""Farm job bundles from a jobs file: the OpenJD template with its parameter values and asset references.

    python -m expclip_blender farm-bundle shots.csv --out bundle/ --shots-per-task 10
    deadline bundle submit bundle/          # AWS Deadline Cloud (docs/farm.md)

The template is ``farm/openjd/bake_jobs.yaml`` (shipped in this package). The bundle is the layout AWS
Deadline Cloud reads (``template.yaml``, ``parameter_values.yaml``, ``asset_references.yaml``); the
number of tasks comes from the jobs file, which is read and checked here (a jobs file that cannot be read
is refused before anything is submitted). ``openjd run`` takes the same values as ``--job-param``.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

from .jobs import read_jobs

TEMPLATE = Path(__file__).resolve().parent / "farm" / "openjd" / "bake_jobs.yaml"


def bundle_values(jobs_file: Path, shots_per_task: int, blender: str = "blender") -> dict[str, object]:
    """The template's job parameter values for ``jobs_file`` (JobsFileError when it cannot be read).

    ``Chunks`` is counted from the file, so the tasks cover every row and none runs past the end.
    """
    if shots_per_task < 1:
        raise ValueError(f"shots per task must be 1 or more, got {shots_per_task}")
    entries = read_jobs(jobs_file)
    return {
        "JobsFile": str(Path(jobs_file).resolve()),
        "ShotsPerTask": shots_per_task,
        "Chunks": math.ceil(len(entries) / shots_per_task),
        "BlenderExecutable": blender,
    }


def asset_references(jobs_file: Path) -> dict[str, dict[str, list[str]]]:
    """Deadline Cloud's asset references: the files the jobs read, the folders they write."""
    inputs, outputs = {str(Path(jobs_file).resolve())}, set()
    for entry in read_jobs(jobs_file):
        job = entry.job
        if job is None or job.blend is None:
            continue  # the task reports it; nothing of it is transferred
        blend = Path(job.blend)
        for path in (job.blend, job.audio, job.mapping):
            if path is not None:
                source = blend.parent / path[2:] if path.startswith("//") else Path(path)
                if source.is_file():  # a missing file is the task's to report, not the upload's
                    inputs.add(str(source))
        output = job.output or job.blend
        target = blend.parent / output[2:] if output.startswith("//") else Path(output)
        outputs.add(str(target.parent))
    return {
        "inputs": {"filenames": sorted(inputs), "directories": []},
        "outputs": {"directories": sorted(outputs)},
    }


def write_bundle(jobs_file: Path, out_dir: Path, shots_per_task: int = 10, blender: str = "blender") -> Path:
    """Write the job bundle folder for ``jobs_file`` into ``out_dir``; returns ``out_dir``.

    YAML is a superset of JSON, so the values files are written as JSON (no YAML writer needed).
    """
    values = bundle_values(jobs_file, shots_per_task, blender)
    out_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(TEMPLATE, out_dir / "template.yaml")
    parameter_values = {"parameterValues": [{"name": k, "value": v} for k, v in values.items()]}
    (out_dir / "parameter_values.yaml").write_text(json.dumps(parameter_values, indent=2) + "\n")
    references = {"assetReferences": asset_references(jobs_file)}
    (out_dir / "asset_references.yaml").write_text(json.dumps(references, indent=2) + "\n")
    return out_dir
