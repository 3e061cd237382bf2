/* The timeline as a an SVG picture. */
#include <stdlib.h>

#include "forktrace/output.h"
#include "forktrace/xmalloc.h"

/* TODO: draw the picture; this output writes nothing yet. */
static void
svg_begin(struct ft_output *out)
{
	(void)out;
}

static void
svg_event(struct ft_output *out, const struct ft_event *event,
	  const struct ft_process *process)
{
	(void)out;
	(void)event;
	(void)process;
}

static void
svg_end(struct ft_output *out, const struct ft_family *family,
	const struct ft_summary *summary)
{
	(void)out;
	(void)family;
	(void)summary;
}

static void
svg_snapshot(struct ft_output *out, const struct ft_family *family,
	     const struct ft_snapshot *snapshot)
{
	(void)out;
	(void)family;
	(void)snapshot;
}

static void
svg_free(struct ft_output *out)
{
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
	struct ft_output *out = xcalloc(1, sizeof(*out));

	out->ops = &svg_ops;
	return out;
}
