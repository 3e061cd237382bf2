/*
 * The text output: a live timeline, one line per event, and the family
 * tree at the end.  Every string from the traced family is escaped.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "forktrace/escape.h"
#include "forktrace/handoff.h"
#include "forktrace/hang.h"
#include "forktrace/output.h"
#include "forktrace/stacks.h"
#include "forktrace/xmalloc.h"

/* Columns of indentation per generation, and the deepest one drawn. */
#define INDENT_WIDTH	 2
#define INDENT_MAX_DEPTH 12
/* Columns of an argument vector in the timeline and in the tree. */
#define TIMELINE_ARGS_WIDTH 200
#define TREE_NAME_COLUMN    46
#define TREE_LIFETIME_WIDTH 8 /* strlen("LIFETIME") */
/* Frames of a stack shown in the timeline, unless -v shows them all. */
#define TIMELINE_MAX_FRAMES 8

#define COLOR_RED    "\033[31m"
#define COLOR_YELLOW "\033[33m"
#define COLOR_BOLD   "\033[1m"
#define COLOR_RESET  "\033[0m"

struct text_output {
	struct ft_output base;
	struct strbuf line;
};

static void
add_colored(const struct ft_output *out, struct strbuf *sb, const char *color,
	    const char *text)
{
	bool colored = out->color && *color;

	if (colored)
		strbuf_addstr(sb, color);
	strbuf_addstr(sb, text);
	if (colored)
		strbuf_addstr(sb, COLOR_RESET);
}

/* Appends value in decimal, without printf: a line has several numbers. */
static void
add_unsigned(struct strbuf *sb, unsigned long long value)
{
	char digits[24];
	size_t at = sizeof(digits);

	do {
		digits[--at] = (char)('0' + value % 10);
		value /= 10;
	} while (value);
	strbuf_add(sb, digits + at, sizeof(digits) - at);
}

static void
add_int(struct strbuf *sb, int value)
{
	if (value < 0) {
		strbuf_addch(sb, '-');
		add_unsigned(sb, -(unsigned long long)value);
	} else {
		add_unsigned(sb, (unsigned long long)value);
	}
}

/*
 * Appends ns nanoseconds in units of step * 10^decimals nanoseconds, with
 * decimals digits after the point and right-aligned in width columns: the
 * same text as printf's "%*.*f" of the quotient as a double.  Integer
 * rounding agrees with printf's except at an exact half, where the double's
 * own rounding error decides, so printf formats those and very large values.
 */
static void
add_fixed(struct strbuf *sb, uint64_t ns, uint64_t step, unsigned decimals,
	  int width)
{
	uint64_t units = ns / step, rem = ns % step, scale = 1;
	char text[48];
	size_t len = 0, at;
	unsigned i;

	for (i = 0; i < decimals; i++)
		scale *= 10;
	if (rem * 2 == step || ns >= (1ull << 52)) {
		strbuf_addf(sb, "%*.*f", width, (int)decimals,
			    (double)ns / (double)(step * scale));
		return;
	}
	if (rem * 2 > step)
		units++;
	for (i = 0; i < decimals; i++, units /= 10)
		text[sizeof(text) - 1 - len++] = (char)('0' + units % 10);
	text[sizeof(text) - 1 - len++] = '.';
	do {
		text[sizeof(text) - 1 - len++] = (char)('0' + units % 10);
		units /= 10;
	} while (units);
	at = sizeof(text) - len;
	if ((int)len < width)
		strbuf_pad(sb, (size_t)width - len);
	strbuf_add(sb, text + at, len);
}

static void
add_time(const struct ft_output *out, struct strbuf *sb, uint64_t time_ns)
{
	if (out->opts->wall_clock) {
		uint64_t ns = (uint64_t)out->start_wall.tv_nsec + time_ns;
		time_t sec =
			out->start_wall.tv_sec + (time_t)(ns / 1000000000u);
		struct tm tm;

		localtime_r(&sec, &tm);
		strbuf_addf(sb, "%02d:%02d:%02d.%06lu", tm.tm_hour, tm.tm_min,
			    tm.tm_sec,
			    (unsigned long)(ns % 1000000000u / 1000u));
	} else {
		add_fixed(sb, time_ns, 1000u, 6, 10);
	}
}

static void
add_duration(struct strbuf *sb, uint64_t ns)
{
	if (ns < 1000000000u) {
		add_fixed(sb, ns, 100000u, 1, 0);
		strbuf_addstr(sb, "ms");
	} else {
		add_fixed(sb, ns, 1000000u, 3, 0);
		strbuf_addch(sb, 's');
	}
}

/*
 * Appends a tree row's lifetime, right-aligned under LIFETIME so that the
 * ends line up.  As in ps, a dash stands for a lifetime that is not known.
 */
static void
add_lifetime(struct strbuf *sb, bool known, uint64_t ns)
{
	size_t start = sb->len, len, pad;

	if (known)
		add_duration(sb, ns);
	else
		strbuf_addch(sb, '-');
	len = sb->len - start;
	if (len >= TREE_LIFETIME_WIDTH)
		return;
	pad = TREE_LIFETIME_WIDTH - len;
	strbuf_pad(sb, pad);
	memmove(sb->buf + start + pad, sb->buf + start, len);
	memset(sb->buf + start, ' ', pad);
}

/* Appends how a thread or process ended: "exit 3", "killed by SIGSEGV". */
static void
add_end(const struct ft_output *out, struct strbuf *sb, int status)
{
	char name[16], text[64];

	if (WIFEXITED(status)) {
		bool colored = out->color && WEXITSTATUS(status);

		if (colored)
			strbuf_addstr(sb, COLOR_RED);
		strbuf_addstr(sb, "exit ");
		add_int(sb, WEXITSTATUS(status));
		if (colored)
			strbuf_addstr(sb, COLOR_RESET);
		return;
	}
	snprintf(text, sizeof(text), "killed by %s%s",
		 signal_name(WTERMSIG(status), name),
		 WCOREDUMP(status) ? " (core dumped)" : "");
	add_colored(out, sb, COLOR_RED, text);
}

static void
add_signal(const struct ft_output *out, struct strbuf *sb,
	   const struct ft_event *event)
{
	const char *code = signal_code_name(event->signo, event->si_code);
	char name[16];

	strbuf_addstr(sb, "signal ");
	add_colored(out, sb, COLOR_YELLOW, signal_name(event->signo, name));
	/* A signal to forktrace that it passed on to the program */
	if (event->has_sender && event->sender_pid == getpid()) {
		strbuf_addstr(sb, " passed on by forktrace");
	} else if (event->has_sender) {
		strbuf_addstr(sb, " from ");
		add_int(sb, (int)event->sender_pid);
		strbuf_addstr(sb, " (uid ");
		add_unsigned(sb, event->sender_uid);
		strbuf_addch(sb, ')');
	} else if (code)
		strbuf_addf(sb, " (%s)", code);
	if (event->has_addr)
		strbuf_addf(sb, " at 0x%llx",
			    (unsigned long long)event->fault_addr);
}

/* Appends the hand-over line: who is paused, and how to go on. */
static void
add_pause(const struct ft_output *out, struct strbuf *sb,
	  const struct ft_event *event, const struct ft_process *process)
{
	char command[128];
	const char *parent_comm =
		process->parent ? process_comm(process->parent) : "?";

	add_colored(out, sb, COLOR_YELLOW, "paused");
	strbuf_addf(sb, " after %s, child of %d (", event->pause_point,
		    (int)process->ppid);
	escape_for_terminal(sb, parent_comm, strlen(parent_comm));
	strbuf_addstr(sb, ")");
	if (event->pause_note)
		strbuf_addf(sb, " (%s)", event->pause_note);
	handoff_gdb_command(event->pid, command, sizeof(command));
	strbuf_addf(sb, ": attach with %s, or resume with kill -CONT %d",
		    command, (int)event->pid);
}

static void
add_event_text(const struct ft_output *out, struct strbuf *sb,
	       const struct ft_event *event, const struct ft_process *process)
{
	char name[16];

	switch (event->kind) {
	case FT_EVENT_FORK:
	case FT_EVENT_VFORK:
	case FT_EVENT_THREAD:
		strbuf_addstr(sb, event_kind_name(event->kind));
		strbuf_addch(sb, ' ');
		add_int(sb, (int)event->child);
		if (event->found_ended)
			strbuf_addstr(sb, " (found ended)");
		else if (event->adopted)
			strbuf_addstr(sb, " (found running)");
		break;
	case FT_EVENT_ATTACH:
	case FT_EVENT_EXEC:
		add_colored(out, sb, COLOR_BOLD,
			    event->kind == FT_EVENT_EXEC ? "exec "
							 : "attached ");
		escape_for_terminal(sb, event->path ? event->path : "?",
				    event->path ? strlen(event->path) : 1);
		strbuf_addstr(sb, ": ");
		escape_args(sb, event->args.data, event->args.len,
			    out->opts->verbose ? 0 : TIMELINE_ARGS_WIDTH);
		if (event->former_tid != event->pid)
			strbuf_addf(sb, " (called by thread %d)",
				    (int)event->former_tid);
		break;
	case FT_EVENT_EXIT:
		if (event->thread)
			strbuf_addstr(sb, "thread ");
		add_end(out, sb, event->status);
		if (!event->thread) {
			strbuf_addstr(sb, " after ");
			add_duration(sb, process->end_ns - process->start_ns);
		}
		break;
	case FT_EVENT_SIGNAL:
		add_signal(out, sb, event);
		break;
	case FT_EVENT_STOP:
		strbuf_addf(sb, "stopped by %s",
			    signal_name(event->signo, name));
		break;
	case FT_EVENT_CONTINUE:
		strbuf_addstr(sb, "continued");
		break;
	case FT_EVENT_DETACH:
		strbuf_addstr(sb, process->stopped ? "detached, still stopped"
						   : "detached, still running");
		break;
	case FT_EVENT_PAUSE:
		add_pause(out, sb, event, process);
		break;
	case FT_EVENT_DEBUGGER_ATTACH:
		strbuf_addf(sb, "debugger %d (", (int)event->debugger_pid);
		escape_for_terminal(sb, event->debugger_comm,
				    strlen(event->debugger_comm));
		strbuf_addstr(sb, ") attached");
		break;
	case FT_EVENT_DEBUGGER_DETACH:
		strbuf_addf(sb, "debugger %d detached",
			    (int)event->debugger_pid);
		break;
	case FT_EVENT_RESUME:
		strbuf_addf(sb, "taken back and resumed (%s)",
			    event->resume_reason);
		break;
	case FT_EVENT_HANG:
		add_colored(out, sb,
			    event->hang->deadlock ? COLOR_RED : COLOR_BOLD,
			    "hang");
		strbuf_addstr(sb, ": ");
		escape_for_terminal(sb, event->hang->message,
				    strlen(event->hang->message));
		break;
	case FT_EVENT_GAP:
		strbuf_addstr(sb, "not traced for ");
		add_duration(sb, event->time_ns - event->gap_start_ns);
		if (event->gap_ended)
			strbuf_addstr(sb, ", and ended then");
		break;
	}
}

static void
add_indent(struct strbuf *sb, unsigned depth)
{
	if (depth > INDENT_MAX_DEPTH) {
		strbuf_pad(sb, INDENT_WIDTH * INDENT_MAX_DEPTH - 4);
		strbuf_addf(sb, "+%-3u", depth);
		return;
	}
	strbuf_pad(sb, INDENT_WIDTH * depth);
}

/* Returns true when a frame from first to before end is a Python frame. */
static bool
has_python_before(const struct ft_stack *stack, size_t first, size_t end)
{
	size_t i;

	for (i = first; i < end; i++)
		if (stack->frames[i].python)
			return true;
	return false;
}

/*
 * Appends the stack under an event line, innermost first.  Unless -v is
 * given, the C library's innermost frames are folded into the outermost
 * of them, the call that the program made, native frames outer to the
 * first Python frame are left out, and the stack is cut short.
 */
static void
add_stack(const struct ft_output *out, struct strbuf *sb,
	  const struct ft_stack *stack, size_t indent)
{
	bool verbose = out->opts->verbose > 0;
	size_t first = 0, last = stack->count, shown = 0, i;

	if (!verbose) {
		size_t libc = stack_libc_prefix(stack);

		if (libc > 1)
			first = libc - 1;
		last = stack->count - stack_startup_suffix(stack);
		/* A stack of the C library alone: show where it stopped. */
		if (last <= first) {
			first = 0;
			last = stack->count ? 1 : 0;
		}
	}
	for (i = first; i < last; i++) {
		/* Past the first Python frame, the interpreter's are noise. */
		if (!verbose && !stack->frames[i].python && i > first &&
		    has_python_before(stack, first, i))
			continue;
		if (!verbose && shown == TIMELINE_MAX_FRAMES) {
			strbuf_pad(sb, indent);
			strbuf_addf(sb, "... %zu more frame%s\n", last - i,
				    last - i == 1 ? "" : "s");
			break;
		}
		strbuf_pad(sb, indent);
		strbuf_addstr(sb, "at ");
		stack_frame_text(sb, &stack->frames[i], escape_for_terminal);
		strbuf_addch(sb, '\n');
		shown++;
	}
	if (stack->error && (verbose || !stack->count)) {
		strbuf_pad(sb, indent);
		strbuf_addf(sb, "(the unwind stopped: %s)\n", stack->error);
	}
	if (stack->python_note) {
		strbuf_pad(sb, indent);
		strbuf_addf(sb, "(%s)\n", stack->python_note);
	}
}

static void add_thread_snapshot(const struct ft_output *out, struct strbuf *sb,
				const struct ft_thread_snapshot *thread,
				size_t indent);

/* Warns that a fork's child lacks its parent's other threads. */
static void
add_other_threads(const struct ft_output *out, struct strbuf *sb,
		  const struct ft_event *event, size_t indent)
{
	const struct ft_snapshot *threads = event->other_threads;
	size_t i;

	strbuf_pad(sb, indent);
	add_colored(out, sb, COLOR_BOLD, "warning");
	strbuf_addf(sb, ": %d gets only the thread that called fork(); ",
		    (int)event->child);
	if (threads->count == 1)
		strbuf_addstr(sb, "any lock that this other thread holds stays "
				  "locked in it:\n");
	else
		strbuf_addf(sb,
			    "any lock that these %zu other threads hold stays "
			    "locked in it:\n",
			    threads->count);
	for (i = 0; i < threads->count; i++)
		add_thread_snapshot(out, sb, &threads->threads[i],
				    indent + INDENT_WIDTH);
}

/* Appends a hang report's evidence and, when given, its threads. */
static void
add_hang_details(const struct ft_output *out, struct strbuf *sb,
		 const struct ft_hang_report *report,
		 const struct ft_snapshot *threads, size_t indent)
{
	size_t i;

	/* Measured from the first sample that saw the threads blocked. */
	if (report->blocked_ns) {
		strbuf_pad(sb, indent);
		strbuf_addf(sb, "all threads blocked for at least %.1fs\n",
			    (double)report->blocked_ns / 1e9);
	}
	for (i = 0; i < report->evidence_count; i++) {
		strbuf_pad(sb, indent);
		escape_for_terminal(sb, report->evidence[i],
				    strlen(report->evidence[i]));
		strbuf_addch(sb, '\n');
	}
	for (i = 0; threads && i < threads->count; i++)
		add_thread_snapshot(out, sb, &threads->threads[i], indent);
}

static void
text_begin(struct ft_output *out)
{
	(void)out;
}

static void
text_event(struct ft_output *base, const struct ft_event *event,
	   const struct ft_process *process)
{
	struct text_output *out = (struct text_output *)base;
	struct strbuf *sb = &out->line;
	size_t time_width;
	const char *comm;

	/* Under --snapshot, the snapshot is the whole output. */
	if (base->opts->snapshot || !process)
		return;
	if (!output_shows_when_quiet(event, base->opts->quiet))
		return;
	/* A zombie found in /proc has ended already, as its fork line shows. */
	if (event->kind == FT_EVENT_GAP && process->found_ended)
		return;
	/* Every child's end sends one, and the exit line reports it already. */
	if (event->kind == FT_EVENT_SIGNAL && event->signo == SIGCHLD &&
	    !base->opts->verbose)
		return;

	strbuf_reset(sb);
	add_time(base, sb, event->time_ns);
	strbuf_addch(sb, ' ');
	/* The lines below the event's indent from the end of its time. */
	time_width = sb->len;
	add_indent(sb, process->depth);
	add_int(sb, (int)event->pid);
	if (event->tid != event->pid) {
		strbuf_addch(sb, '/');
		add_int(sb, (int)event->tid);
	}
	strbuf_addch(sb, ' ');
	comm = process_comm(process);
	escape_for_terminal(sb, comm, strlen(comm));
	strbuf_addstr(sb, ": ");
	add_event_text(base, sb, event, process);
	strbuf_addch(sb, '\n');
	if (event->stack)
		add_stack(base, sb, event->stack,
			  time_width + INDENT_WIDTH * (process->depth + 2));
	if (event->other_threads)
		add_other_threads(base, sb, event,
				  time_width +
					  INDENT_WIDTH * (process->depth + 1));
	if (event->kind == FT_EVENT_HANG)
		add_hang_details(base, sb, event->hang, event->hang->threads,
				 time_width +
					 INDENT_WIDTH * (process->depth + 1));
	fwrite(sb->buf, 1, sb->len, base->fp);
}

/*
 * Appends the words that name a process's program in the tree: its argv,
 * with argv[0] cut to its base name, in at most width columns (0: any).
 */
static void
add_program_name(struct strbuf *sb, const struct ft_process *process,
		 size_t width)
{
	const struct ft_program *program = process->last_program;
	const char *comm = process_comm(process);
	const char *args, *slash;
	size_t len, first;

	if (!program || program->args_len <= 1) {
		escape_for_terminal(sb, comm, strlen(comm));
		return;
	}
	args = program->args;
	len = program->args_len;
	first = strnlen(args, len);
	slash = memrchr(args, '/', first);
	if (slash && (size_t)(slash - args) + 1 < first) {
		len -= (size_t)(slash + 1 - args);
		args = slash + 1;
	}
	escape_args(sb, args, len, width);
}

static void
add_thread_rows(const struct ft_output *out, struct strbuf *sb,
		const struct ft_process *process, const char *prefix)
{
	const struct ft_thread *thread;
	size_t start;

	for (thread = process->threads; thread; thread = thread->next) {
		start = sb->len;
		strbuf_addf(sb, "%s  thread %d", prefix, (int)thread->tid);
		if (sb->len - start < TREE_NAME_COLUMN)
			strbuf_pad(sb, TREE_NAME_COLUMN - (sb->len - start));
		strbuf_addch(sb, ' ');
		add_fixed(sb, thread->start_ns, 1000000u, 3, 9);
		strbuf_addstr(sb, "s ");
		add_lifetime(sb, thread->ended,
			     thread->end_ns - thread->start_ns);
		strbuf_addch(sb, ' ');
		if (thread->ended)
			add_end(out, sb, thread->status);
		else
			strbuf_addstr(sb, "still running");
		strbuf_addch(sb, '\n');
	}
}

/* Appends one process's row, then its children's, depth first. */
static void
add_tree_rows(const struct ft_output *out, struct strbuf *sb,
	      const struct ft_process *process, struct strbuf *prefix,
	      bool last, bool root)
{
	const struct ft_process *child;
	size_t start = sb->len, prefix_len = prefix->len, used;
	uint64_t end_ns;

	strbuf_addstr(sb, strbuf_str(prefix));
	if (!root)
		strbuf_addstr(sb, last ? "`-- " : "|-- ");
	strbuf_addf(sb, "%d ", (int)process->pid);
	if (out->opts->verbose)
		add_program_name(sb, process, 0);
	else if (sb->len - start + 12 < TREE_NAME_COLUMN)
		add_program_name(sb, process,
				 TREE_NAME_COLUMN - (sb->len - start) - 1);
	else
		add_program_name(sb, process, 12);
	/* Padded by columns: a name may hold wide or multibyte characters. */
	used = text_columns(sb->buf + start, sb->len - start);
	if (used < TREE_NAME_COLUMN)
		strbuf_pad(sb, TREE_NAME_COLUMN - used);

	end_ns = process->end_ns;
	strbuf_addch(sb, ' ');
	add_fixed(sb, process->start_ns, 1000000u, 3, 9);
	strbuf_addstr(sb, "s ");
	add_lifetime(sb,
		     (process->ended || process->detached) &&
			     !process->found_ended,
		     end_ns - process->start_ns);
	strbuf_addch(sb, ' ');
	if (process->ended) {
		add_end(out, sb, process->status);
		if (process->ended_untraced)
			strbuf_addstr(sb, ", not traced at its end");
	} else if (process->lost)
		add_colored(out, sb, COLOR_YELLOW, "ended while not traced");
	else if (process->paused)
		add_colored(out, sb, COLOR_YELLOW, "still paused");
	else
		add_colored(out, sb, COLOR_YELLOW, "still running");
	if (process->thread_count)
		strbuf_addf(sb, ", %u thread%s", process->thread_count,
			    process->thread_count == 1 ? "" : "s");
	if (process->deadlocked) {
		strbuf_addstr(sb, ", ");
		add_colored(out, sb, COLOR_RED, "deadlocked");
		strbuf_addf(sb, " (%s)", process->hang_cause);
	}
	strbuf_addch(sb, '\n');

	if (!root)
		strbuf_addstr(prefix, last ? "    " : "|   ");
	if (out->opts->verbose)
		add_thread_rows(out, sb, process, strbuf_str(prefix));
	for (child = process->first_child; child; child = child->next_sibling)
		add_tree_rows(out, sb, child, prefix, !child->next_sibling,
			      false);
	prefix->len = prefix_len;
	if (prefix->buf)
		prefix->buf[prefix_len] = '\0';
}

static void
add_still_running(struct strbuf *sb, const struct ft_process *process,
		  unsigned *count)
{
	const struct ft_process *child;

	if (process->detached && !process->ended && !process->lost) {
		const char *comm = process_comm(process);

		strbuf_addstr(sb, *count ? ", " : "");
		strbuf_addf(sb, "%d (", (int)process->pid);
		escape_for_terminal(sb, comm, strlen(comm));
		strbuf_addch(sb, ')');
		(*count)++;
	}
	for (child = process->first_child; child; child = child->next_sibling)
		add_still_running(sb, child, count);
}

static void
text_end(struct ft_output *base, const struct ft_family *family,
	 const struct ft_summary *summary)
{
	struct text_output *out = (struct text_output *)base;
	struct strbuf prefix = STRBUF_INIT, running = STRBUF_INIT;
	struct strbuf *sb = &out->line;
	const struct ft_process *root;
	unsigned threads = family_thread_count(family), count = 0;

	if (base->opts->quiet > 1)
		return;

	strbuf_reset(sb);
	/* A blank line parts the tree from a timeline above it. */
	if (!base->opts->quiet)
		strbuf_addch(sb, '\n');
	strbuf_addf(sb, "family of %u process%s", family_process_count(family),
		    family_process_count(family) == 1 ? "" : "es");
	if (threads)
		strbuf_addf(sb, " and %u thread%s", threads,
			    threads == 1 ? "" : "s");
	strbuf_addf(sb, " in %.3fs:\n", (double)summary->time_ns / 1e9);
	strbuf_addstr(sb, "PID PROGRAM");
	strbuf_pad(sb, TREE_NAME_COLUMN - 11);
	strbuf_addstr(sb, "     START LIFETIME END\n");
	for (root = family_roots(family); root; root = root->next_sibling)
		add_tree_rows(base, sb, root, &prefix, true, true);

	for (root = family_roots(family); root; root = root->next_sibling)
		add_still_running(&running, root, &count);
	if (count)
		strbuf_addf(sb, "still running after forktrace let go: %s\n",
			    strbuf_str(&running));
	fwrite(sb->buf, 1, sb->len, base->fp);
	strbuf_release(&prefix);
	strbuf_release(&running);
}

static void
add_thread_snapshot(const struct ft_output *out, struct strbuf *sb,
		    const struct ft_thread_snapshot *thread, size_t indent)
{
	const char *name;

	strbuf_pad(sb, indent);
	strbuf_addf(sb, "thread %d ", (int)thread->tid);
	escape_for_terminal(sb, thread->name, strlen(thread->name));
	if (thread->stack && thread->stack->python_thread) {
		strbuf_addstr(sb, " (Python thread ");
		escape_for_terminal(sb, thread->stack->python_thread,
				    strlen(thread->stack->python_thread));
		strbuf_addch(sb, ')');
	}
	strbuf_addf(sb, " %c", thread->state);
	if (thread->in_syscall) {
		int i;

		name = syscall_name(thread->syscall_nr);
		if (name)
			strbuf_addf(sb, " in %s(", name);
		else
			strbuf_addf(sb, " in syscall %ld(", thread->syscall_nr);
		for (i = 0; i < 6; i++)
			strbuf_addf(
				sb, "%s0x%llx", i ? ", " : "",
				(unsigned long long)thread->syscall_args[i]);
		strbuf_addch(sb, ')');
	}
	if (thread->wchan[0]) {
		strbuf_addstr(sb, " wchan ");
		escape_for_terminal(sb, thread->wchan, strlen(thread->wchan));
	}
	strbuf_addf(sb, " cpu %.3fs", thread->cpu_seconds);
	if (thread->stack && thread->stack->python_gil == 1)
		strbuf_addstr(sb, " holds the GIL");
	strbuf_addch(sb, '\n');
	if (thread->stack)
		add_stack(out, sb, thread->stack, indent + 4);
	if (thread->no_stack) {
		strbuf_pad(sb, indent + 4);
		strbuf_addf(sb, "(no stack: %s)\n", thread->no_stack);
	}
}

/* Appends a process of the snapshot with its threads, then its children. */
static void
add_process_snapshot(const struct ft_output *out, struct strbuf *sb,
		     const struct ft_process *process,
		     const struct ft_snapshot *snapshot)
{
	const struct ft_thread_snapshot *thread;
	const struct ft_hang_report *report;
	const struct ft_process *child;
	size_t indent = INDENT_WIDTH * process->depth, i;

	if (!process->ended && !process->detached) {
		strbuf_pad(sb, indent);
		strbuf_addf(sb, "%d ", (int)process->pid);
		add_program_name(sb, process, 0);
		strbuf_addch(sb, '\n');
		report = snapshot_report(snapshot, process->pid);
		if (report) {
			/* The message starts with "deadlocked:" or "waiting:".
			 */
			strbuf_pad(sb, indent + INDENT_WIDTH);
			if (report->deadlock && out->color)
				strbuf_addstr(sb, COLOR_RED);
			escape_for_terminal(sb, report->message,
					    strlen(report->message));
			if (report->deadlock && out->color)
				strbuf_addstr(sb, COLOR_RESET);
			strbuf_addch(sb, '\n');
			add_hang_details(out, sb, report, NULL,
					 indent + INDENT_WIDTH);
		}
		for (i = 0; i < snapshot->count; i++) {
			thread = &snapshot->threads[i];
			if (thread->pid == process->pid)
				add_thread_snapshot(out, sb, thread,
						    indent + INDENT_WIDTH);
		}
	}
	for (child = process->first_child; child; child = child->next_sibling)
		add_process_snapshot(out, sb, child, snapshot);
}

static void
text_snapshot(struct ft_output *base, const struct ft_family *family,
	      const struct ft_snapshot *snapshot)
{
	struct text_output *out = (struct text_output *)base;
	struct strbuf *sb = &out->line;
	const struct ft_process *root;

	strbuf_reset(sb);
	strbuf_addf(sb, "snapshot at %.3fs of %u live process%s:\n",
		    (double)snapshot->time_ns / 1e9,
		    family_live_process_count(family),
		    family_live_process_count(family) == 1 ? "" : "es");
	for (root = family_roots(family); root; root = root->next_sibling)
		add_process_snapshot(base, sb, root, snapshot);
	fwrite(sb->buf, 1, sb->len, base->fp);
}

static void
text_free(struct ft_output *base)
{
	struct text_output *out = (struct text_output *)base;

	strbuf_release(&out->line);
	free(out);
}

static const struct ft_output_ops text_ops = {
	.begin = text_begin,
	.event = text_event,
	.end = text_end,
	.snapshot = text_snapshot,
	.free = text_free,
};

struct ft_output *
output_text_new(void)
{
	struct text_output *out = xcalloc(1, sizeof(*out));

	out->base.ops = &text_ops;
	return &out->base;
}
