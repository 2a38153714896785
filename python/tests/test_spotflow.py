"""The Python package: run, tables, tensors, errors, the GIL."""
import json
import sys
import os
import subprocess
import threading
import time

import numpy as np
import pandas as pd
import pytest

import spotflow
from conftest import RECIPES, spotflow_exe

CLASSICAL = os.path.join(RECIPES, "classical.json")


def cli_error(args):
    """The CLI's error line for the same request, without its prefix."""
    p = subprocess.run([spotflow_exe()] + args, capture_output=True, text=True)
    assert p.returncode != 0
    line = [l for l in p.stderr.splitlines() if l.startswith("spotflow: error: ")][0]
    return line[len("spotflow: error: "):]


def test_plugins_and_describe():
    ids = [p["id"] for p in spotflow.plugins()]
    assert "read.tiff" in ids and "detect.wavelet" in ids and "link.lap" in ids
    d = spotflow.describe("detect.wavelet")
    assert d["id"] == "detect.wavelet"
    assert "params_schema" in d and "properties" in d["params_schema"]
    assert [p["name"] for p in d["inputs"]] == ["movie"]


def test_describe_unknown_raises_the_cli_message():
    with pytest.raises(spotflow.Error) as e:
        spotflow.describe("no.such")
    assert str(e.value) == cli_error(["describe", "no.such"])


def test_run_classical_tables_match_the_files(small_movie, tmp_path):
    out = tmp_path / "run"
    r = spotflow.run(CLASSICAL, inputs={"movie": small_movie["movie"]}, out=out)
    assert r.out == str(out) and r.run_json["status"] == "ok"
    for key in ("detect.detections", "link.tracks", "gapfill.tracks", "summary.summary"):
        assert key in r.tables, sorted(r.tables)
    det = r.tables["detect.detections"]
    assert isinstance(det, pd.DataFrame) and len(det) > 0
    assert det["frame"].dtype == np.int64 and det["x"].dtype == np.float64
    # The same rows as the detections.csv the run wrote beside it.
    csv = pd.read_csv(out / "detections.csv")
    assert len(csv) == len(det)
    np.testing.assert_allclose(csv["x"].to_numpy(), det["x"].to_numpy(), rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(csv["frame"].to_numpy(), det["frame"].to_numpy())
    tracks = r.tables["gapfill.tracks"]
    written = pd.read_csv(out / "tracks.csv")
    assert len(written) == len(tracks)
    assert set(written["track_id"]) == set(tracks["track_id"])


def test_params_override_and_temporary_folder(small_movie):
    r = spotflow.run(CLASSICAL, inputs={"movie": small_movie["movie"]}, params={"detect.threshold": 1e9})
    out = r.out
    assert os.path.isdir(out)
    assert len(r.tables.get("detect.detections", pd.DataFrame())) == 0  # nothing passes that threshold
    del r
    assert not os.path.exists(out)  # the temporary folder goes with the Result


def test_tensors_through_dlpack(tmp_path):
    recipe = tmp_path / "sim.json"
    recipe.write_text(json.dumps({
        "spotflow_recipe": 1, "name": "sim", "seed": 5,
        "nodes": [{"id": "sim", "plugin": "sim.tirf",
                   "params": {"num_frames": 7, "image_size": 32, "num_tracks": 2}}]}))
    r = spotflow.run(recipe, out=tmp_path / "o")
    movie = r.tensors["sim.movie"]
    assert isinstance(movie, np.ndarray)
    assert movie.shape[0] == 7 and movie.shape[-2:] == (32, 32)
    assert movie.flags["C_CONTIGUOUS"] and movie.sum() > 0
    truth = r.tables["sim.truth"]
    assert set(truth["frame"]) <= set(range(7)) and len(truth) > 0
    # Seeded: the same movie again.
    again = spotflow.run(recipe, out=tmp_path / "o2")
    np.testing.assert_array_equal(again.tensors["sim.movie"], movie)


def test_missing_input_raises_the_cli_message(tmp_path):
    missing = str(tmp_path / "nope.tif")
    with pytest.raises(spotflow.Error) as e:
        spotflow.run(CLASSICAL, inputs={"movie": missing}, out=tmp_path / "o")
    assert str(e.value) == cli_error(["run", CLASSICAL, "--input", "movie=" + missing, "--out", str(tmp_path / "c")])
    assert "nope.tif" in str(e.value)


def test_failed_run_raises_and_leaves_no_output(tmp_path):
    bad = tmp_path / "bad.tif"
    bad.write_bytes(b"II*\x00" + b"\x00" * 64)  # a TIFF header and nothing readable
    out = tmp_path / "o"
    with pytest.raises(spotflow.Error) as e:
        spotflow.run(CLASSICAL, inputs={"movie": str(bad)}, out=out)
    assert "\n" not in str(e.value)
    assert str(e.value) == cli_error(["run", CLASSICAL, "--input", "movie=" + str(bad), "--out", str(tmp_path / "c")])
    assert not (out / "detections.csv").exists()


def test_bad_param_is_an_error(small_movie, tmp_path):
    with pytest.raises(spotflow.Error):
        spotflow.run(CLASSICAL, inputs={"movie": small_movie["movie"]}, params={"detect.no_such_param": 1},
                     out=tmp_path / "o")
    with pytest.raises(spotflow.Error, match="NODE.PARAM"):
        spotflow.run(CLASSICAL, inputs={"movie": small_movie["movie"]}, params={"threshold": 1})


def test_gil_released_while_running(small_movie, tmp_path):
    ticks = []
    stop = threading.Event()

    def count():
        while not stop.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.001)

    t = threading.Thread(target=count)
    t.start()
    try:
        t0 = time.perf_counter()
        spotflow.run(CLASSICAL, inputs={"movie": small_movie["movie"]}, out=tmp_path / "o", threads=1)
        t1 = time.perf_counter()
    finally:
        stop.set()
        t.join()
    during = [x for x in ticks if t0 < x < t1]
    # With the GIL held the counter would not tick at all while the run goes.
    assert (t1 - t0) < 0.05 or len(during) >= 0.3 * (t1 - t0) / 0.002


def test_dataframe_columns_are_views_of_the_buffers():
    n = 1000
    x = np.arange(n, dtype=np.float64)
    frame = np.arange(n, dtype=np.int64)
    df = spotflow.table_to_dataframe([("frame", frame, None), ("x", x, None), ("label", ["a"] * n, None)], n)
    assert np.shares_memory(df["x"].to_numpy(), x)
    assert np.shares_memory(df["frame"].to_numpy(), frame)
    assert list(df["label"][:2]) == ["a", "a"]


def test_nullable_int_column():
    values = np.array([1, 0, 3], dtype=np.int64)
    mask = np.array([False, True, False])
    df = spotflow.table_to_dataframe([("track_id", values, mask)], 3)
    assert str(df["track_id"].dtype) == "Int64"
    assert df["track_id"].isna().tolist() == [False, True, False]


def test_example_runs(tmp_path):
    example = os.path.join(os.path.dirname(RECIPES), "python", "track_simulated_movie.py")
    p = subprocess.run([sys.executable, example, str(tmp_path)], capture_output=True, text=True,
                       env=dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(spotflow.__file__))))
    assert p.returncode == 0, p.stderr[-2000:]
    assert "detection F1" in p.stdout and "spotflow.Error: input 'movie': no such file" in p.stdout
    assert (tmp_path / "tracked" / "tracks.csv").exists()
