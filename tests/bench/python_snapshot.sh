#!/bin/bash
# Measures how long 'forktrace --snapshot -p' takes, end to end (attach,
# snapshot, detach), on a CPython process with 20 threads besides its main
# one (examples/py_threads.py): with the Python frames of every stack, and
# with --python=off in the same rounds, for comparison.
#
# usage: tests/bench/python_snapshot.sh [BUILD_DIR]     (default: build)
#
# BENCH_ROUNDS sets the number of snapshots of each kind (default 7).
# Every run is bounded by 'timeout -k 5 60'.
set -u
export LC_ALL=C

build=${1:-build}
rounds=${BENCH_ROUNDS:-7}
forktrace=$build/forktrace
python=/usr/bin/python3
script=$(dirname "$0")/../../examples/py_threads.py

if [ ! -x "$python" ]; then
	echo "python_snapshot.sh: $python is missing; skipped"
	exit 0
fi
dir=$(mktemp -d)
fifo=$dir/stdin.fifo
mkfifo "$fifo"
trap 'exec 7>&-; rm -rf "$dir"' EXIT
# The program waits for the end of its standard input, which this
# descriptor keeps open.
exec 7<>"$fifo"
exec 8< <(exec "$python" "$script" <"$fifo" 7>&-)
program=$!
if ! read -r -t 60 -u 8 line || [[ $line != ready ]]; then
	echo "python_snapshot.sh: the program did not start" >&2
	exit 1
fi

# Runs one snapshot with option $1 and prints its wall time in ms.
snapshot_ms() {
	local start end

	start=$EPOCHREALTIME
	if ! timeout -k 5 60 "$forktrace" --snapshot "$1" -p "$program" \
		-o /dev/null 7>&-; then
		echo "python_snapshot.sh: forktrace failed" >&2
		exit 1
	fi
	end=$EPOCHREALTIME
	awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f\n", (b - a) * 1000 }'
}

merged=()
native=()
for ((i = 0; i < rounds; i++)); do
	merged+=("$(snapshot_ms --python=merged)") || exit 1
	native+=("$(snapshot_ms --python=off)") || exit 1
done
exec 7>&-
wait "$program"

median() {
	printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'
}
echo "snapshot of a CPython process with 21 threads, $rounds runs each"
echo "  with Python frames: median $(median "${merged[@]}") ms"
echo "  native frames only: median $(median "${native[@]}") ms"
