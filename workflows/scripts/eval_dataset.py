#!/usr/bin/python3
"""`spotflow eval RECIPE DIR|MANIFEST --out OUT`: the dataset evaluation of
the Snakefile for small sets, without Snakemake: the movies one after the
other (run_movie.py, as the workflow's jobs), then the same dataset tables
(aggregate.py). No incremental re-runs, no cluster: use `spotflow batch`
for those. A failed movie is reported and skipped; the tables then cover the
others and the exit code is 1.
"""
import argparse
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import aggregate  # noqa: E402
import dataset  # noqa: E402
import recipe_info  # noqa: E402


def main():
    ap = argparse.ArgumentParser(prog="spotflow eval", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("recipe")
    ap.add_argument("movies")
    ap.add_argument("--out", required=True)
    ap.add_argument("--spotflow", required=True)
    ap.add_argument("--evaluate", default=os.path.join(os.path.dirname(os.path.dirname(HERE)), "examples", "recipes", "evaluate.json"))
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--set", action="append", default=[])
    ap.add_argument("--input", default=None)
    ap.add_argument("--bootstrap", type=int, default=2000)
    ap.add_argument("--bootstrap-seed", type=int, default=0)
    a = ap.parse_args()
    try:
        info = recipe_info.read(os.path.abspath(a.recipe), a.input)
        movies = dataset.read(a.movies)
    except (recipe_info.RecipeError, dataset.DatasetError) as e:
        print("spotflow: error: {}".format(e), file=sys.stderr)
        return 2
    out = os.path.abspath(a.out)
    os.makedirs(out, exist_ok=True)
    done, failed = [], []
    for k, m in enumerate(movies, start=1):
        folder = os.path.join(out, m["stem"])
        tmp = os.path.join(out, "." + m["stem"] + ".partial")
        shutil.rmtree(tmp, ignore_errors=True)
        cmd = [sys.executable, os.path.join(HERE, "run_movie.py"), "--spotflow", a.spotflow, "--recipe",
               os.path.abspath(a.recipe), "--evaluate", a.evaluate, "--stem", m["stem"], "--out", tmp,
               "--threads", str(a.threads), "--log", os.path.join(out, "logs", m["stem"] + ".log"),
               "--bind", "{}={}".format(info["movie_input"], m["movie"])]
        if m["calcium"] and info["calcium_input"]:
            cmd += ["--bind", "{}={}".format(info["calcium_input"], m["calcium"])]
        if m["truth"]:
            cmd += ["--truth", m["truth"]] + (["--truth-in-recipe"] if info["truth_input"] else [])
        for s in a.set:
            cmd += ["--set", s]
        t0 = time.monotonic()
        p = subprocess.run(cmd, stderr=subprocess.PIPE, text=True)
        if p.returncode == 0:
            # The movie's folder is replaced only by a run that succeeded.
            shutil.rmtree(folder, ignore_errors=True)
            os.rename(tmp, folder)
            done.append(folder)
            print("[{}/{}] {}: ok ({:.1f} s)".format(k, len(movies), m["stem"], time.monotonic() - t0), file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
            line = (p.stderr.strip().splitlines() or ["failed"])[-1]
            failed.append((m["stem"], line))
            print("[{}/{}] {}: failed: {}".format(k, len(movies), m["stem"], line), file=sys.stderr)
    if done:
        aggregate.aggregate(out, done, a.bootstrap, a.bootstrap_seed, info["name"])
    print("spotflow eval: {} of {} movies done, {} failed{}".format(
        len(done), len(movies), len(failed), "; " + os.path.join(out, "dataset_summary.csv") if done else ""), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
