/*
 * Tests of the SVG output.  The rows built from a family model, the time
 * axis's step and XML escaping are tested as units.  Pictures of real
 * families drawn by forktrace --svg are checked with xmllint and, where
 * Debian's chromium is installed, rendered to PNG.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "forktrace/family.h"
#include "forktrace/hang.h"
#include "forktrace/output.h"
#include "forktrace/svg.h"

#include "events.h"
#include "harness.h"

#define ROOT_PID 100
#define CHROMIUM "/usr/bin/chromium"
/* The picture's width in px (WIDTH in tracer/out_svg.c). */
#define SVG_WIDTH 1200
/*
 * The lowest window that the picture is rendered in.  Headless Chromium
 * 156 drew scrollbars over the picture in a window 130 px high, and none
 * in one of 184 px.
 */
#define MIN_WINDOW_HEIGHT 200
/* The fill of each end class, as tracer/out_svg.c's style sets it. */
#define COLOR_EXIT_ZERO	   "7cc47f"
#define COLOR_EXIT_NONZERO "f2a541"

static struct ft_family *
family_with_root(void)
{
	struct ft_family *family = family_new();
	struct ft_process *root =
		family_add_root(family, ROOT_PID, FT_ORIGIN_ROOT, 0);

	root->ppid = 1;
	return family;
}

static void
apply(struct ft_family *family, struct ft_event event)
{
	assert_true(family_apply(family, &event));
}

/* Forks child from parent at time_ns and ends it with status later. */
static void
add_child(struct ft_family *family, pid_t parent, pid_t child, int status,
	  uint64_t time_ns)
{
	apply(family, creation_event(FT_EVENT_FORK, parent, child, time_ns));
	apply(family, exit_event(child, child, status, time_ns + 1000));
}

/* Forks child and has it exec path (a NUL-terminated argv of one word). */
static void
add_exec_child(struct ft_family *family, pid_t parent, pid_t child,
	       const char *path, uint64_t time_ns)
{
	apply(family, creation_event(FT_EVENT_FORK, parent, child, time_ns));
	apply(family, exec_event(child, path, strrchr(path, '/') + 1, path,
				 strlen(path) + 1, time_ns + 500));
	apply(family, exit_event(child, child, 0, time_ns + 1000));
}

static void
layout_one_row_per_process(void **state)
{
	struct ft_family *family = family_with_root();
	struct svg_layout layout;

	(void)state;
	apply(family, creation_event(FT_EVENT_FORK, ROOT_PID, 101, 1000));
	apply(family, creation_event(FT_EVENT_FORK, ROOT_PID, 102, 2000));
	add_child(family, 101, 103, W_EXITCODE(3, 0), 3000);
	apply(family, exit_event(101, 101, 0, 5000));
	apply(family, exit_event(102, 102, SIGKILL, 6000));
	svg_layout_build(&layout, family, 10000, SVG_MAX_ROWS);

	assert_int_equal(layout.count, 4);
	assert_int_equal(layout.omitted, 0);
	assert_int_equal(layout.processes, 4);
	assert_int_equal(layout.end_ns, 10000);
	/* Depth first: the grandchild comes before its parent's sibling. */
	assert_int_equal(layout.rows[0].process->pid, ROOT_PID);
	assert_int_equal(layout.rows[1].process->pid, 101);
	assert_int_equal(layout.rows[2].process->pid, 103);
	assert_int_equal(layout.rows[3].process->pid, 102);
	assert_int_equal(layout.rows[0].parent_row, (size_t)-1);
	assert_int_equal(layout.rows[1].parent_row, 0);
	assert_int_equal(layout.rows[2].parent_row, 1);
	assert_int_equal(layout.rows[3].parent_row, 0);
	assert_int_equal(layout.rows[2].depth, 2);
	assert_int_equal(layout.rows[0].end, SVG_END_RUNNING);
	assert_int_equal(layout.rows[0].end_ns, 10000);
	assert_int_equal(layout.rows[1].end, SVG_END_EXIT_ZERO);
	assert_int_equal(layout.rows[2].end, SVG_END_EXIT_NONZERO);
	assert_int_equal(layout.rows[3].end, SVG_END_KILLED);
	assert_int_equal(layout.rows[3].start_ns, 2000);
	assert_int_equal(layout.rows[3].end_ns, 6000);
	svg_layout_free(&layout);
	family_free(family);
}

static void
layout_no_collapse_when_rows_fit(void **state)
{
	struct ft_family *family = family_with_root();
	struct svg_layout layout;
	pid_t pid;

	(void)state;
	for (pid = 101; pid <= 110; pid++)
		add_child(family, ROOT_PID, pid, 0, (uint64_t)pid * 1000);
	svg_layout_build(&layout, family, 200000, 11);
	assert_int_equal(layout.count, 11);
	assert_int_equal(layout.rows[10].count, 1);
	svg_layout_free(&layout);
	family_free(family);
}

static void
layout_collapses_identical_siblings(void **state)
{
	struct ft_family *family = family_with_root();
	struct svg_layout layout;
	pid_t pid;

	(void)state;
	for (pid = 101; pid <= 110; pid++)
		add_child(family, ROOT_PID, pid, 0, (uint64_t)pid * 1000);
	/* Another end class, so not in the group. */
	add_child(family, ROOT_PID, 111, W_EXITCODE(1, 0), 111000);
	svg_layout_build(&layout, family, 200000, 5);

	assert_int_equal(layout.count, 3);
	assert_int_equal(layout.omitted, 0);
	assert_int_equal(layout.rows[1].process->pid, 101);
	assert_int_equal(layout.rows[1].count, 10);
	assert_int_equal(layout.rows[1].hidden, 0);
	assert_int_equal(layout.rows[1].start_ns, 101000);
	assert_int_equal(layout.rows[1].end_ns, 110000 + 1000);
	assert_int_equal(layout.rows[1].end, SVG_END_EXIT_ZERO);
	assert_int_equal(layout.rows[2].process->pid, 111);
	assert_int_equal(layout.rows[2].count, 1);
	svg_layout_free(&layout);
	family_free(family);
}

static void
layout_collapses_largest_group_first(void **state)
{
	struct ft_family *family = family_with_root();
	struct svg_layout layout;
	pid_t pid;

	(void)state;
	/* Six children exec one program, then three exec another. */
	for (pid = 101; pid <= 106; pid++)
		add_exec_child(family, ROOT_PID, pid, "/bin/true",
			       (uint64_t)pid * 1000);
	for (pid = 107; pid <= 109; pid++)
		add_exec_child(family, ROOT_PID, pid, "/bin/false",
			       (uint64_t)pid * 1000);
	svg_layout_build(&layout, family, 200000, 6);

	/* Collapsing the six leaves five rows, so the three stay apart. */
	assert_int_equal(layout.count, 5);
	assert_int_equal(layout.rows[1].count, 6);
	assert_int_equal(layout.rows[2].process->pid, 107);
	assert_int_equal(layout.rows[2].count, 1);
	assert_int_equal(layout.rows[4].process->pid, 109);
	svg_layout_free(&layout);
	family_free(family);
}

static void
layout_group_hides_descendants(void **state)
{
	struct ft_family *family = family_with_root();
	struct svg_layout layout;
	pid_t pid;

	(void)state;
	/* Four children, each with a grandchild of its own. */
	for (pid = 101; pid <= 104; pid++) {
		apply(family, creation_event(FT_EVENT_FORK, ROOT_PID, pid,
					     (uint64_t)pid * 1000));
		add_child(family, pid, pid + 100, 0, (uint64_t)pid * 1000 + 10);
		apply(family,
		      exit_event(pid, pid, 0, (uint64_t)pid * 1000 + 50));
	}
	svg_layout_build(&layout, family, 200000, 4);

	assert_int_equal(layout.count, 2);
	assert_int_equal(layout.rows[1].count, 4);
	assert_int_equal(layout.rows[1].hidden, 4);
	assert_int_equal(layout.omitted, 0);
	svg_layout_free(&layout);
	family_free(family);
}

static void
layout_cuts_rows_past_the_limit(void **state)
{
	static const char *const paths[] = { "/bin/a", "/bin/b", "/bin/c",
					     "/bin/d", "/bin/e", "/bin/f" };
	struct ft_family *family = family_with_root();
	struct svg_layout layout;
	size_t i;

	(void)state;
	/* Children that differ in their program cannot be collapsed. */
	for (i = 0; i < 6; i++)
		add_exec_child(family, ROOT_PID, (pid_t)(101 + i), paths[i],
			       (i + 1) * 1000);
	svg_layout_build(&layout, family, 200000, 4);

	assert_int_equal(layout.count, 4);
	assert_int_equal(layout.omitted, 3);
	assert_int_equal(layout.processes, 7);
	assert_int_equal(layout.rows[3].process->pid, 103);
	svg_layout_free(&layout);
	family_free(family);
}

static void
layout_end_classes(void **state)
{
	struct ft_family *family = family_with_root();
	struct ft_process *hung;

	(void)state;
	add_child(family, ROOT_PID, 101, 0, 1000);
	add_child(family, ROOT_PID, 102, W_EXITCODE(2, 0), 2000);
	add_child(family, ROOT_PID, 103, SIGSEGV | WCOREFLAG, 3000);
	apply(family, creation_event(FT_EVENT_FORK, ROOT_PID, 104, 4000));
	apply(family, make_event(FT_EVENT_DETACH, 104, 5000));
	add_child(family, ROOT_PID, 105, SIGKILL, 6000);
	hung = family_find_any(family, 105);
	hung->hung = true;
	hung->deadlocked = true;
	/* Reported in a sleep, then ended by itself. */
	add_child(family, ROOT_PID, 106, 0, 7000);
	family_find_any(family, 106)->hung = true;

	assert_int_equal(svg_end_of(family_find_any(family, 101)),
			 SVG_END_EXIT_ZERO);
	assert_int_equal(svg_end_of(family_find_any(family, 102)),
			 SVG_END_EXIT_NONZERO);
	assert_int_equal(svg_end_of(family_find_any(family, 103)),
			 SVG_END_KILLED);
	assert_int_equal(svg_end_of(family_find_any(family, 104)),
			 SVG_END_RUNNING);
	assert_int_equal(svg_end_of(hung), SVG_END_HUNG);
	assert_int_equal(svg_end_of(family_find_any(family, 106)),
			 SVG_END_EXIT_ZERO);
	family_free(family);
}

static void
tick_step_is_1_2_5(void **state)
{
	(void)state;
	assert_int_equal(svg_tick_step(8000000, 10), 1000000);
	assert_int_equal(svg_tick_step(2500000000u, 10), 500000000);
	assert_int_equal(svg_tick_step(15000000, 10), 2000000);
	assert_int_equal(svg_tick_step(10000000, 10), 1000000);
	assert_int_equal(svg_tick_step(10000001, 10), 2000000);
	assert_int_equal(svg_tick_step(15, 10), 2);
	assert_int_equal(svg_tick_step(0, 10), 1);
}

static void
check_escape(const char *in, size_t len, const char *expected)
{
	struct strbuf sb = STRBUF_INIT;

	svg_escape(&sb, in, len);
	assert_string_equal(strbuf_str(&sb), expected);
	strbuf_release(&sb);
}

static void
escape_for_xml(void **state)
{
	(void)state;
	check_escape("<script>&\"'", 11, "&lt;script&gt;&amp;&quot;&apos;");
	check_escape("a\nb\x01", 4, "a\\nb\\x01");
	check_escape("\xff\xfe", 2, "\\xff\\xfe");
	/* U+FFFE is valid UTF-8 but no XML character; U+00E9 is both. */
	check_escape("\xef\xbf\xbe\xc3\xa9", 5, "\\xef\\xbf\\xbe\xc3\xa9");
	check_escape("x\0y", 3, "x\\x00y");
}

/* Reads a whole file into a new NUL-terminated string. */
static char *
read_text(const char *path)
{
	struct stat st;
	char *text;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	text = calloc(1, (size_t)st.st_size + 1);
	assert_non_null(text);
	assert_int_equal(read(fd, text, (size_t)st.st_size), st.st_size);
	close(fd);
	return text;
}

static size_t
count_of(const char *text, const char *needle)
{
	size_t count = 0;

	for (text = strstr(text, needle); text; text = strstr(text + 1, needle))
		count++;
	return count;
}

/* Checks that xmllint finds the file well-formed. */
static void
assert_well_formed(const char *path)
{
	const char *command[] = { "xmllint", "--noout", path, NULL };
	struct trace_result r;

	assert_int_equal(plain_run(&r, command), 0);
	if (r.exit_code != 0)
		fprintf(stderr, "xmllint: %s\n", r.err);
	assert_int_equal(r.exit_code, 0);
	trace_result_free(&r);
}

/* Returns a path for a picture in the test's directory. */
static const char *
svg_path(const char *name)
{
	static char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s.svg", test_tmpdir(), name);
	return path;
}

/* Traces command with --svg=path; returns the picture's text. */
static char *
trace_svg(struct trace_result *r, const char *path, const char *const *command)
{
	char option[PATH_MAX + 8];
	const char *options[] = { option, NULL };

	snprintf(option, sizeof(option), "--svg=%s", path);
	unlink(path);
	assert_int_equal(trace_run(r, options, command), 0);
	assert_false(r->timed_out);
	assert_well_formed(path);
	return read_text(path);
}

/* Returns the class of the bar in the row of pid, copied, or NULL. */
static char *
bar_class(const char *svg, pid_t pid)
{
	char id[32];
	const char *row, *bar, *end;

	snprintf(id, sizeof(id), "id=\"p%d\"", (int)pid);
	row = strstr(svg, id);
	if (!row)
		return NULL;
	bar = strstr(row, "class=\"bar ");
	if (!bar)
		return NULL;
	bar += strlen("class=\"bar ");
	end = strchr(bar, '"');
	return end ? strndup(bar, (size_t)(end - bar)) : NULL;
}

/*
 * Draws a family of 251 processes that cannot be collapsed, with a hung
 * root and a program name that XML forbids, straight through the output.
 */
static void
draw_cuts_rows_and_marks_hang(void **state)
{
	static char message[] = "deadlocked: <it> waits for a mutex";
	static const char bad_name[] = "bad\xef\xbf\xbfname";
	struct ft_family *family = family_with_root();
	struct ft_options opts = { 0 };
	struct ft_summary summary = { .time_ns = 5000000000u };
	struct ft_hang_report report = { .pid = ROOT_PID,
					 .tid = ROOT_PID,
					 .deadlock = true,
					 .cause = FT_HANG_FUTEX,
					 .message = message };
	struct ft_event hang = make_event(FT_EVENT_HANG, ROOT_PID, 3000000000u);
	const char *path = svg_path("cut");
	struct ft_output *out = output_svg_new();
	char program[32];
	char *svg;
	int i;

	(void)state;
	/* Each child execs a program of its own, so no two are alike. */
	for (i = 0; i < 250; i++) {
		snprintf(program, sizeof(program), "/bin/p%d", i);
		add_exec_child(family, ROOT_PID, 101 + i, program,
			       (uint64_t)(i + 1) * 1000000);
	}
	apply(family, exec_event(ROOT_PID, "/bin/x", bad_name, bad_name,
				 sizeof(bad_name), 1000));
	out->fp = fopen(path, "w");
	assert_non_null(out->fp);
	out->opts = &opts;
	out->ops->begin(out);
	hang.hang = &report;
	assert_true(family_apply(family, &hang));
	out->ops->event(out, &hang, family_process(family, ROOT_PID));
	out->ops->end(out, family, &summary);
	assert_int_equal(fclose(out->fp), 0);
	out->ops->free(out);
	family_free(family);

	assert_well_formed(path);
	svg = read_text(path);
	assert_int_equal(count_of(svg, "<g class=\"row"), SVG_MAX_ROWS);
	assert_non_null(strstr(svg, ">51 more processes are not drawn"));
	assert_int_equal(count_of(svg, "class=\"bar hung\""), 1);
	assert_int_equal(count_of(svg, "class=\"hang-mark\""), 1);
	assert_non_null(strstr(svg, "hang reported at 3.000000 s: "
				    "deadlocked: &lt;it&gt; waits"));
	assert_null(strstr(svg, "\xef\xbf\xbf"));
	assert_non_null(strstr(svg, ">100 bad\\xef\\xbf\\xbfname</text>"));
	assert_non_null(strstr(svg, "forktrace: 251 processes in 5.000 s"));
	free(svg);
}

/* Two processes with one pid, and one that ended unseen. */
static void
draw_reused_pid_and_lost(void **state)
{
	struct ft_family *family = family_with_root();
	struct ft_options opts = { 0 };
	struct ft_summary summary = { .time_ns = 9000000 };
	const char *path = svg_path("reused");
	struct ft_output *out = output_svg_new();
	char *svg;

	(void)state;
	add_child(family, ROOT_PID, 101, W_EXITCODE(3, 0), 1000000);
	add_child(family, ROOT_PID, 101, W_EXITCODE(4, 0), 5000000);
	add_child(family, ROOT_PID, 102, 0, 6000000);
	family_find_any(family, 102)->lost = true;
	out->fp = fopen(path, "w");
	assert_non_null(out->fp);
	out->opts = &opts;
	out->ops->begin(out);
	out->ops->end(out, family, &summary);
	assert_int_equal(fclose(out->fp), 0);
	out->ops->free(out);

	assert_int_equal(svg_end_of(family_find_any(family, 102)),
			 SVG_END_LOST);
	family_free(family);
	assert_well_formed(path);
	svg = read_text(path);
	/* Each row's id is its own. */
	assert_int_equal(count_of(svg, "id=\"p101\""), 1);
	assert_int_equal(count_of(svg, "id=\"p101-"), 1);
	assert_int_equal(count_of(svg, "class=\"bar lost\""), 1);
	assert_non_null(strstr(svg, "ended unseen"));
	free(svg);
}

/* A forktrace killed mid-run leaves a well-formed picture. */
static void
svg_killed_tracer_well_formed(void **state)
{
	char option[PATH_MAX + 8];
	const char *path = svg_path("killed");
	const char *options[] = { option, NULL };
	const char *command[] = { "sleep", "30", NULL };
	struct live_trace live;
	json_t *exec;
	char *svg;

	(void)state;
	snprintf(option, sizeof(option), "--svg=%s", path);
	unlink(path);
	assert_int_equal(live_trace_start(&live, options, command), 0);
	exec = live_trace_next(&live, "exec", "sleep");
	assert_non_null(exec);
	kill(live.pid, SIGKILL);
	live_trace_finish(&live);
	/* Its family runs on without it. */
	kill((pid_t)json_int(exec, "pid"), SIGKILL);
	assert_well_formed(path);
	svg = read_text(path);
	assert_non_null(strstr(svg, "no timeline"));
	free(svg);
	trace_result_free(&live.result);
}

/* A program that cannot be run still leaves a well-formed picture. */
static void
svg_failed_exec_well_formed(void **state)
{
	const char *command[] = { "/nonexistent/program", NULL };
	const char *path = svg_path("failed_exec");
	struct trace_result r;
	char *svg;

	(void)state;
	svg = trace_svg(&r, path, command);
	assert_int_equal(r.exit_code, 127);
	assert_non_null(strstr(svg, "no timeline"));
	free(svg);
	trace_result_free(&r);
}

static void
svg_fork_tree_rows(void **state)
{
	const char *command[] = { example_path("fork_tree"), NULL };
	const char *path = svg_path("fork_tree");
	struct trace_result r;
	char label[64];
	pid_t pids[5];
	char *svg;
	size_t i;

	(void)state;
	svg = trace_svg(&r, path, command);
	assert_int_equal(r.exit_code, 0);
	assert_int_equal(trace_process_count(&r), 5);
	pids[0] = trace_root_pid(&r);
	assert_int_equal(trace_count(&r, "fork", 0), 4);
	for (i = 0; i < 4; i++)
		pids[i + 1] =
			(pid_t)json_int(trace_event(&r, "fork", 0, i), "child");

	assert_int_equal(count_of(svg, "<g class=\"row"), 5);
	assert_int_equal(count_of(svg, "class=\"row group\""), 0);
	for (i = 0; i < 5; i++) {
		snprintf(label, sizeof(label), "id=\"p%d\"", (int)pids[i]);
		assert_int_equal(count_of(svg, label), 1);
		snprintf(label, sizeof(label), ">%d fork_tree</text>",
			 (int)pids[i]);
		assert_int_equal(count_of(svg, label), 1);
	}
	/* The root's exec, and one fork link for each child. */
	assert_int_equal(count_of(svg, "class=\"exec\""), 1);
	assert_int_equal(count_of(svg, "class=\"fork\""), 4);
	assert_int_equal(count_of(svg, "<title>"), 5);
	assert_non_null(strstr(svg, "width=\"1200\""));
	assert_null(strstr(svg, "<script"));
	assert_null(strstr(svg, "href"));
	free(svg);
	trace_result_free(&r);
}

static void
svg_fork_many_collapsed(void **state)
{
	const char *command[] = { example_path("fork_many"), "500", NULL };
	const char *path = svg_path("fork_many");
	struct trace_result r;
	char id[32];
	char *svg;

	(void)state;
	svg = trace_svg(&r, path, command);
	assert_int_equal(r.exit_code, 0);
	assert_int_equal(trace_process_count(&r), 501);

	assert_int_equal(count_of(svg, "<g class=\"row"), 2);
	assert_int_equal(count_of(svg, "<g class=\"row group\""), 1);
	assert_int_equal(count_of(svg, ">\u00d7500 fork_many</text>"), 1);
	assert_non_null(strstr(svg, "forktrace: 501 processes in "));
	/* The group's row is named after its first member. */
	snprintf(id, sizeof(id), "id=\"g%d\"",
		 (int)json_int(trace_event(&r, "fork", 0, 0), "child"));
	assert_int_equal(count_of(svg, id), 1);
	free(svg);
	trace_result_free(&r);
}

/* Returns the nth child created, by fork or vfork (dash uses vfork). */
static pid_t
nth_child(const struct trace_result *r, size_t nth)
{
	size_t i;

	for (i = 0; i < r->count; i++) {
		const char *kind = json_str(r->events[i], "event");

		if (kind && (!strcmp(kind, "fork") || !strcmp(kind, "vfork")) &&
		    nth-- == 0)
			return (pid_t)json_int(r->events[i], "child");
	}
	return -1;
}

static void
svg_exit_classes(void **state)
{
	const char *command[] = { "/bin/sh", "-c",
				  "sh -c 'exit 0'; sh -c 'exit 3'; "
				  "sh -c 'kill -KILL $$'; exit 0",
				  NULL };
	const char *path = svg_path("exits");
	static const char *const expected[] = { "exit-zero", "exit-zero",
						"exit-nonzero", "killed" };
	struct trace_result r;
	pid_t pid;
	char *svg, *class;
	size_t i;

	(void)state;
	svg = trace_svg(&r, path, command);
	assert_int_equal(r.exit_code, 0);
	assert_int_equal(trace_process_count(&r), 4);
	assert_int_equal(count_of(svg, "class=\"bar exit-zero\""), 2);
	assert_int_equal(count_of(svg, "class=\"bar exit-nonzero\""), 1);
	assert_int_equal(count_of(svg, "class=\"bar killed\""), 1);
	for (i = 0; i < 4; i++) {
		pid = i ? nth_child(&r, i - 1) : trace_root_pid(&r);
		class = bar_class(svg, pid);
		assert_non_null(class);
		assert_string_equal(class, expected[i]);
		free(class);
	}
	assert_non_null(strstr(svg, "end: killed by SIGKILL"));
	assert_non_null(strstr(svg, "end: exit 3"));
	free(svg);
	trace_result_free(&r);
}

/* Copies an example to test_tmpdir()/name; returns the copy's path. */
static const char *
copy_example(const char *example, const char *name)
{
	static char path[PATH_MAX];
	char *data = NULL;
	struct stat st;
	int in, out;

	snprintf(path, sizeof(path), "%s/%s", test_tmpdir(), name);
	in = open(example_path(example), O_RDONLY);
	assert_true(in >= 0);
	assert_int_equal(fstat(in, &st), 0);
	data = malloc((size_t)st.st_size);
	assert_non_null(data);
	assert_int_equal(read(in, data, (size_t)st.st_size), st.st_size);
	close(in);
	unlink(path);
	out = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0755);
	assert_true(out >= 0);
	assert_int_equal(write(out, data, (size_t)st.st_size), st.st_size);
	close(out);
	free(data);
	return path;
}

static void
svg_hostile_name_escaped(void **state)
{
	static const char name[] = "<script>&\"'";
	const char *command[] = { copy_example("fork_tree", name), NULL };
	struct trace_result r;
	char *svg;

	(void)state;
	svg = trace_svg(&r, svg_path("hostile"), command);
	assert_int_equal(r.exit_code, 0);
	assert_null(strstr(svg, "<script"));
	assert_null(strstr(svg, name));
	assert_null(strstr(svg, "&\""));
	/*
	 * Five labels and one exec label; in the titles, the root's path and
	 * argv, and the program that each of the four children inherits.
	 */
	assert_int_equal(count_of(svg, "&lt;script&gt;&amp;&quot;&apos;"),
			 5 + 1 + 2 + 4);
	free(svg);
	trace_result_free(&r);
}

static void
svg_invalid_utf8_name_well_formed(void **state)
{
	static const char name[] = "e\033]0;t\a\n\xff\xfe";
	const char *command[] = { copy_example("fork_tree", name), NULL };
	struct trace_result r;
	char *svg;

	(void)state;
	svg = trace_svg(&r, svg_path("not_utf8"), command);
	assert_int_equal(r.exit_code, 0);
	assert_null(strchr(svg, '\033'));
	assert_null(strchr(svg, '\xff'));
	assert_int_equal(count_of(svg, "e\\e]0;t\\x07\\n\\xff\\xfe"),
			 5 + 1 + 2 + 4);
	free(svg);
	trace_result_free(&r);
}

/* Returns the height attribute of the svg element. */
static unsigned
svg_height(const char *svg)
{
	const char *height = strstr(svg, " height=\"");

	assert_non_null(height);
	return (unsigned)strtoul(height + strlen(" height=\""), NULL, 10);
}

/* Returns the count after "NAME " in the PNG reader's output, or -1. */
static long
reader_value(const char *out, const char *name)
{
	char key[32];
	const char *at;

	snprintf(key, sizeof(key), "%s ", name);
	at = strstr(out, key);
	return at ? strtol(at + strlen(key), NULL, 10) : -1;
}

static void
svg_renders_in_chromium(void **state)
{
	const char *command[] = { "/bin/sh", "-c",
				  "sh -c 'exit 0'; sh -c 'exit 3'", NULL };
	const char *path = svg_path("render");
	char profile[PATH_MAX], png[PATH_MAX], size[64], shot[PATH_MAX + 16];
	char url[PATH_MAX + 8];
	struct trace_result r, shown, colors;
	char *svg;

	(void)state;
	if (access(CHROMIUM, X_OK) != 0) {
		print_message("skipped: %s is not installed\n", CHROMIUM);
		skip();
	}
	svg = trace_svg(&r, path, command);
	snprintf(profile, sizeof(profile), "%s/chromium.XXXXXX", test_tmpdir());
	assert_non_null(mkdtemp(profile));
	snprintf(png, sizeof(png), "%s/render.png", test_tmpdir());
	snprintf(size, sizeof(size), "--window-size=%d,%u", SVG_WIDTH,
		 svg_height(svg) > MIN_WINDOW_HEIGHT ? svg_height(svg)
						     : MIN_WINDOW_HEIGHT);
	snprintf(shot, sizeof(shot), "--screenshot=%s", png);
	snprintf(url, sizeof(url), "file://%s", path);
	{
		char data_dir[PATH_MAX + 20];
		const char *chromium[] = { CHROMIUM,
					   "--headless",
					   "--no-sandbox",
					   "--disable-gpu",
					   "--disable-quic",
					   "--no-first-run",
					   "--disable-background-networking",
					   "--disable-component-update",
					   "--disable-sync",
					   data_dir,
					   shot,
					   size,
					   url,
					   NULL };
		const char *reader[] = { "/usr/bin/python3",
					 source_path("tests/png_colors.py"),
					 png,
					 COLOR_EXIT_ZERO,
					 COLOR_EXIT_NONZERO,
					 NULL };

		snprintf(data_dir, sizeof(data_dir), "--user-data-dir=%s",
			 profile);
		assert_int_equal(plain_run(&shown, chromium), 0);
		assert_false(shown.timed_out);
		assert_int_equal(shown.exit_code, 0);
		assert_int_equal(plain_run(&colors, reader), 0);
		assert_int_equal(colors.exit_code, 0);
	}
	/* Text and anti-aliased edges give many colours; blank gives one. */
	assert_true(reader_value(colors.out, "colors") > 1);
	assert_true(reader_value(colors.out, COLOR_EXIT_ZERO) > 100);
	assert_true(reader_value(colors.out, COLOR_EXIT_NONZERO) > 100);
	free(svg);
	trace_result_free(&r);
	trace_result_free(&shown);
	trace_result_free(&colors);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(layout_one_row_per_process),
		cmocka_unit_test(layout_no_collapse_when_rows_fit),
		cmocka_unit_test(layout_collapses_identical_siblings),
		cmocka_unit_test(layout_collapses_largest_group_first),
		cmocka_unit_test(layout_group_hides_descendants),
		cmocka_unit_test(layout_cuts_rows_past_the_limit),
		cmocka_unit_test(layout_end_classes),
		cmocka_unit_test(tick_step_is_1_2_5),
		cmocka_unit_test(escape_for_xml),
		cmocka_unit_test(draw_cuts_rows_and_marks_hang),
		cmocka_unit_test(draw_reused_pid_and_lost),
		cmocka_unit_test(svg_failed_exec_well_formed),
		cmocka_unit_test(svg_killed_tracer_well_formed),
		cmocka_unit_test(svg_fork_tree_rows),
		cmocka_unit_test(svg_fork_many_collapsed),
		cmocka_unit_test(svg_exit_classes),
		cmocka_unit_test(svg_hostile_name_escaped),
		cmocka_unit_test(svg_invalid_utf8_name_well_formed),
		cmocka_unit_test(svg_renders_in_chromium),
	};

	return cmocka_run_group_tests_name("svg", tests, NULL, NULL);
}
