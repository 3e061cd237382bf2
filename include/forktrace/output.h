/*
 * Outputs: readers of the event stream.  Each format implements the same
 * three steps: begin, one call per event, and end with the family tree.
 */
#ifndef FORKTRACE_OUTPUT_H
#define FORKTRACE_OUTPUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "forktrace/event.h"
#include "forktrace/family.h"
#include "forktrace/options.h"
#include "forktrace/snapshot.h"

/* The end of the trace, for the last words of an output. */
struct ft_summary {
	uint64_t time_ns; /* when the trace ended */
	int exit_status; /* forktrace's own exit status */
	bool root_ended;
	int root_status; /* wait status of the root, valid if root_ended */
	int interrupt_signal; /* the signal that ended the trace early, or 0 */
};

struct ft_output;

struct ft_output_ops {
	void (*begin)(struct ft_output *out);
	/* process is the event's process after the model applied it */
	void (*event)(struct ft_output *out, const struct ft_event *event,
		      const struct ft_process *process);
	void (*end)(struct ft_output *out, const struct ft_family *family,
		    const struct ft_summary *summary);
	void (*snapshot)(struct ft_output *out, const struct ft_family *family,
			 const struct ft_snapshot *snapshot);
	void (*free)(struct ft_output *out);
};

struct ft_output {
	const struct ft_output_ops *ops;
	FILE *fp;
	const struct ft_options *opts;
	struct timespec start_wall; /* CLOCK_REALTIME at the trace's start */
	bool color;
};

/*
 * Creates the output that opts requests, writing to fp (which the caller
 * keeps open until output_free()).  With --trace or --svg, it also opens
 * those files and returns an output that feeds every one of them.  It
 * exits with a message when one cannot be opened.
 */
struct ft_output *output_new(const struct ft_options *opts, FILE *fp);
void output_free(struct ft_output *out);

/*
 * Returns true when -o, --trace and --svg name different files.
 * Otherwise prints a message to err: opening them would empty the file.
 */
bool output_files_distinct(const struct ft_options *opts, FILE *err);

/*
 * Returns true when the timeline shows event under -q as given quiet
 * times: a hang report and a pause, which ask the user to act, speak
 * under a single -q, as a warning would.
 */
bool output_shows_when_quiet(const struct ft_event *event, int quiet);

struct ft_output *output_text_new(void);
struct ft_output *output_json_new(void);
/*
 * The file outputs.  Each writes its whole file at end(); free() does not
 * close fp, which output_free() closes.
 */
struct ft_output *output_trace_new(void);
struct ft_output *output_svg_new(void);

#endif
