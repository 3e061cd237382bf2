/* Unit tests of the /proc parsers and readers, on this test's own process. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "forktrace/procfs.h"

/* Above the kernel's largest pid_max, so never a live pid. */
#define ABSENT_PID 0x7fffffff

static int self_argc;
static char **self_argv;

/* Lines in the format of /proc/PID/status, with made-up values. */
static const char status_text[] = "Name:\tcat\n"
				  "Umask:\t0022\n"
				  "State:\tR (running)\n"
				  "Tgid:\t4242\n"
				  "Ngid:\t0\n"
				  "Pid:\t4243\n"
				  "PPid:\t4000\n"
				  "TracerPid:\t3999\n"
				  "Uid:\t1000\t1000\t1000\t1000\n"
				  "VmRSS:\t    1234 kB\n"
				  "Threads:\t2\n";

/* Returns the value of key in text, and sets *found to whether it parsed. */
static long
field_of(const char *text, const char *key, bool *found)
{
	long value = -12345;

	*found = procfs_status_field(text, strlen(text), key, &value);
	return value;
}

static void
check_field(const char *text, const char *key, long expected)
{
	bool found;
	long value = field_of(text, key, &found);

	if (!found)
		print_message("key %s not found\n", key);
	assert_true(found);
	assert_int_equal(value, expected);
}

static void
check_no_field(const char *text, const char *key)
{
	bool found;

	field_of(text, key, &found);
	assert_false(found);
}

/* The wait status of a zombie, with a command name full of spaces. */
static void
procfs_exit_code_field(void **state)
{
	static const char zombie[] =
		"4242 (a) b (c) Z 1 4242 4242 0 -1 4227596 56 0 0 0 0 0 0 0 "
		"20 0 1 0 123 0 0 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 "
		"0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 1792\n";
	int status = -1;

	(void)state;
	assert_int_equal(procfs_parse_exit_code(zombie, &status), 0);
	assert_int_equal(status, 7 << 8);
	/* An older kernel's shorter line has no such field. */
	assert_int_equal(procfs_parse_exit_code("1 (x) S 0 1 1\n", &status),
			 -1);
	assert_int_equal(procfs_parse_exit_code("garbage", &status), -1);
}

static void
procfs_status_reads_numeric_fields(void **state)
{
	(void)state;
	check_field(status_text, "Tgid", 4242);
	check_field(status_text, "Pid", 4243);
	check_field(status_text, "PPid", 4000);
	check_field(status_text, "TracerPid", 3999);
	check_field(status_text, "Ngid", 0);
	check_field(status_text, "Threads", 2);
	check_field(status_text, "Umask", 22);
	/* The first of several numbers, and one with a unit after it. */
	check_field(status_text, "Uid", 1000);
	check_field(status_text, "VmRSS", 1234);
}

static void
procfs_status_key_prefix_of_other(void **state)
{
	/* The longer keys come first, so a prefix match would find them. */
	static const char text[] = "TracerPid:\t7\nPPid:\t8\nPid:\t9\n";

	(void)state;
	check_field(text, "Pid", 9);
	check_field(text, "PPid", 8);
	check_field(text, "TracerPid", 7);
	/* A key that is only the start of a key in the text. */
	check_no_field(text, "Tracer");
	check_no_field(text, "P");
	check_no_field(text, "Pi");
}

static void
procfs_status_key_only_at_line_start(void **state)
{
	static const char text[] = "XTgid:\t1\nName:\tTgid:\t2\nTgid:\t3\n";

	(void)state;
	check_field(text, "Tgid", 3);
}

static void
procfs_status_negative_number(void **state)
{
	(void)state;
	check_field("Offset:\t-17\n", "Offset", -17);
	check_field("Offset:\t-0\n", "Offset", 0);
	check_no_field("Offset:\t-\n", "Offset");
	check_no_field("Offset:\t--1\n", "Offset");
}

static void
procfs_status_missing_key(void **state)
{
	(void)state;
	check_no_field(status_text, "NSpid");
	check_no_field(status_text, "tgid");
	check_no_field("", "Pid");
}

static void
procfs_status_empty_value(void **state)
{
	(void)state;
	check_no_field("Tgid:\t\nPid:\t1\n", "Tgid");
	check_no_field("Tgid:\n", "Tgid");
	check_no_field("Tgid:", "Tgid");
	check_no_field("Tgid:   \t  \n", "Tgid");
	check_no_field("Tgid\n", "Tgid");
}

static void
procfs_status_overflow_rejected(void **state)
{
	char text[64];

	(void)state;
	snprintf(text, sizeof(text), "Big:\t%ld\n", LONG_MAX);
	check_field(text, "Big", LONG_MAX);
	snprintf(text, sizeof(text), "Big:\t-%ld\n", LONG_MAX);
	check_field(text, "Big", -LONG_MAX);
	check_no_field("Big:\t9223372036854775808\n", "Big");
	check_no_field("Big:\t99999999999999999999999\n", "Big");
	check_no_field("Big:\t-9223372036854775809\n", "Big");
}

static void
procfs_status_without_final_newline(void **state)
{
	(void)state;
	check_field("Name:\tx\nPid:\t77", "Pid", 77);
	check_field("Pid:\t5", "Pid", 5);
}

static void
procfs_status_honours_length(void **state)
{
	static const char text[] = "Pid:\t12345\nPPid:\t1\n";
	long value = 0;

	(void)state;
	/* The length ends the text inside the number and before PPid. */
	assert_true(procfs_status_field(text, 7, "Pid", &value));
	assert_int_equal(value, 12);
	assert_false(procfs_status_field(text, 11, "PPid", &value));
	assert_false(procfs_status_field(text, 0, "Pid", &value));
}

static void
procfs_status_garbage_bytes(void **state)
{
	static const char text[] = "\xff\xfe\x01\0junk\n:\t\t:\n\x80Pid:\t1\n"
				   "Pid:\t42\n";
	long value = 0;

	(void)state;
	assert_true(procfs_status_field(text, sizeof(text) - 1, "Pid", &value));
	assert_int_equal(value, 42);
	check_no_field("Pid:\tabc\n", "Pid");
	check_no_field("Pid:\t\xff"
		       "12\n",
		       "Pid");
	check_no_field("\n\n\n", "Pid");
}

/* Creates a temporary file that contains len bytes of a known pattern. */
static char *
make_temp_file(size_t len, char **contents)
{
	char *path = strdup("/tmp/forktrace-procfs.XXXXXX");
	char *data = malloc(len ? len : 1);
	int fd = mkstemp(path);
	size_t i;

	assert_true(fd >= 0);
	for (i = 0; i < len; i++)
		data[i] = (char)(i * 7 % 251);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
	*contents = data;
	return path;
}

static void
procfs_read_file_sizes_around_buffer(void **state)
{
	static const size_t sizes[] = { 0,    1,    4094, 4095,
					4096, 4097, 8191, 70000 };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		char *contents, *data = NULL;
		char *path = make_temp_file(sizes[i], &contents);
		size_t len = 12345;
		int err = procfs_read_file(path, &data, &len);

		if (err || len != sizes[i])
			print_message("size %zu: error %d, len %zu\n", sizes[i],
				      err, len);
		assert_int_equal(err, 0);
		assert_non_null(data);
		assert_int_equal(len, sizes[i]);
		if (sizes[i])
			assert_memory_equal(data, contents, sizes[i]);
		assert_int_equal(data[len], '\0');
		unlink(path);
		free(path);
		free(contents);
		free(data);
	}
}

static void
procfs_read_file_missing_is_enoent(void **state)
{
	char *data = (char *)"stale";
	size_t len = 99;

	(void)state;
	assert_int_equal(
		procfs_read_file("/nonexistent/forktrace", &data, &len),
		-ENOENT);
	assert_null(data);
	assert_int_equal(len, 0);
}

static void
procfs_read_file_directory_is_eisdir(void **state)
{
	char *data = (char *)"stale";
	size_t len = 99;

	(void)state;
	assert_int_equal(procfs_read_file("/tmp", &data, &len), -EISDIR);
	assert_null(data);
}

static void
procfs_read_file_of_proc_status(void **state)
{
	char path[64], *data = NULL;
	size_t len = 0;
	long value = 0;

	(void)state;
	/* A /proc file has size 0 in stat(), so the reader must read to EOF. */
	snprintf(path, sizeof(path), "/proc/%d/status", (int)getpid());
	assert_int_equal(procfs_read_file(path, &data, &len), 0);
	assert_true(len > 0);
	assert_int_equal(strlen(data), len);
	assert_true(procfs_status_field(data, len, "Pid", &value));
	assert_int_equal(value, getpid());
	free(data);
}

static void
procfs_read_status_field_own_pid(void **state)
{
	long value = 0;

	(void)state;
	assert_int_equal(procfs_read_status_field(getpid(), "Tgid", &value), 0);
	assert_int_equal(value, getpid());
	assert_int_equal(procfs_read_status_field(getpid(), "PPid", &value), 0);
	assert_int_equal(value, getppid());
	assert_int_equal(
		procfs_read_status_field(getpid(), "NoSuchKey", &value),
		-ENOENT);
	assert_int_equal(procfs_read_status_field(ABSENT_PID, "Pid", &value),
			 -ENOENT);
}

static const char *
base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

static void
procfs_read_comm_own_pid(void **state)
{
	char comm[16], expected[16];

	(void)state;
	/* The kernel keeps the first 15 bytes of the executable's name. */
	snprintf(expected, sizeof(expected), "%s", base_name(self_argv[0]));
	memset(comm, 'X', sizeof(comm));
	assert_int_equal(procfs_read_comm(getpid(), comm), 0);
	assert_string_equal(comm, expected);
}

static void
procfs_read_comm_absent_pid(void **state)
{
	char comm[16];

	(void)state;
	memset(comm, 'X', sizeof(comm));
	assert_int_equal(procfs_read_comm(ABSENT_PID, comm), -ENOENT);
	assert_string_equal(comm, "");
}

static void
procfs_read_exe_own_pid(void **state)
{
	char *path = NULL;
	char *expected = realpath(self_argv[0], NULL);

	(void)state;
	assert_non_null(expected);
	assert_int_equal(procfs_read_exe(getpid(), &path), 0);
	assert_string_equal(path, expected);
	free(path);
	free(expected);
}

static void
procfs_read_exe_absent_pid(void **state)
{
	char *path = (char *)"stale";

	(void)state;
	assert_int_equal(procfs_read_exe(ABSENT_PID, &path), -ENOENT);
	assert_null(path);
}

static void
procfs_read_cmdline_own_pid(void **state)
{
	char *expected = NULL, *args = NULL;
	size_t expected_len = 0, len = 0;
	FILE *fp = open_memstream(&expected, &expected_len);
	int i;

	(void)state;
	for (i = 0; i < self_argc; i++) {
		fputs(self_argv[i], fp);
		fputc('\0', fp);
	}
	fclose(fp);
	assert_int_equal(procfs_read_cmdline(getpid(), &args, &len), 0);
	assert_int_equal(len, expected_len);
	assert_memory_equal(args, expected, len);
	free(expected);
	free(args);
}

static void
procfs_read_cmdline_absent_pid(void **state)
{
	char *args = (char *)"stale";
	size_t len = 7;

	(void)state;
	assert_int_equal(procfs_read_cmdline(ABSENT_PID, &args, &len), -ENOENT);
	assert_null(args);
	assert_int_equal(len, 0);
}

/* A thread that publishes its tid, then waits until helper_stop(). */
struct helper_thread {
	pthread_t handle;
	pthread_mutex_t lock;
	pthread_cond_t changed;
	pid_t tid;
	bool done;
};

static void *
helper_main(void *data)
{
	struct helper_thread *helper = data;

	pthread_mutex_lock(&helper->lock);
	helper->tid = gettid();
	pthread_cond_broadcast(&helper->changed);
	while (!helper->done)
		pthread_cond_wait(&helper->changed, &helper->lock);
	pthread_mutex_unlock(&helper->lock);
	return NULL;
}

static void
helper_start(struct helper_thread *helper)
{
	memset(helper, 0, sizeof(*helper));
	pthread_mutex_init(&helper->lock, NULL);
	pthread_cond_init(&helper->changed, NULL);
	assert_int_equal(
		pthread_create(&helper->handle, NULL, helper_main, helper), 0);
	pthread_mutex_lock(&helper->lock);
	while (!helper->tid)
		pthread_cond_wait(&helper->changed, &helper->lock);
	pthread_mutex_unlock(&helper->lock);
}

static void
helper_stop(struct helper_thread *helper)
{
	pthread_mutex_lock(&helper->lock);
	helper->done = true;
	pthread_cond_broadcast(&helper->changed);
	pthread_mutex_unlock(&helper->lock);
	pthread_join(helper->handle, NULL);
	pthread_mutex_destroy(&helper->lock);
	pthread_cond_destroy(&helper->changed);
}

/*
 * Waits up to about two seconds for tid to leave /proc/PID/task, because
 * the kernel may release a thread's entry shortly after pthread_join().
 */
static bool
wait_thread_gone(pid_t pid, pid_t tid)
{
	struct timespec pause = { 0, 10 * 1000 * 1000 };
	int tries;

	for (tries = 0; tries < 200; tries++) {
		if (!procfs_is_thread_of(pid, tid))
			return true;
		nanosleep(&pause, NULL);
	}
	return false;
}

static void
procfs_thread_of_own_process(void **state)
{
	struct helper_thread helper;
	pid_t pid = getpid();

	(void)state;
	assert_true(procfs_is_thread_of(pid, pid));
	helper_start(&helper);
	assert_int_not_equal(helper.tid, pid);
	assert_true(procfs_is_thread_of(pid, helper.tid));
	helper_stop(&helper);
	assert_true(wait_thread_gone(pid, helper.tid));
	assert_true(procfs_is_thread_of(pid, pid));
}

static void
procfs_thread_of_other_process(void **state)
{
	(void)state;
	assert_false(procfs_is_thread_of(getpid(), ABSENT_PID));
	assert_false(procfs_is_thread_of(ABSENT_PID, getpid()));
	/* This test runs under a parent, so it is not a thread of init. */
	assert_false(procfs_is_thread_of(1, getpid()));
	assert_false(procfs_is_thread_of(getppid(), getpid()));
}

static void
procfs_read_comm_thread_name(void **state)
{
	struct helper_thread helper;
	char comm[16];

	(void)state;
	helper_start(&helper);
	/* A name of 15 bytes, the maximum, leaves no room for the newline. */
	assert_int_equal(pthread_setname_np(helper.handle, "fifteen-chars-x"),
			 0);
	assert_int_equal(procfs_read_comm(helper.tid, comm), 0);
	helper_stop(&helper);
	assert_string_equal(comm, "fifteen-chars-x");
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(procfs_status_reads_numeric_fields),
		cmocka_unit_test(procfs_status_key_prefix_of_other),
		cmocka_unit_test(procfs_status_key_only_at_line_start),
		cmocka_unit_test(procfs_status_negative_number),
		cmocka_unit_test(procfs_status_missing_key),
		cmocka_unit_test(procfs_status_empty_value),
		cmocka_unit_test(procfs_status_overflow_rejected),
		cmocka_unit_test(procfs_status_without_final_newline),
		cmocka_unit_test(procfs_status_honours_length),
		cmocka_unit_test(procfs_status_garbage_bytes),
		cmocka_unit_test(procfs_read_file_sizes_around_buffer),
		cmocka_unit_test(procfs_read_file_missing_is_enoent),
		cmocka_unit_test(procfs_read_file_directory_is_eisdir),
		cmocka_unit_test(procfs_read_file_of_proc_status),
		cmocka_unit_test(procfs_read_status_field_own_pid),
		cmocka_unit_test(procfs_read_comm_own_pid),
		cmocka_unit_test(procfs_read_comm_absent_pid),
		cmocka_unit_test(procfs_read_exe_own_pid),
		cmocka_unit_test(procfs_read_exe_absent_pid),
		cmocka_unit_test(procfs_read_cmdline_own_pid),
		cmocka_unit_test(procfs_read_cmdline_absent_pid),
		cmocka_unit_test(procfs_thread_of_own_process),
		cmocka_unit_test(procfs_thread_of_other_process),
		cmocka_unit_test(procfs_read_comm_thread_name),
		cmocka_unit_test(procfs_exit_code_field),
	};

	self_argc = argc;
	self_argv = argv;
	return cmocka_run_group_tests_name("procfs", tests, NULL, NULL);
}
