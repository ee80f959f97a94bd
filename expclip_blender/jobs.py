"""Batch baking without Blender: the ``expclip`` command line and jobs files, read and checked.

Blender runs the command (``blender --background shot.blend --command expclip ...``, see
``operators/services/batch.py`` and docs/batch.md); everything that can be checked without Blender is
checked here, so a typo is reported with the row and field it is in before any file is opened.

A job is one shot: a .blend, the object(s) to animate, the audio (a sound strip of the shot or a file),
the prompt or a preset, the intensity and where to save. What a job leaves out comes from the shot's own
ExpCLIP settings, saved in the .blend by the sidebar panel (a shot set up by hand bakes the same way from
the command line). A preset fills in prompt, intensity, smoothing, blinks, gaze (and its amount) and
mapping; a job's own fields override the preset's.

Jobs files are JSON (a list of objects, or ``{"jobs": [...]}``) or CSV (a header row naming the fields).
CSV is read strictly, one line per row: a quoted field that does not close on its line, or a row with
more or fewer cells than the header has columns, fails that row (named by its line number) and no other.
Relative paths in a jobs file are relative to the jobs file's folder; ``//`` paths are relative to the
job's .blend, as in Blender (``bpy.path.abspath``).

A job of a jobs file never saves over its own .blend unless it says so: a row with no ``output``, or
with an ``output`` that is its ``blend``, fails unless its ``overwrite`` field is true. The one-shot
``bake`` command names its shot on the command line and saves over it when ``--output`` is left out.

``jobs FILE --rows A-B`` bakes the file's jobs A to B (1-based, inclusive, counted in file order, as the
``[A/total]`` progress lines number them; ``A-`` runs to the end): a render farm splits one file into
tasks this way, and every message keeps the job's place in the whole file.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

from .files import FileTooLargeError, NotARegularFileError, parse_json, read_regular_file
from .limits import GAZE_AMOUNT_RANGE, INTENSITY_RANGE, SMOOTHING_RANGE, check_number

COMMAND = "expclip"
PROG = f"blender --background SHOT.blend --command {COMMAND}"
# Every field of a job, in the order the docs list them. ``blend`` is required in a jobs file.
FIELDS = (
    "blend",
    "object",
    "strip",
    "audio",
    "prompt",
    "preset",
    "intensity",
    "smoothing",
    "blinks",
    "gaze",
    "gaze_amount",
    "mapping",
    "output",
    "overwrite",
)
OBJECT_SEPARATOR = ";"  # several objects in one CSV cell: "Face;Teeth"
MAX_JOBS_FILE_BYTES = 16 << 20
_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


class JobError(ValueError):
    """One job cannot be baked as written; the message names the job and the field."""


class JobsFileError(ValueError):
    """The jobs file as a whole cannot be read; the message names the file and says what to fix."""


class UsageError(ValueError):
    """The command line is wrong; the message says what is wrong (the usage line goes with it)."""


@dataclass(frozen=True)
class Job:
    """One shot to bake. ``None`` means "as the shot's ExpCLIP settings say"."""

    objects: tuple[str, ...]
    blend: str | None = None  # None: the .blend Blender has open
    strip: str | None = None
    audio: str | None = None
    prompt: str | None = None
    preset: str | None = None
    intensity: float | None = None
    smoothing: float | None = None
    blinks: bool | None = None
    gaze: bool | None = None
    gaze_amount: float | None = None
    mapping: str | None = None
    output: str | None = None  # None: save over the .blend; "//" paths: relative to the .blend's folder
    overwrite: bool = False  # may save over its own .blend (jobs files say so per row; ``bake`` always may)
    label: str = "bake"  # names the job in messages ("job 3", "shots.csv row 4")


@dataclass(frozen=True)
class JobEntry:
    """A job as read from a jobs file: the job, or why it cannot be baked (``label`` says which job)."""

    label: str
    job: Job | None
    error: str | None = None
    number: int = 1  # 1-based place among the jobs of its file (what --rows counts)

    @property
    def blend(self) -> str | None:
        return self.job.blend if self.job is not None else None


@dataclass(frozen=True)
class Command:
    """What the command line asks for: ``bake`` (one job), ``jobs`` (a file) or ``help`` (print text)."""

    action: str
    job: Job | None = None
    jobs_file: Path | None = None
    rows: tuple[int, int | None] | None = None  # --rows: first and last job (None: to the end)
    text: str = ""


# --- one job's fields ------------------------------------------------------------------------------


def _path(value: str, base_dir: Path) -> str:
    """An absolute path (``~`` expanded, relative to ``base_dir``); ``//`` Blender paths unchanged."""
    if value.startswith("//"):
        return value
    path = Path(value).expanduser()
    return str(path if path.is_absolute() else (base_dir / path).resolve())


def blend_relative(value: str, blend: str | None) -> str:
    """``value`` with a leading ``//`` made relative to the folder of ``blend``, as ``bpy.path.abspath``."""
    if not value.startswith("//"):
        return value
    if blend is None:
        raise JobError(f"'{value}' is relative to a .blend ('//'), but there is none: give an absolute path")
    return os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(blend)), value[2:]))


def _same_file(a: str, b: str) -> bool:
    """Whether two paths name one file (through symbolic and hard links too)."""
    if os.path.normcase(os.path.realpath(a)) == os.path.normcase(os.path.realpath(b)):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist yet: not the same file
        return False


def save_target(job: Job, open_blend: str | None) -> str:
    """The file ``job`` saves to: its output (``//`` against its .blend's folder), else its .blend.

    ``open_blend`` is the .blend Blender has open (the shot when the job names none). JobError when there
    is nothing to save to, or when the target is the job's own .blend and the job does not say
    ``overwrite``: a jobs file never saves over a shot by accident.
    """
    blend = job.blend or open_blend or None
    if job.output is None and blend is None:
        raise JobError(
            "No .blend file is open and no --output is given: put the shot before --command "
            "(blender --background shot.blend --command expclip bake ...), or pass --blend or --output."
        )
    if job.output is not None and job.output.startswith("//") and blend is None:
        raise JobError(
            f"The output '{job.output}' is relative to the shot's .blend ('//'), but no .blend is open: "
            "give an absolute output path, or open the shot first."
        )
    target = blend_relative(job.output, blend) if job.output is not None else blend
    assert target is not None
    if blend is not None and not job.overwrite and _same_file(target, blend):
        said = "has no output" if job.output is None else f"has the output '{job.output}'"
        raise JobError(
            f"The job {said}, so it would save over its own .blend '{blend}': give an 'output' "
            "(a new .blend), or set 'overwrite' to true to save over the shot."
        )
    return target


def _number(value: object, field: str, bounds: tuple[float, float]) -> float:
    if isinstance(value, str):
        with contextlib.suppress(ValueError):  # not a number: reported below with the text as given
            value = float(value.strip())
    try:
        return check_number(value, f"field '{field}'", bounds)
    except ValueError as exc:
        raise JobError(str(exc)) from None


def _flag(value: object, field: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise JobError(f"field '{field}' must be true or false, got {value!r}")


def _text(value: object, field: str) -> str:
    if not isinstance(value, str):
        raise JobError(f"field '{field}' must be text, got {value!r}")
    return value


def _objects(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        names = value.split(OBJECT_SEPARATOR)
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        names = value
    else:
        raise JobError(f"field 'object' must be an object name or a list of names, got {value!r}")
    names = [n.strip() for n in names if n.strip()]
    if not names:
        raise JobError("field 'object' is empty: name the mesh with the shape keys, e.g. \"Face\"")
    return tuple(dict.fromkeys(names))  # repeated names once, in order


def make_job(
    fields: Mapping[str, object], base_dir: Path, label: str = "bake", require_blend: bool = True
) -> Job:
    """A checked :class:`Job` from field values (JobError naming the field). Paths are made absolute."""
    unknown = sorted(set(fields) - set(FIELDS))
    if unknown:
        raise JobError(
            f"unknown field(s) {', '.join(map(repr, unknown))}; the fields are {', '.join(FIELDS)}"
        )
    given = {k: v for k, v in fields.items() if v is not None}
    for key in ("blend", "object"):
        if key not in given and (key != "blend" or require_blend):
            what = "the shot's .blend file" if key == "blend" else "the mesh to animate"
            raise JobError(f"field '{key}' is missing ({what})")
    if "strip" in given and "audio" in given:
        raise JobError("fields 'strip' and 'audio' are both given: the speech comes from one of them")
    paths = _paths(given, base_dir)
    strip = _text(given["strip"], "strip").strip() if "strip" in given else None
    if strip == "":
        raise JobError("field 'strip' is empty: name a sound strip or leave the field out")
    preset = _text(given["preset"], "preset").strip() if "preset" in given else None
    if preset == "":
        raise JobError("field 'preset' is empty: name a preset or leave the field out")
    job = Job(
        objects=_objects(given["object"]),
        blend=paths.get("blend"),
        strip=strip,
        audio=paths.get("audio"),
        prompt=_text(given["prompt"], "prompt") if "prompt" in given else None,
        preset=preset,
        intensity=_number(given["intensity"], "intensity", INTENSITY_RANGE) if "intensity" in given else None,
        smoothing=_number(given["smoothing"], "smoothing", SMOOTHING_RANGE) if "smoothing" in given else None,
        blinks=_flag(given["blinks"], "blinks") if "blinks" in given else None,
        gaze=_flag(given["gaze"], "gaze") if "gaze" in given else None,
        gaze_amount=_number(given["gaze_amount"], "gaze_amount", GAZE_AMOUNT_RANGE)
        if "gaze_amount" in given
        else None,
        mapping=paths.get("mapping"),
        output=paths.get("output"),
        overwrite=_flag(given["overwrite"], "overwrite") if "overwrite" in given else False,
        label=label,
    )
    if job.blend is not None:  # a jobs file's row: its save target is known before Blender opens anything
        save_target(job, None)
    return job


def _paths(given: Mapping[str, object], base_dir: Path) -> dict[str, str]:
    """The path fields of a job, absolute; an output starting with ``//`` is kept for its .blend."""
    paths = {}
    for key in ("blend", "audio", "mapping", "output"):
        if key in given:
            text = _text(given[key], key).strip()
            if not text:
                raise JobError(f"field '{key}' is empty: give a file path or leave the field out")
            if "\0" in text:  # no file system takes it (os.path raises a bare "embedded null byte")
                raise JobError(f"field '{key}' contains a NUL character: give a file path")
            paths[key] = _path(text, base_dir)
    if paths.get("blend", "").startswith("//"):
        raise JobError(
            f"field 'blend' cannot start with '//' (that means relative to the .blend itself), got "
            f"'{given['blend']}': give it relative to the jobs file's folder, or absolute"
        )
    if "blend" in paths and not paths["blend"].lower().endswith(".blend"):
        raise JobError(f"field 'blend' must be a .blend file, got '{given['blend']}'")
    if "output" in paths and not paths["output"].lower().endswith(".blend"):
        raise JobError(f"field 'output' must be a .blend file path, got '{given['output']}'")
    if "blend" in paths and "output" in paths:
        paths["output"] = blend_relative(paths["output"], paths["blend"])
    return paths


# --- jobs files ------------------------------------------------------------------------------------


def read_jobs(path: str | Path) -> list[JobEntry]:
    """Every job of a JSON or CSV jobs file, each checked on its own (a bad job does not stop the others).

    JobsFileError when the file as a whole cannot be used (missing, not JSON/CSV, no jobs, unknown column).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".json", ".csv"):
        raise JobsFileError(f"Jobs file '{path}': use a .json or .csv file (see docs/batch.md)")
    try:
        data = read_regular_file(path, MAX_JOBS_FILE_BYTES)
        text = data.decode("utf-8-sig")  # -sig: spreadsheets write a byte-order mark
    except FileNotFoundError:
        raise JobsFileError(f"Jobs file '{path}' does not exist") from None
    except IsADirectoryError:
        raise JobsFileError(f"Jobs file '{path}' is a folder: give the .json or .csv file") from None
    except NotARegularFileError:
        raise JobsFileError(
            f"Jobs file '{path}' is not a regular file (a pipe, device or socket): "
            "give the .json or .csv file"
        ) from None
    except FileTooLargeError:
        raise JobsFileError(f"Jobs file '{path}' is larger than 16 MB: not a jobs file?") from None
    except UnicodeDecodeError:
        raise JobsFileError(f"Jobs file '{path}' is not UTF-8 text") from None
    except OSError as err:
        raise JobsFileError(f"Jobs file '{path}' cannot be read: {err.strerror or err}") from None
    rows = _json_rows(text, path) if suffix == ".json" else _csv_rows(text, path)
    if not rows:
        raise JobsFileError(f"Jobs file '{path}' has no jobs")
    base_dir = path.resolve().parent
    entries = []
    for number, (label, fields) in enumerate(rows, 1):
        if isinstance(fields, str):  # the row itself is malformed
            entries.append(JobEntry(label, None, fields, number))
            continue
        try:
            entries.append(JobEntry(label, make_job(fields, base_dir, label), number=number))
        except JobError as err:
            entries.append(JobEntry(label, None, str(err), number))
    return entries


def parse_rows(text: str) -> tuple[int, int | None]:
    """``--rows`` as (first, last): ``A-B``, ``A-`` (to the end, last None) or ``A``; UsageError if bad."""
    first, dash, last = text.strip().partition("-")
    try:
        start = int(first)
        end = int(last) if last.strip() else (None if dash else start)
    except ValueError:
        raise UsageError(
            f"--rows takes A-B (jobs A to B, 1-based), A- (A to the end) or A, got '{text}'"
        ) from None
    if start < 1 or (end is not None and end < start):
        raise UsageError(f"--rows {text}: the first row is 1 or more and the last is not before it")
    return start, end


def select_rows(
    entries: Sequence[JobEntry], rows: tuple[int, int | None], path: str | Path
) -> list[JobEntry]:
    """The entries ``rows`` names (see :func:`parse_rows`); JobsFileError when it reaches past the file."""
    first, last = rows
    if first > len(entries) or (last is not None and last > len(entries)):
        asked = f"{first}-{last if last is not None else ''}"
        raise JobsFileError(
            f"--rows {asked} asks for rows beyond the end of the jobs file '{path}', which has "
            f"{len(entries)} row(s)"
        )
    return list(entries[first - 1 : last])


def _json_rows(text: str, path: Path) -> list[tuple[str, Mapping | str]]:
    try:
        data = parse_json(text)
    except json.JSONDecodeError as err:
        raise JobsFileError(
            f"Jobs file '{path}' is not valid JSON (line {err.lineno}, column {err.colno}: {err.msg})"
        ) from None
    if isinstance(data, Mapping) and set(data) == {"jobs"}:
        data = data["jobs"]
    if not isinstance(data, list):
        raise JobsFileError(
            f"Jobs file '{path}': the top level must be a list of jobs (or {{\"jobs\": [...]}}), each an "
            'object like {"blend": "shot.blend", "object": "Face", "prompt": "furious"}'
        )
    rows: list[tuple[str, Mapping | str]] = []
    for i, item in enumerate(data, 1):
        label = f"{path.name} job {i}"
        rows.append((label, item if isinstance(item, Mapping) else f"must be a JSON object, got {item!r}"))
    return rows


def _csv_cells(line: str) -> list[str] | str:
    """The cells of one CSV line, or what is wrong with it. A field never spans lines: a quote left open
    would otherwise swallow the following rows into one field."""
    try:
        cells = next(csv.reader([line], strict=True), [])
    except csv.Error as err:
        if "end of data" in str(err):
            return "a quoted field is not closed on its line (a stray '\"'?); fields cannot span lines"
        return f"not valid CSV ({err})"
    if any("\r" in c for c in cells):
        return "a line break inside a field; fields cannot span lines"
    return cells


def _csv_header(cells: list[str] | str, row: int, path: Path) -> list[str]:
    """The column names of the header row (JobsFileError when they cannot be used)."""
    if isinstance(cells, str):
        raise JobsFileError(f"Jobs file '{path}' row {row}: {cells}")
    header = [c.strip().lower() for c in cells]
    unknown = [c for c in header if c not in FIELDS]
    if unknown or len(set(header)) != len(header):
        what = f"unknown column(s) {', '.join(map(repr, unknown))}" if unknown else "a repeated column"
        raise JobsFileError(
            f"Jobs file '{path}' row {row}: {what}; the first row names the columns, from: "
            f"{', '.join(FIELDS)}"
        )
    return header


def _csv_rows(text: str, path: Path) -> list[tuple[str, Mapping | str]]:
    header: list[str] | None = None
    rows: list[tuple[str, Mapping | str]] = []
    # Split on "\n" only: str.splitlines would also break rows at form feeds and Unicode separators.
    for row, line in enumerate(text.split("\n"), 1):
        cells = _csv_cells(line.removesuffix("\r"))
        if not isinstance(cells, str) and (not any(c.strip() for c in cells) or cells[0].lstrip()[:1] == "#"):
            continue  # blank lines and comments
        if header is None:
            header = _csv_header(cells, row, path)
            continue
        label = f"{path.name} row {row}"
        if isinstance(cells, str):
            rows.append((label, cells))
        elif len(cells) != len(header):
            rows.append(
                (
                    label,
                    f"{len(cells)} cells, expected {len(header)} ({', '.join(header)}): a comma in an "
                    "unquoted value, or a missing one?",
                )
            )
        else:
            rows.append((label, {k: v for k, v in zip(header, cells, strict=True) if v.strip()}))
    if header is None:
        raise JobsFileError(f"Jobs file '{path}' is empty: the first row names the columns")
    return rows


# --- the command line ------------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of exiting (the command runs inside Blender, which must not quit)."""

    subparsers: dict[str, argparse.ArgumentParser]  # per action, for per-action help

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message}\n{self.format_usage().rstrip()}")

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        raise UsageError(message or f"exit {status}")


def _parser() -> _Parser:
    parser = _Parser(
        prog=PROG,
        description="Bake speech + an emotion prompt onto shape keys, from the command line.",
        epilog="Options not given come from the shot's ExpCLIP settings (saved with the .blend). "
        "Exit status: 0 all baked, 1 a job failed, 2 a usage error. See docs/batch.md.",
        add_help=False,
    )
    parser.add_argument("-h", "--help", action="store_true", help="show this help and exit")
    sub = parser.add_subparsers(dest="action", metavar="{bake,jobs}", parser_class=_Parser)
    bake = sub.add_parser(
        "bake",
        add_help=False,
        help="bake one shot: the .blend Blender opened (or --blend), saved in place or to --output",
    )
    bake.add_argument("-h", "--help", action="store_true", help="show this help and exit")
    bake.add_argument(
        "--blend", metavar="FILE", help="open this .blend first (default: the one Blender opened)"
    )
    bake.add_argument(
        "--object", action="append", metavar="NAME", help="mesh to animate (repeat for teeth, brows...)"
    )
    source = bake.add_mutually_exclusive_group()
    source.add_argument("--strip", metavar="NAME", help="sound strip of the shot to bake from")
    source.add_argument(
        "--audio",
        metavar="FILE",
        help="audio file to bake from (animation starts on the scene's start frame)",
    )
    bake.add_argument("--prompt", metavar="TEXT", help='the emotion in words, e.g. "furious" ("" = neutral)')
    bake.add_argument("--preset", metavar="NAME", help="emotion preset (built-in, studio or user)")
    bake.add_argument("--intensity", metavar="X", help="0 = neutral, 1 = as prompted, up to 2")
    bake.add_argument("--smoothing", metavar="X", help="temporal smoothing, 0 to 1")
    blinks = bake.add_mutually_exclusive_group()
    blinks.add_argument("--blinks", dest="blinks", action="store_const", const=True, help="add eye blinks")
    blinks.add_argument(
        "--no-blinks", dest="blinks", action="store_const", const=False, help="no added blinks"
    )
    gaze = bake.add_mutually_exclusive_group()
    gaze.add_argument("--gaze", dest="gaze", action="store_const", const=True, help="add eye movement")
    gaze.add_argument(
        "--no-gaze", dest="gaze", action="store_const", const=False, help="no added eye movement"
    )
    bake.add_argument("--gaze-amount", metavar="X", help="eye movement, 0 = none, 1 = modest, up to 2")
    bake.add_argument("--mapping", metavar="FILE", help="JSON mapping preset for a rig with other key names")
    bake.add_argument("--output", metavar="FILE", help="save to this .blend (default: save over the shot)")
    jobs = sub.add_parser("jobs", add_help=False, help="bake every shot of a JSON or CSV jobs file")
    jobs.add_argument("-h", "--help", action="store_true", help="show this help and exit")
    jobs.add_argument("file", nargs="?", metavar="FILE", help="the jobs file (.json or .csv)")
    jobs.add_argument(
        "--rows",
        metavar="A-B",
        help="bake only jobs A to B (1-based, as progress numbers them; A-: to the end)",
    )
    parser.subparsers = {"bake": bake, "jobs": jobs}
    return parser


def parse_command(argv: Sequence[str], cwd: str | Path | None = None) -> Command:
    """Read the arguments after ``--command expclip`` (UsageError with the usage line when wrong).

    Relative paths are made absolute against ``cwd`` (default: the current folder).
    """
    parser = _parser()
    args = parser.parse_args(list(argv))
    base_dir = Path(cwd) if cwd is not None else Path.cwd()
    if args.action is None:
        if args.help:
            return Command("help", text=parser.format_help())
        raise UsageError(f"say what to do: 'bake' or 'jobs'\n{parser.format_usage().rstrip()}")
    if args.help:
        return Command("help", text=parser.subparsers[args.action].format_help())
    if args.action == "jobs":
        if not args.file:
            raise UsageError(f"name the jobs file\n{parser.subparsers['jobs'].format_usage().rstrip()}")
        try:
            rows = parse_rows(args.rows) if args.rows is not None else None
        except UsageError as err:
            raise UsageError(f"{err}\n{parser.subparsers['jobs'].format_usage().rstrip()}") from None
        return Command("jobs", jobs_file=base_dir / Path(args.file).expanduser(), rows=rows)
    fields: dict[str, object] = {k: getattr(args, k) for k in FIELDS if k not in ("object", "overwrite")}
    # One shot named on the command line: saving over it (no --output) is the documented default.
    fields.update(object=args.object, overwrite=True)
    if args.object is None:
        raise UsageError(
            "name the mesh to animate with --object NAME\n"
            + parser.subparsers["bake"].format_usage().rstrip()
        )
    try:
        job = make_job(fields, base_dir, label="bake", require_blend=False)
    except JobError as err:  # name the option, not the field
        text = (
            str(err).replace("field 'gaze_amount'", "option '--gaze-amount'").replace("field '", "option '--")
        )
        raise UsageError(f"{text}\n{parser.subparsers['bake'].format_usage().rstrip()}") from None
    return Command("bake", job=job)
