/*
 * The JSON Lines output: one object per event, and a summary object with
 * the family tree at the end.  docs/JSON.md documents the schema.
 */
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "forktrace/hang.h"
#include "forktrace/json_fields.h"
#include "forktrace/output.h"
#include "forktrace/stacks.h"
#include "forktrace/xmalloc.h"

#define JSON_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(12))

static json_t *json_thread_snapshot(const struct ft_thread_snapshot *thread);

/* The threads of a snapshot, of process pid only unless pid is 0. */
static json_t *
json_threads(const struct ft_snapshot *snapshot, pid_t pid)
{
	json_t *threads = json_array();
	size_t i;

	for (i = 0; i < snapshot->count; i++)
		if (!pid || snapshot->threads[i].pid == pid)
			json_array_append_new(
				threads,
				json_thread_snapshot(&snapshot->threads[i]));
	return threads;
}

/* The fields of a hang report, for a hang event or a snapshot. */
static void
add_hang_fields(json_t *object, const struct ft_hang_report *report)
{
	json_add_hang_report(object, report);
	if (report->threads)
		json_object_set_new(object, "threads",
				    json_threads(report->threads, 0));
}

static void
add_event_fields(json_t *object, const struct ft_event *event,
		 const struct ft_process *process)
{
	char name[16];

	switch (event->kind) {
	case FT_EVENT_FORK:
	case FT_EVENT_VFORK:
	case FT_EVENT_THREAD:
		json_object_set_new(object, "child",
				    json_integer(event->child));
		/* A child found in /proc runs the program it runs now. */
		if (event->adopted && event->path) {
			json_object_set_new(object, "path",
					    json_untrusted_str(event->path));
			json_object_set_new(
				object, "argv",
				json_args(event->args.data, event->args.len));
		}
		break;
	case FT_EVENT_ATTACH:
	case FT_EVENT_EXEC:
		json_object_set_new(
			object, "path",
			json_untrusted_str(event->path ? event->path : ""));
		json_object_set_new(
			object, "argv",
			json_args(event->args.data, event->args.len));
		if (event->former_tid != event->pid)
			json_object_set_new(object, "former_tid",
					    json_integer(event->former_tid));
		break;
	case FT_EVENT_EXIT:
		if (event->thread)
			json_object_set_new(object, "thread", json_true());
		json_add_status(object, event->status);
		if (!event->thread)
			json_object_set_new(object, "duration",
					    json_seconds(process->end_ns -
							 process->start_ns));
		break;
	case FT_EVENT_SIGNAL:
		json_add_signal_fields(object, event);
		break;
	case FT_EVENT_STOP:
		json_object_set_new(
			object, "signal",
			json_string(signal_name(event->signo, name)));
		json_object_set_new(object, "signo",
				    json_integer(event->signo));
		break;
	case FT_EVENT_PAUSE:
		json_add_pause_fields(object, event);
		break;
	case FT_EVENT_DEBUGGER_ATTACH:
	case FT_EVENT_DEBUGGER_DETACH:
		json_object_set_new(object, "debugger",
				    json_integer(event->debugger_pid));
		if (event->debugger_comm)
			json_object_set_new(
				object, "debugger_comm",
				json_untrusted_str(event->debugger_comm));
		break;
	case FT_EVENT_RESUME:
		json_object_set_new(object, "reason",
				    json_string(event->resume_reason));
		break;
	case FT_EVENT_GAP:
		json_object_set_new(object, "since",
				    json_seconds(event->gap_start_ns));
		if (event->gap_ended)
			json_object_set_new(object, "ended", json_true());
		break;
	case FT_EVENT_HANG:
		add_hang_fields(object, event->hang);
		break;
	case FT_EVENT_CONTINUE:
	case FT_EVENT_DETACH:
		break;
	}
	if (event->other_threads)
		json_object_set_new(object, "other_threads",
				    json_threads(event->other_threads, 0));
	if (event->adopted)
		json_object_set_new(object, "adopted", json_true());
}

static json_t *
json_frame(const struct ft_frame *frame)
{
	json_t *object = json_object();
	char pc[32];

	/* A Python frame has no pc: its place is its file and line. */
	if (!frame->python) {
		snprintf(pc, sizeof(pc), "0x%llx",
			 (unsigned long long)frame->pc);
		json_object_set_new(object, "pc", json_string(pc));
	}
	if (frame->module)
		json_object_set_new(object, "module",
				    json_untrusted_str(frame->module));
	if (frame->function)
		json_object_set_new(object, "function",
				    json_untrusted_str(frame->function));
	if (!frame->python)
		json_object_set_new(object, "offset",
				    json_integer((json_int_t)frame->offset));
	if (frame->file)
		json_object_set_new(object, "file",
				    json_untrusted_str(frame->file));
	if (frame->line)
		json_object_set_new(object, "line", json_integer(frame->line));
	if (frame->python)
		json_object_set_new(object, "python", json_true());
	if (frame->inlined)
		json_object_set_new(object, "inlined", json_true());
	return object;
}

static void
add_stack(json_t *object, const struct ft_stack *stack)
{
	json_t *frames = json_array();
	size_t i;

	for (i = 0; i < stack->count; i++)
		json_array_append_new(frames, json_frame(&stack->frames[i]));
	json_object_set_new(object, "stack", frames);
	if (stack->error)
		json_object_set_new(object, "stack_error",
				    json_string(stack->error));
	if (stack->python_note)
		json_object_set_new(object, "python_note",
				    json_string(stack->python_note));
	if (stack->python_gil >= 0)
		json_object_set_new(object, "python_gil",
				    json_boolean(stack->python_gil));
	if (stack->python_thread)
		json_object_set_new(object, "python_thread",
				    json_untrusted_str(stack->python_thread));
}

static void
write_object(struct ft_output *out, json_t *object)
{
	json_dumpf(object, out->fp, JSON_FLAGS);
	fputc('\n', out->fp);
	json_decref(object);
}

static void
json_begin(struct ft_output *out)
{
	(void)out;
}

static void
json_event(struct ft_output *out, const struct ft_event *event,
	   const struct ft_process *process)
{
	json_t *object;

	if (out->opts->snapshot || !process)
		return;
	if (!output_shows_when_quiet(event, out->opts->quiet))
		return;
	object = json_object();
	json_object_set_new(object, "t", json_seconds(event->time_ns));
	json_object_set_new(object, "event",
			    json_string(event_kind_name(event->kind)));
	json_object_set_new(object, "pid", json_integer(event->pid));
	json_object_set_new(object, "tid", json_integer(event->tid));
	json_object_set_new(object, "ppid", json_integer(process->ppid));
	json_object_set_new(object, "comm",
			    json_untrusted_str(process_comm(process)));
	add_event_fields(object, event, process);
	if (event->stack)
		add_stack(object, event->stack);
	write_object(out, object);
}

static json_t *
json_program(const struct ft_program *program)
{
	json_t *object = json_object();

	json_object_set_new(object, "t", json_seconds(program->time_ns));
	json_object_set_new(object, "path", json_untrusted_str(program->path));
	json_object_set_new(object, "comm", json_untrusted_str(program->comm));
	json_object_set_new(object, "argv",
			    json_args(program->args, program->args_len));
	return object;
}

/* Adds pid, ppid, comm, and the path and argv of its program. */
static void
add_process_identity(json_t *object, const struct ft_process *process)
{
	json_object_set_new(object, "pid", json_integer(process->pid));
	json_object_set_new(object, "ppid", json_integer(process->ppid));
	json_object_set_new(object, "comm",
			    json_untrusted_str(process_comm(process)));
	if (process->program) {
		json_object_set_new(object, "path",
				    json_untrusted_str(process->program->path));
		json_object_set_new(object, "argv",
				    json_args(process->program->args,
					      process->program->args_len));
	}
}

static const char *
origin_name(enum ft_origin origin)
{
	switch (origin) {
	case FT_ORIGIN_ROOT:
		return "root";
	case FT_ORIGIN_FORK:
		return "fork";
	case FT_ORIGIN_VFORK:
		return "vfork";
	case FT_ORIGIN_ATTACHED:
		return "attached";
	}
	return "unknown";
}

static json_t *
json_thread(const struct ft_thread *thread)
{
	json_t *object = json_object();

	json_object_set_new(object, "tid", json_integer(thread->tid));
	json_object_set_new(object, "start", json_seconds(thread->start_ns));
	if (thread->ended) {
		json_object_set_new(object, "end",
				    json_seconds(thread->end_ns));
		json_add_status(object, thread->status);
	}
	return object;
}

static json_t *
json_process(const struct ft_process *process)
{
	json_t *object = json_object();
	json_t *programs = json_array(), *threads = json_array();
	json_t *children = json_array();
	const struct ft_program *program;
	const struct ft_thread *thread;
	const struct ft_process *child;

	add_process_identity(object, process);
	json_object_set_new(object, "origin",
			    json_string(origin_name(process->origin)));
	json_object_set_new(object, "start", json_seconds(process->start_ns));
	if (process->ended || process->detached)
		json_object_set_new(object, "end",
				    json_seconds(process->end_ns));
	if (process->ended)
		json_add_status(object, process->status);
	if (process->lost)
		json_object_set_new(object, "lost", json_true());
	else if (!process->ended)
		json_object_set_new(object, "detached", json_true());
	if (process->deadlocked)
		json_object_set_new(object, "deadlock_cause",
				    json_string(process->hang_cause));

	for (program = process->programs; program; program = program->next)
		json_array_append_new(programs, json_program(program));
	json_object_set_new(object, "programs", programs);
	for (thread = process->threads; thread; thread = thread->next)
		json_array_append_new(threads, json_thread(thread));
	json_object_set_new(object, "threads", threads);
	for (child = process->first_child; child; child = child->next_sibling)
		json_array_append_new(children, json_process(child));
	json_object_set_new(object, "children", children);
	return object;
}

static void
json_end(struct ft_output *out, const struct ft_family *family,
	 const struct ft_summary *summary)
{
	json_t *object, *tree;
	const struct ft_process *root;
	char name[16];

	if (out->opts->quiet > 1)
		return;
	object = json_object();
	tree = json_array();
	json_object_set_new(object, "t", json_seconds(summary->time_ns));
	json_object_set_new(object, "event", json_string("summary"));
	json_object_set_new(object, "exit_status",
			    json_integer(summary->exit_status));
	json_object_set_new(object, "processes",
			    json_integer(family_process_count(family)));
	json_object_set_new(object, "threads",
			    json_integer(family_thread_count(family)));
	if (summary->interrupt_signal)
		json_object_set_new(object, "interrupted",
				    json_string(signal_name(
					    summary->interrupt_signal, name)));
	for (root = family_roots(family); root; root = root->next_sibling)
		json_array_append_new(tree, json_process(root));
	json_object_set_new(object, "tree", tree);
	write_object(out, object);
}

static json_t *
json_thread_snapshot(const struct ft_thread_snapshot *thread)
{
	json_t *object = json_object();
	char state[2] = { thread->state, '\0' };

	json_object_set_new(object, "tid", json_integer(thread->tid));
	json_object_set_new(object, "name", json_untrusted_str(thread->name));
	json_object_set_new(object, "state", json_string(state));
	if (thread->in_syscall) {
		json_t *syscall = json_object(), *args = json_array();
		const char *name = syscall_name(thread->syscall_nr);
		char hex[24];
		int i;

		json_object_set_new(syscall, "nr",
				    json_integer(thread->syscall_nr));
		if (name)
			json_object_set_new(syscall, "name", json_string(name));
		for (i = 0; i < 6; i++) {
			snprintf(hex, sizeof(hex), "0x%llx",
				 (unsigned long long)thread->syscall_args[i]);
			json_array_append_new(args, json_string(hex));
		}
		json_object_set_new(syscall, "args", args);
		json_object_set_new(object, "syscall", syscall);
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

static json_t *
json_process_snapshot(const struct ft_process *process,
		      const struct ft_snapshot *snapshot)
{
	json_t *object = json_object(), *threads = json_array();
	json_t *children = json_array();
	const struct ft_hang_report *report;
	const struct ft_process *child;
	size_t i;

	add_process_identity(object, process);
	for (i = 0; i < snapshot->count; i++)
		if (snapshot->threads[i].pid == process->pid)
			json_array_append_new(
				threads,
				json_thread_snapshot(&snapshot->threads[i]));
	json_object_set_new(object, "threads", threads);
	report = snapshot_report(snapshot, process->pid);
	if (report) {
		json_t *hang = json_object();

		add_hang_fields(hang, report);
		json_object_set_new(object, "hang", hang);
	}
	for (child = process->first_child; child; child = child->next_sibling)
		if (!child->ended && !child->detached)
			json_array_append_new(
				children,
				json_process_snapshot(child, snapshot));
	json_object_set_new(object, "children", children);
	return object;
}

static void
json_snapshot(struct ft_output *out, const struct ft_family *family,
	      const struct ft_snapshot *snapshot)
{
	json_t *object = json_object(), *tree = json_array();
	const struct ft_process *root;

	json_object_set_new(object, "t", json_seconds(snapshot->time_ns));
	json_object_set_new(object, "event", json_string("snapshot"));
	json_object_set_new(object, "processes",
			    json_integer(family_live_process_count(family)));
	json_object_set_new(object, "threads",
			    json_integer((json_int_t)snapshot->count));
	for (root = family_roots(family); root; root = root->next_sibling)
		if (!root->ended && !root->detached)
			json_array_append_new(
				tree, json_process_snapshot(root, snapshot));
	json_object_set_new(object, "tree", tree);
	write_object(out, object);
}

static void
json_free(struct ft_output *out)
{
	free(out);
}

static const struct ft_output_ops json_ops = {
	.begin = json_begin,
	.event = json_event,
	.end = json_end,
	.snapshot = json_snapshot,
	.free = json_free,
};

struct ft_output *
output_json_new(void)
{
	struct ft_output *out = xcalloc(1, sizeof(*out));

	out->ops = &json_ops;
	return out;
}
