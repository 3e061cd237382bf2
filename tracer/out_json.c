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

#include "forktrace/escape.h"
#include "forktrace/handoff.h"
#include "forktrace/hang.h"
#include "forktrace/output.h"
#include "forktrace/stacks.h"
#include "forktrace/xmalloc.h"

#define JSON_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(12))

/* Seconds since the start, rounded to the microsecond. */
static json_t *
json_seconds(uint64_t ns)
{
	return json_real((double)((ns + 500) / 1000) / 1e6);
}

/*
 * Encodes a string from the traced family without loss: a JSON string when
 * it is valid UTF-8, otherwise {"hex": "..."} with every byte in hex.
 */
static json_t *
json_untrusted(const char *s, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	json_t *object;
	char *hex;
	size_t i;

	if (utf8_is_valid(s, len))
		return json_stringn(s, len);

	hex = xmalloc(2 * len + 1);
	for (i = 0; i < len; i++) {
		hex[2 * i] = digits[(unsigned char)s[i] >> 4];
		hex[2 * i + 1] = digits[(unsigned char)s[i] & 15];
	}
	hex[2 * len] = '\0';
	object = json_pack("{s:s}", "hex", hex);
	free(hex);
	return object;
}

static json_t *
json_untrusted_str(const char *s)
{
	return json_untrusted(s, strlen(s));
}

static json_t *
json_args(const char *args, size_t len)
{
	json_t *array = json_array();
	size_t i = 0;

	while (i < len) {
		size_t n = strnlen(args + i, len - i);

		json_array_append_new(array, json_untrusted(args + i, n));
		i += n + 1;
	}
	return array;
}

/* Adds exit_code, or signal and core_dumped, for a wait status. */
static void
add_status(json_t *object, int status)
{
	char name[16];

	if (WIFEXITED(status)) {
		json_object_set_new(object, "exit_code",
				    json_integer(WEXITSTATUS(status)));
		return;
	}
	json_object_set_new(object, "signal",
			    json_string(signal_name(WTERMSIG(status), name)));
	json_object_set_new(object, "core_dumped",
			    json_boolean(WCOREDUMP(status)));
}

static void
add_signal_fields(json_t *object, const struct ft_event *event)
{
	const char *code = signal_code_name(event->signo, event->si_code);
	char name[16], addr[32];

	json_object_set_new(object, "signal",
			    json_string(signal_name(event->signo, name)));
	json_object_set_new(object, "signo", json_integer(event->signo));
	if (code)
		json_object_set_new(object, "code", json_string(code));
	if (event->has_sender) {
		json_object_set_new(object, "sender",
				    json_integer(event->sender_pid));
		json_object_set_new(object, "sender_uid",
				    json_integer(event->sender_uid));
	}
	if (event->has_addr) {
		snprintf(addr, sizeof(addr), "0x%llx",
			 (unsigned long long)event->fault_addr);
		json_object_set_new(object, "addr", json_string(addr));
	}
}

static void
add_pause_fields(json_t *object, const struct ft_event *event)
{
	char command[128];

	json_object_set_new(object, "at", json_string(event->pause_point));
	if (event->pause_note)
		json_object_set_new(object, "note",
				    json_string(event->pause_note));
	handoff_gdb_command(event->pid, command, sizeof(command));
	json_object_set_new(object, "attach_command", json_string(command));
	snprintf(command, sizeof(command), "kill -CONT %d", (int)event->pid);
	json_object_set_new(object, "resume_command", json_string(command));
}

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

static json_t *
json_hex(uint64_t value)
{
	char hex[24];

	snprintf(hex, sizeof(hex), "0x%llx", (unsigned long long)value);
	return json_string(hex);
}

static json_t *
json_pids(const pid_t *pids, size_t count)
{
	json_t *array = json_array();
	size_t i;

	for (i = 0; i < count; i++)
		json_array_append_new(array, json_integer(pids[i]));
	return array;
}

/* What the report's thread waits on, as an object. */
static json_t *
json_wait(const struct ft_hang_report *report)
{
	const struct ft_wait *wait = &report->wait;
	json_t *object = json_object(), *fds;
	unsigned i;

	json_object_set_new(object, "kind",
			    json_string(wait_kind_name(wait->kind)));
	json_object_set_new(object, "timed", json_boolean(wait->timed));
	switch (wait->kind) {
	case FT_WAIT_FUTEX:
		json_object_set_new(object, "address",
				    json_hex(wait->futex_addr));
		json_object_set_new(object, "shared",
				    json_boolean(wait->futex_shared));
		if (wait->futex_mutex)
			json_object_set_new(object, "mutex_owner",
					    json_integer(wait->futex_owner));
		break;
	case FT_WAIT_CHILD:
		json_object_set_new(object, "child", json_integer(wait->child));
		break;
	case FT_WAIT_READ:
	case FT_WAIT_WRITE:
	case FT_WAIT_ACCEPT:
	case FT_WAIT_POLL:
		fds = json_array();
		for (i = 0; i < wait->fd_count; i++)
			json_array_append_new(fds, json_integer(wait->fds[i]));
		json_object_set_new(object, "fds", fds);
		if (report->wait_file[0])
			json_object_set_new(
				object, "file",
				json_untrusted_str(report->wait_file));
		break;
	default:
		break;
	}
	return object;
}

/* The fields of a hang report, for a hang event or a snapshot. */
static void
add_hang_fields(json_t *object, const struct ft_hang_report *report)
{
	json_t *evidence = json_array();
	size_t i;

	json_object_set_new(object, "deadlock", json_boolean(report->deadlock));
	json_object_set_new(object, "cause",
			    json_string(hang_cause_name(report->cause)));
	json_object_set_new(object, "message",
			    json_untrusted_str(report->message));
	if (report->blocked_ns)
		json_object_set_new(object, "blocked_for",
				    json_seconds(report->blocked_ns));
	json_object_set_new(object, "thread", json_integer(report->tid));
	json_object_set_new(object, "waits_on", json_wait(report));
	for (i = 0; i < report->evidence_count; i++)
		json_array_append_new(evidence,
				      json_untrusted_str(report->evidence[i]));
	json_object_set_new(object, "evidence", evidence);
	json_object_set_new(object, "related",
			    json_pids(report->related, report->related_count));
	if (report->owner_tid)
		json_object_set_new(object, "owner",
				    json_integer(report->owner_tid));
	if (report->peer_pid) {
		json_t *peer = json_object();

		json_object_set_new(peer, "pid",
				    json_integer(report->peer_pid));
		add_status(peer, report->peer_status);
		json_object_set_new(peer, "end",
				    json_seconds(report->peer_end_ns));
		json_object_set_new(object, "peer", peer);
	}
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
		add_status(object, event->status);
		if (!event->thread)
			json_object_set_new(object, "duration",
					    json_seconds(process->end_ns -
							 process->start_ns));
		break;
	case FT_EVENT_SIGNAL:
		add_signal_fields(object, event);
		break;
	case FT_EVENT_STOP:
		json_object_set_new(
			object, "signal",
			json_string(signal_name(event->signo, name)));
		json_object_set_new(object, "signo",
				    json_integer(event->signo));
		break;
	case FT_EVENT_PAUSE:
		add_pause_fields(object, event);
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
	/* A hang report speaks under -q too, as a warning would. */
	if (out->opts->quiet &&
	    (event->kind != FT_EVENT_HANG || out->opts->quiet > 1))
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
		add_status(object, thread->status);
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
		add_status(object, process->status);
	else if (process->lost)
		json_object_set_new(object, "lost", json_true());
	else
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
