/* Choosing and freeing an output. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "forktrace/output.h"

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

struct ft_output *
output_new(const struct ft_options *opts, FILE *fp)
{
	struct ft_output *out =
		opts->json ? output_json_new() : output_text_new();

	out->fp = fp;
	out->opts = opts;
	out->color = !opts->json && want_color(fp);
	clock_gettime(CLOCK_REALTIME, &out->start_wall);
	return out;
}

void
output_free(struct ft_output *out)
{
	if (out)
		out->ops->free(out);
}
