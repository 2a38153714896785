#!/usr/bin/python3
"""Dataset tables from the per-movie folders of a dataset run.

  dataset_scores.csv   one row per movie: stem, status, wall_seconds,
                       cpu_seconds, peak_memory_mb, then every detection score
                       (det_*: the movie's `all` row of detection_scores.csv /
                       detection_metrics.csv) and every tracking score (trk_*:
                       tracking_scores.csv, one tracker)
  dataset_summary.csv  one row per numeric column of dataset_scores.csv:
                       n (movies with a value), mean, sd (n - 1), and the 95 %
                       percentile-bootstrap interval of the mean (B resamples
                       of the movies, seeded)
  dataset_scores.png   the distribution of the main scores over the movies, with
                       the mean and its 95 % interval
  dataset_runs.json    each movie's run.json (and its scoring run's), gathered

Used by the Snakefile's aggregate rule and by `spotflow_eval.py` (small sets).
"""
import argparse
import csv
import json
import math
import os
import sys

import numpy as np

DET_FILES = ("scores/detection_scores.csv", "detection_metrics.csv", "detection_scores.csv")
TRK_FILES = ("scores/tracking_scores.csv", "tracking_scores.csv")
MAIN_SCORES = [
    ("det_precision", "detection precision"), ("det_recall", "detection recall"), ("det_f1", "detection F1"),
    ("det_rmse_lateral_px", "detection lateral RMSE (px)"), ("trk_alpha", "tracking α"), ("trk_beta", "tracking β"),
    ("trk_jsc", "tracking JSC"), ("trk_jsc_theta", "tracking JSCθ"), ("trk_rmse_px", "tracking RMSE (px)"),
    ("wall_seconds", "time per movie (s)"), ("peak_memory_mb", "peak memory (MB)"),
]


def _number(v):
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f


def _read_rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def _first_existing(folder, names):
    for n in names:
        p = os.path.join(folder, n)
        if os.path.isfile(p):
            return p
    return None


def movie_row(folder):
    stem = os.path.basename(folder.rstrip("/"))
    row = {"stem": stem, "status": "missing"}
    job_path = os.path.join(folder, "job.json")
    if os.path.isfile(job_path):
        with open(job_path) as f:
            job = json.load(f)
        row.update({"status": job.get("status", "ok"), "wall_seconds": job.get("wall_seconds"),
                    "cpu_seconds": job.get("cpu_seconds"), "peak_memory_mb": job.get("peak_memory_mb")})
    det = _first_existing(folder, DET_FILES)
    if det:
        rows = _read_rows(det)
        pick = [r for r in rows if r.get("sample") == "all"] or rows[-1:]
        for k, v in (pick[0].items() if pick else []):
            if k != "sample" and _number(v) is not None:
                row["det_" + k] = _number(v)
    trk = _first_existing(folder, TRK_FILES)
    if trk:
        rows = _read_rows(trk)
        for k, v in (rows[0].items() if rows else []):
            if _number(v) is not None:
                row["trk_" + k] = _number(v)
    return row


def bootstrap_ci(values, resamples, rng):
    if len(values) < 2:
        return (float("nan"), float("nan"))
    idx = rng.integers(0, len(values), size=(resamples, len(values)))
    means = values[idx].mean(axis=1)
    return (float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5)))


def summarise(rows, resamples, seed):
    columns = []
    for r in rows:
        for k in r:
            if k not in columns:
                columns.append(k)
    numeric = [c for c in columns if c not in ("stem", "status")]
    rng = np.random.default_rng(seed)
    out = []
    for c in numeric:
        vals = np.array([r[c] for r in rows if isinstance(r.get(c), (int, float)) and not math.isnan(r[c])], dtype=float)
        if len(vals) == 0:
            continue
        lo, hi = bootstrap_ci(vals, resamples, rng)
        out.append({"metric": c, "n": len(vals), "mean": float(vals.mean()),
                    "sd": float(vals.std(ddof=1)) if len(vals) > 1 else float("nan"),
                    "ci95_low": lo, "ci95_high": hi})
    return columns, out


def write_csv(path, fieldnames, rows):
    tmp = path + ".partial"
    with open(tmp, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fieldnames, extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow({k: ("" if v is None else (repr(v) if isinstance(v, float) else v)) for k, v in r.items()})
    os.replace(tmp, path)


def figure(path, rows, title, summary=()):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ci = {r["metric"]: (r["ci95_low"], r["ci95_high"]) for r in summary}
    shown = [(k, label) for k, label in MAIN_SCORES if any(isinstance(r.get(k), float) and not math.isnan(r[k]) for r in rows)]
    if not shown:
        shown = [("wall_seconds", "time per movie (s)")]
    ncol = min(4, len(shown))
    nrow = int(math.ceil(len(shown) / ncol))
    fig, axes = plt.subplots(nrow, ncol, figsize=(3.6 * ncol, 2.9 * nrow), squeeze=False)
    for ax in axes.flat[len(shown):]:
        ax.axis("off")
    for ax, (k, label) in zip(axes.flat, shown):
        vals = np.array([r[k] for r in rows if isinstance(r.get(k), (int, float)) and not math.isnan(r[k])], dtype=float)
        if len(vals) == 0:
            ax.set_title(label + ": no values", fontsize=9)
            continue
        ax.hist(vals, bins=min(30, max(5, len(vals) // 4)), color="#4878a8", edgecolor="white")
        if k in ci and not math.isnan(ci[k][0]):
            ax.axvspan(ci[k][0], ci[k][1], color="#c44e52", alpha=0.15, lw=0, zorder=0, label="95 % CI of the mean")
        ax.axvline(vals.mean(), color="#c44e52", lw=1.5, label="mean {:.4g}".format(vals.mean()))
        ax.set_title(label, fontsize=9)
        ax.set_ylabel("movies", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=7, frameon=False)
    fig.suptitle("{} ({} movies)".format(title, len(rows)), fontsize=11)
    fig.tight_layout()
    tmp = path + ".partial.png"
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    os.replace(tmp, path)


def gather_runs(folders):
    runs = {}
    for d in folders:
        entry = {}
        for name, rel in (("run", "run.json"), ("scores", "scores/run.json"), ("job", "job.json")):
            p = os.path.join(d, rel)
            if os.path.isfile(p):
                with open(p) as f:
                    entry[name] = json.load(f)
        runs[os.path.basename(d.rstrip("/"))] = entry
    return runs


def aggregate(out, folders, resamples=2000, seed=0, title="dataset"):
    rows = [movie_row(d) for d in folders]
    columns, summary = summarise(rows, resamples, seed)
    write_csv(os.path.join(out, "dataset_scores.csv"), columns, rows)
    write_csv(os.path.join(out, "dataset_summary.csv"), ["metric", "n", "mean", "sd", "ci95_low", "ci95_high"], summary)
    figure(os.path.join(out, "dataset_scores.png"), rows, title, summary)
    tmp = os.path.join(out, ".dataset_runs.json.partial")
    with open(tmp, "w") as f:
        json.dump({"bootstrap": {"resamples": resamples, "seed": seed}, "movies": gather_runs(folders)}, f, indent=1)
    os.replace(tmp, os.path.join(out, "dataset_runs.json"))
    return rows, summary


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--bootstrap", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--recipe", default="")
    ap.add_argument("folders", nargs="+")
    a = ap.parse_args()
    title = os.path.splitext(os.path.basename(a.recipe))[0] if a.recipe else "dataset"
    aggregate(a.out, a.folders, a.bootstrap, a.seed, title)
    return 0


if __name__ == "__main__":
    sys.exit(main())
