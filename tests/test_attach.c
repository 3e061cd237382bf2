/*
 * Integration tests of attaching with -p: the test starts a family, then
 * forktrace attaches to it, follows it to its end or leaves it running.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

/* A family started by the test, ended by closing its FIFO. */
struct family {
	pid_t pid;
	int out; /* its stdout */
	int hold_fd; /* the FIFO's last writer */
	char fifo[256];
	pid_t children[2000];
	size_t child_count;
};

/*
 * Reads the family's output up to a line starting with prefix, pumping
 * the live trace meanwhile when there is one.
 */
static bool
read_until_pumping(struct family *f, const char *prefix,
		   struct live_trace *live)
{
	static char buf[65536];
	static size_t len;
	char *nl;

	for (;;) {
		struct pollfd pfd[2] = { { .fd = f->out, .events = POLLIN },
					 { .fd = live ? live->fd : -1,
					   .events = POLLIN } };
		ssize_t n;

		while ((nl = memchr(buf, '\n', len))) {
			int child;
			bool match;

			*nl = '\0';
			if (sscanf(buf, "child %d", &child) == 1 &&
			    f->child_count < 2000)
				f->children[f->child_count++] = child;
			match = !strncmp(buf, prefix, strlen(prefix));
			len -= (size_t)(nl + 1 - buf);
			memmove(buf, nl + 1, len);
			if (match)
				return true;
		}
		if (poll(pfd, 2, TRACE_TIMEOUT * 1000) <= 0)
			return false;
		if (live && (pfd[1].revents & POLLIN))
			live_trace_pump(live);
		if (!(pfd[0].revents & (POLLIN | POLLHUP)))
			continue;
		n = read(f->out, buf + len, sizeof(buf) - len);
		if (n <= 0)
			return false;
		len += (size_t)n;
	}
}

static bool
read_until(struct family *f, const char *prefix)
{
	return read_until_pumping(f, prefix, NULL);
}

static void
start_family(struct family *f, const char *count, const char *delay)
{
	int pipe_fds[2];

	memset(f, 0, sizeof(*f));
	snprintf(f->fifo, sizeof(f->fifo), "%s/family.fifo", test_tmpdir());
	unlink(f->fifo);
	assert_int_equal(mkfifo(f->fifo, 0600), 0);
	/* Held open for writing, so the members' reads wait for its close. */
	f->hold_fd = open(f->fifo, O_RDWR | O_CLOEXEC);
	assert_true(f->hold_fd >= 0);
	assert_int_equal(pipe(pipe_fds), 0);
	f->pid = fork();
	assert_true(f->pid >= 0);
	if (f->pid == 0) {
		dup2(pipe_fds[1], 1);
		close(pipe_fds[0]);
		close(f->hold_fd);
		execl(example_path("attach_family"), "attach_family", f->fifo,
		      count, delay, (char *)NULL);
		_exit(127);
	}
	close(pipe_fds[1]);
	f->out = pipe_fds[0];
}

/*
 * Ends the family and returns the parent's exit code, pumping the live
 * trace meanwhile when there is one, since forktrace reports every end.
 */
static int
end_family_pumping(struct family *f, struct live_trace *live)
{
	time_t deadline = time(NULL) + TRACE_TIMEOUT;
	int status = 0;
	pid_t done = 0;

	if (f->hold_fd >= 0)
		close(f->hold_fd);
	f->hold_fd = -1;
	while (done != f->pid && time(NULL) < deadline) {
		struct pollfd pfd = { .fd = live ? live->fd : -1,
				      .events = POLLIN };

		done = waitpid(f->pid, &status, WNOHANG);
		if (done == f->pid || done < 0)
			break;
		/* Wakes for trace output, or looks at the family again. */
		poll(&pfd, 1, 50);
		if (live && (pfd.revents & POLLIN))
			live_trace_pump(live);
	}
	close(f->out);
	return done == f->pid && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int
end_family(struct family *f)
{
	return end_family_pumping(f, NULL);
}

static void
start_attach(struct live_trace *live, pid_t pid, char *pid_text)
{
	const char *options[] = { "-p", pid_text, NULL };
	const char *command[] = { NULL };

	snprintf(pid_text, 16, "%d", (int)pid);
	assert_int_equal(live_trace_start(live, options, command), 0);
	assert_non_null(live_trace_next(live, "attach", NULL));
}

static void
attach_follows_family_to_end(void **state)
{
	struct live_trace live;
	struct family f;
	char pid_text[16];
	json_t *root, *children;
	size_t i;

	(void)state;
	start_family(&f, "3", "0");
	assert_true(read_until(&f, "forked all"));
	start_attach(&live, f.pid, pid_text);
	for (i = 0; i < 3; i++)
		assert_non_null(live_trace_next(&live, "fork", NULL));
	assert_int_equal(end_family_pumping(&f, &live), 0);
	live_trace_finish(&live);

	assert_false(live.result.timed_out);
	assert_int_equal(live.result.exit_code, 0);
	root = trace_process(&live.result, f.pid);
	assert_non_null(root);
	assert_string_equal(json_str(root, "origin"), "attached");
	assert_int_equal(json_int(root, "exit_code"), 0);
	assert_int_equal(json_array_size(json_object_get(root, "threads")), 1);
	children = json_object_get(root, "children");
	assert_int_equal(json_array_size(children), 3);
	for (i = 0; i < 3; i++) {
		json_t *child = json_array_get(children, i);

		assert_int_equal(json_int(child, "pid"), f.children[i]);
		assert_int_equal(json_int(child, "exit_code"), 10 + (long)i);
		assert_string_equal(json_str(child, "comm"), "attach_family");
	}
	trace_result_free(&live.result);
}

static void
sigint_leaves_family_running(void **state)
{
	struct live_trace live;
	struct family f;
	char pid_text[16];
	size_t i;

	(void)state;
	start_family(&f, "3", "0");
	assert_true(read_until(&f, "forked all"));
	start_attach(&live, f.pid, pid_text);
	for (i = 0; i < 3; i++)
		assert_non_null(live_trace_next(&live, "fork", NULL));
	kill(live.pid, SIGINT);
	live_trace_finish(&live);
	assert_false(live.result.timed_out);
	assert_int_equal(live.result.exit_code, 0);
	assert_non_null(live.result.summary);
	assert_string_equal(json_str(live.result.summary, "interrupted"),
			    "SIGINT");
	assert_int_equal(trace_process_count(&live.result), 4);

	/* Every member runs on, unstopped, and ends as it would have. */
	assert_true(strchr("RS", process_state(f.pid)) != NULL);
	for (i = 0; i < 3; i++)
		assert_true(strchr("RS", process_state(f.children[i])) != NULL);
	assert_int_equal(end_family(&f), 0);
	trace_result_free(&live.result);
}

/*
 * forktrace, started by the process it attaches to, finds itself among
 * that process's children: it neither tries to trace itself nor counts
 * itself a member.
 */
static void
attach_to_own_parent_skips_itself(void **state)
{
	struct live_trace live;
	char pid_text[16];

	(void)state;
	start_attach(&live, getpid(), pid_text);
	kill(live.pid, SIGINT);
	live_trace_finish(&live);
	assert_false(live.result.timed_out);
	assert_int_equal(live.result.exit_code, 0);
	assert_null(trace_process(&live.result, live.pid));
	assert_int_equal(trace_process_count(&live.result), 1);
	assert_null(strstr(live.result.err, "cannot attach"));
	trace_result_free(&live.result);
}

static void
attach_during_forks_loses_none(void **state)
{
	struct live_trace live;
	struct family f;
	char pid_text[16];
	size_t i, first;

	(void)state;
	/* 300 children, one every 2 ms: forktrace attaches in the middle. */
	start_family(&f, "300", "2");
	assert_true(read_until(&f, "child "));
	start_attach(&live, f.pid, pid_text);
	assert_true(read_until_pumping(&f, "forked all", &live));
	assert_int_equal(f.child_count, 300);
	first = f.child_count;
	/*
	 * The "attach" event can arrive before forktrace has found the
	 * children forked before it, so wait until it follows all of them:
	 * a child that ended before that would end out of sight.
	 */
	while (trace_count(&live.result, "fork", 0) < first)
		assert_non_null(live_trace_next(&live, "fork", NULL));
	assert_int_equal(end_family_pumping(&f, &live), 0);
	live_trace_finish(&live);
	assert_false(live.result.timed_out);
	if (live.result.signal)
		fail_msg("forktrace was killed by signal %d",
			 live.result.signal);
	assert_int_equal(live.result.exit_code, 0);

	/* Every child lived until the end, so each one must be there once. */
	for (i = 0; i < first; i++) {
		json_t *child = trace_process(&live.result, f.children[i]);

		if (!child)
			fail_msg("child %d is missing", (int)f.children[i]);
		assert_int_equal(json_int(child, "exit_code"),
				 10 + (long)(i % 100));
	}
	assert_int_equal(trace_process_count(&live.result), 301);
	trace_result_free(&live.result);
}

static void
attach_missing_pid_fails(void **state)
{
	char pid_text[16], expected[128];
	const char *args[] = { "-p", pid_text, NULL };
	struct trace_result r;
	pid_t gone = fork();

	(void)state;
	assert_true(gone >= 0);
	if (gone == 0)
		_exit(0);
	waitpid(gone, NULL, 0);
	snprintf(pid_text, sizeof(pid_text), "%d", (int)gone);
	assert_int_equal(forktrace_run(&r, args), 0);
	assert_int_equal(r.exit_code, 1);
	snprintf(expected, sizeof(expected),
		 "forktrace: cannot attach to pid %d: no such process\n",
		 (int)gone);
	assert_string_equal(r.err, expected);
	trace_result_free(&r);
}

static void
attach_zombie_says_so(void **state)
{
	char pid_text[16], expected[160];
	const char *args[] = { "-p", pid_text, NULL };
	struct trace_result r;
	siginfo_t info;
	pid_t zombie = fork();

	(void)state;
	assert_true(zombie >= 0);
	if (zombie == 0)
		_exit(0);
	/* WNOWAIT waits for the exit and leaves the zombie in place. */
	assert_int_equal(waitid(P_PID, (id_t)zombie, &info, WEXITED | WNOWAIT),
			 0);
	snprintf(pid_text, sizeof(pid_text), "%d", (int)zombie);
	assert_int_equal(forktrace_run(&r, args), 0);
	waitpid(zombie, NULL, 0);
	assert_int_equal(r.exit_code, 1);
	snprintf(expected, sizeof(expected),
		 "forktrace: cannot attach to pid %d (test_attach): it has "
		 "exited, and its parent has not reaped it yet (a zombie)\n",
		 (int)zombie);
	assert_string_equal(r.err, expected);
	trace_result_free(&r);
}

/* Returns true when the event's stack has a frame of function. */
static bool
has_frame(const json_t *event, const char *function)
{
	json_t *stack = json_object_get(event, "stack");
	size_t i;

	for (i = 0; i < json_array_size(stack); i++) {
		const char *name =
			json_str(json_array_get(stack, i), "function");

		if (name && !strcmp(name, function))
			return true;
	}
	return false;
}

/*
 * Attaches to pid once it writes "ready" to out, then lets it go on with
 * a byte to in, and collects the trace and pid's wait status.
 */
static void
attach_when_ready(struct live_trace *live, pid_t pid, int in[2], int out[2],
		  int *status)
{
	char pid_text[16], line[8] = "";

	close(in[0]);
	close(out[1]);
	assert_int_equal(read(out[0], line, 6), 6);
	assert_string_equal(line, "ready\n");
	start_attach(live, pid, pid_text);
	assert_int_equal(write(in[1], "x", 1), 1);
	live_trace_finish(live);
	assert_int_equal(waitpid(pid, status, 0), pid);
	close(in[1]);
	close(out[0]);
}

/*
 * A process whose leader had exited before the attach: its program comes
 * from a live thread, and the end of its last thread is its own end.
 */
static void
attach_leaderless_process_ends(void **state)
{
	struct live_trace live;
	int in[2], out[2], status = 0;
	json_t *attach, *record, *fork_event;
	pid_t pid;

	(void)state;
	assert_int_equal(pipe(in), 0);
	assert_int_equal(pipe(out), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[0]);
		close(in[1]);
		close(out[0]);
		close(out[1]);
		execl(example_path("leader_exit"), "leader_exit",
		      "--wait-stdin", (char *)NULL);
		_exit(127);
	}
	/* "ready" comes once the leader is a zombie. */
	attach_when_ready(&live, pid, in, out, &status);

	assert_false(live.result.timed_out);
	assert_int_equal(live.result.exit_code, 0);
	attach = trace_event(&live.result, "attach", pid, 0);
	assert_non_null(attach);
	assert_non_null(strstr(json_str(attach, "path"), "leader_exit"));
	assert_string_equal(json_string_value(json_array_get(
				    json_object_get(attach, "argv"), 1)),
			    "--wait-stdin");
	/* The fork's stack, from the modules that the thread's maps list. */
	fork_event = trace_event(&live.result, "fork", pid, 0);
	assert_non_null(fork_event);
	assert_true(has_frame(fork_event, "thread_b_main"));
	record = trace_process(&live.result, pid);
	assert_non_null(record);
	assert_int_equal(json_int(record, "exit_code"), 5);
	assert_int_equal(WEXITSTATUS(status), 5);
	trace_result_free(&live.result);
}

/*
 * A child that is a zombie at the attach is recorded as ended out of
 * sight, with its exit status and no program: a zombie has no argv left,
 * and the parent's is not its own.
 */
static void
attach_finds_zombie_child(void **state)
{
	struct live_trace live;
	int in[2], out[2], status = 0;
	char line[8] = "";
	json_t *record, *child;
	pid_t pid;

	(void)state;
	assert_int_equal(pipe(in), 0);
	assert_int_equal(pipe(out), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		siginfo_t info;
		pid_t zombie = fork();

		if (zombie == 0)
			_exit(7);
		close(in[1]);
		close(out[0]);
		/* WNOWAIT leaves the zombie in place. */
		if (zombie < 0 ||
		    waitid(P_PID, (id_t)zombie, &info, WEXITED | WNOWAIT) ||
		    write(out[1], "ready\n", 6) != 6 ||
		    read(in[0], line, 1) != 1)
			_exit(1);
		waitpid(zombie, NULL, 0);
		_exit(0);
	}
	attach_when_ready(&live, pid, in, out, &status);

	assert_false(live.result.timed_out);
	assert_int_equal(live.result.exit_code, 0);
	assert_int_equal(status, 0);
	record = trace_process(&live.result, pid);
	assert_non_null(record);
	child = json_array_get(json_object_get(record, "children"), 0);
	assert_non_null(child);
	assert_true(json_is_true(json_object_get(child, "lost")));
	/* A zombie's exit code is in its /proc/PID/stat. */
	assert_int_equal(json_int(child, "exit_code"), 7);
	assert_null(json_object_get(child, "argv"));
	assert_string_equal(json_str(child, "comm"), json_str(record, "comm"));
	trace_result_free(&live.result);
}

static void
attach_traced_pid_names_tracer(void **state)
{
	const char *command[] = { "sleep", "30", NULL };
	char pid_text[16], expected[160];
	const char *args[] = { "-p", pid_text, NULL };
	struct live_trace live;
	struct trace_result r;
	json_t *exec;
	pid_t sleeper;

	(void)state;
	assert_int_equal(live_trace_start(&live, NULL, command), 0);
	exec = live_trace_next(&live, "exec", "sleep");
	assert_non_null(exec);
	sleeper = (pid_t)json_int(exec, "pid");
	snprintf(pid_text, sizeof(pid_text), "%d", (int)sleeper);

	assert_int_equal(forktrace_run(&r, args), 0);
	assert_int_equal(r.exit_code, 1);
	snprintf(expected, sizeof(expected),
		 "forktrace: cannot attach to pid %d (sleep): it is already "
		 "traced by pid %d (forktrace)\n",
		 (int)sleeper, (int)live.pid);
	/* Under a wrapper such as valgrind, the tracer's comm differs. */
	if (forktrace_wrapped()) {
		*strrchr(expected, '(') = '\0';
		assert_ptr_equal(strstr(r.err, expected), r.err);
	} else {
		assert_string_equal(r.err, expected);
	}
	trace_result_free(&r);

	kill(sleeper, SIGKILL);
	live_trace_finish(&live);
	trace_result_free(&live.result);
}

static void
attach_pid_under_strace_fails(void **state)
{
	const char *command[] = { "sh", "-c",
				  "exec strace -qq -o /dev/null sleep 30",
				  NULL };
	char pid_text[16], path[64], wanted[64], buf[4096];
	const char *args[] = { "-p", pid_text, NULL };
	struct trace_result r;
	pid_t strace, sleeper = 0;
	FILE *fp;
	long tries;

	(void)state;
	if (access("/usr/bin/strace", X_OK) != 0)
		skip();
	strace = fork();
	assert_true(strace >= 0);
	if (strace == 0) {
		execv("/bin/sh", (char *const *)command);
		_exit(127);
	}
	/*
	 * strace forks a short-lived probe first: wait for a child of its
	 * that runs sleep and has strace as its tracer.
	 */
	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)strace,
		 (int)strace);
	snprintf(wanted, sizeof(wanted), "TracerPid:\t%d\n", (int)strace);
	for (tries = 0; tries < 2000000; tries++) {
		int child = 0;
		size_t n = 0;

		fp = fopen(path, "r");
		if (fp) {
			if (fscanf(fp, "%d", &child) != 1)
				child = 0;
			fclose(fp);
		}
		if (child > 0) {
			char status[64];

			snprintf(status, sizeof(status), "/proc/%d/status",
				 child);
			fp = fopen(status, "r");
			if (fp) {
				n = fread(buf, 1, sizeof(buf) - 1, fp);
				fclose(fp);
			}
			buf[n] = '\0';
			if (strstr(buf, "Name:\tsleep\n") &&
			    strstr(buf, wanted)) {
				sleeper = child;
				break;
			}
		}
		sched_yield();
	}
	assert_true(sleeper > 0);
	snprintf(pid_text, sizeof(pid_text), "%d", (int)sleeper);
	assert_int_equal(forktrace_run(&r, args), 0);
	assert_int_equal(r.exit_code, 1);
	assert_non_null(strstr(r.err, "it is already traced by pid "));
	assert_non_null(strstr(r.err, "(strace)\n"));
	trace_result_free(&r);
	kill(sleeper, SIGKILL);
	alarm(TRACE_TIMEOUT);
	waitpid(strace, NULL, 0);
	alarm(0);
}

static void
attach_other_users_process_fails(void **state)
{
	struct family f;
	char pid_text[16], out_path[256];
	int status, out;
	pid_t pid;
	FILE *fp;
	char line[512] = "";

	(void)state;
	if (geteuid() != 0)
		skip();
	start_family(&f, "1", "0");
	assert_true(read_until(&f, "forked all"));
	snprintf(pid_text, sizeof(pid_text), "%d", (int)f.pid);
	snprintf(out_path, sizeof(out_path), "%s/other-user.err",
		 test_tmpdir());
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		dup2(out, 2);
		/* Not root any more: the family belongs to someone else. */
		if (setgid(65534) < 0 || setuid(65534) < 0)
			_exit(99);
		execl(FT_BUILD_DIR "/forktrace", "forktrace", "-p", pid_text,
		      (char *)NULL);
		_exit(127);
	}
	alarm(TRACE_TIMEOUT);
	waitpid(pid, &status, 0);
	alarm(0);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 1);
	fp = fopen(out_path, "r");
	assert_non_null(fp);
	assert_non_null(fgets(line, sizeof(line), fp));
	fclose(fp);
	assert_non_null(strstr(line, "cannot attach to pid "));
	assert_non_null(strstr(line, "it belongs to uid 0: run forktrace as "
				     "that user or as root"));
	assert_int_equal(end_family(&f), 0);
}

static void
attach_some_of_two_fails(void **state)
{
	struct live_trace live;
	struct family f;
	char list[48];
	const char *options[] = { "-p", list, NULL };
	const char *command[] = { NULL };
	pid_t gone = fork();

	(void)state;
	assert_true(gone >= 0);
	if (gone == 0)
		_exit(0);
	waitpid(gone, NULL, 0);
	start_family(&f, "1", "0");
	assert_true(read_until(&f, "forked all"));
	snprintf(list, sizeof(list), "%d,%d", (int)f.pid, (int)gone);
	assert_int_equal(live_trace_start(&live, options, command), 0);
	assert_non_null(live_trace_next(&live, "attach", NULL));
	assert_non_null(live_trace_next(&live, "fork", NULL));
	assert_int_equal(end_family(&f), 0);
	live_trace_finish(&live);
	/* It followed the one it could, and reports which it could not. */
	assert_int_equal(live.result.exit_code, 1);
	assert_int_equal(trace_process_count(&live.result), 2);
	assert_non_null(strstr(live.result.err, "no such process"));
	trace_result_free(&live.result);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(attach_follows_family_to_end),
		cmocka_unit_test(sigint_leaves_family_running),
		cmocka_unit_test(attach_to_own_parent_skips_itself),
		cmocka_unit_test(attach_during_forks_loses_none),
		cmocka_unit_test(attach_missing_pid_fails),
		cmocka_unit_test(attach_zombie_says_so),
		cmocka_unit_test(attach_leaderless_process_ends),
		cmocka_unit_test(attach_finds_zombie_child),
		cmocka_unit_test(attach_traced_pid_names_tracer),
		cmocka_unit_test(attach_pid_under_strace_fails),
		cmocka_unit_test(attach_other_users_process_fails),
		cmocka_unit_test(attach_some_of_two_fails),
	};

	return cmocka_run_group_tests_name("attach", tests, NULL, NULL);
}
