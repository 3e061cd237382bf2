#!/bin/sh
# Runs cmocka test programs and prints one closing line with the totals.
#
# usage: tests/run.sh BUILD_DIR TEST_PROGRAM...
# Each program gets at most FT_TEST_TIMEOUT seconds (default 600).
set -u
build=$1
shift
timeout=${FT_TEST_TIMEOUT:-600}
passed=0
failed=0
skipped=0
broken=

for test in "$@"; do
	log="$build/tests/$(basename "$test").log"
	timeout -k 10 "$timeout" "$test" >"$log" 2>&1
	rc=$?
	cat "$log"
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n 1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n 1)
	s=$(sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' "$log" | tail -n 1)
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0}))
	skipped=$((skipped + ${s:-0}))
	# A program that crashed or timed out has no summary of its own.
	if [ "$rc" -ne 0 ] && [ -z "$f" ]; then
		failed=$((failed + 1))
		broken="$broken $(basename "$test")(exit $rc)"
	fi
done

[ -n "$broken" ] && echo "test programs that did not finish:$broken"
echo "check: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
