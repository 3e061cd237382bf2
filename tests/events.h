/*
 * Constructors of struct ft_event for the unit tests of the family model
 * and the outputs.
 */
#ifndef FORKTRACE_TESTS_EVENTS_H
#define FORKTRACE_TESTS_EVENTS_H

#include <stdint.h>
#include <sys/types.h>

#include "forktrace/event.h"

static inline struct ft_event
make_event(enum ft_event_kind kind, pid_t pid, uint64_t time_ns)
{
	struct ft_event event = {
		.kind = kind, .time_ns = time_ns, .pid = pid, .tid = pid
	};

	return event;
}

static inline struct ft_event
creation_event(enum ft_event_kind kind, pid_t pid, pid_t child,
	       uint64_t time_ns)
{
	struct ft_event event = make_event(kind, pid, time_ns);

	event.child = child;
	return event;
}

static inline struct ft_event
exec_event(pid_t pid, const char *path, const char *comm, const char *args,
	   size_t args_len, uint64_t time_ns)
{
	struct ft_event event = make_event(FT_EVENT_EXEC, pid, time_ns);

	event.path = path;
	event.comm = comm;
	event.args.data = args;
	event.args.len = args_len;
	event.former_tid = pid;
	return event;
}

static inline struct ft_event
exit_event(pid_t pid, pid_t tid, int status, uint64_t time_ns)
{
	struct ft_event event = make_event(FT_EVENT_EXIT, pid, time_ns);

	event.tid = tid;
	event.thread = tid != pid;
	event.status = status;
	return event;
}

#endif
