/*
 * Attaching to running processes: their threads, and their descendants
 * as /proc lists them.
 *
 * A seized process reports its new children and threads itself.  One
 * created before the seize is found only in /proc, so forktrace lists the
 * threads and children of every member again, until a pass finds none
 * that it does not trace.  A child that the kernel attached on its own (it was
 * forked after its parent's seize) is already traced by forktrace and is
 * left to its parent's fork event.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "forktrace/error.h"
#include "forktrace/handoff.h"
#include "forktrace/escape.h"
#include "forktrace/loop.h"
#include "forktrace/procfs.h"
#include "forktrace/seize.h"
#include "forktrace/xmalloc.h"

/* Passes over the family that attach_family() makes at the most. */
#define RESCAN_PASSES_MAX 100

/* Returns true when forktrace itself traces tid already. */
static bool
traced_by_us(pid_t tid)
{
	long tracer = 0;

	return procfs_read_status_field(tid, "TracerPid", &tracer) == 0 &&
	       tracer == getpid();
}

/*
 * Seizes the threads of pid that forktrace does not trace yet.  Returns
 * the number seized; a failure is reported in why, when given, or as a
 * message.
 */
static unsigned
seize_new_threads(struct tracer *t, pid_t pid, char *why, size_t why_size)
{
	unsigned long options = seize_options(t->opts->kill_on_exit);
	char path[64], reason[256];
	struct dirent *entry;
	unsigned count = 0;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	dir = opendir(path);
	if (!dir) {
		if (why)
			snprintf(why, why_size, "no such process");
		return 0;
	}
	while ((entry = readdir(dir))) {
		pid_t tid = (pid_t)atoi(entry->d_name);

		if (tid <= 0 || pidmap_get(&t->tasks, tid))
			continue;
		if (seize_thread(tid, options, reason, sizeof(reason)) < 0) {
			/* Ours already, or ending: neither is an error. */
			if (traced_by_us(tid) ||
			    !strcmp(reason, "it is exiting"))
				continue;
			if (why)
				snprintf(why, why_size, "%s", reason);
			else
				error_msg("cannot attach to thread %d of pid "
					  "%d: %s",
					  (int)tid, (int)pid, reason);
			continue;
		}
		tracer_add_task(t, tid, pid, 0);
		count++;
	}
	closedir(dir);
	return count;
}

/*
 * Adds to the family the traced threads of pid that it does not know:
 * threads that were running before forktrace seized them.
 */
static void
announce_threads(struct tracer *t, pid_t pid)
{
	char path[64];
	struct dirent *entry;
	DIR *dir;

	if (!family_process(t->family, pid))
		return;
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	dir = opendir(path);
	if (!dir)
		return;
	while ((entry = readdir(dir))) {
		pid_t tid = (pid_t)atoi(entry->d_name);
		struct ft_event event = { .kind = FT_EVENT_THREAD,
					  .pid = pid,
					  .tid = pid,
					  .child = tid,
					  .adopted = true };

		if (tid <= 0 || tid == pid || !pidmap_get(&t->tasks, tid) ||
		    family_thread_process(t->family, tid))
			continue;
		tracer_emit(t, &event);
	}
	closedir(dir);
}

unsigned
attach_threads(struct tracer *t, pid_t pid)
{
	unsigned count = seize_new_threads(t, pid, NULL, 0);

	if (count)
		announce_threads(t, pid);
	return count;
}

/* Adopts one child found in /proc; returns true when it was new. */
static bool
adopt_child(struct tracer *t, pid_t parent, pid_t child)
{
	struct ft_event event = { .kind = FT_EVENT_FORK,
				  .pid = parent,
				  .tid = parent,
				  .adopted = true };
	struct procfs_program program = { 0 };

	/* forktrace itself is no member, even under a process it follows. */
	if (child == getpid() || family_process(t->family, child) ||
	    pidmap_get(&t->tasks, child))
		return false;
	if (!attach_threads(t, child)) {
		struct ft_event gap = { .kind = FT_EVENT_GAP,
					.pid = child,
					.tid = child,
					.gap_ended = true };
		struct handoff_state state;

		/*
		 * It ended out of sight: record it as such, unless it is
		 * the zombie of a member that ended under the trace.
		 */
		if (handoff_read_state(child, &state) < 0 || !state.gone ||
		    family_find_any(t->family, child))
			return false;
		gap.gap_start_ns = tracer_now(t);
		gap.gap_status_known =
			procfs_read_exit_code(child, &gap.status) == 0;
		procfs_read_program(child, &program);
		event_set_program(&event, &program);
		event.found_ended = true;
		event.child = child;
		event.former_tid = child;
		tracer_emit(t, &event);
		procfs_program_free(&program);
		tracer_emit(t, &gap);
		return false;
	}
	procfs_read_program(child, &program);
	event_set_program(&event, &program);
	event.child = child;
	event.former_tid = child;
	tracer_emit(t, &event);
	procfs_program_free(&program);
	announce_threads(t, child);
	return true;
}

/*
 * Adopts the children of every thread of pid that forktrace does not
 * follow yet, and theirs in turn.  Returns the number adopted.
 */
static unsigned
adopt_children(struct tracer *t, pid_t pid)
{
	char path[96], *text, *p;
	struct dirent *entry;
	unsigned count = 0;
	size_t len;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	dir = opendir(path);
	if (!dir)
		return 0;
	while ((entry = readdir(dir))) {
		int tid = atoi(entry->d_name);

		if (tid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%d/children",
			 (int)pid, tid);
		if (procfs_read_file(path, &text, &len) < 0)
			continue;
		for (p = text; *p;) {
			char *end;
			long child = strtol(p, &end, 10);

			if (end == p)
				break;
			p = end;
			if (child > 0 && adopt_child(t, pid, (pid_t)child)) {
				count++;
				count += adopt_children(t, (pid_t)child);
			}
		}
		free(text);
	}
	closedir(dir);
	return count;
}

struct live_thread {
	pid_t tgid;
	pid_t tid; /* a seized thread of tgid other than its leader, or 0 */
};

static void
find_live_thread(pid_t tid, void *value, void *data)
{
	const struct task *task = value;
	struct live_thread *found = data;

	if (!found->tid && task->tgid == found->tgid && tid != task->tgid)
		found->tid = tid;
}

/*
 * Reads the program of process pid, whose leader has exited, through one
 * of its live threads: /proc/TID shows the process's exe and cmdline as
 * /proc/PID no longer does.  comm is the leader's, as for any process.
 */
static void
read_program_of_thread(struct tracer *t, pid_t pid,
		       struct procfs_program *program)
{
	struct live_thread found = { pid, 0 };

	pidmap_each(&t->tasks, find_live_thread, &found);
	procfs_read_program(found.tid ? found.tid : pid, program);
	procfs_read_comm(pid, program->comm);
}

/* Seizes one requested process; returns false after reporting why not. */
static bool
attach_one(struct tracer *t, pid_t pid)
{
	struct ft_event event = { .kind = FT_EVENT_ATTACH,
				  .pid = pid,
				  .tid = pid };
	struct procfs_program program = { 0 };
	struct ft_process *root;
	char why[256] = "no such process";
	long tgid = pid, ppid = 0;
	bool seized = false;

	if (procfs_read_status_field(pid, "Tgid", &tgid) == 0 && tgid != pid) {
		/* A thread id: follow its whole process. */
		pid = (pid_t)tgid;
		event.pid = event.tid = pid;
	}
	if (family_process(t->family, pid))
		return true; /* asked twice, or a descendant of another */
	if (pid == getpid())
		snprintf(why, sizeof(why), "it is forktrace itself");
	else
		seized = seize_new_threads(t, pid, why, sizeof(why));
	/* A zombie cannot be seized, and ESRCH would call it missing. */
	if (!seized && procfs_is_zombie(pid))
		snprintf(why, sizeof(why),
			 "it has exited, and its parent has not reaped it "
			 "yet (a zombie)");
	if (!seized) {
		char comm[16] = "";
		struct strbuf name = STRBUF_INIT;

		if (procfs_read_comm(pid, comm) == 0 && comm[0]) {
			strbuf_addstr(&name, " (");
			escape_for_terminal(&name, comm, strlen(comm));
			strbuf_addch(&name, ')');
		}
		error_msg("cannot attach to pid %d%s: %s", (int)pid,
			  strbuf_str(&name), why);
		strbuf_release(&name);
		return false;
	}
	procfs_read_status_field(pid, "PPid", &ppid);
	root = family_add_root(t->family, pid, FT_ORIGIN_ATTACHED,
			       tracer_now(t));
	root->ppid = (pid_t)ppid;
	if (procfs_is_zombie(pid)) {
		/* Its exe and cmdline are gone with the leader's memory. */
		pidmap_put(&t->leaderless, pid, (void *)1);
		read_program_of_thread(t, pid, &program);
	} else {
		procfs_read_program(pid, &program);
	}
	event_set_program(&event, &program);
	event.former_tid = pid;
	tracer_emit(t, &event);
	procfs_program_free(&program);
	announce_threads(t, pid);
	return true;
}

struct rescan {
	struct tracer *t;
	unsigned found; /* threads and children seized in this pass */
};

static void
rescan_entry(pid_t pid, void *value, void *data)
{
	struct rescan *scan = data;

	(void)value;
	/* A paused child belongs to its debugger until it is taken back. */
	if (pause_holds(scan->t, pid))
		return;
	scan->found += attach_threads(scan->t, pid);
	scan->found += adopt_children(scan->t, pid);
}

/* Collects the live members' pids, which a rescan may add to. */
static void
collect_pid(pid_t pid, void *value, void *data)
{
	struct pidmap *pids = data;

	(void)value;
	pidmap_put(pids, pid, (void *)1);
}

unsigned
attach_family(struct tracer *t, const pid_t *pids, unsigned count)
{
	unsigned failures = 0, i;

	for (i = 0; i < count; i++)
		if (!attach_one(t, pids[i]))
			failures++;
	attach_rescan(t);
	return failures;
}

void
attach_rescan(struct tracer *t)
{
	unsigned pass;

	for (pass = 0; pass < RESCAN_PASSES_MAX; pass++) {
		struct pidmap members = PIDMAP_INIT;
		struct rescan scan = { t, 0 };

		family_each_live(t->family, collect_pid, &members);
		pidmap_each(&members, rescan_entry, &scan);
		pidmap_free(&members);
		if (!scan.found)
			break;
	}
}
