"""The batch command's arguments and jobs files, read without Blender (expclip_blender.jobs)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from fifo_helpers import within

from expclip_blender.jobs import (
    FIELDS,
    Job,
    JobError,
    JobsFileError,
    UsageError,
    make_job,
    parse_command,
    parse_rows,
    read_jobs,
    select_rows,
)

# --- the command line ------------------------------------------------------------------------------


def test_bake_arguments_become_a_job_with_absolute_paths(tmp_path):
    cmd = parse_command(
        [
            "bake",
            "--object", "Face",
            "--object", "Teeth",
            "--audio", "line.wav",
            "--prompt", "furious",
            "--intensity", "1.5",
            "--no-blinks",
            "--output", "out/shot.blend",
        ],
        cwd=tmp_path,
    )  # fmt: skip
    assert cmd.action == "bake"
    job = cmd.job
    assert job.objects == ("Face", "Teeth")
    assert job.audio == str(tmp_path / "line.wav")
    assert job.output == str(tmp_path / "out" / "shot.blend")
    assert (job.prompt, job.intensity, job.blinks) == ("furious", 1.5, False)
    assert job.blend is None and job.strip is None and job.preset is None and job.smoothing is None


def test_gaze_options_become_job_fields(tmp_path):
    job = parse_command(["bake", "--object", "F", "--no-gaze", "--gaze-amount", "0.4"], cwd=tmp_path).job
    assert (job.gaze, job.gaze_amount) == (False, 0.4)
    job = parse_command(["bake", "--object", "F", "--gaze"], cwd=tmp_path).job
    assert (job.gaze, job.gaze_amount) == (True, None)


def test_bake_defaults_leave_everything_to_the_shot(tmp_path):
    job = parse_command(["bake", "--object", "Face"], cwd=tmp_path).job
    assert job == Job(objects=("Face",), overwrite=True, label="bake")  # one shot: saved in place


def test_an_empty_prompt_is_kept_as_neutral_and_blender_paths_stay_relative(tmp_path):
    job = parse_command(["bake", "--object", "F", "--prompt", "", "--audio", "//line.wav"], cwd=tmp_path).job
    assert job.prompt == ""
    assert job.audio == "//line.wav"


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ([], "say what to do"),
        (["render"], "invalid choice: 'render'"),
        (["bake", "--prompt", "x"], "--object NAME"),
        (
            ["bake", "--object", "F", "--intensity", "loud"],
            "option '--intensity' must be a number from 0 to 2",
        ),
        (["bake", "--object", "F", "--intensity", "3"], "option '--intensity' must be from 0 to 2, got 3"),
        (["bake", "--object", "F", "--smoothing", "nan"], "option '--smoothing' must be a number"),
        (["bake", "--object", "F", "--gaze-amount", "2.5"], "option '--gaze-amount' must be from 0 to 2"),
        (["bake", "--object", "F", "--gaze", "--no-gaze"], "not allowed with argument"),
        (["bake", "--object", "F", "--audio", "a.wav", "--strip", "voice"], "not allowed with argument"),
        (["bake", "--object", "F", "--output", "out"], "option '--output' must be a .blend file path"),
        (["bake", "--object", "F", "--blend", "shot.txt"], "option '--blend' must be a .blend file"),
        (["bake", "--object", " ", "--prompt", "x"], "option '--object' is empty"),
        (["bake", "--object", "F", "--frobnicate"], "unrecognized arguments: --frobnicate"),
        (["jobs"], "name the jobs file"),
        (
            ["jobs", "a.csv", "--rows", "x-3"],
            "--rows takes A-B (jobs A to B, 1-based), A- (A to the end) or A",
        ),
        (
            ["jobs", "a.csv", "--rows", "0-3"],
            "--rows 0-3: the first row is 1 or more and the last is not before",
        ),
        (["jobs", "a.csv", "--rows", "5-4"], "--rows 5-4: the first row is 1 or more"),
        (["jobs", "a.csv", "--rows", "1-2-3"], "--rows takes A-B"),
        (["jobs", "a.csv", "--rows", ""], "--rows takes A-B"),
    ],
)
def test_usage_errors_say_what_is_wrong_with_the_usage_line(argv, expected):
    with pytest.raises(UsageError) as info:
        parse_command(argv)
    text = str(info.value)
    assert expected in text
    assert "usage: blender --background SHOT.blend --command expclip" in text


@pytest.mark.parametrize("argv", [["--help"], ["-h"], ["bake", "--help"], ["jobs", "-h"]])
def test_help_is_a_command_not_an_exit(argv):
    cmd = parse_command(argv)
    assert cmd.action == "help"
    assert cmd.text.startswith("usage: blender --background SHOT.blend --command expclip")
    if argv[0] == "bake":
        assert "--object NAME" in cmd.text and "--output FILE" in cmd.text


def test_jobs_argument_is_resolved_against_the_current_folder(tmp_path):
    cmd = parse_command(["jobs", "shots.csv"], cwd=tmp_path)
    assert (cmd.action, cmd.jobs_file, cmd.rows) == ("jobs", tmp_path / "shots.csv", None)


@pytest.mark.parametrize(
    ("text", "rows"), [("11-20", (11, 20)), ("3-", (3, None)), ("7", (7, 7)), (" 2 - 2 ", (2, 2))]
)
def test_rows_are_a_first_and_last_job(text, rows):
    assert parse_rows(text) == rows
    assert parse_command(["jobs", "shots.csv", "--rows", text]).rows == rows


def test_selected_rows_keep_their_labels_and_numbers(tmp_path):
    path = tmp_path / "shots.csv"
    path.write_text(
        "blend,object,output\n# a comment\na.blend,Face,x/a.blend\nb.blend,Face,\nc.blend,Face,x/c.blend\n",
        encoding="utf-8",
    )
    entries = read_jobs(path)
    assert [(e.number, e.label) for e in entries] == [(1, "shots.csv row 3"), (2, "shots.csv row 4"),
                                                      (3, "shots.csv row 5")]  # fmt: skip
    assert [(e.number, e.label) for e in select_rows(entries, (2, 3), path)] == [
        (2, "shots.csv row 4"),
        (3, "shots.csv row 5"),
    ]
    chosen = select_rows(entries, (2, 2), path)
    assert [e.number for e in chosen] == [2] and "no output" in chosen[0].error  # still its own message
    assert [e.number for e in select_rows(entries, (1, None), path)] == [1, 2, 3]
    assert [e.number for e in select_rows(entries, (3, None), path)] == [3]
    for rows, asked in (((2, 4), "2-4"), ((4, None), "4-"), ((4, 9), "4-9")):
        with pytest.raises(JobsFileError) as info:
            select_rows(entries, rows, path)
        assert str(info.value) == (
            f"--rows {asked} asks for rows beyond the end of the jobs file '{path}', which has 3 row(s)"
        )


# --- one job's fields ------------------------------------------------------------------------------


def test_make_job_checks_each_field(tmp_path):
    base = {"blend": "a.blend", "object": "Face"}
    cases = {
        "promt": ("unknown field(s) 'promt'", {"promt": "x"}),
        "blend": ("field 'blend' is missing", {"blend": None}),
        "object": ("field 'object' must be an object name or a list of names", {"object": 3}),
        "both": ("fields 'strip' and 'audio' are both given", {"strip": "v", "audio": "a.wav"}),
        "intensity": ("field 'intensity' must be a number from 0 to 2, got 'x'", {"intensity": "x"}),
        "bool": ("field 'intensity' must be a number from 0 to 2, got True", {"intensity": True}),
        "blinks": ("field 'blinks' must be true or false, got 'maybe'", {"blinks": "maybe"}),
        "gaze": ("field 'gaze' must be true or false, got 2", {"gaze": 2}),
        "gaze_amount": (
            "field 'gaze_amount' must be a number from 0 to 2, got 'far'",
            {"gaze_amount": "far"},
        ),
        "gaze_range": ("field 'gaze_amount' must be from 0 to 2, got -1", {"gaze_amount": -1}),
        "prompt": ("field 'prompt' must be text, got 3", {"prompt": 3}),
        "preset": ("field 'preset' is empty", {"preset": " "}),
        "output": ("field 'output' is empty", {"output": ""}),
    }
    for name, (message, change) in cases.items():
        with pytest.raises(JobError, match=None) as info:
            make_job({**base, **change} if name != "blend" else {"object": "Face"}, tmp_path)
        assert message in str(info.value), name


def test_make_job_reads_spreadsheet_text(tmp_path):
    job = make_job(
        {
            "blend": "s.blend",
            "object": "Face; Teeth;Face",
            "intensity": " 0.5 ",
            "blinks": "No",
            "gaze": "off",
            "gaze_amount": " 1.5",
            "smoothing": "0",
            "output": "out/s.blend",
        },
        tmp_path,
    )
    assert job.objects == ("Face", "Teeth")
    assert (job.intensity, job.blinks, job.smoothing) == (0.5, False, 0.0)
    assert (job.gaze, job.gaze_amount) == (False, 1.5)
    assert job.blend == str(tmp_path / "s.blend")


# --- jobs files ------------------------------------------------------------------------------------


def _good(i: int) -> dict:
    return {"blend": f"shots/s{i}.blend", "object": "Face", "prompt": "happy", "output": f"out/s{i}.blend"}


def test_json_jobs_each_checked_on_its_own(tmp_path):
    jobs = [
        _good(1),
        {**_good(2), "intensity": 7},
        "not a job",
        {**_good(4), "promt": "typo"},
        {
            "object": ["Face", "Teeth"],
            "blend": "/abs/s5.blend",
            "preset": "Furious",
            "audio": "a/line.wav",
            "overwrite": True,
        },
    ]
    path = tmp_path / "jobs.json"
    path.write_text(json.dumps({"jobs": jobs}))
    entries = read_jobs(path)
    assert [e.label for e in entries] == [f"jobs.json job {i}" for i in range(1, 6)]
    assert [e.error is None for e in entries] == [True, False, False, False, True]
    assert entries[1].error == "field 'intensity' must be from 0 to 2, got 7"
    assert entries[2].error == "must be a JSON object, got 'not a job'"
    assert entries[3].error.startswith("unknown field(s) 'promt'")
    first, last = entries[0].job, entries[4].job
    assert first.blend == str(tmp_path / "shots" / "s1.blend")  # relative to the jobs file
    assert first.output == str(tmp_path / "out" / "s1.blend")
    assert last.objects == ("Face", "Teeth") and last.blend == "/abs/s5.blend" and last.preset == "Furious"
    assert last.overwrite and last.output is None and not first.overwrite
    assert last.audio == str(tmp_path / "a" / "line.wav")


def test_csv_jobs_name_their_row(tmp_path):
    path = tmp_path / "shots.csv"
    path.write_text(
        "\ufeffblend,object,audio,prompt,intensity,output\n"  # a spreadsheet's byte-order mark
        "# comment lines and blank lines are skipped\n"
        's1.blend,Face,line1.wav,"calm, then tense",0.8,out/s1.blend\n'
        "\n"
        "s2.blend,Face,,happy,loud,\n"
        "s3.blend,Face,line3.wav,sad,1,out/s3.blend,extra\n"
        ",Face,line4.wav,sad,,\n",
        encoding="utf-8",
    )
    entries = read_jobs(path)
    assert [e.label for e in entries] == [f"shots.csv row {n}" for n in (3, 5, 6, 7)]
    job = entries[0].job
    assert (job.prompt, job.intensity, job.output) == (
        "calm, then tense",
        0.8,
        str(tmp_path / "out/s1.blend"),
    )
    assert job.audio == str(tmp_path / "line1.wav")
    assert entries[1].error == "field 'intensity' must be a number from 0 to 2, got 'loud'"
    assert entries[2].error.startswith(
        "7 cells, expected 6 (blend, object, audio, prompt, intensity, output)"
    )
    assert entries[3].error == "field 'blend' is missing (the shot's .blend file)"


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("jobs.txt", "x", "use a .json or .csv file"),
        ("jobs.json", "[{", "is not valid JSON (line 1, column 3"),
        ("jobs.json", '{"shots": []}', "the top level must be a list of jobs"),
        ("jobs.json", "[]", "has no jobs"),
        ("jobs.csv", "", "is empty: the first row names the columns"),
        ("jobs.csv", "blend,object\n", "has no jobs"),
        ("jobs.csv", "blend,obj,prompt\ns.blend,Face,x\n", "row 1: unknown column(s) 'obj'"),
        ("jobs.csv", "blend,object,blend\n", "row 1: a repeated column"),
    ],
)
def test_unusable_jobs_files(tmp_path, name, text, expected):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(JobsFileError) as info:
        read_jobs(path)
    assert expected in str(info.value)
    assert name in str(info.value)


def test_missing_and_binary_jobs_files(tmp_path):
    with pytest.raises(JobsFileError, match="does not exist"):
        read_jobs(tmp_path / "nope.json")
    (tmp_path / "bin.csv").write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(JobsFileError, match="is not UTF-8 text"):
        read_jobs(tmp_path / "bin.csv")
    (tmp_path / "dir.json").mkdir()
    with pytest.raises(JobsFileError, match="is a folder"):
        read_jobs(tmp_path / "dir.json")


def test_the_fields_are_the_documented_ones():
    doc = (Path(__file__).resolve().parent.parent / "docs" / "batch.md").read_text(encoding="utf-8")
    for name in FIELDS:
        assert f"`{name}`" in doc, name


def test_a_stray_quote_fails_its_row_and_never_swallows_the_next(tmp_path):
    """Found in production: the open quote took the output and every later row into one prompt."""
    path = tmp_path / "shots.csv"
    path.write_text(
        "blend,object,prompt,output\n"
        'shots/qx.blend,Face,"furious,out/qx.blend\n'
        "shots/a.blend,Face,calm,out/a.blend\n"
        "shots/b.blend,Face,sad,out/b.blend\n",
        encoding="utf-8",
    )
    entries = read_jobs(path)
    assert [e.label for e in entries] == [f"shots.csv row {n}" for n in (2, 3, 4)]
    assert entries[0].job is None
    assert entries[0].error == (
        "a quoted field is not closed on its line (a stray '\"'?); fields cannot span lines"
    )
    assert [e.job.prompt for e in entries[1:]] == ["calm", "sad"]
    assert entries[2].job.output == str(tmp_path / "out" / "b.blend")


def test_quoted_fields_and_line_breaks_inside_them(tmp_path):
    path = tmp_path / "shots.csv"
    path.write_text(
        'blend,object,prompt,output\ns1.blend,Face,"say ""no"", then sigh",o1.blend\n'
        's2.blend,Face,"first line\rsecond",o2.blend\r\n'
        's3.blend,Face,"spans\nlines",o3.blend\n',
        encoding="utf-8",
        newline="",
    )
    entries = read_jobs(path)
    assert entries[0].job.prompt == 'say "no", then sigh'
    assert entries[1].error == "a line break inside a field; fields cannot span lines"
    assert [e.label for e in entries[2:]] == ["shots.csv row 4", "shots.csv row 5"]
    assert "fields cannot span lines" in entries[2].error
    assert entries[3].error.startswith("2 cells, expected 4")  # the rest of the field is a row of its own


def test_every_csv_row_has_the_header_columns(tmp_path):
    path = tmp_path / "shots.csv"
    path.write_text("blend,object,prompt,output\ns1.blend,Face,calm\ns2.blend,Face,calm,o.blend\n")
    entries = read_jobs(path)
    assert entries[0].error == (
        "3 cells, expected 4 (blend, object, prompt, output): a comma in an unquoted value, or a missing one?"
    )
    assert entries[1].job is not None


def test_a_broken_header_row_names_the_row(tmp_path):
    path = tmp_path / "shots.csv"
    path.write_text('# jobs\nblend,"object,prompt\ns.blend,Face,x\n')
    with pytest.raises(JobsFileError, match=r"shots.csv' row 2: a quoted field is not closed on its line"):
        read_jobs(path)


def test_a_job_never_saves_over_its_blend_unless_it_says_overwrite(tmp_path):
    (tmp_path / "shots").mkdir()
    (tmp_path / "shots" / "s.blend").write_bytes(b"BLENDER")
    os.symlink(tmp_path / "shots" / "s.blend", tmp_path / "link.blend")
    path = tmp_path / "jobs.json"
    shot = {"blend": "shots/s.blend", "object": "Face"}
    path.write_text(
        json.dumps(
            [
                shot,
                {**shot, "output": "shots/../shots/s.blend"},
                {**shot, "output": "//s.blend"},
                {**shot, "output": "link.blend"},
                {**shot, "overwrite": False, "output": "out.blend"},
                {**shot, "overwrite": True},
                {**shot, "overwrite": "yes", "output": "//s.blend"},
            ]
        )
    )
    entries = read_jobs(path)
    blend = tmp_path / "shots" / "s.blend"
    assert entries[0].error == (
        f"The job has no output, so it would save over its own .blend '{blend}': give an 'output' "
        "(a new .blend), or set 'overwrite' to true to save over the shot."
    )
    assert entries[1].error.startswith(f"The job has the output '{blend}', so it would save over")
    assert entries[2].error.startswith(f"The job has the output '{blend}', so it would save over")
    assert "so it would save over its own .blend" in entries[3].error  # a link to the shot is the shot
    assert [e.error for e in entries[4:]] == [None] * 3
    assert [e.job.overwrite for e in entries[4:]] == [False, True, True]


def test_blender_relative_outputs_are_relative_to_the_jobs_blend(tmp_path):
    from expclip_blender.jobs import blend_relative, save_target

    job = make_job({"blend": "shots/s.blend", "object": "F", "output": "//rel/../baked/s.blend"}, tmp_path)
    assert job.output == str(tmp_path / "shots" / "baked" / "s.blend")
    assert blend_relative("//a.blend", "/proj/shots/s.blend") == "/proj/shots/a.blend"
    assert blend_relative("/abs/a.blend", "/proj/s.blend") == "/abs/a.blend"
    bake = parse_command(["bake", "--object", "F", "--output", "//out.blend"], cwd=tmp_path).job
    assert bake.output == "//out.blend" and bake.overwrite  # the open .blend is known inside Blender only
    assert save_target(bake, "/proj/shots/s.blend") == "/proj/shots/out.blend"
    with pytest.raises(JobError, match=r"relative to the shot's \.blend \('//'\), but no \.blend is open"):
        save_target(bake, "")
    with pytest.raises(JobError, match="field 'blend' cannot start with '//'"):
        make_job({"blend": "//s.blend", "object": "F", "output": "o.blend"}, tmp_path)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
def test_a_fifo_jobs_file_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "jobs.csv"
    os.mkfifo(fifo)
    with pytest.raises(JobsFileError, match="is not a regular file \\(a pipe, device or socket\\)"):
        within(5, lambda: read_jobs(fifo), fifo)
