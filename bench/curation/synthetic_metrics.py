#!/usr/bin/python3
"""A synthetic quality-metrics table of known class structure, in seed 004's
files: quality_metrics.csv (cluster_id + metrics), cluster_group.tsv
(cluster_id, group) and new_data.csv (+ new_labels.csv, the truth of
new_data). Two classes, 'good' and 'noise' (or three with --mua): each
class a Gaussian cloud in 6 informative metrics (different means, spread
and correlations), plus 6 noise metrics, 5 % missing values, one metric
log-normal (a firing rate), a class ratio of 2:1."""
import argparse, os
import numpy as np

ap = argparse.ArgumentParser()
ap.add_argument("--out", required=True)
ap.add_argument("--n", type=int, default=2000)
ap.add_argument("--n_new", type=int, default=500)
ap.add_argument("--seed", type=int, default=0)
ap.add_argument("--separation", type=float, default=0.9)
ap.add_argument("--mua", action="store_true")
a = ap.parse_args()
rng = np.random.default_rng(a.seed)
classes = ["good", "noise"] + (["mua"] if a.mua else [])
k = len(classes)
n_inf, n_noise = 6, 6
means = rng.normal(0, a.separation, size=(k, n_inf))
covs = []
for c in range(k):
    m = rng.normal(0, 0.4, size=(n_inf, n_inf))
    covs.append(np.eye(n_inf) + m @ m.T * 0.5)
names = ["snr", "isi_violations_ratio", "firing_rate", "presence_ratio", "amplitude_cutoff", "silhouette"] + \
        [f"noise_metric_{i}" for i in range(n_noise)]

def draw(n, first_id):
    p = np.array([2.0, 1.0] + ([1.0] if a.mua else []))
    y = rng.choice(k, size=n, p=p / p.sum())
    x = np.empty((n, n_inf + n_noise))
    for c in range(k):
        idx = np.where(y == c)[0]
        x[idx, :n_inf] = rng.multivariate_normal(means[c], covs[c], size=len(idx))
    x[:, n_inf:] = rng.normal(0, 1, size=(n, n_noise)) * rng.uniform(0.5, 20, size=n_noise)
    x[:, 2] = np.exp(x[:, 2])  # firing rate: log-normal
    x[rng.random(x.shape) < 0.05] = np.nan
    ids = np.arange(first_id, first_id + n)
    return ids, x, y

def write(path, ids, x):
    with open(path, "w") as f:
        f.write("cluster_id," + ",".join(names) + "\n")
        for i, row in zip(ids, x):
            f.write(str(i) + "," + ",".join("" if np.isnan(v) else repr(float(v)) for v in row) + "\n")

os.makedirs(a.out, exist_ok=True)
ids, x, y = draw(a.n, 0)
write(os.path.join(a.out, "quality_metrics.csv"), ids, x)
with open(os.path.join(a.out, "cluster_group.tsv"), "w") as f:
    f.write("cluster_id\tgroup\n")
    for i, c in zip(ids, y):
        f.write(f"{i}\t{classes[c]}\n")
ids2, x2, y2 = draw(a.n_new, 100000)
write(os.path.join(a.out, "new_data.csv"), ids2, x2)
with open(os.path.join(a.out, "new_labels.csv"), "w") as f:
    f.write("cluster_id,group\n")
    for i, c in zip(ids2, y2):
        f.write(f"{i},{classes[c]}\n")
