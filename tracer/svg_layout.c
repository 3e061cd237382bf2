/*
 * The rows of the SVG picture, built from the family model, with the
 * collapsing of identical siblings.  Also the time axis's step and the
 * escaping of strings for XML.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "forktrace/escape.h"
#include "forktrace/svg.h"
#include "forktrace/xmalloc.h"

#define NO_INDEX ((size_t)-1)

/* A process in depth-first order, with the size of its subtree. */
struct node {
	const struct ft_process *process;
	size_t parent; /* index of the parent's node, or NO_INDEX */
	size_t subtree; /* nodes in its subtree, itself included */
	size_t group;
};

/* Siblings that may share a row. */
struct group {
	size_t first; /* node of the first member */
	unsigned members;
	bool collapsed;
};

struct builder {
	struct node *nodes;
	size_t count;
	struct group *groups;
	size_t group_count;
	size_t group_capacity;
	uint64_t end_ns;
};

enum svg_end
svg_end_of(const struct ft_process *process)
{
	/*
	 * A wait with a timeout, such as a sleep, is reported but ends by
	 * itself: the process is drawn hung only when the detector found it
	 * stuck for good or it was still waiting at the end.
	 */
	if (process->deadlocked || (process->hung && !process->ended))
		return SVG_END_HUNG;
	if (process->lost)
		return SVG_END_LOST;
	if (!process->ended)
		return SVG_END_RUNNING;
	if (WIFSIGNALED(process->status))
		return SVG_END_KILLED;
	return WEXITSTATUS(process->status) ? SVG_END_EXIT_NONZERO
					    : SVG_END_EXIT_ZERO;
}

bool
svg_same_group(const struct ft_process *a, const struct ft_process *b)
{
	const struct ft_program *pa = a->programs, *pb = b->programs;

	if (a->parent != b->parent || svg_end_of(a) != svg_end_of(b))
		return false;
	while (pa && pb) {
		if (strcmp(pa->path, pb->path))
			return false;
		pa = pa->next;
		pb = pb->next;
	}
	return !pa && !pb;
}

/* Returns the next process depth first, or NULL after the last. */
static const struct ft_process *
next_depth_first(const struct ft_process *process)
{
	if (process->first_child)
		return process->first_child;
	while (process && !process->next_sibling)
		process = process->parent;
	return process ? process->next_sibling : NULL;
}

/* Lists the processes depth first, each with its parent's node. */
static void
collect_nodes(struct builder *b, const struct ft_family *family)
{
	const struct ft_process *process;
	size_t capacity = 0, depth_capacity = 0, i;
	size_t *last_at_depth = NULL; /* the latest node of each depth */

	for (process = family_roots(family); process;
	     process = next_depth_first(process)) {
		struct node node = { .process = process,
				     .parent = NO_INDEX,
				     .subtree = 1 };
		unsigned depth = process->depth;

		if (b->count == capacity)
			b->nodes =
				xgrow(b->nodes, &capacity, sizeof(*b->nodes));
		while (depth >= depth_capacity)
			last_at_depth = xgrow(last_at_depth, &depth_capacity,
					      sizeof(*last_at_depth));
		if (process->parent && depth > 0 &&
		    b->nodes[last_at_depth[depth - 1]].process ==
			    process->parent)
			node.parent = last_at_depth[depth - 1];
		last_at_depth[depth] = b->count;
		b->nodes[b->count++] = node;
	}
	free(last_at_depth);
	/* A parent comes before its children, so sum from the end. */
	for (i = b->count; i-- > 0;)
		if (b->nodes[i].parent != NO_INDEX)
			b->nodes[b->nodes[i].parent].subtree +=
				b->nodes[i].subtree;
}

/* Returns the node after the last of the parent's subtree. */
static size_t
siblings_end(const struct builder *b, size_t parent)
{
	return parent == NO_INDEX ? b->count
				  : parent + b->nodes[parent].subtree;
}

/* Puts each child of parent (NO_INDEX: the roots) into a group. */
static void
group_children(struct builder *b, size_t parent)
{
	size_t first_group = b->group_count, child, g;
	size_t end = siblings_end(b, parent);

	child = parent == NO_INDEX ? 0 : parent + 1;
	for (; child < end; child += b->nodes[child].subtree) {
		const struct ft_process *process = b->nodes[child].process;

		for (g = first_group; g < b->group_count; g++)
			if (svg_same_group(b->nodes[b->groups[g].first].process,
					   process))
				break;
		if (g == b->group_count) {
			if (b->group_count == b->group_capacity)
				b->groups = xgrow(b->groups, &b->group_capacity,
						  sizeof(*b->groups));
			b->groups[g] = (struct group){ .first = child };
			b->group_count++;
		}
		b->groups[g].members++;
		b->nodes[child].group = g;
	}
}

/* Returns true when node i is in no row because of a collapsed group. */
static bool
hidden_member(const struct builder *b, size_t i)
{
	const struct group *group = &b->groups[b->nodes[i].group];

	return group->collapsed && group->first != i;
}

/* Counts the rows of the nodes from first to before end. */
static size_t
count_rows(const struct builder *b, size_t first, size_t end)
{
	size_t rows = 0, i = first;

	while (i < end) {
		const struct group *group = &b->groups[b->nodes[i].group];

		if (!hidden_member(b, i))
			rows++;
		i += group->collapsed ? b->nodes[i].subtree : 1;
	}
	return rows;
}

/* Returns true when an ancestor of node i is in a collapsed group. */
static bool
inside_collapsed(const struct builder *b, size_t i)
{
	for (i = b->nodes[i].parent; i != NO_INDEX; i = b->nodes[i].parent)
		if (b->groups[b->nodes[i].group].collapsed)
			return true;
	return false;
}

/* Returns the rows that the members of group g take now. */
static size_t
group_rows(const struct builder *b, size_t g)
{
	size_t first = b->groups[g].first, rows = 0, i;
	size_t end = siblings_end(b, b->nodes[first].parent);

	if (inside_collapsed(b, first))
		return 0;
	for (i = first; i < end; i += b->nodes[i].subtree)
		if (b->nodes[i].group == g)
			rows += count_rows(b, i, i + b->nodes[i].subtree);
	return rows;
}

/* Orders groups by members, most first, then by their first node. */
static int
compare_groups(const void *pa, const void *pb, void *data)
{
	const struct group *groups = data;
	const struct group *a = &groups[*(const size_t *)pa];
	const struct group *b = &groups[*(const size_t *)pb];

	if (a->members != b->members)
		return a->members > b->members ? -1 : 1;
	return a->first < b->first ? -1 : a->first > b->first;
}

/* Collapses the groups with the most members until the rows fit. */
static void
collapse_groups(struct builder *b, size_t max_rows)
{
	size_t *order = xcalloc(b->group_count + 1, sizeof(*order));
	size_t candidates = 0, rows = b->count, before, i;

	for (i = 0; i < b->group_count; i++)
		if (b->groups[i].members > 1)
			order[candidates++] = i;
	qsort_r(order, candidates, sizeof(*order), compare_groups, b->groups);
	for (i = 0; i < candidates && rows > max_rows; i++) {
		before = group_rows(b, order[i]);
		if (!before)
			continue;
		b->groups[order[i]].collapsed = true;
		rows -= before - 1;
	}
	free(order);
}

static uint64_t
process_end_ns(const struct builder *b, const struct ft_process *process)
{
	if (process->ended || process->detached)
		return process->end_ns;
	return b->end_ns;
}

/* Fills a row for node i alone, or for its whole group when collapsed. */
static void
fill_row(const struct builder *b, size_t i, struct svg_row *row)
{
	const struct node *node = &b->nodes[i];
	const struct group *group = &b->groups[node->group];
	size_t end = siblings_end(b, node->parent), j;

	*row = (struct svg_row){ .process = node->process,
				 .depth = node->process->depth,
				 .count = 1,
				 .end = svg_end_of(node->process),
				 .start_ns = node->process->start_ns,
				 .end_ns = process_end_ns(b, node->process) };
	if (!group->collapsed)
		return;
	row->count = 0;
	for (j = i; j < end; j += b->nodes[j].subtree) {
		const struct ft_process *member = b->nodes[j].process;

		if (b->nodes[j].group != node->group)
			continue;
		row->count++;
		row->hidden += (unsigned)b->nodes[j].subtree - 1;
		if (member->start_ns < row->start_ns)
			row->start_ns = member->start_ns;
		if (process_end_ns(b, member) > row->end_ns)
			row->end_ns = process_end_ns(b, member);
	}
}

/* Makes the rows, at most max_rows, and counts the processes left out. */
static void
emit_rows(const struct builder *b, struct svg_layout *layout, size_t max_rows)
{
	size_t *row_of = xcalloc(b->count + 1, sizeof(*row_of));
	size_t drawn = 0, i = 0;

	layout->rows = xcalloc(max_rows + 1, sizeof(*layout->rows));
	while (i < b->count && layout->count < max_rows) {
		const struct node *node = &b->nodes[i];
		struct svg_row *row = &layout->rows[layout->count];

		if (hidden_member(b, i)) {
			i += node->subtree;
			continue;
		}
		fill_row(b, i, row);
		row->parent_row = node->parent == NO_INDEX
					  ? NO_INDEX
					  : row_of[node->parent];
		row_of[i] = layout->count++;
		drawn += row->count + row->hidden;
		i += b->groups[node->group].collapsed ? node->subtree : 1;
	}
	layout->omitted = b->count - drawn;
	free(row_of);
}

void
svg_layout_build(struct svg_layout *layout, const struct ft_family *family,
		 uint64_t end_ns, size_t max_rows)
{
	struct builder b = { .end_ns = end_ns };
	size_t i;

	memset(layout, 0, sizeof(*layout));
	collect_nodes(&b, family);
	for (i = 0; i < b.count; i++)
		if (b.nodes[i].process->end_ns > b.end_ns)
			b.end_ns = b.nodes[i].process->end_ns;
	group_children(&b, NO_INDEX);
	for (i = 0; i < b.count; i++)
		group_children(&b, i);
	if (b.count > max_rows)
		collapse_groups(&b, max_rows);
	emit_rows(&b, layout, max_rows);
	layout->processes = b.count;
	layout->end_ns = b.end_ns;
	free(b.nodes);
	free(b.groups);
}

void
svg_layout_free(struct svg_layout *layout)
{
	free(layout->rows);
	memset(layout, 0, sizeof(*layout));
}

uint64_t
svg_tick_step(uint64_t span_ns, unsigned max_ticks)
{
	static const unsigned multipliers[] = { 1, 2, 5 };
	uint64_t power;
	size_t i;

	if (!max_ticks)
		max_ticks = 1;
	for (power = 1; power <= UINT64_MAX / 10; power *= 10)
		for (i = 0; i < 3; i++)
			if (power * multipliers[i] * max_ticks >= span_ns)
				return power * multipliers[i];
	return power;
}

/* Appends text that is already printable UTF-8, with XML's escapes. */
static void
add_xml(struct strbuf *sb, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i;

	for (i = 0; i < len; i++) {
		switch (p[i]) {
		case '&':
			strbuf_addstr(sb, "&amp;");
			continue;
		case '<':
			strbuf_addstr(sb, "&lt;");
			continue;
		case '>':
			strbuf_addstr(sb, "&gt;");
			continue;
		case '"':
			strbuf_addstr(sb, "&quot;");
			continue;
		case '\'':
			strbuf_addstr(sb, "&apos;");
			continue;
		}
		/* U+FFFE and U+FFFF are valid UTF-8 but not XML characters. */
		if (p[i] == 0xef && i + 2 < len && p[i + 1] == 0xbf &&
		    (p[i + 2] == 0xbe || p[i + 2] == 0xbf)) {
			strbuf_addf(sb, "\\xef\\xbf\\x%02x", p[i + 2]);
			i += 2;
			continue;
		}
		strbuf_addch(sb, (char)p[i]);
	}
}

void
svg_escape(struct strbuf *sb, const char *s, size_t len)
{
	struct strbuf printable = STRBUF_INIT;

	escape_for_terminal(&printable, s, len);
	add_xml(sb, strbuf_str(&printable), printable.len);
	strbuf_release(&printable);
}

void
svg_escape_args(struct strbuf *sb, const char *args, size_t len,
		size_t max_width)
{
	struct strbuf printable = STRBUF_INIT;

	escape_args(&printable, args, len, max_width);
	add_xml(sb, strbuf_str(&printable), printable.len);
	strbuf_release(&printable);
}
