/* Unit tests of the command-line parser and the --help text. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "forktrace/options.h"

#define MAX_ARGS 16

#define TRY_HELP "Try 'forktrace --help' for more information.\n"
#define USAGE                                              \
	"usage: forktrace [OPTIONS] [--] PROG [ARGS...]\n" \
	"       forktrace [OPTIONS] -p PID[,PID...]\n"
/* One options_parse() call with the text it wrote to out and err. */
struct parse_run {
	char *argv[MAX_ARGS + 1];
	int argc;
	struct ft_options opts;
	enum ft_parse_result result;
	char *out;
	size_t out_len;
	char *err;
	size_t err_len;
};

/*
 * Parses the NULL-terminated words, with "forktrace" as argv[0].  The
 * words are copied because getopt_long() may permute argv.
 */
static void
parse_words(struct parse_run *run, const char *const *words)
{
	FILE *out, *err;
	size_t i;

	memset(run, 0, sizeof(*run));
	run->argv[run->argc++] = strdup("forktrace");
	for (i = 0; words[i]; i++) {
		assert_true(run->argc < MAX_ARGS);
		run->argv[run->argc++] = strdup(words[i]);
	}
	run->argv[run->argc] = NULL;

	out = open_memstream(&run->out, &run->out_len);
	err = open_memstream(&run->err, &run->err_len);
	assert_non_null(out);
	assert_non_null(err);
	run->result = options_parse(&run->opts, run->argc, run->argv, out, err);
	fclose(out);
	fclose(err);
}

#define PARSE(run, ...) \
	parse_words((run), (const char *const[]){ __VA_ARGS__, NULL })

static void
parse_run_free(struct parse_run *run)
{
	int i;

	for (i = 0; i < run->argc; i++)
		free(run->argv[i]);
	free(run->out);
	free(run->err);
}

/* Checks every field of opts except command against expected. */
static void
assert_options_equal(const struct ft_options *actual,
		     const struct ft_options *expected)
{
	if (expected->output_path)
		assert_string_equal(actual->output_path, expected->output_path);
	else
		assert_null(actual->output_path);
	assert_int_equal(actual->json, expected->json);
	assert_int_equal(actual->wall_clock, expected->wall_clock);
	assert_int_equal(actual->quiet, expected->quiet);
	assert_int_equal(actual->verbose, expected->verbose);
	assert_int_equal(actual->kill_on_exit, expected->kill_on_exit);
	assert_int_equal(actual->detach_on_exit, expected->detach_on_exit);
}

/* Checks that the parse succeeded with command exactly ["prog"]. */
static void
assert_runs_prog(const struct parse_run *run)
{
	assert_int_equal(run->result, FT_PARSE_RUN);
	assert_non_null(run->opts.command);
	assert_string_equal(run->opts.command[0], "prog");
	assert_null(run->opts.command[1]);
	assert_string_equal(run->out, "");
	assert_string_equal(run->err, "");
}

static void
options_defaults_without_options(void **state)
{
	const struct ft_options expected = { 0 };
	struct parse_run run;

	(void)state;
	PARSE(&run, "prog");
	assert_runs_prog(&run);
	assert_options_equal(&run.opts, &expected);
	/* command points into argv, as the header promises. */
	assert_ptr_equal(run.opts.command, &run.argv[1]);
	parse_run_free(&run);
}

static void
options_output_forms_set_path(void **state)
{
	static const char *const forms[][3] = {
		{ "-o", "trace.txt", NULL },
		{ "-otrace.txt", NULL, NULL },
		{ "--output", "trace.txt", NULL },
		{ "--output=trace.txt", NULL, NULL },
	};
	const struct ft_options expected = { .output_path = "trace.txt" };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		struct parse_run run;

		if (forms[i][1])
			PARSE(&run, forms[i][0], forms[i][1], "prog");
		else
			PARSE(&run, forms[i][0], "prog");
		assert_runs_prog(&run);
		assert_options_equal(&run.opts, &expected);
		parse_run_free(&run);
	}
}

/* An option word and the options that it must produce. */
struct flag_case {
	const char *word;
	struct ft_options expected;
};

static void
options_flags_set_their_field(void **state)
{
	static const struct flag_case cases[] = {
		{ "--json", { .json = true } },
		{ "-t", { .wall_clock = true } },
		{ "--wall-clock", { .wall_clock = true } },
		{ "-q", { .quiet = 1 } },
		{ "--quiet", { .quiet = 1 } },
		{ "-v", { .verbose = 1 } },
		{ "--verbose", { .verbose = 1 } },
		{ "--kill-on-exit", { .kill_on_exit = true } },
		{ "--detach-on-exit", { .detach_on_exit = true } },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct parse_run run;

		PARSE(&run, cases[i].word, "prog");
		if (run.result != FT_PARSE_RUN)
			print_message("option %s: %s", cases[i].word, run.err);
		assert_runs_prog(&run);
		assert_options_equal(&run.opts, &cases[i].expected);
		parse_run_free(&run);
	}
}

static void
options_all_flags_together(void **state)
{
	const struct ft_options expected = {
		.output_path = "out.json",
		.json = true,
		.wall_clock = true,
		.quiet = 1,
		.verbose = 1,
		.kill_on_exit = true,
		.detach_on_exit = true,
	};
	struct parse_run run;

	(void)state;
	PARSE(&run, "--json", "-tqv", "--kill-on-exit", "--detach-on-exit",
	      "-o", "out.json", "prog");
	assert_runs_prog(&run);
	assert_options_equal(&run.opts, &expected);
	parse_run_free(&run);
}

static void
options_quiet_twice_gives_two(void **state)
{
	static const char *const forms[][2] = {
		{ "-q", "-q" },
		{ "-qq", NULL },
		{ "--quiet", "-q" },
		{ "--quiet", "--quiet" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		struct parse_run run;

		if (forms[i][1])
			PARSE(&run, forms[i][0], forms[i][1], "prog");
		else
			PARSE(&run, forms[i][0], "prog");
		assert_runs_prog(&run);
		assert_int_equal(run.opts.quiet, 2);
		parse_run_free(&run);
	}
}

static void
options_verbose_twice_gives_two(void **state)
{
	struct parse_run run;

	(void)state;
	PARSE(&run, "-vv", "prog");
	assert_runs_prog(&run);
	assert_int_equal(run.opts.verbose, 2);
	parse_run_free(&run);
}

static void
options_stop_at_prog(void **state)
{
	const struct ft_options expected = { .quiet = 1 };
	struct parse_run run;

	(void)state;
	PARSE(&run, "-q", "ls", "-l", "--json", "-o", "x");
	assert_int_equal(run.result, FT_PARSE_RUN);
	assert_options_equal(&run.opts, &expected);
	assert_string_equal(run.opts.command[0], "ls");
	assert_string_equal(run.opts.command[1], "-l");
	assert_string_equal(run.opts.command[2], "--json");
	assert_string_equal(run.opts.command[3], "-o");
	assert_string_equal(run.opts.command[4], "x");
	assert_null(run.opts.command[5]);
	assert_string_equal(run.err, "");
	parse_run_free(&run);
}

static void
options_prog_help_stays_prog(void **state)
{
	struct parse_run run;

	(void)state;
	PARSE(&run, "ls", "--help");
	assert_int_equal(run.result, FT_PARSE_RUN);
	assert_string_equal(run.opts.command[0], "ls");
	assert_string_equal(run.opts.command[1], "--help");
	assert_null(run.opts.command[2]);
	assert_string_equal(run.out, "");
	parse_run_free(&run);
}

static void
options_double_dash_ends_options(void **state)
{
	const struct ft_options expected = { .json = true };
	struct parse_run run;

	(void)state;
	PARSE(&run, "--json", "--", "-q", "x");
	assert_int_equal(run.result, FT_PARSE_RUN);
	assert_options_equal(&run.opts, &expected);
	assert_string_equal(run.opts.command[0], "-q");
	assert_string_equal(run.opts.command[1], "x");
	assert_null(run.opts.command[2]);
	assert_string_equal(run.err, "");
	parse_run_free(&run);
}

static void
options_missing_prog_is_error(void **state)
{
	static const char *const forms[][2] = {
		{ NULL, NULL },
		{ "-q", NULL },
		{ "--", NULL },
		{ "--json", "--" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		struct parse_run run;

		if (!forms[i][0])
			parse_words(&run, (const char *const[]){ NULL });
		else if (!forms[i][1])
			PARSE(&run, forms[i][0]);
		else
			PARSE(&run, forms[i][0], forms[i][1]);
		assert_int_equal(run.result, FT_PARSE_ERROR);
		assert_string_equal(
			run.err,
			"forktrace: missing PROG to run\n" USAGE TRY_HELP);
		assert_string_equal(run.out, "");
		parse_run_free(&run);
	}
}

static void
options_unknown_long_option(void **state)
{
	struct parse_run run;

	(void)state;
	PARSE(&run, "--bogus", "prog");
	assert_int_equal(run.result, FT_PARSE_ERROR);
	assert_string_equal(run.err, "forktrace: unrecognized option "
				     "'--bogus'\n" TRY_HELP);
	assert_string_equal(run.out, "");
	parse_run_free(&run);
}

static void
options_unknown_short_option(void **state)
{
	struct parse_run run;

	(void)state;
	PARSE(&run, "-x", "prog");
	assert_int_equal(run.result, FT_PARSE_ERROR);
	assert_string_equal(run.err,
			    "forktrace: unrecognized option '-x'\n" TRY_HELP);
	assert_string_equal(run.out, "");
	parse_run_free(&run);
}

static void
options_unknown_short_in_cluster(void **state)
{
	struct parse_run run;

	(void)state;
	PARSE(&run, "-qx", "prog");
	assert_int_equal(run.result, FT_PARSE_ERROR);
	assert_string_equal(run.err,
			    "forktrace: unrecognized option '-x'\n" TRY_HELP);
	parse_run_free(&run);
}

static void
options_short_output_without_argument(void **state)
{
	struct parse_run run;

	(void)state;
	PARSE(&run, "-o");
	assert_int_equal(run.result, FT_PARSE_ERROR);
	assert_string_equal(run.err, "forktrace: option '-o' requires an "
				     "argument\n" TRY_HELP);
	assert_string_equal(run.out, "");
	parse_run_free(&run);
}

static void
options_long_output_without_argument(void **state)
{
	struct parse_run run;

	(void)state;
	PARSE(&run, "--output");
	assert_int_equal(run.result, FT_PARSE_ERROR);
	assert_string_equal(run.err, "forktrace: option '--output' requires "
				     "an argument\n" TRY_HELP);
	parse_run_free(&run);
}

static void
options_output_takes_next_word(void **state)
{
	struct parse_run run;

	(void)state;
	/* "prog" becomes the file name, so PROG is missing. */
	PARSE(&run, "-o", "prog");
	assert_int_equal(run.result, FT_PARSE_ERROR);
	assert_string_equal(run.err,
			    "forktrace: missing PROG to run\n" USAGE TRY_HELP);
	parse_run_free(&run);
}

static void
options_output_empty_file_name(void **state)
{
	static const char *const forms[][2] = {
		{ "-o", "" },
		{ "--output", "" },
		{ "--output=", NULL },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		struct parse_run run;

		if (forms[i][1])
			PARSE(&run, forms[i][0], forms[i][1], "prog");
		else
			PARSE(&run, forms[i][0], "prog");
		assert_int_equal(run.result, FT_PARSE_ERROR);
		assert_string_equal(run.err, "forktrace: option '--output' "
					     "requires a file name\n" TRY_HELP);
		parse_run_free(&run);
	}
}

static void
options_flag_with_value_rejected(void **state)
{
	struct parse_run run;

	(void)state;
	PARSE(&run, "--json=x", "prog");
	assert_int_equal(run.result, FT_PARSE_ERROR);
	assert_int_equal(strlen(run.err), run.err_len);
	assert_non_null(strstr(run.err, "'--json"));
	parse_run_free(&run);

	PARSE(&run, "--quiet=x", "prog");
	assert_int_equal(run.result, FT_PARSE_ERROR);
	assert_non_null(strstr(run.err, "'--quiet"));
	parse_run_free(&run);
}

/* strace's -f requests following children, which forktrace always does. */
static void
options_follow_forks_accepted(void **state)
{
	const struct ft_options expected = { 0 };
	struct parse_run run;

	(void)state;
	PARSE(&run, "-f", "prog");
	assert_runs_prog(&run);
	assert_options_equal(&run.opts, &expected);
	parse_run_free(&run);

	PARSE(&run, "--follow-forks", "prog");
	assert_runs_prog(&run);
	parse_run_free(&run);
}

/* strace's -ff writes a file per process, which forktrace does not. */
static void
options_follow_forks_twice_rejected(void **state)
{
	static const char *const forms[][2] = {
		{ "-ff", NULL },
		{ "-f", "-f" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		struct parse_run run;

		if (forms[i][1])
			PARSE(&run, forms[i][0], forms[i][1], "prog");
		else
			PARSE(&run, forms[i][0], "prog");
		assert_int_equal(run.result, FT_PARSE_ERROR);
		assert_string_equal(run.err,
				    "forktrace: -ff (a file for each process) "
				    "is not supported; -o writes one file for "
				    "the family\n" TRY_HELP);
		parse_run_free(&run);
	}
}

static void
options_long_abbreviation_accepted(void **state)
{
	const struct ft_options expected = { .json = true, .verbose = 1 };
	struct parse_run run;

	(void)state;
	PARSE(&run, "--js", "--verb", "prog");
	assert_runs_prog(&run);
	assert_options_equal(&run.opts, &expected);
	parse_run_free(&run);
}

static void
options_ambiguous_abbreviation_rejected(void **state)
{
	struct parse_run run;

	(void)state;
	/* --ver is the start of both --verbose and --version. */
	PARSE(&run, "--ver", "prog");
	assert_int_equal(run.result, FT_PARSE_ERROR);
	assert_non_null(strstr(run.err, "'--ver'"));
	assert_string_equal(run.out, "");
	parse_run_free(&run);
}

static void
options_help_prints_to_out(void **state)
{
	static const char *const words[] = { "--help", "-h" };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		struct parse_run run;

		PARSE(&run, words[i]);
		assert_int_equal(run.result, FT_PARSE_EXIT);
		assert_int_equal(strncmp(run.out, USAGE, strlen(USAGE)), 0);
		assert_non_null(strstr(run.out, "\nOptions:\n"));
		assert_string_equal(run.err, "");
		parse_run_free(&run);
	}
}

static void
options_help_before_prog_exits(void **state)
{
	struct parse_run run;

	(void)state;
	PARSE(&run, "-q", "--help", "prog");
	assert_int_equal(run.result, FT_PARSE_EXIT);
	assert_int_equal(strncmp(run.out, USAGE, strlen(USAGE)), 0);
	assert_string_equal(run.err, "");
	parse_run_free(&run);
}

static void
options_help_matches_print_help(void **state)
{
	struct parse_run run;
	char *text = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&text, &len);

	(void)state;
	assert_non_null(fp);
	options_print_help(fp);
	fclose(fp);
	PARSE(&run, "--help");
	assert_string_equal(run.out, text);
	free(text);
	parse_run_free(&run);
}

static void
options_version_prints_to_out(void **state)
{
	static const char *const words[] = { "--version", "-V" };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		struct parse_run run;

		PARSE(&run, words[i]);
		assert_int_equal(run.result, FT_PARSE_EXIT);
		assert_string_equal(run.out,
				    "forktrace " FORKTRACE_VERSION "\n");
		assert_string_equal(run.err, "");
		parse_run_free(&run);
	}
}

/* Every long option that forktrace documents. */
static const char *const long_options[] = {
	"attach",	 "snapshot",	 "output",	   "json",
	"wall-clock",	 "quiet",	 "verbose",	   "stacks",
	"stack-depth",	 "pause",	 "pause-match",	   "on-pause",
	"pause-timeout", "kill-on-exit", "detach-on-exit", "help",
	"version",	 "hang-after",	 "python",	   "trace",
	"svg",		 "follow-forks",
};

/* Returns the --help text in a new buffer. */
static char *
help_text(void)
{
	char *text = NULL, *copy;
	size_t len = 0;
	FILE *fp = open_memstream(&text, &len);

	assert_non_null(fp);
	options_print_help(fp);
	fclose(fp);
	copy = strdup(text);
	free(text);
	return copy;
}

/*
 * Returns true when options_parse() accepts "--NAME value prog", where
 * value is the option's argument or, for a flag, PROG.
 */
static bool
long_option_accepted(const char *name, size_t len)
{
	struct parse_run run;
	char word[64];
	bool accepted;

	/* Options that check their value get a valid one. */
	const char *value = "value";

	if (len == 6 && !strncmp(name, "stacks", len))
		value = "fork";
	else if (len == 11 && !strncmp(name, "stack-depth", len))
		value = "8";
	else if (len == 13 && !strncmp(name, "pause-timeout", len))
		value = "1";
	else if (len == 10 && !strncmp(name, "hang-after", len))
		value = "2";
	else if (len == 6 && !strncmp(name, "python", len))
		value = "off";
	snprintf(word, sizeof(word), "--%.*s", (int)len, name);
	/* --attach takes a pid instead of PROG; the options that refine
	 * --pause are accepted only with it. */
	if (!strcmp(word, "--attach"))
		PARSE(&run, word, "1");
	else if (!strcmp(word, "--snapshot"))
		PARSE(&run, word, "-p", "1");
	else if (strstr(word, "pause") && strcmp(word, "--pause"))
		PARSE(&run, "--pause", word, value, "prog");
	else
		PARSE(&run, word, value, "prog");
	accepted = run.result != FT_PARSE_ERROR;
	parse_run_free(&run);
	return accepted;
}

static void
options_help_lists_known_long_options(void **state)
{
	char *text = help_text();
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(long_options) / sizeof(long_options[0]); i++) {
		char needle[64];
		const char *found;

		snprintf(needle, sizeof(needle), "--%s", long_options[i]);
		found = strstr(text, needle);
		if (!found)
			print_message("missing from --help: %s\n", needle);
		assert_non_null(found);
		/* A whole name, not the start of a longer one. */
		found += strlen(needle);
		assert_true(*found == ' ' || *found == '=' || *found == '[');
		assert_true(long_option_accepted(long_options[i],
						 strlen(long_options[i])));
	}
	free(text);
}

static void
options_help_long_options_all_accepted(void **state)
{
	char *text = help_text();
	const char *p = text;
	size_t listed = 0;

	(void)state;
	while ((p = strstr(p, " --")) != NULL) {
		const char *name = p + 3;
		size_t len = strcspn(name, "=[ \n");

		if (len) {
			if (!long_option_accepted(name, len))
				print_message("rejected: --%.*s\n", (int)len,
					      name);
			assert_true(long_option_accepted(name, len));
			listed++;
		}
		p = name + len;
	}
	assert_int_equal(listed,
			 sizeof(long_options) / sizeof(long_options[0]));
	free(text);
}

static void
options_help_lists_every_short_option(void **state)
{
	static const char letters[] = "abcdefghijklmnopqrstuvwxyz"
				      "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	char *text = help_text();
	size_t i, accepted = 0;

	(void)state;
	for (i = 0; letters[i]; i++) {
		struct parse_run run;
		char word[3] = { '-', letters[i], '\0' };
		char listed[16];

		/* "x" is the option's value, or PROG for a flag; -p takes a
		 * pid instead of PROG. */
		if (letters[i] == 'p')
			PARSE(&run, word, "1");
		else
			PARSE(&run, word, "x", "prog");
		snprintf(listed, sizeof(listed), "  -%c, --", letters[i]);
		if (run.result != FT_PARSE_ERROR) {
			if (!strstr(text, listed))
				print_message("missing from --help: %s\n",
					      word);
			assert_non_null(strstr(text, listed));
			accepted++;
		} else {
			assert_null(strstr(text, listed));
		}
		parse_run_free(&run);
	}
	/* The short options are -p -o -t -q -v -f -h and -V. */
	assert_int_equal(accepted, 8);
	free(text);
}

static void
options_python_modes(void **state)
{
	static const struct {
		const char *word;
		enum ft_python_mode mode;
	} good[] = {
		{ "--python=merged", FT_PYTHON_MERGED },
		{ "--python=off", FT_PYTHON_OFF },
		{ "--python=only", FT_PYTHON_ONLY },
	};
	struct parse_run run;
	size_t i;

	(void)state;
	PARSE(&run, "prog");
	assert_int_equal(run.opts.python, FT_PYTHON_MERGED);
	parse_run_free(&run);
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		PARSE(&run, good[i].word, "prog");
		assert_runs_prog(&run);
		assert_int_equal(run.opts.python, good[i].mode);
		parse_run_free(&run);
	}
	PARSE(&run, "--python=on", "prog");
	assert_int_equal(run.result, FT_PARSE_ERROR);
	assert_non_null(strstr(run.err, "invalid --python value 'on': "
					"expected merged, off or only\n"));
	parse_run_free(&run);
}

static void
options_trace_and_svg_files(void **state)
{
	struct parse_run run;

	(void)state;
	PARSE(&run, "prog");
	assert_null(run.opts.trace_path);
	assert_null(run.opts.svg_path);
	parse_run_free(&run);

	PARSE(&run, "--trace=t.json", "--svg", "t.svg", "prog");
	assert_runs_prog(&run);
	assert_string_equal(run.opts.trace_path, "t.json");
	assert_string_equal(run.opts.svg_path, "t.svg");
	parse_run_free(&run);

	PARSE(&run, "--trace=", "prog");
	assert_int_equal(run.result, FT_PARSE_ERROR);
	assert_non_null(strstr(run.err, "forktrace: option '--trace' "
					"requires a file name\n"));
	parse_run_free(&run);

	PARSE(&run, "--svg=", "prog");
	assert_int_equal(run.result, FT_PARSE_ERROR);
	assert_non_null(strstr(run.err, "forktrace: option '--svg' "
					"requires a file name\n"));
	parse_run_free(&run);

	PARSE(&run, "-p", "1", "--snapshot", "--svg=t.svg");
	assert_int_equal(run.result, FT_PARSE_ERROR);
	assert_non_null(strstr(run.err, "--trace and --svg draw a timeline, "
					"which --snapshot does not make\n"));
	parse_run_free(&run);
}

static void
options_stacks_lists(void **state)
{
	static const struct {
		const char *word;
		unsigned bits;
	} good[] = {
		{ "--stacks=fork", FT_STACKS_FORK },
		{ "--stacks=exit,signal", FT_STACKS_EXIT | FT_STACKS_SIGNAL },
		{ "--stacks=threads", FT_STACKS_THREADS },
		{ "--stacks=all", FT_STACKS_FORK | FT_STACKS_SIGNAL |
					  FT_STACKS_EXIT | FT_STACKS_THREADS },
		{ "--stacks=none", 0 },
	};
	struct parse_run run;
	size_t i;

	(void)state;
	PARSE(&run, "prog");
	assert_int_equal(run.opts.stacks, FT_STACKS_FORK | FT_STACKS_SIGNAL);
	parse_run_free(&run);
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		PARSE(&run, good[i].word, "prog");
		assert_runs_prog(&run);
		assert_int_equal(run.opts.stacks, good[i].bits);
		parse_run_free(&run);
	}
	PARSE(&run, "--stacks=fork,none", "prog");
	assert_int_equal(run.result, FT_PARSE_ERROR);
	assert_non_null(strstr(
		run.err, "invalid --stacks value 'fork,none': "
			 "'none' cannot be combined with another point\n"));
	parse_run_free(&run);
	PARSE(&run, "--stacks=none,exit", "prog");
	assert_int_equal(run.result, FT_PARSE_ERROR);
	parse_run_free(&run);
	PARSE(&run, "--stacks=fork,thread", "prog");
	assert_int_equal(run.result, FT_PARSE_ERROR);
	assert_non_null(strstr(run.err, "invalid --stacks value 'thread': "
					"expected fork, signal, exit, threads, "
					"all or none\n"));
	parse_run_free(&run);
}

static void
options_hang_after_values(void **state)
{
	static const struct {
		const char *word;
		double seconds;
	} good[] = {
		{ "--hang-after=2", 2 },
		{ "--hang-after=0", 0 },
		{ "--hang-after=0.5", 0.5 },
		{ "--hang-after=1e3", 1000 },
	};
	static const char *const bad[] = {
		"--hang-after=-1",   "--hang-after=abc",  "--hang-after=",
		"--hang-after=2s",   "--hang-after=nan",  "--hang-after=1e7",
		"--hang-after=0x10", "--hang-after=1e-9", "--hang-after=inf",
	};
	struct parse_run run;
	size_t i;

	(void)state;
	PARSE(&run, "prog");
	assert_true(run.opts.hang_after == FT_HANG_AFTER_DEFAULT);
	parse_run_free(&run);
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		PARSE(&run, good[i].word, "prog");
		assert_runs_prog(&run);
		assert_true(run.opts.hang_after == good[i].seconds);
		parse_run_free(&run);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		PARSE(&run, bad[i], "prog");
		assert_int_equal(run.result, FT_PARSE_ERROR);
		assert_non_null(
			strstr(run.err, "forktrace: invalid --hang-after"));
		/* One line of error, then the hint. */
		assert_non_null(strstr(run.err, "\n" TRY_HELP));
		parse_run_free(&run);
	}
	/* The message gives the range, whose ends are not obvious. */
	PARSE(&run, "--hang-after=1e7", "prog");
	assert_non_null(strstr(run.err, "invalid --hang-after '1e7': expected "
					"a number of seconds from 0.001 to "
					"1000000, or 0 for none\n"));
	parse_run_free(&run);
	PARSE(&run, "--pause", "--pause-timeout=1e-300", "prog");
	assert_non_null(strstr(run.err,
			       "invalid --pause-timeout '1e-300': expected a "
			       "number of seconds from 0.001 to 1000000\n"));
	parse_run_free(&run);
	PARSE(&run, "--pause", "--pause-match=", "prog");
	assert_non_null(strstr(run.err, "invalid --pause-match '': expected "
					"a pattern\n"));
	parse_run_free(&run);
}

static void
options_parse_twice_resets_state(void **state)
{
	const struct ft_options expected = { .quiet = 1 };
	struct parse_run run;

	(void)state;
	PARSE(&run, "--json", "-v", "prog");
	assert_int_equal(run.opts.json, true);
	parse_run_free(&run);

	PARSE(&run, "-q", "prog");
	assert_runs_prog(&run);
	assert_options_equal(&run.opts, &expected);
	parse_run_free(&run);

	/* The error inside "-qxq" leaves getopt in the middle of a word. */
	PARSE(&run, "-qxq", "prog");
	assert_int_equal(run.result, FT_PARSE_ERROR);
	parse_run_free(&run);
	PARSE(&run, "-q", "prog");
	assert_runs_prog(&run);
	assert_int_equal(run.opts.quiet, 1);
	parse_run_free(&run);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(options_defaults_without_options),
		cmocka_unit_test(options_output_forms_set_path),
		cmocka_unit_test(options_flags_set_their_field),
		cmocka_unit_test(options_all_flags_together),
		cmocka_unit_test(options_quiet_twice_gives_two),
		cmocka_unit_test(options_verbose_twice_gives_two),
		cmocka_unit_test(options_stop_at_prog),
		cmocka_unit_test(options_prog_help_stays_prog),
		cmocka_unit_test(options_double_dash_ends_options),
		cmocka_unit_test(options_missing_prog_is_error),
		cmocka_unit_test(options_unknown_long_option),
		cmocka_unit_test(options_unknown_short_option),
		cmocka_unit_test(options_unknown_short_in_cluster),
		cmocka_unit_test(options_short_output_without_argument),
		cmocka_unit_test(options_long_output_without_argument),
		cmocka_unit_test(options_output_takes_next_word),
		cmocka_unit_test(options_output_empty_file_name),
		cmocka_unit_test(options_flag_with_value_rejected),
		cmocka_unit_test(options_follow_forks_accepted),
		cmocka_unit_test(options_follow_forks_twice_rejected),
		cmocka_unit_test(options_long_abbreviation_accepted),
		cmocka_unit_test(options_ambiguous_abbreviation_rejected),
		cmocka_unit_test(options_help_prints_to_out),
		cmocka_unit_test(options_help_before_prog_exits),
		cmocka_unit_test(options_help_matches_print_help),
		cmocka_unit_test(options_version_prints_to_out),
		cmocka_unit_test(options_help_lists_known_long_options),
		cmocka_unit_test(options_help_long_options_all_accepted),
		cmocka_unit_test(options_help_lists_every_short_option),
		cmocka_unit_test(options_parse_twice_resets_state),
		cmocka_unit_test(options_hang_after_values),
		cmocka_unit_test(options_stacks_lists),
		cmocka_unit_test(options_python_modes),
		cmocka_unit_test(options_trace_and_svg_files),
	};

	return cmocka_run_group_tests_name("options", tests, NULL, NULL);
}
