#!/bin/sh
# Runs each libFuzzer target for a bounded time, from its seed corpus in
# tests/fuzz/corpus/TARGET, and prints one line per target: the inputs
# run, the executions per second, and whether it crashed.
#
# usage: tests/fuzz/run.sh BUILD_DIR SECONDS TARGET...
# New inputs go to BUILD_DIR/corpus/TARGET, crashing ones to
# BUILD_DIR/crashes, and each target's output to BUILD_DIR/TARGET.log.
set -u
build=$1
seconds=$2
shift 2
status=0
# Leaks inside libraries are not forktrace's to fix.
LSAN_OPTIONS="suppressions=$(pwd)/tests/fuzz/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export LSAN_OPTIONS

for target in "$@"; do
	name=$(basename "$target")
	work="$build/corpus/$name"
	log="$build/$name.log"
	mkdir -p "$work" "$build/crashes"
	# An input that runs for more than 10 s counts as a hang.
	"$target" -max_total_time="$seconds" -timeout=10 \
		-print_final_stats=1 -artifact_prefix="$build/crashes/$name-" \
		"$work" "tests/fuzz/corpus/$name" >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
	if [ "$rc" -eq 0 ]; then
		result="no crash"
	else
		result="FAILED with exit $rc, see $log"
		status=1
	fi
	echo "$name: ${runs:-?} inputs in ${seconds} s, ${rate:-?}/s, $result"
done
exit $status
