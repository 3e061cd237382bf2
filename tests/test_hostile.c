/*
 * Integration tests with hostile input: program names that drive a
 * terminal or are not UTF-8, argument vectors of 100 KB, executables that
 * are truncated or corrupt, and a family that maps a damaged ELF file and
 * crashes inside it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

/* Bytes in the long argument vectors: one argument, or many together. */
#define LONG_ARGV_BYTES (100 * 1024)
/* Many arguments: MANY_COUNT words of 10 bytes, 100 KB in all. */
#define MANY_COUNT 10240
#define MANY_WORD  "word-%05d"
/* Columns of an argument vector in the text timeline without -v. */
#define TIMELINE_ARGS_WIDTH 200

/* A shell script that prints its argument count and a checksum of them. */
static const char print_args[] =
	"printf '%s\\n' \"$#\"; printf '%s\\0' \"$0\" \"$@\" | cksum";

/* A name that drives a terminal, with a newline and bytes not UTF-8. */
static const char name_not_utf8[] = "e\033]0;t\a\n\xff\xfe";
/* The same kind of name in valid UTF-8: an escape, a tab and U+00E9. */
static const char name_utf8[] = "u\033[31m\tr\xc3\xa9";

static unsigned char *
read_file(const char *path, size_t *len)
{
	struct stat st;
	unsigned char *data;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	data = malloc((size_t)st.st_size);
	assert_non_null(data);
	assert_int_equal(read(fd, data, (size_t)st.st_size), st.st_size);
	close(fd);
	*len = (size_t)st.st_size;
	return data;
}

/* Writes len bytes to a new executable test_tmpdir()/name; returns its path. */
static const char *
write_executable(const char *name, const unsigned char *data, size_t len)
{
	static char path[4][PATH_MAX];
	static unsigned next;
	char *p = path[next++ % 4];
	int fd;

	snprintf(p, PATH_MAX, "%s/%s", test_tmpdir(), name);
	unlink(p);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0755);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
	return p;
}

/* Copies an example to test_tmpdir()/name; returns the copy's path. */
static const char *
copy_example(const char *example, const char *name)
{
	size_t len;
	unsigned char *data = read_file(example_path(example), &len);
	const char *path = write_executable(name, data, len);

	free(data);
	return path;
}

static char *
hex_of(const char *s)
{
	static const char digits[] = "0123456789abcdef";
	size_t len = strlen(s), i;
	char *hex = malloc(2 * len + 1);

	assert_non_null(hex);
	for (i = 0; i < len; i++) {
		hex[2 * i] = digits[(unsigned char)s[i] >> 4];
		hex[2 * i + 1] = digits[(unsigned char)s[i] & 15];
	}
	hex[2 * len] = '\0';
	return hex;
}

/* Checks that an untrusted JSON value contains exactly the bytes of s. */
static void
assert_untrusted_equal(const json_t *value, const char *s, bool utf8)
{
	char *hex;

	assert_non_null(value);
	if (utf8) {
		assert_true(json_is_string(value));
		assert_string_equal(json_string_value(value), s);
		return;
	}
	hex = hex_of(s);
	assert_true(json_is_object(value));
	assert_string_equal(json_str(value, "hex"), hex);
	free(hex);
}

/* Returns the first line of text that contains needle, copied, or NULL. */
static char *
line_with(const char *text, const char *needle)
{
	const char *at = strstr(text, needle), *start, *end;

	if (!at)
		return NULL;
	start = at;
	while (start > text && start[-1] != '\n')
		start--;
	end = strchr(at, '\n');
	return strndup(start, end ? (size_t)(end - start) : strlen(start));
}

/* Returns true when a frame of the event's stack is function. */
static json_t *
stack_frame(json_t *event, const char *function)
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

/* Traces fork_tree copied under name and checks every process's names. */
static void
check_name_in_json(const char *name, bool utf8)
{
	char dir[PATH_MAX], path[PATH_MAX + 32];
	const char *command[] = { copy_example("fork_tree", name), NULL };
	struct trace_result r;
	json_t *exec, *frame;
	size_t i;

	assert_non_null(realpath(test_tmpdir(), dir));
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(trace_run(&r, NULL, command), 0);
	assert_false(r.timed_out);
	assert_int_equal(r.exit_code, 0);
	assert_int_equal(trace_process_count(&r), 5);

	exec = trace_event(&r, "exec", trace_root_pid(&r), 0);
	assert_non_null(exec);
	assert_untrusted_equal(json_object_get(exec, "comm"), name, utf8);
	assert_untrusted_equal(json_object_get(exec, "path"), path, utf8);
	assert_untrusted_equal(json_array_get(json_object_get(exec, "argv"), 0),
			       command[0], utf8);
	/* The forked children run the same program under the same name. */
	assert_int_equal(trace_count(&r, "fork", 0), 4);
	for (i = 0; i < 4; i++) {
		json_t *fork = trace_event(&r, "fork", 0, i);
		json_t *child =
			trace_process(&r, (pid_t)json_int(fork, "child"));

		assert_untrusted_equal(json_object_get(fork, "comm"), name,
				       utf8);
		assert_untrusted_equal(json_object_get(child, "comm"), name,
				       utf8);
		assert_untrusted_equal(json_object_get(child, "path"), path,
				       utf8);
		/*
		 * The renamed program's own symbols name its frames, and the
		 * module is its path, as /proc/PID/maps escapes no longer.
		 */
		frame = stack_frame(fork, "main");
		assert_non_null(frame);
		assert_untrusted_equal(json_object_get(frame, "module"), path,
				       utf8);
	}
	trace_result_free(&r);
}

static void
program_name_escaped_in_text(void **state)
{
	const char *args[] = { copy_example("fork_tree", name_not_utf8), NULL };
	const char *escaped = "e\\e]0;t\\x07\\n\\xff\\xfe";
	char expected[PATH_MAX + 64];
	struct trace_result r;
	const char *tree, *at;
	char *line;
	int children = 0;

	(void)state;
	assert_int_equal(forktrace_run(&r, args), 0);
	assert_false(r.timed_out);
	assert_int_equal(r.exit_code, 0);
	assert_non_null(strstr(r.out, "all workers done"));
	/* No byte that drives a terminal reaches it, nor a raw newline. */
	assert_null(strchr(r.err, '\033'));
	assert_null(strchr(r.err, '\a'));
	assert_null(strchr(r.err, '\xff'));
	assert_null(strstr(r.err, "\\x07\n"));

	/* The name in the timeline, before every event of the family. */
	snprintf(expected, sizeof(expected), " %s: exec ", escaped);
	line = line_with(r.err, expected);
	assert_non_null(line);
	snprintf(expected, sizeof(expected), "exec %s/%s: '%s/%s'",
		 test_tmpdir(), escaped, test_tmpdir(), escaped);
	assert_non_null(strstr(line, expected));
	free(line);
	snprintf(expected, sizeof(expected), " %s: fork ", escaped);
	assert_non_null(strstr(r.err, expected));
	snprintf(expected, sizeof(expected), " %s: exit 20 ", escaped);
	assert_non_null(strstr(r.err, expected));

	/*
	 * The tree names the root by its argv[0]'s base name, as a shell
	 * word, and the four forked children by their comm.
	 */
	tree = strstr(r.err, "\nPID PROGRAM ");
	assert_non_null(tree);
	snprintf(expected, sizeof(expected), " '%s' ", escaped);
	assert_non_null(strstr(tree, expected));
	snprintf(expected, sizeof(expected), " %s ", escaped);
	for (at = tree; (at = strstr(at, expected)); at++)
		children++;
	assert_int_equal(children, 4);
	trace_result_free(&r);
}

static void
program_name_lossless_in_json(void **state)
{
	(void)state;
	check_name_in_json(name_not_utf8, false);
	check_name_in_json(name_utf8, true);
}

/* Returns LONG_ARGV_BYTES of letters and digits, NUL-terminated. */
static char *
long_word(void)
{
	static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	char *word = malloc(LONG_ARGV_BYTES + 1);
	size_t i;

	assert_non_null(word);
	for (i = 0; i < LONG_ARGV_BYTES; i++)
		word[i] = alphabet[(i * 7 + i / 36) % 36];
	word[LONG_ARGV_BYTES] = '\0';
	return word;
}

/* Checks that the program's output is the same traced and untraced. */
static void
assert_same_output_untraced(const struct trace_result *traced,
			    const char *const *command, const char *count)
{
	struct trace_result plain;
	char expected[32];

	assert_int_equal(plain_run(&plain, command), 0);
	assert_false(plain.timed_out);
	assert_int_equal(plain.exit_code, 0);
	snprintf(expected, sizeof(expected), "%s\n", count);
	assert_int_equal(strncmp(plain.out, expected, strlen(expected)), 0);
	assert_string_equal(traced->out, plain.out);
	trace_result_free(&plain);
}

static void
long_argument_full_in_json(void **state)
{
	char *word = long_word();
	const char *command[] = { "sh", "-c", print_args, "sh", word, NULL };
	struct trace_result r;
	json_t *argv;

	(void)state;
	assert_int_equal(trace_run(&r, NULL, command), 0);
	assert_false(r.timed_out);
	assert_int_equal(r.exit_code, 0);
	argv = json_object_get(trace_event(&r, "exec", trace_root_pid(&r), 0),
			       "argv");
	assert_int_equal(json_array_size(argv), 5);
	assert_int_equal(json_string_length(json_array_get(argv, 4)),
			 LONG_ARGV_BYTES);
	assert_string_equal(json_string_value(json_array_get(argv, 4)), word);
	argv = json_object_get(trace_process(&r, trace_root_pid(&r)), "argv");
	assert_string_equal(json_string_value(json_array_get(argv, 4)), word);
	assert_same_output_untraced(&r, command, "1");
	trace_result_free(&r);
	free(word);
}

static void
long_argument_cut_in_text(void **state)
{
	char *word = long_word();
	const char *args[] = { "sh", "-c", print_args, "sh", word, NULL };
	const char *verbose[] = {
		"-v", "sh", "-c", print_args, "sh", word, NULL
	};
	struct trace_result r;
	char *line, *words, expected[64];

	(void)state;
	snprintf(expected, sizeof(expected), " sh %.20s", word);
	assert_int_equal(forktrace_run(&r, args), 0);
	assert_int_equal(r.exit_code, 0);
	line = line_with(r.err, "sh: exec ");
	assert_non_null(line);
	/* The timeline shows the first columns of argv, then "...". */
	words = strstr(line, ": sh -c ");
	assert_non_null(words);
	assert_int_equal(strlen(words + 2), TIMELINE_ARGS_WIDTH);
	assert_string_equal(words + strlen(words) - 3, "...");
	assert_int_equal(strncmp(words, ": sh -c 'printf ", 16), 0);
	assert_non_null(strstr(words, expected));
	free(line);
	trace_result_free(&r);

	/* -v shows the whole argument. */
	assert_int_equal(forktrace_run(&r, verbose), 0);
	assert_int_equal(r.exit_code, 0);
	line = line_with(r.err, "sh: exec ");
	assert_non_null(line);
	words = strstr(line, "' sh ");
	assert_non_null(words);
	assert_string_equal(words + 5, word);
	free(line);
	trace_result_free(&r);
	free(word);
}

static void
many_arguments_full_in_json(void **state)
{
	char script[512], count[16], word[16];
	const char *command[] = { "sh", "-c", script, NULL };
	struct trace_result r;
	json_t *exec, *argv;
	size_t i;

	(void)state;
	/* The shell builds the argument vector and execs the counter. */
	snprintf(script, sizeof(script),
		 "exec sh -c '%s' sh $(i=0; while [ $i -lt %d ]; do "
		 "printf '%s ' $i; i=$((i + 1)); done)",
		 "printf \"%s\\n\" \"$#\"; "
		 "printf \"%s\\0\" \"$0\" \"$@\" | cksum",
		 MANY_COUNT, MANY_WORD);
	snprintf(count, sizeof(count), "%d", MANY_COUNT);
	assert_int_equal(trace_run(&r, NULL, command), 0);
	assert_false(r.timed_out);
	assert_int_equal(r.exit_code, 0);

	/* The root's second exec is the counter's. */
	exec = trace_event(&r, "exec", trace_root_pid(&r), 1);
	assert_non_null(exec);
	argv = json_object_get(exec, "argv");
	assert_int_equal(json_array_size(argv), 4 + MANY_COUNT);
	assert_string_equal(json_string_value(json_array_get(argv, 3)), "sh");
	for (i = 0; i < MANY_COUNT; i++) {
		snprintf(word, sizeof(word), MANY_WORD, (int)i);
		assert_string_equal(
			json_string_value(json_array_get(argv, 4 + i)), word);
	}
	assert_same_output_untraced(&r, command, count);
	trace_result_free(&r);
}

/*
 * Returns the errno of an execve() of path, or 0 when the kernel started
 * it, which then ran untraced to its end.
 */
static int
exec_errno(const char *path)
{
	int fds[2], err = 0, status;
	pid_t pid;

	assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		char *argv[] = { (char *)path, NULL };

		dup2(null, 1);
		dup2(null, 2);
		alarm(TRACE_TIMEOUT);
		execve(path, argv, environ);
		err = errno;
		if (write(fds[1], &err, sizeof(err)) < 0)
			_exit(126);
		_exit(126);
	}
	close(fds[1]);
	if (read(fds[0], &err, sizeof(err)) != (ssize_t)sizeof(err))
		err = 0;
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return err;
}

/*
 * Checks that forktrace runs path, a damaged executable, as the shell
 * does: the same exit status, and the errno's message when the exec
 * failed.  forktrace itself must not crash.
 */
static void
assert_runs_like_shell(const char *path)
{
	const char *shell[] = { "sh", "-c", "\"$0\"", path, NULL };
	const char *args[] = { "-qq", path, NULL };
	struct trace_result plain, r;
	char expected[PATH_MAX + 128];
	int err = exec_errno(path);

	assert_int_equal(plain_run(&plain, shell), 0);
	assert_false(plain.timed_out);
	/*
	 * valgrind 3.19 ends forktrace's child with status 101 when an
	 * execve() that passed its own checks fails, so a wrapped forktrace
	 * only runs the files that the kernel starts.
	 */
	if (err && forktrace_wrapped()) {
		trace_result_free(&plain);
		return;
	}
	assert_int_equal(forktrace_run(&r, args), 0);
	assert_false(r.timed_out);
	if (plain.exit_code > 128) {
		/* The shell gives 128+N for signal N; forktrace ends by N. */
		assert_int_equal(r.exit_code, -1);
		assert_int_equal(r.signal, plain.exit_code - 128);
	} else {
		assert_int_equal(r.signal, 0);
		if (r.exit_code != plain.exit_code)
			fail_msg("%s: forktrace exited %d, the shell %d", path,
				 r.exit_code, plain.exit_code);
	}
	if (err == ENOEXEC && plain.exit_code == 0) {
		/* Text without a NUL in its first line runs as a script. */
		assert_string_equal(r.err, "");
	} else if (err) {
		assert_int_equal(r.exit_code, 126);
		snprintf(expected, sizeof(expected),
			 "forktrace: cannot run '%s': %s\n", path,
			 strerror(err));
		assert_string_equal(r.err, expected);
	} else {
		assert_string_equal(r.err, "");
	}
	trace_result_free(&plain);
	trace_result_free(&r);
}

static void
truncated_elf_runs_like_shell(void **state)
{
	static const size_t sizes[] = { 0, 4, 16, 63, 64, 200, 1000, 4096 };
	const char *path;
	unsigned char *data;
	char name[32];
	size_t len, i;

	(void)state;
	data = read_file(example_path("fork_tree"), &len);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		snprintf(name, sizeof(name), "truncated-%zu", sizes[i]);
		path = write_executable(name, data, sizes[i]);
		assert_runs_like_shell(path);
	}
	path = write_executable("truncated-half", data, len / 2);
	assert_runs_like_shell(path);
	free(data);
}

static void
corrupt_elf_runs_like_shell(void **state)
{
	static const struct {
		const char *name;
		size_t offset; /* where the garbage goes */
		size_t len;
	} cases[] = {
		{ "bad-class", EI_CLASS, 1 },
		{ "bad-machine", offsetof(Elf64_Ehdr, e_machine), 2 },
		{ "bad-phoff", offsetof(Elf64_Ehdr, e_phoff), 8 },
		{ "bad-phnum", offsetof(Elf64_Ehdr, e_phnum), 2 },
		{ "bad-phentsize", offsetof(Elf64_Ehdr, e_phentsize), 2 },
		{ "bad-shoff", offsetof(Elf64_Ehdr, e_shoff), 8 },
		{ "bad-phdrs", sizeof(Elf64_Ehdr), 4 * sizeof(Elf64_Phdr) },
	};
	unsigned char *data, *copy;
	size_t len, i;

	(void)state;
	data = read_file(example_path("fork_tree"), &len);
	copy = malloc(len);
	assert_non_null(copy);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memcpy(copy, data, len);
		memset(copy + cases[i].offset, 0xa5, cases[i].len);
		assert_runs_like_shell(
			write_executable(cases[i].name, copy, len));
	}
	free(copy);
	free(data);
}

/* Checks the family of map_bad_elf; returns the crashed child's pid. */
static pid_t
check_bad_elf_family(const struct trace_result *r, const char *bad_path)
{
	json_t *root, *child, *signal, *frame;
	pid_t crasher;

	assert_false(r->timed_out);
	assert_int_equal(r->signal, 0);
	assert_int_equal(r->exit_code, 0);
	assert_string_equal(r->out, "child killed by signal 11\n");
	assert_int_equal(trace_process_count(r), 2);
	root = trace_process(r, trace_root_pid(r));
	assert_int_equal(json_int(root, "exit_code"), 0);
	child = json_array_get(json_object_get(root, "children"), 0);
	assert_non_null(child);
	crasher = (pid_t)json_int(child, "pid");
	assert_string_equal(json_str(child, "signal"), "SIGSEGV");
	assert_null(json_object_get(child, "exit_code"));

	/* The fault's pc is in the damaged file, 9 bytes in. */
	signal = trace_event(r, "signal", crasher, 0);
	assert_non_null(signal);
	assert_string_equal(json_str(signal, "signal"), "SIGSEGV");
	assert_string_equal(json_str(signal, "addr"), "0x0");
	frame = json_array_get(json_object_get(signal, "stack"), 0);
	assert_non_null(frame);
	assert_string_equal(json_str(frame, "module"), bad_path);
	assert_int_equal(json_int(frame, "offset"), EI_PAD);
	assert_null(json_object_get(frame, "function"));
	return crasher;
}

static void
trace_bad_elf_mapping(const char *mode)
{
	char dir[PATH_MAX], bad_path[PATH_MAX + 32];
	const char *command[] = { example_path("map_bad_elf"), mode, bad_path,
				  NULL };
	const char *all[] = { "--stacks=all", NULL };
	struct trace_result r;
	json_t *exit, *fork;
	pid_t crasher;

	assert_non_null(realpath(test_tmpdir(), dir));
	snprintf(bad_path, sizeof(bad_path), "%s/%s.so", dir, mode);

	assert_int_equal(trace_run(&r, NULL, command), 0);
	check_bad_elf_family(&r, bad_path);
	fork = trace_event(&r, "fork", trace_root_pid(&r), 0);
	assert_non_null(json_object_get(fork, "stack"));
	trace_result_free(&r);

	assert_int_equal(trace_run(&r, all, command), 0);
	crasher = check_bad_elf_family(&r, bad_path);
	/* The crashed child's exit stack starts in the file too. */
	exit = trace_event(&r, "exit", crasher, 0);
	assert_non_null(exit);
	assert_string_equal(
		json_str(json_array_get(json_object_get(exit, "stack"), 0),
			 "module"),
		bad_path);
	exit = trace_event(&r, "exit", trace_root_pid(&r), 0);
	assert_non_null(json_object_get(exit, "stack"));
	trace_result_free(&r);
}

static void
mapped_truncated_library_crash(void **state)
{
	(void)state;
	trace_bad_elf_mapping("truncated");
}

static void
mapped_corrupt_sections_crash(void **state)
{
	(void)state;
	trace_bad_elf_mapping("corrupt");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(program_name_escaped_in_text),
		cmocka_unit_test(program_name_lossless_in_json),
		cmocka_unit_test(long_argument_full_in_json),
		cmocka_unit_test(long_argument_cut_in_text),
		cmocka_unit_test(many_arguments_full_in_json),
		cmocka_unit_test(truncated_elf_runs_like_shell),
		cmocka_unit_test(corrupt_elf_runs_like_shell),
		cmocka_unit_test(mapped_truncated_library_crash),
		cmocka_unit_test(mapped_corrupt_sections_crash),
	};

	return cmocka_run_group_tests_name("hostile", tests, NULL, NULL);
}
