#!/usr/bin/env bash
# Runs every tests/bad_inputs/*.case (see README.md): exit code, the error or
# warning line, no partial output, and where asked a bound on peak memory.
# Usage: run_cases.sh SPOTFLOW PLUGIN_DIR [CASE...]
set -u
SPOTFLOW=$1; PLUGINS=$2; shift 2
D=$(cd "$(dirname "$0")" && pwd)
R=$(cd "$D/../../examples/recipes" && pwd)
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT

# Inputs that cannot be committed: a FIFO, a 20,000-deep and a 17 MiB recipe,
# a real plugin cut in half, output folders that hold someone's files.
mkfifo "$T/fifo"
{ printf '%.0s[' $(seq 20000); printf '%.0s]' $(seq 20000); } > "$T/deep.json"
head -c $((17 << 20)) /dev/zero | tr '\0' ' ' > "$T/large.json"
mkdir -p "$T/truncated" "$T/foreign" "$T/victim"
so="$PLUGINS/spotflow_write_csv.so"
head -c $(( $(stat -c %s "$so") / 2 )) "$so" > "$T/truncated/spotflow_write_csv.so"
echo "someone's file" > "$T/foreign/detections.csv"
cp "$D/good_small.tif" "$T/victim/detections.csv"

have_time=0; [[ -x /usr/bin/time ]] && have_time=1
pass=0; fail=0; peaks=()
cases=("$@"); [[ ${#cases[@]} -eq 0 ]] && cases=("$D"/*.case)
for c in "${cases[@]}"; do
  name=$(basename "$c" .case)
  O="$T/out_$name"
  sub() { local s=${1//@D@/$D}; s=${s//@R@/$R}; s=${s//@T@/$T}; echo "${s//@O@/$O}"; }
  want_rc=$(sed -n 's/^exit //p' "$c")
  read -r -a args <<<"$(sub "$(sed -n 's/^args //p' "$c")")"
  maxrss=$(sed -n 's/^maxrss_mb //p' "$c")
  envs=(); while read -r e; do [[ -n "$e" ]] && envs+=("$(sub "$e")"); done < <(sed -n 's/^env //p' "$c")
  if [[ $have_time -eq 1 ]]; then
    out=$(env "${envs[@]}" /usr/bin/time -f 'maxrss_kb %M' -o "$T/rss" timeout 60 "$SPOTFLOW" "${args[@]}" 2>&1 </dev/null); rc=$?
  else
    out=$(env "${envs[@]}" timeout 60 "$SPOTFLOW" "${args[@]}" 2>&1 </dev/null); rc=$?
  fi
  ok=1; why=""
  [[ "$rc" == "$want_rc" ]] || { ok=0; why="exit $rc, want $want_rc"; }
  while IFS= read -r re; do
    grep -Eq -- "$re" <<<"$out" || { ok=0; why="$why; no line matches /$re/"; }
  done < <(sed -n 's/^expect //p' "$c")
  if [[ "$want_rc" != 0 && -d "$O" ]]; then
    left=$(find "$O" -mindepth 1 ! -name run.json ! -name run-failed.json)
    [[ -z "$left" ]] || { ok=0; why="$why; partial output: $left"; }
  fi
  if [[ -n "$maxrss" && $have_time -eq 1 ]]; then
    kb=$(sed -n 's/^maxrss_kb //p' "$T/rss")
    [[ -n "$kb" && $kb -le $((maxrss * 1024)) ]] || { ok=0; why="$why; peak memory ${kb:-?} kB > $maxrss MB"; }
  fi
  [[ $have_time -eq 1 ]] && peaks+=("$name $(( $(sed -n 's/^maxrss_kb //p' "$T/rss") / 1024 ))")
  if [[ $ok -eq 1 ]]; then pass=$((pass + 1));
  else fail=$((fail + 1)); echo "FAIL $name: $why"; echo "$out" | head -8 | sed 's/^/    /'; fi
done
[[ ${#peaks[@]} -gt 0 ]] && echo "peak resident memory (MB): ${peaks[*]}"
echo "bad_inputs: $pass passed, $fail failed"
[[ $fail -eq 0 ]]
