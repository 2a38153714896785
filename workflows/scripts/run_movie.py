#!/usr/bin/python3
"""One movie of a dataset run (the Snakefile's `movie` rule).

Runs `spotflow run RECIPE --input NAME=MOVIE [...] --out OUT/<stem>` and, when
the movie has ground truth and the recipe does not take it itself, scores its
detections.csv / tracks.csv with the evaluate recipe into OUT/<stem>/scores.
Records wall time, CPU time and peak memory of the spotflow processes in
OUT/<stem>/job.json, written last: its presence means the movie is done.

On failure it prints spotflow's own error line (prefixed by the movie) and
exits non-zero; Snakemake then removes OUT/<stem> (this movie's folder only).
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time


def spotflow_run(cmd, log):
    """Runs one spotflow command; returns (exit code, last error line)."""
    log.write("$ " + " ".join(cmd) + "\n")
    log.flush()
    proc = subprocess.run(cmd, stdout=log, stderr=subprocess.PIPE, text=True)
    log.write(proc.stderr)
    log.flush()
    lines = proc.stderr.strip().splitlines()
    errors = [l for l in lines if "error:" in l]
    return proc.returncode, (errors[-1] if errors else (lines[-1] if lines else ""))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--spotflow", required=True)
    ap.add_argument("--recipe", required=True)
    ap.add_argument("--evaluate", default="")
    ap.add_argument("--stem", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--bind", action="append", default=[], help="NAME=PATH for the recipe")
    ap.add_argument("--truth", default="")
    ap.add_argument("--truth-in-recipe", action="store_true")
    ap.add_argument("--set", action="append", default=[])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--log", required=True)
    a = ap.parse_args()

    os.makedirs(os.path.dirname(os.path.abspath(a.log)), exist_ok=True)
    t0 = time.monotonic()
    with open(a.log, "w") as log:
        cmd = [a.spotflow, "run", a.recipe, "--out", a.out, "--threads", str(a.threads), "--quiet"]
        for b in a.bind:
            cmd += ["--input", b]
        if a.truth and a.truth_in_recipe:
            cmd += ["--input", "truth=" + a.truth]
        for s in a.set:
            cmd += ["--set", s]
        code, line = spotflow_run(cmd, log)
        if code != 0:
            print("movie {}: {}".format(a.stem, line or "spotflow run failed (exit {})".format(code)), file=sys.stderr)
            return 1
        scored = False
        if a.truth and not a.truth_in_recipe and a.evaluate:
            ev = [a.spotflow, "run", a.evaluate, "--out", os.path.join(a.out, "scores"), "--threads", str(a.threads),
                  "--quiet", "--input", "truth=" + a.truth]
            have = False
            for name, file in (("detections", "detections.csv"), ("tracks", "tracks.csv")):
                path = os.path.join(a.out, file)
                if os.path.exists(path):
                    ev += ["--input", "{}={}".format(name, path)]
                    have = True
            if have:
                code, line = spotflow_run(ev, log)
                if code != 0:
                    print("movie {} (scoring): {}".format(a.stem, line), file=sys.stderr)
                    return 1
                scored = True
    wall = time.monotonic() - t0
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    job = {
        "stem": a.stem,
        "status": "ok",
        "wall_seconds": round(wall, 4),
        "cpu_seconds": round(ru.ru_utime + ru.ru_stime, 4),
        "peak_memory_mb": round(ru.ru_maxrss / 1024.0, 1),  # Linux: KiB; the largest spotflow process
        "threads": a.threads,
        "scored": scored,
    }
    tmp = os.path.join(a.out, ".job.json.partial")
    with open(tmp, "w") as f:
        json.dump(job, f, indent=2)
    os.rename(tmp, os.path.join(a.out, "job.json"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
