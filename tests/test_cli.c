/*
 * Integration tests of forktrace's manners: bad input, exit statuses, the
 * output options, hostile strings, and signals to forktrace itself.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

/*
 * Checks that pid is alive and neither stopped nor traced-stopped.  A
 * short uninterruptible sleep ('D'), as in a page-in on a loaded machine,
 * counts as running.
 */
static void
assert_runs_unstopped(pid_t pid)
{
	char state = process_state(pid);

	if (state != 'R' && state != 'S' && state != 'D')
		fail_msg("pid %d is in state '%c', not running or sleeping",
			 (int)pid, state ? state : '?');
}

static void
missing_program_exits_127(void **state)
{
	const char *args[] = { "nosuchprog", NULL };
	struct trace_result r;

	(void)state;
	assert_int_equal(forktrace_run(&r, args), 0);
	assert_int_equal(r.exit_code, 127);
	assert_string_equal(r.err, "forktrace: cannot run 'nosuchprog': "
				   "No such file or directory\n");
	assert_string_equal(r.out, "");
	trace_result_free(&r);
}

static void
non_executable_exits_126(void **state)
{
	char path[256];
	const char *args[] = { path, NULL };
	struct trace_result r;
	char expected[512];
	FILE *fp;

	(void)state;
	snprintf(path, sizeof(path), "%s/not-executable", test_tmpdir());
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("echo hi\n", fp);
	fclose(fp);
	assert_int_equal(chmod(path, 0644), 0);

	assert_int_equal(forktrace_run(&r, args), 0);
	assert_int_equal(r.exit_code, 126);
	snprintf(expected, sizeof(expected),
		 "forktrace: cannot run '%s': Permission denied\n", path);
	assert_string_equal(r.err, expected);
	trace_result_free(&r);
}

/* A directory fails with EACCES, and the message is a shell's message. */
static void
directory_is_named(void **state)
{
	const char *args[] = { test_tmpdir(), NULL };
	struct trace_result r;
	char expected[512];

	(void)state;
	assert_int_equal(forktrace_run(&r, args), 0);
	assert_int_equal(r.exit_code, 126);
	snprintf(expected, sizeof(expected),
		 "forktrace: cannot run '%s': Is a directory\n", test_tmpdir());
	assert_string_equal(r.err, expected);
	trace_result_free(&r);
}

static void
missing_interpreter_named(void **state)
{
	char path[256];
	const char *args[] = { path, NULL };
	struct trace_result r;
	char expected[512];
	FILE *fp;

	(void)state;
	/*
	 * valgrind 3.19 cannot recover when an execve() that it let through
	 * fails, as this one does on the missing interpreter: it ends the
	 * child with status 101 before forktrace can report anything.
	 */
	if (forktrace_wrapped())
		skip();
	snprintf(path, sizeof(path), "%s/bad-interpreter.sh", test_tmpdir());
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("#! /nonexistent/interp -x\necho hi\n", fp);
	fclose(fp);
	assert_int_equal(chmod(path, 0755), 0);

	assert_int_equal(forktrace_run(&r, args), 0);
	assert_int_equal(r.exit_code, 127);
	snprintf(expected, sizeof(expected),
		 "forktrace: cannot run '%s': its interpreter "
		 "'/nonexistent/interp' was not found\n",
		 path);
	assert_string_equal(r.err, expected);
	trace_result_free(&r);
}

static void
no_program_is_usage_error(void **state)
{
	const char *args[] = { "-q", NULL };
	struct trace_result r;

	(void)state;
	assert_int_equal(forktrace_run(&r, args), 0);
	assert_int_equal(r.exit_code, 2);
	assert_non_null(strstr(r.err, "forktrace: missing PROG to run\n"));
	assert_non_null(strstr(r.err, "usage: forktrace"));
	assert_string_equal(r.out, "");
	trace_result_free(&r);
}

static void
unknown_option_is_usage_error(void **state)
{
	const char *long_args[] = { "--frobnicate", "true", NULL };
	const char *short_args[] = { "-Z", "true", NULL };
	const char *missing_args[] = { "-o", NULL };
	struct trace_result r;

	(void)state;
	assert_int_equal(forktrace_run(&r, long_args), 0);
	assert_int_equal(r.exit_code, 2);
	assert_string_equal(r.err,
			    "forktrace: unrecognized option '--frobnicate'\n"
			    "Try 'forktrace --help' for more information.\n");
	trace_result_free(&r);

	assert_int_equal(forktrace_run(&r, short_args), 0);
	assert_int_equal(r.exit_code, 2);
	assert_non_null(strstr(r.err, "unrecognized option '-Z'"));
	trace_result_free(&r);

	assert_int_equal(forktrace_run(&r, missing_args), 0);
	assert_int_equal(r.exit_code, 2);
	assert_non_null(strstr(r.err, "option '-o' requires an argument"));
	trace_result_free(&r);
}

static void
help_and_version_on_stdout(void **state)
{
	const char *help[] = { "--help", NULL };
	const char *version[] = { "--version", NULL };
	struct trace_result r;

	(void)state;
	assert_int_equal(forktrace_run(&r, help), 0);
	assert_int_equal(r.exit_code, 0);
	assert_string_equal(r.err, "");
	assert_int_equal(strncmp(r.out, "usage: forktrace ", 17), 0);
	assert_non_null(strstr(r.out, "--detach-on-exit"));
	trace_result_free(&r);

	assert_int_equal(forktrace_run(&r, version), 0);
	assert_int_equal(r.exit_code, 0);
	assert_int_equal(strncmp(r.out, "forktrace ", 10), 0);
	trace_result_free(&r);
}

static void
unwritable_output_file(void **state)
{
	const char *args[] = { "-o", "/nonexistent/dir/trace.txt", "true",
			       NULL };
	struct trace_result r;

	(void)state;
	assert_int_equal(forktrace_run(&r, args), 0);
	assert_int_equal(r.exit_code, 1);
	assert_string_equal(r.err, "forktrace: cannot open "
				   "'/nonexistent/dir/trace.txt': No such "
				   "file or directory\n");
	trace_result_free(&r);
}

static void
unwritable_picture_files(void **state)
{
	const char *trace[] = { "--trace=/nonexistent/dir/t.json", "true",
				NULL };
	const char *svg[] = { "--svg=/nonexistent/dir/t.svg", "true", NULL };
	struct trace_result r;

	(void)state;
	assert_int_equal(forktrace_run(&r, trace), 0);
	assert_int_equal(r.exit_code, 1);
	assert_string_equal(r.err, "forktrace: cannot open "
				   "'/nonexistent/dir/t.json': No such "
				   "file or directory\n");
	trace_result_free(&r);
	assert_int_equal(forktrace_run(&r, svg), 0);
	assert_int_equal(r.exit_code, 1);
	assert_string_equal(r.err, "forktrace: cannot open "
				   "'/nonexistent/dir/t.svg': No such "
				   "file or directory\n");
	trace_result_free(&r);
}

/*
 * A reader of the trace that quits early: forktrace reports the write and
 * still exits with the program's status, instead of dying of SIGPIPE.
 */
static void
trace_reader_gone_reported(void **state)
{
	char fifo[256], option[300], big[100001];
	const char *args[] = { "-qq",	 option, "sh", "-c",
			       "exit 3", "x",	 big,  NULL };
	struct trace_result r;
	char buf[10];
	pid_t reader;
	int fd, status;

	(void)state;
	snprintf(fifo, sizeof(fifo), "%s/reader.fifo", test_tmpdir());
	unlink(fifo);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	snprintf(option, sizeof(option), "--trace=%s", fifo);
	/* The argument makes the trace bigger than a pipe holds. */
	memset(big, 'A', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	reader = fork();
	assert_true(reader >= 0);
	if (reader == 0) {
		fd = open(fifo, O_RDONLY);
		_exit(fd >= 0 && read(fd, buf, sizeof(buf)) > 0 ? 0 : 1);
	}
	assert_int_equal(forktrace_run(&r, args), 0);
	assert_false(r.timed_out);
	assert_int_equal(r.exit_code, 3);
	assert_non_null(strstr(r.err, "cannot write"));
	assert_non_null(strstr(r.err, "Broken pipe"));
	trace_result_free(&r);
	assert_int_equal(waitpid(reader, &status, 0), reader);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	unlink(fifo);
}

/* Two outputs given one file would write over each other. */
static void
one_file_for_two_outputs_refused(void **state)
{
	char dir[] = "/tmp/forktrace-cli-XXXXXX";
	char path[64], twin[80], text[16] = "";
	const char *args[] = { "-o", path, "--trace", twin, "true", NULL };
	const char *same[] = { "--trace", path, "--svg", path, "true", NULL };
	struct trace_result r;
	FILE *fp;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/out", dir);
	snprintf(twin, sizeof(twin), "%s/../%s/out", dir, dir + 5);

	/* Neither exists yet: the second open finds the first. */
	assert_int_equal(forktrace_run(&r, args), 0);
	assert_int_equal(r.exit_code, 2);
	assert_non_null(strstr(r.err, "forktrace: --trace names the file "
				      "that another output writes: '"));
	/* The message and the --help hint, each on one line. */
	assert_non_null(strstr(r.err, "'\nTry 'forktrace --help' for more "
				      "information.\n"));
	assert_ptr_equal(strchr(strchr(r.err, '\n') + 1, '\n'),
			 r.err + strlen(r.err) - 1);
	trace_result_free(&r);

	/* An existing file is left as it was. */
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("precious\n", fp);
	fclose(fp);
	assert_int_equal(forktrace_run(&r, args), 0);
	assert_int_equal(r.exit_code, 2);
	assert_non_null(strstr(r.err, "forktrace: --output and --trace name "
				      "the same file: '"));
	assert_non_null(strstr(r.err, "'\nTry 'forktrace --help' for more "
				      "information.\n"));
	trace_result_free(&r);
	assert_int_equal(forktrace_run(&r, same), 0);
	assert_int_equal(r.exit_code, 2);
	assert_non_null(strstr(r.err, "forktrace: --trace and --svg name the "
				      "same file: '"));
	trace_result_free(&r);
	fp = fopen(path, "r");
	assert_non_null(fp);
	assert_non_null(fgets(text, sizeof(text), fp));
	fclose(fp);
	assert_string_equal(text, "precious\n");

	unlink(path);
	rmdir(dir);
}

static void
already_traced_program_refused(void **state)
{
	const char *command[] = { FT_BUILD_DIR "/forktrace", "-qq", "true",
				  NULL };
	/* LeakSanitizer cannot run in a traced process. */
	const char *env[] = { "ASAN_OPTIONS=detect_leaks=0", NULL };
	struct trace_result r;
	json_t *root, *child;

	(void)state;
	assert_int_equal(trace_run_env(&r, NULL, command, env), 0);
	assert_false(r.timed_out);
	/* The inner forktrace is traced, so its child is too: no SEIZE. */
	assert_int_equal(r.exit_code, 1);
	assert_non_null(strstr(r.err, "forktrace: cannot trace 'true' (pid "));
	assert_non_null(strstr(r.err, "): it is already traced by pid "));
	/* Under a wrapper such as valgrind, the outer tracer's comm differs. */
	if (!forktrace_wrapped())
		assert_non_null(strstr(r.err, " (forktrace)\n"));

	/* The inner forktrace killed its untraceable child. */
	root = trace_process(&r, trace_root_pid(&r));
	assert_int_equal(json_int(root, "exit_code"), 1);
	child = json_array_get(json_object_get(root, "children"), 0);
	assert_non_null(child);
	assert_string_equal(json_str(child, "signal"), "SIGKILL");
	trace_result_free(&r);
}

static void
quiet_prints_only_the_tree(void **state)
{
	const char *quiet[] = { "-q", "sh", "-c", "exit 0", NULL };
	const char *quieter[] = { "-qq", "sh", "-c", "exit 3", NULL };
	struct trace_result r;

	(void)state;
	assert_int_equal(forktrace_run(&r, quiet), 0);
	assert_int_equal(r.exit_code, 0);
	assert_int_equal(strncmp(r.err, "family of 1 process in ", 23), 0);
	assert_null(strstr(r.err, "exec "));
	trace_result_free(&r);

	assert_int_equal(forktrace_run(&r, quieter), 0);
	assert_int_equal(r.exit_code, 3);
	assert_string_equal(r.err, "");
	trace_result_free(&r);
}

/*
 * -o /dev/stdout shares forktrace's standard output with the program: the
 * file is not truncated, nothing is written over, and each line keeps its
 * place among the program's lines.
 */
static void
output_shared_with_program(void **state)
{
	const char *args[] = { "--stacks=none",
			       "-o",
			       "/dev/stdout",
			       "sh",
			       "-c",
			       "echo A; /bin/true; echo B",
			       NULL };
	struct trace_result r;
	const char *sh, *a, *exec, *b;

	(void)state;
	assert_int_equal(forktrace_run(&r, args), 0);
	assert_int_equal(r.exit_code, 0);
	sh = strstr(r.out, " sh: exec /usr/bin/dash: ");
	a = strstr(r.out, "\nA\n");
	exec = strstr(r.out, " true: exec /usr/bin/true: /bin/true\n");
	b = strstr(r.out, "\nB\n");
	assert_non_null(sh);
	assert_non_null(a);
	assert_non_null(exec);
	assert_non_null(b);
	/* Each exec line is written before the program runs on. */
	assert_true(sh < a);
	assert_true(a < exec);
	assert_true(exec < b);
	assert_non_null(strstr(b, " sh: exit 0 after "));
	assert_non_null(strstr(b, "family of 2 processes in "));
	assert_string_equal(r.err, "");
	trace_result_free(&r);
}

static void
timeline_lines_and_wall_clock(void **state)
{
	const char *relative[] = { "sh", "-c", "exit 0", NULL };
	const char *wall[] = { "-t", "sh", "-c", "exit 0", NULL };
	struct trace_result r;
	unsigned h, m, s, us;
	char rest[256];

	(void)state;
	assert_int_equal(forktrace_run(&r, relative), 0);
	assert_int_equal(sscanf(r.err, " 0.%6u %*d sh: %255[^\n]", &us, rest),
			 2);
	assert_string_equal(rest, "exec /usr/bin/dash: sh -c 'exit 0'");
	trace_result_free(&r);

	assert_int_equal(forktrace_run(&r, wall), 0);
	assert_int_equal(
		sscanf(r.err, "%2u:%2u:%2u.%6u %*d sh: exec", &h, &m, &s, &us),
		4);
	assert_true(h < 24 && m < 60 && s < 61 && us < 1000000);
	trace_result_free(&r);
}

static void
hostile_strings_escaped_in_text(void **state)
{
	const char *args[] = { "sh",	     "-c",
			       "exit 0",     "\033[2J\033]0;x\a",
			       "two\nlines", "\xff\xfe",
			       NULL };
	struct trace_result r;

	(void)state;
	assert_int_equal(forktrace_run(&r, args), 0);
	assert_int_equal(r.exit_code, 0);
	/* No byte that drives a terminal reaches it. */
	assert_null(strchr(r.err, '\033'));
	assert_null(strchr(r.err, '\a'));
	assert_null(strstr(r.err, "\xff"));
	assert_non_null(strstr(r.err, "'\\e[2J\\e]0;x\\x07' 'two\\nlines' "
				      "'\\xff\\xfe'"));
	trace_result_free(&r);
}

static void
hostile_strings_lossless_in_json(void **state)
{
	const char *command[] = { "sh",	       "-c",	  "exit 0",
				  "tab\there", "bad\xff", NULL };
	struct trace_result r;
	json_t *argv;

	(void)state;
	assert_int_equal(trace_run(&r, NULL, command), 0);
	argv = json_object_get(trace_event(&r, "exec", 0, 0), "argv");
	assert_int_equal(json_array_size(argv), 5);
	assert_string_equal(json_string_value(json_array_get(argv, 3)),
			    "tab\there");
	assert_string_equal(json_str(json_array_get(argv, 4), "hex"),
			    "626164ff");
	trace_result_free(&r);
}

static void
detach_on_exit_leaves_child_running(void **state)
{
	const char *options[] = { "--detach-on-exit", NULL };
	const char *command[] = { "sh", "-c", "sleep 30 & exit 4", NULL };
	struct trace_result r;
	json_t *fork, *detach, *child;
	pid_t sleeper;

	(void)state;
	assert_int_equal(trace_run(&r, options, command), 0);
	assert_false(r.timed_out);
	assert_int_equal(r.exit_code, 4);
	fork = trace_event(&r, "fork", trace_root_pid(&r), 0);
	assert_non_null(fork);
	sleeper = (pid_t)json_int(fork, "child");

	detach = trace_event(&r, "detach", sleeper, 0);
	assert_non_null(detach);
	child = trace_process(&r, sleeper);
	assert_true(json_is_true(json_object_get(child, "detached")));
	assert_null(json_object_get(child, "exit_code"));

	/* It runs on untraced, not stopped. */
	assert_runs_unstopped(sleeper);
	kill(sleeper, SIGKILL);
	trace_result_free(&r);
}

static void
sigterm_passed_to_program(void **state)
{
	const char *command[] = { "sleep", "30", NULL };
	struct live_trace live;
	json_t *root;

	(void)state;
	assert_int_equal(live_trace_start(&live, NULL, command), 0);
	assert_non_null(live_trace_next(&live, "exec", "sleep"));
	kill(live.pid, SIGTERM);
	live_trace_finish(&live);

	assert_false(live.result.timed_out);
	assert_int_equal(live.result.exit_code, -1);
	assert_int_equal(live.result.signal, SIGTERM);
	assert_non_null(live.result.summary);
	assert_string_equal(json_str(live.result.summary, "interrupted"),
			    "SIGTERM");
	root = trace_process(&live.result, trace_root_pid(&live.result));
	assert_string_equal(json_str(root, "signal"), "SIGTERM");
	trace_result_free(&live.result);
}

static double
monotonic_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * A signal reaches forktrace while it blocks in its wait, with no timer
 * armed and no stop to come: it must wake and pass the signal on at once,
 * not when sleep ends after 30 seconds.
 */
static void
signal_wakes_blocked_tracer(void **state)
{
	const char *options[] = { "--hang-after=0", NULL };
	const char *command[] = { "sleep", "30", NULL };
	struct live_trace live;
	double start;
	int round;

	(void)state;
	for (round = 0; round < 3; round++) {
		assert_int_equal(live_trace_start(&live, options, command), 0);
		assert_non_null(live_trace_next(&live, "exec", "sleep"));
		start = monotonic_seconds();
		kill(live.pid, SIGTERM);
		live_trace_finish(&live);

		assert_false(live.result.timed_out);
		assert_int_equal(live.result.exit_code, -1);
		assert_int_equal(live.result.signal, SIGTERM);
		assert_true(monotonic_seconds() - start < 10.0);
		trace_result_free(&live.result);
	}
}

/* Returns the child of pid whose comm is comm, or 0. */
static pid_t
child_named(pid_t pid, const char *comm)
{
	char path[64], name[32];
	long child;
	pid_t found = 0;
	FILE *list, *fp;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)pid,
		 (int)pid);
	list = fopen(path, "r");
	if (!list)
		return 0;
	while (!found && fscanf(list, "%ld", &child) == 1) {
		snprintf(path, sizeof(path), "/proc/%ld/comm", child);
		fp = fopen(path, "r");
		if (fp && fgets(name, sizeof(name), fp)) {
			name[strcspn(name, "\n")] = '\0';
			if (!strcmp(name, comm))
				found = (pid_t)child;
		}
		if (fp)
			fclose(fp);
	}
	fclose(list);
	return found;
}

/*
 * forktrace's loop is woken by a child of its own that stops itself.  A
 * kill of that child must not leave signals unseen: forktrace starts
 * another, which takes the byte that the signal left in its pipe.
 */
static void
signal_after_waker_killed(void **state)
{
	const char *options[] = { "--hang-after=0", NULL };
	const char *command[] = { "sleep", "30", NULL };
	struct live_trace live;
	pid_t waker;
	double start;

	(void)state;
	/* Under a wrapper the waker's comm is the wrapper's. */
	if (forktrace_wrapped())
		skip();
	assert_int_equal(live_trace_start(&live, options, command), 0);
	assert_non_null(live_trace_next(&live, "exec", "sleep"));
	waker = child_named(live.pid, "forktrace");
	assert_true(waker > 0);
	start = monotonic_seconds();
	kill(waker, SIGKILL);
	kill(live.pid, SIGTERM);
	live_trace_finish(&live);

	assert_false(live.result.timed_out);
	assert_int_equal(live.result.exit_code, -1);
	assert_int_equal(live.result.signal, SIGTERM);
	assert_true(monotonic_seconds() - start < 10.0);
	trace_result_free(&live.result);
}

static void
second_sigterm_detaches(void **state)
{
	const char *command[] = { "sh", "-c", "trap '' TERM; sleep 30; exit 0",
				  NULL };
	struct live_trace live;
	json_t *exec, *root;
	pid_t shell, sleeper;

	(void)state;
	assert_int_equal(live_trace_start(&live, NULL, command), 0);
	exec = live_trace_next(&live, "exec", "sleep");
	assert_non_null(exec);
	sleeper = (pid_t)json_int(exec, "pid");
	shell = (pid_t)json_int(exec, "ppid");

	kill(live.pid, SIGTERM);
	/* The shell ignores it, but its delivery is reported. */
	assert_non_null(live_trace_next(&live, "signal", "sh"));
	kill(live.pid, SIGTERM);
	live_trace_finish(&live);

	assert_false(live.result.timed_out);
	assert_int_equal(live.result.exit_code, -1);
	assert_int_equal(live.result.signal, SIGTERM);
	root = trace_process(&live.result, shell);
	assert_true(json_is_true(json_object_get(root, "detached")));
	assert_non_null(strstr(live.result.err, "detaching from the family"));

	/* Both run on untraced and unstopped; end them here. */
	assert_runs_unstopped(shell);
	assert_runs_unstopped(sleeper);
	kill(sleeper, SIGKILL);
	kill(shell, SIGKILL);
	trace_result_free(&live.result);
}

/* Kills forktrace with SIGKILL once sleep runs; returns sleep's pid. */
static pid_t
kill_tracer_under_sleep(struct live_trace *live, const char *const *options)
{
	const char *command[] = { "sleep", "30", NULL };
	json_t *exec;
	pid_t sleeper;

	assert_int_equal(live_trace_start(live, options, command), 0);
	exec = live_trace_next(live, "exec", "sleep");
	assert_non_null(exec);
	sleeper = (pid_t)json_int(exec, "pid");
	kill(live->pid, SIGKILL);
	live_trace_finish(live);
	assert_int_equal(live->result.signal, SIGKILL);
	return sleeper;
}

static void
tracer_death_spares_family(void **state)
{
	struct live_trace live;
	pid_t sleeper;

	(void)state;
	sleeper = kill_tracer_under_sleep(&live, NULL);
	/* The kernel detached it when forktrace died. */
	assert_runs_unstopped(sleeper);
	kill(sleeper, SIGKILL);
	trace_result_free(&live.result);
}

static void
kill_on_exit_kills_family(void **state)
{
	const char *options[] = { "--kill-on-exit", NULL };
	struct live_trace live;
	pid_t sleeper;

	(void)state;
	sleeper = kill_tracer_under_sleep(&live, options);
	assert_true(wait_for_process_end(sleeper));
	trace_result_free(&live.result);
}

/* Runs forktrace on a pseudo-terminal through script(1). */
static void
run_on_terminal(struct trace_result *r, const char *env)
{
	char command[512];
	const char *argv[] = { "sh", "-c", command, NULL };

	snprintf(command, sizeof(command),
		 "%s script -qec \"%s/forktrace sh -c 'exit 3'\" /dev/null",
		 env, FT_BUILD_DIR);
	assert_int_equal(plain_run(r, argv), 0);
	assert_false(r->timed_out);
}

static void
color_only_on_terminal(void **state)
{
	struct trace_result r;

	(void)state;
	run_on_terminal(&r, "TERM=xterm");
	assert_non_null(strstr(r.out, "\033[31mexit 3\033[0m"));
	trace_result_free(&r);

	run_on_terminal(&r, "TERM=xterm NO_COLOR=1");
	assert_non_null(strstr(r.out, "exit 3"));
	assert_null(strchr(r.out, '\033'));
	trace_result_free(&r);

	run_on_terminal(&r, "TERM=dumb");
	assert_null(strchr(r.out, '\033'));
	trace_result_free(&r);
}

/*
 * A program that stops itself while a child of its own will continue it:
 * forktrace must go on, or the child's next event waits for it forever.
 */
static void
self_stop_with_member_running(void **state)
{
	/*
	 * The child waits, with no fork, until its parent is stopped: "t"
	 * under ptrace, where the untraced state would be "T".  It gives up
	 * after ten million looks, or when its parent is gone.
	 */
	static const char script[] =
		"parent=$$\n"
		"(i=0; while [ $i -lt 10000000 ]; do\n"
		"    i=$((i + 1))\n"
		"    read -r stat < /proc/$parent/stat || break\n"
		"    case \"$stat\" in *') T '* | *') t '*) break;; esac\n"
		" done\n"
		" kill -CONT $parent) &\n"
		"kill -STOP $$\n"
		"echo resumed\n"
		"wait\n";
	const char *args[] = { "-qq", "sh", "-c", script, NULL };
	struct trace_result r;

	(void)state;
	assert_int_equal(forktrace_run(&r, args), 0);
	assert_false(r.timed_out);
	assert_int_equal(r.exit_code, 0);
	assert_string_equal(r.out, "resumed\n");
	trace_result_free(&r);
}

static void
self_stopped_program_stops_tracer(void **state)
{
	pid_t pid;
	int status = 0, out;
	char path[256];

	(void)state;
	snprintf(path, sizeof(path), "%s/self_stop.out", test_tmpdir());
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		out = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		setpgid(0, 0);
		dup2(out, 1);
		execl(FT_BUILD_DIR "/forktrace", "forktrace", "-qq",
		      example_path("self_stop"), (char *)NULL);
		_exit(127);
	}
	setpgid(pid, pid);
	/* A shell waits like this: the job must be seen stopped. */
	alarm(TRACE_TIMEOUT);
	assert_int_equal(waitpid(pid, &status, WUNTRACED), pid);
	assert_true(WIFSTOPPED(status));
	assert_int_equal(WSTOPSIG(status), SIGTSTP);
	/* fg: the shell continues the whole job. */
	kill(-pid, SIGCONT);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	alarm(0);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/*
 * A program that moves to a process group of its own and stops there:
 * the shell's fg continues forktrace's group, and forktrace continues
 * the program's.  A forktrace that did not would leave the job stopped,
 * so the wait is bounded, and killing forktrace then ends the program
 * too: its group, orphaned, gets SIGHUP.
 */
static void
program_in_own_group_continues_with_fg(void **state)
{
	static const char program[] = "import os, signal\n"
				      "os.setpgid(0, 0)\n"
				      "os.kill(os.getpid(), signal.SIGSTOP)\n"
				      "os._exit(4)\n";
	struct timespec bound = { TRACE_TIMEOUT, 0 };
	sigset_t chld, old;
	pid_t pid, done = 0;
	int status = 0;

	(void)state;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, &old);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		setpgid(0, 0);
		execl(FT_BUILD_DIR "/forktrace", "forktrace", "-qq",
		      "/usr/bin/python3", "-c", program, (char *)NULL);
		_exit(127);
	}
	setpgid(pid, pid);
	while ((done = waitpid(pid, &status, WUNTRACED | WNOHANG)) == 0 &&
	       sigtimedwait(&chld, NULL, &bound) == SIGCHLD)
		;
	assert_int_equal(done, pid);
	assert_true(WIFSTOPPED(status));
	/* fg */
	kill(-pid, SIGCONT);
	while ((done = waitpid(pid, &status, WNOHANG)) == 0 &&
	       sigtimedwait(&chld, NULL, &bound) == SIGCHLD)
		;
	if (done != pid) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	assert_int_equal(done, pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 4);
}

/* Reads one line from fd, a byte at a time, into line; NUL-terminated. */
static void
read_line(int fd, char *line, size_t size)
{
	size_t len = 0;

	while (len + 1 < size && read(fd, line + len, 1) == 1)
		if (line[len++] == '\n')
			break;
	line[len] = '\0';
}

/*
 * ^Z to a program that handles SIGTSTP, as an editor or a pager does: the
 * handler stops the program itself, and the job is seen stopped once, so
 * one fg resumes it.  forktrace must not stop at the key itself.
 */
static void
tstp_handler_needs_one_fg(void **state)
{
	static const char script[] =
		"import os, signal, sys\n"
		"signal.alarm(20)\n"
		"def tstp(signum, frame):\n"
		"    signal.signal(signal.SIGTSTP, signal.SIG_DFL)\n"
		"    os.kill(os.getpid(), signal.SIGTSTP)\n"
		"    print('continued', flush=True)\n"
		"    sys.exit(0)\n"
		"signal.signal(signal.SIGTSTP, tstp)\n"
		"print('ready', flush=True)\n"
		"while True:\n"
		"    signal.pause()\n";
	int status = 0, out[2], stops = 0;
	char line[16] = "";
	pid_t pid;

	(void)state;
	assert_int_equal(pipe(out), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		setpgid(0, 0);
		dup2(out[1], 1);
		close(out[0]);
		close(out[1]);
		execl(FT_BUILD_DIR "/forktrace", "forktrace", "-qq",
		      "/usr/bin/python3", "-c", script, (char *)NULL);
		_exit(127);
	}
	setpgid(pid, pid);
	close(out[1]);
	alarm(TRACE_TIMEOUT);
	read_line(out[0], line, sizeof(line));
	assert_string_equal(line, "ready\n");
	/* ^Z: the terminal sends SIGTSTP to the foreground job. */
	kill(-pid, SIGTSTP);
	for (;;) {
		assert_int_equal(waitpid(pid, &status, WUNTRACED), pid);
		if (!WIFSTOPPED(status))
			break;
		stops++;
		/* fg */
		kill(-pid, SIGCONT);
	}
	alarm(0);
	assert_int_equal(stops, 1);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	read_line(out[0], line, sizeof(line));
	assert_string_equal(line, "continued\n");
	close(out[0]);
}

/*
 * A program that stopped itself, with forktrace stopped alongside, and
 * then continued by another process alone, as a supervisor or kill -CONT
 * from another terminal does: it runs on, as untraced.
 */
static void
self_stopped_program_continued_alone(void **state)
{
	int status = 0, out[2];
	char line[32] = "";
	pid_t pid, shell;
	bool ended;

	(void)state;
	assert_int_equal(pipe(out), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		setpgid(0, 0);
		dup2(out[1], 1);
		close(out[0]);
		close(out[1]);
		execl(FT_BUILD_DIR "/forktrace", "forktrace", "-qq", "sh", "-c",
		      "echo $$; kill -STOP $$; echo resumed; exit 3",
		      (char *)NULL);
		_exit(127);
	}
	setpgid(pid, pid);
	close(out[1]);
	read_line(out[0], line, sizeof(line));
	shell = (pid_t)atoi(line);
	assert_true(shell > 0);
	alarm(TRACE_TIMEOUT);
	assert_int_equal(waitpid(pid, &status, WUNTRACED), pid);
	alarm(0);
	assert_true(WIFSTOPPED(status));
	kill(shell, SIGCONT);
	ended = wait_for_process_end(pid);
	if (!ended)
		kill(-pid, SIGKILL);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(ended);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 3);
	read_line(out[0], line, sizeof(line));
	assert_string_equal(line, "resumed\n");
	close(out[0]);
}

static void
outside_stop_and_continue_of_program(void **state)
{
	const char *command[] = { "/bin/sleep", "60", NULL };
	struct live_trace live;
	json_t *exec;
	pid_t sleeper;

	(void)state;
	assert_int_equal(live_trace_start(&live, NULL, command), 0);
	exec = live_trace_next(&live, "exec", NULL);
	assert_non_null(exec);
	sleeper = (pid_t)json_int(exec, "pid");
	/* kill -STOP and kill -CONT of the program alone, from outside. */
	kill(sleeper, SIGSTOP);
	assert_non_null(live_trace_next(&live, "stop", NULL));
	kill(sleeper, SIGCONT);
	assert_non_null(live_trace_next(&live, "continue", NULL));
	kill(sleeper, SIGKILL);
	live_trace_finish(&live);
	assert_false(live.result.timed_out);
	assert_int_equal(live.result.exit_code, -1);
	assert_int_equal(live.result.signal, SIGKILL);
	trace_result_free(&live.result);
}

/* Runs count_signals under a live trace and waits until it is ready. */
static void
start_counter(struct live_trace *live)
{
	const char *command[] = { example_path("count_signals"), NULL };
	json_t *e;

	assert_int_equal(live_trace_start(live, NULL, command), 0);
	do
		e = live_trace_next(live, "signal", "count_signals");
	while (e && strcmp(json_str(e, "signal"), "SIGUSR1"));
	assert_non_null(e);
}

static void
group_signal_delivered_once(void **state)
{
	struct live_trace live;

	(void)state;
	start_counter(&live);
	/* kill(-pgrp) reaches forktrace and the program alike. */
	kill(-live.pid, SIGINT);
	live_trace_finish(&live);
	assert_false(live.result.timed_out);
	assert_string_equal(live.result.out, "SIGINT 1\n");
	assert_int_equal(live.result.exit_code, 0);
	trace_result_free(&live.result);
}

static void
sigquit_snapshot_not_fatal(void **state)
{
	struct live_trace live;

	(void)state;
	start_counter(&live);
	/*
	 * SIGQUIT requests a snapshot: it is not passed on, and
	 * forktrace must not die of it.
	 */
	kill(live.pid, SIGQUIT);
	assert_non_null(live_trace_next(&live, "snapshot", NULL));
	live_trace_finish(&live);
	assert_false(live.result.timed_out);
	assert_int_equal(live.result.signal, 0);
	assert_int_equal(live.result.exit_code, 0);
	assert_string_equal(live.result.out, "SIGINT 0\n");
	trace_result_free(&live.result);
}

static void
detach_lets_go_of_zombie_leader(void **state)
{
	char fifo[256];
	const char *options[] = { "--detach-on-exit", NULL };
	const char *command[] = { example_path("zombie_leader"), fifo, NULL };
	struct trace_result r;
	json_t *fork, *child;
	pid_t pid;
	int fd;

	(void)state;
	snprintf(fifo, sizeof(fifo), "%s/zombie.fifo", test_tmpdir());
	unlink(fifo);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	/* The child's thread waits for this FIFO's writer, which is here. */
	assert_int_equal(trace_run(&r, options, command), 0);
	assert_false(r.timed_out);
	assert_int_equal(r.exit_code, 0);
	fork = trace_event(&r, "fork", trace_root_pid(&r), 0);
	assert_non_null(fork);
	pid = (pid_t)json_int(fork, "child");
	child = trace_process(&r, pid);
	assert_true(json_is_true(json_object_get(child, "detached")));

	fd = open(fifo, O_WRONLY);
	assert_true(fd >= 0);
	close(fd);
	assert_true(wait_for_process_end(pid));
	trace_result_free(&r);
}

static void
ignored_hangup_stays_ignored(void **state)
{
	const char *command[] = { "sh", "-c", NULL, NULL };
	char script[512];
	struct trace_result r;

	(void)state;
	/* As under nohup: a SIGHUP to forktrace changes nothing. */
	snprintf(script, sizeof(script),
		 "trap '' HUP; exec %s/forktrace -qq sh -c "
		 "'kill -HUP $PPID; kill -HUP $PPID; echo still here'",
		 FT_BUILD_DIR);
	command[2] = script;
	assert_int_equal(plain_run(&r, command), 0);
	assert_false(r.timed_out);
	assert_int_equal(r.exit_code, 0);
	assert_string_equal(r.out, "still here\n");
	trace_result_free(&r);
}

static void
own_messages_escape_names(void **state)
{
	const char *args[] = { "nosuch\033]0;x\a", NULL };
	struct trace_result r;

	(void)state;
	assert_int_equal(forktrace_run(&r, args), 0);
	assert_int_equal(r.exit_code, 127);
	assert_null(strchr(r.err, '\033'));
	assert_null(strchr(r.err, '\a'));
	assert_string_equal(r.err,
			    "forktrace: cannot run 'nosuch\\e]0;x\\x07': "
			    "No such file or directory\n");
	trace_result_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(missing_program_exits_127),
		cmocka_unit_test(non_executable_exits_126),
		cmocka_unit_test(directory_is_named),
		cmocka_unit_test(missing_interpreter_named),
		cmocka_unit_test(no_program_is_usage_error),
		cmocka_unit_test(unknown_option_is_usage_error),
		cmocka_unit_test(help_and_version_on_stdout),
		cmocka_unit_test(unwritable_output_file),
		cmocka_unit_test(unwritable_picture_files),
		cmocka_unit_test(one_file_for_two_outputs_refused),
		cmocka_unit_test(trace_reader_gone_reported),
		cmocka_unit_test(already_traced_program_refused),
		cmocka_unit_test(quiet_prints_only_the_tree),
		cmocka_unit_test(output_shared_with_program),
		cmocka_unit_test(timeline_lines_and_wall_clock),
		cmocka_unit_test(hostile_strings_escaped_in_text),
		cmocka_unit_test(color_only_on_terminal),
		cmocka_unit_test(hostile_strings_lossless_in_json),
		cmocka_unit_test(detach_on_exit_leaves_child_running),
		cmocka_unit_test(sigterm_passed_to_program),
		cmocka_unit_test(signal_wakes_blocked_tracer),
		cmocka_unit_test(signal_after_waker_killed),
		cmocka_unit_test(second_sigterm_detaches),
		cmocka_unit_test(tracer_death_spares_family),
		cmocka_unit_test(kill_on_exit_kills_family),
		cmocka_unit_test(self_stopped_program_stops_tracer),
		cmocka_unit_test(program_in_own_group_continues_with_fg),
		cmocka_unit_test(tstp_handler_needs_one_fg),
		cmocka_unit_test(self_stopped_program_continued_alone),
		cmocka_unit_test(self_stop_with_member_running),
		cmocka_unit_test(outside_stop_and_continue_of_program),
		cmocka_unit_test(group_signal_delivered_once),
		cmocka_unit_test(sigquit_snapshot_not_fatal),
		cmocka_unit_test(detach_lets_go_of_zombie_leader),
		cmocka_unit_test(ignored_hangup_stays_ignored),
		cmocka_unit_test(own_messages_escape_names),
	};

	return cmocka_run_group_tests_name("cli", tests, NULL, NULL);
}
