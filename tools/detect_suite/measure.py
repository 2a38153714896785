#!/usr/bin/env python3
"""detect.wavelet across regimes: simulate with sim.tirf, detect with defaults,
score F1 (2 px, per-frame greedy-by-distance matching) and RMSE / CRLB for
isolated puncta and for puncta with another within 3-10 px (Mortensen et al.
2010 bound, x2 variance for EMCCD). Pure Python (no numpy on this machine).

usage: measure.py SPOTFLOW_BIN [regime ...]
"""
import csv, json, math, os, subprocess, sys, tempfile, time

REGIMES = {
    "seed": dict(image_size=256, num_tracks=20, photons=2000, psf_sigma_px=1.3, num_frames=120),
    "dim_emccd": dict(image_size=192, num_tracks=8, photons=600, psf_sigma_px=1.6, background=40, camera="emccd",
                      em_gain=100, e_per_adu=20, baseline_adu=100, mean_lifetime_frames=40, num_frames=120),
    "sigma1.0": dict(psf_sigma_px=1.0, num_frames=100),
    "sigma2.0": dict(psf_sigma_px=2.0, num_frames=100),
    "photons300": dict(photons=300, num_frames=100),
    "photons5000": dict(photons=5000, num_frames=100),
    "dense150": dict(num_tracks=150, diffusion_px2_per_frame=1.5, directed_fraction=0.3, mean_lifetime_frames=40,
                     num_frames=60),
    "dense300": dict(num_tracks=300, num_frames=40),
    "scmos_gain2": dict(e_per_adu=2.0, baseline_adu=400, read_noise_e=2.0, background=30, num_frames=100),
}


def recipe(sim, det):
    return {"spotflow_recipe": 1, "name": "detect_suite", "seed": 7,
            "nodes": [{"id": "simulate", "plugin": "sim.tirf", "params": sim},
                      {"id": "detect", "plugin": "detect.wavelet", "params": det},
                      {"id": "wd", "plugin": "write.csv", "params": {"file": "detections.csv"}},
                      {"id": "wt", "plugin": "write.csv", "params": {"file": "truth.csv"}}],
            "edges": [{"from": "simulate.movie", "to": "detect.movie"},
                      {"from": "detect.detections", "to": "wd.table"},
                      {"from": "simulate.truth", "to": "wt.table"}]}


def read(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def crlb_var(n, b, s):
    # Mortensen et al. 2010's MLE bound per axis, pixel size 1 (libs/psf's
    # crlb_mortensen_px): sa2 / N / (1 + integral_0^1 ln t / (1 + t / tau) dt)
    sa2 = s * s + 1 / 12
    if b <= 0:
        return sa2 / n
    tau = 2 * math.pi * sa2 * b / n
    m = 4000
    integral = sum(math.log((k + 0.5) / m) / (1 + (k + 0.5) / m / tau) for k in range(m)) / m
    return sa2 / n / (1 + integral)


CACHE = {}
BINS = [(3, 4, "3-4"), (4, 6, "4-6"), (6, 10, "6-10")]


def score(det, truth, sim):
    CACHE.clear()
    qe = 0.9
    excess = 2.0 if sim.get("camera") == "emccd" else 1.0
    bg = sim.get("background", 10) * qe
    s = sim.get("psf_sigma_px", 1.3)
    by_f = {}
    for r in det:
        by_f.setdefault(int(r["frame"]), []).append((float(r["x"]), float(r["y"])))
    tby = {}
    for r in truth:
        tby.setdefault(int(r["frame"]), []).append((float(r["x"]), float(r["y"]), float(r["photons"])))
    tp = fp = fn = 0
    acc = {"isolated": [0.0, 0.0, 0], "neighbour": [0.0, 0.0, 0], "all": [0.0, 0.0, 0]}
    # The neighbour error by the true distance to the nearest other punctum,
    # and whether that neighbour was detected too (resolved) or not.
    for b in BINS:
        for r in ("resolved", "unresolved"):
            acc["%s %s" % (b[2], r)] = [0.0, 0.0, 0]
    missed = {b[2]: [0, 0] for b in BINS}  # [truths, missed]
    close2 = [0, 0]  # detections with another detection < 2 px: [puncta-frames with two, detections]
    for f in set(by_f) | set(tby):
        D = by_f.get(f, [])
        T = tby.get(f, [])
        pairs = []
        for i, (x, y) in enumerate(D):
            for j, (tx, ty, _) in enumerate(T):
                d = math.hypot(x - tx, y - ty)
                if d < 2:
                    pairs.append((d, i, j))
        pairs.sort()
        ud, ut = set(), set()
        match = {}
        for d, i, j in pairs:
            if i in ud or j in ut:
                continue
            ud.add(i); ut.add(j)
            match[j] = i
        for j, (tx, ty, _) in enumerate(T):
            nn = min([(math.hypot(tx - ox, ty - oy), k) for k, (ox, oy, _) in enumerate(T) if k != j] or [(1e9, -1)])
            for lo, hi, b in BINS:
                if lo <= nn[0] < hi:
                    missed[b][0] += 1
                    missed[b][1] += j not in match
        for i, (x, y) in enumerate(D):
            close2[1] += 1
            if i in ud and any(k != i and math.hypot(x - ox, y - oy) < 2 for k, (ox, oy) in enumerate(D)):
                close2[0] += 1
        for j, i in match.items():
            tx, ty, ph = T[j]
            nn, kn = min([(math.hypot(tx - ox, ty - oy), k) for k, (ox, oy, _) in enumerate(T) if k != j] or [(1e9, -1)])
            cls = "isolated" if nn > 10 else ("neighbour" if nn >= 3 else None)
            binned = ["%s %s" % (b, "resolved" if kn in match else "unresolved") for lo, hi, b in BINS if lo <= nn < hi]
            dx, dy = D[i][0] - tx, D[i][1] - ty
            key = round(ph * qe)
            if key not in CACHE:
                CACHE[key] = crlb_var(max(ph * qe, 1), bg, s)
            v = CACHE[key] * excess
            for c in ([cls] if cls else []) + ["all"] + binned:
                acc[c][0] += dx * dx + dy * dy
                acc[c][1] += 2 * v
                acc[c][2] += 1
        tp += len(ud)
        fp += len(D) - len(ud)
        fn += len(T) - len(ut)
    p = tp / max(tp + fp, 1)
    r = tp / max(tp + fn, 1)
    out = {"missed_by_bin": {b: (round(m / max(n, 1), 3), n) for b, (n, m) in missed.items()},
           "matched_with_a_detection_within_2px": close2[0], "tp": tp, "fp": fp, "fn": fn, "precision": p, "recall": r, "f1": 2 * p * r / max(p + r, 1e-12)}
    for c, (se, cv, n) in acc.items():
        out[c] = {"n": n, "rmse_over_crlb": math.sqrt(se / cv) if n else None,
                  "crlb_px": math.sqrt(cv / 2 / n) if n else None}
    return out


def main():
    exe = sys.argv[1]
    names = sys.argv[2:] or list(REGIMES)
    det = json.loads(os.environ.get("DETECT_PARAMS", "{}"))
    for name in names:
        sim = dict(REGIMES[name])
        with tempfile.TemporaryDirectory() as tmp:
            rp = os.path.join(tmp, "r.json")
            json.dump(recipe(sim, det), open(rp, "w"))
            out = os.path.join(tmp, "out")
            t0 = time.time()
            res = subprocess.run([exe, "run", rp, "-o", out, "-q", "-j", "2"], capture_output=True, text=True)
            wall = time.time() - t0
            if res.returncode:
                print(name, "FAILED", res.stderr.strip()[-500:])
                continue
            run = json.load(open(os.path.join(out, "run.json")))
            node = [n for n in run["nodes"] if n["id"] == "detect"][0]
            sc = score(read(os.path.join(out, "detections.csv")), read(os.path.join(out, "truth.csv")), sim)
            frames = sim.get("num_frames", 100)
            print(json.dumps({"regime": name, "f1": round(sc["f1"], 4), "precision": round(sc["precision"], 4),
                              "recall": round(sc["recall"], 4),
                              "rmse/crlb": {c: (round(sc[c]["rmse_over_crlb"], 3) if sc[c]["n"] else None, sc[c]["n"])
                                            for c in ("all", "isolated", "neighbour")},
                              "by_distance": {c: (round(sc[c]["rmse_over_crlb"], 2) if sc[c]["n"] else None, sc[c]["n"])
                                              for c in sc if c[0].isdigit() and " " in c},
                              "missed_by_bin": sc["missed_by_bin"],
                              "split_suspects": sc["matched_with_a_detection_within_2px"],
                              "crlb_px": round(sc["all"]["crlb_px"] or 0, 4),
                              "detect_fps": round(frames / max(node["busy_seconds"], 1e-9), 1),
                              "camera": node.get("camera"), "sigma": node.get("psf_sigma_px"),
                              "warnings": run.get("warnings")}), flush=True)


main()
