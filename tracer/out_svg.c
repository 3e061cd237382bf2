/*
 * The timeline as an SVG picture: one row per process with a bar for its
 * life, coloured by how it ended, exec points, fork links and a time axis.
 * The file is self-contained (no script, font or link) and written whole
 * at the end.  Every string from the traced family is escaped for XML.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "forktrace/escape.h"
#include "forktrace/hang.h"
#include "forktrace/output.h"
#include "forktrace/pidmap.h"
#include "forktrace/svg.h"
#include "forktrace/xmalloc.h"

/* The picture's geometry, in px. */
#define WIDTH	     1200
#define MARGIN	     10
#define PLOT_LEFT    350 /* the time axis starts here, after the labels */
#define PLOT_RIGHT   (WIDTH - 20)
#define AXIS_Y	     76
#define ROWS_TOP     84
#define ROW_HEIGHT   18
#define BAR_HEIGHT   10
#define INDENT_WIDTH 12
#define INDENT_MAX   16 /* deeper rows are drawn at this depth */
#define CHAR_WIDTH   6 /* an estimate for the 10 and 11 px labels */
/* The mean width of a legend character, in tenths of a px. */
#define LEGEND_CHAR_TENTHS 58
#define MAX_TICKS	   10
#define TITLE_ARGS	   200 /* columns of an argument vector in a tooltip */
#define TITLE_PROGRAMS	   20 /* programs listed in a tooltip */

struct hang_mark {
	const struct ft_process *process;
	uint64_t time_ns;
	char *message;
};

struct svg_output {
	struct ft_output base;
	struct hang_mark *hangs;
	size_t hang_count;
	size_t hang_capacity;
	bool drawn; /* end() wrote the picture */
	bool placeholder; /* the file contains NO_TIMELINE until then */
};

/* The picture of a trace that never ended, or of a program never run. */
#define NO_TIMELINE                                                \
	"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"400\" " \
	"height=\"40\"><text x=\"10\" y=\"25\">forktrace: no "     \
	"timeline</text></svg>\n"

/* The class and legend text of each end, in enum svg_end's order. */
static const char *const end_class[SVG_END_COUNT] = {
	"exit-zero", "exit-nonzero", "killed", "running", "lost", "hung",
};
static const char *const end_legend[SVG_END_COUNT] = {
	"exit 0",
	"exit non-zero",
	"killed by a signal",
	"still running at the end",
	"ended unseen",
	"hung (hang reported)",
};

static const char style[] =
	"text{font-family:sans-serif;font-size:11px;fill:#222}\n"
	".heading{font-size:14px;font-weight:bold}\n"
	".axis{font-size:10px;fill:#555}\n"
	".grid{stroke:#e2e2e2;stroke-width:1}\n"
	".axis-line{stroke:#888;stroke-width:1}\n"
	".stripe{fill:#f5f5f5}\n"
	".fork{stroke:#777;stroke-width:1;fill:none}\n"
	".fork-dot{fill:#555}\n"
	".exec{fill:#222}\n"
	".exec-label,.span{font-size:10px}\n"
	".hang-mark{fill:#5b2a86}\n"
	".note{font-style:italic}\n"
	".exit-zero{fill:#7cc47f}\n"
	".exit-nonzero{fill:#f2a541}\n"
	".killed{fill:#e05a57}\n"
	".running{fill:#79addc}\n"
	".lost{fill:#b0b0b0}\n"
	".hung{fill:#b48ad6}\n"
	".group .bar{fill-opacity:0.6}\n"
	".row:hover .bar{stroke:#000;stroke-width:1}\n";

/* The geometry of one picture. */
struct canvas {
	struct strbuf *sb;
	const struct svg_layout *layout;
	uint64_t span_ns;
	unsigned height;
	struct pidmap *drawn; /* pid -> 1 once a row has its id */
};

static double
time_x(const struct canvas *c, uint64_t ns)
{
	return PLOT_LEFT +
	       (double)ns / (double)c->span_ns * (PLOT_RIGHT - PLOT_LEFT);
}

static unsigned
row_top(size_t row)
{
	return ROWS_TOP + (unsigned)row * ROW_HEIGHT;
}

static const char *
base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash && slash[1] ? slash + 1 : path;
}

/* Appends a lifetime: "12.3 ms" or "4.567 s". */
static void
add_duration(struct strbuf *sb, uint64_t ns)
{
	if (ns < 1000000000u)
		strbuf_addf(sb, "%.1f ms", (double)ns / 1e6);
	else
		strbuf_addf(sb, "%.3f s", (double)ns / 1e9);
}

/* Appends how a process ended, for its tooltip. */
static void
add_end_text(struct strbuf *sb, const struct ft_process *process)
{
	char name[16];

	if (process->ended && WIFEXITED(process->status))
		strbuf_addf(sb, "exit %d", WEXITSTATUS(process->status));
	else if (process->ended)
		strbuf_addf(sb, "killed by %s%s",
			    signal_name(WTERMSIG(process->status), name),
			    WCOREDUMP(process->status) ? " (core dumped)" : "");
	else if (process->lost)
		strbuf_addstr(sb, "ended while not traced");
	else if (process->detached)
		strbuf_addstr(sb, "still running when forktrace let go");
	else
		strbuf_addstr(sb, "still running when the trace ended");
	if (process->hung)
		strbuf_addf(sb, "; hung%s (%s)",
			    process->deadlocked ? ", deadlocked" : "",
			    process->hang_cause ? process->hang_cause : "?");
}

/* Appends a process's programs with their argument vectors. */
static void
add_programs_text(struct strbuf *sb, const struct ft_process *process)
{
	const struct ft_program *program;
	unsigned listed = 0;
	const char *comm;

	if (!process->programs) {
		comm = process_comm(process);
		strbuf_addstr(sb, "\nruns its parent's program, ");
		svg_escape(sb, comm, strlen(comm));
		return;
	}
	for (program = process->programs; program; program = program->next) {
		if (listed++ == TITLE_PROGRAMS) {
			strbuf_addstr(sb, "\n...");
			break;
		}
		strbuf_addf(sb, "\nexec at %.6f s: ",
			    (double)program->time_ns / 1e9);
		svg_escape(sb, program->path, strlen(program->path));
		if (program->args_len > 1) {
			strbuf_addstr(sb, "\n    ");
			svg_escape_args(sb, program->args, program->args_len,
					TITLE_ARGS);
		}
	}
}

/* Appends the tooltip of a row of one process. */
static void
add_process_title(struct strbuf *sb, const struct svg_row *row)
{
	const struct ft_process *process = row->process;

	strbuf_addf(sb, "<title>pid %d, child of %d", (int)process->pid,
		    (int)process->ppid);
	if (process->thread_count)
		strbuf_addf(sb, ", %u thread%s", process->thread_count,
			    process->thread_count == 1 ? "" : "s");
	add_programs_text(sb, process);
	strbuf_addf(sb, "\nstart %.6f s, lifetime ",
		    (double)row->start_ns / 1e9);
	add_duration(sb, row->end_ns - row->start_ns);
	strbuf_addstr(sb, "\nend: ");
	add_end_text(sb, process);
	strbuf_addstr(sb, "</title>\n");
}

/* Appends the tooltip of a collapsed group. */
static void
add_group_title(struct strbuf *sb, const struct svg_row *row)
{
	const struct ft_process *first = row->process;

	strbuf_addf(sb, "<title>%u processes like pid %d, children of %d",
		    row->count, (int)first->pid, (int)first->ppid);
	if (row->hidden)
		strbuf_addf(sb, ", with %u descendants not drawn", row->hidden);
	add_programs_text(sb, first);
	strbuf_addf(sb,
		    "\nthe first started at %.6f s, the last ended at "
		    "%.6f s\nend: %s (the first: ",
		    (double)row->start_ns / 1e9, (double)row->end_ns / 1e9,
		    end_legend[row->end]);
	add_end_text(sb, first);
	strbuf_addstr(sb, ")</title>\n");
}

/* Appends the heading, the legend and the time axis with its grid. */
static void
add_frame(const struct canvas *c, const struct ft_summary *summary)
{
	struct strbuf *sb = c->sb;
	uint64_t step = svg_tick_step(c->span_ns, MAX_TICKS), t;
	bool seconds = c->span_ns >= 1000000000u;
	double unit = seconds ? 1e9 : 1e6;
	int decimals = 0;
	unsigned i, x = MARGIN;

	for (t = step; t < (seconds ? 1000000000u : 1000000u); t *= 10)
		decimals++;
	strbuf_addf(sb,
		    "<text class=\"heading\" x=\"%d\" y=\"22\">forktrace: %zu "
		    "process%s in %.3f s</text>\n",
		    MARGIN, c->layout->processes,
		    c->layout->processes == 1 ? "" : "es",
		    (double)summary->time_ns / 1e9);
	for (i = 0; i < SVG_END_COUNT; i++) {
		strbuf_addf(
			sb,
			"<rect class=\"%s\" x=\"%u\" y=\"36\" width=\"14\" "
			"height=\"10\"/><text x=\"%u\" y=\"45\">%s</text>\n",
			end_class[i], x, x + 18, end_legend[i]);
		x += 18 +
		     (unsigned)strlen(end_legend[i]) * LEGEND_CHAR_TENTHS / 10 +
		     16;
	}
	for (t = 0; t <= c->span_ns; t += step) {
		double tx = time_x(c, t);

		strbuf_addf(sb,
			    "<line class=\"grid\" x1=\"%.1f\" y1=\"%d\" "
			    "x2=\"%.1f\" y2=\"%u\"/>\n"
			    "<text class=\"axis\" x=\"%.1f\" y=\"%d\" "
			    "text-anchor=\"middle\">%.*f %s</text>\n",
			    tx, AXIS_Y, tx, c->height - MARGIN, tx, AXIS_Y - 6,
			    decimals, (double)t / unit, seconds ? "s" : "ms");
		if (c->span_ns - t < step)
			break;
	}
	strbuf_addf(sb,
		    "<line class=\"axis-line\" x1=\"%d\" y1=\"%d\" x2=\"%d\" "
		    "y2=\"%d\"/>\n",
		    PLOT_LEFT, AXIS_Y, PLOT_RIGHT, AXIS_Y);
}

/* Appends the fork links, from the parent's row at the fork time. */
static void
add_fork_links(const struct canvas *c)
{
	const struct svg_layout *layout = c->layout;
	size_t i;

	for (i = 0; i < layout->count; i++) {
		const struct svg_row *row = &layout->rows[i];
		double x = time_x(c, row->start_ns);

		if (row->parent_row == (size_t)-1)
			continue;
		strbuf_addf(c->sb,
			    "<path class=\"fork\" d=\"M%.1f %u V%u h3\"/>\n", x,
			    row_top(row->parent_row) + ROW_HEIGHT / 2,
			    row_top(i) + ROW_HEIGHT / 2);
	}
}

/* Appends the label left of the bar: "PID NAME" or "×COUNT NAME". */
static void
add_row_label(const struct canvas *c, const struct svg_row *row, size_t i)
{
	struct strbuf *sb = c->sb;
	unsigned depth = row->depth < INDENT_MAX ? row->depth : INDENT_MAX;
	const char *comm = process_comm(row->process);

	strbuf_addf(sb, "<text clip-path=\"url(#labels)\" x=\"%u\" y=\"%u\">",
		    MARGIN + depth * INDENT_WIDTH, row_top(i) + 13);
	if (row->depth > INDENT_MAX)
		strbuf_addf(sb, "+%u ", row->depth);
	if (row->count > 1)
		strbuf_addf(sb, "\u00d7%u ", row->count);
	else
		strbuf_addf(sb, "%d ", (int)row->process->pid);
	svg_escape(sb, comm, strlen(comm));
	strbuf_addstr(sb, "</text>\n");
}

/*
 * Returns the name that a program was started by: argv[0]'s file name
 * ("cc", where the path is x86_64-linux-gnu-gcc-12), or the path's.
 */
static const char *
started_name(const struct ft_program *program)
{
	if (program->args_len > 1 && program->args[0])
		return base_name(program->args);
	return base_name(program->path);
}

/*
 * Appends a marker at each exec on the bar, labelled with the program's
 * name where the label does not run into the one before it.
 */
static void
add_exec_marks(const struct canvas *c, const struct svg_row *row, size_t i)
{
	const struct ft_program *program;
	struct strbuf *sb = c->sb;
	unsigned mid = row_top(i) + ROW_HEIGHT / 2;
	double free_from = 0;

	for (program = row->process->programs; program;
	     program = program->next) {
		const char *name = started_name(program);
		double x = time_x(c, program->time_ns);
		double width = (double)strlen(name) * CHAR_WIDTH;

		strbuf_addf(sb,
			    "<path class=\"exec\" d=\"M%.1f %u l3.5 4.5 "
			    "l-3.5 4.5 l-3.5 -4.5 z\"/>\n",
			    x, mid - 4 - 1);
		if (x + 5 < free_from || !*name)
			continue;
		if (x + 5 + width <= PLOT_RIGHT) {
			strbuf_addf(sb,
				    "<text class=\"exec-label\" x=\"%.1f\" "
				    "y=\"%u\">",
				    x + 5, mid + 4);
			free_from = x + 5 + width + CHAR_WIDTH;
		} else {
			strbuf_addf(sb,
				    "<text class=\"exec-label\" x=\"%.1f\" "
				    "y=\"%u\" text-anchor=\"end\">",
				    x - 5, mid + 4);
			free_from = x + CHAR_WIDTH;
		}
		svg_escape(sb, name, strlen(name));
		strbuf_addstr(sb, "</text>\n");
	}
}

/* Appends a mark at the time of each hang report of the row's process. */
static void
add_hang_marks(const struct svg_output *out, const struct canvas *c,
	       const struct svg_row *row, size_t i)
{
	size_t h;

	for (h = 0; h < out->hang_count; h++) {
		if (out->hangs[h].process != row->process)
			continue;
		strbuf_addf(c->sb,
			    "<path class=\"hang-mark\" d=\"M%.1f %u l5 -6 "
			    "h-10 z\"><title>hang reported at %.6f s: ",
			    time_x(c, out->hangs[h].time_ns), row_top(i) + 9,
			    (double)out->hangs[h].time_ns / 1e9);
		svg_escape(c->sb, out->hangs[h].message,
			   strlen(out->hangs[h].message));
		strbuf_addstr(c->sb, "</title></path>\n");
	}
}

static void
add_row(const struct svg_output *out, const struct canvas *c, size_t i)
{
	const struct svg_row *row = &c->layout->rows[i];
	struct strbuf *sb = c->sb;
	double x = time_x(c, row->start_ns);
	double width = time_x(c, row->end_ns) - x;

	if (width < 2)
		width = 2;
	/* A pid that the kernel reused has more rows: ids stay unique. */
	if (row->count > 1)
		strbuf_addf(sb, "<g class=\"row group\" id=\"g%d",
			    (int)row->process->pid);
	else
		strbuf_addf(sb, "<g class=\"row\" id=\"p%d",
			    (int)row->process->pid);
	if (pidmap_get(c->drawn, row->process->pid))
		strbuf_addf(sb, "-%zu", i);
	else
		pidmap_put(c->drawn, row->process->pid, (void *)1);
	strbuf_addstr(sb, "\">");
	if (row->count > 1)
		add_group_title(sb, row);
	else
		add_process_title(sb, row);
	add_row_label(c, row, i);
	strbuf_addf(sb,
		    "<rect class=\"bar %s\" x=\"%.1f\" y=\"%u\" width=\"%.1f\" "
		    "height=\"%d\"/>\n",
		    end_class[row->end], x, row_top(i) + 4, width, BAR_HEIGHT);
	if (row->count > 1)
		strbuf_addf(sb,
			    "<text class=\"span\" x=\"%.1f\" y=\"%u\">%.3f s "
			    "to %.3f s</text>\n",
			    x + width + 4 > PLOT_RIGHT - 100 ? x + 4
							     : x + width + 4,
			    row_top(i) + 13, (double)row->start_ns / 1e9,
			    (double)row->end_ns / 1e9);
	else
		add_exec_marks(c, row, i);
	add_hang_marks(out, c, row, i);
	strbuf_addstr(sb, "</g>\n");
}

/* Draws the picture into sb. */
static void
draw(const struct svg_output *out, struct strbuf *sb,
     const struct svg_layout *layout, const struct ft_summary *summary)
{
	struct pidmap drawn = PIDMAP_INIT;
	struct canvas c = { .sb = sb, .layout = layout, .drawn = &drawn };
	size_t i;

	c.span_ns = layout->end_ns ? layout->end_ns : 1;
	c.height = row_top(layout->count) + (layout->omitted ? ROW_HEIGHT : 0) +
		   MARGIN;
	strbuf_addf(sb,
		    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		    "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
		    "height=\"%u\" viewBox=\"0 0 %d %u\">\n"
		    "<style>\n%s</style>\n"
		    "<clipPath id=\"labels\"><rect x=\"0\" y=\"0\" "
		    "width=\"%d\" height=\"%u\"/></clipPath>\n"
		    "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%u\" "
		    "fill=\"#fff\"/>\n",
		    WIDTH, c.height, WIDTH, c.height, style, PLOT_LEFT - MARGIN,
		    c.height, WIDTH, c.height);
	/* Every other row is shaded, under the grid and the bars. */
	for (i = 1; i < layout->count; i += 2)
		strbuf_addf(sb,
			    "<rect class=\"stripe\" x=\"0\" y=\"%u\" "
			    "width=\"%d\" height=\"%d\"/>\n",
			    row_top(i), WIDTH, ROW_HEIGHT);
	add_frame(&c, summary);
	for (i = 0; i < layout->count; i++)
		add_row(out, &c, i);
	pidmap_free(&drawn);
	add_fork_links(&c);
	if (layout->omitted)
		strbuf_addf(sb,
			    "<text class=\"note\" x=\"%d\" y=\"%u\">%zu more "
			    "processes are not drawn: the picture shows at "
			    "most %d rows</text>\n",
			    MARGIN, row_top(layout->count) + 13,
			    layout->omitted, SVG_MAX_ROWS);
	strbuf_addstr(sb, "</svg>\n");
}

/* Empties the file behind fp; returns false when it cannot. */
static bool
empty_file(FILE *fp)
{
	return fflush(fp) == 0 && ftruncate(fileno(fp), 0) == 0;
}

/*
 * Puts a picture in a regular file at once, so that the file is
 * well-formed even if forktrace is killed before the end.
 */
static void
svg_begin(struct ft_output *base)
{
	struct svg_output *out = (struct svg_output *)base;
	struct stat st;

	if (fstat(fileno(base->fp), &st) < 0 || !S_ISREG(st.st_mode))
		return;
	fputs(NO_TIMELINE, base->fp);
	fflush(base->fp);
	out->placeholder = true;
}

/* Keeps the time and message of each hang report, for its mark. */
static void
svg_event(struct ft_output *base, const struct ft_event *event,
	  const struct ft_process *process)
{
	struct svg_output *out = (struct svg_output *)base;
	struct hang_mark *mark;

	if (event->kind != FT_EVENT_HANG || !process || !event->hang)
		return;
	if (out->hang_count == out->hang_capacity)
		out->hangs = xgrow(out->hangs, &out->hang_capacity,
				   sizeof(*out->hangs));
	mark = &out->hangs[out->hang_count++];
	mark->process = process;
	mark->time_ns = event->time_ns;
	mark->message = xstrdup(event->hang->message);
}

static void
svg_end(struct ft_output *base, const struct ft_family *family,
	const struct ft_summary *summary)
{
	struct svg_output *out = (struct svg_output *)base;
	struct svg_layout layout;
	struct strbuf sb = STRBUF_INIT;

	svg_layout_build(&layout, family, summary->time_ns, SVG_MAX_ROWS);
	draw(out, &sb, &layout, summary);
	/* The picture is longer than the placeholder, so it covers it even
	 * where the file cannot be emptied. */
	if (out->placeholder)
		(void)empty_file(base->fp);
	rewind(base->fp);
	fwrite(sb.buf, 1, sb.len, base->fp);
	strbuf_release(&sb);
	svg_layout_free(&layout);
	out->drawn = true;
}

static void
svg_snapshot(struct ft_output *base, const struct ft_family *family,
	     const struct ft_snapshot *snapshot)
{
	(void)base;
	(void)family;
	(void)snapshot;
}

static void
svg_free(struct ft_output *base)
{
	struct svg_output *out = (struct svg_output *)base;
	size_t i;

	/* The program never ran, so there is no timeline to draw. */
	if (!out->drawn && !out->placeholder)
		fputs(NO_TIMELINE, base->fp);
	for (i = 0; i < out->hang_count; i++)
		free(out->hangs[i].message);
	free(out->hangs);
	free(out);
}

static const struct ft_output_ops svg_ops = {
	.begin = svg_begin,
	.event = svg_event,
	.end = svg_end,
	.snapshot = svg_snapshot,
	.free = svg_free,
};

struct ft_output *
output_svg_new(void)
{
	struct svg_output *out = xcalloc(1, sizeof(*out));

	out->base.ops = &svg_ops;
	return &out->base;
}
