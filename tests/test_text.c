/* Unit tests of the text output: timeline lines and the family tree. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "forktrace/family.h"
#include "forktrace/hang.h"
#include "forktrace/output.h"

#include "events.h"

/* The column headings under the first line of the tree. */
#define TREE_HEADER                                                          \
	"PID PROGRAM                                        START LIFETIME " \
	"END\n"

#define ROOT_PID 100
/* The column where the tree's times start (TREE_NAME_COLUMN, out_text.c). */
#define NAME_COLUMN 46

/* An output that writes to memory, and the family it reports on. */
struct capture {
	struct ft_options opts;
	struct ft_family *family;
	struct ft_output *out;
	FILE *fp;
	char *text;
	size_t len;
};

/* Starts a text output with the root process already in the family. */
static void
capture_start(struct capture *c)
{
	struct ft_process *root;

	c->family = family_new();
	root = family_add_root(c->family, ROOT_PID, FT_ORIGIN_ROOT, 0);
	root->ppid = 1;
	c->fp = open_memstream(&c->text, &c->len);
	assert_non_null(c->fp);
	c->out = output_new(&c->opts, c->fp);
	c->out->ops->begin(c->out);
}

/* Applies an event to the model only, as history before the test. */
static void
setup_event(struct capture *c, const struct ft_event *event)
{
	assert_true(family_apply(c->family, event));
}

/*
 * Applies an event and hands it to the output as the tracer does, with the
 * record taken before the model drops an ended process from its map.
 */
static void
deliver(struct capture *c, const struct ft_event *event)
{
	struct ft_process *process = family_process(c->family, event->pid);

	assert_true(family_apply(c->family, event));
	c->out->ops->event(c->out, event, process);
}

static void
capture_close(struct capture *c)
{
	output_free(c->out);
	c->out = NULL;
	fclose(c->fp);
	c->fp = NULL;
}

static void
capture_end(struct capture *c, uint64_t time_ns)
{
	struct ft_summary summary = { .time_ns = time_ns };

	c->out->ops->end(c->out, c->family, &summary);
	capture_close(c);
}

static void
capture_free(struct capture *c)
{
	free(c->text);
	family_free(c->family);
}

static struct ft_event
signal_event(pid_t pid, int signo, int si_code, uint64_t time_ns)
{
	struct ft_event event = make_event(FT_EVENT_SIGNAL, pid, time_ns);

	event.signo = signo;
	event.si_code = si_code;
	return event;
}

/* Runs "sh -c x" in the root before the test's own events. */
static void
setup_root_sh(struct capture *c)
{
	static const char args[] = "sh\0-c\0x\0";
	struct ft_event event = exec_event(ROOT_PID, "/bin/sh", "sh", args,
					   sizeof(args) - 1, 0);

	setup_event(c, &event);
}

/* Delivers one event after setup_root_sh() and checks the single line. */
static void
check_one_line(const struct ft_options *opts, const struct ft_event *event,
	       const char *expected)
{
	struct capture c = { .opts = *opts };

	capture_start(&c);
	setup_root_sh(&c);
	deliver(&c, event);
	capture_close(&c);
	assert_string_equal(c.text, expected);
	capture_free(&c);
}

static const struct ft_options plain_opts = { 0 };

/* forktrace's own pid is named as forktrace: it passed the signal on. */
static void
text_signal_passed_on(void **state)
{
	struct ft_event event = signal_event(ROOT_PID, SIGTERM, SI_USER, 2000);
	char expected_line[96];

	(void)state;
	event.has_sender = true;
	event.sender_pid = getpid();
	check_one_line(&plain_opts, &event,
		       "  0.000002 100 sh: signal SIGTERM passed on by "
		       "forktrace\n");
	event.sender_pid = getpid() + 1;
	event.sender_uid = 7;
	snprintf(expected_line, sizeof(expected_line),
		 "  0.000002 100 sh: signal SIGTERM from %d (uid 7)\n",
		 (int)getpid() + 1);
	check_one_line(&plain_opts, &event, expected_line);
}

static void
text_fork_line(void **state)
{
	struct ft_event event =
		creation_event(FT_EVENT_FORK, ROOT_PID, 101, 1500000);

	(void)state;
	check_one_line(&plain_opts, &event, "  0.001500 100 sh: fork 101\n");
}

/*
 * A stripped program's fork stack: its frames have no names, glibc's
 * startup frames are left out, and so is the nameless _start below them.
 */
static void
text_stripped_startup_left_out(void **state)
{
	struct ft_frame frames[] = {
		{ .pc = 0x7f0000001008,
		  .module = "/lib/libc.so.6",
		  .function = "__vfork",
		  .offset = 8 },
		{ .pc = 0x5500000015aa,
		  .module = "/usr/bin/dash",
		  .offset = 0x15aa },
		{ .pc = 0x550000001369,
		  .module = "/usr/bin/dash",
		  .offset = 0x1369 },
		{ .pc = 0x7f000000207a,
		  .module = "/lib/libc.so.6",
		  .function = "__libc_start_call_main",
		  .offset = 0x7a },
		{ .pc = 0x7f0000002185,
		  .module = "/lib/libc.so.6",
		  .function = "__libc_start_main",
		  .offset = 0x85 },
		{ .pc = 0x550000001021,
		  .module = "/usr/bin/dash",
		  .offset = 0x1021 },
	};
	struct ft_stack stack = { frames, sizeof(frames) / sizeof(frames[0]),
				  NULL, NULL };
	struct ft_event event =
		creation_event(FT_EVENT_VFORK, ROOT_PID, 101, 1500000);

	(void)state;
	event.stack = &stack;
	check_one_line(&plain_opts, &event,
		       "  0.001500 100 sh: vfork 101\n"
		       "               at __vfork+0x8 (libc.so.6)\n"
		       "               at 0x5500000015aa (dash+0x15aa)\n"
		       "               at 0x550000001369 (dash+0x1369)\n");
}

static void
text_vfork_and_thread_lines(void **state)
{
	struct ft_event vfork =
		creation_event(FT_EVENT_VFORK, ROOT_PID, 102, 2000000);
	struct ft_event thread =
		creation_event(FT_EVENT_THREAD, ROOT_PID, 150, 12345678901);

	(void)state;
	check_one_line(&plain_opts, &vfork, "  0.002000 100 sh: vfork 102\n");
	check_one_line(&plain_opts, &thread, " 12.345679 100 sh: thread 150\n");
}

static void
text_child_line_indented(void **state)
{
	struct capture c = { 0 };
	struct ft_event events[] = {
		creation_event(FT_EVENT_FORK, ROOT_PID, 101, 1000000),
		creation_event(FT_EVENT_FORK, 101, 102, 2000000),
	};
	struct ft_event grandchild =
		creation_event(FT_EVENT_FORK, 102, 103, 3000000);

	(void)state;
	capture_start(&c);
	setup_root_sh(&c);
	setup_event(&c, &events[0]);
	setup_event(&c, &events[1]);
	deliver(&c, &grandchild);
	capture_close(&c);
	/* Two columns per generation, after the time. */
	assert_string_equal(c.text, "  0.003000     102 sh: fork 103\n");
	capture_free(&c);
}

static void
text_deep_indent_shows_depth(void **state)
{
	struct capture c = { 0 };
	struct ft_event last;
	pid_t pid;

	(void)state;
	capture_start(&c);
	setup_root_sh(&c);
	/* A chain of 13 generations below the root. */
	for (pid = ROOT_PID; pid < ROOT_PID + 13; pid++) {
		struct ft_event event =
			creation_event(FT_EVENT_FORK, pid, pid + 1, 1000);

		setup_event(&c, &event);
	}
	last = creation_event(FT_EVENT_FORK, ROOT_PID + 13, 200, 2000000);
	deliver(&c, &last);
	capture_close(&c);
	/* Depths past 12 are drawn at 12 with the depth written out. */
	assert_string_equal(c.text, "  0.002000                     +13 113 sh:"
				    " fork 200\n");
	capture_free(&c);
}

static void
text_exec_line_with_args(void **state)
{
	static const char args[] = "ls\0-l\0my file\0";
	struct ft_event event = exec_event(ROOT_PID, "/usr/bin/ls", "ls", args,
					   sizeof(args) - 1, 4000000);

	(void)state;
	/* The name is the new program's. */
	check_one_line(
		&plain_opts, &event,
		"  0.004000 100 ls: exec /usr/bin/ls: ls -l 'my file'\n");
}

static void
text_exec_escapes_terminal_codes(void **state)
{
	static const char args[] = "\033[2J\0a\tb\0";
	struct capture c = { 0 };
	struct ft_event event = exec_event(ROOT_PID, "/tmp/\033[2J", "\033[2J",
					   args, sizeof(args) - 1, 4000000);

	(void)state;
	capture_start(&c);
	deliver(&c, &event);
	capture_close(&c);
	assert_string_equal(c.text, "  0.004000 100 \\e[2J: exec /tmp/\\e[2J: "
				    "'\\e[2J' 'a\\tb'\n");
	assert_null(strchr(c.text, '\033'));
	capture_free(&c);
}

static void
text_exec_by_thread_names_caller(void **state)
{
	static const char args[] = "true\0";
	struct capture c = { 0 };
	struct ft_event thread =
		creation_event(FT_EVENT_THREAD, ROOT_PID, 150, 1000);
	struct ft_event event = exec_event(ROOT_PID, "/bin/true", "true", args,
					   sizeof(args) - 1, 5000000);

	(void)state;
	capture_start(&c);
	setup_root_sh(&c);
	setup_event(&c, &thread);
	event.former_tid = 150;
	deliver(&c, &event);
	capture_close(&c);
	assert_string_equal(c.text, "  0.005000 100 true: exec /bin/true: true"
				    " (called by thread 150)\n");
	capture_free(&c);
}

static void
text_exec_long_args_cut_unless_verbose(void **state)
{
	char args[302];
	struct ft_event event;
	struct capture c = { 0 };
	const char *colon;

	(void)state;
	/* "x" and then one argument of 299 letters y. */
	memcpy(args, "x", 2);
	memset(args + 2, 'y', sizeof(args) - 3);
	args[sizeof(args) - 1] = '\0';
	event = exec_event(ROOT_PID, "/bin/x", "x", args, sizeof(args), 1000);

	capture_start(&c);
	deliver(&c, &event);
	capture_close(&c);
	colon = strstr(c.text, "/bin/x: ");
	assert_non_null(colon);
	colon += strlen("/bin/x: ");
	/* 200 columns of arguments, the last three of them dots. */
	assert_int_equal(strlen(colon), 200 + 1);
	assert_string_equal(colon + 197, "...\n");
	capture_free(&c);

	memset(&c, 0, sizeof(c));
	c.opts.verbose = 1;
	capture_start(&c);
	deliver(&c, &event);
	capture_close(&c);
	colon = strstr(c.text, "/bin/x: ") + strlen("/bin/x: ");
	assert_int_equal(strlen(colon), 2 + 299 + 1);
	assert_null(strstr(c.text, "..."));
	capture_free(&c);
}

/*
 * Times and lifetimes are formatted without printf: they must read as
 * printf's "%10.6f" of seconds and "%.1fms" or "%.3fs" would, at the
 * halves, the carries into the next unit and the switch from ms to s.
 */
static void
text_times_match_printf(void **state)
{
	static const uint64_t times[] = {
		0,	     1,		  499,
		500,	     501,	  999,
		1000,	     1499,	  1500,
		49999,	     50000,	  50001,
		99999,	     999999,	  999999499,
		999999500,   999999501,	  999999999,
		1000000000,  1000049999,  1000050000,
		1000500000,  1234567890,  9999999999,
		10000000000, 86399999999, 123456789012345ull,
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
		struct capture c = { 0 };
		struct ft_event fork_event =
			creation_event(FT_EVENT_FORK, ROOT_PID, 101, 0);
		struct ft_event event =
			exit_event(101, 101, W_EXITCODE(0, 0), times[i]);
		char expected[128], lifetime[32];
		double ns = (double)times[i];

		if (times[i] < 1000000000u)
			snprintf(lifetime, sizeof(lifetime), "%.1fms",
				 ns / 1e6);
		else
			snprintf(lifetime, sizeof(lifetime), "%.3fs", ns / 1e9);
		snprintf(expected, sizeof(expected),
			 "%10.6f   101 sh: exit 0 after %s\n", ns / 1e9,
			 lifetime);
		capture_start(&c);
		setup_root_sh(&c);
		setup_event(&c, &fork_event);
		deliver(&c, &event);
		capture_close(&c);
		assert_string_equal(c.text, expected);
		capture_free(&c);
	}
}

static void
text_exit_line_with_code(void **state)
{
	struct capture c = { 0 };
	struct ft_event fork_event =
		creation_event(FT_EVENT_FORK, ROOT_PID, 101, 1000000);
	struct ft_event event = exit_event(101, 101, W_EXITCODE(3, 0), 3500000);

	(void)state;
	capture_start(&c);
	setup_root_sh(&c);
	setup_event(&c, &fork_event);
	deliver(&c, &event);
	capture_close(&c);
	assert_string_equal(c.text,
			    "  0.003500   101 sh: exit 3 after 2.5ms\n");
	capture_free(&c);
}

static void
text_exit_line_killed_core(void **state)
{
	struct ft_event event =
		exit_event(ROOT_PID, ROOT_PID, SIGSEGV | WCOREFLAG, 2000000);

	(void)state;
	check_one_line(&plain_opts, &event,
		       "  0.002000 100 sh: killed by SIGSEGV (core dumped) "
		       "after 2.0ms\n");
}

static void
text_exit_line_long_duration(void **state)
{
	struct ft_event event =
		exit_event(ROOT_PID, ROOT_PID, SIGTERM, 1250000000);

	(void)state;
	check_one_line(&plain_opts, &event,
		       "  1.250000 100 sh: killed by SIGTERM after 1.250s\n");
}

static void
text_thread_exit_line(void **state)
{
	struct capture c = { 0 };
	struct ft_event thread =
		creation_event(FT_EVENT_THREAD, ROOT_PID, 150, 1000);
	struct ft_event event = exit_event(ROOT_PID, 150, 0, 7000000);

	(void)state;
	capture_start(&c);
	setup_root_sh(&c);
	setup_event(&c, &thread);
	deliver(&c, &event);
	capture_close(&c);
	assert_string_equal(c.text, "  0.007000 100/150 sh: thread exit 0\n");
	capture_free(&c);
}

static void
text_signal_line_with_sender(void **state)
{
	struct ft_event event =
		signal_event(ROOT_PID, SIGTERM, SI_USER, 8000000);

	(void)state;
	event.has_sender = true;
	event.sender_pid = 50;
	event.sender_uid = 1000;
	check_one_line(
		&plain_opts, &event,
		"  0.008000 100 sh: signal SIGTERM from 50 (uid 1000)\n");
}

static void
text_signal_line_code_and_address(void **state)
{
	struct ft_event fault =
		signal_event(ROOT_PID, SIGSEGV, SEGV_MAPERR, 9000000);
	struct ft_event kernel =
		signal_event(ROOT_PID, SIGINT, SI_KERNEL, 9000000);
	struct ft_event unknown =
		signal_event(ROOT_PID, SIGUSR1, 12345, 9000000);

	(void)state;
	fault.has_addr = true;
	fault.fault_addr = 0x10;
	check_one_line(&plain_opts, &fault,
		       "  0.009000 100 sh: signal SIGSEGV (SEGV_MAPERR) at "
		       "0x10\n");
	check_one_line(&plain_opts, &kernel,
		       "  0.009000 100 sh: signal SIGINT (SI_KERNEL)\n");
	check_one_line(&plain_opts, &unknown,
		       "  0.009000 100 sh: signal SIGUSR1\n");
}

static void
text_signal_from_thread_shows_tid(void **state)
{
	struct capture c = { 0 };
	struct ft_event thread =
		creation_event(FT_EVENT_THREAD, ROOT_PID, 150, 1000);
	struct ft_event event = signal_event(ROOT_PID, SIGUSR2, 12345, 2000000);

	(void)state;
	event.tid = 150;
	capture_start(&c);
	setup_root_sh(&c);
	setup_event(&c, &thread);
	deliver(&c, &event);
	capture_close(&c);
	assert_string_equal(c.text, "  0.002000 100/150 sh: signal SIGUSR2\n");
	capture_free(&c);
}

static void
text_sigchld_hidden_unless_verbose(void **state)
{
	struct ft_options verbose = { .verbose = 1 };
	struct ft_event event =
		signal_event(ROOT_PID, SIGCHLD, CLD_EXITED, 3000000);

	(void)state;
	event.has_sender = true;
	event.sender_pid = 101;
	event.sender_uid = 0;
	check_one_line(&plain_opts, &event, "");
	check_one_line(&verbose, &event,
		       "  0.003000 100 sh: signal SIGCHLD from 101 (uid 0)\n");
}

static void
text_stop_continue_detach_lines(void **state)
{
	struct capture c = { 0 };
	struct ft_event stop = make_event(FT_EVENT_STOP, ROOT_PID, 1000000);
	struct ft_event resumed =
		make_event(FT_EVENT_CONTINUE, ROOT_PID, 2000000);
	struct ft_event detach = make_event(FT_EVENT_DETACH, ROOT_PID, 3000000);

	(void)state;
	stop.signo = SIGTSTP;
	capture_start(&c);
	setup_root_sh(&c);
	deliver(&c, &stop);
	deliver(&c, &resumed);
	deliver(&c, &detach);
	capture_close(&c);
	assert_string_equal(c.text, "  0.001000 100 sh: stopped by SIGTSTP\n"
				    "  0.002000 100 sh: continued\n"
				    "  0.003000 100 sh: detached, still "
				    "running\n");
	capture_free(&c);
}

static void
text_wall_clock_time_of_day(void **state)
{
	struct capture c = { .opts = { .wall_clock = true } };
	struct ft_event event =
		creation_event(FT_EVENT_FORK, ROOT_PID, 101, 2000);

	(void)state;
	setenv("TZ", "UTC", 1);
	tzset();
	capture_start(&c);
	setup_root_sh(&c);
	/* 2023-11-14 22:13:20.999999 UTC, so 2 us later is the next second. */
	c.out->start_wall.tv_sec = 1700000000;
	c.out->start_wall.tv_nsec = 999999000;
	deliver(&c, &event);
	capture_close(&c);
	assert_string_equal(c.text, "22:13:21.000001 100 sh: fork 101\n");
	capture_free(&c);
}

/* Under -t the stack lines still start 4 columns right of the pid. */
static void
text_wall_clock_stack_indent(void **state)
{
	struct ft_frame frames[] = {
		{ .pc = 0x7f0000001008,
		  .module = "/lib/libc.so.6",
		  .function = "__fork",
		  .offset = 8 },
	};
	struct ft_stack stack = { frames, 1, NULL, NULL };
	struct capture c = { .opts = { .wall_clock = true } };
	struct ft_event event =
		creation_event(FT_EVENT_FORK, ROOT_PID, 101, 2000);

	(void)state;
	setenv("TZ", "UTC", 1);
	tzset();
	event.stack = &stack;
	capture_start(&c);
	setup_root_sh(&c);
	c.out->start_wall.tv_sec = 1700000000;
	c.out->start_wall.tv_nsec = 0;
	deliver(&c, &event);
	capture_close(&c);
	assert_string_equal(c.text, "22:13:20.000002 100 sh: fork 101\n"
				    "                    at __fork+0x8 "
				    "(libc.so.6)\n");
	capture_free(&c);
}

/* Appends one tree row: left padded to the name column, then right. */
static void
add_row(FILE *fp, const char *left, const char *right)
{
	fprintf(fp, "%-*s %s\n", NAME_COLUMN, left, right);
}

static void
text_tree_rows_and_prefixes(void **state)
{
	static const char ls_args[] = "ls\0-l\0";
	struct capture c = { 0 };
	struct ft_event events[] = {
		creation_event(FT_EVENT_FORK, ROOT_PID, 101, 1000000),
		exec_event(101, "/bin/ls", "ls", ls_args, sizeof(ls_args) - 1,
			   2000000),
		creation_event(FT_EVENT_FORK, 101, 103, 3000000),
		creation_event(FT_EVENT_VFORK, ROOT_PID, 102, 4000000),
		exit_event(103, 103, SIGSEGV | WCOREFLAG, 5000000),
		exit_event(101, 101, W_EXITCODE(3, 0), 6000000),
		exit_event(102, 102, 0, 7000000),
		exit_event(ROOT_PID, ROOT_PID, 0, 10000000),
	};
	char *expected = NULL;
	size_t expected_len = 0, i;
	FILE *fp = open_memstream(&expected, &expected_len);

	(void)state;
	capture_start(&c);
	setup_root_sh(&c);
	for (i = 0; i < sizeof(events) / sizeof(events[0]); i++)
		setup_event(&c, &events[i]);
	capture_end(&c, 500000000);

	fprintf(fp, "\nfamily of 4 processes in 0.500s:\n");
	fprintf(fp, TREE_HEADER);
	add_row(fp, "100 sh -c x", "    0.000s   10.0ms exit 0");
	add_row(fp, "|-- 101 ls -l", "    0.001s    5.0ms exit 3");
	/* 103 has not exec'd, so it is named by the program it inherited. */
	add_row(fp, "|   `-- 103 ls",
		"    0.003s    2.0ms killed by SIGSEGV (core dumped)");
	add_row(fp, "`-- 102 sh", "    0.004s    3.0ms exit 0");
	fclose(fp);
	assert_string_equal(c.text, expected);
	free(expected);
	capture_free(&c);
}

/* The tree's columns line up by terminal columns, not by bytes. */
static void
text_tree_pads_wide_names_by_columns(void **state)
{
	/* Two CJK ideographs (3 bytes, 2 columns each) and "cafe" with an
	 * e-acute (5 bytes, 4 columns). */
	static const char args[] = "\xe6\x97\xa5\xe6\x9c\xac\0caf\xc3\xa9\0";
	static const char left[] =
		"`-- 101 \xe6\x97\xa5\xe6\x9c\xac caf\xc3\xa9";
	const int left_columns = 17;
	struct capture c = { .opts = { .quiet = 1 } };
	struct ft_event events[] = {
		creation_event(FT_EVENT_FORK, ROOT_PID, 101, 1000000),
		exec_event(101, "/bin/x", "x", args, sizeof(args) - 1, 2000000),
		exit_event(101, 101, 0, 3000000),
		exit_event(ROOT_PID, ROOT_PID, 0, 4000000),
	};
	char *expected = NULL;
	size_t expected_len = 0, i;
	FILE *fp = open_memstream(&expected, &expected_len);

	(void)state;
	capture_start(&c);
	setup_root_sh(&c);
	for (i = 0; i < sizeof(events) / sizeof(events[0]); i++)
		setup_event(&c, &events[i]);
	capture_end(&c, 5000000);

	fprintf(fp, "family of 2 processes in 0.005s:\n");
	fprintf(fp, TREE_HEADER);
	add_row(fp, "100 sh -c x", "    0.000s    4.0ms exit 0");
	fprintf(fp, "%s%*s     0.001s    2.0ms exit 0\n", left,
		NAME_COLUMN - left_columns, "");
	fclose(fp);
	assert_string_equal(c.text, expected);
	free(expected);
	capture_free(&c);
}

static void
text_tree_last_child_prefix(void **state)
{
	struct capture c = { 0 };
	struct ft_event events[] = {
		creation_event(FT_EVENT_FORK, ROOT_PID, 101, 1000000),
		creation_event(FT_EVENT_FORK, 101, 102, 2000000),
		creation_event(FT_EVENT_FORK, 101, 103, 3000000),
		exit_event(102, 102, 0, 4000000),
		exit_event(103, 103, 0, 5000000),
		exit_event(101, 101, 0, 6000000),
		exit_event(ROOT_PID, ROOT_PID, 0, 7000000),
	};
	char *expected = NULL;
	size_t expected_len = 0, i;
	FILE *fp = open_memstream(&expected, &expected_len);

	(void)state;
	capture_start(&c);
	setup_root_sh(&c);
	for (i = 0; i < sizeof(events) / sizeof(events[0]); i++)
		setup_event(&c, &events[i]);
	capture_end(&c, 8000000);

	fprintf(fp, "\nfamily of 4 processes in 0.008s:\n");
	fprintf(fp, TREE_HEADER);
	add_row(fp, "100 sh -c x", "    0.000s    7.0ms exit 0");
	add_row(fp, "`-- 101 sh", "    0.001s    5.0ms exit 0");
	/* Below a last child the line down is blank. */
	add_row(fp, "    |-- 102 sh", "    0.002s    2.0ms exit 0");
	add_row(fp, "    `-- 103 sh", "    0.003s    2.0ms exit 0");
	fclose(fp);
	assert_string_equal(c.text, expected);
	free(expected);
	capture_free(&c);
}

static void
text_tree_detached_still_running(void **state)
{
	struct capture c = { 0 };
	struct ft_event events[] = {
		creation_event(FT_EVENT_FORK, ROOT_PID, 101, 1000000),
		exit_event(ROOT_PID, ROOT_PID, W_EXITCODE(1, 0), 2000000),
		make_event(FT_EVENT_DETACH, 101, 3000000),
	};
	char *expected = NULL;
	size_t expected_len = 0, i;
	FILE *fp = open_memstream(&expected, &expected_len);

	(void)state;
	capture_start(&c);
	setup_root_sh(&c);
	for (i = 0; i < sizeof(events) / sizeof(events[0]); i++)
		setup_event(&c, &events[i]);
	capture_end(&c, 4000000);

	fprintf(fp, "\nfamily of 2 processes in 0.004s:\n");
	fprintf(fp, TREE_HEADER);
	add_row(fp, "100 sh -c x", "    0.000s    2.0ms exit 1");
	add_row(fp, "`-- 101 sh", "    0.001s    2.0ms still running");
	fprintf(fp, "still running after forktrace let go: 101 (sh)\n");
	fclose(fp);
	assert_string_equal(c.text, expected);
	free(expected);
	capture_free(&c);
}

/* A row whose lifetime is not known has a dash in its place, as in ps. */
/* A paused child that a debugger ran to its end, seen by its parent. */
static void
text_tree_untraced_end(void **state)
{
	struct capture c = { .opts = { .quiet = 1 } };
	struct ft_event events[] = {
		creation_event(FT_EVENT_FORK, ROOT_PID, 101, 1000000),
		make_event(FT_EVENT_PAUSE, 101, 1000000),
		signal_event(ROOT_PID, SIGCHLD, CLD_EXITED, 2000000),
		make_event(FT_EVENT_GAP, 101, 2500000),
		exit_event(ROOT_PID, ROOT_PID, 0, 3000000),
	};
	char *expected = NULL;
	size_t expected_len = 0, i;
	FILE *fp = open_memstream(&expected, &expected_len);

	(void)state;
	events[1].pause_point = "fork";
	events[2].has_sender = true;
	events[2].sender_pid = 101;
	events[2].child_ended = true;
	events[2].child_status = 3 << 8;
	events[3].gap_start_ns = 1000000;
	events[3].gap_ended = true;
	capture_start(&c);
	setup_root_sh(&c);
	for (i = 0; i < sizeof(events) / sizeof(events[0]); i++)
		setup_event(&c, &events[i]);
	capture_end(&c, 3000000);

	fprintf(fp, "family of 2 processes in 0.003s:\n");
	fprintf(fp, TREE_HEADER);
	add_row(fp, "100 sh -c x", "    0.000s    3.0ms exit 0");
	add_row(fp, "`-- 101 sh",
		"    0.001s    1.0ms exit 3, not traced at its end");
	fclose(fp);
	assert_string_equal(c.text, expected);
	free(expected);
	capture_free(&c);
}

/*
 * A zombie that -p found: the fork line shows that it had ended, no gap
 * line follows, and the tree has only its comm, not its lifetime.
 */
static void
text_found_zombie(void **state)
{
	struct capture c = { 0 };
	struct ft_event fork =
		creation_event(FT_EVENT_FORK, ROOT_PID, 101, 1000000);
	struct ft_event gap = make_event(FT_EVENT_GAP, 101, 1000000);
	struct ft_event end = exit_event(ROOT_PID, ROOT_PID, 0, 3000000);
	char *expected = NULL;
	size_t expected_len = 0;
	FILE *fp = open_memstream(&expected, &expected_len);

	(void)state;
	fork.adopted = fork.found_ended = true;
	fork.comm = "true";
	gap.gap_start_ns = 1000000;
	gap.gap_ended = true;
	capture_start(&c);
	setup_root_sh(&c);
	deliver(&c, &fork);
	deliver(&c, &gap);
	deliver(&c, &end);
	capture_end(&c, 3000000);

	fprintf(fp, "  0.001000 100 sh: fork 101 (found ended)\n");
	fprintf(fp, "  0.003000 100 sh: exit 0 after 3.0ms\n");
	fprintf(fp, "\nfamily of 2 processes in 0.003s:\n");
	fprintf(fp, TREE_HEADER);
	add_row(fp, "100 sh -c x", "    0.000s    3.0ms exit 0");
	add_row(fp, "`-- 101 true",
		"    0.001s        - ended while not traced");
	fclose(fp);
	assert_string_equal(c.text, expected);
	free(expected);
	capture_free(&c);
}

static void
text_tree_paused_row_dash(void **state)
{
	struct capture c = { .opts = { .quiet = 1 } };
	struct ft_event events[] = {
		creation_event(FT_EVENT_FORK, ROOT_PID, 101, 1000000),
		make_event(FT_EVENT_PAUSE, 101, 2000000),
		exit_event(ROOT_PID, ROOT_PID, 0, 3000000),
	};
	char *expected = NULL;
	size_t expected_len = 0, i;
	FILE *fp = open_memstream(&expected, &expected_len);

	(void)state;
	events[1].pause_point = "fork";
	capture_start(&c);
	setup_root_sh(&c);
	for (i = 0; i < sizeof(events) / sizeof(events[0]); i++)
		setup_event(&c, &events[i]);
	capture_end(&c, 4000000);

	fprintf(fp, "family of 2 processes in 0.004s:\n");
	fprintf(fp, TREE_HEADER);
	add_row(fp, "100 sh -c x", "    0.000s    3.0ms exit 0");
	add_row(fp, "`-- 101 sh", "    0.001s        - still paused");
	fclose(fp);
	assert_string_equal(c.text, expected);
	free(expected);
	capture_free(&c);
}

static void
text_tree_thread_count_and_rows(void **state)
{
	struct capture c = { .opts = { .verbose = 1 } };
	struct ft_event events[] = {
		creation_event(FT_EVENT_THREAD, ROOT_PID, 150, 1000000),
		creation_event(FT_EVENT_THREAD, ROOT_PID, 151, 2000000),
		exit_event(ROOT_PID, 150, W_EXITCODE(4, 0), 3000000),
		make_event(FT_EVENT_DETACH, ROOT_PID, 4000000),
	};
	char *expected = NULL;
	size_t expected_len = 0, i;
	FILE *fp = open_memstream(&expected, &expected_len);

	(void)state;
	capture_start(&c);
	setup_root_sh(&c);
	for (i = 0; i < sizeof(events) / sizeof(events[0]); i++)
		setup_event(&c, &events[i]);
	capture_end(&c, 5000000);

	fprintf(fp, "\nfamily of 1 process and 2 threads in 0.005s:\n");
	fprintf(fp, TREE_HEADER);
	add_row(fp, "100 sh -c x",
		"    0.000s    4.0ms still running, 2 threads");
	add_row(fp, "  thread 150", "    0.001s    2.0ms exit 4");
	/* The detach let go of the thread without ending it. */
	add_row(fp, "  thread 151", "    0.002s        - still running");
	fprintf(fp, "still running after forktrace let go: 100 (sh)\n");
	fclose(fp);
	assert_string_equal(c.text, expected);
	free(expected);
	capture_free(&c);
}

static void
text_tree_thread_rows_only_verbose(void **state)
{
	struct capture c = { 0 };
	struct ft_event events[] = {
		creation_event(FT_EVENT_THREAD, ROOT_PID, 150, 1000000),
		exit_event(ROOT_PID, ROOT_PID, 0, 2000000),
	};
	char *expected = NULL;
	size_t expected_len = 0, i;
	FILE *fp = open_memstream(&expected, &expected_len);

	(void)state;
	capture_start(&c);
	setup_root_sh(&c);
	for (i = 0; i < sizeof(events) / sizeof(events[0]); i++)
		setup_event(&c, &events[i]);
	capture_end(&c, 3000000);

	fprintf(fp, "\nfamily of 1 process and 1 thread in 0.003s:\n");
	fprintf(fp, TREE_HEADER);
	add_row(fp, "100 sh -c x", "    0.000s    2.0ms exit 0, 1 thread");
	fclose(fp);
	assert_string_equal(c.text, expected);
	free(expected);
	capture_free(&c);
}

static void
text_tree_names_without_exec(void **state)
{
	struct capture c = { 0 };
	struct ft_event root_exit = exit_event(ROOT_PID, ROOT_PID, 0, 1000000);
	char *expected = NULL;
	size_t expected_len = 0;
	FILE *fp = open_memstream(&expected, &expected_len);

	(void)state;
	capture_start(&c);
	setup_event(&c, &root_exit);
	capture_end(&c, 2000000);

	fprintf(fp, "\nfamily of 1 process in 0.002s:\n");
	fprintf(fp, TREE_HEADER);
	add_row(fp, "100 ?", "    0.000s    1.0ms exit 0");
	fclose(fp);
	assert_string_equal(c.text, expected);
	free(expected);
	capture_free(&c);
}

static void
text_tree_long_args_cut(void **state)
{
	char args[64];
	struct capture c = { 0 };
	struct ft_event exec, root_exit;
	char *expected = NULL;
	size_t expected_len = 0;
	FILE *fp = open_memstream(&expected, &expected_len);

	(void)state;
	/* "prog" and then one argument of 58 letters x. */
	memcpy(args, "prog", 5);
	memset(args + 5, 'x', sizeof(args) - 6);
	args[sizeof(args) - 1] = '\0';
	exec = exec_event(ROOT_PID, "/bin/prog", "prog", args, sizeof(args), 0);
	root_exit = exit_event(ROOT_PID, ROOT_PID, 0, 1000000);
	capture_start(&c);
	setup_event(&c, &exec);
	setup_event(&c, &root_exit);
	capture_end(&c, 2000000);

	/*
	 * The arguments fill the name column less the pid and a space: 41
	 * columns, 38 of them text and then "...".
	 */
	fprintf(fp, "\nfamily of 1 process in 0.002s:\n");
	fprintf(fp, TREE_HEADER);
	add_row(fp, "100 prog xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...",
		"    0.000s    1.0ms exit 0");
	fclose(fp);
	assert_string_equal(c.text, expected);
	free(expected);
	capture_free(&c);
}

static void
text_tree_escapes_names(void **state)
{
	static const char args[] = "\033[2J\0";
	struct capture c = { 0 };
	struct ft_event events[] = {
		exec_event(ROOT_PID, "/tmp/\033[2J", "\033[2J", args,
			   sizeof(args) - 1, 0),
		make_event(FT_EVENT_DETACH, ROOT_PID, 1000000),
	};
	size_t i;

	(void)state;
	capture_start(&c);
	for (i = 0; i < sizeof(events) / sizeof(events[0]); i++)
		setup_event(&c, &events[i]);
	capture_end(&c, 2000000);

	assert_non_null(strstr(c.text, "\n100 '\\e[2J' "));
	assert_non_null(strstr(c.text, "let go: 100 (\\e[2J)\n"));
	assert_null(strchr(c.text, '\033'));
	capture_free(&c);
}

/* Runs a trace that uses every colour of the text output. */
static void
run_colourful_trace(struct capture *c, bool force_color)
{
	struct ft_event fork_event =
		creation_event(FT_EVENT_FORK, ROOT_PID, 101, 1000000);
	struct ft_event fault =
		signal_event(101, SIGSEGV, SEGV_MAPERR, 2000000);
	struct ft_event death = exit_event(101, 101, SIGSEGV, 3000000);
	static const char args[] = "ls\0";
	struct ft_event exec = exec_event(ROOT_PID, "/bin/ls", "ls", args,
					  sizeof(args) - 1, 4000000);
	struct ft_event failure =
		exit_event(ROOT_PID, ROOT_PID, W_EXITCODE(3, 0), 5000000);

	capture_start(c);
	if (force_color)
		c->out->color = true;
	setup_root_sh(c);
	deliver(c, &fork_event);
	deliver(c, &fault);
	deliver(c, &death);
	deliver(c, &exec);
	deliver(c, &failure);
	capture_end(c, 6000000);
}

static void
text_no_colour_off_terminal(void **state)
{
	struct capture c = { 0 };

	(void)state;
	run_colourful_trace(&c, false);
	assert_non_null(strstr(c.text, "exit 3"));
	assert_non_null(strstr(c.text, "killed by SIGSEGV"));
	assert_null(strchr(c.text, '\033'));
	capture_free(&c);
}

static void
text_colour_codes_when_enabled(void **state)
{
	struct capture c = { 0 };

	(void)state;
	/* The control for the test above, so that it could fail. */
	run_colourful_trace(&c, true);
	assert_non_null(strstr(c.text, "\033[31mexit 3\033[0m"));
	assert_non_null(strstr(c.text, "\033[33mSIGSEGV\033[0m"));
	assert_non_null(strstr(c.text, "\033[1mexec \033[0m"));
	capture_free(&c);
}

static void
text_quiet_writes_only_tree(void **state)
{
	struct capture c = { .opts = { .quiet = 1 } };
	struct ft_event fork_event =
		creation_event(FT_EVENT_FORK, ROOT_PID, 101, 1000000);
	struct ft_event child_exit = exit_event(101, 101, 0, 2000000);
	const char *header = "family of 2 processes in 0.003s:\n" TREE_HEADER;

	(void)state;
	capture_start(&c);
	setup_root_sh(&c);
	deliver(&c, &fork_event);
	deliver(&c, &child_exit);
	capture_end(&c, 3000000);
	assert_int_equal(strncmp(c.text, header, strlen(header)), 0);
	assert_null(strstr(c.text, "fork 101"));
	capture_free(&c);
}

static void
text_quiet_twice_writes_nothing(void **state)
{
	struct capture c = { .opts = { .quiet = 2 } };
	struct ft_event fork_event =
		creation_event(FT_EVENT_FORK, ROOT_PID, 101, 1000000);

	(void)state;
	capture_start(&c);
	setup_root_sh(&c);
	deliver(&c, &fork_event);
	capture_end(&c, 3000000);
	assert_int_equal(c.len, 0);
	assert_string_equal(c.text, "");
	capture_free(&c);
}

/* A hang report of the root, with one evidence line and one thread. */
static struct ft_event
hang_event(struct ft_hang_report *report, struct ft_snapshot *threads,
	   struct ft_thread_snapshot *thread)
{
	static char message[] = "deadlocked: it waits for a mutex";
	static char line[] = "at the fork, thread 7 (holder) was in pause()";
	static char *evidence[] = { line };
	struct ft_event event =
		make_event(FT_EVENT_HANG, ROOT_PID, 3000000000u);

	memset(thread, 0, sizeof(*thread));
	thread->tid = ROOT_PID;
	thread->pid = ROOT_PID;
	strcpy(thread->name, "sh");
	thread->state = 'S';
	threads->threads = thread;
	threads->count = 1;
	memset(report, 0, sizeof(*report));
	report->pid = ROOT_PID;
	report->tid = ROOT_PID;
	report->deadlock = true;
	report->cause = FT_HANG_FUTEX;
	report->message = message;
	report->evidence = evidence;
	report->evidence_count = 1;
	report->blocked_ns = 2500000000u;
	report->threads = threads;
	event.hang = report;
	return event;
}

static void
text_hang_report_lines(void **state)
{
	struct ft_hang_report report;
	struct ft_snapshot threads = { 0 };
	struct ft_thread_snapshot thread;
	struct ft_event event = hang_event(&report, &threads, &thread);

	(void)state;
	check_one_line(&plain_opts, &event,
		       "  3.000000 100 sh: hang: deadlocked: it waits for a "
		       "mutex\n"
		       "             all threads blocked for at least 2.5s\n"
		       "             at the fork, thread 7 (holder) was in "
		       "pause()\n"
		       "             thread 100 sh S cpu 0.000s\n");
}

static void
text_hang_report_shown_under_quiet(void **state)
{
	struct ft_options quiet = { .quiet = 1 }, silent = { .quiet = 2 };
	struct ft_hang_report report;
	struct ft_snapshot threads = { 0 };
	struct ft_thread_snapshot thread;
	struct ft_event event = hang_event(&report, &threads, &thread);
	struct capture c = { .opts = silent };

	(void)state;
	check_one_line(&quiet, &event,
		       "  3.000000 100 sh: hang: deadlocked: it waits for a "
		       "mutex\n"
		       "             all threads blocked for at least 2.5s\n"
		       "             at the fork, thread 7 (holder) was in "
		       "pause()\n"
		       "             thread 100 sh S cpu 0.000s\n");
	capture_start(&c);
	setup_root_sh(&c);
	deliver(&c, &event);
	capture_close(&c);
	assert_string_equal(c.text, "");
	capture_free(&c);
}

static void
text_tree_marks_deadlocked_process(void **state)
{
	struct ft_hang_report report;
	struct ft_snapshot threads = { 0 };
	struct ft_thread_snapshot thread;
	struct ft_event hang = hang_event(&report, &threads, &thread);
	struct ft_event killed =
		exit_event(ROOT_PID, ROOT_PID, SIGKILL, 4000000000u);
	struct capture c = { 0 };
	char *expected = NULL;
	size_t expected_len = 0;
	FILE *fp = open_memstream(&expected, &expected_len);

	(void)state;
	capture_start(&c);
	setup_root_sh(&c);
	setup_event(&c, &hang);
	setup_event(&c, &killed);
	capture_end(&c, 4000000000u);
	fprintf(fp, "\nfamily of 1 process in 4.000s:\n");
	fprintf(fp, TREE_HEADER);
	add_row(fp, "100 sh -c x",
		"    0.000s   4.000s killed by SIGKILL, deadlocked (futex)");
	fclose(fp);
	assert_string_equal(c.text, expected);
	free(expected);
	capture_free(&c);
}

static void
text_fork_warns_of_other_threads(void **state)
{
	struct ft_event event =
		creation_event(FT_EVENT_FORK, ROOT_PID, 101, 1000000);
	struct ft_thread_snapshot other = { .tid = 102, .pid = ROOT_PID };
	struct ft_snapshot threads = { .threads = &other, .count = 1 };

	(void)state;
	strcpy(other.name, "worker");
	other.state = 'S';
	other.in_syscall = true;
	other.syscall_nr = 34; /* pause */
	event.other_threads = &threads;
	check_one_line(&plain_opts, &event,
		       "  0.001000 100 sh: fork 101\n"
		       "             warning: 101 gets only the thread that "
		       "called fork(); any lock that this other thread holds "
		       "stays locked in it:\n"
		       "               thread 102 worker S in pause(0x0, 0x0, "
		       "0x0, 0x0, 0x0, 0x0) cpu 0.000s\n");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(text_fork_line),
		cmocka_unit_test(text_signal_passed_on),
		cmocka_unit_test(text_vfork_and_thread_lines),
		cmocka_unit_test(text_stripped_startup_left_out),
		cmocka_unit_test(text_child_line_indented),
		cmocka_unit_test(text_deep_indent_shows_depth),
		cmocka_unit_test(text_exec_line_with_args),
		cmocka_unit_test(text_exec_escapes_terminal_codes),
		cmocka_unit_test(text_exec_by_thread_names_caller),
		cmocka_unit_test(text_exec_long_args_cut_unless_verbose),
		cmocka_unit_test(text_exit_line_with_code),
		cmocka_unit_test(text_times_match_printf),
		cmocka_unit_test(text_exit_line_killed_core),
		cmocka_unit_test(text_exit_line_long_duration),
		cmocka_unit_test(text_thread_exit_line),
		cmocka_unit_test(text_signal_line_with_sender),
		cmocka_unit_test(text_signal_line_code_and_address),
		cmocka_unit_test(text_signal_from_thread_shows_tid),
		cmocka_unit_test(text_sigchld_hidden_unless_verbose),
		cmocka_unit_test(text_stop_continue_detach_lines),
		cmocka_unit_test(text_wall_clock_time_of_day),
		cmocka_unit_test(text_wall_clock_stack_indent),
		cmocka_unit_test(text_tree_rows_and_prefixes),
		cmocka_unit_test(text_tree_last_child_prefix),
		cmocka_unit_test(text_tree_detached_still_running),
		cmocka_unit_test(text_tree_paused_row_dash),
		cmocka_unit_test(text_found_zombie),
		cmocka_unit_test(text_tree_untraced_end),
		cmocka_unit_test(text_tree_pads_wide_names_by_columns),
		cmocka_unit_test(text_tree_thread_count_and_rows),
		cmocka_unit_test(text_tree_thread_rows_only_verbose),
		cmocka_unit_test(text_tree_names_without_exec),
		cmocka_unit_test(text_tree_long_args_cut),
		cmocka_unit_test(text_tree_escapes_names),
		cmocka_unit_test(text_no_colour_off_terminal),
		cmocka_unit_test(text_colour_codes_when_enabled),
		cmocka_unit_test(text_quiet_writes_only_tree),
		cmocka_unit_test(text_quiet_twice_writes_nothing),
		cmocka_unit_test(text_hang_report_lines),
		cmocka_unit_test(text_hang_report_shown_under_quiet),
		cmocka_unit_test(text_fork_warns_of_other_threads),
		cmocka_unit_test(text_tree_marks_deadlocked_process),
	};

	return cmocka_run_group_tests_name("text", tests, NULL, NULL);
}
