/*
 * Integration tests of faults around a trace: forktrace killed or
 * interrupted, members stopped or killed from outside, forks that fail,
 * and a pid that the kernel hands out twice within one trace.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

/* waiting_family: a parent, two children and two grandchildren. */
#define FAMILY_SIZE 5
/* Each member of waiting_family runs two threads. */
#define FAMILY_THREADS 2

/* A FIFO that the family reads until the test closes its write end. */
struct hold {
	char path[256];
	int fd;
};

/* The FIFO that waiting_family writes its report to, read as it comes. */
struct report {
	char path[256];
	int fd;
	char text[4096];
	size_t len;
	size_t cursor; /* where report_wait_for() searches next */
};

static void
hold_open(struct hold *hold)
{
	snprintf(hold->path, sizeof(hold->path), "%s/hold.fifo", test_tmpdir());
	unlink(hold->path);
	assert_int_equal(mkfifo(hold->path, 0600), 0);
	/* Open for reading too, so that the open does not wait. */
	hold->fd = open(hold->path, O_RDWR | O_CLOEXEC);
	assert_true(hold->fd >= 0);
}

/* Closes the last writer, so every member's read of the FIFO ends. */
static void
hold_release(struct hold *hold)
{
	if (hold->fd >= 0)
		close(hold->fd);
	hold->fd = -1;
}

static void
report_open(struct report *report)
{
	memset(report, 0, sizeof(*report));
	snprintf(report->path, sizeof(report->path), "%s/report.fifo",
		 test_tmpdir());
	unlink(report->path);
	assert_int_equal(mkfifo(report->path, 0600), 0);
	/* Without blocking, so that the family's open for writing goes on. */
	report->fd = open(report->path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	assert_true(report->fd >= 0);
}

/*
 * Reads more of the report, pumping the live trace meanwhile when there is
 * one.  Returns false at EOF, which comes once every member that has the
 * report open (as its stdout) has ended, or after TRACE_TIMEOUT seconds.
 */
static bool
report_read_more(struct report *report, struct live_trace *live)
{
	for (;;) {
		struct pollfd pfd[2] = { { .fd = report->fd, .events = POLLIN },
					 { .fd = live ? live->fd : -1,
					   .events = POLLIN } };
		size_t room = sizeof(report->text) - report->len - 1;
		ssize_t n;

		/* poll() reports no EOF before a writer has opened it. */
		if (poll(pfd, 2, TRACE_TIMEOUT * 1000) <= 0)
			return false;
		if (live && (pfd[1].revents & POLLIN))
			live_trace_pump(live);
		if (!(pfd[0].revents & (POLLIN | POLLHUP)))
			continue;
		n = read(report->fd, report->text + report->len, room);
		if (n < 0 && errno == EAGAIN)
			continue;
		if (n <= 0)
			return false;
		report->len += (size_t)n;
		report->text[report->len] = '\0';
		return true;
	}
}

/* Reads the report until line comes after the last line waited for. */
static void
report_wait_for(struct report *report, const char *line,
		struct live_trace *live)
{
	char *found;

	while (!(found = strstr(report->text + report->cursor, line)))
		if (!report_read_more(report, live))
			fail_msg("the report ended before \"%s\"; it has: %s",
				 line, report->text);
	report->cursor = (size_t)(found - report->text) + strlen(line);
}

/* Reads the report to its end and closes it. */
static void
report_finish(struct report *report)
{
	while (report_read_more(report, NULL))
		;
	close(report->fd);
	report->fd = -1;
}

/*
 * Reads the TracerPid and the state letter of thread tid of process pid.
 * Returns false when the thread is gone.
 */
static bool
read_thread_status(pid_t pid, pid_t tid, long *tracer, char *state)
{
	char path[64], line[256];
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", (int)pid,
		 (int)tid);
	fp = fopen(path, "r");
	if (!fp)
		return false;
	*tracer = -1;
	*state = 0;
	while (fgets(line, sizeof(line), fp)) {
		sscanf(line, "TracerPid: %ld", tracer);
		sscanf(line, "State: %c", state);
	}
	fclose(fp);
	return true;
}

/* Fills tids with the threads of process pid and returns how many. */
static size_t
list_threads(pid_t pid, pid_t *tids, size_t max)
{
	char path[64];
	struct dirent *entry;
	size_t count = 0;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	dir = opendir(path);
	if (!dir)
		fail_msg("process %d is gone", (int)pid);
	while ((entry = readdir(dir)) && count < max) {
		pid_t tid = (pid_t)atoi(entry->d_name);

		if (tid > 0)
			tids[count++] = tid;
	}
	closedir(dir);
	return count;
}

/*
 * Checks that process pid has threads threads, each with TracerPid tracer
 * (-1: any) and in one of the states listed in states (NULL: any).
 */
static void
assert_threads(pid_t pid, size_t threads, long tracer, const char *states)
{
	pid_t tids[16];
	size_t count = list_threads(pid, tids, 16), i;

	assert_int_equal(count, threads);
	for (i = 0; i < count; i++) {
		long tracer_pid;
		char state;

		if (!read_thread_status(pid, tids[i], &tracer_pid, &state))
			fail_msg("thread %d of %d is gone", (int)tids[i],
				 (int)pid);
		if (tracer >= 0 && tracer_pid != tracer)
			fail_msg("thread %d of %d has TracerPid %ld, not %ld",
				 (int)tids[i], (int)pid, tracer_pid, tracer);
		if (states && (!state || !strchr(states, state)))
			fail_msg("thread %d of %d is in state '%c', not one "
				 "of \"%s\"",
				 (int)tids[i], (int)pid, state, states);
	}
}

/* Checks that every thread of pid is traced by tracer. */
static void
assert_threads_traced_by(pid_t pid, pid_t tracer, size_t threads)
{
	assert_threads(pid, threads, tracer, NULL);
}

/* Checks that every thread of pid runs untraced: running or sleeping. */
static void
assert_threads_untraced(pid_t pid, size_t threads)
{
	assert_threads(pid, threads, 0, "RS");
}

/*
 * Checks that every thread of pid is stopped, as by a group stop: 'T', or
 * 't' for a traced thread held in its group stop by PTRACE_LISTEN.
 */
static void
assert_threads_stopped(pid_t pid, size_t threads)
{
	assert_threads(pid, threads, -1, "Tt");
}

/*
 * Reads trace events until forktrace has reported count events of this
 * kind, whatever their pid.
 */
static void
live_wait_count(struct live_trace *live, const char *event, size_t count)
{
	while (trace_count(&live->result, event, 0) < count)
		if (!live_trace_next(live, event, NULL))
			fail_msg("forktrace reported %zu %s events, not %zu",
				 trace_count(&live->result, event, 0), event,
				 count);
}

/*
 * Returns the first event of this kind at index from or later in the live
 * trace's events, of process pid (0: any), whose string field is value
 * (field NULL: any), reading more events as needed.  Events that came in
 * another order than the test waits for them are found as well.
 */
static json_t *
live_wait_for(struct live_trace *live, size_t from, const char *event,
	      pid_t pid, const char *field, const char *value)
{
	size_t i = from;

	for (;;) {
		for (; i < live->result.count; i++) {
			json_t *e = live->result.events[i];
			const char *text = field ? json_str(e, field) : NULL;

			if (strcmp(json_str(e, "event"), event) != 0)
				continue;
			if (pid && json_int(e, "pid") != pid)
				continue;
			if (field && (!text || strcmp(text, value) != 0))
				continue;
			return e;
		}
		if (!live_trace_next(live, event, NULL))
			return NULL;
	}
}

/*
 * Fills members with the pids of the traced family: the first process the
 * trace saw, then each child that a fork event named.  Returns how many.
 */
static size_t
traced_members(const struct trace_result *result, pid_t first, pid_t *members,
	       size_t max)
{
	size_t count = 0, i;
	json_t *fork;

	members[count++] = first;
	for (i = 0; (fork = trace_event(result, "fork", 0, i)) && count < max;
	     i++)
		members[count++] = (pid_t)json_int(fork, "child");
	return count;
}

/*
 * Makes the test process the subreaper of what it starts, so that a
 * family whose tracer died becomes its own to wait for.
 */
static int
become_subreaper(void **state)
{
	(void)state;
	return prctl(PR_SET_CHILD_SUBREAPER, 1L, 0L, 0L, 0L);
}

/* Stops being a subreaper and reaps the orphans that came to the test. */
static int
stop_being_subreaper(void **state)
{
	(void)state;
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	return prctl(PR_SET_CHILD_SUBREAPER, 0L, 0L, 0L, 0L);
}

/* Waits, bounded in time, for a child of the test and returns its status. */
static int
wait_for_child(pid_t pid)
{
	int status = 0;

	assert_true(wait_for_process_end(pid));
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

/* Asserts that a wait status is an exit with code. */
static void
assert_exited_with(int status, int code)
{
	if (!WIFEXITED(status))
		fail_msg("it did not exit: wait status 0x%x", (unsigned)status);
	assert_int_equal(WEXITSTATUS(status), code);
}

/* Starts waiting_family under forktrace and waits until all of it runs. */
static void
start_traced_family(struct live_trace *live, const char *const *options,
		    struct hold *hold, struct report *report)
{
	const char *command[] = { example_path("waiting_family"), hold->path,
				  report->path, NULL };

	hold_open(hold);
	report_open(report);
	assert_int_equal(live_trace_start(live, options, command), 0);
	report_wait_for(report, "ready\n", live);
	live_wait_count(live, "fork", FAMILY_SIZE - 1);
	live_wait_count(live, "thread", FAMILY_SIZE);
}

/* The report of waiting_family when every member ended by itself. */
static const char family_report[] = "ready\n"
				    "child 1: exit 21\n"
				    "child 2: exit 22\n";

/*
 * Kills forktrace with SIGKILL while it traces waiting_family, whose root
 * is a child of the test.  Checks that every member runs on with all its
 * threads, untraced and not stopped, and that the family ends as it would
 * have without forktrace.
 */
static void
check_family_outlives_tracer(struct live_trace *live, pid_t root,
			     struct hold *hold, struct report *report)
{
	pid_t members[FAMILY_SIZE + 1];
	size_t count, i;

	count = traced_members(&live->result, root, members, FAMILY_SIZE + 1);
	assert_int_equal(count, FAMILY_SIZE);
	for (i = 0; i < count; i++)
		assert_threads_traced_by(members[i], live->pid, FAMILY_THREADS);

	kill(live->pid, SIGKILL);
	live_trace_finish(live);
	assert_false(live->result.timed_out);
	assert_int_equal(live->result.signal, SIGKILL);
	assert_null(live->result.summary);
	for (i = 0; i < count; i++)
		assert_threads_untraced(members[i], FAMILY_THREADS);

	hold_release(hold);
	assert_exited_with(wait_for_child(root), 0);
	report_finish(report);
	assert_string_equal(report->text, family_report);
}

static void
killed_attached_tracer_spares_family(void **state)
{
	char pid_text[16];
	const char *options[] = { "-p", pid_text, NULL };
	const char *command[] = { NULL };
	struct live_trace live;
	struct report report;
	struct hold hold;
	pid_t root;

	(void)state;
	hold_open(&hold);
	report_open(&report);
	root = fork();
	assert_true(root >= 0);
	if (root == 0) {
		execl(example_path("waiting_family"), "waiting_family",
		      hold.path, report.path, (char *)NULL);
		_exit(127);
	}
	report_wait_for(&report, "ready\n", NULL);

	snprintf(pid_text, sizeof(pid_text), "%d", (int)root);
	assert_int_equal(live_trace_start(&live, options, command), 0);
	assert_non_null(live_trace_next(&live, "attach", NULL));
	live_wait_count(&live, "fork", FAMILY_SIZE - 1);
	live_wait_count(&live, "thread", FAMILY_SIZE);
	check_family_outlives_tracer(&live, root, &hold, &report);
	trace_result_free(&live.result);
}

static void
killed_tracer_spares_launched_family(void **state)
{
	struct live_trace live;
	struct report report;
	struct hold hold;
	pid_t root;

	(void)state;
	start_traced_family(&live, NULL, &hold, &report);
	root = (pid_t)json_int(trace_event(&live.result, "exec", 0, 0), "pid");
	/* The parent comes to the test, the subreaper, when forktrace dies. */
	check_family_outlives_tracer(&live, root, &hold, &report);
	trace_result_free(&live.result);
}

static void
kill_on_exit_kills_every_generation(void **state)
{
	const char *options[] = { "--kill-on-exit", NULL };
	pid_t members[FAMILY_SIZE + 1];
	struct live_trace live;
	struct report report;
	struct hold hold;
	size_t count, i;
	int status;
	pid_t root;

	(void)state;
	start_traced_family(&live, options, &hold, &report);
	root = (pid_t)json_int(trace_event(&live.result, "exec", 0, 0), "pid");
	count = traced_members(&live.result, root, members, FAMILY_SIZE + 1);
	assert_int_equal(count, FAMILY_SIZE);

	kill(live.pid, SIGKILL);
	live_trace_finish(&live);
	assert_int_equal(live.result.signal, SIGKILL);
	for (i = 1; i < count; i++)
		if (!wait_for_process_end(members[i]))
			fail_msg("member %d outlived forktrace",
				 (int)members[i]);
	status = wait_for_child(root);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGKILL);
	/* Nothing is left to write the report: it ends at "ready". */
	report_finish(&report);
	assert_string_equal(report.text, "ready\n");
	hold_release(&hold);
	trace_result_free(&live.result);
}

/*
 * Counts the deliveries to process pid of signals from sender, of the
 * signal named name (NULL: any).
 */
static size_t
count_signals(const struct trace_result *result, pid_t pid, const char *name,
	      pid_t sender)
{
	size_t i, count = 0;
	json_t *e;

	for (i = 0; (e = trace_event(result, "signal", pid, i)); i++)
		if ((!name || !strcmp(json_str(e, "signal"), name)) &&
		    json_int(e, "sender") == sender)
			count++;
	return count;
}

/*
 * A shell whose trap for the signal ends its sleeping child and exits 7.
 * /bin/true runs once $child is set, so its exit shows the test that the
 * trap will find the child.
 */
static void
trap_script(char *script, size_t size, const char *signal_name)
{
	snprintf(script, size,
		 "trap 'kill $child; wait $child; exit 7' %s; "
		 "sleep 30 & child=$!; /bin/true; wait",
		 signal_name);
}

/*
 * Traces "sh -c script", where script starts "sleep 30" in the background
 * and then runs /bin/true, and waits for the end of /bin/true.  Stores the
 * pids of the shell and of sleep.
 */
static void
start_shell_and_sleep(struct live_trace *live, const char *script, pid_t *shell,
		      pid_t *sleeper)
{
	const char *command[] = { "sh", "-c", script, NULL };
	json_t *exec;

	assert_int_equal(live_trace_start(live, NULL, command), 0);
	exec = live_wait_for(live, 0, "exec", 0, "comm", "sleep");
	assert_non_null(exec);
	*sleeper = (pid_t)json_int(exec, "pid");
	*shell = (pid_t)json_int(exec, "ppid");
	assert_non_null(live_wait_for(live, 0, "exit", 0, "comm", "true"));
}

/* Checks the last JSON line is the summary, with this exit status. */
static void
assert_json_complete(const struct trace_result *result, int exit_status)
{
	assert_non_null(result->summary);
	assert_ptr_equal(result->summary, result->events[result->count - 1]);
	assert_int_equal(json_int(result->summary, "exit_status"), exit_status);
}

/*
 * Sends forktrace one signo while it traces a shell and its child, and
 * checks that the program alone got it and the trace followed the family
 * to its end.
 */
static void
check_first_signal_followed(int signo, const char *name)
{
	char script[256];
	struct live_trace live;
	json_t *shell_record, *sleep_record;
	pid_t shell, sleeper;

	trap_script(script, sizeof(script), name + 3);
	start_shell_and_sleep(&live, script, &shell, &sleeper);

	kill(live.pid, signo);
	live_trace_finish(&live);

	assert_false(live.result.timed_out);
	assert_int_equal(live.result.signal, 0);
	/* The shell's own exit status, since the shell ended. */
	assert_int_equal(live.result.exit_code, 7);
	assert_json_complete(&live.result, 7);
	assert_string_equal(json_str(live.result.summary, "interrupted"), name);

	/* Passed on by forktrace to the shell alone, once. */
	assert_int_equal(count_signals(&live.result, shell, name, live.pid), 1);
	assert_int_equal(count_signals(&live.result, shell, NULL, live.pid), 1);
	assert_int_equal(count_signals(&live.result, sleeper, NULL, live.pid),
			 0);
	/* The trap's kill. */
	assert_int_equal(count_signals(&live.result, sleeper, "SIGTERM", shell),
			 1);

	assert_int_equal(trace_process_count(&live.result), 3);
	shell_record = trace_process(&live.result, shell);
	assert_int_equal(json_int(shell_record, "exit_code"), 7);
	sleep_record = trace_process(&live.result, sleeper);
	assert_string_equal(json_str(sleep_record, "signal"), "SIGTERM");
	assert_null(json_object_get(sleep_record, "detached"));
	trace_result_free(&live.result);
}

static void
first_sigint_follows_family(void **state)
{
	(void)state;
	check_first_signal_followed(SIGINT, "SIGINT");
}

static void
first_sigterm_follows_family(void **state)
{
	(void)state;
	check_first_signal_followed(SIGTERM, "SIGTERM");
}

static void
second_sigint_detaches_family(void **state)
{
	struct live_trace live;
	json_t *delivery;
	pid_t shell, sleeper;

	(void)state;
	start_shell_and_sleep(&live,
			      "trap '' INT; sleep 30 & /bin/true; wait; exit 3",
			      &shell, &sleeper);

	kill(live.pid, SIGINT);
	/* The shell ignores it, but its delivery is reported. */
	delivery = live_wait_for(&live, 0, "signal", shell, "signal", "SIGINT");
	assert_non_null(delivery);
	assert_int_equal(json_int(delivery, "sender"), live.pid);
	kill(live.pid, SIGINT);
	live_trace_finish(&live);

	assert_false(live.result.timed_out);
	/* Like a program that cleans up after SIGINT, it then ends by it. */
	assert_int_equal(live.result.exit_code, -1);
	assert_int_equal(live.result.signal, SIGINT);
	assert_json_complete(&live.result, 128 + SIGINT);
	assert_string_equal(json_str(live.result.summary, "interrupted"),
			    "SIGINT");
	assert_non_null(strstr(live.result.err, "SIGINT: detaching from the "
						"family\n"));
	assert_non_null(trace_event(&live.result, "detach", shell, 0));
	assert_non_null(trace_event(&live.result, "detach", sleeper, 0));
	assert_true(json_is_true(json_object_get(
		trace_process(&live.result, shell), "detached")));
	assert_true(json_is_true(json_object_get(
		trace_process(&live.result, sleeper), "detached")));

	/* Both run on untraced; the shell ends as it would untraced. */
	assert_threads_untraced(shell, 1);
	assert_threads_untraced(sleeper, 1);
	kill(sleeper, SIGTERM);
	assert_exited_with(wait_for_child(shell), 3);
	trace_result_free(&live.result);
}

/*
 * A member's "kill 0" reaches forktrace, which shares its process group.
 * The members got their own copies, so forktrace neither forwards it nor
 * counts it toward letting go of the family.  The sleep inherits the
 * ignored SIGTERM, so the shell ends it with SIGKILL.
 */
static void
member_group_kill_not_interrupt(void **state)
{
	const char *command[] = { "sh", "-c",
				  "trap '' TERM; sleep 30 & kill 0; kill 0; "
				  "kill -KILL $!; wait; exit 6",
				  NULL };
	struct trace_result r;

	(void)state;
	assert_int_equal(trace_run(&r, NULL, command), 0);
	assert_false(r.timed_out);
	assert_int_equal(r.exit_code, 6);
	assert_null(json_object_get(r.summary, "interrupted"));
	assert_null(strstr(r.err, "detaching"));
	trace_result_free(&r);
}

/*
 * A second signal before the first was passed on lets go of the family,
 * but the program still gets the first, as it would have.
 */
static void
second_signal_keeps_first_forward(void **state)
{
	char script[512], path[256], *got;
	const char *command[] = { "sh", "-c", script, NULL };
	struct live_trace live;
	json_t *exec;
	pid_t shell, sleeper;

	(void)state;
	snprintf(path, sizeof(path), "%s/trapped", test_tmpdir());
	unlink(path);
	snprintf(script, sizeof(script),
		 "trap 'echo INT > %s; exit 5' INT; sleep 5 & wait", path);
	assert_int_equal(live_trace_start(&live, NULL, command), 0);
	exec = live_trace_next(&live, "exec", "sleep");
	assert_non_null(exec);
	sleeper = (pid_t)json_int(exec, "pid");
	shell = (pid_t)json_int(exec, "ppid");
	/* forktrace handles SIGINT before SIGTERM, even taken together. */
	kill(live.pid, SIGINT);
	kill(live.pid, SIGTERM);
	live_trace_finish(&live);

	assert_false(live.result.timed_out);
	assert_int_equal(live.result.signal, SIGTERM);
	assert_non_null(
		strstr(live.result.err, "SIGTERM: detaching from the family"));
	/* The shell's trap ran, whichever process reaped the shell. */
	assert_true(wait_for_process_end(shell));
	got = read_whole_file(path);
	assert_non_null(got);
	assert_string_equal(got, "INT\n");
	free(got);
	kill(sleeper, SIGKILL);
	trace_result_free(&live.result);
}

/*
 * timeout(1) sends its signal to its command, forktrace, and then to the
 * process group: the two copies are one request, which forktrace passes
 * on and then follows the family to its end.
 */
static void
same_sender_twice_counts_once(void **state)
{
	const char *command[] = { "sh", "-c",
				  "trap 'exit 7' TERM; sleep 5 & wait", NULL };
	struct live_trace live;

	(void)state;
	assert_int_equal(live_trace_start(&live, NULL, command), 0);
	assert_non_null(live_trace_next(&live, "exec", "sleep"));
	kill(live.pid, SIGTERM);
	kill(live.pid, SIGTERM);
	live_trace_finish(&live);

	assert_false(live.result.timed_out);
	assert_int_equal(live.result.exit_code, 7);
	assert_null(strstr(live.result.err, "detaching"));
	trace_result_free(&live.result);
}

/*
 * Ctrl-C that ends the whole family ends forktrace by SIGINT too, without
 * a word about how to detach.
 */
static void
ctrl_c_ends_family_quietly(void **state)
{
	const char *command[] = { "/bin/sleep", "60", NULL };
	struct live_trace live;

	(void)state;
	assert_int_equal(live_trace_start_tty(&live, NULL, command), 0);
	assert_non_null(live_trace_next(&live, "exec", NULL));
	assert_int_equal(write(live.tty, "\003", 1), 1);
	live_trace_finish(&live);

	assert_false(live.result.timed_out);
	assert_int_equal(live.result.exit_code, -1);
	assert_int_equal(live.result.signal, SIGINT);
	assert_null(strstr(live.result.err, "following the family"));
	trace_result_free(&live.result);
}

/*
 * When a family ignores Ctrl-C, forktrace prints how to let go of it once
 * the family has outlived the key by a moment, and the second Ctrl-C lets
 * go.
 */
static void
ctrl_c_ignored_gets_notice(void **state)
{
	const char *command[] = { "sh", "-c",
				  "trap '' INT; sleep 30 & wait; exit 3",
				  NULL };
	struct live_trace live;
	json_t *exec;
	pid_t shell, sleeper;

	(void)state;
	assert_int_equal(live_trace_start_tty(&live, NULL, command), 0);
	exec = live_trace_next(&live, "exec", "sleep");
	assert_non_null(exec);
	sleeper = (pid_t)json_int(exec, "pid");
	shell = (pid_t)json_int(exec, "ppid");

	assert_int_equal(write(live.tty, "\003", 1), 1);
	assert_true(live_tty_wait_for(&live, "forktrace: SIGINT: following "
					     "the family to its end; send it "
					     "again to detach"));
	assert_int_equal(write(live.tty, "\003", 1), 1);
	live_trace_finish(&live);

	assert_false(live.result.timed_out);
	assert_int_equal(live.result.exit_code, -1);
	assert_int_equal(live.result.signal, SIGINT);
	assert_non_null(
		strstr(live.result.err, "SIGINT: detaching from the family"));
	assert_non_null(trace_event(&live.result, "detach", shell, 0));
	assert_non_null(trace_event(&live.result, "detach", sleeper, 0));
	/*
	 * The terminal hangs up when its session leader, forktrace, ends,
	 * and the kernel sends the family SIGHUP.  The test reaps the rest.
	 */
	kill(sleeper, SIGKILL);
	kill(shell, SIGKILL);
	wait_for_child(shell);
	/* Reaped here unless the shell reaped it first. */
	waitpid(sleeper, NULL, 0);
	trace_result_free(&live.result);
}

/* Returns the pid of child index (from 0) of the traced family's parent. */
static pid_t
family_child(const struct live_trace *live, size_t index)
{
	pid_t root = (pid_t)json_int(trace_event(&live->result, "exec", 0, 0),
				     "pid");
	json_t *fork = trace_event(&live->result, "fork", root, index);

	assert_non_null(fork);
	return (pid_t)json_int(fork, "child");
}

/*
 * Sends the signal named name to pid from the test, and waits for
 * forktrace to report its delivery and the event that it causes (a stop
 * or a continue), in either order: a SIGCONT ends the stop before its
 * delivery.
 */
static void
signal_member(struct live_trace *live, pid_t pid, int signo, const char *name,
	      const char *event)
{
	size_t from = live->result.count;
	json_t *delivery, *next;

	kill(pid, signo);
	delivery = live_wait_for(live, from, "signal", pid, "signal", name);
	assert_non_null(delivery);
	assert_int_equal(json_int(delivery, "sender"), getpid());
	next = live_wait_for(live, from, event, pid, NULL, NULL);
	assert_non_null(next);
	if (!strcmp(event, "stop"))
		assert_string_equal(json_str(next, "signal"), name);
}

/*
 * Checks that the stop and continue events of process pid alternate, and
 * that its stops were by first_signal, then by second_signal.
 *
 * NOTE: when a second thread's group-stop report reaches forktrace only
 * after the continue of the first thread, forktrace reports one more stop
 * and continue, with the same signal.  Such a repeated pair is skipped.
 */
static void
assert_stop_cycles(const struct trace_result *result, pid_t pid,
		   const char *first_signal, const char *second_signal)
{
	const char *expected[] = { first_signal, second_signal };
	const char *last_stop = NULL;
	size_t i, cycles = 0;
	bool stopped = false;

	for (i = 0; i < result->count; i++) {
		json_t *e = result->events[i];
		const char *kind = json_str(e, "event");

		if (json_int(e, "pid") != pid)
			continue;
		if (!strcmp(kind, "continue")) {
			assert_true(stopped);
			stopped = false;
		} else if (!strcmp(kind, "stop")) {
			assert_false(stopped);
			stopped = true;
			if (last_stop &&
			    !strcmp(last_stop, json_str(e, "signal")))
				continue;
			last_stop = json_str(e, "signal");
			assert_true(cycles < 2);
			assert_string_equal(last_stop, expected[cycles]);
			cycles++;
		}
	}
	assert_false(stopped);
	assert_int_equal(cycles, 2);
}

static void
member_stops_and_continues(void **state)
{
	struct live_trace live;
	struct report report;
	struct hold hold;
	json_t *record;
	pid_t child;

	(void)state;
	start_traced_family(&live, NULL, &hold, &report);
	child = family_child(&live, 0);

	signal_member(&live, child, SIGSTOP, "SIGSTOP", "stop");
	/* Its parent's waitpid() reports it stopped, as without forktrace. */
	report_wait_for(&report, "child 1 stopped by SIGSTOP\n", &live);
	assert_threads_stopped(child, FAMILY_THREADS);
	signal_member(&live, child, SIGCONT, "SIGCONT", "continue");
	report_wait_for(&report, "child 1 continued\n", &live);

	signal_member(&live, child, SIGTSTP, "SIGTSTP", "stop");
	report_wait_for(&report, "child 1 stopped by SIGTSTP\n", &live);
	assert_threads_stopped(child, FAMILY_THREADS);
	signal_member(&live, child, SIGCONT, "SIGCONT", "continue");
	report_wait_for(&report, "child 1 continued\n", &live);

	hold_release(&hold);
	live_trace_finish(&live);
	report_finish(&report);
	assert_false(live.result.timed_out);
	assert_int_equal(live.result.exit_code, 0);
	assert_string_equal(report.text, "ready\n"
					 "child 1 stopped by SIGSTOP\n"
					 "child 1 continued\n"
					 "child 1 stopped by SIGTSTP\n"
					 "child 1 continued\n"
					 "child 1: exit 21\n"
					 "child 2: exit 22\n");
	assert_stop_cycles(&live.result, child, "SIGSTOP", "SIGTSTP");
	assert_int_equal(trace_count(&live.result, "stop", 0),
			 trace_count(&live.result, "stop", child));
	assert_int_equal(trace_process_count(&live.result), FAMILY_SIZE);
	record = trace_process(&live.result, child);
	assert_int_equal(json_int(record, "exit_code"), 21);
	trace_result_free(&live.result);
}

static void
member_killed_family_goes_on(void **state)
{
	struct live_trace live;
	struct report report;
	struct hold hold;
	json_t *death, *child_record, *grandchild;
	pid_t child, other;

	(void)state;
	start_traced_family(&live, NULL, &hold, &report);
	child = family_child(&live, 1);
	other = family_child(&live, 0);

	kill(child, SIGKILL);
	do
		death = live_trace_next(&live, "exit", NULL);
	while (death && (json_int(death, "pid") != child ||
			 json_object_get(death, "thread")));
	assert_non_null(death);
	assert_string_equal(json_str(death, "signal"), "SIGKILL");
	assert_false(json_is_true(json_object_get(death, "core_dumped")));

	hold_release(&hold);
	live_trace_finish(&live);
	report_finish(&report);
	assert_false(live.result.timed_out);
	/* The parent exits 1 because it saw child 2 killed. */
	assert_int_equal(live.result.exit_code, 1);
	assert_json_complete(&live.result, 1);
	assert_string_equal(report.text, "ready\n"
					 "child 1: exit 21\n"
					 "child 2: killed by SIGKILL\n");
	assert_int_equal(trace_process_count(&live.result), FAMILY_SIZE);
	child_record = trace_process(&live.result, child);
	assert_string_equal(json_str(child_record, "signal"), "SIGKILL");
	/* Its orphan ran on to its own end. */
	grandchild =
		json_array_get(json_object_get(child_record, "children"), 0);
	assert_non_null(grandchild);
	assert_int_equal(json_int(grandchild, "exit_code"), 32);
	assert_int_equal(
		json_int(trace_process(&live.result, other), "exit_code"), 21);
	trace_result_free(&live.result);
}

/* Runs fork_limit as the user nobody: 5 forks with room for 2. */
static void
fork_eagain_as_untraced(void **state)
{
	struct passwd *nobody = getpwnam("nobody");
	char uid[16];
	const char *command[] = { example_path("fork_limit"), uid, "5", "2",
				  NULL };
	const char expected[] = "fork 1: ok\n"
				"fork 2: ok\n"
				"fork 3: EAGAIN\n"
				"fork 4: EAGAIN\n"
				"fork 5: EAGAIN\n"
				"child 1: exit 1\n"
				"child 2: exit 2\n";
	struct trace_result plain, traced;
	json_t *root;
	size_t i;

	(void)state;
	if (geteuid() != 0) {
		print_message("skipped: RLIMIT_NPROC binds only a user other "
			      "than root, and only root can become one\n");
		skip();
	}
	snprintf(uid, sizeof(uid), "%d", nobody ? (int)nobody->pw_uid : 65534);

	assert_int_equal(plain_run(&plain, command), 0);
	assert_false(plain.timed_out);
	assert_int_equal(plain.exit_code, 0);
	assert_string_equal(plain.out, expected);

	assert_int_equal(trace_run(&traced, NULL, command), 0);
	assert_false(traced.timed_out);
	assert_int_equal(traced.exit_code, 0);
	assert_string_equal(traced.out, plain.out);
	assert_json_complete(&traced, 0);
	/* Only the forks that happened. */
	assert_int_equal(trace_count(&traced, "fork", 0), 2);
	assert_int_equal(trace_process_count(&traced), 3);
	root = trace_process(&traced, trace_root_pid(&traced));
	assert_int_equal(json_int(root, "exit_code"), 0);
	for (i = 0; i < 2; i++) {
		json_t *child =
			json_array_get(json_object_get(root, "children"), i);

		assert_int_equal(json_int(child, "exit_code"), (long)i + 1);
	}
	trace_result_free(&plain);
	trace_result_free(&traced);
}

/* Parses forktrace's JSON lines from path into result. */
static void
load_json_lines(struct trace_result *result, const char *path)
{
	FILE *fp = fopen(path, "r");
	size_t capacity = 0;
	char *line = NULL;
	ssize_t n;

	assert_non_null(fp);
	while ((n = getline(&line, &capacity, fp)) > 0) {
		json_error_t error;
		json_t *event = json_loadb(line, (size_t)n, 0, &error);

		if (!event)
			fail_msg("invalid JSON line: %s: %s", error.text, line);
		result->events = realloc(
			result->events, (result->count + 1) * sizeof(json_t *));
		assert_non_null(result->events);
		result->events[result->count++] = event;
	}
	free(line);
	fclose(fp);
	if (result->count &&
	    !strcmp(json_str(result->events[result->count - 1], "event"),
		    "summary"))
		result->summary = result->events[result->count - 1];
}

static void
reused_pid_gets_new_record(void **state)
{
	char json_path[256];
	const char *probe[] = { "unshare",	"--pid", "--fork",
				"--mount-proc", "true",	 NULL };
	const char *command[] = { "unshare",
				  "--pid",
				  "--fork",
				  "--mount-proc",
				  FT_BUILD_DIR "/forktrace",
				  "--json",
				  "-o",
				  json_path,
				  example_path("pid_reuse"),
				  NULL };
	struct trace_result r;
	json_t *root, *children, *first, *second;
	pid_t root_pid, reused;

	(void)state;
	if (geteuid() != 0) {
		print_message("skipped: writing ns_last_pid in a new pid "
			      "namespace needs root\n");
		skip();
	}
	assert_int_equal(plain_run(&r, probe), 0);
	if (r.exit_code != 0) {
		print_message("skipped: unshare --pid --fork --mount-proc "
			      "failed: %s",
			      r.err);
		trace_result_free(&r);
		skip();
	}
	trace_result_free(&r);

	snprintf(json_path, sizeof(json_path), "%s/pid_reuse.json",
		 test_tmpdir());
	assert_int_equal(plain_run(&r, command), 0);
	assert_false(r.timed_out);
	assert_int_equal(r.exit_code, 0);
	assert_string_equal(r.out, "child exited 3\n"
				   "child exited 4\n"
				   "same pid: yes\n");
	load_json_lines(&r, json_path);
	assert_json_complete(&r, 0);

	root_pid = trace_root_pid(&r);
	reused = (pid_t)json_int(trace_event(&r, "fork", root_pid, 0), "child");
	assert_int_equal(
		json_int(trace_event(&r, "fork", root_pid, 1), "child"),
		reused);
	assert_null(trace_event(&r, "fork", root_pid, 2));
	assert_int_equal(
		json_int(trace_event(&r, "exit", reused, 0), "exit_code"), 3);
	assert_int_equal(
		json_int(trace_event(&r, "exit", reused, 1), "exit_code"), 4);

	/* Two records with that pid, each with its own end. */
	assert_int_equal(json_int(r.summary, "processes"), 3);
	assert_int_equal(trace_process_count(&r), 3);
	root = trace_process(&r, root_pid);
	assert_int_equal(json_int(root, "exit_code"), 0);
	children = json_object_get(root, "children");
	assert_int_equal(json_array_size(children), 2);
	first = json_array_get(children, 0);
	second = json_array_get(children, 1);
	assert_int_equal(json_int(first, "pid"), reused);
	assert_int_equal(json_int(second, "pid"), reused);
	assert_int_equal(json_int(first, "exit_code"), 3);
	assert_int_equal(json_int(second, "exit_code"), 4);
	assert_true(json_real_value(json_object_get(first, "end")) <=
		    json_real_value(json_object_get(second, "start")));
	trace_result_free(&r);
}

/* Reads one byte from fd, waiting at most TRACE_TIMEOUT seconds. */
static char
read_byte(int fd, struct live_trace *live)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	char byte;

	for (;;) {
		live_trace_pump(live);
		if (poll(&pfd, 1, TRACE_TIMEOUT * 1000) != 1)
			fail_msg("nothing came from the FIFO");
		if (read(fd, &byte, 1) == 1)
			return byte;
	}
}

/*
 * Returns true once every thread of pid is stopped ('T' or 't'), and
 * false when one is still running or asleep after TRACE_TIMEOUT seconds.
 */
static bool
all_threads_stop(pid_t pid, struct live_trace *live)
{
	time_t deadline = time(NULL) + TRACE_TIMEOUT;
	pid_t tids[16];
	size_t count, i;
	long tracer;
	char state;

	for (;;) {
		bool stopped = true;

		live_trace_pump(live);
		count = list_threads(pid, tids, 16);
		for (i = 0; i < count; i++)
			if (read_thread_status(pid, tids[i], &tracer, &state) &&
			    state != 'T' && state != 't')
				stopped = false;
		if (stopped)
			return true;
		if (time(NULL) >= deadline)
			return false;
		sched_yield();
	}
}

static void
new_thread_stays_in_group_stop(void **state)
{
	char fifo[300], rounds[] = "100", line[32] = { 0 };
	const char *command[] = { example_path("stop_new_thread"), fifo, rounds,
				  NULL };
	const char *options[] = { "--stacks=none", NULL };
	struct live_trace live;
	size_t len = 0;
	pid_t pid;
	int fd, i;

	(void)state;
	snprintf(fifo, sizeof(fifo), "%s/stop_new_thread", test_tmpdir());
	assert_int_equal(mkfifo(fifo, 0600), 0);
	fd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(live_trace_start(&live, options, command), 0);
	while (len + 1 < sizeof(line) &&
	       (line[len] = read_byte(fd, &live)) != '\n')
		len++;
	pid = (pid_t)atoi(line);
	assert_true(pid > 0);

	/*
	 * Each round the new thread's first stop races with its process's
	 * stop.  Once the parent has seen the process stopped, both threads
	 * must be stopped, however the race went.
	 */
	for (i = 0; i < atoi(rounds); i++) {
		assert_int_equal(read_byte(fd, &live), 's');
		assert_true(all_threads_stop(pid, &live));
		assert_int_equal(kill(pid, SIGCONT), 0);
	}
	live_trace_finish(&live);
	close(fd);
	assert_false(live.result.timed_out);
	assert_int_equal(live.result.exit_code, 0);
	trace_result_free(&live.result);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(killed_attached_tracer_spares_family),
		cmocka_unit_test_setup_teardown(
			killed_tracer_spares_launched_family, become_subreaper,
			stop_being_subreaper),
		cmocka_unit_test_setup_teardown(
			kill_on_exit_kills_every_generation, become_subreaper,
			stop_being_subreaper),
		cmocka_unit_test(first_sigint_follows_family),
		cmocka_unit_test(first_sigterm_follows_family),
		cmocka_unit_test_setup_teardown(second_sigint_detaches_family,
						become_subreaper,
						stop_being_subreaper),
		cmocka_unit_test(member_group_kill_not_interrupt),
		cmocka_unit_test(second_signal_keeps_first_forward),
		cmocka_unit_test(same_sender_twice_counts_once),
		cmocka_unit_test(ctrl_c_ends_family_quietly),
		cmocka_unit_test_setup_teardown(ctrl_c_ignored_gets_notice,
						become_subreaper,
						stop_being_subreaper),
		cmocka_unit_test(member_stops_and_continues),
		cmocka_unit_test(member_killed_family_goes_on),
		cmocka_unit_test(fork_eagain_as_untraced),
		cmocka_unit_test(reused_pid_gets_new_record),
		cmocka_unit_test(new_thread_stays_in_group_stop),
	};

	return cmocka_run_group_tests_name("faults", tests, NULL, NULL);
}
