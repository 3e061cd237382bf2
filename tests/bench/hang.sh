#!/bin/bash
# Measures what the hang detector costs a fork-heavy workload.
#
# usage: tests/bench/hang.sh [BUILD_DIR]     (default: build)
#
# The workload is BUILD_DIR/examples/fork_many 2000, traced with
# 'forktrace -qq --stacks=none', once with the detector off
# (--hang-after=0) and once with its default.  With the detector on,
# forktrace samples every thread each second and reads the files of each
# member that lived 2 ms or more at its exit.  Each round runs both, in an
# order that alternates from round to round, and the ratio is taken within
# the round.  BENCH_ROUNDS sets the number of rounds (default 7).
set -u
export LC_ALL=C

build=${1:-build}
rounds=${BENCH_ROUNDS:-7}
forktrace=$build/forktrace
workload=$build/examples/fork_many

if [[ ! $rounds =~ ^[0-9]+$ ]] || ((10#$rounds < 1)); then
	echo "hang.sh: BENCH_ROUNDS must be a positive integer, not '$rounds'" >&2
	exit 2
fi
rounds=$((10#$rounds))
for f in "$forktrace" "$workload"; do
	if [ ! -x "$f" ]; then
		echo "hang.sh: $f is missing: run 'make' first" >&2
		exit 2
	fi
done
if [ -z "${EPOCHREALTIME:-}" ]; then
	echo "hang.sh: needs bash 5 for EPOCHREALTIME" >&2
	exit 2
fi

# Runs forktrace with --hang-after=$1 once and prints its wall time in us.
timed_run() {
	local start end
	start=${EPOCHREALTIME/./}
	if ! timeout -k 5 120 "$forktrace" -qq --stacks=none \
		--hang-after="$1" "$workload" 2000 >/dev/null; then
		echo "hang.sh: the run with --hang-after=$1 failed" >&2
		exit 1
	fi
	end=${EPOCHREALTIME/./}
	echo $((end - start))
}

echo "forktrace hang-detector bench: $workload 2000, --stacks=none"
echo "rounds: $rounds, kernel $(uname -r), nproc $(nproc)"
timed_run 0 >/dev/null
timed_run 10 >/dev/null
echo "round  off ms  on ms  on/off"
for ((r = 1; r <= rounds; r++)); do
	if ((r % 2)); then
		off=$(timed_run 0) || exit 1
		on=$(timed_run 10) || exit 1
	else
		on=$(timed_run 10) || exit 1
		off=$(timed_run 0) || exit 1
	fi
	echo "$r $off $on"
done | awk '
{
	printf "%5d %7.1f %6.1f %7.3f\n", $1, $2 / 1e3, $3 / 1e3, $3 / $2
	ratio[NR] = $3 / $2
}
END {
	for (i = 2; i <= NR; i++)
		for (j = i; j > 1 && ratio[j - 1] > ratio[j]; j--) {
			x = ratio[j]; ratio[j] = ratio[j - 1]; ratio[j - 1] = x
		}
	median = NR % 2 ? ratio[(NR + 1) / 2] : \
		(ratio[NR / 2] + ratio[NR / 2 + 1]) / 2
	printf "on/off ratio: median %.3f, min %.3f, max %.3f\n", median,
		ratio[1], ratio[NR]
}'
