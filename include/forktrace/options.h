/*
 * The command line: one table of options drives both getopt_long() and the
 * text of --help, so the two cannot disagree.
 */
#ifndef FORKTRACE_OPTIONS_H
#define FORKTRACE_OPTIONS_H

#include <stdbool.h>
#include <stdio.h>

/* Exit status for a command line that cannot be used, as in getopt tools. */
#define EXIT_USAGE 2

struct ft_options {
	char **command; /* PROG and its arguments, NULL-terminated */
	const char *output_path; /* -o; NULL for stderr */
	bool json;
	bool wall_clock; /* -t: time of day instead of time since start */
	int quiet; /* -q: no timeline; -qq: no tree either */
	int verbose;
	bool kill_on_exit;
	bool detach_on_exit;
};

enum ft_parse_result {
	FT_PARSE_RUN, /* options are valid: trace the command */
	FT_PARSE_EXIT, /* --help or --version was printed: exit 0 */
	FT_PARSE_ERROR, /* a message and the usage line went to err */
};

/*
 * Parses argv into opts.  --help and --version print to out; errors print
 * one message and a hint to try --help to err.  opts->command points into
 * argv.
 */
enum ft_parse_result options_parse(struct ft_options *opts, int argc,
				   char **argv, FILE *out, FILE *err);

/* Prints the full --help text. */
void options_print_help(FILE *out);

#endif
