#!/usr/bin/env bash
# End-to-end checks of the spotflow CLI: exit codes, one clear error line
# naming the cause, no partial output.
# Usage: cli_test.sh SPOTFLOW PLUGINS BAD_PLUGINS RECIPES ABI_PLUGINS
set -u
SPOTFLOW=$1; PLUGINS=$2; BAD=$3; R=$4; ABI=$5
export SPOTFLOW_PLUGIN_PATH=$PLUGINS
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
pass=0; fail=0

# expect NAME RC REGEX -- command...: exit code RC and stderr+stdout matching REGEX.
expect() {
  local name=$1 rc=$2 re=$3; shift 4
  local out; out=$("$@" 2>&1); local got=$?
  if [[ $got -eq $rc ]] && grep -Eq -- "$re" <<<"$out"; then pass=$((pass+1));
  else fail=$((fail+1)); echo "FAIL $name: rc=$got (want $rc); output:"; echo "$out" | head -20; echo "(want /$re/)"; fi
}
# no_partial DIR: nothing but run.json may be left.
no_partial() {
  local name=$1 dir=$2
  local left; left=$(find "$dir" -mindepth 1 ! -name run.json ! -name run-failed.json 2>/dev/null)
  if [[ -z "$left" ]]; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL $name: partial output: $left"; fi
}
# one_error_line NAME: the failing command printed exactly one line.
one_line() {
  local name=$1; shift
  local n; n=$("$@" 2>&1 | wc -l)
  if [[ $n -eq 1 ]]; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL $name: $n lines of error output"; "$@" 2>&1 | head; fi
}

expect version 0 '^spotflow [0-9]+\.[0-9]+\.[0-9]+ \(plugin ABI 1\.1\)' -- "$SPOTFLOW" --version
expect help 0 'run.*Run a recipe' -- "$SPOTFLOW" --help
expect run-help 0 '--threads' -- "$SPOTFLOW" run --help
expect plugins 0 'test\.movie_source +1\.0\.0 +source' -- "$SPOTFLOW" plugins
expect plugins-params 0 'params: chunk=4 frames=20 size=8' -- "$SPOTFLOW" plugins
expect plugins-json 0 '"id": "test.summary"' -- "$SPOTFLOW" plugins --json
expect describe 0 'chunk +integer +default 4; >= 1' -- "$SPOTFLOW" describe test.movie_source
expect describe-json 0 '"params_schema"' -- "$SPOTFLOW" describe test.movie_source --json
expect describe-unknown 2 "unknown plugin 'nope.x'" -- "$SPOTFLOW" describe nope.x
expect validate 0 'ok \(3 nodes, 2 edges\)' -- "$SPOTFLOW" validate "$R/chain.json"
# validate without --input: structure, params and wiring are checked, the
# inputs still to bind are listed, exit 0; a bad param is still an error.
expect validate-unbound 0 'ok \(2 nodes, 1 edges\)' -- "$SPOTFLOW" validate "$R/with_input.json"
expect validate-lists-input 0 '^  movie \(required; used by sum\)$' -- "$SPOTFLOW" validate "$R/with_input.json"
expect validate-bound 0 'ok \(2 nodes, 1 edges\)$' -- "$SPOTFLOW" validate "$R/with_input.json" --input movie=/nowhere.tif
expect validate-unbound-bad-param 2 'nodes/0/params/chunks: -1 is less than the minimum 0' -- \
  "$SPOTFLOW" validate "$R/with_input.json" --set src.chunks=-1
expect graph 0 '"src" -> "count" \[label="movie → movie' -- "$SPOTFLOW" graph "$R/chain.json"

# A good run: outputs committed, run.json with provenance.
expect run 0 'done in' -- "$SPOTFLOW" run "$R/chain.json" --out "$T/ok" --threads 2
expect run-output 0 '^12 66 ordered$' -- cat "$T/ok/sum.txt"
expect run-json-status 0 '"status": "ok"' -- cat "$T/ok/run.json"
expect run-json-sha 0 '"sha256": "[0-9a-f]{64}"' -- cat "$T/ok/run.json"
expect run-json-defaults 0 '"sleep_ms": 0' -- cat "$T/ok/run.json"
expect run-json-seed 0 '"seed": 7' -- cat "$T/ok/run.json"
expect set-override 0 '^$' -- "$SPOTFLOW" run "$R/chain.json" --out "$T/set" --set src.frames=4 -q
expect set-output 0 '^4 6 ordered$' -- cat "$T/set/sum.txt"
expect input-bound 0 'done' -- "$SPOTFLOW" run "$R/with_input.json" --out "$T/in" --input "$R/chain.json"
expect input-substituted 0 '^9 36 ordered from /.*/chain.json$' -- cat "$T/in/sum.txt"

# Bad input: one line, non-zero exit, nothing written.
expect malformed 2 'malformed.json:5:3: malformed JSON' -- "$SPOTFLOW" run "$R/malformed.json" --out "$T/m"
one_line malformed-one-line "$SPOTFLOW" run "$R/malformed.json" --out "$T/m"
[[ ! -e "$T/m" ]] && pass=$((pass+1)) || { fail=$((fail+1)); echo "FAIL malformed: output folder created"; }
expect missing-recipe 2 "cannot read recipe '.*nope.json': no such file" -- "$SPOTFLOW" run "$T/nope.json"
expect bad-param 2 'nodes/0/params/chunk: -3 is less than the minimum 1 \(node "src"' -- "$SPOTFLOW" validate "$R/bad_param.json"
one_line bad-param-one-line "$SPOTFLOW" run "$R/bad_param.json" --out "$T/bp"
expect unknown-plugin 2 "nodes/0/plugin: unknown plugin 'detect.nothing'" -- "$SPOTFLOW" run "$R/unknown_plugin.json"
expect wrong-types 2 "src.numbers gives 'detections' but count.movie takes 'movie'" -- "$SPOTFLOW" run "$R/wrong_types.json"
expect cycle 2 'cycle through nodes a, b' -- "$SPOTFLOW" validate "$R/cycle.json"
expect unbound-input 2 "input 'movie' is not bound: pass --input movie=PATH" -- "$SPOTFLOW" run "$R/with_input.json" --out "$T/ub"
expect missing-input 2 "input 'movie': no such file '.*/absent.tif'" -- "$SPOTFLOW" run "$R/with_input.json" --input movie="$T/absent.tif" --out "$T/mi"
[[ ! -e "$T/mi" ]] && pass=$((pass+1)) || { fail=$((fail+1)); echo "FAIL missing-input: output folder created"; }
expect bad-set 2 "--set 'nosuch.x=1': the recipe has no node 'nosuch'" -- "$SPOTFLOW" run "$R/chain.json" --set nosuch.x=1
expect bad-threads 2 'threads' -- "$SPOTFLOW" run "$R/chain.json" --threads 0
touch "$T/afile"
expect out-not-writable 2 "cannot create output folder '.*afile/sub'" -- "$SPOTFLOW" run "$R/chain.json" --out "$T/afile/sub"

# A plugin failing mid-stream: exit 1, the node and cause named, no output kept.
expect midstream 1 'node "count" \(test.frame_counter\): frame 6: asked to fail mid-stream' -- \
  "$SPOTFLOW" run "$R/chain.json" --out "$T/mid" --set count.fail_at_frame=6
no_partial midstream-no-partial "$T/mid"
expect midstream-run-json 0 '"status": "failed"' -- cat "$T/mid/run.json"
one_line midstream-one-line "$SPOTFLOW" run "$R/chain.json" --out "$T/mid2" --set count.fail_at_frame=6 -q

# A checkpoint published mid-run (ABI 1.1) survives a later failure, and the
# run says so; the unpublished output does not. A 1.0 loss is hashed in run.json.
export SPOTFLOW_PLUGIN_PATH=$ABI/trainer:$ABI/v1_0
expect publish-run 0 'done in' -- "$SPOTFLOW" run "$R/checkpoint.json" --out "$T/ck"
expect publish-outputs 0 '"outputs": \[$' -- cat "$T/ck/run.json"
expect publish-final 0 '^final$' -- cat "$T/ck/final.txt"
expect publish-loss-hashed 0 '"kind": "loss"' -- cat "$T/ck/run.json"
expect publish-fail 1 'asked to fail after publishing \(only the 1 published output\(s\) were kept, see run.json\)' -- \
  "$SPOTFLOW" run "$R/checkpoint.json" --out "$T/ckf" --set train.fail=1
one_line publish-fail-one-line "$SPOTFLOW" run "$R/checkpoint.json" --out "$T/ckf2" --set train.fail=1 -q
left=$(cd "$T/ckf" && ls -A | tr '\n' ' ')
[[ "$left" == "ckpt.txt run.json " ]] && pass=$((pass+1)) || { fail=$((fail+1)); echo "FAIL publish-kept: left '$left'"; }
expect publish-kept-json 0 '"kept_after_failure": "1 published output' -- cat "$T/ckf/run.json"
expect publish-kept-content 0 '^v2 loss 1.666667' -- cat "$T/ckf/ckpt.txt"

# Libraries the loader refuses are reported by path and reason; the rest load.
export SPOTFLOW_PLUGIN_PATH=$BAD:$PLUGINS
expect bad-no-entry 0 "skipped .*bad_no_entry.so: not a spotflow plugin: no 'spotflow_entry' symbol" -- "$SPOTFLOW" plugins
expect bad-abi 0 "skipped .*bad_abi_major.so: built for plugin ABI 2.0, this host speaks 1.1" -- "$SPOTFLOW" plugins
expect bad-desc 0 "skipped .*bad_descriptor.so: invalid plugin id 'Bad.Id'" -- "$SPOTFLOW" plugins
expect still-loads 0 'test\.summary' -- "$SPOTFLOW" plugins

# Ctrl-C, kill (SIGTERM) and a closed terminal (SIGHUP): a slow run exits
# 130 and keeps no output, not even hidden temporary files.
export SPOTFLOW_PLUGIN_PATH=$PLUGINS
slow=(run "$R/chain.json" --set src.frames=400 --set src.chunk=1 --set count.sleep_ms=20 -q)
for sig in INT TERM HUP; do
  "$SPOTFLOW" "${slow[@]}" --out "$T/int_$sig" >/dev/null 2>&1 &
  pid=$!; sleep 1; kill -$sig $pid; wait $pid; rc=$?
  [[ $rc -eq 130 ]] && pass=$((pass+1)) || { fail=$((fail+1)); echo "FAIL interrupt-$sig: rc=$rc (want 130)"; }
  no_partial interrupt-no-partial-$sig "$T/int_$sig"
done

# A run killed outright (SIGKILL) leaves its temporary files; the next run
# into the folder removes them and says so.
"$SPOTFLOW" "${slow[@]}" --out "$T/killed" >/dev/null 2>&1 &
pid=$!; sleep 1; kill -KILL $pid; wait $pid 2>/dev/null
# (test.summary opens its file only at the end: leave one as a killed run would)
echo partial > "$T/killed/.sum.txt.spotflow-partial-999999-0"
expect stale-cleaned 0 'removed [0-9]+ temporary file\(s\) that an earlier, killed run left' -- \
  "$SPOTFLOW" run "$R/chain.json" --out "$T/killed" -q
left=$(find "$T/killed" -name '*.spotflow-partial*')
[[ -z "$left" ]] && pass=$((pass+1)) || { fail=$((fail+1)); echo "FAIL stale-cleaned: left $left"; }

# Two runs into one folder at once: the second fails at once, the first is whole.
"$SPOTFLOW" "${slow[@]}" --out "$T/busy" >/dev/null 2>&1 &
pid=$!; sleep 0.5
expect locked 2 "output folder '.*busy' is in use by another spotflow run" -- "$SPOTFLOW" run "$R/chain.json" --out "$T/busy" -q
kill -TERM $pid; wait $pid

# A failed run into a good run's folder keeps the good run's run.json.
"$SPOTFLOW" run "$R/chain.json" --out "$T/good" -q
expect failed-beside 1 'see run-failed.json' -- "$SPOTFLOW" run "$R/chain.json" --out "$T/good" --set count.fail_at_frame=6 -q
expect good-record-kept 0 '"status": "ok"' -- cat "$T/good/run.json"
expect failed-record 0 '"status": "failed"' -- cat "$T/good/run-failed.json"
expect rerun-ok 0 '^$' -- "$SPOTFLOW" run "$R/chain.json" --out "$T/good" -q
[[ ! -e "$T/good/run-failed.json" ]] && pass=$((pass+1)) || { fail=$((fail+1)); echo "FAIL rerun: run-failed.json left"; }

# Someone's file in --out is not replaced without --force; an input never is.
mkdir -p "$T/theirs"; echo mine > "$T/theirs/sum.txt"
# (test.summary claims its file mid-run, so this is a failed run, exit 1;
# plugins that claim at create, such as write.csv, give exit 2)
expect foreign-refused 1 "output folder '.*theirs' already holds 'sum.txt', which no earlier run there wrote" -- \
  "$SPOTFLOW" run "$R/chain.json" --out "$T/theirs" -q
expect foreign-kept 0 '^mine$' -- cat "$T/theirs/sum.txt"
expect foreign-forced 0 '^$' -- "$SPOTFLOW" run "$R/chain.json" --out "$T/theirs" -q --force
cp "$R/chain.json" "$T/sum.txt"
expect input-protected 1 "output 'sum.txt' would replace '.*/sum.txt', an input of this run" -- \
  "$SPOTFLOW" run "$R/with_input.json" --input "$T/sum.txt" --out "$T" -q --force

echo "cli: $pass passed, $fail failed"
[[ $fail -eq 0 ]]
