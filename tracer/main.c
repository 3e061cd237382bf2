/* forktrace: follow a process family under ptrace. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "forktrace/error.h"
#include "forktrace/options.h"
#include "forktrace/output.h"
#include "forktrace/tracer.h"

/*
 * Ends forktrace by signal signo, as the traced program ended, so that its
 * caller sees the same end.  bash, for one, stops a loop whose command a
 * SIGINT killed, but not one whose command exited with status 130.  With
 * the core size limit at 0, forktrace leaves no core file in place of the
 * program's.  Returns only if the signal did not end forktrace.
 */
static void
end_by_signal(int signo)
{
	struct rlimit no_core = { 0, 0 };
	sigset_t set;

	fflush(NULL);
	setrlimit(RLIMIT_CORE, &no_core);
	signal(signo, SIG_DFL);
	sigemptyset(&set);
	sigaddset(&set, signo);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	raise(signo);
}

int
main(int argc, char **argv)
{
	struct ft_options opts;
	int status, end_signal;

	switch (options_parse(&opts, argc, argv, stdout, stderr)) {
	case FT_PARSE_EXIT:
		if (fflush(stdout) != 0 || ferror(stdout))
			perror_msg_and_die("cannot write to stdout");
		return 0;
	case FT_PARSE_ERROR:
		return EXIT_USAGE;
	case FT_PARSE_RUN:
		break;
	}
	if (!output_files_distinct(&opts, stderr))
		return EXIT_USAGE;
	debug_init();
	status = tracer_run(&opts, &end_signal);
	if (end_signal)
		end_by_signal(end_signal);
	return status;
}
