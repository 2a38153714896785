"""spotflow batch and workflows/Snakefile on a few tiny simulated movies:
dataset tables, incremental re-runs, a failing movie, bad input, the SLURM
profile (dry run)."""
import csv
import json
import os
import shutil
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLASSICAL = os.path.join(REPO, "examples", "recipes", "classical.json")
SNAKEFILE = os.path.join(REPO, "workflows", "Snakefile")
sys.path.insert(0, os.path.join(REPO, "workflows", "scripts"))


def exe():
    e = os.environ.get("SPOTFLOW")
    if not e:
        pytest.skip("SPOTFLOW (the CLI) is not set")
    return e


def spotflow(*args):
    return subprocess.run([exe()] + list(args), capture_output=True, text=True)


def simulate(folder, n, seed=0):
    p = spotflow("simulate", "--output", str(folder), "--num_samples", str(n), "--num_tracks", "3", "--num_frames", "10",
                 "--image_size", "40", "--seed", str(seed), "--quiet")
    assert p.returncode == 0, p.stderr


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    d = tmp_path_factory.mktemp("batch") / "data"
    simulate(d, 3)
    return d


def errors(p):
    return [l for l in p.stderr.splitlines() if "error:" in l]


def test_batch_folder_then_incremental(data, tmp_path):
    out = tmp_path / "out"
    p = spotflow("batch", CLASSICAL, str(data), "--out", str(out), "--jobs", "2")
    assert p.returncode == 0, p.stderr[-3000:]
    assert "3 of 3 movies done, 0 failed" in p.stderr
    rows = read_csv(out / "dataset_scores.csv")
    assert [r["stem"] for r in rows] == ["sample_000", "sample_001", "sample_002"]
    for r in rows:
        assert r["status"] == "ok"
        assert 0 <= float(r["det_f1"]) <= 1 and 0 <= float(r["trk_alpha"]) <= 1
        assert float(r["wall_seconds"]) > 0 and float(r["peak_memory_mb"]) > 0
    summary = {r["metric"]: r for r in read_csv(out / "dataset_summary.csv")}
    f1 = [float(r["det_f1"]) for r in rows]
    assert abs(float(summary["det_f1"]["mean"]) - sum(f1) / 3) < 1e-9
    assert int(summary["det_f1"]["n"]) == 3
    assert float(summary["det_f1"]["ci95_low"]) <= float(summary["det_f1"]["mean"]) <= float(summary["det_f1"]["ci95_high"])
    assert (out / "dataset_scores.png").stat().st_size > 1000
    runs = json.loads((out / "dataset_runs.json").read_text())
    assert runs["movies"]["sample_001"]["run"]["status"] == "ok"
    assert (out / "sample_000" / "tracks.csv").exists() and (out / "sample_000" / "scores" / "run.json").exists()

    # Nothing new: nothing runs. A new movie: only it runs.
    first = (out / "sample_000" / "job.json").stat().st_mtime_ns
    p = spotflow("batch", CLASSICAL, str(data), "--out", str(out), "--jobs", "2")
    assert p.returncode == 0 and "Nothing to be done" in p.stdout + p.stderr
    extra = tmp_path / "extra"
    simulate(extra, 1, seed=9)
    shutil.copytree(extra / "sample_000", data / "sample_003")
    try:
        p = spotflow("batch", CLASSICAL, str(data), "--out", str(out), "--jobs", "2")
        assert p.returncode == 0, p.stderr[-3000:]
        assert (out / "sample_000" / "job.json").stat().st_mtime_ns == first
        assert len(read_csv(out / "dataset_scores.csv")) == 4
        assert "4 of 4 movies done" in p.stderr
        assert p.stderr.count("run_movie.py") == 1 or p.stdout.count("run_movie.py") == 1
    finally:
        shutil.rmtree(data / "sample_003")


def test_failing_movie_fails_only_its_job(data, tmp_path):
    bad = tmp_path / "bad.tif"
    bad.write_bytes(b"II*\x00" + b"\x00" * 64)
    manifest = tmp_path / "movies.csv"
    manifest.write_text("movie,truth,stem\n{0}/sample_000/movie.tif,{0}/sample_000/ground_truth_tracks.csv,a\n"
                        "{1},,bad\n{0}/sample_001/movie.tif,,b\n".format(data, bad))
    out = tmp_path / "out"
    p = spotflow("batch", CLASSICAL, str(manifest), "--out", str(out), "--jobs", "2")
    assert p.returncode != 0
    assert "2 of 3 movies done, 1 failed" in p.stderr
    assert "bad: spotflow: error:" in p.stderr  # the movie's own error line
    assert (out / "a" / "job.json").exists() and (out / "b" / "job.json").exists()
    assert not (out / "bad").exists()
    assert not (out / "dataset_summary.csv").exists()
    assert (out / "a" / "scores" / "tracking_scores.csv").exists()  # truth given: scored
    assert not (out / "b" / "scores").exists()                     # no truth: not scored


def test_folder_without_movies(tmp_path):
    (tmp_path / "empty").mkdir()
    p = spotflow("batch", CLASSICAL, str(tmp_path / "empty"), "--out", str(tmp_path / "o"))
    assert p.returncode == 2
    assert "no movies" in p.stderr and len(p.stderr.strip().splitlines()) == 1, p.stderr  # no traceback after it
    assert not (tmp_path / "o").exists()  # bad input leaves no output folder


def test_manifest_naming_missing_files(data, tmp_path):
    manifest = tmp_path / "m.csv"
    manifest.write_text("movie,truth\n{0}/sample_000/movie.tif,\n{0}/nope.tif,\n".format(data))
    p = spotflow("batch", CLASSICAL, str(manifest), "--out", str(tmp_path / "o"))
    assert p.returncode != 0
    line = [l for l in errors(p) if "nope.tif" in l]
    assert line and "line 3" in line[0] and "column 'movie'" in line[0], p.stderr
    assert len(p.stderr.strip().splitlines()) == 1, p.stderr
    assert not (tmp_path / "o").exists()


def test_missing_profile(data, tmp_path):
    p = spotflow("batch", CLASSICAL, str(data), "--out", str(tmp_path / "o"), "--profile", "nosuch")
    assert p.returncode == 2
    assert len(errors(p)) == 1, p.stderr
    assert errors(p)[0].startswith("spotflow: error: profile 'nosuch': no such profile (")
    assert "known: local, slurm" in errors(p)[0]


def test_slurm_profile_dry_run(data, tmp_path):
    out = tmp_path / "o"
    p = subprocess.run(["snakemake", "-n", "--cores", "4", "--snakefile", SNAKEFILE, "--profile", os.path.join(REPO, "workflows", "profiles", "slurm"),
                        "--directory", str(tmp_path), "--config", "recipe=" + CLASSICAL, "movies=" + str(data),
                        "out=" + str(out), "spotflow=" + exe(), "threads=2"], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr[-3000:]
    text = p.stdout + p.stderr
    assert "movie" in text and "aggregate" in text
    assert text.count("--threads 2") == 3  # each movie job runs spotflow with its cores
    assert "mem_mb=1000" in text and "runtime=15" in text  # from workflows/resources.json
    assert not out.exists() or not any(out.iterdir())


def test_recipe_without_one_required_input(data, tmp_path):
    p = spotflow("batch", os.path.join(REPO, "examples", "recipes", "evaluate.json"), str(data), "--out", str(tmp_path / "o"))
    assert p.returncode != 0
    assert any("one required input" in l for l in errors(p)), p.stderr


def test_small_set_eval_without_snakemake(data, tmp_path):
    out = tmp_path / "e"
    p = spotflow("eval", CLASSICAL, str(data), "--out", str(out))
    assert p.returncode == 0, p.stderr
    rows = read_csv(out / "dataset_scores.csv")
    assert len(rows) == 3 and all(float(r["det_f1"]) >= 0 for r in rows)
    assert (out / "dataset_summary.csv").exists()
