/*
 * Integration tests of Python frames: CPython programs run under the real
 * forktrace, and their stacks must name the Python function, file and
 * line of each marked call, in place of the interpreter's eval loop.
 * They run Debian's /usr/bin/python3, the CPython 3.11 that the tests'
 * machines have, and are skipped without it.  Those that hold for every
 * version run again with the CPython 3.13 and 3.14 that `make pythons`
 * unpacks from Debian's packages into the build, where it did.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "forktrace/python.h"
#include "harness.h"

/* A CPython to run the tests with. */
struct interpreter {
	const char *path;
	bool thread_names; /* forktrace reads threading.Thread names */
	/*
	 * Each C call of the eval loop marks its native stack frame, from
	 * 3.12: a call that has not yet pushed a Python frame stays native.
	 */
	bool shim_frames;
};

static const struct interpreter python_3_11 = {
	.path = "/usr/bin/python3",
	.thread_names = true,
};
static const struct interpreter python_3_13 = {
	.path = FT_SOURCE_DIR "/build/pythons/python3.13",
	.thread_names = true,
	.shim_frames = true,
};
static const struct interpreter python_3_14 = {
	.path = FT_SOURCE_DIR "/build/pythons/python3.14",
	.thread_names = true,
	.shim_frames = true,
};

/* The interpreter of the running test. */
static const struct interpreter *python = &python_3_11;

static const char *
base_name(const char *path)
{
	const char *slash = path ? strrchr(path, '/') : NULL;

	return slash ? slash + 1 : path;
}

/* Returns the index of the first Python frame named function, or -1. */
static long
python_frame(json_t *stack, const char *function)
{
	json_t *frame;
	size_t i;

	json_array_foreach(stack, i, frame)
	{
		const char *name = json_str(frame, "function");

		if (json_is_true(json_object_get(frame, "python")) && name &&
		    !strcmp(name, function))
			return (long)i;
	}
	return -1;
}

/* Returns the index of the innermost Python frame of a stack, or -1. */
static long
first_python_frame(json_t *stack)
{
	json_t *frame;
	size_t i;

	json_array_foreach(stack, i, frame)
	{
		if (json_is_true(json_object_get(frame, "python")))
			return (long)i;
	}
	return -1;
}

/* Counts the frames of a stack that are Python frames. */
static size_t
python_frame_count(json_t *stack)
{
	json_t *frame;
	size_t i, count = 0;

	json_array_foreach(stack, i, frame) if (json_is_true(json_object_get(
							frame, "python")))
		count++;
	return count;
}

/* Checks that frame index of stack is at the marked line of a source. */
static void
assert_python_frame_at(json_t *stack, long index, const char *source,
		       const char *site)
{
	json_t *frame = json_array_get(stack, (size_t)index);

	assert_true(index >= 0);
	assert_string_equal(base_name(json_str(frame, "file")),
			    base_name(source));
	assert_int_equal(json_int(frame, "line"), marker_line(source, site));
	assert_null(json_object_get(frame, "pc"));
}

/* Picks the test's interpreter: the state, or Debian's CPython 3.11. */
static int
pick_python(void **state)
{
	python = *state ? *state : &python_3_11;
	return 0;
}

/* Skips the test when its interpreter is not installed. */
static void
require_python(void)
{
	if (access(python->path, X_OK) != 0)
		skip();
}

/* A test run with the interpreter given, or with CPython 3.11 (NULL). */
#define python_test(test, interpreter)                                    \
	cmocka_unit_test_prestate_setup_teardown(test, pick_python, NULL, \
						 (void *)(interpreter))

/* Runs examples/family.py under forktrace with options. */
static void
trace_family(struct trace_result *r, const char *option)
{
	const char *options[] = { option, NULL };
	const char *command[] = { python->path,
				  source_path("examples/family.py"), NULL };

	assert_int_equal(trace_run(r, option ? options : NULL, command), 0);
	assert_false(r->timed_out);
	assert_int_equal(r->exit_code, 0);
	assert_int_equal(trace_count(r, "fork", trace_root_pid(r)), 3);
}

static void
fork_stack_names_spawn_children(void **state)
{
	struct trace_result r;
	json_t *fork, *stack;
	long spawn, caller, module;
	size_t i;

	(void)state;
	require_python();
	trace_family(&r, NULL);
	for (i = 0; i < 3; i++) {
		fork = trace_event(&r, "fork", trace_root_pid(&r), i);
		stack = json_object_get(fork, "stack");
		spawn = python_frame(stack, "spawn_children");
		assert_python_frame_at(stack, spawn, "examples/family.py",
				       "spawn_children");
		/* Native frames come first: libc's fork, then os.fork. */
		assert_true(spawn > 0);
		assert_non_null(
			strstr(json_str(json_array_get(stack, 0), "module"),
			       "libc.so"));
		/* Its callers follow, outermost last. */
		caller = python_frame(stack, "main");
		module = python_frame(stack, "<module>");
		assert_int_equal(caller, spawn + 1);
		assert_int_equal(module, spawn + 2);
		assert_null(json_object_get(fork, "python_note"));
		/* The forking thread runs Python code: it holds the GIL. */
		assert_true(json_is_true(json_object_get(fork, "python_gil")));
	}
	trace_result_free(&r);
}

static void
python_off_keeps_eval_loop(void **state)
{
	struct trace_result r;
	json_t *stack;
	bool eval = false;
	json_t *frame;
	size_t i;

	(void)state;
	require_python();
	trace_family(&r, "--python=off");
	stack = json_object_get(trace_event(&r, "fork", 0, 0), "stack");
	assert_int_equal(python_frame_count(stack), 0);
	json_array_foreach(stack, i, frame)
	{
		const char *name = json_str(frame, "function");

		if (name && !strcmp(name, "_PyEval_EvalFrameDefault"))
			eval = true;
	}
	assert_true(eval);
	trace_result_free(&r);
}

static void
python_only_drops_native(void **state)
{
	struct trace_result r;
	json_t *stack;

	(void)state;
	require_python();
	trace_family(&r, "--python=only");
	stack = json_object_get(trace_event(&r, "fork", 0, 0), "stack");
	assert_int_equal(json_array_size(stack), 3);
	assert_int_equal(python_frame_count(stack), 3);
	assert_python_frame_at(stack, 0, "examples/family.py",
			       "spawn_children");
	trace_result_free(&r);
}

static void
text_timeline_shows_python_line(void **state)
{
	const char *args[] = { python->path, source_path("examples/family.py"),
			       NULL };
	char expected[64];
	struct trace_result r;

	(void)state;
	require_python();
	assert_int_equal(forktrace_run(&r, args), 0);
	assert_int_equal(r.exit_code, 0);
	snprintf(expected, sizeof(expected), "at spawn_children (family.py:%d)",
		 marker_line("examples/family.py", "spawn_children"));
	assert_non_null(strstr(r.err, expected));
	trace_result_free(&r);
}

static void
thread_event_names_creator(void **state)
{
	const char *command[] = { python->path,
				  source_path("examples/py_threads.py"), NULL };
	struct trace_result r;
	json_t *thread, *stack;
	size_t i;

	(void)state;
	require_python();
	assert_int_equal(trace_run(&r, NULL, command), 0);
	assert_int_equal(r.exit_code, 0);
	assert_int_equal(trace_count(&r, "thread", trace_root_pid(&r)), 20);
	/*
	 * CPython 3.11 gives a thread's new state its creator's thread id
	 * until it starts: the creator's own frames must be the ones shown.
	 */
	for (i = 0; i < 20; i++) {
		thread = trace_event(&r, "thread", trace_root_pid(&r), i);
		stack = json_object_get(thread, "stack");
		assert_true(python_frame(stack, "Thread.start") >= 0);
		assert_true(python_frame(stack, "main") >
			    python_frame(stack, "Thread.start"));
		assert_true(
			json_is_true(json_object_get(thread, "python_gil")));
	}
	trace_result_free(&r);
}

static void
invalid_python_mode_rejected(void **state)
{
	const char *args[] = { "--python=all", "true", NULL };
	struct trace_result r;

	(void)state;
	assert_int_equal(forktrace_run(&r, args), 0);
	assert_int_equal(r.exit_code, 2);
	assert_non_null(strstr(r.err, "invalid --python value 'all'"));
	trace_result_free(&r);
}

/*
 * Starts an example script with its stdin on a pipe and waits for its
 * "ready".  Returns its pid; *hold is the pipe's write end.
 */
static pid_t
start_waiting_example(const char *script, int *hold)
{
	int in[2], out[2];
	char buf[64];
	size_t len = 0;
	ssize_t n;
	pid_t pid;
	struct pollfd pfd;

	assert_int_equal(pipe2(in, O_CLOEXEC), 0);
	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		execl(python->path, python->path, source_path(script),
		      (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	pfd.fd = out[0];
	pfd.events = POLLIN;
	/* The line can come in more than one write. */
	while (len < sizeof(buf) - 1 && !memchr(buf, '\n', len)) {
		assert_int_equal(poll(&pfd, 1, TRACE_TIMEOUT * 1000), 1);
		n = read(out[0], buf + len, sizeof(buf) - 1 - len);
		assert_true(n > 0);
		len += (size_t)n;
	}
	buf[len] = '\0';
	assert_string_equal(buf, "ready\n");
	close(out[0]);
	*hold = in[1];
	return pid;
}

/* Waits up to TRACE_TIMEOUT seconds for child pid; returns its code. */
static int
wait_exit_code(pid_t pid)
{
	int status = 0;

	alarm(TRACE_TIMEOUT);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	alarm(0);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void
snapshot_shows_each_thread_stack(void **state)
{
	char list[16];
	const char *options[] = { "--snapshot", "-p", list, NULL };
	const char *command[] = { NULL };
	struct trace_result r;
	json_t *snapshot, *threads, *thread, *stack;
	size_t i, index, waiters = 0, depths[5] = { 0 }, named[20] = { 0 };
	const char *thread_name;
	int hold;
	pid_t pid;

	(void)state;
	require_python();
	pid = start_waiting_example("examples/py_threads.py", &hold);
	snprintf(list, sizeof(list), "%d", (int)pid);
	assert_int_equal(trace_run(&r, options, command), 0);
	assert_int_equal(r.exit_code, 0);
	snapshot = trace_event(&r, "snapshot", 0, 0);
	assert_non_null(snapshot);
	assert_int_equal(json_int(snapshot, "threads"), 21);
	threads = json_object_get(
		json_array_get(json_object_get(snapshot, "tree"), 0),
		"threads");
	assert_int_equal(json_array_size(threads), 21);
	json_array_foreach(threads, i, thread)
	{
		long first;
		size_t depth = 0, j;

		stack = json_object_get(thread, "stack");
		assert_non_null(stack);
		assert_null(json_object_get(thread, "python_note"));
		/* Every thread waits in a read, with the GIL released. */
		assert_true(
			json_is_false(json_object_get(thread, "python_gil")));
		if (json_int(thread, "tid") == pid) {
			assert_python_frame_at(
				stack, python_frame(stack, "main"),
				"examples/py_threads.py", "main_waits");
			continue;
		}
		first = python_frame(stack, "wait_in_layer");
		assert_python_frame_at(stack, first, "examples/py_threads.py",
				       "wait_in_layer");
		for (j = (size_t)first; j < json_array_size(stack); j++) {
			const char *name =
				json_str(json_array_get(stack, j), "function");

			if (name && !strcmp(name, "wait_in_layer"))
				depth++;
		}
		assert_true(depth >= 1 && depth <= 4);
		depths[depth]++;
		assert_true(python_frame(stack, "Thread.run") > first);
		/*
		 * Thread i is named waiter-i by the program and recursed
		 * i % 4 + 1 levels: the name belongs to this stack.
		 */
		waiters++;
		if (!python->thread_names)
			continue;
		thread_name = json_str(thread, "python_thread");
		assert_non_null(thread_name);
		assert_int_equal(strncmp(thread_name, "waiter-", 7), 0);
		index = (size_t)atoi(thread_name + 7) % 20;
		assert_int_equal(depth, index % 4 + 1);
		named[index]++;
	}
	/* Thread i recursed i % 4 + 1 levels: five threads at each depth. */
	assert_int_equal(waiters, 20);
	for (i = 1; i <= 4; i++)
		assert_int_equal(depths[i], 5);
	for (i = 0; i < 20 && python->thread_names; i++)
		assert_int_equal(named[i], 1);
	trace_result_free(&r);

	close(hold);
	assert_int_equal(wait_exit_code(pid), 0);
}

static void
pool_stacks_show_pool_and_task(void **state)
{
	const char *command[] = { python->path,
				  source_path("examples/py_pool.py"), NULL };
	char list[16];
	const char *options[] = { "--snapshot", "-p", list, NULL };
	const char *attach[] = { NULL };
	struct trace_result r;
	json_t *stack, *snapshot, *root, *worker;
	size_t i, tasks = 0;
	int hold;
	pid_t pid;

	(void)state;
	require_python();
	/* The workers are forked by the Pool, from the user's main(). */
	assert_int_equal(trace_run(&r, NULL, command), 0);
	assert_int_equal(r.exit_code, 0);
	assert_int_equal(trace_count(&r, "fork", trace_root_pid(&r)), 4);
	for (i = 0; i < 4; i++) {
		stack = json_object_get(
			trace_event(&r, "fork", trace_root_pid(&r), i),
			"stack");
		assert_true(python_frame(stack, "Pool._repopulate_pool_"
						"static") >= 0);
		assert_true(python_frame(stack, "main") >= 0);
	}
	trace_result_free(&r);

	/* A snapshot finds each worker inside the user's task. */
	pid = start_waiting_example("examples/py_pool_task.py", &hold);
	snprintf(list, sizeof(list), "%d", (int)pid);
	assert_int_equal(trace_run(&r, options, attach), 0);
	assert_int_equal(r.exit_code, 0);
	snapshot = trace_event(&r, "snapshot", 0, 0);
	root = json_array_get(json_object_get(snapshot, "tree"), 0);
	json_array_foreach(json_object_get(root, "children"), i, worker)
	{
		stack = json_object_get(
			json_array_get(json_object_get(worker, "threads"), 0),
			"stack");
		if (python_frame(stack, "wait_for_release") < 0)
			continue;
		assert_python_frame_at(
			stack, python_frame(stack, "wait_for_release"),
			"examples/py_pool_task.py", "task_waits");
		assert_true(python_frame(stack, "worker") >
			    python_frame(stack, "wait_for_release"));
		tasks++;
	}
	assert_int_equal(tasks, 2);
	trace_result_free(&r);
	close(hold);
	assert_int_equal(wait_exit_code(pid), 0);
}

static void
line_table_of_three_lines(void **state)
{
	/*
	 * Three entries: 2 code units with no column (line +1), 3 units on
	 * the same line (short form), then 1 unit two lines further
	 * (one-line form, code 12) with its two column bytes.
	 */
	const unsigned char table[] = { 0x80 | 13 << 3 | 1,
					0x02,
					0x80 | 0 << 3 | 2,
					0x00,
					0x80 | 12 << 3 | 0,
					0x04,
					0x08 };

	(void)state;
	assert_int_equal(python_line_for_index(table, sizeof(table), 10, -1),
			 10);
	assert_int_equal(python_line_for_index(table, sizeof(table), 10, 0),
			 11);
	assert_int_equal(python_line_for_index(table, sizeof(table), 10, 1),
			 11);
	assert_int_equal(python_line_for_index(table, sizeof(table), 10, 4),
			 11);
	assert_int_equal(python_line_for_index(table, sizeof(table), 10, 5),
			 13);
	assert_int_equal(python_line_for_index(table, sizeof(table), 10, 6), 0);
}

static void
line_table_long_form_and_none(void **state)
{
	/*
	 * A long form entry (code 14): line delta -3 as a signed varint
	 * (7), end line, column and end column; then one with no location.
	 */
	const unsigned char table[] = {
		0x80 | 14 << 3 | 0, 0x07, 0x00, 0x01, 0x02, 0x80 | 15 << 3 | 0
	};

	(void)state;
	assert_int_equal(python_line_for_index(table, sizeof(table), 20, 0),
			 17);
	assert_int_equal(python_line_for_index(table, sizeof(table), 20, 1), 0);
	/* A line delta far beyond any file's end gives no line. */
	assert_int_equal(
		python_line_for_index(
			(const unsigned char[]){ 0x80 | 13 << 3, 0x7f, 0x7f,
						 0x7f, 0x7f, 0x7f, 0x3f },
			7, 20, 0),
		0);
	/* A byte without the top bit where an entry should start. */
	assert_int_equal(
		python_line_for_index((const unsigned char *)"\x01", 1, 20, 0),
		0);
}

static void
signal_stops_never_mix_frames(void **state)
{
	const char *command[] = { python->path,
				  source_path("examples/py_signal_race.py"),
				  NULL };
	struct trace_result r;
	size_t i, signals = 0, merged = 0;
	json_t *event;

	(void)state;
	require_python();
	assert_int_equal(trace_run(&r, NULL, command), 0);
	assert_int_equal(r.exit_code, 0);
	for (i = 0; (event = trace_event(&r, "signal", trace_root_pid(&r), i));
	     i++) {
		json_t *stack = json_object_get(event, "stack");
		long key, work, module;
		json_t *frame;
		size_t j;

		if (strcmp(json_str(event, "signal"), "SIGABRT"))
			continue;
		signals++;
		if (!python_frame_count(stack))
			continue;
		merged++;
		/*
		 * Stopped anywhere in the eval loop, a stack is merged right
		 * or not at all: no eval frame is left beside Python frames.
		 */
		json_array_foreach(stack, j, frame)
		{
			const char *name = json_str(frame, "function");
			bool eval = name &&
				    !strcmp(name, "_PyEval_EvalFrameDefault");

			/* Only a call just entered, inner to every Python
			 * frame, may stay native. */
			if (python->shim_frames && eval)
				assert_true((long)j <
					    first_python_frame(stack));
			else
				assert_false(eval);
		}
		key = python_frame(stack, "key");
		work = python_frame(stack, "work");
		module = python_frame(stack, "<module>");
		assert_true(module >= 0);
		/* <module> is the outermost Python frame. */
		for (j = (size_t)module + 1; j < json_array_size(stack); j++)
			assert_false(json_is_true(json_object_get(
				json_array_get(stack, j), "python")));
		if (work >= 0)
			assert_true(work < module);
		if (key >= 0)
			assert_true(key < work);
	}
	/*
	 * Two signals sent while the parent is stopped become one, so fewer
	 * than 300 may arrive when forktrace is slow, as under valgrind.
	 * The checks above are not vacuous: most stacks are merged.  A slow
	 * forktrace releases the parent with the next signal already
	 * pending, so that many stops fall in the eval loop's bookkeeping:
	 * under a wrapper, some merged stacks suffice.
	 */
	assert_true(signals >= 100);
	if (forktrace_wrapped())
		assert_true(merged >= 10);
	else
		assert_true(merged * 2 >= signals);
	trace_result_free(&r);
}

/* Writes text to a new file at path. */
static void
write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	assert_true(fputs(text, fp) >= 0);
	assert_int_equal(fclose(fp), 0);
}

/* Traces PYTHON script and returns the root's first fork event's stack. */
static json_t *
trace_script_fork(struct trace_result *r, const char *script)
{
	const char *command[] = { python->path, script, NULL };
	json_t *fork;

	assert_int_equal(trace_run(r, NULL, command), 0);
	assert_int_equal(r->exit_code, 0);
	fork = trace_event(r, "fork", trace_root_pid(r), 0);
	assert_non_null(fork);
	return json_object_get(fork, "stack");
}

/*
 * A stack of more Python frames than are kept: the frames kept still go
 * in place of their eval call, before the interpreter's outer frames.
 */
static void
deep_stack_cut_in_place(void **state)
{
	char path[512];
	struct trace_result r;
	json_t *stack;
	long first;

	(void)state;
	require_python();
	snprintf(path, sizeof(path), "%s/deep.py", test_tmpdir());
	write_file(path, "import os, sys\n"
			 "sys.setrecursionlimit(5000)\n"
			 "def down(n):\n"
			 "    if n == 0:\n"
			 "        pid = os.fork()\n"
			 "        if pid == 0:\n"
			 "            os._exit(0)\n"
			 "        os.waitpid(pid, 0)\n"
			 "        return\n"
			 "    down(n - 1)\n"
			 "down(600)\n");
	stack = trace_script_fork(&r, path);
	first = first_python_frame(stack);
	/* libc's fork and os.fork's C frames, then the kept frames. */
	assert_true(first >= 1 && first <= 4);
	assert_int_equal(json_int(json_array_get(stack, (size_t)first), "line"),
			 5);
	assert_int_equal(python_frame_count(stack),
			 json_array_size(stack) - (size_t)first);
	trace_result_free(&r);
}

/*
 * A thread that runs code in a subinterpreter: the frames of both
 * interpreters, the subinterpreter's innermost.
 */
static void
subinterpreter_frames_both(void **state)
{
	const char *command[] = { python->path, NULL, NULL };
	char path[512];
	struct trace_result r;
	json_t *stack;
	long inner;

	(void)state;
	require_python();
	snprintf(path, sizeof(path), "%s/subinterpreter.py", test_tmpdir());
	write_file(path, "import _interpreters\n"
			 "def outer():\n"
			 "    i = _interpreters.create('legacy')\n"
			 "    _interpreters.run_string(i, 'import os\\n'\n"
			 "        'def inner_sub():\\n'\n"
			 "        '    pid = os.posix_spawn(\"/bin/true\", "
			 "[\"true\"], {})\\n'\n"
			 "        '    os.waitpid(pid, 0)\\n'\n"
			 "        'inner_sub()\\n')\n"
			 "outer()\n");
	command[1] = path;
	assert_int_equal(trace_run(&r, NULL, command), 0);
	assert_int_equal(r.exit_code, 0);
	stack = json_object_get(trace_event(&r, "vfork", trace_root_pid(&r), 0),
				"stack");
	inner = python_frame(stack, "inner_sub");
	assert_true(inner >= 0);
	assert_int_equal(json_int(json_array_get(stack, (size_t)inner), "line"),
			 3);
	assert_int_equal(python_frame(stack, "outer"), inner + 2);
	assert_int_equal(
		json_int(json_array_get(stack, (size_t)inner + 2), "line"), 4);
	assert_int_equal(python_frame_count(stack), 4);
	trace_result_free(&r);
}

static void
long_name_cut_and_walk_goes_on(void **state)
{
	char path[512], *program, *name;
	struct trace_result r;
	json_t *stack;
	long named;

	(void)state;
	require_python();
	/* A function whose name is 5000 letters forks through a helper. */
	name = malloc(5001);
	assert_non_null(name);
	memset(name, 'f', 5000);
	name[5000] = '\0';
	program = malloc(12000);
	assert_non_null(program);
	snprintf(program, 12000,
		 "import os\n"
		 "def fork_now():\n"
		 "    pid = os.fork()\n"
		 "    if pid == 0:\n"
		 "        os._exit(0)\n"
		 "    os.waitpid(pid, 0)\n"
		 "def %s():\n"
		 "    fork_now()\n"
		 "%s()\n",
		 name, name);
	snprintf(path, sizeof(path), "%s/long_name.py", test_tmpdir());
	write_file(path, program);
	stack = trace_script_fork(&r, path);
	named = python_frame(stack, "fork_now");
	assert_true(named >= 0);
	/* The long name is cut, and the frames beyond it are kept. */
	assert_int_equal(
		strlen(json_str(json_array_get(stack, (size_t)named + 1),
				"function")),
		4096 + 3);
	assert_int_equal(python_frame(stack, "<module>"), named + 2);
	assert_int_equal(
		json_int(json_array_get(stack, (size_t)named + 2), "line"), 9);
	trace_result_free(&r);
	free(program);
	free(name);
}

static void
big_line_table_gives_line(void **state)
{
	char path[512], line[64];
	struct trace_result r;
	json_t *stack;
	FILE *fp;
	long module;
	int i;

	(void)state;
	require_python();
	/* 15000 module-level statements: a location table over 64 KiB. */
	snprintf(path, sizeof(path), "%s/big_table.py", test_tmpdir());
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("import os\n", fp);
	for (i = 0; i < 15000; i++) {
		snprintf(line, sizeof(line), "value_%d = %d * 2\n", i, i);
		fputs(line, fp);
	}
	fputs("pid = os.fork()\nif pid == 0:\n    os._exit(0)\n"
	      "os.waitpid(pid, 0)\n",
	      fp);
	assert_int_equal(fclose(fp), 0);
	stack = trace_script_fork(&r, path);
	module = python_frame(stack, "<module>");
	assert_true(module >= 0);
	assert_int_equal(
		json_int(json_array_get(stack, (size_t)module), "line"), 15002);
	trace_result_free(&r);
}

static void
file_name_bytes_kept(void **state)
{
	char path[512];
	struct trace_result r;
	json_t *stack, *file;
	long module;

	(void)state;
	require_python();
	/* Python keeps the byte 0xff of this name as U+DCFF. */
	snprintf(path, sizeof(path),
		 "%s/n\xff"
		 "ame.py",
		 test_tmpdir());
	write_file(path, "import os\npid = os.fork()\nif pid == 0:\n"
			 "    os._exit(0)\nos.waitpid(pid, 0)\n");
	stack = trace_script_fork(&r, path);
	module = python_frame(stack, "<module>");
	assert_true(module >= 0);
	file = json_object_get(json_array_get(stack, (size_t)module), "file");
	/* Not UTF-8: JSON gives the bytes in hex, and they are the path's. */
	assert_true(json_is_object(file));
	assert_non_null(strstr(json_str(file, "hex"), "6eff616d652e7079"));
	trace_result_free(&r);
}

static void
pid_namespace_keeps_frames(void **state)
{
	const char *command[] = { "unshare",
				  "--pid",
				  "--fork",
				  python->path,
				  source_path("examples/family.py"),
				  NULL };
	struct trace_result r;
	json_t *fork;

	(void)state;
	require_python();
	if (geteuid() != 0 || system("unshare --pid --fork true") != 0)
		skip();
	/* CPython there records the thread ids of its own namespace. */
	assert_int_equal(trace_run(&r, NULL, command), 0);
	assert_int_equal(r.exit_code, 0);
	fork = trace_event(&r, "fork", 0, 1);
	assert_non_null(fork);
	assert_python_frame_at(
		json_object_get(fork, "stack"),
		python_frame(json_object_get(fork, "stack"), "spawn_children"),
		"examples/family.py", "spawn_children");
	trace_result_free(&r);
}

static void
unknown_version_gets_note(void **state)
{
	static const uint32_t version_3_12 = 0x030c04f0;
	static const uint32_t version_3_11 = 0x030b02f0;
	static const char runtime[64];
	struct ft_python_runtime found;
	struct ft_python_stack stack;

	(void)state;
	/* The "process" is this test, read through process_vm_readv(). */
	assert_true(python_runtime_find(&found, getpid(),
					(uint64_t)(uintptr_t)runtime,
					(uint64_t)(uintptr_t)&version_3_12));
	assert_int_equal(found.version, version_3_12);
	python_read_stack(&found, getpid(), getpid(), false, &stack);
	assert_int_equal(stack.count, 0);
	assert_int_equal(stack.gil, -1);
	assert_string_equal(stack.note,
			    "Python frames unavailable for CPython 3.12");
	python_stack_free(&stack);
	python_runtime_free(&found);

	assert_true(python_runtime_find(&found, getpid(),
					(uint64_t)(uintptr_t)runtime,
					(uint64_t)(uintptr_t)&version_3_11));
	assert_non_null(found.layout);
	python_runtime_free(&found);
	/* Without the symbols, it is no CPython at all. */
	assert_false(python_runtime_find(&found, getpid(), 0,
					 (uint64_t)(uintptr_t)&version_3_11));
}

static void
empty_runtime_gets_note(void **state)
{
	static const uint32_t version_3_11 = 0x030b02f0;
	static const char runtime[1024];
	struct ft_python_runtime found;
	struct ft_python_stack stack;

	(void)state;
	/* An interpreter with no thread state for this thread yet. */
	assert_true(python_runtime_find(&found, getpid(),
					(uint64_t)(uintptr_t)runtime,
					(uint64_t)(uintptr_t)&version_3_11));
	python_read_stack(&found, getpid(), getpid(), true, &stack);
	assert_int_equal(stack.count, 0);
	assert_null(stack.thread_name);
	assert_string_equal(stack.note,
			    "no Python thread state for this thread");
	python_stack_free(&stack);
	python_runtime_free(&found);
}

/* Returns the note for a 3.13 runtime state that starts with words. */
static const char *
debug_offsets_note(const uint64_t *words, char *note, size_t size)
{
	static const uint32_t version_3_13 = 0x030d05f0;
	struct ft_python_runtime found;
	struct ft_python_stack stack;

	assert_true(python_runtime_find(&found, getpid(),
					(uint64_t)(uintptr_t)words,
					(uint64_t)(uintptr_t)&version_3_13));
	python_read_stack(&found, getpid(), getpid(), false, &stack);
	assert_int_equal(stack.count, 0);
	snprintf(note, size, "%s", stack.note);
	python_stack_free(&stack);
	python_runtime_free(&found);
	return note;
}

/*
 * The _Py_DebugOffsets of Debian's CPython 3.13.18, after the cookie:
 * the words that forktrace reads, as that interpreter publishes them.
 */
static const uint64_t debug_offsets_3_13[] = {
	51188464, 0,	283408, 608,  632, 194984, 7272, 7264, 7344, 7400, 7656,
	7640,	  7648, 16,	7752, 0,   7768,   7760, 312,  0,    8,	   16,
	72,	  152,	160,	232,  32,  80,	   8,	 0,    56,   72,   70,
	208,	  112,	120,	128,  136, 68,	   52,	 96,   104,  200,  16,
	8,	  416,	24,	88,   168, 32,	   24,	 16,   40,   24,   16,
	48,	  32,	40,	24,   16,  32,	   16,	 24,   40,   16,   32,
	64,	  32,	16,	40,   240, 200
};

/* Fills words with the cookie and the offsets of CPython 3.13. */
static void
good_debug_offsets(uint64_t *words)
{
	memset(words, 0, 96 * sizeof(*words));
	memcpy(words, "xdebugpy", 8);
	memcpy(words + 1, debug_offsets_3_13, sizeof(debug_offsets_3_13));
	words[1] = 0x030d05f0;
}

static void
debug_offsets_checked(void **state)
{
	/* Where the bytes of a bytes object start, where a frame's owner
	 * is, and how big a frame is: each must fit what is copied. */
	static const struct {
		unsigned word;
		uint64_t value;
	} bad[] = {
		{ 66, 64 },	     { 65, 0x100000000000 },
		{ 65, 32 },	     { 33, 80 },
		{ 28, 4096 },	     { 43, 2048 },
		{ 37, 207 },	     { 70, 90 },
		{ 8, (uint64_t)-4 },
	};
	static uint64_t words[96];
	char note[128];
	size_t i;

	(void)state;
	assert_string_equal(debug_offsets_note(words, note, sizeof(note)),
			    "no debug offsets in CPython 3.13");

	good_debug_offsets(words);
	/* A layout that holds: this test has no thread state to find. */
	assert_string_equal(debug_offsets_note(words, note, sizeof(note)),
			    "no Python thread state for this thread");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		good_debug_offsets(words);
		words[bad[i].word] = bad[i].value;
		assert_string_equal(
			debug_offsets_note(words, note, sizeof(note)),
			"invalid debug offsets in CPython 3.13");
	}

	good_debug_offsets(words);
	words[2] = 1;
	assert_string_equal(debug_offsets_note(words, note, sizeof(note)),
			    "Python frames unavailable for free-threaded "
			    "CPython 3.13");

	good_debug_offsets(words);
	words[1] = 0x030e00f0;
	assert_string_equal(debug_offsets_note(words, note, sizeof(note)),
			    "no debug offsets in CPython 3.13");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		python_test(deep_stack_cut_in_place, &python_3_13),
		python_test(deep_stack_cut_in_place, &python_3_14),
		python_test(subinterpreter_frames_both, &python_3_13),
		python_test(subinterpreter_frames_both, &python_3_14),
		cmocka_unit_test(line_table_of_three_lines),
		cmocka_unit_test(line_table_long_form_and_none),
		cmocka_unit_test(unknown_version_gets_note),
		cmocka_unit_test(empty_runtime_gets_note),
		cmocka_unit_test(debug_offsets_checked),
		python_test(fork_stack_names_spawn_children, NULL),
		python_test(python_off_keeps_eval_loop, NULL),
		python_test(python_only_drops_native, NULL),
		python_test(text_timeline_shows_python_line, NULL),
		python_test(thread_event_names_creator, NULL),
		cmocka_unit_test(invalid_python_mode_rejected),
		python_test(snapshot_shows_each_thread_stack, NULL),
		python_test(pool_stacks_show_pool_and_task, NULL),
		python_test(signal_stops_never_mix_frames, NULL),
		python_test(long_name_cut_and_walk_goes_on, NULL),
		python_test(big_line_table_gives_line, NULL),
		python_test(file_name_bytes_kept, NULL),
		python_test(pid_namespace_keeps_frames, NULL),
		python_test(fork_stack_names_spawn_children, &python_3_13),
		python_test(python_only_drops_native, &python_3_13),
		python_test(text_timeline_shows_python_line, &python_3_13),
		python_test(thread_event_names_creator, &python_3_13),
		python_test(snapshot_shows_each_thread_stack, &python_3_13),
		python_test(pool_stacks_show_pool_and_task, &python_3_13),
		python_test(signal_stops_never_mix_frames, &python_3_13),
		python_test(fork_stack_names_spawn_children, &python_3_14),
		python_test(python_only_drops_native, &python_3_14),
		python_test(text_timeline_shows_python_line, &python_3_14),
		python_test(thread_event_names_creator, &python_3_14),
		python_test(snapshot_shows_each_thread_stack, &python_3_14),
		python_test(pool_stacks_show_pool_and_task, &python_3_14),
		python_test(signal_stops_never_mix_frames, &python_3_14),
	};

	return cmocka_run_group_tests_name("python", tests, NULL, NULL);
}
