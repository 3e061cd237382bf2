/*
 * Integration tests of the stacks: real examples built with -g run under
 * forktrace --json, and the frames must name the exact function, file and
 * line of each marked call site.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "harness.h"

static const char *
base_name(const char *path)
{
	const char *slash = path ? strrchr(path, '/') : NULL;

	return slash ? slash + 1 : path;
}

/* Returns the first frame of an event's stack that names function. */
static json_t *
find_frame(json_t *event, const char *function)
{
	json_t *frame;
	size_t i;

	json_array_foreach(json_object_get(event, "stack"), i, frame)
	{
		const char *name = json_str(frame, "function");

		if (name && !strcmp(name, function))
			return frame;
	}
	return NULL;
}

/* Checks that frame is at the marked line of an example's source. */
static void
assert_frame_at_marker(json_t *frame, const char *source, const char *site)
{
	int line = marker_line(source, site);

	assert_non_null(frame);
	assert_true(line > 0);
	assert_string_equal(base_name(json_str(frame, "file")),
			    base_name(source));
	assert_int_equal(json_int(frame, "line"), line);
}

static void
trace_with(struct trace_result *r, const char *stacks, const char *name)
{
	const char *options[] = { stacks, NULL };
	const char *command[] = { example_path(name), NULL };

	assert_int_equal(trace_run(r, stacks ? options : NULL, command), 0);
	assert_false(r->timed_out);
	assert_non_null(r->summary);
}

static void
fork_stack_names_call_site(void **state)
{
	struct trace_result r;
	json_t *fork, *frame;
	size_t i;

	(void)state;
	trace_with(&r, NULL, "fork_tree");
	for (i = 0; i < 3; i++) {
		fork = trace_event(&r, "fork", trace_root_pid(&r), i);
		assert_non_null(fork);
		assert_frame_at_marker(find_frame(fork, "spawn_worker"),
				       "examples/fork_tree.c", "spawn_worker");
		assert_non_null(find_frame(fork, "main"));
	}
	/* The worker that forks again shares its parent's modules. */
	fork = trace_event(&r, "fork", 0, 2);
	frame = find_frame(fork, "spawn_grandchild");
	if (!frame)
		fork = trace_event(&r, "fork", 0, 3);
	assert_frame_at_marker(find_frame(fork, "spawn_grandchild"),
			       "examples/fork_tree.c", "spawn_grandchild");
	/* The first frame is in the C library's fork. */
	frame = json_array_get(json_object_get(fork, "stack"), 0);
	assert_non_null(strstr(json_str(frame, "module"), "libc.so"));
	trace_result_free(&r);
}

/* Returns true when libc6-dbg gives the C library's DWARF. */
static bool
libc_debuginfo_installed(void)
{
	return system("dpkg-query -W -f='${Status}' libc6-dbg 2>/dev/null | "
		      "grep -q 'install ok installed'") == 0;
}

static void
libc_lines_only_when_verbose(void **state)
{
	struct trace_result quiet, verbose;
	json_t *frame;

	(void)state;
	trace_with(&quiet, NULL, "fork_tree");
	frame = json_array_get(
		json_object_get(trace_event(&quiet, "fork", 0, 0), "stack"), 0);
	assert_non_null(strstr(json_str(frame, "module"), "libc.so"));
	assert_non_null(json_str(frame, "function"));
	assert_null(json_object_get(frame, "file"));
	assert_null(json_object_get(frame, "line"));
	trace_result_free(&quiet);

	if (!libc_debuginfo_installed())
		skip();
	trace_with(&verbose, "-v", "fork_tree");
	frame = json_array_get(
		json_object_get(trace_event(&verbose, "fork", 0, 0), "stack"),
		0);
	assert_non_null(strstr(json_str(frame, "module"), "libc.so"));
	assert_non_null(json_str(frame, "file"));
	assert_true(json_int(frame, "line") > 0);
	trace_result_free(&verbose);
}

/* Returns true when a file in dir whose name starts with prefix has text. */
static bool
any_file_contains(const char *dir, const char *prefix, const char *text)
{
	char command[512];

	snprintf(command, sizeof(command), "grep -qs -F '%s' '%s'/'%s'.*", text,
		 dir, prefix);
	return system(command) == 0;
}

static void
no_debuginfod_without_server(void **state)
{
	char output[256], env_output[300];
	const char *command[] = { example_path("fork_tree_stripped"), NULL };
	const char *env[] = { "LD_DEBUG=files", env_output, NULL };
	struct trace_result r;

	(void)state;
	snprintf(output, sizeof(output), "%s/ld-debug", test_tmpdir());
	if (mkdir(output, 0700) < 0 && errno != EEXIST)
		fail_msg("cannot create %s", output);
	snprintf(env_output, sizeof(env_output), "LD_DEBUG_OUTPUT=%s/ld",
		 output);
	unsetenv("DEBUGINFOD_URLS");
	assert_int_equal(trace_run_env(&r, NULL, command, env), 0);
	assert_int_equal(r.exit_code, 0);
	assert_non_null(trace_event(&r, "fork", 0, 0));
	trace_result_free(&r);
	if (!any_file_contains(output, "ld", "libdw"))
		skip(); /* forktrace ran without the loader's LD_DEBUG log */
	/* The module without debug information was looked up on disk only. */
	assert_false(any_file_contains(output, "ld", "libdebuginfod"));
}

static void
segv_stack_names_fault(void **state)
{
	struct trace_result r;
	json_t *signal, *frame;

	(void)state;
	trace_with(&r, NULL, "segv");
	signal = trace_event(&r, "signal", 0, 0);
	while (signal && strcmp(json_str(signal, "signal"), "SIGSEGV"))
		signal = NULL;
	assert_non_null(signal);
	frame = json_array_get(json_object_get(signal, "stack"), 0);
	assert_string_equal(json_str(frame, "function"), "crash_here");
	assert_frame_at_marker(frame, "examples/segv.c", "crash_here");
	trace_result_free(&r);
}

static void
stripped_copy_names_exports(void **state)
{
	struct trace_result r;
	json_t *fork, *frame;
	size_t i;
	bool nameless = false;

	(void)state;
	trace_with(&r, NULL, "fork_tree_stripped");
	fork = trace_event(&r, "fork", trace_root_pid(&r), 0);
	assert_non_null(fork);
	/* main is exported (-rdynamic); the libc frames keep their names. */
	frame = find_frame(fork, "main");
	assert_non_null(frame);
	assert_null(json_object_get(frame, "file"));
	frame = json_array_get(json_object_get(fork, "stack"), 0);
	assert_non_null(json_str(frame, "function"));
	assert_non_null(strstr(json_str(frame, "module"), "libc.so"));
	/* The static spawn_worker has no name left: module and offset. */
	json_array_foreach(json_object_get(fork, "stack"), i, frame)
	{
		if (!json_object_get(frame, "function") &&
		    strstr(json_str(frame, "module"), "fork_tree_stripped"))
			nameless = true;
	}
	assert_true(nameless);
	assert_null(find_frame(fork, "spawn_worker"));
	trace_result_free(&r);
}

static void
thread_fork_uses_thread_stack(void **state)
{
	struct trace_result r;
	json_t *fork;

	(void)state;
	trace_with(&r, NULL, "thread_fork");
	fork = trace_event(&r, "fork", trace_root_pid(&r), 0);
	assert_non_null(fork);
	assert_true(json_int(fork, "tid") != json_int(fork, "pid"));
	assert_frame_at_marker(find_frame(fork, "fork_from_thread"),
			       "examples/thread_fork.c", "fork_from_thread");
	/* The leader's main is not on the forking thread's stack. */
	assert_null(find_frame(fork, "main"));
	trace_result_free(&r);
}

static void
pthread_create_and_spawn_callers(void **state)
{
	struct trace_result r;
	json_t *thread, *vfork;

	(void)state;
	trace_with(&r, NULL, "spawn");
	assert_int_equal(r.exit_code, 0);
	thread = trace_event(&r, "thread", trace_root_pid(&r), 0);
	assert_non_null(thread);
	assert_frame_at_marker(find_frame(thread, "start_worker"),
			       "examples/spawn.c", "start_worker");
	assert_non_null(find_frame(thread, "main"));

	vfork = trace_event(&r, "vfork", trace_root_pid(&r), 0);
	assert_non_null(vfork);
	assert_frame_at_marker(find_frame(vfork, "spawn_true"),
			       "examples/spawn.c", "spawn_true");
	assert_non_null(find_frame(vfork, "main"));
	trace_result_free(&r);
}

static void
inlined_call_is_own_frame(void **state)
{
	struct trace_result r;
	json_t *fork, *inlined, *caller;

	(void)state;
	trace_with(&r, NULL, "inline_fork");
	fork = trace_event(&r, "fork", trace_root_pid(&r), 0);
	assert_non_null(fork);
	inlined = find_frame(fork, "start_child");
	assert_frame_at_marker(inlined, "examples/inline_fork.c",
			       "start_child");
	assert_true(json_is_true(json_object_get(inlined, "inlined")));
	/* The caller's line is the line of the inlined call. */
	caller = find_frame(fork, "main");
	assert_frame_at_marker(caller, "examples/inline_fork.c",
			       "main_calls_start_child");
	assert_null(json_object_get(caller, "inlined"));
	/* Both frames share one pc. */
	assert_string_equal(json_str(inlined, "pc"), json_str(caller, "pc"));
	trace_result_free(&r);
}

static void
cxx_names_demangled(void **state)
{
	struct trace_result r;
	json_t *fork;

	(void)state;
	trace_with(&r, NULL, "cxx_fork");
	assert_int_equal(r.exit_code, 0);
	fork = trace_event(&r, "fork", trace_root_pid(&r), 0);
	assert_non_null(fork);
	assert_frame_at_marker(find_frame(fork, "family::Spawner::run(int)"),
			       "examples/cxx_fork.cpp", "spawner_run");
	trace_result_free(&r);
}

static void
static_binary_unwinds(void **state)
{
	struct trace_result r;
	json_t *fork;

	(void)state;
	trace_with(&r, NULL, "fork_tree_static");
	fork = trace_event(&r, "fork", trace_root_pid(&r), 0);
	assert_non_null(fork);
	assert_frame_at_marker(find_frame(fork, "spawn_worker"),
			       "examples/fork_tree.c", "spawn_worker");
	assert_non_null(find_frame(fork, "main"));
	trace_result_free(&r);
}

static void
python_fork_through_interpreter(void **state)
{
	const char *options[] = { "--python=off", NULL };
	const char *command[] = { "/usr/bin/python3",
				  source_path("examples/py_fork.py"), NULL };
	struct trace_result r;
	json_t *fork, *stack, *caller;
	size_t libc = 0;

	(void)state;
	assert_int_equal(trace_run(&r, options, command), 0);
	fork = trace_event(&r, "fork", trace_root_pid(&r), 0);
	assert_non_null(fork);
	stack = json_object_get(fork, "stack");
	while (libc < json_array_size(stack) &&
	       strstr(json_str(json_array_get(stack, libc), "module"),
		      "libc.so"))
		libc++;
	assert_true(libc > 0);
	/*
	 * libc's fork is called by the interpreter's os.fork, which Debian's
	 * python3.11 has only as a static function without a symbol.
	 */
	caller = json_array_get(stack, libc);
	assert_non_null(caller);
	assert_non_null(strstr(json_str(caller, "module"), "python3"));
	assert_non_null(find_frame(fork, "_PyEval_EvalFrameDefault"));
	trace_result_free(&r);
}

static void
exit_stack_where_exit_called(void **state)
{
	struct trace_result r;
	json_t *exit, *frame;

	(void)state;
	trace_with(&r, "--stacks=exit", "leader_exit");
	/*
	 * Thread B called exit(5) from its start function.  The two threads'
	 * ends may be reaped in either order, so pick B's by its code.
	 */
	exit = trace_event(&r, "exit", trace_root_pid(&r), 0);
	if (json_int(exit, "exit_code") != 5)
		exit = trace_event(&r, "exit", trace_root_pid(&r), 1);
	assert_non_null(exit);
	assert_int_equal(json_int(exit, "exit_code"), 5);
	assert_true(json_is_true(json_object_get(exit, "thread")));
	frame = find_frame(exit, "exit");
	assert_non_null(frame);
	assert_frame_at_marker(find_frame(exit, "thread_b_main"),
			       "examples/leader_exit.c", "thread_b_exit");
	/* --stacks=exit alone takes no stack at a fork or thread event. */
	assert_null(json_object_get(trace_event(&r, "thread", 0, 0), "stack"));
	trace_result_free(&r);
}

static void
stacks_none_opens_nothing(void **state)
{
	char trace_env[300];
	const char *options[] = { "--stacks=none", NULL };
	const char *command[] = { example_path("fork_tree"), NULL };
	const char *env[] = { trace_env, NULL };
	struct trace_result r;
	char path[256], *log;
	size_t i;
	FILE *fp;
	long size;

	(void)state;
	snprintf(path, sizeof(path), "%s/debug.trace", test_tmpdir());
	snprintf(trace_env, sizeof(trace_env), "FORKTRACE_TRACE=%s", path);
	assert_int_equal(trace_run_env(&r, options, command, env), 0);
	assert_int_equal(r.exit_code, 0);
	for (i = 0; i < r.count; i++)
		assert_null(json_object_get(r.events[i], "stack"));

	fp = fopen(path, "r");
	assert_non_null(fp);
	fseek(fp, 0, SEEK_END);
	size = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	log = calloc(1, (size_t)size + 1);
	assert_int_equal(fread(log, 1, (size_t)size, fp), (size_t)size);
	fclose(fp);
	/* The debug trace logs each Dwfl that reads modules: none here. */
	assert_null(strstr(log, "reading the modules"));
	assert_non_null(strstr(log, "wait status"));
	free(log);
	trace_result_free(&r);
}

static void
stack_options_rejected_values(void **state)
{
	const char *bad_list[] = { "--stacks=fork,bogus", "true", NULL };
	const char *bad_depth[] = { "--stack-depth=0", "true", NULL };
	struct trace_result r;

	(void)state;
	assert_int_equal(forktrace_run(&r, bad_list), 0);
	assert_int_equal(r.exit_code, 2);
	assert_non_null(strstr(r.err, "invalid --stacks value 'bogus'"));
	trace_result_free(&r);

	assert_int_equal(forktrace_run(&r, bad_depth), 0);
	assert_int_equal(r.exit_code, 2);
	assert_non_null(strstr(r.err, "invalid --stack-depth '0'"));
	trace_result_free(&r);
}

static void
stack_depth_bounds_frames(void **state)
{
	struct trace_result r;
	json_t *fork;

	(void)state;
	trace_with(&r, "--stack-depth=2", "fork_tree");
	fork = trace_event(&r, "fork", trace_root_pid(&r), 0);
	assert_int_equal(json_array_size(json_object_get(fork, "stack")), 2);
	trace_result_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fork_stack_names_call_site),
		cmocka_unit_test(libc_lines_only_when_verbose),
		cmocka_unit_test(no_debuginfod_without_server),
		cmocka_unit_test(segv_stack_names_fault),
		cmocka_unit_test(stripped_copy_names_exports),
		cmocka_unit_test(thread_fork_uses_thread_stack),
		cmocka_unit_test(pthread_create_and_spawn_callers),
		cmocka_unit_test(inlined_call_is_own_frame),
		cmocka_unit_test(cxx_names_demangled),
		cmocka_unit_test(static_binary_unwinds),
		cmocka_unit_test(python_fork_through_interpreter),
		cmocka_unit_test(exit_stack_where_exit_called),
		cmocka_unit_test(stacks_none_opens_nothing),
		cmocka_unit_test(stack_options_rejected_values),
		cmocka_unit_test(stack_depth_bounds_frames),
	};

	return cmocka_run_group_tests_name("stacks", tests, NULL, NULL);
}
