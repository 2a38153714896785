"""Track a simulated TIRF movie from Python, notebook style.

    make build
    PYTHONPATH=build/python python3 examples/python/track_simulated_movie.py [OUT]

Simulates one movie in seed 000's scenario (smaller: 128 x 128, 50 frames,
10 tracks) with the simulator plugin, tracks it with examples/recipes/
classical.json, scores it with examples/recipes/evaluate.json, and looks at
the results with pandas (and matplotlib, if installed). Every cell below is
plain Python; paste them into Jupyter one by one if you like.
"""
import os
import sys
import tempfile

import numpy as np

import spotflow

HERE = os.path.dirname(os.path.abspath(__file__))
RECIPES = os.path.join(HERE, "..", "recipes")
out = sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="spotflow-example-")
os.makedirs(out, exist_ok=True)

# %% What is installed
print(len(spotflow.plugins()), "plugins, e.g.", ", ".join(p["id"] for p in spotflow.plugins()[:5]))
print("detect.wavelet params:", sorted(spotflow.describe("detect.wavelet")["params"]))

# %% Simulate a movie: a one-node recipe of sim.tirf. Its movie port feeds
# nothing, so the movie comes back as a numpy array (through DLPack), and its
# ground truth as a DataFrame. write.tiff / write.csv keep them as files.
sim_recipe = os.path.join(out, "simulate.json")
with open(sim_recipe, "w") as f:
    f.write("""{
  "spotflow_recipe": 1, "name": "simulate", "seed": 7,
  "nodes": [
    {"id": "sim", "plugin": "sim.tirf", "params": {"num_frames": 50, "image_size": 128, "num_tracks": 10}},
    {"id": "save_movie", "plugin": "write.tiff", "params": {"file": "movie.tif"}},
    {"id": "save_truth", "plugin": "write.csv", "params": {"file": "ground_truth_tracks.csv"}}
  ],
  "edges": [
    {"from": "sim.movie", "to": "save_movie.movie"},
    {"from": "sim.truth", "to": "save_truth.table"}
  ]
}""")
sim = spotflow.run(sim_recipe, out=os.path.join(out, "sim"), tensors=["sim.movie"])
movie = sim.tensors["sim.movie"]
truth = sim.tables["sim.truth"]
print("movie:", movie.shape, movie.dtype, "truth:", len(truth), "points in", truth["track_id"].nunique(), "tracks")

# %% Track it: the same recipe and code as `spotflow run classical.json`.
result = spotflow.run(os.path.join(RECIPES, "classical.json"),
                      inputs={"movie": os.path.join(out, "sim", "movie.tif")},
                      out=os.path.join(out, "tracked"))
detections = result.tables["detect.detections"]
tracks = result.tables["gapfill.tracks"]
print(result)
print(detections.describe().loc[["count", "mean"], ["x", "y", "photons", "uncertainty"]])
lengths = tracks.groupby("track_id").size()
print("tracks:", len(lengths), "median length", lengths.median(), "frames")

# %% Score it against the truth (the evaluate recipe, on the files just written).
scores = spotflow.run(os.path.join(RECIPES, "evaluate.json"),
                      inputs={"truth": os.path.join(out, "sim", "ground_truth_tracks.csv"),
                              "detections": os.path.join(out, "tracked", "detections.csv"),
                              "tracks": os.path.join(out, "tracked", "tracks.csv")},
                      out=os.path.join(out, "scores"))
det = scores.tables["score_detections.metrics"]
trk = scores.tables["score_tracks.metrics"]
print("detection F1 {:.3f}, tracking alpha {:.3f}, beta {:.3f}".format(
    float(det[det["sample"] == "all"]["f1"].iloc[0]) if "sample" in det else float(det["f1"].iloc[-1]),
    float(trk["alpha"].iloc[0]), float(trk["beta"].iloc[0])))

# %% Errors come back as spotflow.Error with the CLI's one-line message.
try:
    spotflow.run(os.path.join(RECIPES, "classical.json"), inputs={"movie": "no_such_movie.tif"})
except spotflow.Error as e:
    print("spotflow.Error:", e)

# %% A figure, if matplotlib is installed.
try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    plt = None
    print("matplotlib is not installed: no figure")
if plt is not None:
    frame = movie[0] if movie.ndim == 3 else movie[0, 0]
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 5.2))
    a.imshow(np.asarray(frame, dtype=float), cmap="gray", origin="upper")
    for tid, t in tracks.groupby("track_id"):
        a.plot(t["x"], t["y"], lw=1)
    a.plot(truth["x"], truth["y"], ",", color="white", alpha=0.4)
    a.set_title("frame 0 with {} tracks (pixels; centre of top-left pixel = 0,0)".format(tracks["track_id"].nunique()),
                fontsize=9)
    b.hist(lengths, bins=20, color="#4878a8", edgecolor="white")
    b.set_xlabel("track length (frames)")
    b.set_ylabel("tracks")
    b.set_title("track lengths", fontsize=9)
    fig.tight_layout()
    png = os.path.join(out, "tracks.png")
    fig.savefig(png, dpi=100)
    print("figure:", png)
print("outputs in", out)
