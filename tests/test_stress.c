/*
 * Stress tests: families that fork thousands of processes, start and end
 * hundreds of threads around forks, and send each other thousands of
 * signals, traced with and without stacks.  Each load prints a summary
 * without pids or times, and its traced output must equal its untraced
 * output byte for byte.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "harness.h"

#define CHURN_THREADS 500
#define CHURN_FORKS   50

/* Returns the exit code of child index of fork_pool and thread_churn. */
static long
expected_code(size_t index)
{
	return 1 + (long)(index % 255);
}

static json_t *
children_of(const json_t *process)
{
	return json_object_get(process, "children");
}

/* Returns the size of an array indexed by pid or tid. */
static size_t
pid_limit(void)
{
	FILE *fp = fopen("/proc/sys/kernel/pid_max", "r");
	long max = 0;

	assert_non_null(fp);
	assert_int_equal(fscanf(fp, "%ld", &max), 1);
	fclose(fp);
	assert_true(max > 0);
	return (size_t)max + 1;
}

/*
 * Runs command untraced, then under forktrace --json with options, and
 * checks that both ended the same way and printed the same stdout.
 */
static void
trace_and_compare(struct trace_result *r, const char *const *options,
		  const char *const *command)
{
	struct trace_result plain;

	assert_int_equal(plain_run(&plain, command), 0);
	assert_false(plain.timed_out);
	assert_int_equal(trace_run(r, options, command), 0);
	assert_false(r->timed_out);
	assert_non_null(r->summary);
	assert_int_equal(r->exit_code, plain.exit_code);
	assert_int_equal(json_int(r->summary, "exit_status"), r->exit_code);
	assert_string_equal(r->out, plain.out);
	trace_result_free(&plain);
}

/* Counts the places where needle occurs in text. */
static size_t
count_matches(const char *text, const char *needle)
{
	size_t count = 0;

	while ((text = strstr(text, needle))) {
		count++;
		text += strlen(needle);
	}
	return count;
}

/* Counts the exit events of threads (thread) or of processes (!thread). */
static size_t
count_exits(const struct trace_result *r, bool thread)
{
	size_t i, count = 0;

	for (i = 0; i < r->count; i++) {
		json_t *e = r->events[i];

		if (strcmp(json_str(e, "event"), "exit") != 0)
			continue;
		if (json_is_true(json_object_get(e, "thread")) == thread)
			count++;
	}
	return count;
}

/* Checks that forktrace never lost, let go of or saw a stop of anyone. */
static void
assert_family_kept(const struct trace_result *r)
{
	assert_int_equal(trace_count(r, "stop", 0), 0);
	assert_int_equal(trace_count(r, "detach", 0), 0);
	assert_int_equal(trace_count(r, "gap", 0), 0);
	assert_null(json_object_get(r->summary, "interrupted"));
}

/*
 * Checks fork_pool's family: count children of the root in fork order,
 * each exiting with the code of its index, at most max_live alive at once.
 */
static void
assert_pool_family(const struct trace_result *r, size_t count, size_t max_live)
{
	pid_t root = trace_root_pid(r);
	size_t limit = pid_limit(), live = 0, peak = 0, i;
	json_t *children, *child;
	char *alive;

	assert_int_equal(trace_count(r, "fork", 0), count);
	assert_int_equal(trace_count(r, "fork", root), count);
	assert_int_equal(count_exits(r, false), count + 1);
	assert_int_equal(trace_process_count(r), count + 1);
	assert_int_equal(json_int(r->summary, "processes"), count + 1);
	assert_family_kept(r);

	children = children_of(trace_process(r, root));
	assert_int_equal(json_array_size(children), count);
	json_array_foreach(children, i, child)
	{
		assert_int_equal(json_int(child, "ppid"), root);
		assert_string_equal(json_str(child, "origin"), "fork");
		assert_null(json_object_get(child, "lost"));
		assert_int_equal(json_int(child, "exit_code"),
				 expected_code(i));
		assert_int_equal(json_array_size(children_of(child)), 0);
	}

	/*
	 * A child's exit event comes before its parent reaps it, so the
	 * children between fork and exit events never exceed the pool.
	 */
	alive = calloc(limit, 1);
	assert_non_null(alive);
	for (i = 0; i < r->count; i++) {
		json_t *e = r->events[i];
		const char *kind = json_str(e, "event");
		long pid;

		if (!strcmp(kind, "fork")) {
			pid = json_int(e, "child");
			assert_true(pid > 0 && (size_t)pid < limit);
			assert_int_equal(alive[pid], 0);
			alive[pid] = 1;
			live++;
			if (live > peak)
				peak = live;
		} else if (!strcmp(kind, "exit") &&
			   json_int(e, "pid") != root) {
			pid = json_int(e, "pid");
			assert_true(pid > 0 && (size_t)pid < limit);
			assert_int_equal(alive[pid], 1);
			alive[pid] = 0;
			live--;
		}
	}
	free(alive);
	assert_int_equal(live, 0);
	assert_true(peak <= max_live);
}

static void
fork_pool_without_stacks(void **state)
{
	const char *options[] = { "--stacks=none", NULL };
	const char *command[] = { example_path("fork_pool"), "10000", "200",
				  NULL };
	struct trace_result r;

	(void)state;
	trace_and_compare(&r, options, command);
	assert_int_equal(r.exit_code, 0);
	assert_string_equal(r.out, "forked 10000 children, at most 200 alive, "
				   "10000 exited right\n");
	assert_pool_family(&r, 10000, 200);
	trace_result_free(&r);
}

/* The same load under forktrace's defaults: text output, fork stacks. */
static void
fork_pool_text_defaults(void **state)
{
	const char *command[] = { example_path("fork_pool"), "10000", "200",
				  NULL };
	struct trace_result r, plain;

	(void)state;
	assert_int_equal(plain_run(&plain, command), 0);
	assert_false(plain.timed_out);
	assert_int_equal(plain.exit_code, 0);
	assert_int_equal(forktrace_run(&r, command), 0);
	assert_false(r.timed_out);
	assert_int_equal(r.exit_code, 0);
	assert_string_equal(r.out, plain.out);
	assert_non_null(strstr(r.err, "\nfamily of 10001 processes in "));
	/* Every fork is printed with its stack. */
	assert_int_equal(count_matches(r.err, "at fork_child (fork_pool.c:"),
			 10000);
	trace_result_free(&plain);
	trace_result_free(&r);
}

/*
 * Checks thread_churn's family: one thread made all the forks, every
 * thread and child is reported once with its end, and each child exited
 * with the code of its index.
 */
static void
assert_churn_family(const struct trace_result *r, size_t threads, size_t forks)
{
	pid_t root = trace_root_pid(r), forker;
	size_t limit = pid_limit(), i;
	json_t *process, *thread, *child;
	char *state;

	assert_int_equal(r->exit_code, 0);
	assert_int_equal(json_int(r->summary, "processes"), forks + 1);
	assert_int_equal(json_int(r->summary, "threads"), threads + 1);
	assert_int_equal(trace_count(r, "thread", root), threads + 1);
	assert_int_equal(trace_count(r, "fork", 0), forks);
	assert_int_equal(count_exits(r, true), threads + 1);
	assert_int_equal(count_exits(r, false), forks + 1);
	assert_family_kept(r);

	/* The main thread starts the forker before any worker. */
	forker = (pid_t)json_int(trace_event(r, "thread", root, 0), "child");
	assert_true(forker > 0 && forker != root);
	for (i = 0; i < forks; i++)
		assert_int_equal(
			json_int(trace_event(r, "fork", root, i), "tid"),
			forker);

	/* Each thread starts once and ends once, after it started. */
	state = calloc(limit, 1);
	assert_non_null(state);
	for (i = 0; i < r->count; i++) {
		json_t *e = r->events[i];
		const char *kind = json_str(e, "event");
		long tid;

		if (!strcmp(kind, "thread")) {
			tid = json_int(e, "child");
			assert_true(tid > 0 && (size_t)tid < limit);
			assert_int_equal(state[tid], 0);
			state[tid] = 1;
		} else if (!strcmp(kind, "exit") &&
			   json_is_true(json_object_get(e, "thread"))) {
			tid = json_int(e, "tid");
			assert_true(tid > 0 && (size_t)tid < limit);
			assert_int_equal(state[tid], 1);
			state[tid] = 2;
			assert_int_equal(json_int(e, "exit_code"), 0);
		}
	}
	free(state);

	process = trace_process(r, root);
	assert_int_equal(json_int(process, "exit_code"), 0);
	assert_int_equal(json_array_size(json_object_get(process, "threads")),
			 threads + 1);
	json_array_foreach(json_object_get(process, "threads"), i, thread)
	{
		assert_true(json_is_number(json_object_get(thread, "end")));
		assert_int_equal(json_int(thread, "exit_code"), 0);
	}
	assert_int_equal(json_array_size(children_of(process)), forks);
	json_array_foreach(children_of(process), i, child)
	{
		assert_null(json_object_get(child, "lost"));
		assert_int_equal(json_int(child, "exit_code"),
				 expected_code(i));
	}
}

/* Returns the longest time between two events in a row, in seconds. */
static double
longest_quiet(const struct trace_result *r)
{
	double longest = 0, gap;
	size_t i;

	for (i = 1; i < r->count; i++) {
		gap = json_number_value(json_object_get(r->events[i], "t")) -
		      json_number_value(json_object_get(r->events[i - 1], "t"));
		if (gap > longest)
			longest = gap;
	}
	return longest;
}

/*
 * Runs thread_churn under forktrace with options and checks its family.
 * A thread stuck in a stop would keep the program from joining it, and
 * its alarm would then kill it, so the exit code shows that too.
 */
static void
trace_churn(struct trace_result *r, const char *const *options)
{
	char threads[16], forks[16], expected[128];
	const char *command[] = { example_path("thread_churn"), threads, forks,
				  NULL };

	snprintf(threads, sizeof(threads), "%d", CHURN_THREADS);
	snprintf(forks, sizeof(forks), "%d", CHURN_FORKS);
	snprintf(expected, sizeof(expected),
		 "%d threads joined, %d returned right; "
		 "%d children forked, %d exited right\n",
		 CHURN_THREADS, CHURN_THREADS, CHURN_FORKS, CHURN_FORKS);
	trace_and_compare(r, options, command);
	assert_string_equal(r->out, expected);
	assert_churn_family(r, CHURN_THREADS, CHURN_FORKS);
}

static void
thread_churn_default_options(void **state)
{
	struct trace_result r;

	(void)state;
	trace_churn(&r, NULL);
	trace_result_free(&r);
}

static void
thread_churn_without_stacks(void **state)
{
	const char *options[] = { "--stacks=none", NULL };
	struct trace_result r;

	(void)state;
	trace_churn(&r, options);
	trace_result_free(&r);
}

/*
 * With stacks of the other threads at each fork, forktrace interrupts
 * threads that may be exiting.  A thread already past its exit event stop
 * ends without stopping again, and forktrace must not wait for it until
 * a snapshot's time limit of two seconds.  The family creates a thread
 * every few microseconds, so a second without events is that wait.  Only
 * some runs have a thread ending at a fork, hence five runs.
 */
static void
thread_churn_thread_stacks(void **state)
{
	const char *options[] = { "--stacks=fork,threads", NULL };
	struct trace_result r;
	int run;

	(void)state;
	for (run = 0; run < 5; run++) {
		trace_churn(&r, options);
		if (longest_quiet(&r) >= 1.0)
			fail_msg("run %d: no event for %.3f s", run,
				 longest_quiet(&r));
		trace_result_free(&r);
	}
}

/*
 * Checks signal_pairs' family and its SIGUSR1: every process received
 * rounds of them, each from its partner, and child k exited with code k.
 */
static void
assert_pairs_family(const struct trace_result *r, int children, long rounds)
{
	pid_t root = trace_root_pid(r);
	pid_t pids[64];
	size_t i, received[64] = { 0 }, usr1 = 0;
	json_t *child;
	int k;

	assert_true(children < 64);
	assert_int_equal(r->exit_code, 0);
	assert_int_equal(json_int(r->summary, "processes"), children + 1);
	assert_int_equal(count_exits(r, false), children + 1);
	assert_family_kept(r);

	pids[0] = root;
	assert_int_equal(json_array_size(children_of(trace_process(r, root))),
			 children);
	json_array_foreach(children_of(trace_process(r, root)), i, child)
	{
		pids[i + 1] = (pid_t)json_int(child, "pid");
		assert_int_equal(json_int(child, "exit_code"), (long)i + 1);
		assert_null(json_object_get(child, "lost"));
	}

	for (i = 0; i < r->count; i++) {
		json_t *e = r->events[i];
		const char *name = json_str(e, "signal");

		if (strcmp(json_str(e, "event"), "signal") != 0 ||
		    strcmp(name, "SIGUSR1") != 0)
			continue;
		usr1++;
		for (k = 0; k <= children; k++)
			if (pids[k] == json_int(e, "pid"))
				break;
		assert_true(k <= children);
		assert_int_equal(json_int(e, "sender"), pids[k ^ 1]);
		received[k]++;
	}
	assert_int_equal(usr1, (size_t)(children + 1) * (size_t)rounds);
	for (k = 0; k <= children; k++)
		assert_int_equal(received[k], rounds);
}

/* Returns what signal_pairs prints for these counts. */
static char *
pairs_output(int children, long rounds)
{
	char *text = NULL;
	size_t size = 0;
	FILE *fp = open_memstream(&text, &size);
	int k;

	assert_non_null(fp);
	for (k = 1; k <= children; k++)
		fprintf(fp, "child %d: %ld SIGUSR1 received, exit %d\n", k,
			rounds, k);
	fprintf(fp, "parent: %ld SIGUSR1 received\n", rounds);
	fprintf(fp, "%d processes, %ld SIGUSR1 in all\n", children + 1,
		(children + 1) * rounds);
	fclose(fp);
	return text;
}

/* Runs signal_pairs under forktrace with options and checks its family. */
static void
trace_pairs(const char *const *options, int children, long rounds)
{
	char children_arg[16], rounds_arg[16];
	const char *command[] = { example_path("signal_pairs"), children_arg,
				  rounds_arg, NULL };
	char *expected = pairs_output(children, rounds);
	struct trace_result r;

	snprintf(children_arg, sizeof(children_arg), "%d", children);
	snprintf(rounds_arg, sizeof(rounds_arg), "%ld", rounds);
	trace_and_compare(&r, options, command);
	assert_string_equal(r.out, expected);
	assert_pairs_family(&r, children, rounds);
	free(expected);
	trace_result_free(&r);
}

/* Two pairs, 10,000 signals, under forktrace's default options. */
static void
signal_pairs_default_options(void **state)
{
	(void)state;
	trace_pairs(NULL, 3, 2500);
}

/* Three pairs at once, without stacks. */
static void
signal_pairs_without_stacks(void **state)
{
	const char *options[] = { "--stacks=none", NULL };

	(void)state;
	trace_pairs(options, 5, 1000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fork_pool_without_stacks),
		cmocka_unit_test(fork_pool_text_defaults),
		cmocka_unit_test(thread_churn_default_options),
		cmocka_unit_test(thread_churn_without_stacks),
		cmocka_unit_test(thread_churn_thread_stacks),
		cmocka_unit_test(signal_pairs_default_options),
		cmocka_unit_test(signal_pairs_without_stacks),
	};

	return cmocka_run_group_tests_name("stress", tests, NULL, NULL);
}
