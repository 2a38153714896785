#!/usr/bin/env bash
# The curation recipes end to end, small: train_curation_csv.json on a
# generated CSV + TSV (with new_data, and without: its apply node drops),
# train_curation.json on a short simulated movie with a reduced grid, and
# curate_tracks.json with the shipped model.
# Usage: recipes_test.sh SPOTFLOW RECIPES_DIR
set -u
SPOTFLOW=$1; RECIPES=$2
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
pass=0; fail=0
check() { if eval "$2"; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL $1"; fi; }

# 120 units, two classes along snr, one missing value per 13 rows; 20 new units.
awk 'BEGIN{srand(5); print "cluster_id,snr,isi_violations_ratio,firing_rate" > "'"$T"'/quality_metrics.csv";
  print "cluster_id\tgroup" > "'"$T"'/cluster_group.tsv"; print "cluster_id,snr,isi_violations_ratio,firing_rate" > "'"$T"'/new_data.csv";
  for (i = 0; i < 140; i++) { g = i % 3 == 0; snr = (g ? 6 : 2) + 2 * (rand() - 0.5); isi = (g ? 0.01 : 0.2) * rand(); fr = 10 * rand();
    line = i "," (i % 13 == 0 ? "" : snr) "," isi "," fr;
    if (i < 120) { print line > "'"$T"'/quality_metrics.csv"; print i "\t" (g ? "good" : "noise") > "'"$T"'/cluster_group.tsv" }
    else print line > "'"$T"'/new_data.csv" } }'
small='--set train.n_iter=1 --set train.folds=3 --set train.permutation_repeats=2'
out=$("$SPOTFLOW" run "$RECIPES/train_curation_csv.json" -i metrics="$T/quality_metrics.csv" -i labels="$T/cluster_group.tsv" \
  -i new_data="$T/new_data.csv" $small --out "$T/csv" -q 2>&1); rc=$?
check "train_curation_csv rc=$rc: $out" '[[ $rc -eq 0 ]]'
for f in best_model.json model_accuracies.csv model_info.json training_data.csv labels.csv feature_importances.csv \
         feature_importances.png model_predictions.csv; do
  check "train_curation_csv wrote $f" '[[ -s "$T/csv/$f" ]]'
done
check "model_predictions.csv: header and one row per new unit" \
  '[[ "$(head -1 "$T/csv/model_predictions.csv")" == "cluster_id,prediction,probability" && $(wc -l < "$T/csv/model_predictions.csv") -eq 21 ]]'
check "model_predictions.csv in input order" '[[ "$(sed -n 2p "$T/csv/model_predictions.csv" | cut -d, -f1)" == 120 ]]'
out=$("$SPOTFLOW" run "$RECIPES/train_curation_csv.json" -i metrics="$T/quality_metrics.csv" -i labels="$T/cluster_group.tsv" \
  $small --out "$T/csv2" -q 2>&1); rc=$?
check "train_curation_csv without new_data rc=$rc: $out" '[[ $rc -eq 0 && -s "$T/csv2/best_model.json" && ! -e "$T/csv2/model_predictions.csv" ]]'
# A label id with no metrics row: one error line naming it, no outputs.
printf 'cluster_id\tgroup\n0\tgood\n999\tnoise\n' > "$T/bad.tsv"
out=$("$SPOTFLOW" run "$RECIPES/train_curation_csv.json" -i metrics="$T/quality_metrics.csv" -i labels="$T/bad.tsv" --out "$T/bad" -q 2>&1); rc=$?
check "an unmatched label id fails (rc=$rc): $out" '[[ $rc -ne 0 && "$out" == *"cluster_id 999 matches no metrics row"* && ! -e "$T/bad/best_model.json" ]]'

out=$("$SPOTFLOW" run "$RECIPES/train_curation.json" --set simulate.num_frames=60 --set simulate.num_tracks=40 \
  --set 'train.classifiers=["LogisticRegression","GradientBoostingClassifier"]' --set 'train.imputation_strategies=["median"]' \
  $small --out "$T/tr" -q 2>&1); rc=$?
check "train_curation rc=$rc: $out" '[[ $rc -eq 0 && -s "$T/tr/best_model.json" && -s "$T/tr/quality_metrics.csv" ]]'
check "labels.csv has good and bad tracks" '[[ $(grep -c ",good$" "$T/tr/labels.csv") -gt 0 && $(grep -c ",bad$" "$T/tr/labels.csv") -gt 0 ]]'

"$SPOTFLOW" simulate --output "$T/sim" --num_samples 1 --num_tracks 12 --num_frames 40 --image_size 128 --seed 11 -q
out=$("$SPOTFLOW" run "$RECIPES/curate_tracks.json" -i movie="$T/sim/sample_000/movie.tif" --out "$T/cur" -q 2>&1); rc=$?
check "curate_tracks rc=$rc: $out" '[[ $rc -eq 0 ]]'
for f in tracks.csv tracks_unfiltered.csv quality_metrics.csv model_predictions.csv track_summary.csv; do
  check "curate_tracks wrote $f" '[[ -s "$T/cur/$f" ]]'
done
check "the kept tracks are a subset" '[[ $(wc -l < "$T/cur/tracks.csv") -le $(wc -l < "$T/cur/tracks_unfiltered.csv") ]]'
out=$("$SPOTFLOW" run "$RECIPES/curate_tracks.json" -i movie="$T/sim/sample_000/movie.tif" \
  --set curate.model_file="$T/tr/best_model.json" --out "$T/cur2" -q 2>&1); rc=$?
check "curate_tracks with a trained model rc=$rc: $out" '[[ $rc -eq 0 && -s "$T/cur2/tracks.csv" ]]'

echo "$pass passed, $fail failed"
[[ $fail -eq 0 ]]
