"""Compare forktrace with a bare ptrace tracer and with strace on six workloads.

usage: compare.py [--rounds N] [--only NAME,...] [--no-strace]
                  [--baseline FORKTRACE] BUILD_DIR

Each workload runs untraced, under the floor (BUILD_DIR/bench/floor, the
cheapest tracer that stops at the same events as forktrace), under the
floor with --reads (which adds the reads that forktrace --stacks=none
makes at exec, clone and signal stops, so that what remains above it is
forktrace's own work), under forktrace with --stacks=none and with its
default options, and under strace when it is installed.  --baseline adds another forktrace binary,
such as one built from an earlier revision, under both options.  The
machines are shared and noisy, so the
tracers take turns within each round, in an order rotated from round to
round, and every ratio is taken between two runs of the same round.  The
tables give the median of those ratios with their min and max.

Peak memory is each tracer's own VmHWM at its exit, read by
BUILD_DIR/bench/peak in one more run; the untraced row is the workload's
first process.

The targets are checked at the end: forktrace --stacks=none within 5% of
the floor and forktrace's defaults within 20% of it on every workload
(median of the per-round ratios), and forktrace's peak memory under 32 MiB
on the make workload.  The exit status is 0 when every target is met, 3
when one is missed, and 1 when a run failed.
"""

import argparse
import datetime
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

RUN_TIMEOUT = 600
NONE_TARGET = 1.05
DEFAULT_TARGET = 1.20
MAKE_MEMORY_TARGET_KIB = 32 * 1024
MAKE_UNITS = 40
SHELL_COMMANDS = 300

SOURCE_DIR = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


class BenchError(Exception):
    """A run that failed or timed out, which ends the bench."""


def write_make_project(directory):
    """Write MAKE_UNITS small C files, a main.c and a Makefile to directory."""
    names = []
    for i in range(MAKE_UNITS):
        name = "unit_%02d" % i
        names.append(name)
        with open(os.path.join(directory, name + ".c"), "w") as out:
            out.write(
                "#include <string.h>\n"
                "struct item_%(i)d { int key; char name[16]; };\n"
                "static int compare_%(i)d(const struct item_%(i)d *a,\n"
                "\t\tconst struct item_%(i)d *b)\n"
                "{\n"
                "\treturn a->key != b->key ? a->key - b->key\n"
                "\t\t\t\t  : strcmp(a->name, b->name);\n"
                "}\n"
                "int %(name)s(int n)\n"
                "{\n"
                "\tstruct item_%(i)d items[8];\n"
                "\tint i, best = 0;\n"
                "\n"
                "\tfor (i = 0; i < 8; i++) {\n"
                "\t\titems[i].key = (n * %(i)d + i) %% 7;\n"
                "\t\tstrcpy(items[i].name, \"item\");\n"
                "\t\tif (compare_%(i)d(&items[i], &items[best]) > 0)\n"
                "\t\t\tbest = i;\n"
                "\t}\n"
                "\treturn best;\n"
                "}\n" % {"i": i, "name": name})
    with open(os.path.join(directory, "main.c"), "w") as out:
        for name in names:
            out.write("int %s(int n);\n" % name)
        out.write("int main(void)\n{\n\tint sum = 0;\n\n")
        for name in names:
            out.write("\tsum += %s(sum);\n" % name)
        out.write("\treturn sum < 0;\n}\n")
    objects = " ".join(name + ".o" for name in ["main"] + names)
    with open(os.path.join(directory, "Makefile"), "w") as out:
        out.write("CC = gcc\nCFLAGS = -O1\n"
                  "OBJECTS = %s\n"
                  "prog: $(OBJECTS)\n\t$(CC) -o $@ $(OBJECTS)\n"
                  "%%.o: %%.c\n\t$(CC) $(CFLAGS) -c -o $@ $<\n" % objects)


def write_shell_script(path):
    """Write a /bin/sh script that runs SHELL_COMMANDS external commands."""
    commands = ["/bin/true", "/bin/echo line >/dev/null",
                "/usr/bin/basename /a/b >/dev/null"]
    with open(path, "w") as out:
        for i in range(SHELL_COMMANDS):
            out.write(commands[i % len(commands)] + "\n")


def workloads(build, scratch):
    """Return (name, description, argv) for each workload."""
    project = os.path.join(scratch, "project")
    os.mkdir(project)
    write_make_project(project)
    script = os.path.join(scratch, "commands.sh")
    write_shell_script(script)
    return [
        ("fork", "one parent forks 2000 children that exit at once",
         [build + "/examples/fork_many", "2000"]),
        ("exec", "500 fork+exec of /bin/true, one at a time",
         [build + "/bench/fork_exec", "500", "/bin/true"]),
        ("shell", "/bin/sh runs a script of %d external commands"
         % SHELL_COMMANDS, ["/bin/sh", script]),
        ("threads", "2000 threads, created and joined in batches of 8",
         [build + "/bench/threads", "2000", "8"]),
        ("pool", "Python multiprocessing Pool(4).map over 400 tasks",
         ["/usr/bin/python3", SOURCE_DIR + "/tests/bench/pool.py", "400"]),
        ("make", "make -j2 -B of %d generated C files" % (MAKE_UNITS + 1),
         ["make", "-s", "-B", "-j2", "-C", project]),
    ]


def tracers(build, with_strace, baseline):
    """Return (label, argv prefix) for each tracer, untraced first."""
    forktrace = build + "/forktrace"
    result = [
        ("untraced", []),
        ("floor", [build + "/bench/floor"]),
        ("floor --reads", [build + "/bench/floor", "--reads"]),
        ("forktrace --stacks=none",
         [forktrace, "-o", "/dev/null", "--stacks=none", "--"]),
        ("forktrace", [forktrace, "-o", "/dev/null", "--"]),
    ]
    if baseline:
        result += [
            ("baseline --stacks=none",
             [baseline, "-o", "/dev/null", "--stacks=none", "--"]),
            ("baseline", [baseline, "-o", "/dev/null", "--"]),
        ]
    if with_strace and shutil.which("strace"):
        strace = ["strace", "-f", "-qq", "-o", "/dev/null",
                  "-e", "trace=process"]
        result += [
            ("strace -f -e trace=process", strace + ["--"]),
            ("strace ... --seccomp-bpf", strace + ["--seccomp-bpf", "--"]),
            ("strace ... -k", strace + ["-k", "--"]),
        ]
    return result


def run(argv):
    """Run argv with its output discarded; return its wall time in ms."""
    start = time.perf_counter_ns()
    try:
        completed = subprocess.run(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, timeout=RUN_TIMEOUT, check=False)
    except subprocess.TimeoutExpired as error:
        raise BenchError("'%s' timed out after %d s"
                         % (" ".join(argv), RUN_TIMEOUT)) from error
    elapsed = (time.perf_counter_ns() - start) / 1e6
    if completed.returncode != 0:
        raise BenchError("'%s' exited %d: %s" % (
            " ".join(argv), completed.returncode,
            completed.stderr.decode(errors="replace").strip()))
    return elapsed


def peak_kib(build, argv, scratch):
    """Return the peak RSS in KiB of the first process of argv."""
    out = os.path.join(scratch, "peak")
    run([build + "/bench/peak", out] + argv)
    with open(out) as result:
        value = int(result.read())
    return value if value >= 0 else None


def measure(build, workload, tracer_list, rounds, scratch):
    """Time every tracer on one workload; return {label: [ms per round]}."""
    _, _, command = workload
    times = {label: [] for label, _ in tracer_list}
    for _, prefix in tracer_list:
        run(prefix + command)
    for round_index in range(rounds):
        shift = round_index % len(tracer_list)
        for label, prefix in tracer_list[shift:] + tracer_list[:shift]:
            times[label].append(run(prefix + command))
    peaks = {label: peak_kib(build, prefix + command, scratch)
             for label, prefix in tracer_list}
    return times, peaks


def ratios(times, label, base):
    """Return the per-round ratios of label's times to base's."""
    return [t / b for t, b in zip(times[label], times[base])]


def print_machine(build, rounds):
    """Print what the results depend on: machine, libraries, revision."""
    cpu = "unknown"
    with open("/proc/cpuinfo") as info:
        for line in info:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    dbg = subprocess.run(
        ["dpkg-query", "-W", "-f=${Status} ${Version}", "libc6-dbg"],
        capture_output=True, text=True, check=False).stdout
    dbg = ("installed, " + dbg.split()[-1]
           if "install ok installed" in dbg else "not installed")
    revision = subprocess.run(
        ["git", "-C", SOURCE_DIR, "describe", "--always", "--dirty"],
        capture_output=True, text=True, check=False).stdout.strip()
    strace = subprocess.run(["strace", "-V"], capture_output=True, text=True,
                            check=False).stdout.split("\n")[0] \
        if shutil.which("strace") else "not installed"
    print("| | |\n|---|---|")
    print("| date | %s |" % datetime.datetime.now(
        datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))
    print("| kernel | %s |" % platform.release())
    print("| CPUs | %d |" % os.cpu_count())
    print("| CPU | %s |" % cpu)
    print("| libc6-dbg | %s |" % dbg)
    print("| strace | %s |" % strace)
    print("| git revision | %s |" % (revision or "unknown"))
    print("| rounds | %d |" % rounds)
    print("| build | %s |" % build)


def print_workload(workload, tracer_list, times, peaks):
    """Print one workload's table."""
    name, description, command = workload
    print("\n### %s: %s\n" % (name, description))
    print("`%s`\n" % " ".join(os.path.relpath(word, SOURCE_DIR)
                               if word.startswith(SOURCE_DIR) else word
                               for word in command))
    print("| tracer | median ms | × untraced (min–max) "
          "| × floor (min–max) | peak RSS KiB |")
    print("|---|---:|---:|---:|---:|")
    for label, _ in tracer_list:
        cells = ["`%s`" % label if label != "untraced" else label,
                 "%.1f" % statistics.median(times[label])]
        for base in ("untraced", "floor"):
            if label == base or (base == "floor" and label == "untraced"):
                cells.append("–")
                continue
            values = ratios(times, label, base)
            cells.append("%.3f (%.3f–%.3f)" % (
                statistics.median(values), min(values), max(values)))
        peak = peaks[label]
        cells.append("%d" % peak if peak is not None else "n/a")
        print("| " + " | ".join(cells) + " |")


def check_targets(results):
    """Print each target with its result; return True when all are met."""
    met = True
    print("\n### Targets\n")
    for name, (times, peaks) in results.items():
        for label, target in (("forktrace --stacks=none", NONE_TARGET),
                              ("forktrace", DEFAULT_TARGET)):
            ratio = statistics.median(ratios(times, label, "floor"))
            ok = ratio <= target
            met = met and ok
            print("- %s: `%s` at %.3f × floor, target %.2f: %s"
                  % (name, label, ratio, target, "met" if ok else "MISSED"))
        if name == "make":
            peak = peaks["forktrace"]
            ok = peak is not None and peak < MAKE_MEMORY_TARGET_KIB
            met = met and ok
            print("- make: `forktrace` peak RSS %s KiB, target under %d "
                  "KiB: %s" % (peak, MAKE_MEMORY_TARGET_KIB,
                               "met" if ok else "MISSED"))
    return met


def main():
    parser = argparse.ArgumentParser(
        description="Compare forktrace with the ptrace floor and strace.")
    parser.add_argument("build", help="the build directory, e.g. build")
    parser.add_argument("--rounds", type=int, default=5,
                        help="rounds per workload (default 5)")
    parser.add_argument("--only", default="",
                        help="comma-separated workload names to run")
    parser.add_argument("--no-strace", action="store_true",
                        help="leave strace out")
    parser.add_argument("--baseline", metavar="FORKTRACE",
                        help="another forktrace binary to compare with")
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("--rounds must be at least 1, not %d" % args.rounds)
    build = os.path.abspath(args.build)
    baseline = os.path.abspath(args.baseline) if args.baseline else None
    if baseline and not os.access(baseline, os.X_OK):
        sys.exit("compare.py: --baseline %s is not an executable file"
                 % args.baseline)
    for program in ("forktrace", "bench/floor", "bench/peak",
                    "bench/fork_exec", "bench/threads",
                    "examples/fork_many"):
        if not os.access(os.path.join(build, program), os.X_OK):
            sys.exit("compare.py: %s/%s is missing: run 'make bench' "
                     "first" % (build, program))

    with tempfile.TemporaryDirectory(prefix="forktrace-bench.") as scratch:
        chosen = workloads(build, scratch)
        if args.only:
            names = args.only.split(",")
            unknown = set(names) - {w[0] for w in chosen}
            if unknown:
                sys.exit("compare.py: unknown workload: %s (known: %s)" % (
                    ", ".join(sorted(unknown)),
                    ", ".join(w[0] for w in chosen)))
            chosen = [w for w in chosen if w[0] in names]
        tracer_list = tracers(build, not args.no_strace, baseline)
        print_machine(args.build, args.rounds)
        results = {}
        try:
            for workload in chosen:
                times, peaks = measure(build, workload, tracer_list,
                                       args.rounds, scratch)
                results[workload[0]] = (times, peaks)
                print_workload(workload, tracer_list, times, peaks)
                sys.stdout.flush()
        except BenchError as error:
            sys.exit("compare.py: %s" % error)
        met = check_targets(results)
    return 0 if met else 3


if __name__ == "__main__":
    sys.exit(main())
