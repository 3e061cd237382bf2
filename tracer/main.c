/* forktrace: follow a process family under ptrace. */
#include <stdio.h>
#include <stdlib.h>

#include "forktrace/error.h"
#include "forktrace/options.h"
#include "forktrace/output.h"
#include "forktrace/tracer.h"

int
main(int argc, char **argv)
{
	struct ft_options opts;

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
	return tracer_run(&opts);
}
