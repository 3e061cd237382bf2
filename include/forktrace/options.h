/*
 * The command line: one table of options drives both getopt_long() and the
 * text of --help, so the two cannot disagree.
 */
#ifndef FORKTRACE_OPTIONS_H
#define FORKTRACE_OPTIONS_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

/* Exit status for a command line that cannot be used, as in getopt tools. */
#define EXIT_USAGE 2

/* Points at which stacks are captured, combined as bits. */
enum ft_stack_point {
	FT_STACKS_FORK = 1u << 0, /* the creating thread, at its event */
	FT_STACKS_SIGNAL = 1u << 1, /* a fatal signal, before delivery */
	FT_STACKS_EXIT = 1u << 2, /* each thread's exit event */
	/*
	 * The other threads of a forking process.  They run, and one may
	 * enter a call between forktrace's look and its interrupt, so this
	 * is not on by default.
	 */
	FT_STACKS_THREADS = 1u << 3,
	FT_STACKS_ALL = FT_STACKS_FORK | FT_STACKS_SIGNAL | FT_STACKS_EXIT |
			FT_STACKS_THREADS,
};

/* When new children are held for a debugger. */
enum ft_pause_point {
	FT_PAUSE_NONE,
	FT_PAUSE_FORK, /* at the child's first stop after fork */
	FT_PAUSE_EXEC, /* right after an exec, before the program's start */
};

#define FT_PAUSE_PATTERNS_MAX 32
#define FT_ATTACH_MAX	      256

#define FT_STACK_DEPTH_DEFAULT 32
#define FT_STACK_DEPTH_MAX     1024

#define FT_HANG_AFTER_DEFAULT 10.0

/* The view of a CPython process's stacks, set by --python. */
enum ft_python_mode {
	FT_PYTHON_MERGED, /* Python frames in place of the eval loop's */
	FT_PYTHON_OFF, /* native frames only */
	FT_PYTHON_ONLY, /* Python frames only */
};

struct ft_options {
	char **command; /* PROG and its arguments, NULL-terminated, or NULL */
	pid_t attach_pids[FT_ATTACH_MAX]; /* -p: processes to attach to */
	unsigned attach_count;
	const char *output_path; /* -o; NULL for stderr */
	const char *trace_path; /* --trace: a Chrome trace file, or NULL */
	const char *svg_path; /* --svg: an SVG picture, or NULL */
	bool json;
	bool wall_clock; /* -t: time of day instead of time since start */
	int quiet; /* -q: no timeline but hangs and pauses; -qq: nothing */
	int verbose;
	bool kill_on_exit;
	bool detach_on_exit;
	bool snapshot; /* --snapshot: print where each thread is, then leave */
	unsigned stacks; /* enum ft_stack_point bits; 0 for none */
	unsigned stack_depth; /* frames kept per stack */
	enum ft_python_mode python; /* --python */

	enum ft_pause_point pause;
	const char
		*pause_patterns[FT_PAUSE_PATTERNS_MAX]; /* globs; none: all */
	unsigned pause_pattern_count;
	const char *on_pause; /* a command line run for each paused child */
	double pause_timeout; /* seconds before an unclaimed child resumes */
	double hang_after; /* seconds all blocked before a report; 0: none */
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

/* Prints the hint to try --help that follows an invalid command line. */
void options_print_usage_hint(FILE *err);

#endif
