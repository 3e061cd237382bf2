/* Unit tests of the family model, fed with hand-made events. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "forktrace/family.h"

#include "events.h"

#define ROOT_PID 100

/* Applies a fork, vfork or thread creation, which must be accepted. */
static void
apply_creation(struct ft_family *family, enum ft_event_kind kind, pid_t pid,
	       pid_t child, uint64_t time_ns)
{
	struct ft_event event = make_event(kind, pid, time_ns);

	event.child = child;
	assert_true(family_apply(family, &event));
}

static void
apply_exec(struct ft_family *family, pid_t pid, const char *path,
	   const char *comm, const char *args, size_t args_len,
	   uint64_t time_ns)
{
	struct ft_event event = make_event(FT_EVENT_EXEC, pid, time_ns);

	event.path = path;
	event.comm = comm;
	event.args.data = args;
	event.args.len = args_len;
	event.former_tid = pid;
	assert_true(family_apply(family, &event));
}

static bool
apply_exit(struct ft_family *family, pid_t pid, pid_t tid, int status,
	   uint64_t time_ns)
{
	struct ft_event event = make_event(FT_EVENT_EXIT, pid, time_ns);

	event.tid = tid;
	event.thread = tid != pid;
	event.status = status;
	return family_apply(family, &event);
}

static bool
apply_simple(struct ft_family *family, enum ft_event_kind kind, pid_t pid,
	     uint64_t time_ns)
{
	struct ft_event event = make_event(kind, pid, time_ns);

	if (kind == FT_EVENT_STOP || kind == FT_EVENT_SIGNAL)
		event.signo = kind == FT_EVENT_STOP ? SIGSTOP : SIGUSR1;
	return family_apply(family, &event);
}

static void
family_root_record_fields(void **state)
{
	struct ft_family *family = family_new();
	struct ft_process *root =
		family_add_root(family, ROOT_PID, FT_ORIGIN_ROOT, 5);

	(void)state;
	assert_non_null(root);
	assert_int_equal(root->pid, ROOT_PID);
	assert_int_equal(root->origin, FT_ORIGIN_ROOT);
	assert_null(root->parent);
	assert_null(root->first_child);
	assert_null(root->next_sibling);
	assert_int_equal(root->depth, 0);
	assert_int_equal(root->start_ns, 5);
	assert_false(root->ended);
	assert_false(root->detached);
	assert_false(root->stopped);
	assert_null(root->program);
	assert_null(root->programs);
	assert_null(root->threads);
	assert_ptr_equal(family_roots(family), root);
	assert_ptr_equal(family_process(family, ROOT_PID), root);
	assert_ptr_equal(family_thread_process(family, ROOT_PID), root);
	assert_int_equal(family_process_count(family), 1);
	assert_int_equal(family_thread_count(family), 0);
	assert_int_equal(family_live_process_count(family), 1);
	family_free(family);
}

static void
family_several_roots_in_order(void **state)
{
	struct ft_family *family = family_new();
	struct ft_process *first =
		family_add_root(family, 10, FT_ORIGIN_ATTACHED, 0);
	struct ft_process *second =
		family_add_root(family, 20, FT_ORIGIN_ATTACHED, 1);

	(void)state;
	assert_ptr_equal(family_roots(family), first);
	assert_ptr_equal(first->next_sibling, second);
	assert_null(second->next_sibling);
	assert_int_equal(second->origin, FT_ORIGIN_ATTACHED);
	assert_int_equal(second->depth, 0);
	assert_int_equal(family_live_process_count(family), 2);
	family_free(family);
}

static void
family_fork_creates_child(void **state)
{
	struct ft_family *family = family_new();
	struct ft_process *root =
		family_add_root(family, ROOT_PID, FT_ORIGIN_ROOT, 0);
	struct ft_process *child;

	(void)state;
	apply_creation(family, FT_EVENT_FORK, ROOT_PID, 101, 10);
	child = family_process(family, 101);
	assert_non_null(child);
	assert_int_equal(child->pid, 101);
	assert_ptr_equal(child->parent, root);
	assert_int_equal(child->ppid, ROOT_PID);
	assert_int_equal(child->depth, 1);
	assert_int_equal(child->origin, FT_ORIGIN_FORK);
	assert_int_equal(child->start_ns, 10);
	assert_false(child->ended);
	assert_ptr_equal(root->first_child, child);
	assert_ptr_equal(root->last_child, child);
	assert_null(child->next_sibling);
	assert_ptr_equal(family_thread_process(family, 101), child);
	assert_int_equal(family_process_count(family), 2);
	assert_int_equal(family_live_process_count(family), 2);
	assert_int_equal(family_thread_count(family), 0);
	family_free(family);
}

static void
family_fork_grandchild_depth(void **state)
{
	struct ft_family *family = family_new();
	struct ft_process *child, *grandchild;

	(void)state;
	family_add_root(family, ROOT_PID, FT_ORIGIN_ROOT, 0);
	apply_creation(family, FT_EVENT_FORK, ROOT_PID, 101, 1);
	apply_creation(family, FT_EVENT_FORK, 101, 102, 2);
	child = family_process(family, 101);
	grandchild = family_process(family, 102);
	assert_non_null(grandchild);
	assert_ptr_equal(grandchild->parent, child);
	assert_int_equal(grandchild->ppid, 101);
	assert_int_equal(grandchild->depth, 2);
	assert_ptr_equal(child->first_child, grandchild);
	family_free(family);
}

static void
family_fork_siblings_in_order(void **state)
{
	struct ft_family *family = family_new();
	struct ft_process *root =
		family_add_root(family, ROOT_PID, FT_ORIGIN_ROOT, 0);
	struct ft_process *first, *second, *third;

	(void)state;
	apply_creation(family, FT_EVENT_FORK, ROOT_PID, 101, 1);
	apply_creation(family, FT_EVENT_FORK, ROOT_PID, 102, 2);
	apply_creation(family, FT_EVENT_VFORK, ROOT_PID, 103, 3);
	first = family_process(family, 101);
	second = family_process(family, 102);
	third = family_process(family, 103);
	assert_ptr_equal(root->first_child, first);
	assert_ptr_equal(first->next_sibling, second);
	assert_ptr_equal(second->next_sibling, third);
	assert_null(third->next_sibling);
	assert_ptr_equal(root->last_child, third);
	assert_int_equal(third->depth, 1);
	family_free(family);
}

static void
family_fork_inherits_program(void **state)
{
	static const char args[] = "sh\0-c\0true\0";
	struct ft_family *family = family_new();
	struct ft_process *root =
		family_add_root(family, ROOT_PID, FT_ORIGIN_ROOT, 0);
	struct ft_process *child;

	(void)state;
	apply_exec(family, ROOT_PID, "/bin/sh", "sh", args, sizeof(args) - 1,
		   1);
	apply_creation(family, FT_EVENT_FORK, ROOT_PID, 101, 2);
	child = family_process(family, 101);
	assert_ptr_equal(child->program, root->program);
	assert_null(child->programs);
	assert_null(child->last_program);
	assert_string_equal(process_comm(child), "sh");
	family_free(family);
}

static void
family_vfork_sets_origin(void **state)
{
	struct ft_family *family = family_new();
	struct ft_process *child;

	(void)state;
	family_add_root(family, ROOT_PID, FT_ORIGIN_ROOT, 0);
	apply_creation(family, FT_EVENT_VFORK, ROOT_PID, 101, 7);
	child = family_process(family, 101);
	assert_non_null(child);
	assert_int_equal(child->origin, FT_ORIGIN_VFORK);
	assert_int_equal(child->ppid, ROOT_PID);
	assert_int_equal(child->depth, 1);
	assert_int_equal(child->start_ns, 7);
	family_free(family);
}

static void
family_threads_counted_and_mapped(void **state)
{
	struct ft_family *family = family_new();
	struct ft_process *root =
		family_add_root(family, ROOT_PID, FT_ORIGIN_ROOT, 0);

	(void)state;
	apply_creation(family, FT_EVENT_THREAD, ROOT_PID, 150, 3);
	apply_creation(family, FT_EVENT_THREAD, ROOT_PID, 151, 4);
	assert_int_equal(root->thread_count, 2);
	assert_int_equal(root->live_threads, 2);
	assert_int_equal(family_thread_count(family), 2);
	assert_ptr_equal(family_thread_process(family, 150), root);
	assert_ptr_equal(family_thread_process(family, 151), root);
	/* A thread is not a process of its own. */
	assert_null(family_process(family, 150));
	assert_int_equal(family_process_count(family), 1);
	assert_int_equal(family_live_process_count(family), 1);

	assert_non_null(root->threads);
	assert_int_equal(root->threads->tid, 150);
	assert_int_equal(root->threads->start_ns, 3);
	assert_false(root->threads->ended);
	assert_non_null(root->threads->next);
	assert_int_equal(root->threads->next->tid, 151);
	assert_ptr_equal(root->last_thread, root->threads->next);
	assert_null(root->threads->next->next);
	family_free(family);
}

static void
family_thread_of_child_maps_to_child(void **state)
{
	struct ft_family *family = family_new();
	struct ft_process *child;

	(void)state;
	family_add_root(family, ROOT_PID, FT_ORIGIN_ROOT, 0);
	apply_creation(family, FT_EVENT_FORK, ROOT_PID, 101, 1);
	apply_creation(family, FT_EVENT_THREAD, 101, 160, 2);
	child = family_process(family, 101);
	assert_ptr_equal(family_thread_process(family, 160), child);
	assert_int_equal(child->thread_count, 1);
	assert_int_equal(family_process(family, ROOT_PID)->thread_count, 0);
	family_free(family);
}

static void
family_thread_exit_ends_thread(void **state)
{
	struct ft_family *family = family_new();
	struct ft_process *root =
		family_add_root(family, ROOT_PID, FT_ORIGIN_ROOT, 0);
	struct ft_thread *first, *second;

	(void)state;
	apply_creation(family, FT_EVENT_THREAD, ROOT_PID, 150, 1);
	apply_creation(family, FT_EVENT_THREAD, ROOT_PID, 151, 2);
	assert_true(apply_exit(family, ROOT_PID, 150, W_EXITCODE(4, 0), 9));
	first = root->threads;
	second = first->next;
	assert_true(first->ended);
	assert_int_equal(first->status, W_EXITCODE(4, 0));
	assert_int_equal(first->end_ns, 9);
	assert_false(second->ended);
	assert_int_equal(root->live_threads, 1);
	assert_int_equal(root->thread_count, 2);
	assert_null(family_thread_process(family, 150));
	assert_ptr_equal(family_thread_process(family, 151), root);
	/* The process itself lives on. */
	assert_false(root->ended);
	assert_ptr_equal(family_process(family, ROOT_PID), root);
	/* The count covers every thread seen, ended ones included. */
	assert_int_equal(family_thread_count(family), 2);
	family_free(family);
}

static void
family_thread_exit_twice_returns_false(void **state)
{
	struct ft_family *family = family_new();

	(void)state;
	family_add_root(family, ROOT_PID, FT_ORIGIN_ROOT, 0);
	apply_creation(family, FT_EVENT_THREAD, ROOT_PID, 150, 1);
	assert_true(apply_exit(family, ROOT_PID, 150, 0, 2));
	assert_false(apply_exit(family, ROOT_PID, 150, 0, 3));
	/* A tid that never was a thread of the process. */
	assert_false(apply_exit(family, ROOT_PID, 999, 0, 4));
	assert_false(family_process(family, ROOT_PID)->ended);
	family_free(family);
}

static void
family_process_exit_ends_threads(void **state)
{
	struct ft_family *family = family_new();
	struct ft_process *root =
		family_add_root(family, ROOT_PID, FT_ORIGIN_ROOT, 0);
	const int status = W_EXITCODE(3, 0);
	struct ft_thread *thread;

	(void)state;
	apply_creation(family, FT_EVENT_THREAD, ROOT_PID, 150, 1);
	apply_creation(family, FT_EVENT_THREAD, ROOT_PID, 151, 2);
	assert_true(apply_exit(family, ROOT_PID, 151, 0, 5));
	assert_true(apply_exit(family, ROOT_PID, ROOT_PID, status, 20));

	assert_true(root->ended);
	assert_int_equal(root->status, status);
	assert_int_equal(root->end_ns, 20);
	assert_int_equal(root->live_threads, 0);
	/* 150 ended with the process, 151 keeps its own earlier end. */
	thread = root->threads;
	assert_int_equal(thread->tid, 150);
	assert_true(thread->ended);
	assert_int_equal(thread->status, status);
	assert_int_equal(thread->end_ns, 20);
	thread = thread->next;
	assert_int_equal(thread->tid, 151);
	assert_true(thread->ended);
	assert_int_equal(thread->status, 0);
	assert_int_equal(thread->end_ns, 5);

	assert_null(family_process(family, ROOT_PID));
	assert_null(family_thread_process(family, ROOT_PID));
	assert_null(family_thread_process(family, 150));
	assert_int_equal(family_live_process_count(family), 0);
	assert_int_equal(family_process_count(family), 1);
	/* The record stays reachable for the tree. */
	assert_ptr_equal(family_roots(family), root);
	family_free(family);
}

static void
family_exit_by_signal_keeps_status(void **state)
{
	struct ft_family *family = family_new();
	struct ft_process *root =
		family_add_root(family, ROOT_PID, FT_ORIGIN_ROOT, 0);
	const int status = SIGSEGV | WCOREFLAG;

	(void)state;
	assert_true(apply_exit(family, ROOT_PID, ROOT_PID, status, 8));
	assert_true(root->ended);
	assert_int_equal(root->status, status);
	assert_true(WIFSIGNALED(root->status));
	assert_int_equal(WTERMSIG(root->status), SIGSEGV);
	family_free(family);
}

static void
family_exec_copies_program(void **state)
{
	static const char args_text[] = "ls\0-l\0/tmp\0";
	struct ft_family *family = family_new();
	struct ft_process *root =
		family_add_root(family, ROOT_PID, FT_ORIGIN_ROOT, 0);
	char *path = strdup("/usr/bin/ls");
	char *comm = strdup("ls");
	char *args = malloc(sizeof(args_text) - 1);
	const struct ft_program *program;

	(void)state;
	memcpy(args, args_text, sizeof(args_text) - 1);
	apply_exec(family, ROOT_PID, path, comm, args, sizeof(args_text) - 1,
		   12);
	/* The model keeps copies: the caller's buffers may go away. */
	memset(path, 'X', strlen(path));
	memset(comm, 'X', strlen(comm));
	memset(args, 'X', sizeof(args_text) - 1);
	free(path);
	free(comm);
	free(args);

	program = root->program;
	assert_non_null(program);
	assert_ptr_equal(root->programs, program);
	assert_ptr_equal(root->last_program, program);
	assert_null(program->next);
	assert_string_equal(program->path, "/usr/bin/ls");
	assert_string_equal(program->comm, "ls");
	assert_int_equal(program->args_len, sizeof(args_text) - 1);
	assert_memory_equal(program->args, args_text, sizeof(args_text) - 1);
	assert_int_equal(program->time_ns, 12);
	assert_string_equal(process_comm(root), "ls");
	family_free(family);
}

static void
family_second_exec_appends_program(void **state)
{
	static const char sh_args[] = "sh\0";
	static const char env_args[] = "env\0";
	struct ft_family *family = family_new();
	struct ft_process *root =
		family_add_root(family, ROOT_PID, FT_ORIGIN_ROOT, 0);

	(void)state;
	apply_exec(family, ROOT_PID, "/bin/sh", "sh", sh_args,
		   sizeof(sh_args) - 1, 1);
	apply_exec(family, ROOT_PID, "/usr/bin/env", "env", env_args,
		   sizeof(env_args) - 1, 2);
	assert_string_equal(root->programs->path, "/bin/sh");
	assert_ptr_equal(root->programs->next, root->last_program);
	assert_string_equal(root->last_program->path, "/usr/bin/env");
	assert_null(root->last_program->next);
	assert_ptr_equal(root->program, root->last_program);
	assert_string_equal(process_comm(root), "env");
	family_free(family);
}

static void
family_exec_after_fork_keeps_parent(void **state)
{
	static const char sh_args[] = "sh\0";
	static const char ls_args[] = "ls\0";
	struct ft_family *family = family_new();
	struct ft_process *root =
		family_add_root(family, ROOT_PID, FT_ORIGIN_ROOT, 0);
	struct ft_process *child;

	(void)state;
	apply_exec(family, ROOT_PID, "/bin/sh", "sh", sh_args,
		   sizeof(sh_args) - 1, 1);
	apply_creation(family, FT_EVENT_FORK, ROOT_PID, 101, 2);
	apply_exec(family, 101, "/bin/ls", "ls", ls_args, sizeof(ls_args) - 1,
		   3);
	child = family_process(family, 101);
	assert_string_equal(process_comm(child), "ls");
	assert_string_equal(process_comm(root), "sh");
	assert_ptr_not_equal(child->program, root->program);
	assert_ptr_equal(child->program, child->programs);
	family_free(family);
}

static void
family_exec_without_args(void **state)
{
	struct ft_family *family = family_new();
	struct ft_process *root =
		family_add_root(family, ROOT_PID, FT_ORIGIN_ROOT, 0);

	(void)state;
	apply_exec(family, ROOT_PID, NULL, NULL, NULL, 0, 1);
	assert_non_null(root->program);
	assert_string_equal(root->program->path, "");
	assert_string_equal(root->program->comm, "");
	assert_int_equal(root->program->args_len, 0);
	/* process_comm() treats an empty name as unknown. */
	assert_string_equal(process_comm(root), "?");
	family_free(family);
}

static void
family_exec_by_thread_ends_thread(void **state)
{
	static const char args[] = "true\0";
	struct ft_family *family = family_new();
	struct ft_process *root =
		family_add_root(family, ROOT_PID, FT_ORIGIN_ROOT, 0);
	struct ft_event event = make_event(FT_EVENT_EXEC, ROOT_PID, 30);

	(void)state;
	apply_creation(family, FT_EVENT_THREAD, ROOT_PID, 150, 1);
	apply_creation(family, FT_EVENT_THREAD, ROOT_PID, 151, 2);
	event.path = "/bin/true";
	event.comm = "true";
	event.args.data = args;
	event.args.len = sizeof(args) - 1;
	/* Thread 150 called execve() and took over the leader's pid. */
	event.former_tid = 150;
	assert_true(family_apply(family, &event));

	assert_true(root->threads->ended);
	assert_int_equal(root->threads->status, 0);
	assert_int_equal(root->threads->end_ns, 30);
	assert_false(root->threads->next->ended);
	assert_int_equal(root->live_threads, 1);
	assert_null(family_thread_process(family, 150));
	assert_ptr_equal(family_thread_process(family, ROOT_PID), root);
	assert_false(root->ended);
	assert_string_equal(process_comm(root), "true");
	family_free(family);
}

static void
family_exec_by_leader_keeps_threads(void **state)
{
	static const char args[] = "true\0";
	struct ft_family *family = family_new();
	struct ft_process *root =
		family_add_root(family, ROOT_PID, FT_ORIGIN_ROOT, 0);

	(void)state;
	apply_creation(family, FT_EVENT_THREAD, ROOT_PID, 150, 1);
	apply_exec(family, ROOT_PID, "/bin/true", "true", args,
		   sizeof(args) - 1, 2);
	assert_false(root->threads->ended);
	assert_int_equal(root->live_threads, 1);
	assert_ptr_equal(family_thread_process(family, 150), root);
	family_free(family);
}

static void
family_unknown_pid_returns_false(void **state)
{
	static const enum ft_event_kind kinds[] = {
		FT_EVENT_FORK, FT_EVENT_VFORK,	  FT_EVENT_THREAD,
		FT_EVENT_EXEC, FT_EVENT_EXIT,	  FT_EVENT_SIGNAL,
		FT_EVENT_STOP, FT_EVENT_CONTINUE, FT_EVENT_DETACH,
	};
	struct ft_family *family = family_new();
	size_t i;

	(void)state;
	family_add_root(family, ROOT_PID, FT_ORIGIN_ROOT, 0);
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		struct ft_event event = make_event(kinds[i], 999, 1);

		event.child = 1000;
		event.former_tid = 999;
		if (family_apply(family, &event))
			print_message("event kind %d for pid 999 applied\n",
				      (int)kinds[i]);
		assert_false(family_apply(family, &event));
	}
	assert_null(family_process(family, 1000));
	assert_null(family_thread_process(family, 1000));
	assert_int_equal(family_process_count(family), 1);
	assert_int_equal(family_thread_count(family), 0);
	assert_int_equal(family_live_process_count(family), 1);
	family_free(family);
}

static void
family_events_after_exit_return_false(void **state)
{
	struct ft_family *family = family_new();
	struct ft_process *root =
		family_add_root(family, ROOT_PID, FT_ORIGIN_ROOT, 0);
	struct ft_event fork_event = make_event(FT_EVENT_FORK, ROOT_PID, 3);

	(void)state;
	assert_true(apply_exit(family, ROOT_PID, ROOT_PID, 0, 2));
	fork_event.child = 101;
	assert_false(family_apply(family, &fork_event));
	assert_false(apply_exit(family, ROOT_PID, ROOT_PID, 0, 4));
	assert_false(apply_simple(family, FT_EVENT_SIGNAL, ROOT_PID, 5));
	assert_false(apply_simple(family, FT_EVENT_STOP, ROOT_PID, 6));
	assert_false(apply_simple(family, FT_EVENT_DETACH, ROOT_PID, 7));
	assert_null(root->first_child);
	assert_int_equal(root->end_ns, 2);
	assert_false(root->detached);
	family_free(family);
}

static void
family_signal_changes_nothing(void **state)
{
	struct ft_family *family = family_new();
	struct ft_process *root =
		family_add_root(family, ROOT_PID, FT_ORIGIN_ROOT, 0);

	(void)state;
	assert_true(apply_simple(family, FT_EVENT_SIGNAL, ROOT_PID, 1));
	assert_false(root->ended);
	assert_false(root->stopped);
	assert_int_equal(family_live_process_count(family), 1);
	family_free(family);
}

static void
family_second_stop_returns_false(void **state)
{
	struct ft_family *family = family_new();
	struct ft_process *root =
		family_add_root(family, ROOT_PID, FT_ORIGIN_ROOT, 0);

	(void)state;
	assert_true(apply_simple(family, FT_EVENT_STOP, ROOT_PID, 1));
	assert_true(root->stopped);
	/* A second thread reports the same group stop. */
	assert_false(apply_simple(family, FT_EVENT_STOP, ROOT_PID, 2));
	assert_true(root->stopped);
	assert_true(apply_simple(family, FT_EVENT_CONTINUE, ROOT_PID, 3));
	assert_false(root->stopped);
	assert_false(apply_simple(family, FT_EVENT_CONTINUE, ROOT_PID, 4));
	/* A later stop is a new one. */
	assert_true(apply_simple(family, FT_EVENT_STOP, ROOT_PID, 5));
	assert_true(root->stopped);
	family_free(family);
}

static void
family_continue_without_stop_false(void **state)
{
	struct ft_family *family = family_new();
	struct ft_process *root =
		family_add_root(family, ROOT_PID, FT_ORIGIN_ROOT, 0);

	(void)state;
	assert_false(apply_simple(family, FT_EVENT_CONTINUE, ROOT_PID, 1));
	assert_false(root->stopped);
	family_free(family);
}

static void
family_exit_clears_stopped(void **state)
{
	struct ft_family *family = family_new();
	struct ft_process *root =
		family_add_root(family, ROOT_PID, FT_ORIGIN_ROOT, 0);

	(void)state;
	assert_true(apply_simple(family, FT_EVENT_STOP, ROOT_PID, 1));
	assert_true(apply_exit(family, ROOT_PID, ROOT_PID, SIGKILL, 2));
	assert_false(root->stopped);
	assert_true(root->ended);
	family_free(family);
}

static void
family_detach_forgets_process(void **state)
{
	struct ft_family *family = family_new();
	struct ft_process *root =
		family_add_root(family, ROOT_PID, FT_ORIGIN_ROOT, 0);
	struct ft_process *child;

	(void)state;
	apply_creation(family, FT_EVENT_FORK, ROOT_PID, 101, 1);
	apply_creation(family, FT_EVENT_THREAD, 101, 160, 2);
	assert_true(apply_simple(family, FT_EVENT_DETACH, 101, 50));
	child = root->first_child;
	assert_true(child->detached);
	assert_false(child->ended);
	assert_int_equal(child->end_ns, 50);
	assert_null(family_process(family, 101));
	assert_null(family_thread_process(family, 101));
	assert_null(family_thread_process(family, 160));
	assert_int_equal(family_live_process_count(family), 1);
	assert_int_equal(family_process_count(family), 2);
	/* The model ignores a process once forktrace has let go of it. */
	assert_false(apply_exit(family, 101, 101, 0, 60));
	assert_false(child->ended);
	family_free(family);
}

/* Returns the SIGCHLD that reports a paused child's end to its parent. */
static struct ft_event
child_end_signal(pid_t child, int status, uint64_t time_ns)
{
	struct ft_event event = make_event(FT_EVENT_SIGNAL, ROOT_PID, time_ns);

	event.signo = SIGCHLD;
	event.si_code = CLD_EXITED;
	event.has_sender = true;
	event.sender_pid = child;
	event.child_ended = true;
	event.child_status = status;
	return event;
}

static void
family_untraced_end_from_sigchld(void **state)
{
	struct ft_family *family = family_new();
	struct ft_process *root =
		family_add_root(family, ROOT_PID, FT_ORIGIN_ROOT, 0);
	struct ft_event gap = make_event(FT_EVENT_GAP, 101, 80);
	struct ft_event end = child_end_signal(101, 3 << 8, 60);
	struct ft_process *child;

	(void)state;
	apply_creation(family, FT_EVENT_FORK, ROOT_PID, 101, 1);
	apply_creation(family, FT_EVENT_FORK, ROOT_PID, 102, 2);
	assert_true(apply_simple(family, FT_EVENT_PAUSE, 101, 10));
	/* The SIGCHLD comes first, then forktrace finds the child gone. */
	assert_true(family_apply(family, &end));
	gap.gap_start_ns = 10;
	gap.gap_ended = true;
	assert_true(family_apply(family, &gap));
	child = root->first_child;
	assert_true(child->ended && child->ended_untraced && child->lost);
	assert_int_equal(child->status, 3 << 8);
	assert_int_equal(child->end_ns, 60);

	/* A traced child's end is its own exit event's, never the signal's. */
	end = child_end_signal(102, 9 << 8, 90);
	assert_true(family_apply(family, &end));
	assert_false(child->next_sibling->ended);
	family_free(family);
}

static void
family_pid_reuse_adds_second_record(void **state)
{
	struct ft_family *family = family_new();
	struct ft_process *root =
		family_add_root(family, ROOT_PID, FT_ORIGIN_ROOT, 0);
	struct ft_process *first, *second;

	(void)state;
	apply_creation(family, FT_EVENT_FORK, ROOT_PID, 101, 1);
	first = family_process(family, 101);
	assert_true(apply_exit(family, 101, 101, W_EXITCODE(1, 0), 2));
	apply_creation(family, FT_EVENT_FORK, ROOT_PID, 101, 3);
	second = family_process(family, 101);

	assert_non_null(second);
	assert_ptr_not_equal(first, second);
	assert_int_equal(family_process_count(family), 3);
	assert_int_equal(family_live_process_count(family), 2);
	/* Both records are children of the root, oldest first. */
	assert_ptr_equal(root->first_child, first);
	assert_ptr_equal(first->next_sibling, second);
	assert_ptr_equal(root->last_child, second);
	assert_true(first->ended);
	assert_int_equal(first->status, W_EXITCODE(1, 0));
	assert_false(second->ended);
	assert_int_equal(second->start_ns, 3);
	/* Events for the pid now go to the new record. */
	assert_true(apply_exit(family, 101, 101, W_EXITCODE(2, 0), 4));
	assert_int_equal(second->status, W_EXITCODE(2, 0));
	assert_int_equal(first->status, W_EXITCODE(1, 0));
	assert_int_equal(first->end_ns, 2);
	family_free(family);
}

static void
family_pid_reuse_other_parent(void **state)
{
	struct ft_family *family = family_new();
	struct ft_process *root =
		family_add_root(family, ROOT_PID, FT_ORIGIN_ROOT, 0);
	struct ft_process *first, *other, *reused;

	(void)state;
	apply_creation(family, FT_EVENT_FORK, ROOT_PID, 101, 1);
	apply_creation(family, FT_EVENT_FORK, ROOT_PID, 102, 2);
	first = family_process(family, 101);
	other = family_process(family, 102);
	assert_true(apply_exit(family, 101, 101, 0, 3));
	apply_creation(family, FT_EVENT_FORK, 102, 101, 4);
	reused = family_process(family, 101);

	assert_ptr_equal(reused->parent, other);
	assert_int_equal(reused->ppid, 102);
	assert_int_equal(reused->depth, 2);
	assert_ptr_equal(other->first_child, reused);
	assert_ptr_equal(root->first_child, first);
	assert_null(first->first_child);
	assert_int_equal(family_process_count(family), 4);
	family_free(family);
}

static void
family_pid_reuse_of_thread_tid(void **state)
{
	struct ft_family *family = family_new();
	struct ft_process *root =
		family_add_root(family, ROOT_PID, FT_ORIGIN_ROOT, 0);
	struct ft_process *child;

	(void)state;
	apply_creation(family, FT_EVENT_THREAD, ROOT_PID, 150, 1);
	assert_true(apply_exit(family, ROOT_PID, 150, 0, 2));
	apply_creation(family, FT_EVENT_FORK, ROOT_PID, 150, 3);
	child = family_process(family, 150);
	assert_non_null(child);
	assert_ptr_equal(child->parent, root);
	assert_ptr_equal(family_thread_process(family, 150), child);
	family_free(family);
}

static void
family_counts_across_lifetimes(void **state)
{
	struct ft_family *family = family_new();

	(void)state;
	family_add_root(family, ROOT_PID, FT_ORIGIN_ROOT, 0);
	apply_creation(family, FT_EVENT_FORK, ROOT_PID, 101, 1);
	apply_creation(family, FT_EVENT_FORK, ROOT_PID, 102, 2);
	apply_creation(family, FT_EVENT_THREAD, 101, 150, 3);
	apply_creation(family, FT_EVENT_THREAD, 102, 151, 4);
	apply_creation(family, FT_EVENT_THREAD, 102, 152, 5);
	assert_int_equal(family_process_count(family), 3);
	assert_int_equal(family_thread_count(family), 3);
	assert_int_equal(family_live_process_count(family), 3);

	assert_true(apply_exit(family, 101, 101, 0, 6));
	assert_true(apply_simple(family, FT_EVENT_DETACH, 102, 7));
	assert_int_equal(family_process_count(family), 3);
	assert_int_equal(family_thread_count(family), 3);
	assert_int_equal(family_live_process_count(family), 1);

	assert_true(apply_exit(family, ROOT_PID, ROOT_PID, 0, 8));
	assert_int_equal(family_live_process_count(family), 0);
	assert_int_equal(family_process_count(family), 3);
	family_free(family);
}

static void
family_comm_unknown_before_exec(void **state)
{
	struct ft_family *family = family_new();
	struct ft_process *root =
		family_add_root(family, ROOT_PID, FT_ORIGIN_ROOT, 0);

	(void)state;
	assert_string_equal(process_comm(root), "?");
	apply_creation(family, FT_EVENT_FORK, ROOT_PID, 101, 1);
	assert_string_equal(process_comm(family_process(family, 101)), "?");
	family_free(family);
}

static void
family_free_accepts_null(void **state)
{
	(void)state;
	family_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(family_root_record_fields),
		cmocka_unit_test(family_several_roots_in_order),
		cmocka_unit_test(family_fork_creates_child),
		cmocka_unit_test(family_fork_grandchild_depth),
		cmocka_unit_test(family_fork_siblings_in_order),
		cmocka_unit_test(family_fork_inherits_program),
		cmocka_unit_test(family_vfork_sets_origin),
		cmocka_unit_test(family_threads_counted_and_mapped),
		cmocka_unit_test(family_thread_of_child_maps_to_child),
		cmocka_unit_test(family_thread_exit_ends_thread),
		cmocka_unit_test(family_thread_exit_twice_returns_false),
		cmocka_unit_test(family_process_exit_ends_threads),
		cmocka_unit_test(family_exit_by_signal_keeps_status),
		cmocka_unit_test(family_exec_copies_program),
		cmocka_unit_test(family_second_exec_appends_program),
		cmocka_unit_test(family_exec_after_fork_keeps_parent),
		cmocka_unit_test(family_exec_without_args),
		cmocka_unit_test(family_exec_by_thread_ends_thread),
		cmocka_unit_test(family_exec_by_leader_keeps_threads),
		cmocka_unit_test(family_unknown_pid_returns_false),
		cmocka_unit_test(family_events_after_exit_return_false),
		cmocka_unit_test(family_signal_changes_nothing),
		cmocka_unit_test(family_second_stop_returns_false),
		cmocka_unit_test(family_continue_without_stop_false),
		cmocka_unit_test(family_exit_clears_stopped),
		cmocka_unit_test(family_detach_forgets_process),
		cmocka_unit_test(family_untraced_end_from_sigchld),
		cmocka_unit_test(family_pid_reuse_adds_second_record),
		cmocka_unit_test(family_pid_reuse_other_parent),
		cmocka_unit_test(family_pid_reuse_of_thread_tid),
		cmocka_unit_test(family_counts_across_lifetimes),
		cmocka_unit_test(family_comm_unknown_before_exec),
		cmocka_unit_test(family_free_accepts_null),
	};

	return cmocka_run_group_tests_name("family", tests, NULL, NULL);
}
