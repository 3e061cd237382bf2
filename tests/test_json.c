/* Unit tests of the JSON Lines output, fed with hand-made events. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "forktrace/family.h"
#include "forktrace/hang.h"
#include "forktrace/output.h"

#include "events.h"

#define ROOT_PID  100
#define ROOT_PPID 1
#define MAX_LINES 64

/* An output that writes to memory, its family, and its parsed lines. */
struct capture {
	struct ft_options opts;
	struct ft_family *family;
	struct ft_output *out;
	FILE *fp;
	char *text;
	size_t len;
	json_t *lines[MAX_LINES];
	size_t count;
};

/* Starts a JSON output with the root process already in the family. */
static void
capture_start(struct capture *c)
{
	struct ft_process *root;

	c->opts.json = true;
	c->family = family_new();
	root = family_add_root(c->family, ROOT_PID, FT_ORIGIN_ROOT, 0);
	root->ppid = ROOT_PPID;
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
 * Returns false when the model skipped the event.
 */
static bool
deliver(struct capture *c, const struct ft_event *event)
{
	struct ft_process *process = family_process(c->family, event->pid);

	if (!family_apply(c->family, event))
		return false;
	c->out->ops->event(c->out, event, process);
	return true;
}

/* Frees the output, closes the stream and parses each line. */
static void
capture_close(struct capture *c)
{
	char *line, *next;

	output_free(c->out);
	c->out = NULL;
	fclose(c->fp);
	c->fp = NULL;
	for (line = c->text; *line; line = next) {
		json_error_t error;
		char *newline = strchr(line, '\n');

		/* Every object ends with a newline, the last one too. */
		assert_non_null(newline);
		*newline = '\0';
		next = newline + 1;
		assert_true(c->count < MAX_LINES);
		c->lines[c->count] = json_loads(line, 0, &error);
		if (!c->lines[c->count])
			print_message("invalid JSON: %s: %s\n", error.text,
				      line);
		assert_non_null(c->lines[c->count]);
		assert_true(json_is_object(c->lines[c->count]));
		c->count++;
	}
}

static void
capture_end(struct capture *c, const struct ft_summary *summary)
{
	c->out->ops->end(c->out, c->family, summary);
	capture_close(c);
}

static void
capture_free(struct capture *c)
{
	size_t i;

	for (i = 0; i < c->count; i++)
		json_decref(c->lines[i]);
	free(c->text);
	family_free(c->family);
}

/* Runs /bin/sh in the root before the test's own events. */
static void
setup_root_sh(struct capture *c)
{
	static const char args[] = "sh\0-c\0true\0";
	struct ft_event event = exec_event(ROOT_PID, "/bin/sh", "sh", args,
					   sizeof(args) - 1, 0);

	setup_event(c, &event);
}

static void
assert_json_int(const json_t *object, const char *key, long long expected)
{
	json_t *value = json_object_get(object, key);

	if (!json_is_integer(value))
		print_message("\"%s\" is not an integer\n", key);
	assert_true(json_is_integer(value));
	assert_int_equal(json_integer_value(value), expected);
}

static void
assert_json_str(const json_t *object, const char *key, const char *expected)
{
	json_t *value = json_object_get(object, key);

	if (!json_is_string(value))
		print_message("\"%s\" is not a string\n", key);
	assert_true(json_is_string(value));
	assert_string_equal(json_string_value(value), expected);
}

static void
assert_json_bool(const json_t *object, const char *key, bool expected)
{
	json_t *value = json_object_get(object, key);

	if (!json_is_boolean(value))
		print_message("\"%s\" is not a boolean\n", key);
	assert_true(json_is_boolean(value));
	assert_int_equal(json_is_true(value), expected);
}

/* Checks a time in seconds against a whole number of microseconds. */
static void
assert_json_us(const json_t *object, const char *key, long long expected_us)
{
	json_t *value = json_object_get(object, key);

	if (!json_is_real(value))
		print_message("\"%s\" is not a real number\n", key);
	assert_true(json_is_real(value));
	assert_int_equal((long long)(json_real_value(value) * 1e6 + 0.5),
			 expected_us);
}

static void
assert_json_absent(const json_t *object, const char *key)
{
	if (json_object_get(object, key))
		print_message("unexpected key \"%s\"\n", key);
	assert_null(json_object_get(object, key));
}

/* Checks the fields that every event line starts with. */
static void
assert_event_base(const json_t *line, const char *event, long long t_us,
		  pid_t pid, pid_t tid, pid_t ppid, const char *comm)
{
	assert_json_us(line, "t", t_us);
	assert_json_str(line, "event", event);
	assert_json_int(line, "pid", pid);
	assert_json_int(line, "tid", tid);
	assert_json_int(line, "ppid", ppid);
	assert_json_str(line, "comm", comm);
}

static void
json_fork_event_fields(void **state)
{
	struct capture c = { 0 };
	struct ft_event event =
		creation_event(FT_EVENT_FORK, ROOT_PID, 101, 1500000);

	(void)state;
	capture_start(&c);
	setup_root_sh(&c);
	assert_true(deliver(&c, &event));
	capture_close(&c);

	assert_int_equal(c.count, 1);
	assert_event_base(c.lines[0], "fork", 1500, ROOT_PID, ROOT_PID,
			  ROOT_PPID, "sh");
	assert_json_int(c.lines[0], "child", 101);
	assert_int_equal(json_object_size(c.lines[0]), 7);
	capture_free(&c);
}

static void
json_vfork_event_fields(void **state)
{
	struct capture c = { 0 };
	struct ft_event event =
		creation_event(FT_EVENT_VFORK, ROOT_PID, 102, 2000);

	(void)state;
	capture_start(&c);
	setup_root_sh(&c);
	assert_true(deliver(&c, &event));
	capture_close(&c);

	assert_int_equal(c.count, 1);
	assert_event_base(c.lines[0], "vfork", 2, ROOT_PID, ROOT_PID, ROOT_PPID,
			  "sh");
	assert_json_int(c.lines[0], "child", 102);
	assert_int_equal(json_object_size(c.lines[0]), 7);
	capture_free(&c);
}

static void
json_thread_event_fields(void **state)
{
	struct capture c = { 0 };
	struct ft_event event =
		creation_event(FT_EVENT_THREAD, ROOT_PID, 150, 3000);

	(void)state;
	capture_start(&c);
	setup_root_sh(&c);
	assert_true(deliver(&c, &event));
	capture_close(&c);

	assert_int_equal(c.count, 1);
	assert_event_base(c.lines[0], "thread", 3, ROOT_PID, ROOT_PID,
			  ROOT_PPID, "sh");
	assert_json_int(c.lines[0], "child", 150);
	assert_int_equal(json_object_size(c.lines[0]), 7);
	capture_free(&c);
}

static void
json_child_event_has_parent_ppid(void **state)
{
	struct capture c = { 0 };
	struct ft_event fork_event =
		creation_event(FT_EVENT_FORK, ROOT_PID, 101, 1000);
	struct ft_event grandchild =
		creation_event(FT_EVENT_FORK, 101, 102, 2000);

	(void)state;
	capture_start(&c);
	setup_root_sh(&c);
	setup_event(&c, &fork_event);
	assert_true(deliver(&c, &grandchild));
	capture_close(&c);

	assert_int_equal(c.count, 1);
	/* The child has not exec'd, so it shows its parent's program. */
	assert_event_base(c.lines[0], "fork", 2, 101, 101, ROOT_PID, "sh");
	assert_json_int(c.lines[0], "child", 102);
	capture_free(&c);
}

static void
json_exec_event_fields(void **state)
{
	static const char args[] = "ls\0-l\0/tmp\0";
	struct capture c = { 0 };
	struct ft_event event = exec_event(ROOT_PID, "/usr/bin/ls", "ls", args,
					   sizeof(args) - 1, 4000);
	json_t *argv;

	(void)state;
	capture_start(&c);
	setup_root_sh(&c);
	assert_true(deliver(&c, &event));
	capture_close(&c);

	assert_int_equal(c.count, 1);
	/* comm is the new program's. */
	assert_event_base(c.lines[0], "exec", 4, ROOT_PID, ROOT_PID, ROOT_PPID,
			  "ls");
	assert_json_str(c.lines[0], "path", "/usr/bin/ls");
	argv = json_object_get(c.lines[0], "argv");
	assert_true(json_is_array(argv));
	assert_int_equal(json_array_size(argv), 3);
	assert_string_equal(json_string_value(json_array_get(argv, 0)), "ls");
	assert_string_equal(json_string_value(json_array_get(argv, 1)), "-l");
	assert_string_equal(json_string_value(json_array_get(argv, 2)), "/tmp");
	assert_json_absent(c.lines[0], "former_tid");
	assert_int_equal(json_object_size(c.lines[0]), 8);
	capture_free(&c);
}

static void
json_exec_empty_args_array(void **state)
{
	struct capture c = { 0 };
	struct ft_event event = exec_event(ROOT_PID, "/bin/x", "x", NULL, 0, 1);
	json_t *argv;

	(void)state;
	capture_start(&c);
	assert_true(deliver(&c, &event));
	capture_close(&c);

	argv = json_object_get(c.lines[0], "argv");
	assert_true(json_is_array(argv));
	assert_int_equal(json_array_size(argv), 0);
	capture_free(&c);
}

static void
json_exec_by_thread_former_tid(void **state)
{
	static const char args[] = "true\0";
	struct capture c = { 0 };
	struct ft_event thread =
		creation_event(FT_EVENT_THREAD, ROOT_PID, 150, 1000);
	struct ft_event event = exec_event(ROOT_PID, "/bin/true", "true", args,
					   sizeof(args) - 1, 5000);

	(void)state;
	capture_start(&c);
	setup_root_sh(&c);
	setup_event(&c, &thread);
	event.former_tid = 150;
	assert_true(deliver(&c, &event));
	capture_close(&c);

	assert_int_equal(c.count, 1);
	assert_event_base(c.lines[0], "exec", 5, ROOT_PID, ROOT_PID, ROOT_PPID,
			  "true");
	assert_json_int(c.lines[0], "former_tid", 150);
	assert_int_equal(json_object_size(c.lines[0]), 9);
	capture_free(&c);
}

static void
json_exit_code_and_duration(void **state)
{
	struct capture c = { 0 };
	struct ft_event fork_event =
		creation_event(FT_EVENT_FORK, ROOT_PID, 101, 1000000);
	struct ft_event event = exit_event(101, 101, W_EXITCODE(3, 0), 3500000);

	(void)state;
	capture_start(&c);
	setup_root_sh(&c);
	setup_event(&c, &fork_event);
	assert_true(deliver(&c, &event));
	capture_close(&c);

	assert_int_equal(c.count, 1);
	assert_event_base(c.lines[0], "exit", 3500, 101, 101, ROOT_PID, "sh");
	assert_json_int(c.lines[0], "exit_code", 3);
	assert_json_us(c.lines[0], "duration", 2500);
	assert_json_absent(c.lines[0], "signal");
	assert_json_absent(c.lines[0], "core_dumped");
	assert_json_absent(c.lines[0], "thread");
	assert_int_equal(json_object_size(c.lines[0]), 8);
	capture_free(&c);
}

static void
json_exit_by_signal_fields(void **state)
{
	struct capture c = { 0 };
	struct ft_event segv =
		exit_event(ROOT_PID, ROOT_PID, SIGSEGV | WCOREFLAG, 2000000);

	(void)state;
	capture_start(&c);
	setup_root_sh(&c);
	assert_true(deliver(&c, &segv));
	capture_close(&c);

	assert_int_equal(c.count, 1);
	assert_json_str(c.lines[0], "signal", "SIGSEGV");
	assert_json_bool(c.lines[0], "core_dumped", true);
	assert_json_us(c.lines[0], "duration", 2000);
	assert_json_absent(c.lines[0], "exit_code");
	assert_int_equal(json_object_size(c.lines[0]), 9);
	capture_free(&c);
}

static void
json_exit_by_kill_not_dumped(void **state)
{
	struct capture c = { 0 };
	struct ft_event kill = exit_event(ROOT_PID, ROOT_PID, SIGKILL, 1000);

	(void)state;
	capture_start(&c);
	assert_true(deliver(&c, &kill));
	capture_close(&c);

	assert_json_str(c.lines[0], "signal", "SIGKILL");
	assert_json_bool(c.lines[0], "core_dumped", false);
	/* The root has not exec'd, so it has no name. */
	assert_json_str(c.lines[0], "comm", "?");
	capture_free(&c);
}

static void
json_thread_exit_fields(void **state)
{
	struct capture c = { 0 };
	struct ft_event thread =
		creation_event(FT_EVENT_THREAD, ROOT_PID, 150, 1000);
	struct ft_event event = exit_event(ROOT_PID, 150, 0, 7000);

	(void)state;
	capture_start(&c);
	setup_root_sh(&c);
	setup_event(&c, &thread);
	assert_true(deliver(&c, &event));
	capture_close(&c);

	assert_int_equal(c.count, 1);
	assert_event_base(c.lines[0], "exit", 7, ROOT_PID, 150, ROOT_PPID,
			  "sh");
	assert_json_bool(c.lines[0], "thread", true);
	assert_json_int(c.lines[0], "exit_code", 0);
	assert_json_absent(c.lines[0], "duration");
	assert_int_equal(json_object_size(c.lines[0]), 8);
	capture_free(&c);
}

static void
json_signal_with_sender(void **state)
{
	struct capture c = { 0 };
	struct ft_event event = make_event(FT_EVENT_SIGNAL, ROOT_PID, 8000);

	(void)state;
	event.signo = SIGTERM;
	event.si_code = SI_USER;
	event.has_sender = true;
	event.sender_pid = 50;
	event.sender_uid = 1000;
	capture_start(&c);
	setup_root_sh(&c);
	assert_true(deliver(&c, &event));
	capture_close(&c);

	assert_int_equal(c.count, 1);
	assert_event_base(c.lines[0], "signal", 8, ROOT_PID, ROOT_PID,
			  ROOT_PPID, "sh");
	assert_json_str(c.lines[0], "signal", "SIGTERM");
	assert_json_int(c.lines[0], "signo", SIGTERM);
	assert_json_str(c.lines[0], "code", "SI_USER");
	assert_json_int(c.lines[0], "sender", 50);
	assert_json_int(c.lines[0], "sender_uid", 1000);
	assert_json_absent(c.lines[0], "addr");
	assert_int_equal(json_object_size(c.lines[0]), 11);
	capture_free(&c);
}

static void
json_signal_fault_address(void **state)
{
	struct capture c = { 0 };
	struct ft_event event = make_event(FT_EVENT_SIGNAL, ROOT_PID, 9000);

	(void)state;
	event.signo = SIGSEGV;
	event.si_code = SEGV_MAPERR;
	event.has_addr = true;
	event.fault_addr = 0xdeadbeef0010;
	capture_start(&c);
	setup_root_sh(&c);
	assert_true(deliver(&c, &event));
	capture_close(&c);

	assert_json_str(c.lines[0], "signal", "SIGSEGV");
	assert_json_int(c.lines[0], "signo", SIGSEGV);
	assert_json_str(c.lines[0], "code", "SEGV_MAPERR");
	assert_json_str(c.lines[0], "addr", "0xdeadbeef0010");
	assert_json_absent(c.lines[0], "sender");
	assert_json_absent(c.lines[0], "sender_uid");
	assert_int_equal(json_object_size(c.lines[0]), 10);
	capture_free(&c);
}

static void
json_signal_unknown_code_omitted(void **state)
{
	struct capture c = { 0 };
	struct ft_event event = make_event(FT_EVENT_SIGNAL, ROOT_PID, 1);

	(void)state;
	event.signo = SIGRTMIN + 2;
	event.si_code = 12345;
	capture_start(&c);
	assert_true(deliver(&c, &event));
	capture_close(&c);

	assert_json_str(c.lines[0], "signal", "SIGRTMIN+2");
	assert_json_int(c.lines[0], "signo", SIGRTMIN + 2);
	assert_json_absent(c.lines[0], "code");
	assert_int_equal(json_object_size(c.lines[0]), 8);
	capture_free(&c);
}

static void
json_stop_and_continue_events(void **state)
{
	struct capture c = { 0 };
	struct ft_event stop = make_event(FT_EVENT_STOP, ROOT_PID, 10000);
	struct ft_event again = make_event(FT_EVENT_STOP, ROOT_PID, 10500);
	struct ft_event resumed =
		make_event(FT_EVENT_CONTINUE, ROOT_PID, 11000);

	(void)state;
	stop.signo = SIGTSTP;
	stop.si_code = SI_KERNEL;
	again.signo = SIGTSTP;
	again.tid = 150;
	capture_start(&c);
	setup_root_sh(&c);
	assert_true(deliver(&c, &stop));
	/* A second thread in the same group stop is not reported. */
	assert_false(deliver(&c, &again));
	assert_true(deliver(&c, &resumed));
	capture_close(&c);

	assert_int_equal(c.count, 2);
	assert_event_base(c.lines[0], "stop", 10, ROOT_PID, ROOT_PID, ROOT_PPID,
			  "sh");
	assert_json_str(c.lines[0], "signal", "SIGTSTP");
	assert_json_int(c.lines[0], "signo", SIGTSTP);
	/* A group stop is reported without siginfo. */
	assert_null(json_object_get(c.lines[0], "code"));
	assert_int_equal(json_object_size(c.lines[0]), 8);
	assert_event_base(c.lines[1], "continue", 11, ROOT_PID, ROOT_PID,
			  ROOT_PPID, "sh");
	assert_int_equal(json_object_size(c.lines[1]), 6);
	capture_free(&c);
}

static void
json_detach_event_fields(void **state)
{
	struct capture c = { 0 };
	struct ft_event event = make_event(FT_EVENT_DETACH, ROOT_PID, 12000);

	(void)state;
	capture_start(&c);
	setup_root_sh(&c);
	assert_true(deliver(&c, &event));
	capture_close(&c);

	assert_int_equal(c.count, 1);
	assert_event_base(c.lines[0], "detach", 12, ROOT_PID, ROOT_PID,
			  ROOT_PPID, "sh");
	assert_int_equal(json_object_size(c.lines[0]), 6);
	capture_free(&c);
}

static void
json_times_rounded_to_microseconds(void **state)
{
	static const struct {
		uint64_t ns;
		long long us;
	} cases[] = {
		{ 0, 0 },
		{ 499, 0 },
		{ 500, 1 },
		{ 1499, 1 },
		{ 1500, 2 },
		{ 2500000499, 2500000 },
		{ 3600000000000, 3600000000 },
	};
	struct capture c = { 0 };
	size_t i, n = sizeof(cases) / sizeof(cases[0]);

	(void)state;
	capture_start(&c);
	for (i = 0; i < n; i++) {
		struct ft_event event =
			make_event(FT_EVENT_SIGNAL, ROOT_PID, cases[i].ns);

		event.signo = SIGUSR1;
		assert_true(deliver(&c, &event));
	}
	capture_close(&c);

	assert_int_equal(c.count, n);
	for (i = 0; i < n; i++)
		assert_json_us(c.lines[i], "t", cases[i].us);
	capture_free(&c);
}

static void
json_invalid_utf8_as_hex(void **state)
{
	static const char args[] = "ok\0\xff\xfe\0";
	struct capture c = { 0 };
	struct ft_event event = exec_event(ROOT_PID, "/tmp/\xff", "\xe9t\xe9",
					   args, sizeof(args) - 1, 1000);
	json_t *argv, *path, *comm, *bad;

	(void)state;
	capture_start(&c);
	assert_true(deliver(&c, &event));
	capture_close(&c);

	path = json_object_get(c.lines[0], "path");
	assert_true(json_is_object(path));
	assert_json_str(path, "hex", "2f746d702fff");
	assert_int_equal(json_object_size(path), 1);
	comm = json_object_get(c.lines[0], "comm");
	assert_true(json_is_object(comm));
	assert_json_str(comm, "hex", "e974e9");
	argv = json_object_get(c.lines[0], "argv");
	assert_int_equal(json_array_size(argv), 2);
	assert_string_equal(json_string_value(json_array_get(argv, 0)), "ok");
	bad = json_array_get(argv, 1);
	assert_true(json_is_object(bad));
	assert_json_str(bad, "hex", "fffe");
	assert_int_equal(json_object_size(bad), 1);
	capture_free(&c);
}

static void
json_control_characters_round_trip(void **state)
{
	/* Valid UTF-8 that a terminal would obey, and a quote and backslash. */
	static const char word[] = "a\tb\033[31m\x01\x7f\xc2\x85\xc3\xa9\n\"\\";
	char args[sizeof(word)];
	struct capture c = { 0 };
	struct ft_event event;
	json_t *value;

	(void)state;
	memcpy(args, word, sizeof(word));
	event = exec_event(ROOT_PID, word, "x", args, sizeof(args), 1);
	capture_start(&c);
	assert_true(deliver(&c, &event));
	capture_close(&c);

	/* One line, so the newline inside was written as \n. */
	assert_int_equal(c.count, 1);
	value = json_array_get(json_object_get(c.lines[0], "argv"), 0);
	assert_true(json_is_string(value));
	assert_int_equal(json_string_length(value), sizeof(word) - 1);
	assert_memory_equal(json_string_value(value), word, sizeof(word) - 1);
	assert_json_str(c.lines[0], "path", word);
	capture_free(&c);
}

static void
json_summary_top_level_fields(void **state)
{
	struct capture c = { 0 };
	struct ft_event fork_event =
		creation_event(FT_EVENT_FORK, ROOT_PID, 101, 1000);
	struct ft_event thread =
		creation_event(FT_EVENT_THREAD, 101, 150, 2000);
	struct ft_event child_exit = exit_event(101, 101, 0, 3000);
	struct ft_event root_exit =
		exit_event(ROOT_PID, ROOT_PID, W_EXITCODE(3, 0), 4000);
	struct ft_summary summary = { .time_ns = 2000000000,
				      .exit_status = 3,
				      .root_ended = true,
				      .root_status = W_EXITCODE(3, 0) };
	const json_t *line;

	(void)state;
	capture_start(&c);
	setup_root_sh(&c);
	setup_event(&c, &fork_event);
	setup_event(&c, &thread);
	setup_event(&c, &child_exit);
	setup_event(&c, &root_exit);
	capture_end(&c, &summary);

	assert_int_equal(c.count, 1);
	line = c.lines[0];
	assert_json_us(line, "t", 2000000);
	assert_json_str(line, "event", "summary");
	assert_json_int(line, "exit_status", 3);
	assert_json_int(line, "processes", 2);
	assert_json_int(line, "threads", 1);
	assert_json_absent(line, "interrupted");
	assert_true(json_is_array(json_object_get(line, "tree")));
	assert_int_equal(json_array_size(json_object_get(line, "tree")), 1);
	assert_int_equal(json_object_size(line), 6);
	capture_free(&c);
}

static void
json_summary_interrupted_signal(void **state)
{
	struct capture c = { 0 };
	struct ft_summary summary = { .time_ns = 1000,
				      .exit_status = 128 + SIGINT,
				      .interrupt_signal = SIGINT };

	(void)state;
	capture_start(&c);
	capture_end(&c, &summary);

	assert_json_int(c.lines[0], "exit_status", 128 + SIGINT);
	assert_json_str(c.lines[0], "interrupted", "SIGINT");
	capture_free(&c);
}

/* Returns the string at index i of the array key in object. */
static const char *
array_string(const json_t *object, const char *key, size_t i)
{
	return json_string_value(
		json_array_get(json_object_get(object, key), i));
}

static void
json_summary_tree_nesting(void **state)
{
	static const char ls_args[] = "ls\0-l\0";
	struct capture c = { 0 };
	struct ft_event events[] = {
		creation_event(FT_EVENT_FORK, ROOT_PID, 101, 1000000),
		creation_event(FT_EVENT_VFORK, ROOT_PID, 102, 2000000),
		exec_event(101, "/bin/ls", "ls", ls_args, sizeof(ls_args) - 1,
			   3000000),
		creation_event(FT_EVENT_FORK, 101, 103, 4000000),
		exit_event(103, 103, SIGSEGV | WCOREFLAG, 5000000),
		exit_event(101, 101, W_EXITCODE(2, 0), 6000000),
		exit_event(102, 102, SIGKILL, 7000000),
		exit_event(ROOT_PID, ROOT_PID, 0, 8000000),
	};
	struct ft_summary summary = { .time_ns = 9000000, .root_ended = true };
	json_t *root, *children, *ls, *vforked, *grandchild;
	size_t i;

	(void)state;
	capture_start(&c);
	setup_root_sh(&c);
	for (i = 0; i < sizeof(events) / sizeof(events[0]); i++)
		setup_event(&c, &events[i]);
	capture_end(&c, &summary);

	assert_json_int(c.lines[0], "processes", 4);
	root = json_array_get(json_object_get(c.lines[0], "tree"), 0);
	assert_json_int(root, "pid", ROOT_PID);
	assert_json_int(root, "ppid", ROOT_PPID);
	assert_json_str(root, "origin", "root");
	assert_json_str(root, "comm", "sh");
	assert_json_str(root, "path", "/bin/sh");
	assert_string_equal(array_string(root, "argv", 2), "true");
	assert_json_us(root, "start", 0);
	assert_json_us(root, "end", 8000);
	assert_json_int(root, "exit_code", 0);
	assert_json_absent(root, "detached");

	children = json_object_get(root, "children");
	assert_int_equal(json_array_size(children), 2);
	ls = json_array_get(children, 0);
	assert_json_int(ls, "pid", 101);
	assert_json_int(ls, "ppid", ROOT_PID);
	assert_json_str(ls, "origin", "fork");
	assert_json_str(ls, "comm", "ls");
	assert_json_str(ls, "path", "/bin/ls");
	assert_string_equal(array_string(ls, "argv", 0), "ls");
	assert_string_equal(array_string(ls, "argv", 1), "-l");
	assert_json_us(ls, "start", 1000);
	assert_json_us(ls, "end", 6000);
	assert_json_int(ls, "exit_code", 2);

	vforked = json_array_get(children, 1);
	assert_json_int(vforked, "pid", 102);
	assert_json_str(vforked, "origin", "vfork");
	assert_json_str(vforked, "comm", "sh");
	assert_json_str(vforked, "signal", "SIGKILL");
	assert_json_bool(vforked, "core_dumped", false);
	assert_json_absent(vforked, "exit_code");
	assert_int_equal(json_array_size(json_object_get(vforked, "children")),
			 0);

	assert_int_equal(json_array_size(json_object_get(ls, "children")), 1);
	grandchild = json_array_get(json_object_get(ls, "children"), 0);
	assert_json_int(grandchild, "pid", 103);
	assert_json_int(grandchild, "ppid", 101);
	/* It has not exec'd, so it shows the program it was forked in. */
	assert_json_str(grandchild, "comm", "ls");
	assert_json_str(grandchild, "path", "/bin/ls");
	assert_json_str(grandchild, "signal", "SIGSEGV");
	assert_json_bool(grandchild, "core_dumped", true);
	assert_int_equal(
		json_array_size(json_object_get(grandchild, "programs")), 0);
	capture_free(&c);
}

static void
json_summary_programs_array(void **state)
{
	static const char env_args[] = "env\0-i\0";
	struct capture c = { 0 };
	struct ft_event env =
		exec_event(ROOT_PID, "/usr/bin/env", "env", env_args,
			   sizeof(env_args) - 1, 2500000);
	struct ft_summary summary = { .time_ns = 3000000 };
	json_t *root, *programs, *first, *second;

	(void)state;
	capture_start(&c);
	setup_root_sh(&c);
	setup_event(&c, &env);
	capture_end(&c, &summary);

	root = json_array_get(json_object_get(c.lines[0], "tree"), 0);
	programs = json_object_get(root, "programs");
	assert_int_equal(json_array_size(programs), 2);
	first = json_array_get(programs, 0);
	assert_json_us(first, "t", 0);
	assert_json_str(first, "path", "/bin/sh");
	assert_json_str(first, "comm", "sh");
	assert_int_equal(json_array_size(json_object_get(first, "argv")), 3);
	assert_string_equal(array_string(first, "argv", 1), "-c");
	assert_int_equal(json_object_size(first), 4);
	second = json_array_get(programs, 1);
	assert_json_us(second, "t", 2500);
	assert_json_str(second, "path", "/usr/bin/env");
	assert_json_str(second, "comm", "env");
	assert_string_equal(array_string(second, "argv", 1), "-i");
	/* The process's own path and argv are its last program's. */
	assert_json_str(root, "path", "/usr/bin/env");
	assert_json_str(root, "comm", "env");
	capture_free(&c);
}

static void
json_summary_no_program_fields(void **state)
{
	struct capture c = { 0 };
	struct ft_event root_exit = exit_event(ROOT_PID, ROOT_PID, 0, 1000);
	struct ft_summary summary = { .time_ns = 2000 };
	json_t *root;

	(void)state;
	capture_start(&c);
	setup_event(&c, &root_exit);
	capture_end(&c, &summary);

	root = json_array_get(json_object_get(c.lines[0], "tree"), 0);
	assert_json_str(root, "comm", "?");
	assert_json_absent(root, "path");
	assert_json_absent(root, "argv");
	assert_int_equal(json_array_size(json_object_get(root, "programs")), 0);
	capture_free(&c);
}

static void
json_summary_threads_array(void **state)
{
	struct capture c = { 0 };
	struct ft_event events[] = {
		creation_event(FT_EVENT_THREAD, ROOT_PID, 150, 1000000),
		creation_event(FT_EVENT_THREAD, ROOT_PID, 151, 2000000),
		exit_event(ROOT_PID, 150, W_EXITCODE(4, 0), 3000000),
		make_event(FT_EVENT_DETACH, ROOT_PID, 4000000),
	};
	struct ft_summary summary = { .time_ns = 5000000 };
	json_t *root, *threads, *ended, *running;
	size_t i;

	(void)state;
	capture_start(&c);
	setup_root_sh(&c);
	for (i = 0; i < sizeof(events) / sizeof(events[0]); i++)
		setup_event(&c, &events[i]);
	capture_end(&c, &summary);

	assert_json_int(c.lines[0], "threads", 2);
	root = json_array_get(json_object_get(c.lines[0], "tree"), 0);
	threads = json_object_get(root, "threads");
	assert_int_equal(json_array_size(threads), 2);
	ended = json_array_get(threads, 0);
	assert_json_int(ended, "tid", 150);
	assert_json_us(ended, "start", 1000);
	assert_json_us(ended, "end", 3000);
	assert_json_int(ended, "exit_code", 4);
	assert_int_equal(json_object_size(ended), 4);
	running = json_array_get(threads, 1);
	assert_json_int(running, "tid", 151);
	assert_json_us(running, "start", 2000);
	assert_json_absent(running, "end");
	assert_json_absent(running, "exit_code");
	assert_int_equal(json_object_size(running), 2);
	capture_free(&c);
}

static void
json_summary_detached_process(void **state)
{
	struct capture c = { 0 };
	struct ft_event detach = make_event(FT_EVENT_DETACH, ROOT_PID, 4000000);
	struct ft_summary summary = { .time_ns = 5000000 };
	json_t *root;

	(void)state;
	capture_start(&c);
	setup_root_sh(&c);
	setup_event(&c, &detach);
	capture_end(&c, &summary);

	root = json_array_get(json_object_get(c.lines[0], "tree"), 0);
	assert_json_bool(root, "detached", true);
	assert_json_us(root, "end", 4000);
	assert_json_absent(root, "exit_code");
	assert_json_absent(root, "signal");
	capture_free(&c);
}

static void
json_summary_pid_reuse_both_listed(void **state)
{
	struct capture c = { 0 };
	struct ft_event events[] = {
		creation_event(FT_EVENT_FORK, ROOT_PID, 101, 1000),
		exit_event(101, 101, W_EXITCODE(1, 0), 2000),
		creation_event(FT_EVENT_FORK, ROOT_PID, 101, 3000),
		exit_event(101, 101, W_EXITCODE(2, 0), 4000),
	};
	struct ft_summary summary = { .time_ns = 5000 };
	json_t *children;
	size_t i;

	(void)state;
	capture_start(&c);
	for (i = 0; i < sizeof(events) / sizeof(events[0]); i++)
		setup_event(&c, &events[i]);
	capture_end(&c, &summary);

	assert_json_int(c.lines[0], "processes", 3);
	children = json_object_get(
		json_array_get(json_object_get(c.lines[0], "tree"), 0),
		"children");
	assert_int_equal(json_array_size(children), 2);
	assert_json_int(json_array_get(children, 0), "pid", 101);
	assert_json_int(json_array_get(children, 0), "exit_code", 1);
	assert_json_int(json_array_get(children, 1), "pid", 101);
	assert_json_int(json_array_get(children, 1), "exit_code", 2);
	capture_free(&c);
}

static void
json_events_then_summary_lines(void **state)
{
	struct capture c = { 0 };
	struct ft_event fork_event =
		creation_event(FT_EVENT_FORK, ROOT_PID, 101, 1000);
	struct ft_event child_exit = exit_event(101, 101, 0, 2000);
	struct ft_summary summary = { .time_ns = 3000 };

	(void)state;
	capture_start(&c);
	setup_root_sh(&c);
	assert_true(deliver(&c, &fork_event));
	assert_true(deliver(&c, &child_exit));
	capture_end(&c, &summary);

	assert_int_equal(c.count, 3);
	assert_json_str(c.lines[0], "event", "fork");
	assert_json_str(c.lines[1], "event", "exit");
	assert_json_str(c.lines[2], "event", "summary");
	/* The output never colours JSON. */
	assert_null(strchr(c.text, '\033'));
	capture_free(&c);
}

static void
json_quiet_writes_only_summary(void **state)
{
	struct capture c = { .opts = { .quiet = 1 } };
	struct ft_event fork_event =
		creation_event(FT_EVENT_FORK, ROOT_PID, 101, 1000);
	struct ft_event child_exit = exit_event(101, 101, 0, 2000);
	struct ft_summary summary = { .time_ns = 3000 };

	(void)state;
	capture_start(&c);
	setup_root_sh(&c);
	assert_true(deliver(&c, &fork_event));
	assert_true(deliver(&c, &child_exit));
	capture_end(&c, &summary);

	assert_int_equal(c.count, 1);
	assert_json_str(c.lines[0], "event", "summary");
	assert_json_int(c.lines[0], "processes", 2);
	capture_free(&c);
}

static void
json_quiet_twice_skips_events(void **state)
{
	struct capture c = { .opts = { .quiet = 2 } };
	struct ft_event fork_event =
		creation_event(FT_EVENT_FORK, ROOT_PID, 101, 1000);
	struct ft_event child_exit = exit_event(101, 101, 0, 2000);

	(void)state;
	capture_start(&c);
	setup_root_sh(&c);
	assert_true(deliver(&c, &fork_event));
	assert_true(deliver(&c, &child_exit));
	capture_close(&c);

	assert_int_equal(c.len, 0);
	assert_int_equal(c.count, 0);
	capture_free(&c);
}

/* jansson allocations not yet freed, while counting_malloc() is in use. */
static long live_allocations;

static void *
counting_malloc(size_t size)
{
	live_allocations++;
	return malloc(size);
}

static void
counting_free(void *ptr)
{
	if (ptr)
		live_allocations--;
	free(ptr);
}

static void
json_quiet_twice_end_writes_nothing(void **state)
{
	struct capture c = { .opts = { .quiet = 2 } };
	struct ft_summary summary = { .time_ns = 3000 };
	long leaked;

	(void)state;
	live_allocations = 0;
	json_set_alloc_funcs(counting_malloc, counting_free);
	capture_start(&c);
	setup_root_sh(&c);
	capture_end(&c, &summary);
	leaked = live_allocations;
	json_set_alloc_funcs(malloc, free);

	assert_int_equal(c.len, 0);
	assert_int_equal(c.count, 0);
	assert_int_equal(leaked, 0);
	capture_free(&c);
}

static void
json_hang_event_fields(void **state)
{
	static char message[] = "deadlocked in a wait cycle: ...";
	static char line[] = "evidence line";
	static char *evidence[] = { line };
	static pid_t related[] = { ROOT_PID, 101 };
	struct ft_thread_snapshot thread = { .tid = ROOT_PID, .pid = ROOT_PID };
	struct ft_snapshot threads = { .threads = &thread, .count = 1 };
	struct ft_hang_report report = { .pid = ROOT_PID, .tid = ROOT_PID };
	struct ft_event event =
		make_event(FT_EVENT_HANG, ROOT_PID, 3000000000u);
	struct capture c = { 0 };
	json_t *waits_on, *peer;

	(void)state;
	strcpy(thread.name, "sh");
	thread.state = 'S';
	report.deadlock = true;
	report.cause = FT_HANG_DEAD_PEER;
	report.message = message;
	report.evidence = evidence;
	report.evidence_count = 1;
	report.related = related;
	report.related_count = 2;
	report.blocked_ns = 2500000000u;
	report.wait.kind = FT_WAIT_READ;
	report.wait.fd_count = 1;
	report.wait.fds[0] = 5;
	strcpy(report.wait_file, "pipe:[42]");
	report.peer_pid = 101;
	report.peer_status = SIGKILL;
	report.peer_end_ns = 1000000000u;
	report.threads = &threads;
	event.hang = &report;
	capture_start(&c);
	setup_root_sh(&c);
	assert_true(deliver(&c, &event));
	capture_close(&c);

	assert_int_equal(c.count, 1);
	assert_event_base(c.lines[0], "hang", 3000000, ROOT_PID, ROOT_PID,
			  ROOT_PPID, "sh");
	assert_json_bool(c.lines[0], "deadlock", true);
	assert_json_str(c.lines[0], "cause", "dead_peer");
	assert_json_str(c.lines[0], "message", message);
	assert_json_us(c.lines[0], "blocked_for", 2500000);
	assert_json_int(c.lines[0], "thread", ROOT_PID);
	waits_on = json_object_get(c.lines[0], "waits_on");
	assert_json_str(waits_on, "kind", "read");
	assert_json_bool(waits_on, "timed", false);
	assert_json_str(waits_on, "file", "pipe:[42]");
	assert_int_equal(json_integer_value(json_array_get(
				 json_object_get(waits_on, "fds"), 0)),
			 5);
	assert_string_equal(
		json_string_value(json_array_get(
			json_object_get(c.lines[0], "evidence"), 0)),
		"evidence line");
	assert_int_equal(
		json_array_size(json_object_get(c.lines[0], "related")), 2);
	peer = json_object_get(c.lines[0], "peer");
	assert_json_int(peer, "pid", 101);
	assert_json_str(peer, "signal", "SIGKILL");
	assert_json_us(peer, "end", 1000000);
	assert_json_absent(c.lines[0], "owner");
	assert_int_equal(
		json_array_size(json_object_get(c.lines[0], "threads")), 1);
	capture_free(&c);
}

static void
json_fork_lists_other_threads(void **state)
{
	struct ft_thread_snapshot other = { .tid = 102, .pid = ROOT_PID };
	struct ft_snapshot threads = { .threads = &other, .count = 1 };
	struct ft_event event =
		creation_event(FT_EVENT_FORK, ROOT_PID, 101, 1500000);
	struct capture c = { 0 };
	json_t *list;

	(void)state;
	strcpy(other.name, "worker");
	other.state = 'S';
	event.other_threads = &threads;
	capture_start(&c);
	setup_root_sh(&c);
	assert_true(deliver(&c, &event));
	capture_close(&c);
	list = json_object_get(c.lines[0], "other_threads");
	assert_int_equal(json_array_size(list), 1);
	assert_json_int(json_array_get(list, 0), "tid", 102);
	assert_json_str(json_array_get(list, 0), "name", "worker");
	assert_json_str(json_array_get(list, 0), "state", "S");
	capture_free(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(json_fork_event_fields),
		cmocka_unit_test(json_vfork_event_fields),
		cmocka_unit_test(json_thread_event_fields),
		cmocka_unit_test(json_child_event_has_parent_ppid),
		cmocka_unit_test(json_exec_event_fields),
		cmocka_unit_test(json_exec_empty_args_array),
		cmocka_unit_test(json_exec_by_thread_former_tid),
		cmocka_unit_test(json_exit_code_and_duration),
		cmocka_unit_test(json_exit_by_signal_fields),
		cmocka_unit_test(json_exit_by_kill_not_dumped),
		cmocka_unit_test(json_thread_exit_fields),
		cmocka_unit_test(json_signal_with_sender),
		cmocka_unit_test(json_signal_fault_address),
		cmocka_unit_test(json_signal_unknown_code_omitted),
		cmocka_unit_test(json_stop_and_continue_events),
		cmocka_unit_test(json_detach_event_fields),
		cmocka_unit_test(json_times_rounded_to_microseconds),
		cmocka_unit_test(json_invalid_utf8_as_hex),
		cmocka_unit_test(json_control_characters_round_trip),
		cmocka_unit_test(json_summary_top_level_fields),
		cmocka_unit_test(json_summary_interrupted_signal),
		cmocka_unit_test(json_summary_tree_nesting),
		cmocka_unit_test(json_summary_programs_array),
		cmocka_unit_test(json_summary_no_program_fields),
		cmocka_unit_test(json_summary_threads_array),
		cmocka_unit_test(json_summary_detached_process),
		cmocka_unit_test(json_summary_pid_reuse_both_listed),
		cmocka_unit_test(json_events_then_summary_lines),
		cmocka_unit_test(json_quiet_writes_only_summary),
		cmocka_unit_test(json_quiet_twice_skips_events),
		cmocka_unit_test(json_quiet_twice_end_writes_nothing),
		cmocka_unit_test(json_hang_event_fields),
		cmocka_unit_test(json_fork_lists_other_threads),
	};

	return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
