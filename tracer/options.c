/* The option table, the parser it drives and the --help it prints. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "forktrace/handoff.h"
#include "forktrace/options.h"

#ifndef FORKTRACE_VERSION
#define FORKTRACE_VERSION "unknown"
#endif

enum option_id {
	OPT_OUTPUT = 'o',
	OPT_ATTACH = 'p',
	OPT_WALL_CLOCK = 't',
	OPT_QUIET = 'q',
	OPT_VERBOSE = 'v',
	OPT_HELP = 'h',
	OPT_VERSION = 'V',
	OPT_FOLLOW_FORKS = 'f',
	OPT_JSON = 256,
	OPT_KILL_ON_EXIT,
	OPT_DETACH_ON_EXIT,
	OPT_STACKS,
	OPT_STACK_DEPTH,
	OPT_PAUSE,
	OPT_PAUSE_MATCH,
	OPT_ON_PAUSE,
	OPT_PAUSE_TIMEOUT,
	OPT_SNAPSHOT,
	OPT_HANG_AFTER,
	OPT_PYTHON,
	OPT_TRACE,
	OPT_SVG,
};

struct option_spec {
	const char *long_name;
	int id; /* the short option's letter, or a value above 255 */
	int has_arg;
	const char *arg_name;
	const char *help;
};

static const struct option_spec option_specs[] = {
	{ "attach", OPT_ATTACH, required_argument, "PID",
	  "follow the running process PID, its threads and descendants, "
	  "instead of PROG; repeatable, or a comma-separated list" },
	{ "snapshot", OPT_SNAPSHOT, no_argument, NULL,
	  "with -p: print every thread's state, system call, wait channel, "
	  "CPU time and stack, then detach" },
	{ "output", OPT_OUTPUT, required_argument, "FILE",
	  "write the timeline and the tree to FILE instead of stderr" },
	{ "json", OPT_JSON, no_argument, NULL,
	  "write the events and the tree as JSON Lines" },
	{ "trace", OPT_TRACE, required_argument, "FILE",
	  "also write the timeline to FILE as a Chrome trace, for Perfetto "
	  "UI and chrome://tracing" },
	{ "svg", OPT_SVG, required_argument, "FILE",
	  "also draw the timeline to FILE as an SVG picture" },
	{ "wall-clock", OPT_WALL_CLOCK, no_argument, NULL,
	  "print the time of day instead of seconds since the start" },
	{ "quiet", OPT_QUIET, no_argument, NULL,
	  "print only the hang reports and the tree; twice, neither" },
	{ "verbose", OPT_VERBOSE, no_argument, NULL,
	  "list each process's threads, show SIGCHLD deliveries, and give "
	  "the C library's frames their source lines" },
	{ "stacks", OPT_STACKS, required_argument, "LIST",
	  "capture stacks at: fork, signal, exit, threads (a forking process's "
	  "other threads), all or none, comma-separated (default "
	  "fork,signal)" },
	{ "stack-depth", OPT_STACK_DEPTH, required_argument, "N",
	  "keep at most N frames of each stack (default 32)" },
	{ "python", OPT_PYTHON, required_argument, "MODE",
	  "in stacks of CPython processes, show the Python frames in place "
	  "of the interpreter's (merged, the default), native frames only "
	  "(off), or Python frames only (only)" },
	{ "hang-after", OPT_HANG_AFTER, required_argument, "SECS",
	  "report a process whose threads have all been blocked for SECS, "
	  "and explain why (default 10; 0 turns it off)" },
	{ "pause", OPT_PAUSE, optional_argument, "WHEN",
	  "hand each new child to a debugger: WHEN is fork (the default, "
	  "before its first instruction) or exec (before its program starts)" },
	{ "pause-match", OPT_PAUSE_MATCH, required_argument, "GLOB",
	  "pause only children whose program name or path matches GLOB "
	  "(the exec'd one, or for fork the parent's); repeatable" },
	{ "on-pause", OPT_ON_PAUSE, required_argument, "CMD",
	  "run CMD for each paused child, with {pid}, {ppid} and {comm} "
	  "replaced; no shell" },
	{ "pause-timeout", OPT_PAUSE_TIMEOUT, required_argument, "SECS",
	  "resume a paused child that no debugger claimed within SECS" },
	{ "follow-forks", OPT_FOLLOW_FORKS, no_argument, NULL,
	  "accepted as in strace, where it asks to follow children; "
	  "forktrace always does" },
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
	fprintf(out, "usage: forktrace [OPTIONS] [--] PROG [ARGS...]\n"
		     "       forktrace [OPTIONS] -p PID[,PID...]\n");
}

/* Prints one option's line, its help wrapped within 80 columns. */
static void
print_wrapped(FILE *out, const char *left, const char *help)
{
	const int indent = 27, width = 79;
	int column = fprintf(out, "  %-24s", left);
	const char *word = help;

	while (*word) {
		int len = (int)strcspn(word, " ");

		if (column >= indent && column + 1 + len > width) {
			fprintf(out, "\n%*s", indent, "");
			column = indent;
		} else {
			fputc(' ', out);
			column++;
		}
		column += fprintf(out, "%.*s", len, word);
		word += len;
		while (*word == ' ')
			word++;
	}
	fputc('\n', out);
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
			snprintf(left + n, sizeof(left) - (size_t)n,
				 spec->has_arg == optional_argument ? "[=%s]"
								    : "=%s",
				 spec->arg_name);
		print_wrapped(out, left, spec->help);
	}
	fprintf(out, "\nforktrace exits with PROG's exit status, or ends by "
		     "signal N when N killed it.\n");
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

/* Parses the --stacks list into opts->stacks; returns false if invalid. */
static bool
parse_stacks(struct ft_options *opts, const char *list, FILE *err)
{
	static const struct {
		const char *name;
		unsigned bits;
	} points[] = {
		{ "fork", FT_STACKS_FORK }, { "signal", FT_STACKS_SIGNAL },
		{ "exit", FT_STACKS_EXIT }, { "threads", FT_STACKS_THREADS },
		{ "all", FT_STACKS_ALL },   { "none", 0 },
	};
	const char *word = list;

	opts->stacks = 0;
	for (;;) {
		size_t len = strcspn(word, ","), i;

		for (i = 0; i < sizeof(points) / sizeof(points[0]); i++)
			if (strlen(points[i].name) == len &&
			    !strncmp(points[i].name, word, len))
				break;
		if (i == sizeof(points) / sizeof(points[0])) {
			fprintf(err,
				"forktrace: invalid --stacks value '%.*s': "
				"expected fork, signal, exit, threads, all "
				"or none\n",
				(int)len, word);
			return false;
		}
		/* "none" beside a point would contradict it. */
		if (!points[i].bits && (word != list || word[len])) {
			fprintf(err,
				"forktrace: invalid --stacks value '%s': "
				"'none' cannot be combined with another "
				"point\n",
				list);
			return false;
		}
		opts->stacks |= points[i].bits;
		if (!word[len])
			return true;
		word += len + 1;
	}
}

static bool
parse_stack_depth(struct ft_options *opts, const char *text, FILE *err)
{
	char *end;
	unsigned long depth;

	errno = 0;
	depth = strtoul(text, &end, 10);
	if (errno || end == text || *end || text[0] == '-' || depth < 1 ||
	    depth > FT_STACK_DEPTH_MAX) {
		fprintf(err,
			"forktrace: invalid --stack-depth '%s': expected "
			"a number from 1 to %d\n",
			text, FT_STACK_DEPTH_MAX);
		return false;
	}
	opts->stack_depth = (unsigned)depth;
	return true;
}

/* Adds the pids of one -p argument, a comma-separated list. */
static bool
parse_attach(struct ft_options *opts, const char *list, FILE *err)
{
	const char *word = list;

	for (;;) {
		size_t len = strcspn(word, ",");
		char *end;
		long pid;

		errno = 0;
		pid = strtol(word, &end, 10);
		if (errno || end != word + len || len == 0 || pid < 1 ||
		    pid > 0x3fffffff) {
			fprintf(err,
				"forktrace: invalid pid '%.*s': expected a "
				"process id above 0\n",
				(int)len, word);
			return false;
		}
		if (opts->attach_count == FT_ATTACH_MAX) {
			fprintf(err, "forktrace: too many pids: at most %d\n",
				FT_ATTACH_MAX);
			return false;
		}
		opts->attach_pids[opts->attach_count++] = (pid_t)pid;
		if (!word[len])
			return true;
		word += len + 1;
	}
}

static bool
parse_pause(struct ft_options *opts, const char *when, FILE *err)
{
	if (!when || !strcmp(when, "fork")) {
		opts->pause = FT_PAUSE_FORK;
		return true;
	}
	if (!strcmp(when, "exec")) {
		opts->pause = FT_PAUSE_EXEC;
		return true;
	}
	fprintf(err,
		"forktrace: invalid --pause value '%s': expected fork or "
		"exec\n",
		when);
	return false;
}

/* Takes the FILE of --NAME=FILE, which must not be empty. */
static bool
parse_file(const char **path, const char *name, const char *arg, FILE *err)
{
	if (!*arg) {
		fprintf(err, "forktrace: option '--%s' requires a file name\n",
			name);
		return false;
	}
	*path = arg;
	return true;
}

static bool
parse_python(struct ft_options *opts, const char *mode, FILE *err)
{
	if (!strcmp(mode, "merged")) {
		opts->python = FT_PYTHON_MERGED;
		return true;
	}
	if (!strcmp(mode, "off")) {
		opts->python = FT_PYTHON_OFF;
		return true;
	}
	if (!strcmp(mode, "only")) {
		opts->python = FT_PYTHON_ONLY;
		return true;
	}
	fprintf(err,
		"forktrace: invalid --python value '%s': expected merged, off "
		"or only\n",
		mode);
	return false;
}

static bool
parse_on_pause(struct ft_options *opts, const char *line, FILE *err)
{
	const char *why = NULL;
	char **words = handoff_split_words(line, &why);

	if (!words) {
		fprintf(err, "forktrace: invalid --on-pause command '%s': %s\n",
			line, why);
		return false;
	}
	handoff_free_words(words);
	opts->on_pause = line;
	return true;
}

/* The shortest and the longest time an option takes: 1 ms, 11 days */
#define SECONDS_MIN 0.001
#define SECONDS_MAX 1000000

/*
 * Reads a decimal number of seconds from SECONDS_MIN to SECONDS_MAX, or
 * 0 where zero_ok.  Returns false, having printed why, for anything else.
 */
static bool
parse_seconds(const char *option, const char *text, bool zero_ok,
	      double *seconds, FILE *err)
{
	char *end = NULL;
	double value = -1;

	/* strtod() also reads hexadecimal, inf and nan: no time is given so. */
	errno = 0;
	if (*text && !text[strspn(text, "0123456789.eE+-")])
		value = strtod(text, &end);
	if (end && !*end && !errno &&
	    ((zero_ok && value == 0) ||
	     (value >= SECONDS_MIN && value <= SECONDS_MAX))) {
		*seconds = value;
		return true;
	}
	fprintf(err,
		"forktrace: invalid %s '%s': expected a number of seconds "
		"from %g to %d%s\n",
		option, text, SECONDS_MIN, SECONDS_MAX,
		zero_ok ? ", or 0 for none" : "");
	return false;
}

static bool
parse_pause_timeout(struct ft_options *opts, const char *text, FILE *err)
{
	return parse_seconds("--pause-timeout", text, false,
			     &opts->pause_timeout, err);
}

static bool
parse_hang_after(struct ft_options *opts, const char *text, FILE *err)
{
	return parse_seconds("--hang-after", text, true, &opts->hang_after,
			     err);
}

void
options_print_usage_hint(FILE *err)
{
	fprintf(err, "Try 'forktrace --help' for more information.\n");
}

static enum ft_parse_result
usage_error(FILE *err)
{
	options_print_usage_hint(err);
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
	unsigned follow_forks = 0;
	int c;

	memset(opts, 0, sizeof(*opts));
	opts->stacks = FT_STACKS_FORK | FT_STACKS_SIGNAL;
	opts->stack_depth = FT_STACK_DEPTH_DEFAULT;
	opts->hang_after = FT_HANG_AFTER_DEFAULT;
	build_getopt_tables(longopts, shortopts);
	optind = 0; /* a full reset, so that tests can parse many times */
	opterr = 0;

	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		switch (c) {
		case OPT_SNAPSHOT:
			opts->snapshot = true;
			break;
		case OPT_ATTACH:
			if (!parse_attach(opts, optarg, err))
				return usage_error(err);
			break;
		case OPT_OUTPUT:
			if (!parse_file(&opts->output_path, "output", optarg,
					err))
				return usage_error(err);
			break;
		case OPT_TRACE:
			if (!parse_file(&opts->trace_path, "trace", optarg,
					err))
				return usage_error(err);
			break;
		case OPT_SVG:
			if (!parse_file(&opts->svg_path, "svg", optarg, err))
				return usage_error(err);
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
		case OPT_FOLLOW_FORKS:
			/* strace -ff writes a file for each process: no such
			 * mode. */
			if (++follow_forks > 1) {
				fprintf(err, "forktrace: -ff (a file for each "
					     "process) is not supported; -o "
					     "writes one file for the "
					     "family\n");
				return usage_error(err);
			}
			break;
		case OPT_KILL_ON_EXIT:
			opts->kill_on_exit = true;
			break;
		case OPT_DETACH_ON_EXIT:
			opts->detach_on_exit = true;
			break;
		case OPT_STACKS:
			if (!parse_stacks(opts, optarg, err))
				return usage_error(err);
			break;
		case OPT_STACK_DEPTH:
			if (!parse_stack_depth(opts, optarg, err))
				return usage_error(err);
			break;
		case OPT_PYTHON:
			if (!parse_python(opts, optarg, err))
				return usage_error(err);
			break;
		case OPT_PAUSE:
			if (!parse_pause(opts, optarg, err))
				return usage_error(err);
			break;
		case OPT_PAUSE_MATCH:
			if (!*optarg) {
				fprintf(err, "forktrace: invalid --pause-match "
					     "'': expected a pattern\n");
				return usage_error(err);
			}
			if (opts->pause_pattern_count ==
			    FT_PAUSE_PATTERNS_MAX) {
				fprintf(err,
					"forktrace: too many --pause-match "
					"patterns: at most %d\n",
					FT_PAUSE_PATTERNS_MAX);
				return usage_error(err);
			}
			opts->pause_patterns[opts->pause_pattern_count++] =
				optarg;
			break;
		case OPT_ON_PAUSE:
			if (!parse_on_pause(opts, optarg, err))
				return usage_error(err);
			break;
		case OPT_PAUSE_TIMEOUT:
			if (!parse_pause_timeout(opts, optarg, err))
				return usage_error(err);
			break;
		case OPT_HANG_AFTER:
			if (!parse_hang_after(opts, optarg, err))
				return usage_error(err);
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

	if (!opts->pause && (opts->pause_pattern_count || opts->on_pause ||
			     opts->pause_timeout)) {
		fprintf(err, "forktrace: --pause-match, --on-pause and "
			     "--pause-timeout need --pause\n");
		return usage_error(err);
	}
	if (opts->snapshot && (opts->trace_path || opts->svg_path)) {
		fprintf(err, "forktrace: --trace and --svg draw a timeline, "
			     "which --snapshot does not make\n");
		return usage_error(err);
	}
	if (opts->snapshot && !opts->attach_count) {
		fprintf(err, "forktrace: --snapshot needs -p PID\n");
		return usage_error(err);
	}
	if (opts->attach_count) {
		if (optind < argc) {
			fprintf(err, "forktrace: give either PROG or -p PID, "
				     "not both\n");
			return usage_error(err);
		}
		return FT_PARSE_RUN;
	}
	if (optind >= argc) {
		fprintf(err, "forktrace: missing PROG to run\n");
		print_usage_line(err);
		return usage_error(err);
	}
	opts->command = argv + optind;
	return FT_PARSE_RUN;
}
