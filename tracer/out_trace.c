/*
 * The timeline as a Chrome trace: the JSON object form of the Trace Event
 * Format, which Perfetto UI and chrome://tracing open.  docs/TRACE.md
 * describes the events.
 *
 * An event that points to memory of its caller (a stack, a signal, a hang
 * report) is rendered to JSON text when it comes, and the text is kept.
 * The slices of programs and threads are made at the end from the family
 * model, which keeps every record until then, and the whole file is
 * written at the end.  A regular file contains an empty trace from begin() on,
 * so that it parses even when forktrace dies before the end.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "forktrace/error.h"
#include "forktrace/escape.h"
#include "forktrace/hang.h"
#include "forktrace/json_fields.h"
#include "forktrace/output.h"
#include "forktrace/stacks.h"
#include "forktrace/strbuf.h"
#include "forktrace/xmalloc.h"

/* Enough digits for a time in microseconds with nanoseconds. */
#define TRACE_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(15))

#define EMPTY_TRACE "{\"traceEvents\":[]}\n"

/* Bytes of tracks to render before writing them */
#define TRACKS_CHUNK (64 * 1024)

enum span_kind {
	SPAN_PAUSED, /* handed over to a debugger, until taken back */
	SPAN_DEBUGGER, /* a debugger attached, until it detached */
};

/* A slice that a later event ends: a pause or a debugger's visit. */
struct span {
	const struct ft_process *process;
	enum span_kind kind;
	uint64_t start_ns;
	uint64_t end_ns;
	bool closed;
	json_t *args;
};

/* A thread that vfork() suspended until its child execs or ends. */
struct vfork_wait {
	const struct ft_process *child;
	pid_t pid;
	pid_t tid;
};

/* A program slice of a process: one per program it ran. */
struct segment {
	uint64_t start_ns;
	uint64_t end_ns;
	const struct ft_program *program; /* NULL when none is known */
	bool inherited; /* the parent's program, before any exec */
};

struct trace_output {
	struct ft_output base;
	/* Rendered events, each after ",\n" */
	struct strbuf events; /* from the events of the run */
	struct strbuf tracks; /* made at the end, not yet written */
	struct strbuf *target; /* where keep_event() adds */
	struct span *spans;
	size_t span_count;
	size_t span_capacity;
	struct vfork_wait *vfork_waits;
	size_t vfork_wait_count;
	size_t vfork_wait_capacity;
	json_int_t last_flow_id;
	bool written; /* the file was started over with the whole trace */
	bool listed; /* an event was written: the next needs its "," */
	bool write_failed;
};

static json_t *
json_microseconds(uint64_t ns)
{
	return json_real((double)ns / 1000.0);
}

/*
 * Returns a name for display: a viewer shows names as they are, and
 * needs strings, so control characters and invalid UTF-8 bytes are
 * escaped.  The exact bytes go into the event's args.
 */
static json_t *
json_display_name(const char *s)
{
	struct strbuf sb = STRBUF_INIT;
	json_t *name;

	escape_for_terminal(&sb, s, strlen(s));
	name = json_stringn(sb.buf ? sb.buf : "", sb.len);
	strbuf_release(&sb);
	return name;
}

static json_t *
new_event(const char *name, const char *cat, const char *ph, uint64_t time_ns,
	  pid_t pid, pid_t tid)
{
	json_t *event = json_pack("{s:s}", "name", name);

	if (cat)
		json_object_set_new(event, "cat", json_string(cat));
	json_object_set_new(event, "ph", json_string(ph));
	json_object_set_new(event, "ts", json_microseconds(time_ns));
	json_object_set_new(event, "pid", json_integer(pid));
	json_object_set_new(event, "tid", json_integer(tid));
	return event;
}

/* Returns an instant event on the thread's track. */
static json_t *
new_instant(const char *name, const char *cat, const struct ft_event *event)
{
	json_t *instant = new_event(name, cat, "i", event->time_ns, event->pid,
				    event->tid);

	json_object_set_new(instant, "s", json_string("t"));
	return instant;
}

static void write_events(struct trace_output *trace, struct strbuf *events);

/* Renders an event to text, keeps it and releases it. */
static void
keep_event(struct trace_output *trace, json_t *event, json_t *args)
{
	char *text;

	if (args)
		json_object_set_new(event, "args", args);
	text = json_dumps(event, TRACE_FLAGS);
	json_decref(event);
	if (!text)
		return;
	strbuf_add(trace->target, ",\n", 2);
	strbuf_addstr(trace->target, text);
	free(text);
	/* The tracks are written as they are made, in pieces. */
	if (trace->target == &trace->tracks &&
	    trace->tracks.len >= TRACKS_CHUNK)
		write_events(trace, &trace->tracks);
}

static void
add_raw(struct strbuf *sb, const char *s, size_t len)
{
	strbuf_add(sb, s, len);
}

/* Adds a stack as lines "function (file:line)", innermost first. */
static void
add_stack(json_t *args, const struct ft_stack *stack)
{
	json_t *frames = json_array();
	struct strbuf sb = STRBUF_INIT;
	size_t i;

	for (i = 0; i < stack->count; i++) {
		strbuf_reset(&sb);
		stack_frame_text(&sb, &stack->frames[i], add_raw);
		json_array_append_new(frames, json_untrusted(sb.buf, sb.len));
	}
	strbuf_release(&sb);
	json_object_set_new(args, "stack", frames);
	if (stack->error)
		json_object_set_new(args, "stack_error",
				    json_string(stack->error));
	if (stack->python_note)
		json_object_set_new(args, "python_note",
				    json_string(stack->python_note));
	if (stack->python_thread)
		json_object_set_new(args, "python_thread",
				    json_untrusted_str(stack->python_thread));
}

static json_t *
json_thread_state(const struct ft_thread_snapshot *thread)
{
	json_t *object = json_object();
	char state[2] = { thread->state, '\0' };

	json_object_set_new(object, "tid", json_integer(thread->tid));
	json_object_set_new(object, "name", json_untrusted_str(thread->name));
	json_object_set_new(object, "state", json_string(state));
	if (thread->in_syscall) {
		const char *name = syscall_name(thread->syscall_nr);

		json_object_set_new(object, "syscall",
				    name ? json_string(name)
					 : json_integer(thread->syscall_nr));
	}
	if (thread->wchan[0])
		json_object_set_new(object, "wchan",
				    json_string(thread->wchan));
	json_object_set_new(object, "cpu", json_real(thread->cpu_seconds));
	if (thread->stack)
		add_stack(object, thread->stack);
	if (thread->no_stack)
		json_object_set_new(object, "stack_skipped",
				    json_string(thread->no_stack));
	return object;
}

/*
 * Adds a fork, vfork or thread creation: a slice of no length on the
 * creating thread, and a flow from it to the new track.  The flow's end
 * binds to the enclosing slice, the child's first, which starts at the
 * same time.
 */
static void
add_creation(struct trace_output *trace, const struct ft_event *event)
{
	const char *name = event_kind_name(event->kind);
	pid_t child_pid =
		event->kind == FT_EVENT_THREAD ? event->pid : event->child;
	json_int_t id = ++trace->last_flow_id;
	json_t *args = json_object(), *slice, *flow;

	json_object_set_new(args, "child", json_integer(event->child));
	if (event->adopted)
		json_object_set_new(args, "adopted", json_true());
	if (event->other_threads)
		json_object_set_new(
			args, "other_threads",
			json_integer((json_int_t)event->other_threads->count));
	if (event->stack)
		add_stack(args, event->stack);
	slice = new_event(name, "fork", "X", event->time_ns, event->pid,
			  event->tid);
	json_object_set_new(slice, "dur", json_real(0));
	keep_event(trace, slice, args);

	flow = new_event(name, "fork", "s", event->time_ns, event->pid,
			 event->tid);
	json_object_set_new(flow, "id", json_integer(id));
	keep_event(trace, flow, NULL);
	flow = new_event(name, "fork", "f", event->time_ns, child_pid,
			 event->child);
	json_object_set_new(flow, "id", json_integer(id));
	json_object_set_new(flow, "bp", json_string("e"));
	keep_event(trace, flow, NULL);
}

/*
 * Records the caller and the child of a vfork.  At the end, the child's
 * first exec or its end gives the length of the caller's wait.
 */
static void
keep_vfork_wait(struct trace_output *trace, const struct ft_event *event,
		const struct ft_process *process)
{
	const struct ft_process *child = process->last_child;
	struct vfork_wait *wait;

	/* The model has just added the child as the last one. */
	if (!child || child->pid != event->child)
		return;
	if (trace->vfork_wait_count == trace->vfork_wait_capacity)
		trace->vfork_waits =
			xgrow(trace->vfork_waits, &trace->vfork_wait_capacity,
			      sizeof(*trace->vfork_waits));
	wait = &trace->vfork_waits[trace->vfork_wait_count++];
	wait->child = child;
	wait->pid = event->pid;
	wait->tid = event->tid;
}

static void
add_hang(struct trace_output *trace, const struct ft_event *event)
{
	const struct ft_hang_report *report = event->hang;
	json_t *args = json_object(), *threads = json_array();
	size_t i;

	json_add_hang_report(args, report);
	for (i = 0; report->threads && i < report->threads->count; i++)
		json_array_append_new(
			threads,
			json_thread_state(&report->threads->threads[i]));
	json_object_set_new(args, "threads", threads);
	keep_event(trace,
		   new_instant(report->deadlock ? "deadlock" : "hang", "hang",
			       event),
		   args);
}

static void
open_span(struct trace_output *trace, const struct ft_process *process,
	  enum span_kind kind, uint64_t time_ns, json_t *args)
{
	struct span *span;

	if (trace->span_count == trace->span_capacity)
		trace->spans = xgrow(trace->spans, &trace->span_capacity,
				     sizeof(*trace->spans));
	span = &trace->spans[trace->span_count++];
	memset(span, 0, sizeof(*span));
	span->process = process;
	span->kind = kind;
	span->start_ns = time_ns;
	span->args = args;
}

/* Ends the last open span of this kind of the process; returns it or NULL. */
static struct span *
close_span(struct trace_output *trace, const struct ft_process *process,
	   enum span_kind kind, uint64_t time_ns)
{
	size_t i;

	for (i = trace->span_count; i > 0; i--) {
		struct span *span = &trace->spans[i - 1];

		if (span->process == process && span->kind == kind &&
		    !span->closed) {
			span->closed = true;
			span->end_ns = time_ns;
			return span;
		}
	}
	return NULL;
}

static void
add_pause_event(struct trace_output *trace, const struct ft_event *event,
		const struct ft_process *process)
{
	json_t *args = json_object();
	struct span *span;

	switch (event->kind) {
	case FT_EVENT_PAUSE:
		json_add_pause_fields(args, event);
		open_span(trace, process, SPAN_PAUSED, event->time_ns, args);
		return;
	case FT_EVENT_DEBUGGER_ATTACH:
		json_object_set_new(args, "debugger",
				    json_integer(event->debugger_pid));
		if (event->debugger_comm)
			json_object_set_new(
				args, "debugger_comm",
				json_untrusted_str(event->debugger_comm));
		open_span(trace, process, SPAN_DEBUGGER, event->time_ns, args);
		return;
	case FT_EVENT_DEBUGGER_DETACH:
		close_span(trace, process, SPAN_DEBUGGER, event->time_ns);
		break;
	case FT_EVENT_RESUME:
		close_span(trace, process, SPAN_DEBUGGER, event->time_ns);
		span = close_span(trace, process, SPAN_PAUSED, event->time_ns);
		if (span && event->resume_reason)
			json_object_set_new(span->args, "resume_reason",
					    json_string(event->resume_reason));
		break;
	default:
		break;
	}
	json_decref(args);
}

/* Returns the instant for an event that neither a slice nor a span shows. */
static json_t *
new_event_instant(const struct ft_event *event, json_t *args)
{
	char name[16];

	switch (event->kind) {
	case FT_EVENT_EXIT:
		json_add_status(args, event->status);
		return new_instant(event->thread ? "thread exit" : "exit",
				   "exit", event);
	case FT_EVENT_SIGNAL:
		json_add_signal_fields(args, event);
		return new_instant(signal_name(event->signo, name), "signal",
				   event);
	case FT_EVENT_STOP:
		json_object_set_new(
			args, "signal",
			json_string(signal_name(event->signo, name)));
		return new_instant("stop", "signal", event);
	case FT_EVENT_CONTINUE:
		return new_instant("continue", "signal", event);
	case FT_EVENT_DETACH:
		return new_instant("detach", "tracer", event);
	case FT_EVENT_ATTACH:
		return new_instant("attach", "tracer", event);
	case FT_EVENT_GAP:
		json_object_set_new(args, "since",
				    json_seconds(event->gap_start_ns));
		if (event->gap_ended)
			json_object_set_new(args, "ended", json_true());
		return new_instant("gap", "tracer", event);
	default:
		return NULL;
	}
}

static void
trace_event(struct ft_output *out, const struct ft_event *event,
	    const struct ft_process *process)
{
	struct trace_output *trace = (struct trace_output *)out;
	json_t *args, *instant;

	if (!process)
		return;
	switch (event->kind) {
	case FT_EVENT_VFORK:
		keep_vfork_wait(trace, event, process);
		add_creation(trace, event);
		return;
	case FT_EVENT_FORK:
	case FT_EVENT_THREAD:
		add_creation(trace, event);
		return;
	case FT_EVENT_HANG:
		add_hang(trace, event);
		return;
	case FT_EVENT_PAUSE:
	case FT_EVENT_DEBUGGER_ATTACH:
	case FT_EVENT_DEBUGGER_DETACH:
	case FT_EVENT_RESUME:
		add_pause_event(trace, event, process);
		return;
	case FT_EVENT_EXEC:
		/* The program slices, made at the end, show it. */
		return;
	default:
		break;
	}
	args = json_object();
	instant = new_event_instant(event, args);
	if (!instant) {
		json_decref(args);
		return;
	}
	if (event->stack)
		add_stack(args, event->stack);
	keep_event(trace, instant, args);
}

static void
trace_snapshot(struct ft_output *out, const struct ft_family *family,
	       const struct ft_snapshot *snapshot)
{
	struct trace_output *trace = (struct trace_output *)out;
	size_t i;

	(void)family;
	for (i = 0; i < snapshot->count; i++) {
		const struct ft_thread_snapshot *thread = &snapshot->threads[i];
		json_t *instant =
			new_event("snapshot", "snapshot", "i",
				  snapshot->time_ns, thread->pid, thread->tid);

		json_object_set_new(instant, "s", json_string("t"));
		keep_event(trace, instant, json_thread_state(thread));
	}
}

/* --- The tracks of the family, at the end ------------------------------ */

/*
 * Returns the program that process ran at time_ns: its own, or the one it
 * inherited at the fork, looked up in its ancestors.
 */
static const struct ft_program *
program_at(const struct ft_process *process, uint64_t time_ns)
{
	const struct ft_program *program, *found = NULL;

	for (; process && !found; process = process->parent) {
		for (program = process->programs; program;
		     program = program->next)
			if (program->time_ns <= time_ns)
				found = program;
		time_ns = process->start_ns;
	}
	return found;
}

/* Returns when the process's last slice ends. */
static uint64_t
process_end_ns(const struct ft_process *process, uint64_t summary_ns)
{
	uint64_t end_ns = summary_ns;

	if (process->ended || process->lost)
		end_ns = process->end_ns;
	return end_ns > process->start_ns ? end_ns : process->start_ns;
}

/* Returns how the process's last program ended, as the trace names it. */
static const char *
process_state(const struct ft_process *process)
{
	if (process->ended)
		return WIFEXITED(process->status) ? "exited" : "killed";
	if (process->lost)
		return "lost";
	if (process->detached)
		return "detached";
	return "running";
}

/*
 * Fills segments (room for one more than the process's programs) with the
 * process's program slices; returns their count.
 */
static size_t
collect_segments(const struct ft_process *process, uint64_t end_ns,
		 struct segment *segments)
{
	const struct ft_program *program = process->programs;
	size_t count = 0, i;

	/* A forked child runs its parent's program until it execs. */
	if (!program || program->time_ns > process->start_ns) {
		const struct ft_program *inherited =
			process->parent
				? program_at(process->parent, process->start_ns)
				: NULL;

		if (inherited || !program) {
			segments[count].start_ns = process->start_ns;
			segments[count].program = inherited;
			segments[count].inherited = inherited != NULL;
			count++;
		}
	}
	for (; program; program = program->next) {
		segments[count].start_ns = program->time_ns;
		segments[count].program = program;
		segments[count].inherited = false;
		count++;
	}
	for (i = 0; i < count; i++) {
		uint64_t next =
			i + 1 < count ? segments[i + 1].start_ns : end_ns;

		if (next < segments[i].start_ns)
			next = segments[i].start_ns;
		if (segments[i].start_ns > end_ns)
			segments[i].start_ns = end_ns;
		segments[i].end_ns = next > end_ns ? end_ns : next;
	}
	return count;
}

static const char *
slice_name(const struct ft_program *program, const struct ft_process *process)
{
	if (program && program->comm[0])
		return program->comm;
	if (program && program->path[0]) {
		const char *slash = strrchr(program->path, '/');

		return slash ? slash + 1 : program->path;
	}
	return process_comm(process);
}

static void
add_metadata(struct trace_output *trace, const char *name, pid_t pid, pid_t tid,
	     const char *key, json_t *value)
{
	json_t *event = new_event(name, NULL, "M", 0, pid, tid);
	json_t *args = json_object();

	json_object_set_new(args, key, value);
	keep_event(trace, event, args);
}

/* Adds a complete event from start_ns to end_ns. */
static void
add_slice(struct trace_output *trace, json_t *name, const char *cat, pid_t pid,
	  pid_t tid, uint64_t start_ns, uint64_t end_ns, json_t *args)
{
	json_t *slice = new_event("", cat, "X", start_ns, pid, tid);

	json_object_set_new(slice, "name", name);
	json_object_set_new(slice, "dur", json_microseconds(end_ns - start_ns));
	keep_event(trace, slice, args);
}

static void
add_program_slice(struct trace_output *trace, const struct ft_process *process,
		  const struct segment *segment, bool last)
{
	const struct ft_program *program = segment->program;
	json_t *args = json_object();

	if (program) {
		json_object_set_new(args, "path",
				    json_untrusted_str(program->path));
		json_object_set_new(args, "comm",
				    json_untrusted_str(program->comm));
		json_object_set_new(
			args, "argv",
			json_args(program->args, program->args_len));
	}
	if (segment->inherited)
		json_object_set_new(args, "inherited", json_true());
	json_object_set_new(
		args, "ended",
		json_string(last ? process_state(process) : "exec"));
	if (last && process->ended)
		json_add_status(args, process->status);
	if (last && process->detached && !process->lost)
		json_object_set_new(args, "detached_at",
				    json_seconds(process->end_ns));
	add_slice(trace, json_display_name(slice_name(program, process)),
		  "program", process->pid, process->pid, segment->start_ns,
		  segment->end_ns, args);
}

static void
add_thread_track(struct trace_output *trace, const struct ft_process *process,
		 const struct ft_thread *thread, unsigned sort_index,
		 uint64_t end_ns)
{
	const char *comm = process_comm(process);
	json_t *args = json_object();
	uint64_t start_ns = thread->start_ns;

	if (thread->ended)
		end_ns = thread->end_ns;
	if (end_ns < start_ns)
		end_ns = start_ns;
	add_metadata(trace, "thread_name", process->pid, thread->tid, "name",
		     json_display_name(comm));
	add_metadata(trace, "thread_sort_index", process->pid, thread->tid,
		     "sort_index", json_integer(sort_index));
	json_object_set_new(args, "tid", json_integer(thread->tid));
	json_object_set_new(
		args, "ended",
		json_string(thread->ended ? "exited" : process_state(process)));
	if (thread->ended)
		json_add_status(args, thread->status);
	add_slice(trace, json_display_name(comm), "thread", process->pid,
		  thread->tid, start_ns, end_ns, args);
}

/* Returns the end of the slice that contains time_ns, as a limit. */
static uint64_t
enclosing_end(const struct segment *segments, size_t count, uint64_t time_ns)
{
	size_t i;

	for (i = count; i > 0; i--)
		if (segments[i - 1].start_ns <= time_ns)
			return segments[i - 1].end_ns;
	return count ? segments[0].end_ns : time_ns;
}

/*
 * Adds the process's pauses and debugger visits as slices inside its
 * program slice.  Each is cut to the slice that encloses its start, and a
 * visit to its pause, because a viewer needs slices on a track to nest.
 */
static void
add_spans(struct trace_output *trace, const struct ft_process *process,
	  const struct segment *segments, size_t count, uint64_t end_ns)
{
	uint64_t pause_end = 0;
	size_t i;

	for (i = 0; i < trace->span_count; i++) {
		struct span *span = &trace->spans[i];
		uint64_t start = span->start_ns, stop;

		if (span->process != process)
			continue;
		stop = span->closed ? span->end_ns : end_ns;
		if (start < process->start_ns)
			start = process->start_ns;
		if (stop > enclosing_end(segments, count, start))
			stop = enclosing_end(segments, count, start);
		if (span->kind == SPAN_PAUSED)
			pause_end = stop;
		else if (start <= pause_end && stop > pause_end)
			stop = pause_end;
		if (stop < start)
			stop = start;
		if (!span->closed)
			json_object_set_new(
				span->args, "ended",
				json_string(process_state(process)));
		add_slice(trace,
			  json_string(span->kind == SPAN_PAUSED ? "paused"
								: "debugger"),
			  "pause", process->pid, process->pid, start, stop,
			  span->args);
		span->args = NULL;
	}
}

static unsigned
program_count(const struct ft_process *process)
{
	const struct ft_program *program;
	unsigned count = 0;

	for (program = process->programs; program; program = program->next)
		count++;
	return count;
}

/*
 * Adds the tracks of a process and of its descendants, depth first.
 * NOTE: members whose pids are the same, because the kernel reused one,
 * share a track in a viewer, which shows the name of the last of them.
 */
static void
add_process_tree(struct trace_output *trace, const struct ft_process *process,
		 uint64_t summary_ns, unsigned *sort_index)
{
	uint64_t end_ns = process_end_ns(process, summary_ns);
	struct segment *segments =
		xcalloc(program_count(process) + 1, sizeof(*segments));
	size_t count = collect_segments(process, end_ns, segments), i;
	const struct ft_thread *thread;
	const struct ft_process *child;
	unsigned thread_index = 1;

	add_metadata(trace, "process_name", process->pid, process->pid, "name",
		     json_display_name(process_comm(process)));
	add_metadata(trace, "process_sort_index", process->pid, process->pid,
		     "sort_index", json_integer((*sort_index)++));
	add_metadata(trace, "thread_name", process->pid, process->pid, "name",
		     json_display_name(process_comm(process)));
	if (process->threads)
		add_metadata(trace, "thread_sort_index", process->pid,
			     process->pid, "sort_index", json_integer(0));
	for (i = 0; i < count; i++)
		add_program_slice(trace, process, &segments[i], i + 1 == count);
	for (thread = process->threads; thread; thread = thread->next)
		add_thread_track(trace, process, thread, thread_index++,
				 end_ns);
	add_spans(trace, process, segments, count, end_ns);
	free(segments);

	for (child = process->first_child; child; child = child->next_sibling)
		add_process_tree(trace, child, summary_ns, sort_index);
}

/*
 * Adds the slices of the threads that vfork() suspended: from the vfork
 * to the child's first exec, or to its end.
 */
static void
add_vfork_waits(struct trace_output *trace, uint64_t summary_ns)
{
	size_t i;

	for (i = 0; i < trace->vfork_wait_count; i++) {
		const struct vfork_wait *wait = &trace->vfork_waits[i];
		const struct ft_process *child = wait->child;
		uint64_t end_ns = process_end_ns(child, summary_ns);
		const char *released_by;
		uint64_t parent_end_ns =
			process_end_ns(child->parent, summary_ns);
		json_t *args = json_object();

		if (child->programs && child->programs->time_ns < end_ns)
			end_ns = child->programs->time_ns;
		released_by = child->programs ? "exec" : process_state(child);
		/* A parent killed while it waits ends the wait. */
		if (end_ns > parent_end_ns) {
			end_ns = parent_end_ns;
			released_by = "parent ended";
		}
		json_object_set_new(args, "child", json_integer(child->pid));
		json_object_set_new(args, "released_by",
				    json_string(released_by));
		add_slice(trace, json_string("vfork wait"), "fork", wait->pid,
			  wait->tid, child->start_ns, end_ns, args);
	}
}

/* --- Writing the file ------------------------------------------------- */

static void
report_write_error(struct trace_output *trace)
{
	const char *path = trace->base.opts->trace_path;

	if (!trace->write_failed)
		perror_msg("cannot write '%s'",
			   message_text(path ? path : "--trace"));
	trace->write_failed = true;
}

static bool
write_all(struct trace_output *trace, const char *data, size_t len)
{
	int fd = fileno(trace->base.fp);

	while (len > 0 && !trace->write_failed) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			report_write_error(trace);
			return false;
		}
		data += n;
		len -= (size_t)n;
	}
	return !trace->write_failed;
}

static bool
is_regular_file(FILE *fp)
{
	struct stat st;

	return fstat(fileno(fp), &st) == 0 && S_ISREG(st.st_mode);
}

static json_t *
json_other_data(const struct ft_output *out, const struct ft_family *family,
		const struct ft_summary *summary)
{
	json_t *other = json_object();
	struct tm tm;
	char start[64];
	char name[16];

	json_object_set_new(other, "forktrace", json_string(FORKTRACE_VERSION));
	gmtime_r(&out->start_wall.tv_sec, &tm);
	strftime(start, 32, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(start + strlen(start), sizeof(start) - strlen(start),
		 ".%06ldZ", out->start_wall.tv_nsec / 1000);
	json_object_set_new(other, "start", json_string(start));
	if (!summary) {
		json_object_set_new(other, "complete", json_false());
		return other;
	}
	json_object_set_new(other, "processes",
			    json_integer(family_process_count(family)));
	json_object_set_new(other, "threads",
			    json_integer(family_thread_count(family)));
	json_object_set_new(other, "exit_status",
			    json_integer(summary->exit_status));
	if (summary->interrupt_signal)
		json_object_set_new(other, "interrupted",
				    json_string(signal_name(
					    summary->interrupt_signal, name)));
	return other;
}

/* Starts the file over: its old text, the empty trace, goes. */
static void
start_file(struct trace_output *trace)
{
	static const char head[] = "{\"traceEvents\":[";
	int fd = fileno(trace->base.fp);

	trace->written = true;
	if (is_regular_file(trace->base.fp) &&
	    (ftruncate(fd, 0) < 0 || lseek(fd, 0, SEEK_SET) < 0))
		report_write_error(trace);
	write_all(trace, head, strlen(head));
}

/* Writes rendered events; the first of the file loses its ",". */
static void
write_events(struct trace_output *trace, struct strbuf *events)
{
	size_t skip = trace->listed || !events->len ? 0 : 1;

	write_all(trace, events->buf + skip, events->len - skip);
	trace->listed = trace->listed || events->len;
	strbuf_reset(events);
}

/* Ends the list of events and the file. */
static void
finish_file(struct trace_output *trace, const struct ft_family *family,
	    const struct ft_summary *summary)
{
	static const char tail[] = "\n],\n\"displayTimeUnit\":\"ms\",\n"
				   "\"otherData\":";
	json_t *other = json_other_data(&trace->base, family, summary);
	char *other_text = json_dumps(other, TRACE_FLAGS);

	json_decref(other);
	if (write_all(trace, tail, strlen(tail)) &&
	    write_all(trace, other_text, strlen(other_text)))
		write_all(trace, "}\n", 2);
	free(other_text);
}

static void
trace_begin(struct ft_output *out)
{
	struct trace_output *trace = (struct trace_output *)out;

	if (is_regular_file(out->fp))
		write_all(trace, EMPTY_TRACE, strlen(EMPTY_TRACE));
}

/*
 * Writes the tracks, made from the family as they are written, and then
 * the events.  The tracks go first, so that a viewer that reads events
 * with equal times in the file's order has each slice before a flow
 * binds to it.
 */
static void
trace_end(struct ft_output *out, const struct ft_family *family,
	  const struct ft_summary *summary)
{
	struct trace_output *trace = (struct trace_output *)out;
	const struct ft_process *root;
	unsigned sort_index = 1;

	start_file(trace);
	trace->target = &trace->tracks;
	for (root = family_roots(family); root; root = root->next_sibling)
		add_process_tree(trace, root, summary->time_ns, &sort_index);
	add_vfork_waits(trace, summary->time_ns);
	write_events(trace, &trace->tracks);
	write_events(trace, &trace->events);
	finish_file(trace, family, summary);
}

static void
trace_free(struct ft_output *out)
{
	struct trace_output *trace = (struct trace_output *)out;
	size_t i;

	/* forktrace ended before the trace did: keep what there is. */
	if (!trace->written) {
		start_file(trace);
		write_events(trace, &trace->events);
		finish_file(trace, NULL, NULL);
	}
	for (i = 0; i < trace->span_count; i++)
		json_decref(trace->spans[i].args);
	free(trace->spans);
	free(trace->vfork_waits);
	strbuf_release(&trace->tracks);
	strbuf_release(&trace->events);
	free(trace);
}

static const struct ft_output_ops trace_ops = {
	.begin = trace_begin,
	.event = trace_event,
	.end = trace_end,
	.snapshot = trace_snapshot,
	.free = trace_free,
};

struct ft_output *
output_trace_new(void)
{
	struct trace_output *trace = xcalloc(1, sizeof(*trace));

	trace->base.ops = &trace_ops;
	trace->target = &trace->events;
	return &trace->base;
}
