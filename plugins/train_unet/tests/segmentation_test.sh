#!/usr/bin/env bash
# Seed 003's loop end to end on tiny simulated images, in seconds: sim.spheroids
# -> train.unet (checkpoints, best model, metrics log, figure, resume that
# continues exactly) -> segment.unet (files, summary) -> eval.segmentation ->
# review.flag; and the issue's bad input, each one clear line naming the
# file, a non-zero exit and no partial output.
# Usage: segmentation_test.sh SPOTFLOW RECIPES_DIR
set -u
SPOTFLOW=$1; RECIPES=$2
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
export OMP_WAIT_POLICY=passive
pass=0; fail=0
check() { if eval "$2"; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL $1"; fi; }
col() { awk -F, -v name="$2" -v row="${3:-0}" 'NR==1{for(i=1;i<=NF;i++) if($i==name) c=i; next}
        {v[NR-1]=$c} END{print (row>0 ? v[row] : v[NR-1])}' "$1"; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN{exit !(a+0 >= b+0)}'; }
# Only run.json left in a failed run's folder.
nothing_partial() { [[ -z "$(find "$1" -type f ! -name run.json 2>/dev/null)" ]]; }

SIM=(--set sim.count=2 --set sim.width=96 --set sim.height=96 --set 'sim.spheroids={"radius_px":[8,14],"coverage":[0.05,0.08]}')
TINY=(--set train.patch_size=64 --set train.patches_per_image=4 --set train.tile_size=0 --threads 2 -q)
out=$("$SPOTFLOW" run "$RECIPES/train_segmentation.json" "${SIM[@]}" "${TINY[@]}" --set train.epochs=4 --set train.checkpoint_every=2 --out "$T/tr" 2>&1); rc=$?
check "train rc=$rc: $out" '[[ $rc -eq 0 ]]'
for f in checkpoints/best_model.sfw checkpoints/checkpoint_epoch_002.pt checkpoints/checkpoint_epoch_002.json checkpoints/checkpoint_epoch_004.pt \
         config.json metrics.jsonl metrics.csv training_curves.png model_card.json final_model.sfw data/all.csv data/train.csv \
         data/images/spheroids_000.tif data/masks/spheroids_001_mask.tif data/spheroids.csv; do
  check "train wrote $f" '[[ -s "$T/tr/$f" ]]'
done
check "metrics.csv: one row per epoch" '[[ $(wc -l < "$T/tr/metrics.csv") -eq 5 && "$(head -1 "$T/tr/metrics.csv")" == epoch,step,train_loss,train_dice,val_dice,* ]]'
check "checkpoint history holds 2 epochs" '[[ $(grep -c "\"val_dice\"" "$T/tr/checkpoints/checkpoint_epoch_002.json") -ge 2 ]]'
check "best and checkpoints published mid-run" 'grep -q "\"published\"" "$T/tr/run.json" && grep -q "checkpoints/best_model.sfw" "$T/tr/run.json"'

# Resume from epoch 2: epochs 3 and 4 repeat exactly.
out=$("$SPOTFLOW" run "$RECIPES/train_on_images.json" -i data="$T/tr/data/all.csv" "${TINY[@]}" --set train.epochs=4 \
      --set train.resume="$T/tr/checkpoints/checkpoint_epoch_002.pt" --out "$T/re" 2>&1); rc=$?
check "resume rc=$rc: $out" '[[ $rc -eq 0 ]]'
check "resumed val Dice of epoch 4 equals the uninterrupted run's" '[[ "$(col "$T/re/metrics.csv" val_dice 4)" == "$(col "$T/tr/metrics.csv" val_dice 4)" ]]'
check "resumed train loss of epoch 3 equals" '[[ "$(col "$T/re/metrics.csv" train_loss 3)" == "$(col "$T/tr/metrics.csv" train_loss 3)" ]]'

W="$T/tr/checkpoints/best_model.sfw"
out=$("$SPOTFLOW" run "$RECIPES/evaluate_segmentation.json" -i images="$T/tr/data" --set segment.weights="$W" -q --out "$T/ev" 2>&1); rc=$?
check "evaluate rc=$rc: $out" '[[ $rc -eq 0 ]]'
for f in spheroids_000_prob.tif spheroids_000_mask.tif spheroids_001_prob.tif segmentation_summary.csv segmentation_metrics.csv segmentation_scores.json; do
  check "evaluate wrote $f" '[[ -s "$T/ev/$f" ]]'
done
check "summary columns" '[[ "$(head -1 "$T/ev/segmentation_summary.csv")" == index,stem,width,height,coverage,object_count,mean_confidence,* ]]'
check "metrics: 2 images + overall, AP at 0.5/0.75/0.9" '[[ $(wc -l < "$T/ev/segmentation_metrics.csv") -eq 4 ]] && head -1 "$T/ev/segmentation_metrics.csv" | grep -q "ap_50,ap_75,ap_90"'
auc=$(col "$T/ev/segmentation_metrics.csv" auc)
check "overall AUC $auc >= 0.9 after 4 tiny epochs" 'ge "$auc" 0.9'

out=$("$SPOTFLOW" run "$RECIPES/review.json" -i images="$T/tr/data/images" --set segment.weights="$W" --set review.top_n=1 -q --out "$T/rv" 2>&1); rc=$?
check "review rc=$rc: $out" '[[ $rc -eq 0 && $(wc -l < "$T/rv/needs_correction.txt") -eq 1 ]]'
check "review ranks both" '[[ $(wc -l < "$T/rv/review_scores.csv") -eq 3 ]]'

# ---- bad input
mkdir -p "$T/bad"
# A mask of another size than its image.
"$SPOTFLOW" run "$RECIPES/train_segmentation.json" --set sim.count=1 --set sim.width=64 --set sim.height=48 --set train.epochs=1 -q --out "$T/other" >/dev/null 2>&1
printf 'image_path,mask_path\n%s,%s\n' "$T/tr/data/images/spheroids_000.tif" "$T/other/data/masks/spheroids_000_mask.tif" > "$T/bad/size.csv"
out=$("$SPOTFLOW" run "$RECIPES/train_on_images.json" -i data="$T/bad/size.csv" -q --out "$T/b1" 2>&1); rc=$?
check "mask size: rc=$rc, one line naming the mask: $out" '[[ $rc -ne 0 && $(echo "$out" | wc -l) -eq 1 && "$out" == *"spheroids_000_mask.tif'"'"' is 64 x 48 px but its image"* ]] && nothing_partial "$T/b1"'
# A non-binary mask where binary is expected (the simulator's instance labels).
out=$("$SPOTFLOW" run "$RECIPES/train_on_images.json" -i data="$T/tr/data/all.csv" --set read.mask_kind=binary -q --out "$T/b2" 2>&1); rc=$?
check "non-binary mask: rc=$rc: $out" '[[ $rc -ne 0 && "$out" == *"_mask.tif'"'"' is not binary"* ]] && nothing_partial "$T/b2"'
# A manifest naming a missing file.
printf 'image_path,mask_path\nnope.tif,nope_mask.tif\n' > "$T/bad/missing.csv"
out=$("$SPOTFLOW" run "$RECIPES/segment_images.json" -i images="$T/bad/missing.csv" -q --out "$T/b3" 2>&1); rc=$?
check "missing file: rc=$rc: $out" '[[ $rc -ne 0 && "$out" == *"missing.csv'"'"' line 2: image '"'"'"*"nope.tif'"'"' does not exist"* ]] && nothing_partial "$T/b3"'
# A 1 x 1 image (a hand-made 8-bit TIFF).
mkdir -p "$T/one"
printf 'II*\x00\x08\x00\x00\x00\x08\x00\x00\x01\x03\x00\x01\x00\x00\x00\x01\x00\x00\x00\x01\x01\x03\x00\x01\x00\x00\x00\x01\x00\x00\x00\x02\x01\x03\x00\x01\x00\x00\x00\x08\x00\x00\x00\x03\x01\x03\x00\x01\x00\x00\x00\x01\x00\x00\x00\x06\x01\x03\x00\x01\x00\x00\x00\x01\x00\x00\x00\x11\x01\x04\x00\x01\x00\x00\x00\x6e\x00\x00\x00\x16\x01\x03\x00\x01\x00\x00\x00\x01\x00\x00\x00\x17\x01\x04\x00\x01\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x07' > "$T/one/dot.tif"
out=$("$SPOTFLOW" run "$RECIPES/segment_images.json" -i images="$T/one" -q --out "$T/b4" 2>&1); rc=$?
check "1 x 1 image: rc=$rc: $out" '[[ $rc -ne 0 && "$out" == *"dot.tif'"'"' is 1 x 1 px"* ]] && nothing_partial "$T/b4"'
out=$("$SPOTFLOW" run "$RECIPES/segment_images.json" -i images="$T/one" --set read.min_size_px=1 --set segment.weights="$W" -q --out "$T/b5" 2>&1); rc=$?
check "1 x 1 image past the reader: rc=$rc: $out" '[[ $rc -ne 0 && "$out" == *"dot.tif'"'"': 1 x 1 px is too small"* ]] && nothing_partial "$T/b5"'
# An image larger than the tile budget allows without tiling.
out=$("$SPOTFLOW" run "$RECIPES/segment_images.json" -i images="$T/tr/data" --set segment.weights="$W" --set segment.tile_size=0 \
      --set segment.max_tile_pixels=4096 -q --out "$T/b6" 2>&1); rc=$?
check "over the tile budget: rc=$rc: $out" '[[ $rc -ne 0 && "$out" == *"spheroids_000.tif'"'"': 96 x 96 px is larger than the tile budget allows without tiling"* ]] && nothing_partial "$T/b6"'

echo "segmentation_test: $pass passed, $fail failed"
[[ $fail -eq 0 ]]
