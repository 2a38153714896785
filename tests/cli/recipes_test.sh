#!/usr/bin/env bash
# The shipped recipes end to end on a small simulated movie: the classical
# pipeline's files and scores (F1 >= 0.98, alpha >= 0.9 as issue 4 asks; the
# benchmark holds the strict figures), the evaluation recipe, the tracker
# comparison, and the demo.
# Usage: recipes_test.sh SPOTFLOW RECIPES_DIR
set -u
SPOTFLOW=$1; RECIPES=$2
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
pass=0; fail=0
check() { if eval "$2"; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL $1"; fi; }
# col FILE NAME [ROW]: the value of column NAME in data row ROW (default: last).
col() { awk -F, -v name="$2" -v row="${3:-0}" 'NR==1{for(i=1;i<=NF;i++) if($i==name) c=i; next}
        {v[NR-1]=$c} END{print (row>0 ? v[row] : v[NR-1])}' "$1"; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN{exit !(a+0 >= b+0)}'; }

"$SPOTFLOW" simulate --output "$T/sim" --num_samples 1 --num_tracks 12 --num_frames 40 --image_size 128 \
  --photons 2000 --seed 11 -q
S=$T/sim/sample_000
check "simulated" '[[ -s $S/movie.tif && -s $S/ground_truth_tracks.csv ]]'

out=$("$SPOTFLOW" run "$RECIPES/classical.json" -i movie="$S/movie.tif" --out "$T/cl" -q 2>&1); rc=$?
check "classical rc=$rc: $out" '[[ $rc -eq 0 ]]'
for f in detections.csv tracks.csv track_summary.csv tracking_overlay.png track_statistics.png run.json; do
  check "classical wrote $f" '[[ -s "$T/cl/$f" ]]'
done
check "tracks.csv has the seed's columns" '[[ "$(head -1 "$T/cl/tracks.csv")" == "frame,x,y,probability,photons,track_id" ]]'
check "track_summary.csv has the seed's columns" \
  '[[ "$(head -1 "$T/cl/track_summary.csv")" == track_id,length,start_frame,end_frame,duration,mean_x,mean_y* ]]'

out=$("$SPOTFLOW" run "$RECIPES/evaluate.json" -i truth="$S/ground_truth_tracks.csv" -i detections="$T/cl/detections.csv" \
  -i tracks="$T/cl/tracks.csv" --out "$T/ev" -q 2>&1); rc=$?
check "evaluate rc=$rc: $out" '[[ $rc -eq 0 ]]'
f1=$(col "$T/ev/detection_scores.csv" f1); alpha=$(col "$T/ev/tracking_scores.csv" alpha)
check "classical F1 $f1 >= 0.98" 'ge "$f1" 0.98'
check "classical alpha $alpha >= 0.9" 'ge "$alpha" 0.9'

# Without the optional detections, only the tracking branch runs.
out=$("$SPOTFLOW" run "$RECIPES/evaluate.json" -i truth="$S/ground_truth_tracks.csv" -i tracks="$T/cl/tracks.csv" \
  --out "$T/ev2" -q 2>&1); rc=$?
check "evaluate tracks only rc=$rc: $out" '[[ $rc -eq 0 && -s "$T/ev2/tracking_scores.csv" && ! -e "$T/ev2/detection_scores.csv" ]]'

out=$("$SPOTFLOW" run "$RECIPES/compare_trackers.json" -i movie="$S/movie.tif" -i truth="$S/ground_truth_tracks.csv" \
  --out "$T/cmp" -q 2>&1); rc=$?
check "compare_trackers rc=$rc: $out" '[[ $rc -eq 0 ]]'
check "comparison.csv has one row per tracker" '[[ $(wc -l < "$T/cmp/comparison.csv") -eq 4 ]]'
check "comparison.png drawn" '[[ -s "$T/cmp/comparison.png" ]]'
check "trackers named" '[[ "$(cut -d, -f1 "$T/cmp/comparison.csv" | tail -3 | tr "\n" " ")" == "link.nearest link.lap link.magik " ]]'
wall=$(col "$T/cmp/comparison.csv" wall_time_s 2)
check "branch wall time measured ($wall)" 'ge "$wall" 0.0000001'
check "per-tracker folders" '[[ -s "$T/cmp/link.lap/fragmentation.csv" && -s "$T/cmp/link.nearest/fragmentation.csv" && -s "$T/cmp/link.magik/fragmentation.csv" ]]'
# The shipped MAGIK weights on this small clip (issue 6 asks alpha >= 0.9).
magik_alpha=$(col "$T/cmp/comparison.csv" alpha 3)
check "link.magik alpha $magik_alpha >= 0.9" 'ge "$magik_alpha" 0.9'

# A missing truth file is bad input, caught before anything runs: one line
# naming it, exit 2, no output folder.
out=$("$SPOTFLOW" run "$RECIPES/compare_trackers.json" -i movie="$S/movie.tif" -i truth="$T/nope.csv" \
  --out "$T/bad" -q 2>&1); rc=$?
check "missing truth rc=$rc (want 2)" '[[ $rc -eq 2 ]]'
check "missing truth message: $out" 'grep -q "nope.csv" <<<"$out" && [[ $(wc -l <<<"$out") -eq 1 ]]'
check "missing truth leaves no output" '[[ ! -e "$T/bad" ]]'

# demo_classical.json always; demo.json (DECODE + MAGIK) when LibTorch's plugins are built.
demos=demo_classical
"$SPOTFLOW" describe detect.decode >/dev/null 2>&1 && demos="demo_classical demo"
for d in $demos; do
  out=$("$SPOTFLOW" run "$RECIPES/$d.json" --set simulate.num_frames=30 --out "$T/$d" -q 2>&1); rc=$?
  check "$d rc=$rc: $out" '[[ $rc -eq 0 ]]'
  for f in tracks.csv track_summary.csv tracking_overlay.png track_statistics.png tracking_scores.csv \
           detection_metrics.csv traces.csv events.csv calcium_traces.png; do
    check "$d wrote $f" '[[ -s "$T/$d/$f" ]]'
  done
  f1=$(col "$T/$d/detection_metrics.csv" f1); alpha=$(col "$T/$d/tracking_scores.csv" alpha)
  check "$d F1 $f1 >= 0.95" 'ge "$f1" 0.95'
  check "$d alpha $alpha >= 0.9" 'ge "$alpha" 0.9'
done

# The deep pipeline (detect.decode, link.magik, gap filling) with its
# shipped weights, when the LibTorch plugins are built.
if "$SPOTFLOW" describe detect.decode >/dev/null 2>&1; then
  out=$("$SPOTFLOW" run "$RECIPES/piezo1.json" -i movie="$S/movie.tif" --out "$T/p1" -q 2>&1); rc=$?
  check "piezo1 rc=$rc: $out" '[[ $rc -eq 0 ]]'
  for f in tracks.csv track_summary.csv tracking_overlay.png track_statistics.png; do
    check "piezo1 wrote $f" '[[ -s "$T/p1/$f" ]]'
  done
  out=$("$SPOTFLOW" run "$RECIPES/evaluate.json" -i truth="$S/ground_truth_tracks.csv" -i detections="$T/p1/detections.csv" \
    -i tracks="$T/p1/tracks.csv" --out "$T/p1e" -q 2>&1); rc=$?
  f1=$(col "$T/p1e/detection_scores.csv" f1); alpha=$(col "$T/p1e/tracking_scores.csv" alpha)
  check "piezo1 F1 $f1 >= 0.95" 'ge "$f1" 0.95'
  check "piezo1 alpha $alpha >= 0.9" 'ge "$alpha" 0.9'
fi

# Seed 001's generator flags: frames per sample, W H, a Poisson track count.
out=$("$SPOTFLOW" simulate --output "$T/s001" --num_samples 6 --frames_per_sample 5 --image_size 64 64 \
  --num_puncta_mean 10 --psf_type gaussian --seed 3 -q 2>&1); rc=$?
check "seed 001 flags rc=$rc: $out" '[[ $rc -eq 0 ]]'
counts=$(for k in 0 1 2 3 4 5; do grep -o '"initial_tracks": [0-9]*' "$T/s001/sample_00$k/metadata.json" | grep -o '[0-9]*$'; done | sort -u | wc -l)
check "track counts vary across samples ($counts distinct)" '[[ $counts -ge 2 ]]'
check "5 frames per sample" '[[ $(cut -d, -f1 "$T/s001/sample_000/ground_truth_tracks.csv" | tail -n +2 | sort -un | wc -l) -le 5 ]]'
out=$("$SPOTFLOW" simulate --output "$T/s001b" --num_samples 1 --image_size 64 32 -q 2>&1); rc=$?
check "non-square refused rc=$rc: $out" '[[ $rc -eq 2 && "$out" == *"square"* && ! -e "$T/s001b" ]]'

echo "recipes: $pass passed, $fail failed"
[[ $fail -eq 0 ]]
