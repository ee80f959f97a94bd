"""Benchmark: a jobs file baked through the OpenJD template on local workers vs the jobs command alone.

    .venv/bin/python benchmarks/bench_farm.py                          # 200 shots x 10 s
    .venv/bin/python benchmarks/bench_farm.py --shots 20 --seconds 3   # a quick run

Both bake the same shots (the demo head, one .blend per shot, an audio file of ``--seconds`` of
speech-like sound) with the built extension installed in a fresh Blender user folder and
``scripts/blender_shim.py`` as ``blender``:

1. **One process**: ``blender --background --command expclip jobs shots.csv``: one Blender start, one model
   load, every shot. Its per-job lines give the first job (model load included) and the warm shots.
2. **OpenJD, local workers**: ``openjd run`` of expclip_blender/farm/openjd/bake_jobs.yaml, ``--workers``
   processes at once, each a session running its share of the tasks (``--shots-per-task`` shots each).
3. **Start-up alone**: ``blender --background --command expclip --help`` (Blender + the extension, no model).

It prints the walls, the per-shot split (start-up, model load, bake) and a model of a farm of N nodes:
``wall(N) = ceil(tasks / N) * (task overhead + shots per task * per-shot time)`` with the task overhead
measured from the OpenJD run (session, Blender start, model load, exit).
"""

from __future__ import annotations

import argparse
import math
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "scripts"))
sys.path.insert(0, str(HERE.parent / "tests"))

from bake_helpers import speech_like, write_wav  # noqa: E402  (after the paths above)
from farm_local import HEAD, LocalFarm, make_farm  # noqa: E402

JOB_TIME = re.compile(r"^\[(\d+)/\d+\] .*: Baked .*\(([\d.]+) s\)$", re.M)


def make_project(farm: LocalFarm, root: Path, shots: int, seconds: float) -> tuple[Path, Path]:
    """``shots`` copies of a demo-head shot and one jobs file per run (their own output folders)."""
    shot = farm.make_shot(root / "shot.blend")
    audio = write_wav(root / "line.wav", speech_like(seconds))
    for i in range(shots):
        shutil.copyfile(shot, root / f"shot{i:04d}.blend")
    files = []
    for run in ("single", "openjd"):
        rows = [
            f"shot{i:04d}.blend,{HEAD},{audio.name},furious,{run}/shot{i:04d}.blend" for i in range(shots)
        ]
        path = root / f"{run}.csv"
        path.write_text("blend,object,audio,prompt,output\n" + "\n".join(rows) + "\n", encoding="utf-8")
        files.append(path)
    return files[0], files[1]


def timed(command: list[str], farm: LocalFarm) -> tuple[float, str, int]:
    """(wall s, output, exit status) of a command in the farm's environment."""
    start = time.perf_counter()
    proc = subprocess.run(command, env=farm.env, capture_output=True, text=True)
    return time.perf_counter() - start, proc.stdout + proc.stderr, proc.returncode


def run_openjd(farm: LocalFarm, jobs: Path, shots: int, per_task: int, workers: int) -> tuple[float, list]:
    """Wall of ``workers`` concurrent ``openjd run`` sessions over disjoint task ranges, and each one's."""
    chunks = math.ceil(shots / per_task)
    params = {"JobsFile": jobs, "ShotsPerTask": per_task, "Chunks": chunks}
    shares = [list(range(w + 1, chunks + 1, workers)) for w in range(workers)]

    def worker(tasks: list[int]) -> tuple[float, int, int]:
        start = time.perf_counter()
        proc = farm.openjd_run(params, tasks=tasks)
        if proc.returncode != 0:
            print(proc.stdout[-3000:] + proc.stderr[-2000:], file=sys.stderr)
        return time.perf_counter() - start, len(tasks), proc.returncode

    start = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        results = list(pool.map(worker, [s for s in shares if s]))
    return time.perf_counter() - start, results


def report(args: argparse.Namespace, figures: dict[str, float], workers: list) -> None:
    """The measured figures and the farm model."""
    n, per_task = args.shots, args.shots_per_task
    tasks = math.ceil(n / per_task)
    shot = figures["warm"]
    # Everything of the one-process run that is not a shot's warm work is paid once per Blender process.
    process = figures["single"] - n * shot
    overhead = (
        process + figures["startup"]
    )  # + the session's check (a Blender start) when a task is a session
    print(f"\n{n} shots x {args.seconds:g} s, {per_task} shots per task ({tasks} tasks)")
    print(f"  Blender start-up + extension (--help):       {figures['startup']:7.2f} s")
    print(f"  one process, whole jobs file:                {figures['single']:7.2f} s wall")
    print(f"    first job (model load + bake + save):      {figures['first']:7.2f} s")
    print(f"    model load (first job - warm job):         {figures['first'] - shot:7.2f} s")
    print(f"    per shot, warm (open + bake + save), mean: {shot:7.2f} s")
    print(f"    per process (start, load, exit): wall - shots x warm = {process:.2f} s")
    print(f"  OpenJD, {len(workers)} local workers at once:          {figures['openjd']:7.2f} s wall")
    for i, (wall, count, code) in enumerate(workers, 1):
        print(f"    worker {i}: {count} task(s), {count * per_task} shots in {wall:.2f} s (exit {code})")
    print(f"  speed-up of the OpenJD run over one process: {figures['single'] / figures['openjd']:.2f}x")
    print(
        f"\nModel: wall(N nodes) = ceil({tasks} tasks / N) x "
        f"({overhead:.1f} s per task + {per_task} x {shot:.2f} s per shot)"
    )
    for nodes in (1, 2, 4, 10, 20, 50):
        wall = math.ceil(tasks / nodes) * (overhead + per_task * shot)
        print(f"  {nodes:3d} node(s): {wall:8.1f} s")
    if (n, args.seconds) != (200, 10.0):
        scaled = (
            shot * 10 / args.seconds
        )  # the bake grows with the audio; open and save do not (an upper bound)
        for nodes in (1, 2, 10):
            wall = math.ceil(200 / per_task / nodes) * (overhead + per_task * scaled)
            print(f"  200 x 10 s on {nodes:2d} node(s), per shot scaled to 10 s audio: {wall:7.0f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--shots", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=10.0, help="audio length of each shot")
    parser.add_argument("--shots-per-task", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2, help="concurrent local openjd run sessions")
    args = parser.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="expclip-bench-farm-"))
    try:
        farm = make_farm(root / "farm")
        single_jobs, openjd_jobs = make_project(farm, root / "project", args.shots, args.seconds)
        startup, _, _ = timed([str(farm.blender), "--background", "--command", "expclip", "--help"], farm)
        wall, out, code = timed(
            [str(farm.blender), "--background", "--command", "expclip", "jobs", str(single_jobs)], farm
        )
        times = [float(t) for _, t in JOB_TIME.findall(out)]
        if code != 0 or len(times) != args.shots:
            print(out[-4000:], file=sys.stderr)
            return 1
        openjd_wall, workers = run_openjd(farm, openjd_jobs, args.shots, args.shots_per_task, args.workers)
        baked = len(list((root / "project" / "openjd").glob("shot*.blend")))
        if baked != args.shots or any(code for _, _, code in workers):
            print(f"OpenJD run baked {baked} of {args.shots} shots", file=sys.stderr)
            return 1
        warm = statistics.fmean(times[1:])  # the mean: the wall is the sum, slow outliers included
        figures = {"startup": startup, "single": wall, "first": times[0], "warm": warm, "openjd": openjd_wall}
        report(args, figures, workers)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
