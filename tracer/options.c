/* The option table, the parser it drives and the --help it prints. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "forktrace/options.h"

#ifndef FORKTRACE_VERSION
#define FORKTRACE_VERSION "unknown"
#endif

enum option_id {
	OPT_OUTPUT = 'o',
	OPT_WALL_CLOCK = 't',
	OPT_QUIET = 'q',
	OPT_VERBOSE = 'v',
	OPT_HELP = 'h',
	OPT_VERSION = 'V',
	OPT_JSON = 256,
	OPT_KILL_ON_EXIT,
	OPT_DETACH_ON_EXIT,
};

struct option_spec {
	const char *long_name;
	int id; /* the short option's letter, or a value above 255 */
	int has_arg;
	const char *arg_name;
	const char *help;
};

static const struct option_spec option_specs[] = {
	{ "output", OPT_OUTPUT, required_argument, "FILE",
	  "write the timeline and the tree to FILE instead of stderr" },
	{ "json", OPT_JSON, no_argument, NULL,
	  "write the events and the tree as JSON Lines" },
	{ "wall-clock", OPT_WALL_CLOCK, no_argument, NULL,
	  "print the time of day instead of seconds since the start" },
	{ "quiet", OPT_QUIET, no_argument, NULL,
	  "print only the tree at the end; twice, not even the tree" },
	{ "verbose", OPT_VERBOSE, no_argument, NULL,
	  "list each process's threads and show SIGCHLD deliveries" },
	{ "kill-on-exit", OPT_KILL_ON_EXIT, no_argument, NULL,
	  "kill the whole family if forktrace itself dies" },
	{ "detach-on-exit", OPT_DETACH_ON_EXIT, no_argument, NULL,
	  "stop following the family when PROG ends, listing who is left" },
	{ "help", OPT_HELP, no_argument, NULL, "print this help and exit" },
	{ "version", OPT_VERSION, no_argument, NULL,
	  "print the version and exit" },
};

#define OPTION_COUNT (sizeof(option_specs) / sizeof(option_specs[0]))

static void
print_usage_line(FILE *out)
{
	fprintf(out, "usage: forktrace [OPTIONS] [--] PROG [ARGS...]\n");
}

void
options_print_help(FILE *out)
{
	size_t i;

	print_usage_line(out);
	fprintf(out, "\nRun PROG under ptrace and follow every process and "
		     "thread of its family:\n"
		     "forks, execs, exits and signals, as a live timeline "
		     "and a tree at the end.\n\nOptions:\n");
	for (i = 0; i < OPTION_COUNT; i++) {
		const struct option_spec *spec = &option_specs[i];
		char left[48];
		int n;

		if (spec->id < 256)
			n = snprintf(left, sizeof(left), "-%c, --%s", spec->id,
				     spec->long_name);
		else
			n = snprintf(left, sizeof(left), "    --%s",
				     spec->long_name);
		if (spec->arg_name && n > 0 && (size_t)n < sizeof(left))
			snprintf(left + n, sizeof(left) - (size_t)n, "=%s",
				 spec->arg_name);
		fprintf(out, "  %-24s %s\n", left, spec->help);
	}
	fprintf(out, "\nforktrace exits with PROG's exit status, or 128+N "
		     "when signal N killed it.\n");
}

static void
build_getopt_tables(struct option *longopts, char *shortopts)
{
	size_t i, n = 0;

	/* '+' stops at PROG, so that its own options stay its own. */
	shortopts[n++] = '+';
	shortopts[n++] = ':';
	for (i = 0; i < OPTION_COUNT; i++) {
		const struct option_spec *spec = &option_specs[i];

		longopts[i] = (struct option){ spec->long_name, spec->has_arg,
					       NULL, spec->id };
		if (spec->id < 256) {
			shortopts[n++] = (char)spec->id;
			if (spec->has_arg == required_argument)
				shortopts[n++] = ':';
		}
	}
	longopts[OPTION_COUNT] = (struct option){ NULL, 0, NULL, 0 };
	shortopts[n] = '\0';
}

static enum ft_parse_result
usage_error(FILE *err)
{
	fprintf(err, "Try 'forktrace --help' for more information.\n");
	return FT_PARSE_ERROR;
}

/* Prints the message for a failed getopt_long() call. */
static enum ft_parse_result
report_bad_option(FILE *err, int c, char **argv)
{
	const char *word = argv[optind - 1];

	if (c == ':') {
		if (word[0] == '-' && word[1] == '-')
			fprintf(err,
				"forktrace: option '%s' requires an "
				"argument\n",
				word);
		else
			fprintf(err,
				"forktrace: option '-%c' requires an "
				"argument\n",
				optopt);
	} else if (word[0] == '-' && word[1] == '-' && optopt) {
		/* glibc sets optopt to the option's id for "--flag=value". */
		int n = (int)strcspn(word, "=");

		fprintf(err,
			"forktrace: option '%.*s' doesn't allow an "
			"argument\n",
			n, word);
	} else if (optopt) {
		fprintf(err, "forktrace: unrecognized option '-%c'\n", optopt);
	} else {
		fprintf(err, "forktrace: unrecognized option '%s'\n", word);
	}
	return usage_error(err);
}

enum ft_parse_result
options_parse(struct ft_options *opts, int argc, char **argv, FILE *out,
	      FILE *err)
{
	struct option longopts[OPTION_COUNT + 1];
	char shortopts[2 * OPTION_COUNT + 3];
	int c;

	memset(opts, 0, sizeof(*opts));
	build_getopt_tables(longopts, shortopts);
	optind = 0; /* a full reset, so that tests can parse many times */
	opterr = 0;

	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		switch (c) {
		case OPT_OUTPUT:
			if (!*optarg) {
				fprintf(err, "forktrace: option '--output' "
					     "requires a file name\n");
				return usage_error(err);
			}
			opts->output_path = optarg;
			break;
		case OPT_JSON:
			opts->json = true;
			break;
		case OPT_WALL_CLOCK:
			opts->wall_clock = true;
			break;
		case OPT_QUIET:
			opts->quiet++;
			break;
		case OPT_VERBOSE:
			opts->verbose++;
			break;
		case OPT_KILL_ON_EXIT:
			opts->kill_on_exit = true;
			break;
		case OPT_DETACH_ON_EXIT:
			opts->detach_on_exit = true;
			break;
		case OPT_HELP:
			options_print_help(out);
			return FT_PARSE_EXIT;
		case OPT_VERSION:
			fprintf(out, "forktrace %s\n", FORKTRACE_VERSION);
			return FT_PARSE_EXIT;
		default:
			return report_bad_option(err, c, argv);
		}
	}

	if (optind >= argc) {
		fprintf(err, "forktrace: missing PROG to run\n");
		print_usage_line(err);
		return usage_error(err);
	}
	opts->command = argv + optind;
	return FT_PARSE_RUN;
}
