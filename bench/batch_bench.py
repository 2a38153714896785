#!/usr/bin/python3
"""make bench: the dataset workflow and the Python package (issue 19).

  1. N simulated seed movies (256 x 256, 100 frames, 20 tracks, 2000 photons;
     default N = 200) through classical.json and both evaluators with
     `spotflow batch --jobs 2`: wall time against the sum of the movies'
     single-run CPU time / 2 (target <= 1.2), and the engine's own CPU
     (snakemake + per-movie wrapper) beside it.
  2. spotflow.run of classical.json on one seed movie against `spotflow run`
     (median of R alternating runs each; target within 5 %).
  3. The DataFrame of 1 M detections from the captured Arrow columns
     (target <= 0.2 s).

  PYTHONPATH=build/python bench/batch_bench.py --spotflow build/bin/spotflow --work build/bench_batch [--movies 200]
"""
import argparse
import csv
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLASSICAL = os.path.join(REPO, "examples", "recipes", "classical.json")


def load():
    return os.getloadavg()[0]


def children_cpu():
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def bench_batch(exe, work, n):
    data = os.path.join(work, "data{}".format(n))
    if not os.path.isdir(os.path.join(data, "sample_{:03d}".format(n - 1))):
        subprocess.run([exe, "simulate", "--output", data, "--num_samples", str(n), "--quiet"], check=True)
    out = os.path.join(work, "batch{}".format(n))
    shutil.rmtree(out, ignore_errors=True)
    load0, cpu0, t0 = load(), children_cpu(), time.monotonic()
    p = subprocess.run([exe, "batch", CLASSICAL, data, "--out", out, "--jobs", "2"], capture_output=True, text=True)
    wall, cpu = time.monotonic() - t0, children_cpu() - cpu0
    if p.returncode != 0:
        sys.exit("batch failed: " + p.stderr[-2000:])
    with open(os.path.join(out, "dataset_scores.csv")) as f:
        rows = list(csv.DictReader(f))
    movie_cpu = sum(float(r["cpu_seconds"]) for r in rows)
    movie_wall = sum(float(r["wall_seconds"]) for r in rows)
    with open(os.path.join(out, "dataset_summary.csv")) as f:
        summary = {r["metric"]: r for r in csv.DictReader(f)}
    return {"movies": len(rows), "wall_s": wall, "sum_movie_cpu_s": movie_cpu, "sum_movie_wall_s": movie_wall,
            "ratio": wall / (movie_cpu / 2), "batch_total_cpu_s": cpu, "engine_cpu_s": cpu - movie_cpu,
            "load_before": load0, "load_after": load(), "summary": summary, "out": out}


def bench_python_vs_cli(exe, work, repeats):
    import spotflow

    data = os.path.join(work, "data1")
    if not os.path.isdir(os.path.join(data, "sample_000")):
        subprocess.run([exe, "simulate", "--output", data, "--num_samples", "1", "--quiet"], check=True)
    movie = os.path.join(data, "sample_000", "movie.tif")
    cli, py = [], []
    for i in range(repeats):
        t0 = time.monotonic()
        subprocess.run([exe, "run", CLASSICAL, "--input", "movie=" + movie, "--out", os.path.join(work, "cli"),
                        "--threads", "2", "--quiet"], check=True)
        cli.append(time.monotonic() - t0)
        t0 = time.monotonic()
        spotflow.run(CLASSICAL, inputs={"movie": movie}, out=os.path.join(work, "py"), threads=2)
        py.append(time.monotonic() - t0)
    return {"cli_median_s": statistics.median(cli), "python_median_s": statistics.median(py),
            "ratio": statistics.median(py) / statistics.median(cli), "cli": cli, "python": py}


def bench_dataframe(work, rows=1_000_000):
    import numpy as np
    import spotflow
    from spotflow import _spotflow

    path = os.path.join(work, "detections_1M.csv")
    if not os.path.exists(path):
        rng = np.random.default_rng(0)
        with open(path, "w") as f:
            f.write("frame,x,y,photons,background,sigma,uncertainty,probability\n")
            frame = np.repeat(np.arange(rows // 100), 100)
            m = np.column_stack([rng.uniform(0, 256, rows), rng.uniform(0, 256, rows), rng.normal(2000, 200, rows),
                                 rng.normal(100, 5, rows), rng.normal(1.3, 0.05, rows), rng.uniform(0.01, 0.1, rows),
                                 rng.uniform(0, 1, rows)])
            for fr, r in zip(frame, m):
                f.write("{},{}\n".format(fr, ",".join("{:.5f}".format(v) for v in r)))
    recipe = os.path.join(work, "read_detections.json")
    with open(recipe, "w") as f:
        json.dump({"spotflow_recipe": 1, "name": "read", "inputs": {"table": {}},
                   "nodes": [{"id": "read", "plugin": "read.detections_csv", "params": {"path": "${inputs.table}"}}]}, f)
    _, tables, _ = _spotflow.run(recipe, {"table": path}, [], None, os.path.join(work, "df"), 2, [], False, True, ["bench"])
    (cols, n), = tables.values()
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        df = spotflow.table_to_dataframe(cols, n)
        best = min(best, time.perf_counter() - t0)
    shares = all(np.shares_memory(df[name].to_numpy(), values) for name, values, _ in cols if hasattr(values, "dtype"))
    return {"rows": n, "columns": len(cols), "best_of_5_s": best, "zero_copy": shares}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--spotflow", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--movies", type=int, default=200)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--skip-batch", action="store_true")
    a = ap.parse_args()
    exe = os.path.abspath(a.spotflow)
    os.makedirs(a.work, exist_ok=True)
    print("nproc {}, load {:.1f}".format(os.cpu_count(), load()))
    df = bench_dataframe(a.work)
    print("DataFrame of {rows} detections ({columns} columns): {best_of_5_s:.4f} s (best of 5; target <= 0.2 s), "
          "columns views of the captured buffers: {zero_copy}".format(**df))
    pc = bench_python_vs_cli(exe, a.work, a.repeats)
    print("classical.json on the seed movie, median of {}: CLI {:.3f} s, Python {:.3f} s, ratio {:.3f} (target within 5 %)".format(
        a.repeats, pc["cli_median_s"], pc["python_median_s"], pc["ratio"]))
    print("   CLI runs", " ".join("{:.2f}".format(x) for x in pc["cli"]), "| Python runs", " ".join("{:.2f}".format(x) for x in pc["python"]))
    if not a.skip_batch:
        b = bench_batch(exe, a.work, a.movies)
        print("spotflow batch, {movies} movies, classical.json + both evaluators, --jobs 2: {wall_s:.1f} s wall; "
              "sum of the movies' CPU {sum_movie_cpu_s:.1f} s, /2 = {half:.1f} s; ratio {ratio:.2f} (target <= 1.2); "
              "engine CPU (snakemake, wrappers) {engine_cpu_s:.1f} s; load {load_before:.1f} -> {load_after:.1f}".format(
                  half=b["sum_movie_cpu_s"] / 2, **b))
        for m in ("det_precision", "det_recall", "det_f1", "det_rmse_lateral_px", "trk_alpha", "trk_beta", "trk_jsc",
                  "trk_jsc_theta", "trk_rmse_px", "wall_seconds", "cpu_seconds", "peak_memory_mb"):
            r = b["summary"].get(m)
            if r:
                print("  {:<22} n={:<4} mean {:.4f} sd {:.4f} 95% CI [{:.4f}, {:.4f}]".format(
                    m, r["n"], float(r["mean"]), float(r["sd"]), float(r["ci95_low"]), float(r["ci95_high"])))


if __name__ == "__main__":
    main()
