#!/bin/bash
# Measures how long 'forktrace --snapshot -p' takes on a family of 100
# processes with 4 threads each (examples/attach_family), the end to end
# time of the command: attach, the snapshot with every stack, and detach.
#
# usage: tests/bench/snapshot.sh [BUILD_DIR]     (default: build)
#
# BENCH_ROUNDS sets the number of snapshots (default 7).  The family is
# started once and ended by closing its FIFO; every run is bounded by
# 'timeout -k 5 60'.
set -u
export LC_ALL=C

build=${1:-build}
rounds=${BENCH_ROUNDS:-7}
forktrace=$build/forktrace
dir=$(mktemp -d)
fifo=$dir/family.fifo
trap 'exec 7>&-; rm -rf "$dir"' EXIT

mkfifo "$fifo"
# The FIFO's writer, held here so that the family waits.
exec 7<>"$fifo"
# Its output comes through a pipe: it has started once it prints so.
exec 8< <(exec "$build/examples/attach_family" "$fifo" 99 0 4 7>&-)
family=$!
started=
while read -r -t 60 -u 8 line; do
	if [[ $line == "forked all" ]]; then
		started=1
		break
	fi
done
if [[ -z $started ]]; then
	echo "snapshot.sh: the family did not start" >&2
	exit 1
fi

times=()
for ((i = 0; i < rounds; i++)); do
	start=$EPOCHREALTIME
	if ! timeout -k 5 60 "$forktrace" --snapshot -p "$family" \
		-o /dev/null 7>&-; then
		echo "snapshot.sh: forktrace failed" >&2
		exit 1
	fi
	end=$EPOCHREALTIME
	times+=("$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", (b - a) * 1000 }')")
done
exec 7>&-
wait "$family"

sorted=$(printf '%s\n' "${times[@]}" | sort -n)
echo "snapshot of 100 processes with 4 threads each, $rounds runs"
echo "  median $(echo "$sorted" | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }') ms," \
	"min $(echo "$sorted" | head -n 1) ms, max $(echo "$sorted" | tail -n 1) ms"
