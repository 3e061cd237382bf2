/*
 * Tests of the exec stack reader.  Each integration case starts a real
 * program stopped at its exec and checks that the arguments and name read
 * from its new stack equal what /proc shows, byte for byte.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <elf.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "forktrace/exec_stack.h"
#include "forktrace/procfs.h"
#include "harness.h"

extern char **environ;

/* How the child starts its program. */
enum exec_how { BY_PATH, BY_FD, BY_DIRFD, FROM_DIR };

struct exec_request {
	enum exec_how how;
	const char *path; /* a path, or the name under dir for BY_DIRFD */
	const char *dir; /* the directory for BY_DIRFD and FROM_DIR */
	const char *const *argv;
	char *const *envp;
	int input; /* a descriptor to run with as stdin, or 0 */
	int output; /* a descriptor to run with as stdout, or 0 */
};

static void
run_request(const struct exec_request *request)
{
	int fd;

	if (request->input > 0 && dup2(request->input, 0) < 0)
		return;
	if (request->output > 0 && dup2(request->output, 1) < 0)
		return;
	switch (request->how) {
	case BY_PATH:
		execve(request->path, (char *const *)request->argv,
		       request->envp);
		break;
	case BY_FD:
		fd = open(request->path, O_RDONLY);
		fexecve(fd, (char *const *)request->argv, request->envp);
		break;
	case BY_DIRFD:
		fd = open(request->dir, O_RDONLY | O_DIRECTORY);
		syscall(SYS_execveat, fd, request->path,
			(char *const *)request->argv, request->envp, 0);
		break;
	case FROM_DIR:
		if (chdir(request->dir) == 0)
			execve(request->path, (char *const *)request->argv,
			       request->envp);
		break;
	}
}

/*
 * Starts a child that runs request, and returns it stopped at its exec
 * event.  The child is killed with the test if the test fails.
 */
static pid_t
start_at_exec(const struct exec_request *request)
{
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		ptrace(PTRACE_TRACEME, 0, 0L, 0L);
		raise(SIGSTOP);
		run_request(request);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSTOPPED(status));
	assert_int_equal(ptrace(PTRACE_SETOPTIONS, pid, 0L,
				(long)(PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL)),
			 0);
	assert_int_equal(ptrace(PTRACE_CONT, pid, 0L, 0L), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!WIFSTOPPED(status))
		print_message("the child did not exec: status 0x%x\n", status);
	assert_true(WIFSTOPPED(status));
	assert_int_equal(status >> 8, SIGTRAP | (PTRACE_EVENT_EXEC << 8));
	return pid;
}

static void
end_child(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/*
 * Runs request and checks the reader against /proc.  from_stack is
 * whether the arguments must come from the stack.
 */
static void
check_request(const struct exec_request *request, bool from_stack)
{
	struct procfs_program fast = { 0 }, slow = { 0 };
	pid_t pid = start_at_exec(request);
	struct exec_mark mark;
	bool used_stack = exec_stack_read_program(pid, &fast, &mark);

	exec_stack_read_exe(pid, &fast, &mark, true);
	procfs_read_program(pid, &slow);
	end_child(pid);
	assert_int_equal(used_stack, from_stack);
	assert_non_null(slow.path);
	assert_non_null(fast.path);
	assert_string_equal(fast.path, slow.path);
	assert_string_equal(fast.comm, slow.comm);
	assert_int_equal(fast.args_len, slow.args_len);
	assert_memory_equal(fast.args, slow.args, slow.args_len);
	procfs_program_free(&fast);
	procfs_program_free(&slow);
}

static void
check_path(const char *path, const char *const *argv, char *const *envp)
{
	struct exec_request request = { BY_PATH, path, NULL, argv, envp };

	check_request(&request, true);
}

static void
test_exec_stack__plain_args(void **state)
{
	const char *argv[] = { "true", "a", "", "b c", "--x=y", NULL };

	(void)state;
	check_path("/bin/true", argv, environ);
}

static void
test_exec_stack__invalid_utf8_args(void **state)
{
	const char *argv[] = { "\xff\xfe", "\x1b[31mred", "\n", "caf\xc3",
			       NULL };

	(void)state;
	check_path("/bin/true", argv, environ);
}

static void
test_exec_stack__empty_environment(void **state)
{
	const char *argv[] = { "true", "only", NULL };
	char *envp[] = { NULL };

	(void)state;
	check_path("/bin/true", argv, envp);
}

static void
test_exec_stack__no_args(void **state)
{
	const char *argv[] = { NULL };

	(void)state;
	check_path("/bin/true", argv, environ);
}

/* One argument of 100 KB lies beyond the first read of the stack. */
static void
test_exec_stack__huge_arg(void **state)
{
	size_t len = 100 * 1024;
	char *big = malloc(len + 1);
	const char *argv[] = { "true", big, "after", NULL };

	(void)state;
	assert_non_null(big);
	memset(big, 'a', len);
	big[len] = '\0';
	check_path("/bin/true", argv, environ);
	free(big);
}

/* 20000 pointers do not fit the first read either. */
static void
test_exec_stack__many_args(void **state)
{
	size_t count = 20000, i;
	const char **argv = calloc(count + 1, sizeof(*argv));

	(void)state;
	assert_non_null(argv);
	for (i = 0; i < count; i++)
		argv[i] = i % 2 ? "x" : "";
	check_path("/bin/true", argv, environ);
	free(argv);
}

/* The kernel names a script by its own file name, cut to 15 bytes. */
static void
test_exec_stack__script_with_long_name(void **state)
{
	char path[4096];
	const char *argv[] = { "script", "one", NULL };
	FILE *fp;

	(void)state;
	snprintf(path, sizeof(path), "%s/a-script-with-a-long-name.sh",
		 test_tmpdir());
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("#!/bin/sh\nexit 0\n", fp);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(chmod(path, 0755), 0);
	check_path(path, argv, environ);
}

/* /proc/PID/comm drops the last newline of a 15-byte name. */
static void
test_exec_stack__name_ending_in_newline(void **state)
{
	char path[4096];
	const char *argv[] = { "newline", NULL };

	(void)state;
	snprintf(path, sizeof(path), "%s/abcdefghijklmn\n", test_tmpdir());
	assert_int_equal(symlink("/bin/true", path), 0);
	check_path(path, argv, environ);
}

static void
test_exec_stack__relative_path(void **state)
{
	const char *argv[] = { "true", "rel", NULL };
	struct exec_request request = { FROM_DIR, "./true", "/bin", argv,
					environ };

	(void)state;
	check_request(&request, true);
}

/* fexecve() gives the kernel a descriptor: comm comes from /proc then. */
static void
test_exec_stack__fexecve(void **state)
{
	const char *argv[] = { "by-fd", "x", NULL };
	struct exec_request request = { BY_FD, "/bin/true", NULL, argv,
					environ };

	(void)state;
	check_request(&request, true);
}

static void
test_exec_stack__execveat_dirfd(void **state)
{
	const char *argv[] = { "at-dir", NULL };
	struct exec_request request = { BY_DIRFD, "true", "/bin", argv,
					environ };

	(void)state;
	check_request(&request, true);
}

/* Returns the target of pid's exe link. */
static char *
exe_of(pid_t pid)
{
	char *path = NULL;

	assert_int_equal(procfs_read_exe(pid, &path), 0);
	return path;
}

/* Reads the program at its exec stop, and lets it run on. */
static pid_t
read_and_resume(const struct exec_request *request,
		struct procfs_program *program, struct exec_mark *mark)
{
	pid_t pid = start_at_exec(request);

	assert_true(exec_stack_read_program(pid, program, mark));
	assert_non_null(program->path);
	assert_string_equal(program->path, request->path);
	assert_int_equal(ptrace(PTRACE_CONT, pid, 0L, 0L), 0);
	return pid;
}

/* The exe link read while the program runs is its own. */
static void
test_exec_stack__exe_read_while_running(void **state)
{
	const char *argv[] = { "cat", NULL };
	struct exec_request request = { BY_PATH, "/bin/cat", NULL,
					argv,	 environ,    0 };
	struct procfs_program program = { 0 };
	struct exec_mark mark;
	int input[2];
	char *exe;
	pid_t pid;

	(void)state;
	/* cat waits on the pipe until the test ends it. */
	assert_int_equal(pipe2(input, O_CLOEXEC), 0);
	request.input = input[0];
	pid = read_and_resume(&request, &program, &mark);
	exec_stack_read_exe(pid, &program, &mark, false);
	exe = exe_of(pid);
	close(input[0]);
	close(input[1]);
	end_child(pid);
	assert_string_equal(program.path, exe);
	assert_string_not_equal(program.path, "/bin/cat");
	free(exe);
	procfs_program_free(&program);
}

/*
 * A Python program that zeroes its AT_RANDOM bytes, as the Go runtime does
 * at its start, then writes one byte to stdout and waits for stdin to close.
 */
#define CLEAR_RANDOM                                 \
	"import ctypes, os, sys\n"                   \
	"libc = ctypes.CDLL(None)\n"                 \
	"libc.getauxval.restype = ctypes.c_ulong\n"  \
	"ctypes.memset(libc.getauxval(25), 0, 16)\n" \
	"os.write(1, b'c')\n"                        \
	"sys.stdin.buffer.read()\n"

/* A program that cleared its AT_RANDOM bytes is still known by its name. */
static void
test_exec_stack__exe_after_random_cleared(void **state)
{
	const char *argv[] = { "python3", "-c", CLEAR_RANDOM, NULL };
	struct exec_request request = {
		BY_PATH, "/usr/bin/python3", NULL, argv, environ, 0, 0
	};
	struct procfs_program program = { 0 };
	struct exec_mark mark;
	int input[2], output[2];
	char *exe, cleared;
	pid_t pid;

	(void)state;
	assert_int_equal(pipe2(input, O_CLOEXEC), 0);
	assert_int_equal(pipe2(output, O_CLOEXEC), 0);
	request.input = input[0];
	request.output = output[1];
	pid = read_and_resume(&request, &program, &mark);
	close(output[1]);
	assert_int_equal(read(output[0], &cleared, 1), 1);
	exec_stack_read_exe(pid, &program, &mark, false);
	exe = exe_of(pid);
	close(input[0]);
	close(input[1]);
	close(output[0]);
	end_child(pid);
	assert_string_equal(program.path, exe);
	free(exe);
	procfs_program_free(&program);
}

/*
 * A program that exec'd again before its exe link was read keeps the file
 * name given to execve(), not the next program's exe.
 */
static void
test_exec_stack__exe_after_next_exec_is_not_taken(void **state)
{
	const char *argv[] = { "sh", "-c", "exec /bin/true", NULL };
	struct exec_request request = { BY_PATH, "/bin/sh", NULL,
					argv,	 environ,   0 };
	struct procfs_program program = { 0 };
	struct exec_mark mark;
	int status;
	char *exe;
	pid_t pid;

	(void)state;
	pid = read_and_resume(&request, &program, &mark);
	/* The shell's exec of true stops it again, with the new exe. */
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(status >> 8, SIGTRAP | (PTRACE_EVENT_EXEC << 8));
	exe = exe_of(pid);
	exec_stack_read_exe(pid, &program, &mark, false);
	end_child(pid);
	assert_string_equal(program.path, "/bin/sh");
	assert_string_not_equal(exe, "/bin/sh");
	free(exe);
	procfs_program_free(&program);
}

/* A program that ended before its exe link was read keeps its file name. */
static void
test_exec_stack__exe_after_end_is_the_file_name(void **state)
{
	const char *argv[] = { "cat", NULL };
	struct exec_request request = { BY_PATH, "/bin/cat", NULL,
					argv,	 environ,    0 };
	struct procfs_program program = { 0 };
	struct exec_mark mark;
	pid_t pid;

	(void)state;
	pid = read_and_resume(&request, &program, &mark);
	end_child(pid);
	exec_stack_read_exe(pid, &program, &mark, false);
	assert_string_equal(program.path, "/bin/cat");
	procfs_program_free(&program);
}

static void
test_exec_stack__parse_rejects_bad_layouts(void **state)
{
	uint64_t sp = 0x10000;
	uint64_t words[16] = { 0 };
	struct exec_stack layout;

	(void)state;
	/* Too short to hold argc and argv's end. */
	assert_int_equal(exec_stack_parse(words, 8, sp, &layout), 0);
	/* argc 0 is never what the kernel writes. */
	assert_int_equal(exec_stack_parse(words, sizeof(words), sp, &layout),
			 -1);
	/* argv without its NULL. */
	words[0] = 1;
	words[1] = sp + 0x100;
	words[2] = sp + 0x200;
	assert_int_equal(exec_stack_parse(words, sizeof(words), sp, &layout),
			 -1);
	/* No AT_EXECFN in the auxiliary vector. */
	words[2] = 0;
	words[3] = 0; /* no environment */
	words[4] = AT_PAGESZ;
	words[5] = 4096;
	words[6] = AT_NULL;
	assert_int_equal(exec_stack_parse(words, sizeof(words), sp, &layout),
			 -1);
	/* With it, the arguments end where the file name starts. */
	words[6] = AT_EXECFN;
	words[7] = sp + 0x110;
	words[8] = AT_NULL;
	assert_int_equal(exec_stack_parse(words, sizeof(words), sp, &layout),
			 1);
	assert_int_equal(layout.args_start, sp + 0x100);
	assert_int_equal(layout.args_end, sp + 0x110);
	/* Without AT_RANDOM, nothing can check a later read of exe. */
	assert_int_equal(layout.random, 0);
	words[4] = AT_RANDOM;
	words[5] = sp + 0x90;
	assert_int_equal(exec_stack_parse(words, sizeof(words), sp, &layout),
			 1);
	assert_int_equal(layout.random, sp + 0x90);
	/* The auxiliary vector cut short needs a longer read. */
	assert_int_equal(exec_stack_parse(words, 8 * 8, sp, &layout), 0);
}

static void
test_exec_stack__args_must_follow_each_other(void **state)
{
	uint64_t sp = 0x10000;
	uint64_t words[3] = { 2, sp + 0x100, sp + 0x103 };
	struct exec_stack layout = { .argc = 2,
				     .argv_index = 1,
				     .args_start = sp + 0x100,
				     .args_end = sp + 0x106 };

	(void)state;
	assert_true(exec_stack_args_match(words, &layout, "ab\0cd"));
	/* A gap between the strings is not what /proc would show. */
	assert_false(exec_stack_args_match(words, &layout, "a\0\0cd"));
	layout.args_end = sp + 0x107;
	assert_false(exec_stack_args_match(words, &layout, "ab\0cd\0x"));
}

static void
test_exec_stack__comm_of_file_names(void **state)
{
	char comm[16];

	(void)state;
	assert_true(exec_stack_comm("/usr/bin/true", comm));
	assert_string_equal(comm, "true");
	assert_true(exec_stack_comm("plain", comm));
	assert_string_equal(comm, "plain");
	assert_true(exec_stack_comm("/x/a-name-longer-than-15", comm));
	assert_string_equal(comm, "a-name-longer-t");
	assert_false(exec_stack_comm("/dev/fd/3", comm));
	assert_false(exec_stack_comm("/dev/fd/3/true", comm));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exec_stack__plain_args),
		cmocka_unit_test(test_exec_stack__invalid_utf8_args),
		cmocka_unit_test(test_exec_stack__empty_environment),
		cmocka_unit_test(test_exec_stack__no_args),
		cmocka_unit_test(test_exec_stack__huge_arg),
		cmocka_unit_test(test_exec_stack__many_args),
		cmocka_unit_test(test_exec_stack__script_with_long_name),
		cmocka_unit_test(test_exec_stack__name_ending_in_newline),
		cmocka_unit_test(test_exec_stack__relative_path),
		cmocka_unit_test(test_exec_stack__fexecve),
		cmocka_unit_test(test_exec_stack__execveat_dirfd),
		cmocka_unit_test(test_exec_stack__exe_read_while_running),
		cmocka_unit_test(
			test_exec_stack__exe_after_next_exec_is_not_taken),
		cmocka_unit_test(
			test_exec_stack__exe_after_end_is_the_file_name),
		cmocka_unit_test(test_exec_stack__exe_after_random_cleared),
		cmocka_unit_test(test_exec_stack__parse_rejects_bad_layouts),
		cmocka_unit_test(test_exec_stack__args_must_follow_each_other),
		cmocka_unit_test(test_exec_stack__comm_of_file_names),
	};

	return cmocka_run_group_tests_name("exec_stack", tests, NULL, NULL);
}
