#!/usr/bin/env bash
# Runs each libFuzzer target FUZZ_SECONDS (default 600), two at a time, on
# its seed corpus (tests/fuzz/seeds/NAME plus inputs found by earlier runs in
# FUZZ_DIR/corpus/NAME). Exits non-zero on any crash, leak or timeout; the
# input that caused it is left in FUZZ_DIR.
# Usage: run_fuzzers.sh FUZZ_DIR NAME...
set -u
DIR=$(cd "$1" && pwd); shift
SRC=$(cd "$(dirname "$0")" && pwd)
SECONDS_EACH=${FUZZ_SECONDS:-600}
status=0
run_one() {
  local name=$1 corpus="$DIR/corpus/$1"
  mkdir -p "$corpus"
  local dict=(); [[ -f "$SRC/$name.dict" ]] && dict=(-dict="$SRC/$name.dict")
  # rss_limit: a reader that follows a size read from its input past 2 GB is
  # a finding; timeout: so is one input taking 10 s.
  (cd "$DIR" && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
     "./fuzz_$name" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
     -print_final_stats=1 "${dict[@]}" -artifact_prefix="$DIR/$name-" "$corpus" "$SRC/seeds/$name" \
     > "$DIR/$name.log" 2>&1)
  local rc=$?
  local execs; execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$DIR/$name.log")
  if [[ $rc -eq 0 ]]; then echo "fuzz_$name: ${SECONDS_EACH} s, ${execs:-?} runs, no crash"
  else echo "fuzz_$name: FAILED (exit $rc), see $DIR/$name.log:"; grep -E 'ERROR|SUMMARY|Test unit written' "$DIR/$name.log" | head -5; fi
  return $rc
}
names=("$@")
for ((i = 0; i < ${#names[@]}; i += 2)); do
  pids=()
  for n in "${names[@]:i:2}"; do run_one "$n" & pids+=($!); done
  for p in "${pids[@]}"; do wait "$p" || status=1; done
done
exit $status
