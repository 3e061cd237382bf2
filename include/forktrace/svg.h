/*
 * The pure parts of the SVG output: the rows that the picture draws, built
 * from the family model, the time axis's step, and escaping for XML.
 * tracer/out_svg.c draws them.
 */
#ifndef FORKTRACE_SVG_H
#define FORKTRACE_SVG_H

#include <stddef.h>
#include <stdint.h>

#include "forktrace/family.h"
#include "forktrace/strbuf.h"

/*
 * Rows drawn at most.  With 11 px labels a row needs 18 px, so 200 rows
 * make a picture about 3700 px tall: a few screens to scroll, on which a
 * fork link can still be followed from parent to child.  A larger family
 * has its largest groups of identical siblings collapsed until it fits.
 */
#define SVG_MAX_ROWS 200

/* The class of a process's end, which gives its bar's colour. */
enum svg_end {
	SVG_END_EXIT_ZERO,
	SVG_END_EXIT_NONZERO,
	SVG_END_KILLED, /* by a signal */
	SVG_END_RUNNING, /* let go of, or still traced when the trace ended */
	SVG_END_LOST, /* ended while forktrace did not trace it */
	SVG_END_HUNG, /* reported by the hang detector, however it ended */
	SVG_END_COUNT
};

/* One row of the picture: a process, or a collapsed group of siblings. */
struct svg_row {
	const struct ft_process *process; /* the process or the first member */
	unsigned depth;
	unsigned count; /* processes in the row: 1, or the group's members */
	unsigned hidden; /* descendants of a group's members, not drawn */
	enum svg_end end;
	uint64_t start_ns; /* for a group, the earliest start */
	uint64_t end_ns; /* for a group, the latest end */
	size_t parent_row; /* the row of the parent, or SIZE_MAX for a root */
};

struct svg_layout {
	struct svg_row *rows;
	size_t count;
	size_t omitted; /* processes past the row limit, in no row */
	size_t processes; /* processes in the family */
	uint64_t end_ns; /* the end of the time axis */
};

/*
 * Returns the end class of a process.  A process is hung when the hang
 * detector found it deadlocked, or reported it and it had not ended.  One
 * that ended while not traced is lost, and one still alive is running.
 */
enum svg_end svg_end_of(const struct ft_process *process);

/*
 * Returns true when two siblings may share a row: they have the same
 * parent, the same end class, and exec'd the same sequence of program
 * paths (none, for children that run their parent's program).
 */
bool svg_same_group(const struct ft_process *a, const struct ft_process *b);

/*
 * Builds the rows for a family whose trace ended at end_ns: one per
 * process, depth first in the order of creation.  When there are more
 * than max_rows, the groups of identical siblings (svg_same_group()) with
 * the most members are collapsed first, each into the row of its first
 * member, with its members' descendants, until the rows fit.  Rows that
 * still do not fit are left out and counted in layout->omitted.
 */
void svg_layout_build(struct svg_layout *layout, const struct ft_family *family,
		      uint64_t end_ns, size_t max_rows);
void svg_layout_free(struct svg_layout *layout);

/*
 * Returns the step of the time axis for a span: 1, 2 or 5 times a power
 * of ten nanoseconds, the smallest that gives at most max_ticks steps.
 */
uint64_t svg_tick_step(uint64_t span_ns, unsigned max_ticks);

/*
 * Appends untrusted bytes as XML character data that is also safe in an
 * attribute: control characters and bytes that are not UTF-8 become
 * C-style escapes as on the terminal (\n, \xff), U+FFFE and U+FFFF, which
 * XML forbids, become \x escapes of their bytes, and & < > " ' become
 * entities.
 */
void svg_escape(struct strbuf *sb, const char *s, size_t len);

/*
 * Appends a NUL-separated argument vector as shell words, as escape_args()
 * does for the terminal, escaped for XML as svg_escape() does.
 */
void svg_escape_args(struct strbuf *sb, const char *args, size_t len,
		     size_t max_width);

#endif
