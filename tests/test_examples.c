/*
 * Integration tests: each example runs under the real forktrace with
 * --json, and the test checks the exact family that it reported.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

/* Runs an example with no arguments and checks forktrace ended well. */
static void
trace_example(struct trace_result *r, const char *name)
{
	const char *command[] = { example_path(name), NULL };

	assert_int_equal(trace_run(r, NULL, command), 0);
	assert_false(r->timed_out);
	assert_non_null(r->summary);
}

static json_t *
child_at(json_t *process, size_t index)
{
	return json_array_get(json_object_get(process, "children"), index);
}

static size_t
child_count(json_t *process)
{
	return json_array_size(json_object_get(process, "children"));
}

static const char *
realpath_of(const char *path)
{
	static char resolved[PATH_MAX];

	assert_non_null(realpath(path, resolved));
	return resolved;
}

static void
fork_tree_family_shape(void **state)
{
	struct trace_result r;
	json_t *root, *worker;
	long codes[3];
	size_t i;

	(void)state;
	trace_example(&r, "fork_tree");
	assert_int_equal(r.exit_code, 0);
	assert_non_null(strstr(r.out, "all workers done"));
	assert_int_equal(trace_process_count(&r), 5);

	root = trace_process(&r, trace_root_pid(&r));
	assert_string_equal(json_str(root, "path"),
			    realpath_of(example_path("fork_tree")));
	assert_string_equal(json_str(root, "origin"), "root");
	assert_int_equal(json_int(root, "exit_code"), 0);
	assert_int_equal(child_count(root), 3);
	assert_int_equal(trace_count(&r, "fork", trace_root_pid(&r)), 3);

	for (i = 0; i < 3; i++) {
		worker = child_at(root, i);
		codes[i] = json_int(worker, "exit_code");
		assert_int_equal(json_int(worker, "ppid"), trace_root_pid(&r));
		assert_string_equal(json_str(worker, "origin"), "fork");
		/* A forked child runs its parent's program until it execs. */
		assert_string_equal(json_str(worker, "comm"), "fork_tree");
		assert_int_equal(
			json_array_size(json_object_get(worker, "programs")),
			0);
	}
	/* The workers' order is the order of their fork events. */
	assert_int_equal(codes[0], 10);
	assert_int_equal(codes[1], 11);
	assert_int_equal(codes[2], 12);

	worker = child_at(root, 1);
	assert_int_equal(child_count(worker), 1);
	assert_int_equal(json_int(child_at(worker, 0), "exit_code"), 20);
	assert_int_equal(child_count(child_at(root, 0)), 0);
	assert_int_equal(child_count(child_at(root, 2)), 0);
	trace_result_free(&r);
}

static void
vfork_then_exec(void **state)
{
	struct trace_result r;
	json_t *vfork, *exec, *argv;
	pid_t child;

	(void)state;
	trace_example(&r, "vfork_exec");
	assert_int_equal(r.exit_code, 0);
	vfork = trace_event(&r, "vfork", trace_root_pid(&r), 0);
	assert_non_null(vfork);
	assert_int_equal(trace_count(&r, "fork", 0), 0);
	child = (pid_t)json_int(vfork, "child");

	exec = trace_event(&r, "exec", child, 0);
	assert_non_null(exec);
	assert_string_equal(json_str(exec, "path"), realpath_of("/bin/sh"));
	argv = json_object_get(exec, "argv");
	assert_int_equal(json_array_size(argv), 3);
	assert_string_equal(json_string_value(json_array_get(argv, 0)), "sh");
	assert_string_equal(json_string_value(json_array_get(argv, 1)), "-c");
	assert_string_equal(json_string_value(json_array_get(argv, 2)),
			    "exit 3");
	assert_string_equal(json_str(trace_process(&r, child), "origin"),
			    "vfork");
	assert_int_equal(json_int(trace_process(&r, child), "exit_code"), 3);
	trace_result_free(&r);
}

static void
thread_exec_keeps_pid(void **state)
{
	struct trace_result r;
	json_t *thread, *exec, *root;
	pid_t pid;
	char expected[64];

	(void)state;
	trace_example(&r, "thread_exec");
	assert_int_equal(r.exit_code, 0);
	pid = trace_root_pid(&r);
	snprintf(expected, sizeof(expected), "after exec pid %d\n", (int)pid);
	assert_string_equal(r.out, expected);

	thread = trace_event(&r, "thread", pid, 0);
	assert_non_null(thread);
	assert_int_equal(trace_count(&r, "exec", pid), 2);
	exec = trace_event(&r, "exec", pid, 1);
	assert_int_equal(json_int(exec, "former_tid"),
			 json_int(thread, "child"));
	assert_int_equal(json_int(exec, "tid"), pid);
	/* /proc/self/exe resolves to the real file. */
	assert_string_equal(json_str(exec, "path"),
			    realpath_of(example_path("thread_exec")));
	assert_string_equal(json_string_value(json_array_get(
				    json_object_get(exec, "argv"), 1)),
			    "--after-exec");

	root = trace_process(&r, pid);
	assert_int_equal(trace_process_count(&r), 1);
	assert_int_equal(json_array_size(json_object_get(root, "programs")), 2);
	assert_int_equal(json_int(root, "exit_code"), 0);
	trace_result_free(&r);
}

static void
segv_child_killed(void **state)
{
	struct trace_result r;
	json_t *fork, *signal, *child;
	pid_t pid;

	(void)state;
	trace_example(&r, "segv");
	assert_int_equal(r.exit_code, 0);
	fork = trace_event(&r, "fork", trace_root_pid(&r), 0);
	assert_non_null(fork);
	pid = (pid_t)json_int(fork, "child");

	signal = trace_event(&r, "signal", pid, 0);
	assert_non_null(signal);
	assert_string_equal(json_str(signal, "signal"), "SIGSEGV");
	assert_string_equal(json_str(signal, "code"), "SEGV_MAPERR");
	assert_string_equal(json_str(signal, "addr"), "0x0");
	assert_null(json_object_get(signal, "sender"));

	child = trace_process(&r, pid);
	assert_string_equal(json_str(child, "signal"), "SIGSEGV");
	assert_false(json_is_true(json_object_get(child, "core_dumped")));
	assert_null(json_object_get(child, "exit_code"));
	trace_result_free(&r);
}

/* Returns the nth signal event named name that pid received. */
static json_t *
find_signal(struct trace_result *r, pid_t pid, const char *name)
{
	json_t *e;
	size_t i;

	for (i = 0; (e = trace_event(r, "signal", pid, i)); i++)
		if (!strcmp(json_str(e, "signal"), name))
			return e;
	return NULL;
}

static void
signals_between_relatives(void **state)
{
	struct trace_result r;
	json_t *e;
	pid_t parent, child;

	(void)state;
	trace_example(&r, "signals");
	assert_int_equal(r.exit_code, 0);
	parent = trace_root_pid(&r);
	child = (pid_t)json_int(trace_event(&r, "fork", parent, 0), "child");

	e = find_signal(&r, child, "SIGUSR1");
	assert_non_null(e);
	assert_int_equal(json_int(e, "sender"), parent);
	assert_int_equal(json_int(e, "sender_uid"), (long)getuid());
	assert_string_equal(json_str(e, "code"), "SI_USER");

	e = find_signal(&r, parent, "SIGUSR2");
	assert_non_null(e);
	assert_int_equal(json_int(e, "sender"), child);

	e = find_signal(&r, child, "SIGTERM");
	assert_non_null(e);
	assert_int_equal(json_int(e, "sender"), parent);
	assert_string_equal(json_str(trace_process(&r, child), "signal"),
			    "SIGTERM");
	trace_result_free(&r);
}

static void
fork_many_sees_every_child(void **state)
{
	const char *command[] = { example_path("fork_many"), "2000", NULL };
	struct trace_result r;
	char *seen;
	size_t i, forks = 0, exits = 0;

	(void)state;
	assert_int_equal(trace_run(&r, NULL, command), 0);
	assert_false(r.timed_out);
	assert_int_equal(r.exit_code, 0);
	assert_string_equal(r.out, "forked 2000\n");

	seen = calloc(4 * 1024 * 1024, 1);
	for (i = 0; i < r.count; i++) {
		json_t *e = r.events[i];
		const char *kind = json_str(e, "event");
		long child = json_int(e, "child");

		if (!strcmp(kind, "fork")) {
			assert_true(child > 0 && child < 4 * 1024 * 1024);
			/* Each pid is forked at most once in a 2000 run,
			 * far below pid_max. */
			assert_int_equal(seen[child], 0);
			seen[child] = 1;
			forks++;
		} else if (!strcmp(kind, "exit") &&
			   json_int(e, "pid") != trace_root_pid(&r)) {
			assert_int_equal(seen[json_int(e, "pid")], 1);
			seen[json_int(e, "pid")] = 2;
			assert_int_equal(json_int(e, "exit_code"), 0);
			exits++;
		}
	}
	free(seen);
	assert_int_equal(forks, 2000);
	assert_int_equal(exits, 2000);
	assert_int_equal(trace_process_count(&r), 2001);
	assert_int_equal(json_int(r.summary, "processes"), 2001);
	trace_result_free(&r);
}

static void
clone_parent_and_clone3(void **state)
{
	struct trace_result r;
	json_t *root;

	(void)state;
	trace_example(&r, "clone_parent");
	assert_int_equal(r.exit_code, 0);
	root = trace_process(&r, trace_root_pid(&r));
	/* The CLONE_PARENT sibling stays under the process that made it. */
	assert_int_equal(child_count(root), 2);
	assert_int_equal(json_int(child_at(root, 0), "exit_code"), 5);
	assert_int_equal(json_int(child_at(root, 1), "exit_code"), 6);
	trace_result_free(&r);
}

static void
leader_exits_before_threads(void **state)
{
	struct trace_result r;
	json_t *root, *threads;

	(void)state;
	trace_example(&r, "leader_exit");
	assert_int_equal(r.exit_code, 5);
	root = trace_process(&r, trace_root_pid(&r));
	assert_int_equal(json_int(root, "exit_code"), 5);
	threads = json_object_get(root, "threads");
	assert_int_equal(json_array_size(threads), 2);
	/* Thread A returned; thread B called exit(5). */
	assert_int_equal(json_int(json_array_get(threads, 0), "exit_code"), 0);
	assert_int_equal(json_int(json_array_get(threads, 1), "exit_code"), 5);
	assert_int_equal(trace_count(&r, "thread", 0), 2);
	trace_result_free(&r);
}

static void
orphan_stays_under_parent(void **state)
{
	struct trace_result r;
	json_t *root, *child, *grandchild;

	(void)state;
	trace_example(&r, "orphan");
	assert_int_equal(r.exit_code, 0);
	assert_string_equal(r.out, "orphan reparented\n");
	root = trace_process(&r, trace_root_pid(&r));
	assert_int_equal(child_count(root), 1);
	child = child_at(root, 0);
	assert_int_equal(child_count(child), 1);
	grandchild = child_at(child, 0);
	assert_int_equal(json_int(grandchild, "ppid"), json_int(child, "pid"));
	assert_int_equal(json_int(grandchild, "exit_code"), 0);
	trace_result_free(&r);
}

static void
ptrace_inside_family_fails(void **state)
{
	struct trace_result r;

	(void)state;
	trace_example(&r, "ptrace_self");
	assert_int_equal(r.exit_code, 0);
	assert_string_equal(r.out, "traceme: Operation not permitted\n"
				   "attach: Operation not permitted\n");
	assert_int_equal(trace_process_count(&r), 2);
	trace_result_free(&r);
}

static void
job_control_stop_continue(void **state)
{
	struct trace_result r;
	json_t *stop;
	pid_t child;

	(void)state;
	trace_example(&r, "job_control");
	/* The parent's waitpid() saw stopped, continued, exited 4. */
	assert_string_equal(r.out, "stopped\ncontinued\nexited 4\n");
	assert_int_equal(r.exit_code, 0);
	child = (pid_t)json_int(trace_event(&r, "fork", trace_root_pid(&r), 0),
				"child");
	stop = trace_event(&r, "stop", child, 0);
	assert_non_null(stop);
	assert_string_equal(json_str(stop, "signal"), "SIGSTOP");
	assert_int_equal(trace_count(&r, "stop", child), 1);
	assert_int_equal(trace_count(&r, "continue", child), 1);
	assert_int_equal(json_int(trace_process(&r, child), "exit_code"), 4);
	trace_result_free(&r);
}

static void
thread_forks_own_stack(void **state)
{
	struct trace_result r;
	json_t *thread, *fork;

	(void)state;
	trace_example(&r, "thread_fork");
	assert_int_equal(r.exit_code, 0);
	thread = trace_event(&r, "thread", trace_root_pid(&r), 0);
	fork = trace_event(&r, "fork", trace_root_pid(&r), 0);
	assert_non_null(thread);
	assert_non_null(fork);
	/* The fork came from the thread, not from the leader. */
	assert_int_equal(json_int(fork, "tid"), json_int(thread, "child"));
	assert_int_equal(
		json_int(trace_process(&r, (pid_t)json_int(fork, "child")),
			 "exit_code"),
		0);
	trace_result_free(&r);
}

/*
 * Each run of exec_races_fork is likely, not certain, to have a fork whose
 * event the exec kills: stacks of every thread at each fork slow the
 * tracer, so that the forking threads queue in their fork event stops.
 */
#define EXEC_RACE_RUNS 6

static void
exec_keeps_forks_it_raced(void **state)
{
	const char *options[] = { "--stacks=all", NULL };
	const char *command[] = { example_path("exec_races_fork"), "8", NULL };
	size_t run, runs = EXEC_RACE_RUNS;

	(void)state;
	/*
	 * Under valgrind the stacks of 8 threads at each fork take minutes:
	 * one run of 2 threads without stacks checks only the bookkeeping.
	 */
	if (forktrace_wrapped()) {
		options[0] = "--stacks=none";
		command[1] = "2";
		runs = 1;
	}
	for (run = 0; run < runs; run++) {
		struct trace_result r;
		json_t *root;

		assert_int_equal(trace_run(&r, options, command), 0);
		assert_false(r.timed_out);
		/* A child held for good would leave the reaper to its alarm. */
		assert_int_equal(r.exit_code, 0);
		assert_non_null(strstr(r.out, "reaped "));
		root = trace_process(&r, trace_root_pid(&r));
		assert_int_equal(json_int(root, "exit_code"), 0);
		/* Every child is in the tree under a fork event. */
		assert_int_equal(trace_count(&r, "fork", 0),
				 trace_process_count(&r) - 1);
		trace_result_free(&r);
	}
}

/* Runs a Python example with Debian's interpreter, not a PATH shim. */
static void
trace_python(struct trace_result *r, const char *script)
{
	const char *command[] = { "/usr/bin/python3", source_path(script),
				  NULL };

	assert_int_equal(trace_run(r, NULL, command), 0);
	assert_false(r->timed_out);
	assert_non_null(r->summary);
}

static void
python_fork(void **state)
{
	struct trace_result r;
	json_t *root, *child;

	(void)state;
	trace_python(&r, "examples/py_fork.py");
	assert_int_equal(r.exit_code, 0);
	root = trace_process(&r, trace_root_pid(&r));
	assert_string_equal(json_str(root, "path"),
			    realpath_of("/usr/bin/python3"));
	assert_int_equal(child_count(root), 1);
	child = child_at(root, 0);
	assert_int_equal(json_int(child, "exit_code"), 0);
	assert_non_null(strstr(r.out, "parent pid"));
	assert_non_null(strstr(r.out, "child pid"));
	trace_result_free(&r);
}

static void
python_pool_four_workers(void **state)
{
	struct trace_result r;
	json_t *root;
	size_t i;

	(void)state;
	trace_python(&r, "examples/py_pool.py");
	assert_int_equal(r.exit_code, 0);
	assert_string_equal(r.out, "2470\n");
	root = trace_process(&r, trace_root_pid(&r));
	assert_int_equal(child_count(root), 4);
	for (i = 0; i < 4; i++) {
		json_t *worker = child_at(root, i);

		assert_string_equal(json_str(worker, "origin"), "fork");
		assert_int_equal(json_int(worker, "exit_code"), 0);
		assert_int_equal(child_count(worker), 0);
	}
	/* The pool's helper threads live in the parent. */
	assert_true(json_array_size(json_object_get(root, "threads")) >= 3);
	trace_result_free(&r);
}

static void
python_forking_server(void **state)
{
	struct trace_result r;
	json_t *root;
	size_t i;

	(void)state;
	trace_python(&r, "examples/py_forking_server.py");
	assert_int_equal(r.exit_code, 0);
	assert_string_equal(r.out, "hello 1\nhello 2\nhello 3\n");
	root = trace_process(&r, trace_root_pid(&r));
	/* One forked handler per request. */
	assert_int_equal(child_count(root), 3);
	for (i = 0; i < 3; i++)
		assert_int_equal(json_int(child_at(root, i), "exit_code"), 0);
	trace_result_free(&r);
}

static void
python_kill_child(void **state)
{
	struct trace_result r;
	json_t *signal;
	pid_t child;

	(void)state;
	trace_python(&r, "examples/py_kill.py");
	assert_int_equal(r.exit_code, 0);
	assert_string_equal(r.out, "child killed by SIGTERM\n");
	child = (pid_t)json_int(trace_event(&r, "fork", trace_root_pid(&r), 0),
				"child");
	signal = find_signal(&r, child, "SIGTERM");
	assert_non_null(signal);
	assert_int_equal(json_int(signal, "sender"), trace_root_pid(&r));
	assert_string_equal(json_str(trace_process(&r, child), "signal"),
			    "SIGTERM");
	trace_result_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fork_tree_family_shape),
		cmocka_unit_test(vfork_then_exec),
		cmocka_unit_test(thread_exec_keeps_pid),
		cmocka_unit_test(segv_child_killed),
		cmocka_unit_test(signals_between_relatives),
		cmocka_unit_test(fork_many_sees_every_child),
		cmocka_unit_test(clone_parent_and_clone3),
		cmocka_unit_test(leader_exits_before_threads),
		cmocka_unit_test(orphan_stays_under_parent),
		cmocka_unit_test(ptrace_inside_family_fails),
		cmocka_unit_test(job_control_stop_continue),
		cmocka_unit_test(thread_forks_own_stack),
		cmocka_unit_test(exec_keeps_forks_it_raced),
		cmocka_unit_test(python_fork),
		cmocka_unit_test(python_pool_four_workers),
		cmocka_unit_test(python_forking_server),
		cmocka_unit_test(python_kill_child),
	};

	return cmocka_run_group_tests_name("examples", tests, NULL, NULL);
}
