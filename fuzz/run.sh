#!/usr/bin/env bash
# Runs each fuzz target of a TROVE_FUZZ build for a set time on a copy of its seed corpus
# (`make fuzz` calls it; docs/FUZZING.md). Usage:
#   fuzz/run.sh BUILD_DIR SECONDS [TARGET...]     (default: every fuzz/<name>_fuzzer.cpp)
# FUZZ_TIMEOUT (default 10): seconds of wall-clock time one input may take before it counts as
# a hang; raise it when the fuzzers share the machine at a low priority, where a starved input
# can take that long without hanging.
# ASAN_OPTIONS defaults to malloc_context_size=0: ASan still catches every bad access, leak
# and double free, but stops recording a stack trace for each allocation, which was the search
# target's largest cost (StackDepot 15 % of its time under perf; about twice the executions
# per second without it).
# A report then lacks the allocation's stack: replay the artifact with ASAN_OPTIONS unset to
# get it (`BUILD_DIR/fuzz/<name>_fuzzer ARTIFACT`).
# The working corpus, crash inputs and logs go to BUILD_DIR/fuzz-work/<name>/. Prints one line
# per target with its executions; exits 1 if any target crashed, hung (-timeout), ran out of
# memory or printed a sanitizer report.
set -u
build=${1:?usage: fuzz/run.sh BUILD_DIR SECONDS [TARGET...]}
seconds=${2:?usage: fuzz/run.sh BUILD_DIR SECONDS [TARGET...]}
shift 2
src=$(cd "$(dirname "$0")" && pwd)
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for f in "$src"/*_fuzzer.cpp; do targets+=("$(basename "$f" _fuzzer.cpp)"); done
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-malloc_context_size=0}
failed=0
printf '%-14s %14s %10s %8s %10s  %s\n' target executions exec/s seconds corpus result
for t in "${targets[@]}"; do
  bin="$build/fuzz/${t}_fuzzer"
  work="$build/fuzz-work/$t"
  mkdir -p "$work/corpus" "$work/artifacts"
  cp -n "$src/corpus/$t/"* "$work/corpus/" 2>/dev/null
  dict=()
  [ -f "$src/dict/$t.dict" ] && dict=(-dict="$src/dict/$t.dict")
  start=$(date +%s)
  "$bin" -max_total_time="$seconds" -timeout="${FUZZ_TIMEOUT:-10}" -rss_limit_mb=2048 -max_len=8192 \
    -print_final_stats=1 -artifact_prefix="$work/artifacts/" "${dict[@]}" "$work/corpus" \
    > "$work/log" 2>&1
  rc=$?
  elapsed=$(( $(date +%s) - start ))
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work/log" | grep -o '[0-9]*$' | tail -1)
  rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$work/log" | grep -o '[0-9]*$' | tail -1)
  files=$(ls "$work/corpus" | wc -l)
  result=ok
  if [ $rc -ne 0 ] || grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|FUZZ_CHECK' "$work/log"; then
    result="FAILED (rc $rc; see $work/log and $work/artifacts/)"
    failed=1
  fi
  printf '%-14s %14s %10s %8s %10s  %s\n' "$t" "${execs:-?}" "${rate:-?}" "$elapsed" "$files" "$result"
done
exit $failed
