#!/bin/bash
# Measures the cost of forktrace's stack capture at fork.
#
# usage: tests/bench/stacks.sh [BUILD_DIR]     (default: build)
#
# The workload is BUILD_DIR/examples/fork_many 2000: one parent forks 2000
# children that exit at once.  It runs untraced, under
# 'forktrace -qq --stacks=none' and under 'forktrace -qq --stacks=fork'.
# Each round runs all three, in an order rotated from round to round.  A
# slow spell of a shared machine then falls on every configuration, and
# each traced run is compared with the untraced run of its own round.
# BENCH_ROUNDS sets the number of rounds (default 7).
#
# Every run is bounded by 'timeout -k 5 120'.  A run that fails or times
# out ends the bench with exit status 1.
set -u
export LC_ALL=C

build=${1:-build}
rounds=${BENCH_ROUNDS:-7}
forks=2000
forktrace=$build/forktrace
workload=$build/examples/fork_many
labels=(untraced --stacks=none --stacks=fork)

if [[ ! $rounds =~ ^[0-9]+$ ]] || ((10#$rounds < 1)); then
	echo "stacks.sh: BENCH_ROUNDS must be a positive integer, not '$rounds'" >&2
	exit 2
fi
rounds=$((10#$rounds))
for f in "$forktrace" "$workload"; do
	if [ ! -x "$f" ]; then
		echo "stacks.sh: $f is missing: run 'make' first" >&2
		exit 2
	fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/forktrace-bench.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

# Sets the array cmd to the command line of configuration $1 (an index
# into labels).
set_command() {
	case $1 in
	0) cmd=() ;;
	1) cmd=("$forktrace" -qq --stacks=none) ;;
	2) cmd=("$forktrace" -qq --stacks=fork) ;;
	esac
	cmd+=("$workload" "$forks")
}

# Bash 5's EPOCHREALTIME reads the clock without a fork.  'date' costs a
# fork and an exec, which then fall inside the measured interval.
if [ -n "${EPOCHREALTIME:-}" ]; then
	clock="bash EPOCHREALTIME (CLOCK_REALTIME, 1 us resolution)"
	now_us() { now=${EPOCHREALTIME/./}; }
else
	clock="date +%s%N (CLOCK_REALTIME; includes one fork+exec of date)"
	now_us() { now=$(($(date +%s%N) / 1000)); }
fi

# Runs configuration $1 once, with the workload's output discarded, and
# sets elapsed_us to its wall time.  Ends the bench if the run fails.
timed_run() {
	local start rc
	set_command "$1"
	now_us
	start=$now
	timeout -k 5 120 "${cmd[@]}" >/dev/null 2>"$tmp/stderr"
	rc=$?
	now_us
	elapsed_us=$((now - start))
	if [ "$rc" -ne 0 ]; then
		if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
			echo "stacks.sh: '${cmd[*]}' timed out after 120 s" >&2
		else
			echo "stacks.sh: '${cmd[*]}' exited $rc:" >&2
		fi
		cat "$tmp/stderr" >&2
		exit 1
	fi
}

# Picks how to read the max resident set size of a command: GNU time's
# %M, or else the rusage that Python's os.wait4() returns for the child.
# Both report ru_maxrss in KiB.
rss_tool=none
if [ -x /usr/bin/time ]; then
	rss_tool=gnu-time
elif command -v python3 >/dev/null; then
	rss_tool=python3
fi

# Runs configuration $1 once and sets rss_kib to the max RSS that the
# kernel reports for the command at its wait4(), or to "n/a".  The kernel
# keeps the high-water mark of the forked wrapper from before the exec in
# that number, so it is never below the wrapper's own RSS.
measure_rss() {
	local rc
	set_command "$1"
	rss_kib=n/a
	case $rss_tool in
	gnu-time)
		timeout -k 5 120 /usr/bin/time -o "$tmp/rss" -f %M \
			"${cmd[@]}" >/dev/null 2>"$tmp/stderr"
		;;
	python3)
		timeout -k 5 120 python3 -c '
import os, sys
pid = os.fork()
if pid == 0:
    try:
        os.execv(sys.argv[2], sys.argv[2:])
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as out:
    print(usage.ru_maxrss, file=out)
sys.exit(os.waitstatus_to_exitcode(status))
' "$tmp/rss" "${cmd[@]}" >/dev/null 2>"$tmp/stderr"
		;;
	*)
		return
		;;
	esac
	rc=$?
	if [ "$rc" -ne 0 ]; then
		echo "stacks.sh: '${cmd[*]}' under $rss_tool exited $rc:" >&2
		cat "$tmp/stderr" >&2
		exit 1
	fi
	rss_kib=$(<"$tmp/rss")
}

libc_dbg=$(dpkg-query -W -f='${Status} ${Version}' libc6-dbg 2>/dev/null)
case $libc_dbg in
'install ok installed '*) libc_dbg="installed, ${libc_dbg##* }" ;;
*) command -v dpkg-query >/dev/null && libc_dbg="not installed" ||
	libc_dbg="unknown (no dpkg-query)" ;;
esac
revision=$(git rev-parse --short HEAD 2>/dev/null) || revision=unknown
if [ "$revision" != unknown ] && [ -n "$(git status --porcelain -- \
	tracer attach include examples 2>/dev/null)" ]; then
	revision="$revision, with uncommitted changes"
fi
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)

echo "forktrace stack-capture bench: $workload $forks"
echo "rounds:    $rounds"
echo "date:      $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "kernel:    $(uname -r)"
echo "nproc:     $(nproc)"
echo "cpu:       ${cpu:-unknown}"
echo "libc6-dbg: $libc_dbg"
echo "clock:     $clock"
echo "source:    git $revision"
echo

# One untimed run of each configuration comes first, so that the binaries
# and libraries are in the page cache before round 1.
for c in 0 1 2; do
	timed_run "$c"
done

# Each line of $tmp/times is one round, with the wall times in
# microseconds of untraced, --stacks=none and --stacks=fork.
: >"$tmp/times"
for ((r = 0; r < rounds; r++)); do
	for ((k = 0; k < 3; k++)); do
		c=$(((r + k) % 3))
		timed_run "$c"
		round_us[c]=$elapsed_us
	done
	echo "${round_us[0]} ${round_us[1]} ${round_us[2]}" >>"$tmp/times"
done

for c in 0 1 2; do
	measure_rss "$c"
	rss[c]=$rss_kib
done

echo "per round, wall time in ms (untraced, --stacks=none, --stacks=fork):"
awk '{ printf "  %2d  %9.1f %9.1f %9.1f\n", NR, $1 / 1e3, $2 / 1e3, $3 / 1e3 }' \
	"$tmp/times"
echo

awk -v forks="$forks" -v l0="${labels[0]}" -v l1="${labels[1]}" \
	-v l2="${labels[2]}" -v rss0="${rss[0]}" -v rss1="${rss[1]}" \
	-v rss2="${rss[2]}" -v rss_tool="$rss_tool" '
# Sorts a[1..n] in place and sets median, minimum and maximum.
function summarize(a, n,    i, j, x) {
	for (i = 2; i <= n; i++) {
		x = a[i]
		for (j = i - 1; j >= 1 && a[j] > x; j--)
			a[j + 1] = a[j]
		a[j + 1] = x
	}
	median = n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	minimum = a[1]
	maximum = a[n]
}
{
	for (c = 0; c < 3; c++)
		t[c, NR] = $(c + 1)
}
END {
	n = NR
	label[0] = l0; label[1] = l1; label[2] = l2
	rss[0] = rss0; rss[1] = rss1; rss[2] = rss2
	printf "%-14s %10s %8s %8s %12s %10s %10s %12s\n", "configuration",
		"median ms", "min ms", "max ms", "ratio median", "ratio min",
		"ratio max", "max RSS KiB"
	for (c = 0; c < 3; c++) {
		for (i = 1; i <= n; i++)
			v[i] = t[c, i] / 1e3
		summarize(v, n)
		line = sprintf("%-14s %10.1f %8.1f %8.1f", label[c], median,
			minimum, maximum)
		if (c == 0) {
			line = line sprintf(" %12s %10s %10s", "1", "-", "-")
		} else {
			for (i = 1; i <= n; i++)
				v[i] = t[c, i] / t[0, i]
			summarize(v, n)
			line = line sprintf(" %12.3f %10.3f %10.3f", median,
				minimum, maximum)
		}
		printf "%s %12s\n", line, rss[c]
	}
	print ""
	print "ratio: traced / untraced wall time of the same round, median" \
		" over rounds"
	if (rss_tool == "none")
		print "max RSS: not measured: neither /usr/bin/time nor" \
			" python3 is installed"
	else
		print "max RSS: ru_maxrss from " \
			(rss_tool == "gnu-time" ? "/usr/bin/time -f %M" : \
			"os.wait4() in python3") \
			", one run each.  It counts the command, the" \
			" largest of its reaped descendants and the pages of" \
			" the wrapper before exec, so the untraced row is a floor"
	print ""
	print "per-fork cost, us: median of the per-round differences / " forks
	for (p = 0; p < 2; p++) {
		a = p == 0 ? 2 : 1
		b = p == 0 ? 1 : 0
		for (i = 1; i <= n; i++)
			v[i] = (t[a, i] - t[b, i]) / forks
		summarize(v, n)
		printf "  %-14s over %-14s %7.1f  (min %.1f, max %.1f)\n",
			label[a], label[b], median, minimum, maximum
	}
}' "$tmp/times"
