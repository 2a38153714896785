#!/usr/bin/env bash
# Seed 001's pieces through the real host: loss.kendall creating its terms
# through its own host table (run.json lists all three losses), train.hybrid's
# joint stage (log sigma in the log, published best weights), a pretrained
# file of another architecture failing with one line and no output, and the
# classical calcium baseline scored by eval.calcium.
# Then detect.hybrid (hybrid.json) on a simulated two-channel movie with the
# joint weights, and its bad inputs: one channel for a 2-channel network,
# channels of different sizes.
# Usage: hybrid_cli_test.sh SPOTFLOW RECIPES_DIR DECODE_WEIGHTS TEST_RECIPES_DIR
set -u
SPOTFLOW=$1; RECIPES=$2; DECODE_WEIGHTS=$3; TEST_RECIPES=$4
export OMP_WAIT_POLICY=passive
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
pass=0; fail=0
check() { if eval "$2"; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL $1"; fi; }
TINY=(--set 'train.network={"base_channels": 4, "depth": 2, "head_channels": 4}' --set train.frame_size=16
      --set train.iterations=6 --set train.validate_every=3 --set train.validation_samples=4 --set train.checkpoint_every=3)

out=$("$SPOTFLOW" run "$RECIPES/train_hybrid.json" "${TINY[@]}" --out "$T/stage1" --threads 2 -q 2>&1); rc=$?
check "stage 1 rc=$rc: $out" '[[ $rc -eq 0 && -s "$T/stage1/best_model.sfw" ]]'
out=$("$SPOTFLOW" run "$RECIPES/train_hybrid_joint.json" "${TINY[@]}" --input localization="$T/stage1/best_model.sfw" \
  --out "$T/joint" --threads 2 -q 2>&1); rc=$?
check "joint rc=$rc: $out" '[[ $rc -eq 0 ]]'
for f in best_model.sfw final_model.sfw checkpoint.sfw metrics.jsonl model_card.json training.png run.json; do
  check "joint wrote $f" '[[ -s "$T/joint/$f" ]]'
done
check "log sigma logged" 'grep -q log_sigma_calcium "$T/joint/metrics.jsonl"'
for l in loss.kendall loss.decode_gmm loss.focal; do
  check "run.json lists $l" 'grep -q "\"plugin\": \"$l\"" "$T/joint/run.json"'
done
check "best weights published" 'python3 -c "import json,sys; sys.exit(0 if \"best_model.sfw\" in json.load(open(\"$T/joint/run.json\"))[\"published\"] else 1)"'

# A DECODE weights file as stage 1's: one line naming the file and the cause, nothing written.
out=$("$SPOTFLOW" run "$RECIPES/train_hybrid_joint.json" "${TINY[@]}" --input localization="$DECODE_WEIGHTS" \
  --out "$T/bad" -q 2>&1); rc=$?
check "another architecture rc=$rc" '[[ $rc -ne 0 ]]'
check "one line naming it: $out" '[[ $(printf "%s\n" "$out" | grep -c .) -eq 1 && "$out" == *"another architecture"* && "$out" == *pretrained_localization* ]]'
check "no partial output" '[[ ! -e "$T/bad/best_model.sfw" && ! -e "$T/bad/metrics.jsonl" ]]'

out=$("$SPOTFLOW" run "$RECIPES/calcium_classical_scores.json" --set simulate.num_frames=40 --set simulate.image_size=96 \
  --set simulate.num_tracks=8 --out "$T/cl" -q 2>&1); rc=$?
check "classical calcium rc=$rc: $out" '[[ $rc -eq 0 ]]'
check "calcium_scores.csv columns" '[[ "$(head -1 "$T/cl/calcium_scores.csv")" == punctum_frames_tp,*,f1,sensitivity,specificity,*correlation*track_completeness,colocalisation_error_nm* ]]'

# detect.hybrid on two aligned movies.
"$SPOTFLOW" simulate --output "$T/sim" --num_samples 1 --num_tracks 4 --num_frames 9 --image_size 30 --calcium --seed 5 -q
"$SPOTFLOW" simulate --output "$T/sim48" --num_samples 1 --num_tracks 4 --num_frames 9 --image_size 48 --calcium --seed 5 -q
S=$T/sim/sample_000
W=$T/joint/best_model.sfw
out=$("$SPOTFLOW" run "$RECIPES/hybrid.json" -i movie="$S/movie.tif" -i calcium="$S/calcium.tif" -i weights="$W" \
  --out "$T/hy" -q 2>&1); rc=$?
check "hybrid rc=$rc: $out" '[[ $rc -eq 0 && -s "$T/hy/puncta.csv" && -s "$T/hy/trajectories.csv" ]]'
check "puncta.csv columns" '[[ "$(head -1 "$T/hy/puncta.csv")" == frame,x,y,probability,photons,sigma_x,sigma_y,sigma_photons,background,calcium_probability ]]'
check "tracking_overlay.png written" '[[ -s "$T/hy/tracking_overlay.png" ]]'
check "calcium_events.csv columns" '[[ "$(head -1 "$T/hy/calcium_events.csv")" == track_id,onset_frame,peak_frame,end_frame,duration_frames,x,y,probability,mean_probability ]]'
# The hybrid branch of the week-4 comparison, on a small movie: both score tables written.
out=$("$SPOTFLOW" run "$RECIPES/calcium_hybrid_scores.json" -i weights="$W" --set simulate.num_frames=12 --set simulate.image_size=32 \
  --set simulate.num_tracks=3 --out "$T/hs" -q 2>&1); rc=$?
check "hybrid scores rc=$rc: $out" '[[ $rc -eq 0 && -s "$T/hs/localisation_scores.csv" && -s "$T/hs/calcium_events.csv" ]]'
check "hybrid calcium_scores.csv columns" '[[ "$(head -1 "$T/hs/calcium_scores.csv")" == punctum_frames_tp,*,f1,sensitivity,specificity,*correlation*track_completeness,colocalisation_error_nm* ]]'
out=$("$SPOTFLOW" run "$TEST_RECIPES/hybrid_one_channel.json" -i movie="$S/movie.tif" -i weights="$W" --out "$T/one" -q 2>&1); rc=$?
check "one channel rc=$rc" '[[ $rc -ne 0 ]]'
check "one channel, one line: $out" '[[ $(printf "%s\n" "$out" | grep -c .) -eq 1 && "$out" == *"2-channel"*"no calcium movie is connected"* ]]'
check "one channel: no puncta.csv" '[[ ! -e "$T/one/puncta.csv" ]]'
out=$("$SPOTFLOW" run "$RECIPES/hybrid.json" -i movie="$S/movie.tif" -i calcium="$T/sim48/sample_000/calcium.tif" -i weights="$W" \
  --out "$T/size" -q 2>&1); rc=$?
check "sizes differ rc=$rc" '[[ $rc -ne 0 ]]'
check "sizes differ, named: $out" '[[ "$out" == *"48 x 48"*"30 x 30"* || "$out" == *"30 x 30"*"48 x 48"* ]]'
check "sizes differ: no output" '[[ ! -e "$T/size/puncta.csv" ]]'

echo "hybrid_cli: $pass passed, $fail failed"
[[ $fail -eq 0 ]]
