"""The ``expclip`` command line: batch baking from ``blender --background`` (docs/batch.md).

    blender --background shot.blend --command expclip bake --object Face --prompt "furious" --output out.blend
    blender --background --command expclip jobs shots.csv
    blender --background --command expclip jobs shots.csv --rows 11-20

Registered by ``operators.batch``. The arguments and jobs files are read and checked by the core
(``expclip_blender.jobs``); this module opens each shot, bakes it through the Bake operator's own steps
(``baking.plan_for``, ``run_model``, ``write_bake``) and saves it. The model is loaded once
(``model_cache``) and reused by every job. A job that fails is reported and skipped, its file left as it
was (nothing is saved, and Blender saves through a temporary file); the others still run. Exit status: 0
when every job baked, 1 when any failed, 2 for a usage error.
"""

from __future__ import annotations

import sys
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import bpy

from ...expclip_blender.jobs import (
    Job,
    JobEntry,
    JobError,
    JobsFileError,
    UsageError,
    parse_command,
    read_jobs,
    save_target,
    select_rows,
)
from ...expclip_blender.presets import PresetError
from . import baking
from .model_cache import get_model, model_settings
from .presets import missing_mapping, preset_library
from .scene_settings import NOT_ENABLED_MESSAGE

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


@dataclass
class BatchSettings:
    """The ExpCLIP settings of one job: the shot's saved settings with the job's fields on top.

    A copy, so the scene's own settings (``scene.expclip``) are not changed by a batch bake.
    """

    audio_source: str
    strip: str
    audio_file: str
    prompt: str
    intensity: float
    smoothing: float
    blinks: bool
    gaze: bool
    gaze_amount: float
    mapping_preset: str
    transition_s: float
    use_timeline: bool

    @classmethod
    def of_scene(cls, scene: bpy.types.Scene) -> BatchSettings:
        s = getattr(scene, "expclip", None)
        if s is None:
            raise baking.BakeInputError(NOT_ENABLED_MESSAGE)
        return cls(
            audio_source=s.audio_source,
            strip=s.strip,
            audio_file=s.audio_file,
            prompt=s.prompt,
            intensity=float(s.intensity),
            smoothing=float(s.smoothing),
            blinks=bool(s.blinks),
            gaze=bool(s.gaze),
            gaze_amount=float(s.gaze_amount),
            mapping_preset=s.mapping_preset,
            transition_s=float(s.transition_s),
            use_timeline=bool(s.use_timeline),
        )


def job_settings(scene: bpy.types.Scene, job: Job, context: bpy.types.Context | None = None) -> BatchSettings:
    """The settings ``job`` bakes with: the scene's, then the job's preset, then the job's own fields."""
    settings = BatchSettings.of_scene(scene)
    if job.preset is not None:
        entry = preset_library(context or bpy.context).get(job.preset)
        preset = entry.preset
        mapping = entry.mapping_path()
        if missing_mapping(mapping):
            raise PresetError(
                f"Preset '{entry.name}' uses the mapping preset '{mapping}', which does not exist: fix the "
                f"'mapping' field of '{entry.path}', or give the job its own mapping."
            )
        settings = replace(
            settings,
            prompt=preset.prompt,
            intensity=preset.intensity,
            smoothing=preset.smoothing,
            blinks=preset.blinks,
            gaze=preset.gaze,
            gaze_amount=preset.gaze_amount,
            mapping_preset=mapping if mapping is not None else settings.mapping_preset,
        )
    overrides: dict[str, Any] = {  # BatchSettings field -> a value of that field's type
        name: value
        for name, value in (
            ("prompt", job.prompt),
            ("intensity", job.intensity),
            ("smoothing", job.smoothing),
            ("blinks", job.blinks),
            ("gaze", job.gaze),
            ("gaze_amount", job.gaze_amount),
            ("mapping_preset", job.mapping),
        )
        if value is not None
    }
    if job.audio is not None:
        overrides.update(audio_source="FILE", audio_file=job.audio)
    elif job.strip is not None:
        overrides.update(audio_source="STRIP", strip=job.strip)
    return replace(settings, **overrides)


def _objects(names: Sequence[str]) -> list[bpy.types.Object]:
    found: list[bpy.types.Object] = []
    for name in names:
        obj = bpy.data.objects.get(name)
        if obj is None:
            keyed = sorted(
                o.name for o in bpy.data.objects if o.type == "MESH" and o.data.shape_keys is not None
            )
            hint = (
                f"meshes with shape keys here: {', '.join(keyed)}" if keyed else "no mesh here has shape keys"
            )
            raise JobError(f"There is no object named '{name}' in {_file_name()} ({hint}).")
        found.append(obj)
    return found


def _file_name() -> str:
    return f"'{Path(bpy.data.filepath).name}'" if bpy.data.filepath else "the open file"


def _open(blend: str) -> None:
    path = Path(blend)
    if not path.is_file():
        where = "is a folder" if path.is_dir() else "does not exist"
        raise JobError(f"The .blend file '{blend}' {where}.")
    try:
        bpy.ops.wm.open_mainfile(filepath=str(path), load_ui=True)  # its own UI: saved back unchanged
    except RuntimeError as err:
        raise JobError(f"Blender cannot open '{blend}': {_detail(err)}") from None


def _save(target: str) -> str:
    try:
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        # Blender writes a temporary file and renames it over the target: a failed save changes nothing.
        bpy.ops.wm.save_as_mainfile(filepath=target)
    except (OSError, RuntimeError) as err:
        raise JobError(f"Cannot save '{target}': {_detail(err)}") from None
    return target


def _detail(err: BaseException) -> str:
    """An operator's error text without the "Error:" that bpy puts before it."""
    return str(err).strip().removeprefix("Error:").strip()


def bake_job(
    job: Job, context: bpy.types.Context | None = None, load_model: Callable[[], object] | None = None
) -> str:
    """Open (when the job names a .blend), bake and save one shot; returns what was done.

    Raises on any problem before saving, so a failed job never writes its file. ``load_model`` gives the
    model (default: the cached one of the preferences' device and weights folder).
    """
    target = save_target(job, bpy.data.filepath)  # "//" resolved and overwrites refused before any change
    if job.blend is not None:
        _open(job.blend)
    scene = bpy.context.scene
    assert scene is not None  # the open .blend file has one; bpy.context.scene is typed Optional
    settings = job_settings(scene, job, context)
    targets = baking.match_targets(_objects(job.objects), settings.mapping_preset)
    plan = baking.plan_for(scene, settings, targets)
    model = load_model() if load_model is not None else get_model(*model_settings(context or bpy.context))
    weights = baking.run_model(plan, model)
    lines = baking.write_bake(plan, weights)
    saved = _save(target)
    return f"{baking.bake_message(plan, lines).rstrip('. ')}. Saved '{saved}'."


def _failure(err: BaseException) -> str:
    if isinstance(err, (*baking.INPUT_ERRORS, baking.BakeInputError, JobError, PresetError)):
        return str(err)
    traceback.print_exception(err, file=sys.stderr)  # unexpected: keep the traceback for a bug report
    return f"ExpCLIP could not bake: {type(err).__name__}: {err}"


def run_jobs(
    entries: Sequence[JobEntry],
    out: Callable[[str], None] | None = None,
    err: Callable[[str], None] | None = None,
    of: int | None = None,
) -> int:
    """Bake every job in order, one progress line each; failed jobs are listed at the end.

    Progress lines number each job by its place in its file (``[12/40]``), ``of`` being the file's number
    of jobs (default: ``len(entries)``). Returns EXIT_OK when every job baked, else EXIT_FAILED (the
    other jobs are still baked).
    """
    out = out or (lambda text: print(text, flush=True))
    err = err or (lambda text: print(text, file=sys.stderr, flush=True))
    failures: list[str] = []
    total = len(entries)
    of = of if of is not None else total
    model_error: list[BaseException] = []

    def load_model():
        """The cached model; after a failed load the same error again (a broken file stays broken)."""
        if model_error:
            raise model_error[0]
        try:
            return get_model(*model_settings(bpy.context))
        except Exception as error:
            model_error.append(error)
            raise

    started = time.perf_counter()
    for entry in entries:
        blend = entry.blend or (bpy.data.filepath if entry.job is not None else "")  # bake: the open file
        name = f"{entry.label} ({Path(blend).name})" if blend else entry.label
        prefix = f"[{entry.number}/{of}] {name}"
        t = time.perf_counter()
        if entry.job is None:
            message = entry.error or "cannot be read"
        else:
            try:
                done = bake_job(entry.job, load_model=load_model)
            except Exception as error:
                message = _failure(error)
            else:
                out(f"{prefix}: {done} ({time.perf_counter() - t:.2f} s)")
                continue
        failures.append(f"{name}: {message}")
        out(f"{prefix}: FAILED: {message}")
    summary = (
        f"expclip: {total - len(failures)} of {total} job(s) baked in {time.perf_counter() - started:.1f} s"
    )
    if not failures:
        out(summary)
        return EXIT_OK
    err(f"{summary}; {len(failures)} failed, their files left unchanged:")
    for line in failures:
        err(f"  {line}")
    return EXIT_FAILED


def run_command(argv: Sequence[str]) -> int:
    """The ``expclip`` command: ``argv`` is what follows ``--command expclip`` on Blender's command line."""
    try:
        command = parse_command(argv)
        if command.action == "help":
            print(command.text, end="", flush=True)
            return EXIT_OK
        if command.action == "jobs":
            assert command.jobs_file is not None  # parse_command sets it for "jobs"
            entries = read_jobs(command.jobs_file)
            of = len(entries)
            read = f"expclip: read {of} job(s) from '{command.jobs_file}'"
            if command.rows is not None:
                entries = select_rows(entries, command.rows, command.jobs_file)
                read += f"; baking rows {entries[0].number}-{entries[-1].number}"
            print(read, flush=True)
        else:
            assert command.job is not None  # and the job for "bake"
            entries, of = [JobEntry(command.job.label, command.job)], 1
    except (UsageError, JobsFileError) as error:
        print(f"expclip: {error}", file=sys.stderr, flush=True)
        return EXIT_USAGE
    return run_jobs(entries, of=of)
