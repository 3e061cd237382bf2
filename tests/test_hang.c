/*
 * Integration tests of the hang detector: examples that really deadlock
 * and waits that are fine, traced with --hang-after=2.  Each test ends
 * the processes it started, by pid, once the reports it waits for came.
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
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define PYTHON "/usr/bin/python3"

static const char *const hang_options[] = { "--hang-after=2", NULL };
static const char *const no_command[] = { NULL };
/* With the stacks of a forking process's other threads as well */
static const char *const thread_stack_options[] = { "--hang-after=2",
						    "--stacks=all", NULL };

/*
 * Skips a test whose report depends on a socket option of a traced
 * process.  Under valgrind 3.19, which does not implement pidfd_open(),
 * forktrace cannot borrow the socket to read it, and assumes a timeout.
 */
static void
skip_without_socket_options(void)
{
	if (forktrace_wrapped())
		skip();
}

/* Returns the hang event of pid, waiting for it if it has not come. */
static json_t *
hang_of(struct live_trace *live, pid_t pid)
{
	json_t *event = trace_event(&live->result, "hang", pid, 0);
	int i;

	for (i = 0; !event && i < 32; i++) {
		event = live_trace_next(live, "hang", NULL);
		if (!event)
			return NULL;
		if (json_int(event, "pid") != pid)
			event = NULL;
	}
	return event;
}

/* Kills, by pid, every process that the trace has shown so far. */
static void
kill_family(struct live_trace *live)
{
	size_t i;

	live_trace_pump(live);
	for (i = 0; i < live->result.count; i++) {
		json_t *e = live->result.events[i];
		const char *kind = json_str(e, "event");

		if (!kind)
			continue;
		if (!strcmp(kind, "exec") || !strcmp(kind, "attach"))
			kill((pid_t)json_int(e, "pid"), SIGKILL);
		else if (!strcmp(kind, "fork") || !strcmp(kind, "vfork"))
			kill((pid_t)json_int(e, "child"), SIGKILL);
	}
}

static void
finish(struct live_trace *live)
{
	kill_family(live);
	live_trace_finish(live);
	assert_false(live->result.timed_out);
	trace_result_free(&live->result);
}

static bool
has_related(const json_t *hang, pid_t pid)
{
	json_t *related = json_object_get(hang, "related");
	size_t i;

	for (i = 0; i < json_array_size(related); i++)
		if (json_integer_value(json_array_get(related, i)) == pid)
			return true;
	return false;
}

/* Returns true when the stack has function at line (any line if 0). */
static bool
stack_has(const json_t *thread, const char *function, int line)
{
	json_t *stack = json_object_get(thread, "stack");
	size_t i;

	for (i = 0; i < json_array_size(stack); i++) {
		json_t *frame = json_array_get(stack, i);
		const char *name = json_str(frame, "function");

		if (name && !strcmp(name, function) &&
		    (!line || json_int(frame, "line") == line))
			return true;
	}
	return false;
}

static const char *
wait_kind(const json_t *hang)
{
	return json_str(json_object_get(hang, "waits_on"), "kind");
}

static bool
deadlock(const json_t *hang)
{
	return json_is_true(json_object_get(hang, "deadlock"));
}

/*
 * Starts a trace of command with --hang-after=2 and returns its first
 * event of kind, a creation, with the parent and the child it names.
 */
static json_t *
start_until(struct live_trace *live, const char *const *command,
	    const char *kind, pid_t *parent, pid_t *child)
{
	json_t *event;

	assert_int_equal(live_trace_start(live, hang_options, command), 0);
	event = live_trace_next(live, kind, NULL);
	assert_non_null(event);
	*parent = (pid_t)json_int(event, "pid");
	*child = (pid_t)json_int(event, "child");
	return event;
}

/*
 * Starts a trace of a program that starts a thread and then forks, and
 * returns the fork event, with the thread, the parent and the child.
 */
static json_t *
start_thread_and_fork(struct live_trace *live, const char *const *command,
		      pid_t *thread, pid_t *parent, pid_t *child)
{
	json_t *event;

	assert_int_equal(live_trace_start(live, thread_stack_options, command),
			 0);
	event = live_trace_next(live, "thread", NULL);
	assert_non_null(event);
	*thread = (pid_t)json_int(event, "child");
	event = live_trace_next(live, "fork", NULL);
	assert_non_null(event);
	*parent = (pid_t)json_int(event, "pid");
	*child = (pid_t)json_int(event, "child");
	return event;
}

static void
hang_fork_lock_names_the_thread_left_behind(void **state)
{
	const char *command[] = { example_path("fork_lock"), "60", NULL };
	struct live_trace live;
	json_t *fork, *other, *hang, *threads;
	pid_t holder, child, parent;
	char wanted[128];

	(void)state;
	fork = start_thread_and_fork(&live, command, &holder, &parent, &child);

	/* The fork warns of the thread the child does not get. */
	threads = json_object_get(fork, "other_threads");
	assert_int_equal(json_array_size(threads), 1);
	other = json_array_get(threads, 0);
	assert_int_equal(json_int(other, "tid"), holder);
	assert_string_equal(json_str(other, "name"), "holder");
	assert_string_equal(json_str(json_object_get(other, "syscall"), "name"),
			    "pause");
	assert_true(stack_has(
		other, "hold_lock",
		marker_line("examples/fork_lock.c", "holder sleeps")));

	hang = hang_of(&live, child);
	assert_non_null(hang);
	assert_true(deadlock(hang));
	assert_string_equal(json_str(hang, "cause"), "lock_not_copied");
	assert_int_equal(json_int(hang, "owner"), holder);
	assert_string_equal(wait_kind(hang), "futex");
	snprintf(wanted, sizeof(wanted),
		 "deadlocked: it waits for a mutex that thread %d (holder) "
		 "of %d held when %d forked it",
		 (int)holder, (int)parent, (int)parent);
	assert_non_null(strstr(json_str(hang, "message"), wanted));
	assert_true(json_real_value(json_object_get(hang, "blocked_for")) >=
		    2.0);
	threads = json_object_get(hang, "threads");
	assert_int_equal(json_array_size(threads), 1);
	assert_true(
		stack_has(json_array_get(threads, 0), "main",
			  marker_line("examples/fork_lock.c", "child locks")));

	/*
	 * The parent waits for that child, and its holder thread sleeps in
	 * pause() with no handler that a signal could run: it is stuck too.
	 */
	hang = hang_of(&live, parent);
	assert_non_null(hang);
	assert_true(deadlock(hang));
	assert_string_equal(json_str(hang, "cause"), "waits_for_deadlocked");
	assert_true(has_related(hang, child));
	assert_int_equal(json_array_size(json_object_get(hang, "threads")), 2);

	/* The tree marks both, each with its own cause. */
	kill_family(&live);
	live_trace_finish(&live);
	assert_false(live.result.timed_out);
	assert_string_equal(
		json_str(trace_process(&live.result, child), "deadlock_cause"),
		"lock_not_copied");
	assert_string_equal(
		json_str(trace_process(&live.result, parent), "deadlock_cause"),
		"waits_for_deadlocked");
	trace_result_free(&live.result);
}

static void
hang_pipe_wait_shows_the_cycle(void **state)
{
	const char *command[] = { example_path("pipe_wait"), "60", NULL };
	struct live_trace live;
	json_t *hang, *waits_on;
	pid_t parent, child;
	char wanted[160];

	(void)state;
	start_until(&live, command, "fork", &parent, &child);

	hang = hang_of(&live, child);
	assert_non_null(hang);
	assert_true(deadlock(hang));
	assert_string_equal(json_str(hang, "cause"), "wait_cycle");
	waits_on = json_object_get(hang, "waits_on");
	assert_string_equal(json_str(waits_on, "kind"), "write");
	assert_int_equal(json_integer_value(json_array_get(
				 json_object_get(waits_on, "fds"), 0)),
			 4);
	assert_true(!strncmp(json_str(waits_on, "file"), "pipe:[", 6));
	snprintf(wanted, sizeof(wanted),
		 "deadlocked in a wait cycle: %d waits to write to %s (fd 4), "
		 "which only %d reads (its fd 3); %d waits in wait4() for its "
		 "child %d",
		 (int)child, json_str(waits_on, "file"), (int)parent,
		 (int)parent, (int)child);
	assert_non_null(strstr(json_str(hang, "message"), wanted));
	assert_true(has_related(hang, parent));
	assert_true(has_related(hang, child));

	hang = hang_of(&live, parent);
	assert_non_null(hang);
	assert_string_equal(json_str(hang, "cause"), "wait_cycle");
	assert_string_equal(wait_kind(hang), "child");
	assert_int_equal(json_int(json_object_get(hang, "waits_on"), "child"),
			 child);
	finish(&live);
}

/*
 * Traces a Python example in which the parent waits for its child, which
 * waits to write to file_prefix ("pipe:[" or "socket:["), and checks
 * that both are reported in one wait cycle.
 */
static void
expect_write_cycle(const char *script, const char *creation,
		   const char *child_comm, const char *file_prefix)
{
	const char *command[] = { PYTHON, source_path(script), "60", NULL };
	struct live_trace live;
	json_t *hang, *waits_on;
	pid_t parent, child;

	start_until(&live, command, creation, &parent, &child);
	hang = hang_of(&live, child);
	assert_non_null(hang);
	assert_true(deadlock(hang));
	assert_string_equal(json_str(hang, "cause"), "wait_cycle");
	assert_string_equal(json_str(hang, "comm"), child_comm);
	waits_on = json_object_get(hang, "waits_on");
	assert_string_equal(json_str(waits_on, "kind"), "write");
	assert_true(!strncmp(json_str(waits_on, "file"), file_prefix,
			     strlen(file_prefix)));
	hang = hang_of(&live, parent);
	assert_non_null(hang);
	assert_string_equal(json_str(hang, "cause"), "wait_cycle");
	assert_true(has_related(hang, child));
	finish(&live);
}

static void
hang_python_subprocess_wait_before_read(void **state)
{
	(void)state;
	/* Python starts the child with vfork() and an exec of head. */
	expect_write_cycle("examples/py_subprocess_wait.py", "vfork", "head",
			   "pipe:[");
}

static void
hang_python_socket_pair_wait_before_read(void **state)
{
	(void)state;
	skip_without_socket_options();
	expect_write_cycle("examples/py_socket_wait.py", "fork", "python3",
			   "socket:[");
}

/*
 * Returns true when stack has a Python frame named function, at line
 * (0: any line).
 */
static bool
has_python_frame(json_t *stack, const char *function, int line)
{
	json_t *frame;
	size_t i;

	json_array_foreach(stack, i, frame)
	{
		const char *name = json_str(frame, "function");

		if (json_is_true(json_object_get(frame, "python")) && name &&
		    !strcmp(name, function) &&
		    (!line || json_int(frame, "line") == line))
			return true;
	}
	return false;
}

static void
hang_python_logging_lock_after_fork(void **state)
{
	const char *command[] = { PYTHON,
				  source_path("examples/"
					      "py_logging_fork.py"),
				  "60", NULL };
	struct live_trace live;
	json_t *fork, *hang, *evidence;
	pid_t logger, parent, child;
	char wanted[128];

	(void)state;
	fork = start_thread_and_fork(&live, command, &logger, &parent, &child);
	assert_int_equal(
		json_int(json_array_get(json_object_get(fork, "other_"
							      "threads"),
					0),
			 "tid"),
		logger);

	/* The holder's own Python frames at the fork. */
	assert_true(has_python_frame(
		json_object_get(json_array_get(json_object_get(fork, "other_"
								     "threads"),
					       0),
				"stack"),
		"SlowHandler.emit", 0));

	hang = hang_of(&live, child);
	assert_non_null(hang);
	assert_true(deadlock(hang));
	assert_string_equal(json_str(hang, "cause"), "futex");
	/* The child waits on the Python line that takes the handler's lock. */
	assert_true(has_python_frame(
		json_object_get(
			json_array_get(json_object_get(hang, "threads"), 0),
			"stack"),
		"SlowHandler.emit",
		marker_line("examples/py_logging_fork.py", "emit_lock")));
	snprintf(wanted, sizeof(wanted),
		 "; %d forked it while its thread %d ran, and a lock that "
		 "thread held stays locked here",
		 (int)parent, (int)logger);
	assert_non_null(strstr(json_str(hang, "message"), wanted));
	evidence = json_object_get(hang, "evidence");
	/* Its state depends on how far it got past holding.set(). */
	snprintf(wanted, sizeof(wanted),
		 "at the fork, thread %d (python3) of %d was ", (int)logger,
		 (int)parent);
	assert_true(!strncmp(json_string_value(json_array_get(evidence, 0)),
			     wanted, strlen(wanted)));

	hang = hang_of(&live, parent);
	assert_non_null(hang);
	assert_true(deadlock(hang));
	assert_string_equal(json_str(hang, "cause"), "waits_for_deadlocked");
	assert_true(has_related(hang, child));
	finish(&live);
}

static void
hang_python_pool_forked_with_lock_held(void **state)
{
	const char *command[] = { PYTHON,
				  source_path("examples/py_pool_lock.py"), "60",
				  NULL };
	struct live_trace live;
	json_t *fork, *hang;
	pid_t parent, workers[2];
	int i;

	(void)state;
	assert_int_equal(live_trace_start(&live, hang_options, command), 0);
	for (i = 0; i < 2; i++) {
		fork = live_trace_next(&live, "fork", NULL);
		assert_non_null(fork);
		parent = (pid_t)json_int(fork, "pid");
		workers[i] = (pid_t)json_int(fork, "child");
	}
	for (i = 0; i < 2; i++) {
		hang = hang_of(&live, workers[i]);
		assert_non_null(hang);
		assert_true(deadlock(hang));
		assert_string_equal(json_str(hang, "cause"), "futex");
	}
	hang = hang_of(&live, parent);
	assert_non_null(hang);
	assert_true(deadlock(hang));
	assert_string_equal(json_str(hang, "cause"), "waits_for_deadlocked");
	assert_true(has_related(hang, workers[0]));
	assert_true(has_related(hang, workers[1]));
	finish(&live);
}

static void
hang_python_pool_with_killed_worker(void **state)
{
	const char *command[] = { PYTHON,
				  source_path("examples/py_pool_killed.py"),
				  "60", NULL };
	struct live_trace live;
	json_t *exec, *exit, *hang, *peer;
	pid_t parent, killed = 0;
	int i;

	(void)state;
	assert_int_equal(live_trace_start(&live, hang_options, command), 0);
	exec = live_trace_next(&live, "exec", NULL);
	assert_non_null(exec);
	parent = (pid_t)json_int(exec, "pid");
	for (i = 0; i < 8 && !killed; i++) {
		exit = live_trace_next(&live, "exit", NULL);
		assert_non_null(exit);
		if (json_str(exit, "signal") &&
		    !strcmp(json_str(exit, "signal"), "SIGKILL"))
			killed = (pid_t)json_int(exit, "pid");
	}
	assert_true(killed > 0);

	hang = hang_of(&live, parent);
	assert_non_null(hang);
	assert_true(deadlock(hang));
	assert_string_equal(json_str(hang, "cause"), "dead_peer");
	assert_string_equal(wait_kind(hang), "read");
	peer = json_object_get(hang, "peer");
	assert_int_equal(json_int(peer, "pid"), killed);
	assert_string_equal(json_str(peer, "signal"), "SIGKILL");
	assert_non_null(strstr(json_str(hang, "message"),
			       "which held its write end, was killed by "
			       "SIGKILL"));
	finish(&live);
}

static void
hang_vfork_parent_waits_for_child(void **state)
{
	const char *command[] = { example_path("vfork_lock"), "60", NULL };
	struct live_trace live;
	json_t *hang, *threads;
	pid_t parent, child;

	(void)state;
	start_until(&live, command, "vfork", &parent, &child);
	hang = hang_of(&live, child);
	assert_non_null(hang);
	assert_true(deadlock(hang));
	/* The child shares the memory of its parent, which holds the lock. */
	assert_string_equal(json_str(hang, "cause"), "wait_cycle");
	assert_true(has_related(hang, parent));
	hang = hang_of(&live, parent);
	assert_non_null(hang);
	assert_true(deadlock(hang));
	assert_string_equal(json_str(hang, "cause"), "wait_cycle");
	assert_true(has_related(hang, child));
	assert_string_equal(wait_kind(hang), "child");
	/* An uninterruptible sleep cannot stop for its stack. */
	threads = json_object_get(hang, "threads");
	assert_int_equal(json_array_size(threads), 1);
	assert_string_equal(json_str(json_array_get(threads, 0), "state"), "D");
	assert_null(json_object_get(json_array_get(threads, 0), "stack"));
	finish(&live);
}

static void
hang_pipe_eof_names_own_write_end(void **state)
{
	const char *command[] = { example_path("pipe_eof"), "60", NULL };
	struct live_trace live;
	json_t *hang, *peer;
	pid_t parent, child;

	(void)state;
	start_until(&live, command, "fork", &parent, &child);
	hang = hang_of(&live, parent);
	assert_non_null(hang);
	assert_true(deadlock(hang));
	assert_string_equal(json_str(hang, "cause"), "holds_other_end");
	assert_non_null(strstr(json_str(hang, "message"),
			       "(fd 3) until every write end is closed, but it "
			       "holds a write end itself (fd 4)"));
	/* The child held the write end too, and has ended. */
	peer = json_object_get(hang, "peer");
	assert_int_equal(json_int(peer, "pid"), child);
	assert_int_equal(json_int(peer, "exit_code"), 0);
	finish(&live);
}

static void
hang_lock_order_names_both_owners(void **state)
{
	const char *command[] = { example_path("lock_order"), "60", NULL };
	struct live_trace live;
	json_t *thread, *hang;
	pid_t pid, other;
	char wanted[96];

	(void)state;
	assert_int_equal(live_trace_start(&live, hang_options, command), 0);
	thread = live_trace_next(&live, "thread", NULL);
	assert_non_null(thread);
	pid = (pid_t)json_int(thread, "pid");
	other = (pid_t)json_int(thread, "child");
	hang = hang_of(&live, pid);
	assert_non_null(hang);
	assert_true(deadlock(hang));
	assert_string_equal(json_str(hang, "cause"), "threads");
	snprintf(wanted, sizeof(wanted), ", which thread %d holds; thread %d",
		 (int)other, (int)other);
	assert_non_null(strstr(json_str(hang, "message"), wanted));
	snprintf(wanted, sizeof(wanted), ", which thread %d holds", (int)pid);
	assert_non_null(strstr(json_str(hang, "message"), wanted));
	finish(&live);
}

/* Traces command until the root's hang report, which claims no deadlock. */
static void
expect_only_waiting(const char *const *command, const char *kind,
		    const char *words)
{
	struct live_trace live;
	json_t *exec, *hang;
	size_t i;

	assert_int_equal(live_trace_start(&live, hang_options, command), 0);
	exec = live_trace_next(&live, "exec", NULL);
	assert_non_null(exec);
	hang = hang_of(&live, (pid_t)json_int(exec, "pid"));
	assert_non_null(hang);
	assert_false(deadlock(hang));
	assert_string_equal(json_str(hang, "cause"), "waiting");
	assert_string_equal(wait_kind(hang), kind);
	if (!strstr(json_str(hang, "message"), words))
		print_message("message: %s\n", json_str(hang, "message"));
	assert_non_null(strstr(json_str(hang, "message"), words));
	live_trace_pump(&live);
	for (i = 0; i < live.result.count; i++)
		if (!strcmp(json_str(live.result.events[i], "event") ?: "",
			    "hang"))
			assert_false(deadlock(live.result.events[i]));
	finish(&live);
}

/*
 * Traces command, which ends by itself after its threads have been
 * blocked for several detector periods, and checks that no hang report
 * came: each wait ends by itself or by a key at the terminal.
 */
static void
expect_no_report(const char *const *command)
{
	static const char *const options[] = { "--hang-after=0.5", NULL };
	struct trace_result r;

	assert_int_equal(trace_run(&r, options, command), 0);
	assert_false(r.timed_out);
	assert_int_equal(trace_count(&r, "hang", 0), 0);
	trace_result_free(&r);
}

static void
hang_timed_sleep_not_reported(void **state)
{
	const char *command[] = { "/bin/sleep", "3", NULL };

	(void)state;
	expect_no_report(command);
}

static void
hang_accept_loop_is_waiting(void **state)
{
	const char *command[] = { PYTHON, "-c",
				  "import signal, socket\n"
				  "signal.alarm(60)\n"
				  "server = socket.socket()\n"
				  "server.bind(('127.0.0.1', 0))\n"
				  "server.listen()\n"
				  "while True:\n"
				  "    server.accept()[0].close()\n",
				  NULL };

	(void)state;
	skip_without_socket_options();
	expect_only_waiting(command, "accept",
			    "something outside the family can end it");
}

/* A shell that waits for its sleeping child waits for a timed wait too. */
static void
hang_wait_for_sleeping_child_not_reported(void **state)
{
	const char *command[] = { "/bin/sh", "-c", "/bin/sleep 3; exit 0",
				  NULL };

	(void)state;
	expect_no_report(command);
}

/*
 * A SIGCONT with no handler interrupts the sleep before the detector's
 * first sample.  The sleep resumes as restart_syscall(), so only the
 * signal stop showed which call that resumes.
 */
static void
hang_restarted_sleep_not_reported(void **state)
{
	char script[320];
	const char *command[] = { "/bin/sh", "-c", script, NULL };

	(void)state;
	snprintf(script, sizeof(script),
		 "/bin/sleep 3 & p=$!; i=0\n"
		 "while [ $i -lt 100000 ]; do\n"
		 "\tread nr rest </proc/$p/syscall\n"
		 "\t[ \"$nr\" = %d ] && break; i=$((i + 1))\n"
		 "done\n"
		 "kill -CONT $p; wait $p\n",
		 (int)SYS_clock_nanosleep);
	expect_no_report(command);
}

static void
hang_terminal_read_not_reported(void **state)
{
	/* SIGALRM ends the read after 3 seconds. */
	const char *command[] = { PYTHON, "-c",
				  "import os, signal\n"
				  "signal.alarm(3)\n"
				  "master, slave = os.openpty()\n"
				  "os.read(slave, 1)\n",
				  NULL };

	(void)state;
	expect_no_report(command);
}

static void
hang_parent_of_working_child_is_waiting(void **state)
{
	char script[512];
	const char *command[] = { "/bin/sh", "-c", script, NULL };

	(void)state;
	snprintf(script, sizeof(script), "%s; true", example_path("busy"));
	expect_only_waiting(command, "child", "which is running, can end it");
}

static void
hang_after_zero_reports_nothing(void **state)
{
	const char *options[] = { "--hang-after=0", NULL };
	const char *command[] = { example_path("fork_lock"), "3", NULL };
	struct trace_result r;
	json_t *threads;

	(void)state;
	assert_int_equal(trace_run(&r, options, command), 0);
	assert_int_equal(trace_count(&r, "hang", 0), 0);
	/* The warning at the fork does not depend on the detector. */
	threads =
		json_object_get(trace_event(&r, "fork", 0, 0), "other_threads");
	assert_int_equal(json_array_size(threads), 1);
	/* By default the other threads are not interrupted for stacks. */
	assert_null(json_object_get(json_array_get(threads, 0), "stack"));
	assert_null(
		json_object_get(json_array_get(threads, 0), "stack_skipped"));
	assert_int_equal(r.exit_code, -1);
	assert_int_equal(r.signal, SIGALRM);
	trace_result_free(&r);
}

/* Starts an example untraced; its first line of output is read. */
static pid_t
start_untraced(const char *name, char *line, size_t size)
{
	int fds[2];
	FILE *fp;
	pid_t pid;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		execl(example_path(name), name, "60", (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	fp = fdopen(fds[0], "r");
	assert_non_null(fp);
	assert_non_null(fgets(line, (int)size, fp));
	fclose(fp);
	return pid;
}

/* Waits until /proc shows pid sleeping in system call nr. */
static void
wait_for_syscall(pid_t pid, long nr)
{
	struct timespec pause_time = { 0, 1000000 };
	char path[64];
	int i;

	snprintf(path, sizeof(path), "/proc/%d/syscall", (int)pid);
	for (i = 0; i < TRACE_TIMEOUT * 1000; i++) {
		FILE *fp = fopen(path, "re");
		long seen = -1;

		if (fp) {
			if (fscanf(fp, "%ld", &seen) != 1)
				seen = -1;
			fclose(fp);
		}
		if (seen == nr)
			return;
		nanosleep(&pause_time, NULL);
	}
	fail_msg("pid %d never entered system call %ld", (int)pid, nr);
}

static json_t *
snapshot_process(json_t *processes, pid_t pid)
{
	size_t i;

	for (i = 0; i < json_array_size(processes); i++) {
		json_t *p = json_array_get(processes, i), *found;

		if (json_int(p, "pid") == pid)
			return p;
		found = snapshot_process(json_object_get(p, "children"), pid);
		if (found)
			return found;
	}
	return NULL;
}

static void
snapshot_explains_attached_deadlock(void **state)
{
	char line[256], pid_text[16];
	const char *options[] = { "--snapshot", "-p", pid_text, NULL };
	struct trace_result r;
	json_t *snapshot, *child_record, *hang;
	int child = 0, holder = 0, status;
	pid_t parent;

	(void)state;
	parent = start_untraced("fork_lock", line, sizeof(line));
	assert_int_equal(sscanf(line,
				"child %d waits for the lock that thread %d",
				&child, &holder),
			 2);
	wait_for_syscall(child, 202); /* futex */
	snprintf(pid_text, sizeof(pid_text), "%d", (int)parent);
	assert_int_equal(trace_run(&r, options, no_command), 0);
	snapshot = trace_event(&r, "snapshot", 0, 0);
	assert_non_null(snapshot);
	child_record =
		snapshot_process(json_object_get(snapshot, "tree"), child);
	assert_non_null(child_record);
	hang = json_object_get(child_record, "hang");
	assert_non_null(hang);
	assert_true(deadlock(hang));
	/* Attached after the fork, it finds the owner in the parent. */
	assert_string_equal(json_str(hang, "cause"), "lock_not_copied");
	assert_int_equal(json_int(hang, "owner"), holder);
	trace_result_free(&r);
	kill(child, SIGKILL);
	kill(parent, SIGKILL);
	assert_int_equal(waitpid(parent, &status, 0), parent);
}

static void
attached_family_is_reported(void **state)
{
	char line[256], pid_text[16];
	const char *options[] = { "--hang-after=1", "-p", pid_text, NULL };
	struct live_trace live;
	json_t *hang;
	int status;
	pid_t parent;

	(void)state;
	/* pipe_wait prints nothing before it hangs: use fork_lock's line. */
	parent = start_untraced("fork_lock", line, sizeof(line));
	snprintf(pid_text, sizeof(pid_text), "%d", (int)parent);
	assert_int_equal(live_trace_start(&live, options, no_command), 0);
	hang = hang_of(&live, parent);
	assert_non_null(hang);
	assert_string_equal(json_str(hang, "cause"), "waits_for_deadlocked");
	assert_true(json_array_size(json_object_get(hang, "related")) == 1);
	hang = hang_of(&live, (pid_t)json_integer_value(json_array_get(
				      json_object_get(hang, "related"), 0)));
	assert_non_null(hang);
	assert_true(deadlock(hang));
	assert_string_equal(json_str(hang, "cause"), "lock_not_copied");
	kill((pid_t)json_int(hang, "pid"), SIGKILL);
	kill(parent, SIGKILL);
	assert_int_equal(waitpid(parent, &status, 0), parent);
	live_trace_finish(&live);
	assert_false(live.result.timed_out);
	trace_result_free(&live.result);
}

/* Traces a Python program given as text, with --hang-after=2. */
static void
start_python(struct live_trace *live, const char *program, const char *arg)
{
	const char *command[] = { PYTHON, "-c", program, arg, NULL };

	assert_int_equal(live_trace_start(live, hang_options, command), 0);
}

static void
fork_warning_leaves_write_whole(void **state)
{
	/*
	 * The main thread blocks writing 256 KiB to a pipe while another
	 * thread forks.  An interrupt for its stack would cut the write
	 * short, so the fork warning goes without that stack.
	 */
	static const char program[] =
		"import os, signal, threading\n"
		"signal.alarm(60)\n"
		"r, w = os.pipe()\n"
		"go_r, go_w = os.pipe()\n"
		"if os.fork() == 0:\n"
		"    os.close(w)\n"
		"    os.read(go_r, 1)\n"
		"    while os.read(r, 65536):\n"
		"        pass\n"
		"    os._exit(0)\n"
		"os.close(r)\n"
		"main = threading.get_native_id()\n"
		"def fork_while_main_writes():\n"
		"    path = '/proc/self/task/%d/syscall' % main\n"
		"    while open(path).read().split()[0] != '1':\n"
		"        pass\n"
		"    pid = os.fork()\n"
		"    if pid == 0:\n"
		"        os._exit(0)\n"
		"    os.waitpid(pid, 0)\n"
		"    os.write(go_w, b'x')\n"
		"threading.Thread(target=fork_while_main_writes).start()\n"
		"print('wrote', os.write(w, b'x' * 262144), flush=True)\n";
	const char *command[] = { PYTHON, "-c", program, NULL };
	const char *options[] = { "--stacks=all", NULL };
	struct trace_result r;
	json_t *fork, *other;
	size_t i;

	(void)state;
	assert_int_equal(trace_run(&r, options, command), 0);
	assert_int_equal(r.exit_code, 0);
	assert_string_equal(r.out, "wrote 262144\n");
	/* The second fork is the thread's, and main is its other thread. */
	fork = trace_event(&r, "fork", 0, 1);
	assert_non_null(fork);
	other = NULL;
	for (i = 0; i < json_array_size(json_object_get(fork, "other_"
							      "threads"));
	     i++) {
		json_t *t = json_array_get(
			json_object_get(fork, "other_threads"), i);

		if (json_int(t, "tid") == json_int(fork, "pid"))
			other = t;
	}
	assert_non_null(other);
	assert_null(json_object_get(other, "stack"));
	assert_string_equal(json_str(other, "stack_skipped"),
			    "an interrupt would cut its write short");
	trace_result_free(&r);
}

/*
 * Waits until /proc shows pid asleep again, after the stop that taking its
 * stack for a report made: a snapshot explains only blocked processes.
 */
static void
wait_for_sleep(pid_t pid)
{
	struct timespec pause_time = { 0, 1000000 };
	int i;

	for (i = 0; i < TRACE_TIMEOUT * 1000; i++) {
		if (process_state(pid) == 'S')
			return;
		nanosleep(&pause_time, NULL);
	}
	fail_msg("pid %d never went back to sleep", (int)pid);
}

static void
hang_poll_cycle_survives_interrupts(void **state)
{
	/* Each holds only the write end of the pipe that the other waits on. */
	static const char program[] = "import os, select, signal\n"
				      "signal.alarm(60)\n"
				      "a_r, a_w = os.pipe()\n"
				      "b_r, b_w = os.pipe()\n"
				      "if os.fork() == 0:\n"
				      "    os.close(a_w)\n"
				      "    os.close(b_r)\n"
				      "    os.read(a_r, 1)\n"
				      "    os._exit(0)\n"
				      "os.close(a_r)\n"
				      "os.close(b_w)\n"
				      "p = select.poll()\n"
				      "p.register(b_r, select.POLLIN)\n"
				      "p.poll()\n";
	struct live_trace live;
	json_t *fork, *hang, *snapshot, *record;
	pid_t parent, child;

	(void)state;
	start_python(&live, program, NULL);
	fork = live_trace_next(&live, "fork", NULL);
	assert_non_null(fork);
	parent = (pid_t)json_int(fork, "pid");
	child = (pid_t)json_int(fork, "child");
	hang = hang_of(&live, parent);
	assert_non_null(hang);
	assert_string_equal(json_str(hang, "cause"), "wait_cycle");
	assert_string_equal(wait_kind(hang), "poll");
	assert_non_null(hang_of(&live, child));
	/*
	 * The report's interrupt restarted poll() through restart_syscall(),
	 * and a snapshot now must still see the same cycle.
	 */
	wait_for_sleep(parent);
	kill(live.pid, SIGQUIT);
	snapshot = live_trace_next(&live, "snapshot", NULL);
	assert_non_null(snapshot);
	record = json_array_get(json_object_get(snapshot, "tree"), 0);
	assert_int_equal(json_int(record, "pid"), parent);
	if (!json_object_get(record, "hang")) {
		char *text = json_dumps(record, 0);

		print_message("snapshot: %s\n", text);
		free(text);
	}
	assert_non_null(json_object_get(record, "hang"));
	assert_string_equal(json_str(json_object_get(record, "hang"), "cause"),
			    "wait_cycle");
	kill_family(&live);
	live_trace_finish(&live);
	assert_int_equal(trace_count(&live.result, "hang", parent), 1);
	trace_result_free(&live.result);
}

/*
 * A reader reported as waiting, while a second child holds the pipe's
 * write end, is reported again as deadlocked once that child has ended:
 * the last write end left is its parent's, which waits for the reader.
 */
static void
waiting_report_turns_deadlocked(void **state)
{
	const char *options[] = { "--hang-after=1", NULL };
	const char *command[] = { PYTHON, "-c",
				  "import os, signal, time\n"
				  "signal.alarm(60)\n"
				  "r, w = os.pipe()\n"
				  "a = os.fork()\n"
				  "if a == 0:\n"
				  "    signal.alarm(60)\n"
				  "    os.close(w)\n"
				  "    os.read(r, 1)\n"
				  "    os._exit(0)\n"
				  "b = os.fork()\n"
				  "if b == 0:\n"
				  "    time.sleep(3)\n"
				  "    os._exit(0)\n"
				  "os.waitpid(b, 0)\n"
				  "os.waitpid(a, 0)\n",
				  NULL };
	struct live_trace live;
	json_t *fork, *hang = NULL;
	pid_t reader;
	int i;

	(void)state;
	assert_int_equal(live_trace_start(&live, options, command), 0);
	fork = live_trace_next(&live, "fork", NULL);
	assert_non_null(fork);
	reader = (pid_t)json_int(fork, "child");
	for (i = 0; i < 32 && !(hang && deadlock(hang)); i++) {
		hang = live_trace_next(&live, "hang", NULL);
		if (hang && json_int(hang, "pid") != reader)
			hang = NULL;
	}
	assert_non_null(hang);
	assert_true(deadlock(hang));
	kill_family(&live);
	live_trace_finish(&live);
	assert_false(live.result.timed_out);
	assert_non_null(json_str(trace_process(&live.result, reader),
				 "deadlock_cause"));
	trace_result_free(&live.result);
}

/* Returns true once thread pid sits in system call nr, false at the bound. */
static bool
wait_for_call(pid_t pid, long nr)
{
	struct timespec pause_time = { 0, 1000000 };
	char path[64], text[64];
	int i;

	snprintf(path, sizeof(path), "/proc/%d/syscall", (int)pid);
	for (i = 0; i < TRACE_TIMEOUT * 1000; i++) {
		FILE *fp = fopen(path, "r");
		bool in_call = fp && fgets(text, sizeof(text), fp) &&
			       strtol(text, NULL, 10) == nr;

		if (fp)
			fclose(fp);
		if (in_call)
			return true;
		nanosleep(&pause_time, NULL);
	}
	return false;
}

/*
 * A snapshot's interrupt ends a poll() with no timeout, which resumes as
 * restart_syscall().  The hang report after it still names the poll, on
 * a pipe whose only writer is the process itself.
 */
static void
poll_after_snapshot_still_deadlocked(void **state)
{
	const char *options[] = { "--hang-after=2", NULL };
	const char *command[] = { PYTHON, "-c",
				  "import os, select, signal\n"
				  "signal.alarm(60)\n"
				  "r, w = os.pipe()\n"
				  "p = select.poll()\n"
				  "p.register(r, select.POLLIN)\n"
				  "p.poll()\n",
				  NULL };
	struct live_trace live;
	json_t *exec, *hang;
	pid_t pid;

	(void)state;
	assert_int_equal(live_trace_start(&live, options, command), 0);
	exec = live_trace_next(&live, "exec", NULL);
	assert_non_null(exec);
	pid = (pid_t)json_int(exec, "pid");
	assert_true(wait_for_call(pid, SYS_poll));
	kill(live.pid, SIGQUIT);
	assert_non_null(live_trace_next(&live, "snapshot", NULL));
	hang = hang_of(&live, pid);
	assert_non_null(hang);
	assert_true(deadlock(hang));
	assert_string_equal(wait_kind(hang), "poll");
	assert_string_equal(json_str(hang, "cause"), "no_waker");
	kill_family(&live);
	live_trace_finish(&live);
	assert_false(live.result.timed_out);
	trace_result_free(&live.result);
}

static void
sigquit_without_detector_keeps_fork_note(void **state)
{
	const char *options[] = { "--hang-after=0", NULL };
	const char *command[] = { example_path("fork_lock"), "60", NULL };
	struct live_trace live;
	json_t *fork, *snapshot, *parent_record, *child_record, *hang;
	pid_t parent, child;
	char wanted[128];

	(void)state;
	assert_int_equal(live_trace_start(&live, options, command), 0);
	fork = live_trace_next(&live, "fork", NULL);
	assert_non_null(fork);
	parent = (pid_t)json_int(fork, "pid");
	child = (pid_t)json_int(fork, "child");
	wait_for_sleep(child);
	/* With the detector off, a snapshot still explains the fork's part. */
	kill(live.pid, SIGQUIT);
	snapshot = live_trace_next(&live, "snapshot", NULL);
	assert_non_null(snapshot);
	parent_record = json_array_get(json_object_get(snapshot, "tree"), 0);
	assert_int_equal(json_int(parent_record, "pid"), parent);
	child_record =
		json_array_get(json_object_get(parent_record, "children"), 0);
	assert_int_equal(json_int(child_record, "pid"), child);
	hang = json_object_get(child_record, "hang");
	assert_non_null(hang);
	assert_string_equal(json_str(hang, "cause"), "lock_not_copied");
	snprintf(wanted, sizeof(wanted), "held when %d forked it", (int)parent);
	assert_non_null(strstr(json_str(hang, "message"), wanted));
	kill_family(&live);
	live_trace_finish(&live);
	assert_int_equal(trace_count(&live.result, "hang", 0), 0);
	trace_result_free(&live.result);
}

/* Checks that the root's only hang report is a wait that can end. */
static void
expect_root_waiting(struct live_trace *live)
{
	json_t *exec = live_trace_next(live, "exec", NULL), *hang;

	assert_non_null(exec);
	hang = hang_of(live, (pid_t)json_int(exec, "pid"));
	assert_non_null(hang);
	if (deadlock(hang))
		print_message("message: %s\n", json_str(hang, "message"));
	assert_false(deadlock(hang));
	assert_string_equal(json_str(hang, "cause"), "waiting");
}

static void
hang_socket_peer_outside_is_waiting(void **state)
{
	static const char program[] =
		"import signal, socket, sys\n"
		"signal.alarm(60)\n"
		"socket.socket(fileno=int(sys.argv[1])).recv(1)\n";
	struct live_trace live;
	char fd_text[16];
	int pair[2];

	(void)state;
	/* The test holds the peer: a process outside the family. */
	assert_int_equal(
		socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
	assert_int_equal(fcntl(pair[1], F_SETFD, 0), 0);
	snprintf(fd_text, sizeof(fd_text), "%d", pair[1]);
	start_python(&live, program, fd_text);
	close(pair[1]);
	expect_root_waiting(&live);
	finish(&live);
	close(pair[0]);
}

static void
hang_fifo_writer_outside_is_waiting(void **state)
{
	static const char program[] =
		"import os, signal, sys\n"
		"signal.alarm(60)\n"
		"os.read(os.open(sys.argv[1], os.O_RDONLY), 1)\n";
	struct live_trace live;
	char fifo[256];
	int writer;

	(void)state;
	snprintf(fifo, sizeof(fifo), "%s/outside.fifo", test_tmpdir());
	unlink(fifo);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	/* Held for writing by the test, outside the family. */
	writer = open(fifo, O_RDWR | O_CLOEXEC);
	assert_true(writer >= 0);
	start_python(&live, program, fifo);
	expect_root_waiting(&live);
	finish(&live);
	close(writer);
}

static void
hang_sigchld_handler_is_waiting(void **state)
{
	/* The SIGCHLD handler writes the pipe that the parent reads. */
	static const char program[] =
		"import os, signal, time\n"
		"signal.alarm(60)\n"
		"r, w = os.pipe()\n"
		"signal.signal(signal.SIGCHLD, lambda *_: os.write(w, b'x'))\n"
		"if os.fork() == 0:\n"
		"    os.close(r)\n"
		"    os.close(w)\n"
		"    time.sleep(60)\n"
		"    os._exit(0)\n"
		"os.read(r, 1)\n";
	struct live_trace live;

	(void)state;
	start_python(&live, program, NULL);
	expect_root_waiting(&live);
	finish(&live);
}

static void
hang_interval_timer_is_no_hang(void **state)
{
	/* A handler of a 0.25 s timer releases the lock at the 12th tick. */
	static const char program[] =
		"import signal, threading\n"
		"lock = threading.Lock()\n"
		"lock.acquire()\n"
		"ticks = 0\n"
		"def tick(*_):\n"
		"    global ticks\n"
		"    ticks += 1\n"
		"    if ticks == 12:\n"
		"        lock.release()\n"
		"signal.signal(signal.SIGALRM, tick)\n"
		"signal.setitimer(signal.ITIMER_REAL, 0.25, 0.25)\n"
		"lock.acquire()\n"
		"print('released after', ticks, 'ticks')\n";
	const char *options[] = { "--hang-after=1", NULL };
	const char *command[] = { PYTHON, "-c", program, NULL };
	struct trace_result r;

	(void)state;
	assert_int_equal(trace_run(&r, options, command), 0);
	assert_int_equal(r.exit_code, 0);
	assert_string_equal(r.out, "released after 12 ticks\n");
	assert_int_equal(trace_count(&r, "hang", 0), 0);
	trace_result_free(&r);
}

static void
hang_after_exec_forgets_the_fork(void **state)
{
	/* Forked from a process with a second thread, the child execs. */
	static const char program[] =
		"import os, signal, threading\n"
		"signal.alarm(60)\n"
		"threading.Thread(target=signal.pause, daemon=True).start()\n"
		"pid = os.fork()\n"
		"if pid == 0:\n"
		"    os.execv('/usr/bin/python3', ['python3', '-c',\n"
		"             'import signal, threading\\n'\n"
		"             'signal.alarm(60)\\n'\n"
		"             'lock = threading.Lock()\\n'\n"
		"             'lock.acquire()\\n'\n"
		"             'lock.acquire()\\n'])\n"
		"os.waitpid(pid, 0)\n";
	struct live_trace live;
	json_t *fork, *hang;

	(void)state;
	start_python(&live, program, NULL);
	fork = live_trace_next(&live, "fork", NULL);
	assert_non_null(fork);
	assert_non_null(json_object_get(fork, "other_threads"));
	hang = hang_of(&live, (pid_t)json_int(fork, "child"));
	assert_non_null(hang);
	assert_true(deadlock(hang));
	assert_string_equal(json_str(hang, "cause"), "futex");
	/* The exec replaced what the fork copied: no word of the fork. */
	assert_null(strstr(json_str(hang, "message"), "forked it"));
	assert_int_equal(json_array_size(json_object_get(hang, "evidence")), 0);
	finish(&live);
}

static void
hang_paused_child_holds_the_pipe(void **state)
{
	/* The child, paused for a debugger, is the only writer. */
	static const char program[] = "import os, signal\n"
				      "signal.alarm(60)\n"
				      "r, w = os.pipe()\n"
				      "if os.fork() == 0:\n"
				      "    os.write(w, b'x')\n"
				      "    os._exit(0)\n"
				      "os.close(w)\n"
				      "os.read(r, 1)\n";
	const char *options[] = { "--hang-after=2", "--pause=fork",
				  "--pause-timeout=60", NULL };
	const char *command[] = { PYTHON, "-c", program, NULL };
	struct live_trace live;
	json_t *exec, *hang;

	(void)state;
	assert_int_equal(live_trace_start(&live, options, command), 0);
	exec = live_trace_next(&live, "exec", NULL);
	assert_non_null(exec);
	assert_non_null(live_trace_next(&live, "pause", NULL));
	hang = hang_of(&live, (pid_t)json_int(exec, "pid"));
	assert_non_null(hang);
	assert_false(deadlock(hang));
	assert_string_equal(json_str(hang, "cause"), "waiting");
	finish(&live);
}

static void
hang_report_leaves_low_water_read_whole(void **state)
{
	/*
	 * The parent's read waits for 10 bytes and has 3: an interrupt for
	 * its stack would return those 3.  The child sends the rest after
	 * the report.
	 */
	static const char program[] =
		"import os, signal, socket, time\n"
		"signal.alarm(60)\n"
		"a, b = socket.socketpair()\n"
		"a.setsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT, 10)\n"
		"if os.fork() == 0:\n"
		"    b.send(b'abc')\n"
		"    time.sleep(6)\n"
		"    b.send(b'defghij')\n"
		"    os._exit(0)\n"
		"print('got', len(a.recv(10)), flush=True)\n"
		"os.wait()\n";
	const char *command[] = { PYTHON, "-c", program, NULL };
	struct trace_result r;
	json_t *hang, *threads;
	pid_t root;

	(void)state;
	skip_without_socket_options();
	assert_int_equal(trace_run(&r, hang_options, command), 0);
	assert_int_equal(r.exit_code, 0);
	assert_string_equal(r.out, "got 10\n");
	root = trace_root_pid(&r);
	hang = trace_event(&r, "hang", root, 0);
	assert_non_null(hang);
	threads = json_object_get(hang, "threads");
	assert_int_equal(json_array_size(threads), 1);
	assert_non_null(
		strstr(json_str(json_array_get(threads, 0), "stack_skipped"),
		       "SO_RCVLOWAT"));
	trace_result_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hang_fork_lock_names_the_thread_left_behind),
		cmocka_unit_test(sigquit_without_detector_keeps_fork_note),
		cmocka_unit_test(poll_after_snapshot_still_deadlocked),
		cmocka_unit_test(waiting_report_turns_deadlocked),
		cmocka_unit_test(hang_pipe_wait_shows_the_cycle),
		cmocka_unit_test(hang_python_subprocess_wait_before_read),
		cmocka_unit_test(hang_python_socket_pair_wait_before_read),
		cmocka_unit_test(hang_python_logging_lock_after_fork),
		cmocka_unit_test(hang_python_pool_forked_with_lock_held),
		cmocka_unit_test(hang_python_pool_with_killed_worker),
		cmocka_unit_test(hang_vfork_parent_waits_for_child),
		cmocka_unit_test(hang_pipe_eof_names_own_write_end),
		cmocka_unit_test(hang_lock_order_names_both_owners),
		cmocka_unit_test(hang_timed_sleep_not_reported),
		cmocka_unit_test(hang_accept_loop_is_waiting),
		cmocka_unit_test(hang_wait_for_sleeping_child_not_reported),
		cmocka_unit_test(hang_restarted_sleep_not_reported),
		cmocka_unit_test(hang_terminal_read_not_reported),
		cmocka_unit_test(hang_parent_of_working_child_is_waiting),
		cmocka_unit_test(hang_after_zero_reports_nothing),
		cmocka_unit_test(snapshot_explains_attached_deadlock),
		cmocka_unit_test(attached_family_is_reported),
		cmocka_unit_test(fork_warning_leaves_write_whole),
		cmocka_unit_test(hang_poll_cycle_survives_interrupts),
		cmocka_unit_test(hang_socket_peer_outside_is_waiting),
		cmocka_unit_test(hang_fifo_writer_outside_is_waiting),
		cmocka_unit_test(hang_sigchld_handler_is_waiting),
		cmocka_unit_test(hang_interval_timer_is_no_hang),
		cmocka_unit_test(hang_after_exec_forgets_the_fork),
		cmocka_unit_test(hang_paused_child_holds_the_pipe),
		cmocka_unit_test(hang_report_leaves_low_water_read_whole),
	};

	return cmocka_run_group_tests_name("hang", tests, NULL, NULL);
}
