/*
 * Integration tests on real programs from Debian's packages: sh, gcc and
 * make run under forktrace --json, and the test checks the family.
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
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

/* Counts exec events whose comm is comm. */
static size_t
count_execs_of(const struct trace_result *r, const char *comm)
{
	size_t i, count = 0;

	for (i = 0; i < r->count; i++) {
		const char *kind = json_str(r->events[i], "event");
		const char *name = json_str(r->events[i], "comm");

		if (!strcmp(kind, "exec") && name && !strcmp(name, comm))
			count++;
	}
	return count;
}

/* Checks that every process of the summary exited with code 0. */
static void
assert_all_exited_zero(const struct trace_result *r)
{
	size_t i;

	for (i = 0; i < r->count; i++) {
		json_t *e = r->events[i];

		if (strcmp(json_str(e, "event"), "exit"))
			continue;
		if (json_int(e, "exit_code") != 0)
			fail_msg("pid %ld (%s) did not exit 0",
				 json_int(e, "pid"), json_str(e, "comm"));
	}
}

static void
shell_pipeline(void **state)
{
	const char *command[] = { "sh", "-c", "ls / | wc -l", NULL };
	struct trace_result traced, plain;
	json_t *root, *children;
	const char *first, *second;

	(void)state;
	assert_int_equal(plain_run(&plain, command), 0);
	assert_int_equal(trace_run(&traced, NULL, command), 0);
	assert_false(traced.timed_out);
	assert_int_equal(traced.exit_code, 0);
	/* The program's own output is the same as without forktrace. */
	assert_string_equal(traced.out, plain.out);

	root = trace_process(&traced, trace_root_pid(&traced));
	assert_string_equal(json_str(root, "comm"), "sh");
	children = json_object_get(root, "children");
	assert_int_equal(json_array_size(children), 2);
	first = json_str(json_array_get(children, 0), "comm");
	second = json_str(json_array_get(children, 1), "comm");
	/* dash forks the two sides in order, but they may exec in any. */
	assert_true((!strcmp(first, "ls") && !strcmp(second, "wc")) ||
		    (!strcmp(first, "wc") && !strcmp(second, "ls")));
	assert_int_equal(trace_process_count(&traced), 3);
	assert_all_exited_zero(&traced);
	trace_result_free(&traced);
	trace_result_free(&plain);
}

static void
gcc_compile_family(void **state)
{
	char source[256], object[256];
	const char *command[] = { "gcc", "-c", source, "-o", object, NULL };
	struct trace_result r;
	struct stat st;
	json_t *root;
	FILE *fp;

	(void)state;
	snprintf(source, sizeof(source), "%s/hello.c", test_tmpdir());
	snprintf(object, sizeof(object), "%s/hello.o", test_tmpdir());
	fp = fopen(source, "w");
	assert_non_null(fp);
	fputs("int answer(void) { return 42; }\n", fp);
	fclose(fp);

	assert_int_equal(trace_run(&r, NULL, command), 0);
	assert_false(r.timed_out);
	assert_int_equal(r.exit_code, 0);
	assert_int_equal(stat(object, &st), 0);

	root = trace_process(&r, trace_root_pid(&r));
	assert_string_equal(json_str(root, "comm"), "gcc");
	/* gcc runs the compiler proper, then the assembler. */
	assert_int_equal(count_execs_of(&r, "cc1"), 1);
	assert_int_equal(count_execs_of(&r, "as"), 1);
	assert_int_equal(trace_process_count(&r), 3);
	assert_int_equal(json_array_size(json_object_get(root, "children")), 2);
	assert_all_exited_zero(&r);
	trace_result_free(&r);
}

/* Writes a project of count C files and a Makefile that links them. */
static const char *
generate_project(unsigned count)
{
	static char dir[256];
	char path[512];
	FILE *fp;
	unsigned i;

	snprintf(dir, sizeof(dir), "%s/project", test_tmpdir());
	mkdir(dir, 0755);
	for (i = 0; i < count; i++) {
		snprintf(path, sizeof(path), "%s/unit%u.c", dir, i);
		fp = fopen(path, "w");
		assert_non_null(fp);
		fprintf(fp, "int unit%u(void) { return %u; }\n", i, i);
		fclose(fp);
	}
	snprintf(path, sizeof(path), "%s/main.c", dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("int main(void) { return 0; }\n", fp);
	fclose(fp);

	snprintf(path, sizeof(path), "%s/Makefile", dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("OBJS = main.o", fp);
	for (i = 0; i < count; i++)
		fprintf(fp, " unit%u.o", i);
	fputs("\nprog: $(OBJS)\n\tgcc -o $@ $(OBJS)\n"
	      "%.o: %.c\n\tgcc -c -o $@ $<\n",
	      fp);
	fclose(fp);
	return dir;
}

static void
make_parallel_build(void **state)
{
	const char *dir = generate_project(6);
	const char *command[] = { "make", "-s", "-j2", "-C", dir, NULL };
	struct trace_result r;
	char prog[512];
	struct stat st;

	(void)state;
	assert_int_equal(trace_run(&r, NULL, command), 0);
	assert_false(r.timed_out);
	assert_int_equal(r.exit_code, 0);
	snprintf(prog, sizeof(prog), "%s/prog", dir);
	assert_int_equal(stat(prog, &st), 0);

	/* Seven compiles (six units and main), one link. */
	assert_int_equal(count_execs_of(&r, "make"), 1);
	assert_int_equal(count_execs_of(&r, "gcc"), 8);
	assert_int_equal(count_execs_of(&r, "cc1"), 7);
	assert_int_equal(count_execs_of(&r, "as"), 7);
	assert_int_equal(count_execs_of(&r, "collect2"), 1);
	assert_int_equal(count_execs_of(&r, "ld"), 1);
	assert_all_exited_zero(&r);
	trace_result_free(&r);
}

static void
exit_code_passes_through(void **state)
{
	const char *command[] = { "sh", "-c", "exit 7", NULL };
	struct trace_result r;

	(void)state;
	assert_int_equal(trace_run(&r, NULL, command), 0);
	assert_int_equal(r.exit_code, 7);
	assert_int_equal(json_int(r.summary, "exit_status"), 7);
	trace_result_free(&r);
}

static void
killed_program_ends_tracer_by_signal(void **state)
{
	const char *command[] = { "sh", "-c", "kill -SEGV $$", NULL };
	struct trace_result r;
	json_t *root;

	(void)state;
	assert_int_equal(trace_run(&r, NULL, command), 0);
	/* forktrace ends by the same signal; the summary gives 128+N. */
	assert_int_equal(r.exit_code, -1);
	assert_int_equal(r.signal, SIGSEGV);
	assert_int_equal(json_int(r.summary, "exit_status"), 128 + SIGSEGV);
	root = trace_process(&r, trace_root_pid(&r));
	assert_string_equal(json_str(root, "signal"), "SIGSEGV");
	trace_result_free(&r);
}

static void
stdin_stays_the_programs(void **state)
{
	char input[256];
	const char *command[] = { "sh", "-c", NULL, NULL };
	char script[600];
	struct trace_result r;
	FILE *fp;

	(void)state;
	snprintf(input, sizeof(input), "%s/input.txt", test_tmpdir());
	fp = fopen(input, "w");
	assert_non_null(fp);
	fputs("first line\nsecond line\n", fp);
	fclose(fp);
	/* The inner shell reads its stdin through forktrace. */
	snprintf(script, sizeof(script),
		 "exec %s/forktrace -qq -- sh -c 'read a; read b; echo "
		 "\"$b/$a\"'"
		 " < %s",
		 FT_BUILD_DIR, input);
	command[2] = script;
	assert_int_equal(plain_run(&r, command), 0);
	assert_int_equal(r.exit_code, 0);
	assert_string_equal(r.out, "second line/first line\n");
	assert_string_equal(r.err, "");
	trace_result_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(shell_pipeline),
		cmocka_unit_test(gcc_compile_family),
		cmocka_unit_test(make_parallel_build),
		cmocka_unit_test(exit_code_passes_through),
		cmocka_unit_test(killed_program_ends_tracer_by_signal),
		cmocka_unit_test(stdin_stays_the_programs),
	};

	return cmocka_run_group_tests_name("programs", tests, NULL, NULL);
}
