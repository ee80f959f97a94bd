"""ARKit weight files: CSV, JSON and NPY round trips, Live Link Face columns, clear errors."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import numpy as np
import pytest

from expclip_blender import ARKIT_NAMES
from expclip_blender.weights_io import WeightsFileError, load_weights, save_weights


@pytest.mark.parametrize("suffix", [".csv", ".json", ".npy"])
def test_round_trip(tmp_path, suffix):
    weights = np.random.default_rng(0).random((45, 52)).astype(np.float32)
    path = tmp_path / f"w{suffix}"
    save_weights(path, weights, fps=25.0)
    loaded, fps = load_weights(path)
    np.testing.assert_allclose(loaded, weights, atol=1e-4)
    assert fps == (None if suffix == ".npy" else 25.0)


def test_live_link_face_csv_columns(tmp_path):
    path = tmp_path / "llf.csv"
    header = ["Timecode", "BlendShapeCount", "EyeBlinkLeft", "JawOpen", "HeadYaw"]
    path.write_text(",".join(header) + "\n" + "00:00:01:00.000,52,0.25,0.75,0.1\n", encoding="utf-8")
    weights, fps = load_weights(path)
    assert weights.shape == (1, 52) and fps is None
    assert weights[0, ARKIT_NAMES.index("eyeBlinkLeft")] == pytest.approx(0.25)
    assert weights[0, ARKIT_NAMES.index("jawOpen")] == pytest.approx(0.75)
    assert np.count_nonzero(weights) == 2


def test_bad_files(tmp_path):
    with pytest.raises(WeightsFileError, match="does not exist"):
        load_weights(tmp_path / "none.csv")
    (tmp_path / "x.txt").write_text("1", encoding="utf-8")
    with pytest.raises(WeightsFileError, match="unknown format"):
        load_weights(tmp_path / "x.txt")
    (tmp_path / "empty.csv").write_text("time,jawOpen\n", encoding="utf-8")
    with pytest.raises(WeightsFileError, match="no frames"):
        load_weights(tmp_path / "empty.csv")
    (tmp_path / "cols.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(WeightsFileError, match="no column named after an ARKit"):
        load_weights(tmp_path / "cols.csv")
    np.save(tmp_path / "shape.npy", np.zeros((3, 51)))
    with pytest.raises(WeightsFileError, match=r"expected \(frames, 52\)"):
        load_weights(tmp_path / "shape.npy")
    (tmp_path / "bad.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(WeightsFileError, match=r"bad\.json"):
        load_weights(tmp_path / "bad.json")


@pytest.mark.parametrize("fps", [23.976, 24.0, 29.97, 60.0, 12.5])
def test_csv_frame_rate_survives_rounded_time_stamps(tmp_path, fps):
    path = tmp_path / "w.csv"
    save_weights(path, np.zeros((500, 52), np.float32), fps=fps)
    assert load_weights(path)[1] == pytest.approx(fps, abs=1e-6)


def test_a_cut_off_csv_is_refused_naming_the_row(tmp_path):
    path = tmp_path / "take.csv"
    save_weights(path, np.full((4, 52), 0.5, np.float32), fps=30.0)
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: len(text) - 200], encoding="utf-8")  # a full disk stops the write mid-row
    with pytest.raises(WeightsFileError, match=r"row 5 has \d+ values but the header has 53 columns"):
        load_weights(path)


@pytest.mark.parametrize("suffix", [".csv", ".json"])
def test_non_finite_values_are_refused_naming_the_frame(tmp_path, suffix):
    path = tmp_path / f"take{suffix}"
    weights = np.full((4, 52), 0.5, np.float32)
    weights[2, 7] = np.inf
    save_weights(path, weights, fps=30.0)
    with pytest.raises(WeightsFileError, match=r"NaN or infinite values \(frame 3\)"):
        load_weights(path)


def test_a_short_json_frame_is_refused_naming_it(tmp_path):
    path = tmp_path / "take.json"
    frames = [[0.5] * 52, [0.5] * 30]
    path.write_text(json.dumps({"fps": 30, "names": list(ARKIT_NAMES), "frames": frames}), encoding="utf-8")
    with pytest.raises(WeightsFileError, match="frame 2 has 30 values for 52 names"):
        load_weights(path)


@pytest.mark.parametrize("suffix", [".csv", ".json", ".npy"])
def test_a_failed_write_leaves_the_old_file_and_no_partial_one(tmp_path, monkeypatch, suffix):
    from expclip_blender import weights_io

    path = tmp_path / f"take{suffix}"
    save_weights(path, np.full((3, 52), 0.25, np.float32), fps=30.0)
    before = path.read_bytes()

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(weights_io.os, "fsync", disk_full)  # the last step before the rename

    def npy_fills_the_disk(file, array):
        with open(file, "wb") if isinstance(file, str | Path) else contextlib.nullcontext(file) as out:
            out.write(b"\x93NUMPY")
            disk_full()

    monkeypatch.setattr(weights_io.np, "save", npy_fills_the_disk)
    monkeypatch.setattr(weights_io.json, "dumps", disk_full)
    real_writer = weights_io.csv.writer

    def writer_that_fills_the_disk(handle):
        inner, rows = real_writer(handle), []

        class Writer:
            def writerow(self, row):
                rows.append(row)
                if len(rows) > 2:
                    disk_full()
                inner.writerow(row)

        return Writer()

    monkeypatch.setattr(weights_io.csv, "writer", writer_that_fills_the_disk)
    with pytest.raises(OSError, match="No space"):
        save_weights(path, np.full((100, 52), 0.75, np.float32), fps=30.0)
    assert path.read_bytes() == before and sorted(tmp_path.iterdir()) == [path]
