#!/usr/bin/env bash
# Seed 001's targets on this machine (CPU): both training stages at the
# shipped recipes' settings, then on calcium_classical_scores.json's
# simulated two-channel movie (256 x 256, 20 puncta, 100 frames) the hybrid
# path (calcium_hybrid_scores.json) against the classical one, and
# detect.hybrid's speed at 256 x 256. Prints one summary; ~10 min on 2 cores.
# Usage: hybrid_bench.sh SPOTFLOW RECIPES_DIR OUT_DIR
set -euo pipefail
SPOTFLOW=$1; R=$2; OUT=$3
export OMP_WAIT_POLICY=passive
rm -rf "$OUT"; mkdir -p "$OUT"
t0=$(date +%s.%N)
"$SPOTFLOW" run "$R/train_hybrid.json" --out "$OUT/stage1" --threads 2 -q
t1=$(date +%s.%N)
"$SPOTFLOW" run "$R/train_hybrid_joint.json" --input localization="$OUT/stage1/best_model.sfw" --out "$OUT/joint" --threads 2 -q
t2=$(date +%s.%N)
"$SPOTFLOW" run "$R/calcium_hybrid_scores.json" -i weights="$OUT/joint/best_model.sfw" --out "$OUT/hybrid" --threads 2 -q
"$SPOTFLOW" run "$R/calcium_classical_scores.json" --out "$OUT/classical" --threads 2 -q
# Speed: 100 frames of 256 x 256, puncta + calcium, through hybrid.json.
"$SPOTFLOW" simulate --output "$OUT/movie" --num_samples 1 --num_frames 100 --image_size 256 --calcium --seed 3 -q
s0=$(date +%s.%N)
"$SPOTFLOW" run "$R/hybrid.json" -i movie="$OUT/movie/sample_000/movie.tif" -i calcium="$OUT/movie/sample_000/calcium.tif" \
  -i weights="$OUT/joint/best_model.sfw" --out "$OUT/speed" --threads 2 -q
s1=$(date +%s.%N)
python3 - "$OUT" "$t0" "$t1" "$t2" "$s0" "$s1" <<'PY'
import csv, json, sys
out, t0, t1, t2, s0, s1 = sys.argv[1], *map(float, sys.argv[2:])
def row(p):
    with open(p) as f:
        return next(csv.DictReader(f))
def card(stage):
    return json.load(open(f"{out}/{stage}/model_card.json"))["scores_best"]
s1c, jc = card("stage1"), card("joint")
nm = 108.0
print(f"training: stage 1 {t1 - t0:.0f} s, joint {t2 - t1:.0f} s, both {(t2 - t0) / 60:.1f} min (target <= 45)")
print(f"validation (32 px windows): stage 1 P {s1c['precision']:.3f} R {s1c['recall']:.3f} RMSE {s1c['rmse_px'] * nm:.1f} nm; "
      f"joint P {jc['precision']:.3f} R {jc['recall']:.3f} RMSE {jc['rmse_px'] * nm:.1f} nm "
      f"({100 * (jc['rmse_px'] / s1c['rmse_px'] - 1):+.1f} %), calcium F1 {jc.get('calcium_f1', float('nan')):.3f}, "
      f"log sigma loc {jc.get('log_sigma_localisation', float('nan')):.3f} ca {jc.get('log_sigma_calcium', float('nan')):.3f}")
with open(f"{out}/hybrid/localisation_scores.csv") as f:
    rows = list(csv.DictReader(f))
L = rows[-1]
print(f"localisation on the 256 px movie (eval.detections): P {float(L['precision']):.3f} R {float(L['recall']):.3f} "
      f"F1 {float(L['f1']):.3f} RMSE lateral {float(L['rmse_lateral_px']) * nm:.1f} nm (target < 50, P and R > 0.9)")
for name in ("hybrid", "classical"):
    r = row(f"{out}/{name}/calcium_scores.csv")
    print(f"{name:9s} calcium: " + ", ".join(f"{k} {float(r[k] or 'nan'):.3f}" for k in
          ("f1", "sensitivity", "specificity", "event_f1", "correlation", "track_completeness", "colocalisation_error_nm") if k in r))
print(f"detect.hybrid via hybrid.json, 100 frames 256 x 256 x 2 channels: {100 / (s1 - s0):.1f} frames/s "
      f"(whole run incl. reading, linking, writing; target >= 20)")
PY
