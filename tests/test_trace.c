/*
 * Integration tests of --trace: forktrace runs real families, and the
 * Chrome trace it writes is checked against the JSON timeline of the same
 * run.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "forktrace/family.h"
#include "forktrace/hang.h"
#include "forktrace/output.h"
#include "forktrace/stacks.h"

#include "events.h"
#include "harness.h"

/* A name that drives a terminal, with a newline and bytes not UTF-8. */
static const char hostile_name[] = "e\033]0;t\a\n\xff\xfe";

/* Returns a new path in the test's directory for a trace file. */
static const char *
trace_path(const char *name)
{
	static char paths[4][PATH_MAX];
	static unsigned next;
	char *path = paths[next++ % 4];

	snprintf(path, PATH_MAX, "%s/%s", test_tmpdir(), name);
	unlink(path);
	return path;
}

/* Builds the option "--trace=PATH" in buf; returns buf. */
static const char *
trace_option(char *buf, size_t size, const char *path)
{
	snprintf(buf, size, "--trace=%s", path);
	return buf;
}

/* Loads a trace file, which must parse; returns its traceEvents. */
static json_t *
load_trace(const char *path, json_t **document)
{
	json_error_t error;
	json_t *events;

	*document = json_load_file(path, 0, &error);
	if (!*document)
		fail_msg("%s: line %d: %s", path, error.line, error.text);
	events = json_object_get(*document, "traceEvents");
	assert_true(json_is_array(events));
	return events;
}

static bool
has_phase(const json_t *event, const char *ph)
{
	return !strcmp(json_str(event, "ph"), ph);
}

/* Counts the events of phase ph (and name, unless NULL) of pid (0: any). */
static size_t
count_events(const json_t *events, const char *ph, const char *name, pid_t pid)
{
	const json_t *event;
	size_t i, count = 0;

	json_array_foreach(events, i, event)
	{
		if (!has_phase(event, ph))
			continue;
		if (name && strcmp(json_str(event, "name"), name))
			continue;
		if (pid && json_int(event, "pid") != pid)
			continue;
		count++;
	}
	return count;
}

/* Returns the nth event of phase ph and name on track pid/tid, or NULL. */
static json_t *
find_event(const json_t *events, const char *ph, const char *name, pid_t pid,
	   pid_t tid, size_t nth)
{
	json_t *event;
	size_t i;

	json_array_foreach(events, i, event)
	{
		if (!has_phase(event, ph) || json_int(event, "pid") != pid ||
		    (tid && json_int(event, "tid") != tid))
			continue;
		if (name && strcmp(json_str(event, "name"), name))
			continue;
		if (nth-- == 0)
			return event;
	}
	return NULL;
}

/* Returns the only event of phase ph and name on track pid/tid. */
static json_t *
only_event(const json_t *events, const char *ph, const char *name, pid_t pid,
	   pid_t tid)
{
	json_t *event = find_event(events, ph, name, pid, tid, 0);

	assert_non_null(event);
	assert_null(find_event(events, ph, name, pid, tid, 1));
	return event;
}

/* Returns the args of a metadata event, or NULL. */
static json_t *
metadata(const json_t *events, const char *name, pid_t pid, pid_t tid)
{
	return json_object_get(find_event(events, "M", name, pid, tid, 0),
			       "args");
}

static double
number(const json_t *object, const char *key)
{
	const json_t *value = json_object_get(object, key);

	assert_true(json_is_number(value));
	return json_number_value(value);
}

/* Checks the fields that every event has, and that every B has its E. */
static void
assert_events_well_formed(const json_t *events)
{
	const json_t *event;
	size_t i;

	assert_true(json_array_size(events) > 0);
	json_array_foreach(events, i, event)
	{
		assert_true(json_is_string(json_object_get(event, "name")));
		assert_true(json_is_string(json_object_get(event, "ph")));
		assert_true(number(event, "ts") >= 0);
		assert_true(json_is_integer(json_object_get(event, "pid")));
		assert_true(json_is_integer(json_object_get(event, "tid")));
		if (has_phase(event, "X"))
			assert_true(number(event, "dur") >= 0);
	}
	assert_int_equal(count_events(events, "B", NULL, 0),
			 count_events(events, "E", NULL, 0));
}

/* Checks a summary record, then its children, in depth-first order. */
static void
assert_tracks_of(const json_t *events, const json_t *process, long *index)
{
	pid_t pid = (pid_t)json_int(process, "pid");
	const json_t *thread, *child;
	json_t *name = metadata(events, "process_name", pid, pid);
	size_t i;

	assert_non_null(name);
	assert_true(json_is_string(json_object_get(name, "name")));
	assert_non_null(metadata(events, "thread_name", pid, pid));
	assert_int_equal(
		json_int(metadata(events, "process_sort_index", pid, pid),
			 "sort_index"),
		++*index);
	json_array_foreach(json_object_get(process, "threads"), i, thread)
	{
		pid_t tid = (pid_t)json_int(thread, "tid");

		assert_non_null(metadata(events, "thread_name", pid, tid));
		assert_non_null(find_event(events, "X", NULL, pid, tid, 0));
	}
	json_array_foreach(json_object_get(process, "children"), i, child)
		assert_tracks_of(events, child, index);
}

/*
 * Checks that every member of the summary's tree has named tracks, sorted
 * in the tree's depth-first order, and returns the number of members.
 */
static long
assert_tracks_follow_tree(const json_t *events, const struct trace_result *r)
{
	const json_t *root;
	long index = 0;
	size_t i;

	assert_non_null(r->summary);
	json_array_foreach(json_object_get(r->summary, "tree"), i, root)
		assert_tracks_of(events, root, &index);
	assert_int_equal(count_events(events, "M", "process_name", 0),
			 (size_t)index);
	return index;
}

/*
 * Checks the flow of a creation event of the timeline: its start on the
 * creating thread, its end on the new track, at the start of a slice
 * there.  Returns the flow's id.
 */
static long
assert_flow_of(const json_t *events, const json_t *creation, pid_t child_pid,
	       pid_t child_tid)
{
	const char *kind = json_str(creation, "event");
	pid_t pid = (pid_t)json_int(creation, "pid");
	pid_t tid = (pid_t)json_int(creation, "tid");
	json_t *start = NULL, *end = NULL, *slice;
	size_t n;
	long id = -1;

	/* The flow that starts on that thread and ends on the new track. */
	for (n = 0; (start = find_event(events, "s", kind, pid, tid, n)); n++) {
		id = json_int(start, "id");
		end = find_event(events, "f", kind, child_pid, child_tid, 0);
		if (end && json_int(end, "id") == id)
			break;
	}
	assert_non_null(start);
	assert_non_null(end);
	assert_string_equal(json_str(end, "bp"), "e");
	assert_true(number(start, "ts") == number(end, "ts"));
	/* The slice that the flow's end binds to encloses it. */
	slice = find_event(events, "X", NULL, child_pid, child_tid, 0);
	assert_non_null(slice);
	assert_true(number(slice, "ts") <= number(end, "ts"));
	assert_true(number(slice, "ts") + number(slice, "dur") >=
		    number(end, "ts"));
	return id;
}

static void
fork_tree_flows_join_tracks(void **state)
{
	char option[PATH_MAX + 16];
	const char *path = trace_path("fork_tree.json");
	const char *options[] = { trace_option(option, sizeof(option), path),
				  NULL };
	const char *command[] = { example_path("fork_tree"), NULL };
	long ids[4];
	struct trace_result r;
	json_t *document, *events;
	size_t i, j;

	(void)state;
	assert_int_equal(trace_run(&r, options, command), 0);
	assert_int_equal(r.exit_code, 0);
	events = load_trace(path, &document);
	assert_events_well_formed(events);
	assert_int_equal(assert_tracks_follow_tree(events, &r), 5);

	assert_int_equal(trace_count(&r, "fork", 0), 4);
	assert_int_equal(count_events(events, "s", "fork", 0), 4);
	assert_int_equal(count_events(events, "f", "fork", 0), 4);
	assert_int_equal(count_events(events, "X", "fork", 0), 4);
	for (i = 0; i < 4; i++) {
		json_t *fork = trace_event(&r, "fork", 0, i);
		pid_t child = (pid_t)json_int(fork, "child");

		ids[i] = assert_flow_of(events, fork, child, child);
		for (j = 0; j < i; j++)
			assert_true(ids[j] != ids[i]);
	}
	/* Each process ran one program, fork_tree, and ended as it did. */
	for (i = 0; i < 4; i++) {
		pid_t child =
			(pid_t)json_int(trace_event(&r, "fork", 0, i), "child");
		json_t *slice = find_event(events, "X", NULL, child, child, 0);
		json_t *args = json_object_get(slice, "args");

		assert_string_equal(json_str(slice, "name"), "fork_tree");
		assert_true(json_is_true(json_object_get(args, "inherited")));
		assert_string_equal(json_str(args, "ended"), "exited");
		assert_int_equal(
			json_int(args, "exit_code"),
			json_int(trace_process(&r, child), "exit_code"));
	}
	json_decref(document);
	trace_result_free(&r);
}

/* A thread's creation and a fork from that thread, each a flow. */
static void
thread_fork_flows_join_tracks(void **state)
{
	char option[PATH_MAX + 16];
	const char *path = trace_path("thread_fork.json");
	const char *options[] = { trace_option(option, sizeof(option), path),
				  NULL };
	const char *command[] = { example_path("thread_fork"), NULL };
	struct trace_result r;
	json_t *document, *events, *thread, *fork;
	pid_t pid, tid, child;

	(void)state;
	assert_int_equal(trace_run(&r, options, command), 0);
	assert_int_equal(r.exit_code, 0);
	events = load_trace(path, &document);
	assert_events_well_formed(events);
	assert_int_equal(assert_tracks_follow_tree(events, &r), 2);

	thread = trace_event(&r, "thread", 0, 0);
	fork = trace_event(&r, "fork", 0, 0);
	assert_non_null(thread);
	assert_non_null(fork);
	pid = (pid_t)json_int(thread, "pid");
	tid = (pid_t)json_int(thread, "child");
	child = (pid_t)json_int(fork, "child");
	/* The fork came from the new thread, not from the leader. */
	assert_int_equal(json_int(fork, "tid"), tid);
	assert_flow_of(events, thread, pid, tid);
	assert_flow_of(events, fork, child, child);
	assert_int_equal(count_events(events, "s", NULL, 0), 2);
	assert_int_equal(count_events(events, "f", NULL, 0), 2);
	/* The thread's own track: its name, its slice, its exit. */
	assert_non_null(metadata(events, "thread_sort_index", pid, tid));
	assert_non_null(find_event(events, "i", "thread exit", pid, tid, 0));
	json_decref(document);
	trace_result_free(&r);
}

/* The program slice of pid that starts nth, with its args. */
static json_t *
program_slice(const json_t *events, pid_t pid, size_t nth)
{
	json_t *event;
	size_t i;

	json_array_foreach(events, i, event)
	{
		if (has_phase(event, "X") && json_int(event, "pid") == pid &&
		    !strcmp(json_str(event, "cat"), "program") && nth-- == 0)
			return event;
	}
	return NULL;
}

static void
assert_argv(const json_t *slice, const char *const *argv)
{
	const json_t *array =
		json_object_get(json_object_get(slice, "args"), "argv");
	size_t i;

	for (i = 0; argv[i]; i++)
		assert_string_equal(json_string_value(json_array_get(array, i)),
				    argv[i]);
	assert_int_equal(json_array_size(array), i);
}

static void
exec_slices_named_by_program(void **state)
{
	char option[PATH_MAX + 16];
	const char *path = trace_path("exec.json");
	const char *options[] = { trace_option(option, sizeof(option), path),
				  NULL };
	const char *command[] = { "/bin/sh", "-c", "/bin/echo one two; exit 3",
				  NULL };
	const char *echo_argv[] = { "/bin/echo", "one", "two", NULL };
	struct trace_result r;
	json_t *document, *events, *slice, *next, *exec;
	pid_t root, child;

	(void)state;
	assert_int_equal(trace_run(&r, options, command), 0);
	assert_int_equal(r.exit_code, 3);
	events = load_trace(path, &document);
	assert_events_well_formed(events);
	assert_int_equal(assert_tracks_follow_tree(events, &r), 2);
	root = trace_root_pid(&r);
	exec = trace_event(&r, "exec", 0, 1);
	assert_non_null(exec);
	child = (pid_t)json_int(exec, "pid");

	/* The shell: one program, from its exec to its exit. */
	slice = program_slice(events, root, 0);
	assert_non_null(slice);
	assert_string_equal(json_str(slice, "name"), "sh");
	assert_argv(slice, command);
	assert_string_equal(json_str(json_object_get(slice, "args"), "ended"),
			    "exited");
	assert_int_equal(json_int(json_object_get(slice, "args"), "exit_code"),
			 3);
	assert_null(program_slice(events, root, 1));

	/* The child: the shell until its exec, then echo. */
	slice = program_slice(events, child, 0);
	next = program_slice(events, child, 1);
	assert_non_null(slice);
	assert_non_null(next);
	assert_null(program_slice(events, child, 2));
	assert_string_equal(json_str(slice, "name"), "sh");
	assert_argv(slice, command);
	assert_string_equal(json_str(json_object_get(slice, "args"), "ended"),
			    "exec");
	assert_string_equal(json_str(next, "name"), "echo");
	assert_argv(next, echo_argv);
	assert_string_equal(json_str(json_object_get(next, "args"), "path"),
			    "/usr/bin/echo");
	/* The exec ends one slice where the next begins, to the ns. */
	assert_true(fabs(number(slice, "ts") + number(slice, "dur") -
			 number(next, "ts")) < 0.001);
	/* At the time of the exec, which the timeline rounds to the us. */
	assert_true(fabs(number(next, "ts") * 1e-6 -
			 json_real_value(json_object_get(exec, "t"))) <= 1e-6);
	json_decref(document);
	trace_result_free(&r);
}

/* The parent of a vfork waits, on its track, until the child execs. */
static void
vfork_wait_until_exec(void **state)
{
	char option[PATH_MAX + 16];
	const char *path = trace_path("vfork.json");
	const char *options[] = { trace_option(option, sizeof(option), path),
				  NULL };
	const char *command[] = { example_path("vfork_exec"), NULL };
	struct trace_result r;
	json_t *document, *events, *vfork, *wait, *exec_slice;
	pid_t root, child;

	(void)state;
	assert_int_equal(trace_run(&r, options, command), 0);
	assert_int_equal(r.exit_code, 0);
	events = load_trace(path, &document);
	assert_events_well_formed(events);
	root = trace_root_pid(&r);
	vfork = trace_event(&r, "vfork", root, 0);
	assert_non_null(vfork);
	child = (pid_t)json_int(vfork, "child");
	assert_flow_of(events, vfork, child, child);

	wait = only_event(events, "X", "vfork wait", root, root);
	assert_int_equal(json_int(json_object_get(wait, "args"), "child"),
			 child);
	assert_string_equal(
		json_str(json_object_get(wait, "args"), "released_by"), "exec");
	exec_slice = program_slice(events, child, 1);
	assert_non_null(exec_slice);
	assert_string_equal(json_str(exec_slice, "name"), "sh");
	assert_true(number(wait, "ts") ==
		    number(program_slice(events, child, 0), "ts"));
	assert_true(fabs(number(wait, "ts") + number(wait, "dur") -
			 number(exec_slice, "ts")) < 0.001);
	json_decref(document);
	trace_result_free(&r);
}

/*
 * SIGINT makes forktrace follow the family to its end, and a second one
 * lets go of it: the file is whole, and the members still running end at
 * the trace's end, marked detached.
 */
static void
sigint_leaves_valid_trace(void **state)
{
	char option[PATH_MAX + 16];
	const char *path = trace_path("sigint.json");
	const char *options[] = { trace_option(option, sizeof(option), path),
				  NULL };
	const char *command[] = { "sh", "-c", "trap '' INT; sleep 30; exit 0",
				  NULL };
	struct live_trace live;
	json_t *document, *events, *exec, *slice, *detach, *other;
	pid_t shell, sleeper;

	(void)state;
	assert_int_equal(live_trace_start(&live, options, command), 0);
	exec = live_trace_next(&live, "exec", "sleep");
	assert_non_null(exec);
	sleeper = (pid_t)json_int(exec, "pid");
	shell = (pid_t)json_int(exec, "ppid");
	kill(live.pid, SIGINT);
	/* The shell ignores it, but its delivery is reported. */
	assert_non_null(live_trace_next(&live, "signal", "sh"));
	kill(live.pid, SIGINT);
	live_trace_finish(&live);
	assert_false(live.result.timed_out);
	assert_int_equal(live.result.exit_code, -1);
	assert_int_equal(live.result.signal, SIGINT);

	events = load_trace(path, &document);
	assert_events_well_formed(events);
	assert_int_equal(assert_tracks_follow_tree(events, &live.result), 2);
	other = json_object_get(document, "otherData");
	assert_string_equal(json_str(other, "interrupted"), "SIGINT");
	assert_non_null(find_event(events, "i", "SIGINT", shell, shell, 0));
	slice = program_slice(events, sleeper, 1);
	assert_non_null(slice);
	assert_string_equal(json_str(slice, "name"), "sleep");
	assert_string_equal(json_str(json_object_get(slice, "args"), "ended"),
			    "detached");
	/* It runs on: its slice lasts until the trace's end. */
	detach = find_event(events, "i", "detach", sleeper, 0, 0);
	assert_non_null(detach);
	assert_true(number(slice, "ts") + number(slice, "dur") >=
		    number(detach, "ts"));
	slice = program_slice(events, shell, 0);
	assert_string_equal(json_str(json_object_get(slice, "args"), "ended"),
			    "detached");

	kill(sleeper, SIGKILL);
	kill(shell, SIGKILL);
	json_decref(document);
	trace_result_free(&live.result);
}

/* Starts sleep as the test's child; returns once it has exec'd. */
static pid_t
start_sleeper(void)
{
	int fds[2];
	char byte;
	pid_t pid;

	assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		execlp("sleep", "sleep", "30", (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	/* The exec closes the write end. */
	assert_int_equal(read(fds[0], &byte, 1), 0);
	close(fds[0]);
	return pid;
}

/*
 * Under -p, SIGINT lets go of the family at once: the process that runs
 * on gets a slice to the end of the trace, marked detached.
 */
static void
attached_process_detached_at_sigint(void **state)
{
	char option[PATH_MAX + 16], pid_text[16];
	const char *path = trace_path("attach.json");
	const char *options[] = { "-p", pid_text,
				  trace_option(option, sizeof(option), path),
				  NULL };
	const char *command[] = { NULL };
	const char *sleep_argv[] = { "sleep", "30", NULL };
	struct live_trace live;
	json_t *document, *events, *slice, *args, *attach, *detach;
	pid_t sleeper = start_sleeper();
	int status;

	(void)state;
	snprintf(pid_text, sizeof(pid_text), "%d", (int)sleeper);
	assert_int_equal(live_trace_start(&live, options, command), 0);
	assert_non_null(live_trace_next(&live, "attach", NULL));
	kill(live.pid, SIGINT);
	live_trace_finish(&live);
	assert_false(live.result.timed_out);

	events = load_trace(path, &document);
	assert_events_well_formed(events);
	assert_int_equal(assert_tracks_follow_tree(events, &live.result), 1);
	assert_string_equal(
		json_str(json_object_get(document, "otherData"), "interrupted"),
		"SIGINT");
	slice = only_event(events, "X", "sleep", sleeper, sleeper);
	args = json_object_get(slice, "args");
	assert_argv(slice, sleep_argv);
	assert_string_equal(json_str(args, "ended"), "detached");
	attach = only_event(events, "i", "attach", sleeper, sleeper);
	detach = only_event(events, "i", "detach", sleeper, sleeper);
	assert_true(number(slice, "ts") <= number(attach, "ts"));
	assert_true(number(slice, "ts") + number(slice, "dur") >=
		    number(detach, "ts"));

	kill(sleeper, SIGKILL);
	assert_int_equal(waitpid(sleeper, &status, 0), sleeper);
	json_decref(document);
	trace_result_free(&live.result);
}

/* Writes a copy of an example under name in the test's directory. */
static const char *
copy_example(const char *example, const char *name)
{
	static char path[PATH_MAX];
	char buf[65536];
	int in, out;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%s", test_tmpdir(), name);
	unlink(path);
	in = open(example_path(example), O_RDONLY);
	out = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0755);
	assert_true(in >= 0);
	assert_true(out >= 0);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		assert_int_equal(write(out, buf, (size_t)n), n);
	assert_int_equal(n, 0);
	close(in);
	close(out);
	return path;
}

static void
hostile_name_lossless(void **state)
{
	char option[PATH_MAX + 16], dir[PATH_MAX], full[PATH_MAX + 32];
	const char *path = trace_path("hostile.json");
	const char *options[] = { trace_option(option, sizeof(option), path),
				  NULL };
	const char *command[] = { copy_example("fork_tree", hostile_name),
				  NULL };
	struct trace_result r;
	json_t *document, *events, *slice, *args, *exec;
	pid_t root;

	(void)state;
	assert_non_null(realpath(test_tmpdir(), dir));
	snprintf(full, sizeof(full), "%s/%s", dir, hostile_name);
	assert_int_equal(trace_run(&r, options, command), 0);
	assert_int_equal(r.exit_code, 0);
	events = load_trace(path, &document);
	assert_events_well_formed(events);
	assert_int_equal(assert_tracks_follow_tree(events, &r), 5);
	root = trace_root_pid(&r);

	/* Names are shown escaped, as strings a viewer can show. */
	assert_string_equal(
		json_str(metadata(events, "process_name", root, root), "name"),
		"e\\e]0;t\\x07\\n\\xff\\xfe");
	/* The args keep every byte, as the JSON timeline does. */
	slice = program_slice(events, root, 0);
	args = json_object_get(slice, "args");
	exec = trace_event(&r, "exec", root, 0);
	assert_true(json_equal(json_object_get(args, "comm"),
			       json_object_get(exec, "comm")));
	assert_true(json_equal(json_object_get(args, "path"),
			       json_object_get(exec, "path")));
	assert_true(json_equal(json_object_get(args, "argv"),
			       json_object_get(exec, "argv")));
	assert_true(json_is_object(json_object_get(args, "path")));
	json_decref(document);
	trace_result_free(&r);
}

/* A full disk: one message, and the timeline goes on as with -o. */
static void
write_failure_reported_once(void **state)
{
	const char *trace[] = { "-qq", "--trace=/dev/full", "true", NULL };
	const char *timeline[] = { "-qq", "-o", "/dev/full", "true", NULL };
	struct trace_result r, o;

	(void)state;
	assert_int_equal(forktrace_run(&r, trace), 0);
	assert_int_equal(forktrace_run(&o, timeline), 0);
	assert_string_equal(r.err, "forktrace: cannot write '/dev/full': No "
				   "space left on device\n");
	assert_int_equal(r.exit_code, o.exit_code);
	trace_result_free(&r);
	trace_result_free(&o);
}

/* A program that cannot run still leaves a trace that parses. */
static void
failed_exec_leaves_valid_trace(void **state)
{
	char option[PATH_MAX + 16];
	const char *path = trace_path("noexec.json");
	const char *args[] = { trace_option(option, sizeof(option), path),
			       "/nonexistent/program", NULL };
	struct trace_result r;
	json_t *document, *events;

	(void)state;
	assert_int_equal(forktrace_run(&r, args), 0);
	assert_int_equal(r.exit_code, 127);
	events = load_trace(path, &document);
	assert_int_equal(json_array_size(events), 0);
	assert_true(json_is_false(json_object_get(
		json_object_get(document, "otherData"), "complete")));
	json_decref(document);
	trace_result_free(&r);
}

/* A trace output fed with hand-made events, as the tracer feeds it. */
struct fed_trace {
	struct ft_options opts;
	struct ft_family *family;
	struct ft_output *out;
};

static void
fed_start(struct fed_trace *fed, const char *path)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	memset(fed, 0, sizeof(*fed));
	fed->opts.trace_path = path;
	fed->family = family_new();
	family_add_root(fed->family, 100, FT_ORIGIN_ROOT, 0)->ppid = 1;
	fed->out = output_trace_new();
	fed->out->fp = fp;
	fed->out->opts = &fed->opts;
	fed->out->ops->begin(fed->out);
}

static void
fed_event(struct fed_trace *fed, const struct ft_event *event)
{
	struct ft_process *process = family_process(fed->family, event->pid);

	assert_true(family_apply(fed->family, event));
	fed->out->ops->event(fed->out, event, process);
}

static void
fed_finish(struct fed_trace *fed, uint64_t end_ns)
{
	struct ft_summary summary = { .time_ns = end_ns };
	FILE *fp = fed->out->fp;

	fed->out->ops->end(fed->out, fed->family, &summary);
	output_free(fed->out);
	assert_int_equal(fclose(fp), 0);
	family_free(fed->family);
}

static void
assert_slice_us(const json_t *slice, double ts, double dur)
{
	assert_true(fabs(number(slice, "ts") - ts) < 1e-9);
	assert_true(fabs(number(slice, "dur") - dur) < 1e-9);
}

/*
 * A pause with a debugger's visit, a stack, a hang report and members
 * still running at the end, in microseconds: 2 fork, 3 thread, 4 pause,
 * 5-6 debugger, 7 resume, 8 signal, 9 hang, 10 exit, 20 end.
 */
static void
pauses_hangs_and_running_members(void **state)
{
	const char *path = trace_path("fed.json");
	static const char argv[] = "prog\0-x";
	char message[] = "it waits for itself";
	struct ft_frame frames[] = {
		{ .function = "main", .file = "/src/a.c", .line = 7 },
		{ .module = "/lib/libc.so.6", .pc = 0x1234, .offset = 0x34 },
	};
	struct ft_stack stack = { .frames = frames, .count = 2 };
	struct ft_hang_report report = { .pid = 101,
					 .tid = 101,
					 .deadlock = true,
					 .cause = FT_HANG_THREADS,
					 .message = message };
	struct ft_event event;
	struct fed_trace fed;
	json_t *document, *events, *slice, *args, *expected;

	(void)state;
	fed_start(&fed, path);
	event = exec_event(100, "/bin/prog", "prog", argv, sizeof(argv), 1000);
	fed_event(&fed, &event);
	event = creation_event(FT_EVENT_FORK, 100, 101, 2000);
	event.stack = &stack;
	fed_event(&fed, &event);
	event = creation_event(FT_EVENT_THREAD, 101, 102, 3000);
	fed_event(&fed, &event);
	event = make_event(FT_EVENT_PAUSE, 101, 4000);
	event.pause_point = "fork";
	fed_event(&fed, &event);
	event = make_event(FT_EVENT_DEBUGGER_ATTACH, 101, 5000);
	event.debugger_pid = 999;
	event.debugger_comm = "gdb";
	fed_event(&fed, &event);
	event = make_event(FT_EVENT_DEBUGGER_DETACH, 101, 6000);
	fed_event(&fed, &event);
	event = make_event(FT_EVENT_RESUME, 101, 7000);
	event.resume_reason = "continued";
	fed_event(&fed, &event);
	event = make_event(FT_EVENT_SIGNAL, 100, 8000);
	event.signo = SIGUSR1;
	fed_event(&fed, &event);
	event = make_event(FT_EVENT_HANG, 101, 9000);
	event.hang = &report;
	fed_event(&fed, &event);
	event = exit_event(100, 100, 0, 10000);
	fed_event(&fed, &event);
	fed_finish(&fed, 20000);

	events = load_trace(path, &document);
	assert_events_well_formed(events);
	slice = only_event(events, "X", "prog", 100, 100);
	assert_slice_us(slice, 1, 9);
	slice = only_event(events, "X", "prog", 101, 101);
	assert_slice_us(slice, 2, 18);
	args = json_object_get(slice, "args");
	assert_true(json_is_true(json_object_get(args, "inherited")));
	assert_string_equal(json_str(args, "ended"), "running");
	slice = only_event(events, "X", "prog", 101, 102);
	assert_slice_us(slice, 3, 17);
	assert_string_equal(json_str(json_object_get(slice, "args"), "ended"),
			    "running");

	slice = only_event(events, "X", "paused", 101, 101);
	assert_slice_us(slice, 4, 3);
	args = json_object_get(slice, "args");
	assert_string_equal(json_str(args, "at"), "fork");
	assert_string_equal(json_str(args, "resume_reason"), "continued");
	slice = only_event(events, "X", "debugger", 101, 101);
	assert_slice_us(slice, 5, 1);
	args = json_object_get(slice, "args");
	assert_int_equal(json_int(args, "debugger"), 999);
	assert_string_equal(json_str(args, "debugger_comm"), "gdb");

	slice = only_event(events, "X", "fork", 100, 100);
	assert_slice_us(slice, 2, 0);
	expected =
		json_pack("[s, s]", "main (a.c:7)", "0x1234 (libc.so.6+0x34)");
	assert_true(json_equal(
		json_object_get(json_object_get(slice, "args"), "stack"),
		expected));
	json_decref(expected);
	assert_non_null(only_event(events, "i", "SIGUSR1", 100, 100));
	args = json_object_get(only_event(events, "i", "deadlock", 101, 101),
			       "args");
	assert_string_equal(json_str(args, "cause"), "threads");
	assert_string_equal(json_str(args, "message"), "it waits for itself");
	assert_non_null(only_event(events, "i", "exit", 100, 100));
	json_decref(document);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fork_tree_flows_join_tracks),
		cmocka_unit_test(thread_fork_flows_join_tracks),
		cmocka_unit_test(exec_slices_named_by_program),
		cmocka_unit_test(vfork_wait_until_exec),
		cmocka_unit_test(sigint_leaves_valid_trace),
		cmocka_unit_test(attached_process_detached_at_sigint),
		cmocka_unit_test(hostile_name_lossless),
		cmocka_unit_test(write_failure_reported_once),
		cmocka_unit_test(failed_exec_leaves_valid_trace),
		cmocka_unit_test(pauses_hangs_and_running_members),
	};

	return cmocka_run_group_tests_name("trace", tests, NULL, NULL);
}
