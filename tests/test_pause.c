/*
 * Integration tests of pausing children for a debugger: the real gdb, in
 * batch mode, attaches to children that forktrace handed over, and
 * forktrace must take each child back and follow it to its end.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

/* Runs gdb in batch mode on pid with the given -ex commands. */
static void
run_gdb(struct trace_result *r, pid_t pid, const char *const *commands)
{
	const char *argv[32];
	char pid_text[16];
	size_t n = 0, i;

	snprintf(pid_text, sizeof(pid_text), "%d", (int)pid);
	argv[n++] = "gdb";
	argv[n++] = "-q";
	argv[n++] = "-batch";
	argv[n++] = "-nx";
	argv[n++] = "-p";
	argv[n++] = pid_text;
	/* The same as the hand-over line's command. */
	argv[n++] = "-ex";
	argv[n++] = "handle SIGCONT nostop noprint";
	for (i = 0; commands[i] && n < 30; i++) {
		argv[n++] = "-ex";
		argv[n++] = commands[i];
	}
	argv[n] = NULL;
	assert_int_equal(plain_run(r, argv), 0);
	assert_false(r->timed_out);
}

/* Returns the pid of the event, which must come within the bound. */
static pid_t
wait_event_pid(struct live_trace *live, const char *event, const char *comm)
{
	json_t *e = live_trace_next(live, event, comm);

	if (!e)
		fail_msg("no '%s' event came", event);
	return (pid_t)json_int(e, "pid");
}

static void
gdb_takes_paused_child(void **state)
{
	char go[256], site[64];
	const char *options[] = { "--pause", "--pause-match=pause_child",
				  NULL };
	const char *command[] = { example_path("pause_child"), go, NULL };
	const char *gdb_commands[] = { "bt", "detach", NULL };
	struct live_trace live;
	struct trace_result gdb;
	json_t *pause, *attach, *resume, *fork, *child;
	pid_t pid;
	int fd;

	(void)state;
	snprintf(go, sizeof(go), "%s/go.fifo", test_tmpdir());
	unlink(go);
	assert_int_equal(mkfifo(go, 0600), 0);
	assert_int_equal(live_trace_start(&live, options, command), 0);

	pause = live_trace_next(&live, "pause", NULL);
	assert_non_null(pause);
	pid = (pid_t)json_int(pause, "pid");
	assert_string_equal(json_str(pause, "at"), "fork");
	assert_non_null(strstr(json_str(pause, "attach_command"), "gdb -p "));
	/* The pause is announced once the child's stop has taken effect. */
	assert_int_equal(process_state(pid), 'T');

	run_gdb(&gdb, pid, gdb_commands);
	/* The backtrace shows the fork's call site. */
	snprintf(site, sizeof(site), "pause_child.c:%d",
		 marker_line("examples/pause_child.c", "spawn_child"));
	assert_non_null(strstr(gdb.out, "spawn_child"));
	assert_non_null(strstr(gdb.out, site));
	trace_result_free(&gdb);

	attach = live_trace_next(&live, "debugger_attach", NULL);
	assert_non_null(attach);
	assert_int_equal(json_int(attach, "pid"), pid);
	assert_string_equal(json_str(attach, "debugger_comm"), "gdb");
	assert_int_equal(wait_event_pid(&live, "debugger_detach", NULL), pid);
	resume = live_trace_next(&live, "resume", NULL);
	assert_non_null(resume);
	assert_string_equal(json_str(resume, "reason"), "the debugger left");
	assert_int_equal(wait_event_pid(&live, "gap", NULL), pid);

	/* Only now may the child go on: it forks after gdb left. */
	fd = open(go, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "g", 1), 1);
	live_trace_finish(&live);
	close(fd);

	assert_false(live.result.timed_out);
	assert_int_equal(live.result.exit_code, 0);
	/* dash runs a command that is not its last one through vfork. */
	fork = trace_event(&live.result, "vfork", pid, 0);
	if (!fork)
		fork = trace_event(&live.result, "fork", pid, 0);
	assert_non_null(fork);
	assert_null(json_object_get(fork, "adopted"));
	child = trace_process(&live.result, pid);
	assert_int_equal(json_int(child, "exit_code"), 7);
	assert_int_equal(
		json_int(json_array_get(json_object_get(child, "children"), 0),
			 "exit_code"),
		3);
	trace_result_free(&live.result);
}

static void
pause_at_exec_breaks_in_main(void **state)
{
	char script[1024], go[256];
	const char *options[] = { "--pause=exec", "--pause-match=pause_child",
				  NULL };
	const char *command[] = { "sh", "-c", script, NULL };
	const char *gdb_commands[] = { "break main", "continue", "bt", "detach",
				       NULL };
	struct live_trace live;
	struct trace_result gdb;
	json_t *pause, *fork, *child;
	pid_t pid;
	int fd;

	(void)state;
	snprintf(go, sizeof(go), "%s/go.fifo", test_tmpdir());
	unlink(go);
	assert_int_equal(mkfifo(go, 0600), 0);
	snprintf(script, sizeof(script), "%s %s; exit $?",
		 example_path("pause_child"), go);
	assert_int_equal(live_trace_start(&live, options, command), 0);
	pause = live_trace_next(&live, "pause", "pause_child");
	assert_non_null(pause);
	assert_string_equal(json_str(pause, "at"), "exec");
	pid = (pid_t)json_int(pause, "pid");

	/* One continue reaches the breakpoint: no stop on the way. */
	run_gdb(&gdb, pid, gdb_commands);
	if (!strstr(gdb.out, "Breakpoint 1, main ("))
		fprintf(stderr, "gdb's output:\n%s\ngdb's errors:\n%s\n",
			gdb.out, gdb.err);
	assert_non_null(strstr(gdb.out, "Breakpoint 1, main ("));
	assert_non_null(strstr(gdb.out, "pause_child.c"));
	assert_null(strstr(gdb.out, "SIGSTOP"));
	trace_result_free(&gdb);
	assert_non_null(live_trace_next(&live, "resume", NULL));

	fd = open(go, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "g", 1), 1);
	live_trace_finish(&live);
	close(fd);
	assert_false(live.result.timed_out);
	assert_int_equal(live.result.exit_code, 0);
	/*
	 * The program forked its child right after gdb left, untraced or
	 * already taken back: either way the child is in the family (found
	 * through /proc if need be) and followed to its end.
	 */
	fork = trace_event(&live.result, "fork", pid, 0);
	assert_non_null(fork);
	child = trace_process(&live.result, (pid_t)json_int(fork, "child"));
	assert_int_equal(json_int(child, "exit_code"), 7);
	assert_int_equal(
		json_int(trace_process(&live.result, pid), "exit_code"), 0);
	trace_result_free(&live.result);
}

static void
python_pool_worker_under_gdb(void **state)
{
	const char *options[] = { "--pause", "--pause-match=python3*", NULL };
	const char *command[] = { "/usr/bin/python3",
				  source_path("examples/py_pool.py"), NULL };
	const char *gdb_commands[] = { "bt", "detach", NULL };
	struct live_trace live;
	struct trace_result gdb;
	pid_t workers[4];
	size_t i, ended_in_gap = 0;
	json_t *gap;

	(void)state;
	assert_int_equal(live_trace_start(&live, options, command), 0);
	for (i = 0; i < 4; i++)
		workers[i] = wait_event_pid(&live, "pause", NULL);

	run_gdb(&gdb, workers[0], gdb_commands);
	assert_non_null(strstr(gdb.out, "#0 "));
	assert_non_null(strstr(gdb.out, "_Fork"));
	trace_result_free(&gdb);
	/* The other workers are resumed without a debugger. */
	for (i = 1; i < 4; i++)
		kill(workers[i], SIGCONT);

	live_trace_finish(&live);
	assert_false(live.result.timed_out);
	assert_int_equal(live.result.exit_code, 0);
	assert_string_equal(live.result.out, "2470\n");
	assert_int_equal(trace_count(&live.result, "pause", 0), 4);
	assert_int_equal(
		trace_count(&live.result, "debugger_attach", workers[0]), 1);
	/*
	 * Each worker is taken back, or ended in the few milliseconds
	 * between gdb's detach and forktrace's next look, which its gap
	 * event then records.
	 */
	for (i = 0; (gap = trace_event(&live.result, "gap", 0, i)); i++)
		if (json_is_true(json_object_get(gap, "ended")))
			ended_in_gap++;
	if (trace_count(&live.result, "resume", 0) + ended_in_gap != 4)
		for (i = 0; i < live.result.count; i++)
			print_message("event %s of pid %ld\n",
				      json_str(live.result.events[i], "event"),
				      json_int(live.result.events[i], "pid"));
	assert_int_equal(trace_count(&live.result, "resume", 0) + ended_in_gap,
			 4);
	trace_result_free(&live.result);
}

static void
on_pause_words_stay_literal(void **state)
{
	char program[512], record[512], log[512], on_pause[1200];
	char launch[1100], expected[1024], touched[512];
	const char *options[] = { "--pause=exec", "--pause-match=a;b*",
				  on_pause, NULL };
	const char *command[] = { "sh", "-c", launch, NULL };
	const char *copy[] = { "cp", "/bin/true", program, NULL };
	struct trace_result r, cp;
	json_t *pause;
	struct stat st;
	FILE *fp;
	char *text;
	long size;

	(void)state;
	/* A program name that a shell would run commands from. */
	snprintf(program, sizeof(program), "%s/a;b$(touch x)'q\"",
		 test_tmpdir());
	snprintf(touched, sizeof(touched), "%s/x", test_tmpdir());
	assert_int_equal(plain_run(&cp, copy), 0);
	assert_int_equal(cp.exit_code, 0);
	trace_result_free(&cp);

	snprintf(log, sizeof(log), "%s/on-pause.log", test_tmpdir());
	snprintf(record, sizeof(record), "%s/record.sh", test_tmpdir());
	fp = fopen(record, "w");
	assert_non_null(fp);
	fprintf(fp,
		"#!/bin/sh\necho \"$#\" > '%s'\n"
		"for word in \"$@\"; do echo \"$word\" >> '%s'; done\n"
		"kill -CONT \"$1\"\n",
		log, log);
	fclose(fp);
	assert_int_equal(chmod(record, 0755), 0);
	snprintf(on_pause, sizeof(on_pause),
		 "--on-pause=%s {pid} {ppid} {comm} 'two words'", record);
	/* The shell forks and execs the program by its odd name. */
	snprintf(launch, sizeof(launch), "cd '%s' && ./\"$0\"; exit $?",
		 test_tmpdir());
	command[3] = "a;b$(touch x)'q\"";
	{
		const char *argv[] = { "sh", "-c", launch, command[3], NULL };

		assert_int_equal(trace_run(&r, options, argv), 0);
	}
	assert_false(r.timed_out);
	assert_int_equal(r.exit_code, 0);
	pause = trace_event(&r, "pause", 0, 0);
	assert_non_null(pause);

	fp = fopen(log, "r");
	assert_non_null(fp);
	fseek(fp, 0, SEEK_END);
	size = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	text = calloc(1, (size_t)size + 1);
	assert_int_equal(fread(text, 1, (size_t)size, fp), (size_t)size);
	fclose(fp);
	snprintf(expected, sizeof(expected), "4\n%ld\n%ld\n%s\ntwo words\n",
		 json_int(pause, "pid"), json_int(pause, "ppid"),
		 "a;b$(touch x)'q");
	/* comm is the name cut to 15 bytes: one word, nothing run. */
	assert_string_equal(text, expected);
	assert_int_not_equal(stat(touched, &st), 0);
	free(text);
	trace_result_free(&r);
}

static void
vfork_child_held_at_exec(void **state)
{
	const char *options[] = { "--pause", NULL };
	const char *command[] = { example_path("vfork_exec"), NULL };
	struct live_trace live;
	json_t *pause;
	pid_t pid;

	(void)state;
	assert_int_equal(live_trace_start(&live, options, command), 0);
	pause = live_trace_next(&live, "pause", NULL);
	assert_non_null(pause);
	pid = (pid_t)json_int(pause, "pid");
	assert_string_equal(json_str(pause, "at"), "exec");
	assert_non_null(strstr(json_str(pause, "note"), "vfork"));
	assert_int_equal(process_state(pid), 'T');
	kill(pid, SIGCONT);
	live_trace_finish(&live);
	assert_false(live.result.timed_out);
	assert_int_equal(live.result.exit_code, 0);
	trace_result_free(&live.result);
}

static void
interrupt_lists_paused_children(void **state)
{
	const char *options[] = { "--pause", NULL };
	const char *command[] = { example_path("fork_tree"), NULL };
	struct live_trace live;
	json_t *signal;
	pid_t workers[3];
	char line[128];
	size_t i;

	(void)state;
	assert_int_equal(live_trace_start(&live, options, command), 0);
	for (i = 0; i < 3; i++)
		workers[i] = wait_event_pid(&live, "pause", NULL);
	/*
	 * The first SIGTERM is passed on to the program, the second lets go.
	 * Two sent at once would merge into one, so wait in between.
	 */
	kill(live.pid, SIGTERM);
	do
		signal = live_trace_next(&live, "signal", "fork_tree");
	while (signal && strcmp(json_str(signal, "signal"), "SIGTERM"));
	assert_non_null(signal);
	kill(live.pid, SIGTERM);
	live_trace_finish(&live);
	assert_false(live.result.timed_out);

	/*
	 * forktrace led the process group, which is orphaned when it exits,
	 * so it resumed them rather than leave them to the kernel's SIGHUP.
	 */
	for (i = 0; i < 3; i++) {
		snprintf(line, sizeof(line),
			 "pid %d (fork_tree) was still paused: resumed it "
			 "untraced",
			 (int)workers[i]);
		assert_non_null(strstr(live.result.err, line));
		assert_true(wait_for_process_end(workers[i]));
	}
	trace_result_free(&live.result);
}

static void
pause_timeout_resumes_child(void **state)
{
	const char *options[] = { "--pause", "--pause-timeout=0.2", NULL };
	const char *command[] = { example_path("fork_tree"), NULL };
	struct trace_result r;
	size_t i;

	(void)state;
	assert_int_equal(trace_run(&r, options, command), 0);
	assert_false(r.timed_out);
	assert_int_equal(r.exit_code, 0);
	/* Three workers and the grandchild, each taken back. */
	assert_int_equal(trace_count(&r, "pause", 0), 4);
	for (i = 0; i < 4; i++)
		assert_string_equal(
			json_str(trace_event(&r, "resume", 0, i), "reason"),
			"timeout");
	assert_int_equal(trace_process_count(&r), 5);
	trace_result_free(&r);
}

/* The program's own exec of another program is no new child's. */
static void
program_exec_not_paused(void **state)
{
	const char *options[] = { "--pause=exec", "--pause-timeout=5", NULL };
	const char *command[] = { "/bin/sh", "-c", "exec /bin/sh -c 'exit 3'",
				  NULL };
	struct trace_result r;

	(void)state;
	assert_int_equal(trace_run(&r, options, command), 0);
	assert_false(r.timed_out);
	assert_int_equal(r.exit_code, 3);
	assert_int_equal(trace_count(&r, "exec", 0), 2);
	assert_int_equal(trace_count(&r, "pause", 0), 0);
	trace_result_free(&r);
}

/* Under -q a pause still prints how to attach, and -qq prints nothing. */
static void
quiet_keeps_pause_lines(void **state)
{
	const char *quiet[] = { "-q", "--pause", "--pause-timeout=0.2", NULL };
	const char *silent[] = { "-qq", "--pause", "--pause-timeout=0.2",
				 NULL };
	const char *command[] = { example_path("fork_tree"), NULL };
	struct trace_result r;

	(void)state;
	assert_int_equal(trace_run(&r, quiet, command), 0);
	assert_false(r.timed_out);
	assert_int_equal(r.exit_code, 0);
	assert_int_equal(trace_count(&r, "pause", 0), 4);
	assert_int_equal(trace_count(&r, "resume", 0), 0);
	assert_int_equal(trace_count(&r, "fork", 0), 0);
	trace_result_free(&r);

	assert_int_equal(trace_run(&r, silent, command), 0);
	assert_false(r.timed_out);
	assert_int_equal(r.exit_code, 0);
	assert_int_equal(trace_count(&r, "pause", 0), 0);
	trace_result_free(&r);
}

static void
pause_options_need_pause(void **state)
{
	const char *args[] = { "--pause-timeout=1", "true", NULL };
	const char *bad[] = { "--pause=later", "true", NULL };
	const char *quotes[] = { "--pause", "--on-pause=gdb 'x", "true", NULL };
	struct trace_result r;

	(void)state;
	assert_int_equal(forktrace_run(&r, args), 0);
	assert_int_equal(r.exit_code, 2);
	assert_non_null(strstr(r.err, "need --pause"));
	trace_result_free(&r);

	assert_int_equal(forktrace_run(&r, bad), 0);
	assert_int_equal(r.exit_code, 2);
	assert_non_null(strstr(r.err, "invalid --pause value 'later'"));
	trace_result_free(&r);

	assert_int_equal(forktrace_run(&r, quotes), 0);
	assert_int_equal(r.exit_code, 2);
	assert_non_null(strstr(r.err, "a single quote is not closed"));
	trace_result_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(gdb_takes_paused_child),
		cmocka_unit_test(pause_at_exec_breaks_in_main),
		cmocka_unit_test(python_pool_worker_under_gdb),
		cmocka_unit_test(on_pause_words_stay_literal),
		cmocka_unit_test(vfork_child_held_at_exec),
		cmocka_unit_test(interrupt_lists_paused_children),
		cmocka_unit_test(pause_timeout_resumes_child),
		cmocka_unit_test(program_exec_not_paused),
		cmocka_unit_test(quiet_keeps_pause_lines),
		cmocka_unit_test(pause_options_need_pause),
	};

	return cmocka_run_group_tests_name("pause", tests, NULL, NULL);
}
