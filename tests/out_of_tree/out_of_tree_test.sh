#!/usr/bin/env bash
# The third-party route, exactly as a lab would take it: install spotflow,
# build the example C plugin and the example C++ plugin out of tree against
# the installed SDK with find_package(spotflow), drop the .so files into a
# folder on SPOTFLOW_PLUGIN_PATH, and run a recipe that uses each with the
# installed CLI.
# Usage: out_of_tree_test.sh BUILD_DIR SOURCE_DIR MAKE_TEST_MOVIE
set -euo pipefail
BUILD=$1; SRC=$2; MAKE_MOVIE=$3
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT

cmake --install "$BUILD" --prefix "$T/prefix" >/dev/null
cmake -S "$SRC/examples/plugins/threshold_detector" -B "$T/build" -DCMAKE_PREFIX_PATH="$T/prefix" \
      -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$T/build" >/dev/null
mkdir "$T/plugins"
cp "$T/build/example_threshold.so" "$T/plugins/"
cmake -S "$SRC/examples/plugins/frame_stats" -B "$T/build_cpp" -DCMAKE_PREFIX_PATH="$T/prefix" \
      -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$T/build_cpp" >/dev/null
cp "$T/build_cpp/example_frame_stats.so" "$T/plugins/"

# The plugin links nothing of spotflow.
for so in example_threshold example_frame_stats; do
  if ldd "$T/plugins/$so.so" | grep -qi spotflow; then echo "FAIL: $so links spotflow"; exit 1; fi
done

"$MAKE_MOVIE" --out "$T/movie.tif" --truth "$T/truth.csv" --frames 10 --size 64 --spots 5 --seed 3 >/dev/null
export SPOTFLOW_PLUGIN_PATH="$T/plugins"
"$T/prefix/bin/spotflow" describe example.threshold | grep -q "library: $T/plugins/example_threshold.so" \
  || { echo "FAIL: describe does not show the dropped-in library"; exit 1; }
"$T/prefix/bin/spotflow" run "$SRC/examples/recipes/threshold.json" --input movie="$T/movie.tif" --out "$T/out" -q

head -1 "$T/out/detections.csv" | grep -qx 'frame,x,y,intensity,background' \
  || { echo "FAIL: header: $(head -1 "$T/out/detections.csv")"; exit 1; }
rows=$(($(wc -l < "$T/out/detections.csv") - 1))
truth=$(($(wc -l < "$T/truth.csv") - 1))
# 5 bright, well separated spots in 10 frames: every one found, nothing else.
[[ $rows -eq $truth ]] || { echo "FAIL: $rows detections for $truth true spots"; exit 1; }
grep -q '"plugin": "example.threshold"' "$T/out/run.json" || { echo "FAIL: run.json lacks the plugin"; exit 1; }

# The C++ plugin: one row per frame, frames 0..9 in order, max >= mean.
"$T/prefix/bin/spotflow" run "$SRC/examples/recipes/frame_stats.json" --input movie="$T/movie.tif" --out "$T/out_cpp" -q
head -1 "$T/out_cpp/frame_stats.csv" | grep -qx 'frame,mean,max' \
  || { echo "FAIL: C++ header: $(head -1 "$T/out_cpp/frame_stats.csv")"; exit 1; }
[[ "$(tail -n +2 "$T/out_cpp/frame_stats.csv" | cut -d, -f1 | tr '\n' ' ')" == "0 1 2 3 4 5 6 7 8 9 " ]] \
  || { echo "FAIL: C++ frames: $(cut -d, -f1 "$T/out_cpp/frame_stats.csv" | tr '\n' ' ')"; exit 1; }
awk -F, 'NR > 1 && !($3 >= $2) { exit 1 }' "$T/out_cpp/frame_stats.csv" || { echo "FAIL: C++ max < mean"; exit 1; }
echo "out_of_tree: 2 passed, 0 failed"
