#!/usr/bin/python3
"""Seed 004's targets (issue 18), measured:

1. the CSV workflow on a synthetic metrics table of known class structure
   (synthetic_metrics.py, 2000 units): train.curation's grid, timed, then
   scikit-learn (Debian's python3-sklearn, a bench-only oracle) fits the
   same pipeline (imputer, scaler, classifier kind and hyper-parameters
   as train.curation chose for each classifier) on the same split, and
   the test balanced accuracies are compared (target: within 0.02);
2. training the whole grid on those 2000 items (target: <= 60 s on 2 cores);
3. tracks: train_curation.json on a simulated dense movie (seed 1), then
   curate_sim.json on another (seed 2): the trained model's balanced
   accuracy on the held-out movie's tracks (target >= 0.9), and the
   tracks scored against the truth before and after filtering
   (eval.tracks: fragmentation must fall, JSC-theta rise, >= 95 % of the
   true tracks paired before still paired after).

Usage: run_bench.py [--build build] [--out build/bench_curation] [--skip-tracks]
"""
import argparse, json, os, resource, subprocess, sys, time

import numpy as np
import pandas as pd
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler, RobustScaler, StandardScaler

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(os.path.dirname(here))
ap = argparse.ArgumentParser()
ap.add_argument("--build", default=os.path.join(root, "build"))
ap.add_argument("--out", default=None)
ap.add_argument("--n", type=int, default=2000)
ap.add_argument("--skip-tracks", action="store_true")
ap.add_argument("--tracks-model", default="", help="a best_model.json to curate with instead of training one")
a = ap.parse_args()
out = a.out or os.path.join(a.build, "bench_curation")
spotflow = os.path.join(a.build, "bin", "spotflow")
os.makedirs(out, exist_ok=True)
rows = []  # (target, measured, goal, ok)


def cpu_children():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run(args):
    t = time.time()
    subprocess.run([spotflow] + args, check=True, stdout=subprocess.DEVNULL)
    return time.time() - t


def load_avg():
    return os.getloadavg()[0]


# ---- 1 and 2: the CSV workflow against scikit-learn
data = os.path.join(out, "synthetic")
subprocess.run([sys.executable, os.path.join(here, "synthetic_metrics.py"), "--out", data, "--n", str(a.n)], check=True)
csv_out = os.path.join(out, "csv")
load0 = load_avg()
cpu0 = cpu_children()
wall = run(["run", os.path.join(root, "examples/recipes/train_curation_csv.json"), "--input",
            "metrics=" + os.path.join(data, "quality_metrics.csv"), "--input", "labels=" + os.path.join(data, "cluster_group.tsv"),
            "--input", "new_data=" + os.path.join(data, "new_data.csv"), "--out", csv_out, "-q"])
cpu = cpu_children() - cpu0
info = json.load(open(os.path.join(csv_out, "model_info.json")))
grid_s = info["search"]["seconds"]
rows.append(("grid training, %d items, %d fits, 2 threads (machine load avg %.1f at start)" % (a.n, info["search"]["fits"], load0),
             "%.1f s (run %.1f s wall, %.1f s CPU)" % (grid_s, wall, cpu), "<= 60 s", grid_s <= 60))

metrics = pd.read_csv(os.path.join(data, "quality_metrics.csv"))
labels = pd.read_csv(os.path.join(data, "cluster_group.tsv"), sep="\t")
df = metrics.merge(labels, on="cluster_id")
names = info["metric_names"]
test_ids = set(int(i) for i in info["test_ids"])
is_test = df.cluster_id.isin(test_ids)
conv = {v: int(k) for k, v in info["label_conversion"].items()}
y = df.group.map(conv).values
X = df[names].values
Xtr, ytr, Xte, yte = X[~is_test.values], y[~is_test.values], X[is_test.values], y[is_test.values]
acc = pd.read_csv(os.path.join(csv_out, "model_accuracies.csv"))

imputers = {"median": "median", "mean": "mean", "most_frequent": "most_frequent"}
scalers = {"standard_scaler": StandardScaler, "robust_scaler": RobustScaler, "min_max_scaler": MinMaxScaler}


def sk_classifier(kind, p, seed):
    if kind == "RandomForestClassifier":
        return RandomForestClassifier(n_estimators=p["n_estimators"], max_depth=p["max_depth"], max_features=p["colsample_bynode"],
                                      max_samples=p["subsample"], min_samples_leaf=max(1, int(p["min_child_weight"])), random_state=seed)
    if kind == "GradientBoostingClassifier":
        return GradientBoostingClassifier(n_estimators=p["n_estimators"], learning_rate=p["learning_rate"], max_depth=p["max_depth"],
                                          subsample=p["subsample"], random_state=seed)
    if kind == "LogisticRegression":
        return LogisticRegression(C=p["C"], max_iter=1000)
    if kind == "MLPClassifier":
        return MLPClassifier(hidden_layer_sizes=tuple(p["hidden_layer_sizes"]), alpha=p["alpha"], solver="lbfgs",
                             max_iter=p["max_iter"], random_state=seed)
    raise ValueError(kind)


print("\nCSV workflow: train.curation's best configuration per classifier against scikit-learn's same pipeline on the same split")
print("%-28s %-14s %-16s %8s %8s %8s" % ("classifier", "imputer", "scaler", "ours", "sklearn", "diff"))
worst = 0.0
for kind, grp in acc.groupby("classifier name"):
    r = grp.sort_values("cv_balanced_accuracy", ascending=False, kind="stable").iloc[0]
    p = json.loads(r.best_params)
    sk = [balanced_accuracy_score(yte, Pipeline([("imp", SimpleImputer(strategy=imputers[r.imputation_strategy])),
                                                  ("sc", scalers[r.scaling_strategy]()),
                                                  ("clf", sk_classifier(kind, p, s))]).fit(Xtr, ytr).predict(Xte))
          for s in range(3)]
    sk_m = float(np.mean(sk))
    d = r.balanced_accuracy - sk_m
    worst = max(worst, abs(d))
    print("%-28s %-14s %-16s %8.4f %8.4f %+8.4f" % (kind, r.imputation_strategy, r.scaling_strategy, r.balanced_accuracy, sk_m, d))
best = info["best_model"]
rows.append(("best pipeline's test balanced accuracy (%s)" % best["classifier"], "%.4f" % best["test_balanced_accuracy"], "-", True))
rows.append(("|ours - scikit-learn| per classifier, same pipeline and split (max)", "%.4f" % worst, "<= 0.02", worst <= 0.02))
pred = pd.read_csv(os.path.join(csv_out, "model_predictions.csv")).merge(pd.read_csv(os.path.join(data, "new_labels.csv")), on="cluster_id")
rows.append(("new_data.csv: balanced accuracy of model_predictions.csv", "%.4f" % balanced_accuracy_score(pred.group, pred.prediction), "-", True))

# ---- 3: tracks
if not a.skip_tracks:
    model = a.tracks_model
    if not model:
        tr_out = os.path.join(out, "train_tracks")
        t = run(["run", os.path.join(root, "examples/recipes/train_curation.json"), "--seed", "1", "--out", tr_out, "-q"])
        model = os.path.join(tr_out, "best_model.json")
        ti = json.load(open(os.path.join(tr_out, "model_info.json")))
        rows.append(("train_curation.json (seed 1): %d tracks, grid %.0f s, run %.0f s" % (ti["items"]["labelled"], ti["search"]["seconds"], t),
                     "test %.4f" % ti["best_model"]["test_balanced_accuracy"], "-", True))
    for threshold in (0.5, 0.2):
        sim_out = os.path.join(out, "curate_sim_%g" % threshold)
        run(["run", os.path.join(here, "curate_sim.json"), "--seed", "2", "--set", "curate.model_file=" + model,
             "--set", "curate.min_probability=%g" % threshold, "--out", sim_out, "-q"])
        lab = pd.read_csv(os.path.join(sim_out, "track_labels.csv")).merge(pd.read_csv(os.path.join(sim_out, "model_predictions.csv")), on="track_id")
        s = pd.read_csv(os.path.join(sim_out, "tracking_scores.csv")).set_index("tracker")
        u, c = s.loc["unfiltered"], s.loc["curated"]
        tag = "held-out movie (seed 2), keep P(good) >= %g" % threshold
        if threshold == 0.5:
            ba = balanced_accuracy_score(lab.label, lab.prediction)
            rows.append(("held-out simulated tracks: balanced accuracy (%d tracks)" % len(lab), "%.4f" % ba, ">= 0.9", ba >= 0.9))
        rows.append((tag + ": fragmentation", "%.3f -> %.3f" % (u.fragmentation, c.fragmentation), "lower", c.fragmentation < u.fragmentation))
        rows.append((tag + ": JSC-theta", "%.4f -> %.4f" % (u.jsc_theta, c.jsc_theta), "higher", c.jsc_theta > u.jsc_theta))
        kept = c.paired_tracks / u.paired_tracks
        rows.append((tag + ": true tracks still paired (%d of %d); tracks kept %d of %d" % (c.paired_tracks, u.paired_tracks, c.n_tracks, u.n_tracks),
                     "%.1f %%" % (100 * kept), ">= 95 %", kept >= 0.95))

print("\n%-100s %-22s %-8s %s" % ("target", "measured", "goal", "met"))
for t, m, g, ok in rows:
    print("%-100s %-22s %-8s %s" % (t, m, g, "yes" if ok else "NO"))
json.dump([dict(target=t, measured=m, goal=g, met=bool(ok)) for t, m, g, ok in rows], open(os.path.join(out, "summary.json"), "w"), indent=1)
