/*
 * Choosing the outputs, and the fan-out that feeds several at once: the
 * timeline on stderr or -o, and the files of --trace and --svg.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "forktrace/error.h"
#include "forktrace/escape.h"
#include "forktrace/options.h"
#include "forktrace/output.h"
#include "forktrace/xmalloc.h"

#define MAX_OUTPUTS 3

struct fanout {
	struct ft_output base; /* base.fp is the timeline's stream */
	struct ft_output *outs[MAX_OUTPUTS]; /* outs[0] writes the timeline */
	const char *paths[MAX_OUTPUTS]; /* the files outs[1..] write */
	unsigned count;
};

/* Colour only on a terminal, and never when NO_COLOR is set. */
static bool
want_color(FILE *fp)
{
	const char *term = getenv("TERM");
	const char *no_color = getenv("NO_COLOR");

	if (no_color && *no_color)
		return false;
	if (term && !strcmp(term, "dumb"))
		return false;
	return isatty(fileno(fp));
}

bool
output_shows_when_quiet(const struct ft_event *event, int quiet)
{
	if (!quiet)
		return true;
	return quiet == 1 &&
	       (event->kind == FT_EVENT_HANG || event->kind == FT_EVENT_PAUSE);
}

static void
fanout_begin(struct ft_output *out)
{
	struct fanout *fan = (struct fanout *)out;

	for (unsigned i = 0; i < fan->count; i++)
		fan->outs[i]->ops->begin(fan->outs[i]);
}

static void
fanout_event(struct ft_output *out, const struct ft_event *event,
	     const struct ft_process *process)
{
	struct fanout *fan = (struct fanout *)out;

	for (unsigned i = 0; i < fan->count; i++)
		fan->outs[i]->ops->event(fan->outs[i], event, process);
}

static void
fanout_end(struct ft_output *out, const struct ft_family *family,
	   const struct ft_summary *summary)
{
	struct fanout *fan = (struct fanout *)out;

	for (unsigned i = 0; i < fan->count; i++)
		fan->outs[i]->ops->end(fan->outs[i], family, summary);
}

static void
fanout_snapshot(struct ft_output *out, const struct ft_family *family,
		const struct ft_snapshot *snapshot)
{
	struct fanout *fan = (struct fanout *)out;

	for (unsigned i = 0; i < fan->count; i++)
		fan->outs[i]->ops->snapshot(fan->outs[i], family, snapshot);
}

static void
fanout_free(struct ft_output *out)
{
	struct fanout *fan = (struct fanout *)out;

	for (unsigned i = 0; i < fan->count; i++) {
		FILE *fp = fan->outs[i]->fp;

		fan->outs[i]->ops->free(fan->outs[i]);
		if (i > 0 && fclose(fp) != 0)
			perror_msg("cannot write '%s'",
				   message_text(fan->paths[i]));
	}
	free(fan);
}

static const struct ft_output_ops fanout_ops = {
	.begin = fanout_begin,
	.event = fanout_event,
	.end = fanout_end,
	.snapshot = fanout_snapshot,
	.free = fanout_free,
};

static void
setup(struct ft_output *out, const struct ft_options *opts, FILE *fp,
      const struct timespec *start_wall)
{
	out->fp = fp;
	out->opts = opts;
	out->start_wall = *start_wall;
}

/* Returns true when two streams write to the same file. */
static bool
same_file(FILE *a, FILE *b)
{
	struct stat sa, sb;

	if (fstat(fileno(a), &sa) < 0 || fstat(fileno(b), &sb) < 0)
		return false;
	return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino &&
	       S_ISREG(sa.st_mode);
}

/*
 * Lists the files that the options name, with the option that names each:
 * -o, --trace and --svg.
 */
static unsigned
named_files(const struct ft_options *opts, const char *paths[3],
	    const char *names[3])
{
	unsigned count = 0;

	if (opts->output_path) {
		names[count] = "--output";
		paths[count++] = opts->output_path;
	}
	if (opts->trace_path) {
		names[count] = "--trace";
		paths[count++] = opts->trace_path;
	}
	if (opts->svg_path) {
		names[count] = "--svg";
		paths[count++] = opts->svg_path;
	}
	return count;
}

bool
output_files_distinct(const struct ft_options *opts, FILE *err)
{
	const char *paths[3], *names[3];
	unsigned count = named_files(opts, paths, names);

	for (unsigned i = 0; i < count; i++) {
		for (unsigned j = i + 1; j < count; j++) {
			struct stat a, b;

			if (strcmp(paths[i], paths[j]) != 0 &&
			    (stat(paths[i], &a) < 0 || stat(paths[j], &b) < 0 ||
			     a.st_dev != b.st_dev || a.st_ino != b.st_ino ||
			     !S_ISREG(a.st_mode)))
				continue;
			fprintf(err,
				"forktrace: %s and %s name the same file: "
				"'%s'\n",
				names[i], names[j], message_text(paths[j]));
			options_print_usage_hint(err);
			return false;
		}
	}
	return true;
}

/* Opens the file of --NAME and adds its output to fan. */
static void
add_file(struct fanout *fan, struct ft_output *out, const char *name,
	 const char *path)
{
	FILE *fp = fopen(path, "we");

	if (!fp)
		perror_msg_and_die("cannot open '%s'", message_text(path));
	/* Two new files can still be one, under two names. */
	for (unsigned i = 0; i < fan->count; i++) {
		if (same_file(fp, fan->outs[i]->fp)) {
			error_msg("--%s names the file that another output "
				  "writes: '%s'",
				  name, message_text(path));
			options_print_usage_hint(stderr);
			exit(EXIT_USAGE);
		}
	}
	setup(out, fan->base.opts, fp, &fan->base.start_wall);
	fan->paths[fan->count] = path;
	fan->outs[fan->count++] = out;
}

struct ft_output *
output_new(const struct ft_options *opts, FILE *fp)
{
	struct ft_output *out =
		opts->json ? output_json_new() : output_text_new();
	struct timespec start_wall;
	struct fanout *fan;

	clock_gettime(CLOCK_REALTIME, &start_wall);
	setup(out, opts, fp, &start_wall);
	out->color = !opts->json && want_color(fp);
	if (!opts->trace_path && !opts->svg_path)
		return out;

	fan = xcalloc(1, sizeof(*fan));
	fan->base.ops = &fanout_ops;
	setup(&fan->base, opts, fp, &start_wall);
	fan->outs[fan->count++] = out;
	if (opts->trace_path)
		add_file(fan, output_trace_new(), "trace", opts->trace_path);
	if (opts->svg_path)
		add_file(fan, output_svg_new(), "svg", opts->svg_path);
	return &fan->base;
}

void
output_free(struct ft_output *out)
{
	if (out)
		out->ops->free(out);
}
