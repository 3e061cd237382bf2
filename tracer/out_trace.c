/* The timeline as a Chrome trace, for Perfetto UI and chrome://tracing. */
#include <stdlib.h>

#include "forktrace/output.h"
#include "forktrace/xmalloc.h"

/* TODO: write the trace; this output writes nothing yet. */
static void
trace_begin(struct ft_output *out)
{
	(void)out;
}

static void
trace_event(struct ft_output *out, const struct ft_event *event,
	    const struct ft_process *process)
{
	(void)out;
	(void)event;
	(void)process;
}

static void
trace_end(struct ft_output *out, const struct ft_family *family,
	  const struct ft_summary *summary)
{
	(void)out;
	(void)family;
	(void)summary;
}

static void
trace_snapshot(struct ft_output *out, const struct ft_family *family,
	       const struct ft_snapshot *snapshot)
{
	(void)out;
	(void)family;
	(void)snapshot;
}

static void
trace_free(struct ft_output *out)
{
	free(out);
}

static const struct ft_output_ops trace_ops = {
	.begin = trace_begin,
	.event = trace_event,
	.end = trace_end,
	.snapshot = trace_snapshot,
	.free = trace_free,
};

struct ft_output *
output_trace_new(void)
{
	struct ft_output *out = xcalloc(1, sizeof(*out));

	out->ops = &trace_ops;
	return out;
}
