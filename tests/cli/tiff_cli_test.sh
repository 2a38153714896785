#!/usr/bin/env bash
# The bundled I/O plugins through the CLI: a good movie end to end, and
# corrupt or truncated TIFFs failing with one line naming file and cause,
# exit 1, and no partial output.
# Usage: tiff_cli_test.sh SPOTFLOW EXAMPLE_PLUGIN_DIR MAKE_TEST_MOVIE RECIPE
set -u
SPOTFLOW=$1; export SPOTFLOW_PLUGIN_PATH=$2; MAKE_MOVIE=$3; RECIPE=$4
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
pass=0; fail=0
check() { if eval "$2"; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL $1"; fi; }

"$MAKE_MOVIE" --out "$T/movie.tif" --truth "$T/truth.csv" --frames 30 --size 96 --spots 6 --seed 5 >/dev/null
out=$("$SPOTFLOW" run "$RECIPE" --input movie="$T/movie.tif" --out "$T/ok" 2>&1); rc=$?
check "good run rc=$rc: $out" '[[ $rc -eq 0 ]]'
check "detections.csv written" '[[ -s "$T/ok/detections.csv" ]]'
# The example detector is no localiser: close pairs merge. Nearly all found.
found=$(($(wc -l < "$T/ok/detections.csv") - 1)); truth=$(($(wc -l < "$T/truth.csv") - 1))
check "detections $found of $truth" '[[ $found -le $truth && $((found * 100)) -ge $((truth * 95)) ]]'
check "no temporary left" '[[ -z "$(find "$T/ok" -name ".*spotflow-partial*")" ]]'

# Truncated in the middle of the pixel data: read fails at a page, mid-stream.
size=$(stat -c %s "$T/movie.tif")
head -c $((size / 2)) "$T/movie.tif" > "$T/truncated.tif"
out=$("$SPOTFLOW" run "$RECIPE" --input movie="$T/truncated.tif" --out "$T/trunc" -q 2>&1); rc=$?
check "truncated rc=$rc (want 2: a bad input file)" '[[ $rc -eq 2 ]]'
check "truncated message: $out" 'grep -Eq "node \"read\" \(read.tiff\): movie .*truncated.tif. is truncated or corrupt after page [0-9]+" <<<"$out"'
check "truncated one line" '[[ $(wc -l <<<"$out") -eq 1 ]]'
check "truncated leaves only run.json" '[[ "$(ls -A "$T/trunc")" == "run.json" ]]'

# Not a TIFF at all (and not anything ITK reads).
head -c 4096 /dev/urandom > "$T/noise.tif"
out=$("$SPOTFLOW" run "$RECIPE" --input movie="$T/noise.tif" --out "$T/noise" -q 2>&1); rc=$?
check "garbage rc=$rc (want 2: a bad input file)" '[[ $rc -eq 2 ]]'
check "garbage message: $out" 'grep -q "noise.tif" <<<"$out"'
check "garbage one line" '[[ $(wc -l <<<"$out") -eq 1 ]]'
check "garbage leaves only run.json" '[[ "$(ls -A "$T/noise")" == "run.json" ]]'

# An empty file.
: > "$T/empty.tif"
out=$("$SPOTFLOW" run "$RECIPE" --input movie="$T/empty.tif" --out "$T/empty" -q 2>&1); rc=$?
# (refused before the run: no output folder at all)
check "empty rc=$rc (want 2): $out" '[[ $rc -eq 2 ]] && grep -q "empty.tif. is empty" <<<"$out"'

echo "tiff_cli: $pass passed, $fail failed"
[[ $fail -eq 0 ]]
