#!/usr/bin/env python3
"""Scores link.lap's motion models against link.nearest and the plain
Brownian link.lap on sim.tirf movies of several regimes, through the CLI.

The plain Brownian link.lap of earlier versions is "lap.brownian_old" (its
old defaults stated: 5 px gate, 7 px gap gate, max_gap 2). Two passes per
regime and seed:
  1. sim.tirf -> detect.wavelet -> every linker -> eval.tracks (detections),
     and the truth written as CSV;
  2. the truth with Gaussian localisation noise added (sd `loc_sd` px per
     axis; its photons column kept) -> every linker -> eval.tracks.
Each linker's output has its own gaps filled with interpolated rows
(gapfill.fragments with max_gap 0: it joins nothing) and is scored with
eval.tracks' gate_px 2. Prints one table row per regime x input x linker,
averaged over the seeds.

MIN_TRACK_LENGTH=n in the environment makes eval.tracks drop predicted
tracks shorter than n points (default 1: every track counts).

usage: measure_linkers.py [--bin build/bin/spotflow] [--out /tmp/lapbench]
       [--seeds 1 2] [--regimes seed dense3 ...]
"""
import argparse
import csv
import json
import os
import random
import subprocess
import sys

REGIMES = {
    # (a) the seed's set-up
    "seed": dict(sim={}, detect={}, loc_sd=0.05),
    # (b) dense and fast, directed at 1 or 3 px/frame, births and deaths
    "dense1": dict(sim=dict(num_tracks=150, diffusion_px2_per_frame=1.5, directed_fraction=0.3,
                            speed_px_per_frame=1.0, mean_lifetime_frames=50), detect={}, loc_sd=0.05),
    "dense3": dict(sim=dict(num_tracks=150, diffusion_px2_per_frame=1.5, directed_fraction=0.3,
                            speed_px_per_frame=3.0, mean_lifetime_frames=50), detect={}, loc_sd=0.05),
    # (c) dim, blinking, EMCCD
    "dim": dict(sim=dict(image_size=192, num_tracks=8, photons=600, psf_sigma_px=1.6, background=40,
                         camera="emccd", em_gain=100, e_per_adu=20, baseline_adu=100, num_frames=120,
                         blink_off_probability=0.1, blink_on_probability=0.5, mean_lifetime_frames=60),
                detect={}, loc_sd=0.15),
    # confined / slow: nearly immobile puncta
    "slow": dict(sim=dict(num_tracks=60, diffusion_px2_per_frame=0.01, directed_fraction=0.0), detect={},
                 loc_sd=0.05),
    # pure directed: every punctum moves 2 px/frame, little diffusion
    "directed": dict(sim=dict(num_tracks=60, diffusion_px2_per_frame=0.05, directed_fraction=1.0,
                              speed_px_per_frame=2.0), detect={}, loc_sd=0.05),
}

LINKERS = [
    ("link.nearest", "link.nearest", {}),
    ("lap.brownian_old", "link.lap", dict(motion="brownian", max_distance=5.0, max_gap=2, max_gap_distance=7.0)),
    ("lap.brownian_learnt", "link.lap", dict(motion="brownian")),
    ("lap.constant_velocity", "link.lap", dict(motion="constant_velocity")),
    ("lap.imm", "link.lap", {}),
    # The shipped recipes' pipeline: link.lap's defaults, then
    # gapfill.fragments' defaults with fill_gaps linear (it joins fragments).
    ("pipeline", "link.lap", {}),
]


# Extra link.lap params for every link.lap node (trying values), JSON.
EXTRA = json.loads(os.environ.get("LAP_EXTRA", "{}"))
# LINKERS_ONLY="lap.imm pipeline": run only these labels.
ONLY = os.environ.get("LINKERS_ONLY", "").split()


def linker_nodes(source):
    nodes, edges = [], []
    for label, plugin, params in LINKERS:
        if ONLY and label not in ONLY:
            continue
        if plugin == "link.lap" and label != "lap.brownian_old":
            params = {**EXTRA, **params}
        nid = label.replace(".", "_")
        nodes.append({"id": nid, "plugin": plugin, "params": params})
        # Only fill each linker's own gaps with interpolated rows (as the
        # pipelines do), joining nothing: the challenge's alpha counts a gap
        # left open as misses whatever the linking.
        fill = {"fill_gaps": "linear", "figure": ""}
        if label != "pipeline":
            fill["max_gap"] = 0
        nodes.append({"id": nid + "_fill", "plugin": "gapfill.fragments", "params": fill})
        edges.append({"from": source, "to": nid + ".detections"})
        edges.append({"from": nid + ".tracks", "to": nid + "_fill.tracks"})
        edges.append({"from": nid + "_fill.tracks", "to": "score.tracks"})
    return nodes, edges


def score_node():
    return {"id": "score", "plugin": "eval.tracks",
            "params": {"labels": [l for l, _, _ in LINKERS if not ONLY or l in ONLY], "gate_px": 2.0,
                       "min_track_length": int(os.environ.get("MIN_TRACK_LENGTH", "1"))}}


def run(binary, recipe, out, path):
    with open(path, "w") as f:
        json.dump(recipe, f, indent=1)
    r = subprocess.run([binary, "run", path, "-o", out, "-q", "-j", "2"], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"{path} failed:\n{r.stdout}\n{r.stderr}")


def scores(path):
    with open(path) as f:
        return {row["tracker"]: row for row in csv.DictReader(f)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="build/bin/spotflow")
    ap.add_argument("--out", default="/tmp/lapbench")
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--regimes", nargs="+", default=list(REGIMES))
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    rows = []
    for name in a.regimes:
        reg = REGIMES[name]
        acc = {}
        for seed in a.seeds:
            d = os.path.join(a.out, f"{name}_{seed}")
            os.makedirs(d, exist_ok=True)
            nodes, edges = linker_nodes("detect.detections")
            rec = {"spotflow_recipe": 1, "name": f"lap_{name}", "seed": seed,
                   "nodes": [{"id": "sim", "plugin": "sim.tirf", "params": reg["sim"]},
                             {"id": "detect", "plugin": "detect.wavelet", "params": reg["detect"]},
                             {"id": "write_truth", "plugin": "write.csv", "params": {"file": "truth.csv"}},
                             {"id": "write_scores", "plugin": "write.csv", "params": {"file": "scores.csv"}},
                             score_node()] + nodes,
                   "edges": [{"from": "sim.movie", "to": "detect.movie"},
                             {"from": "sim.truth", "to": "write_truth.table"},
                             {"from": "sim.truth", "to": "score.truth"},
                             {"from": "score.metrics", "to": "write_scores.table"}] + edges}
            run(a.bin, rec, os.path.join(d, "det"), os.path.join(d, "det.json"))
            truth = os.path.join(d, "det", "truth.csv")
            noisy = os.path.join(d, "noisy_truth.csv")
            rng = random.Random(seed)
            with open(truth) as f, open(noisy, "w", newline="") as g:
                rd = csv.DictReader(f)
                wr = csv.DictWriter(g, fieldnames=["frame", "x", "y", "photons"])
                wr.writeheader()
                for row in rd:
                    wr.writerow({"frame": row["frame"], "x": float(row["x"]) + rng.gauss(0, reg["loc_sd"]),
                                 "y": float(row["y"]) + rng.gauss(0, reg["loc_sd"]), "photons": row["photons"]})
            nodes, edges = linker_nodes("read.detections")
            rec2 = {"spotflow_recipe": 1, "name": f"lap_{name}_truth", "seed": seed,
                    "nodes": [{"id": "read", "plugin": "read.detections_csv", "params": {"path": noisy}},
                              {"id": "read_truth", "plugin": "read.tracks_csv", "params": {"path": truth}},
                              {"id": "write_scores", "plugin": "write.csv", "params": {"file": "scores.csv"}},
                              score_node()] + nodes,
                    "edges": [{"from": "read_truth.tracks", "to": "score.truth"},
                              {"from": "score.metrics", "to": "write_scores.table"}] + edges}
            run(a.bin, rec2, os.path.join(d, "truth"), os.path.join(d, "truth.json"))
            for inp in ("det", "truth"):
                for tracker, row in scores(os.path.join(d, inp, "scores.csv")).items():
                    acc.setdefault((inp, tracker), []).append(row)
        for (inp, tracker), rs in acc.items():
            mean = lambda k: sum(float(r[k]) for r in rs) / len(rs)
            rows.append((name, inp, tracker, mean("alpha"), mean("jsc_theta"), mean("fragmentation"),
                         mean("wall_time_s") if rs[0]["wall_time_s"] not in ("", "null") else float("nan")))
    print(f"| regime | input | linker | alpha | JSC_theta | fragmentation | time s |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r[0]} | {r[1]} | {r[2]} | {r[3]:.3f} | {r[4]:.3f} | {r[5]:.3f} | {r[6]:.3f} |")


if __name__ == "__main__":
    main()
