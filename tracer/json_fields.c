/*
 * JSON fields that the JSON Lines output and the Chrome trace share:
 * untrusted strings, argument vectors, wait statuses, signals, pauses and
 * hang reports.
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
#include "forktrace/json_fields.h"
#include "forktrace/xmalloc.h"

json_t *
json_seconds(uint64_t ns)
{
	return json_real((double)((ns + 500) / 1000) / 1e6);
}

json_t *
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

json_t *
json_untrusted_str(const char *s)
{
	return json_untrusted(s, strlen(s));
}

json_t *
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

void
json_add_status(json_t *object, int status)
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

void
json_add_signal_fields(json_t *object, const struct ft_event *event)
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

void
json_add_pause_fields(json_t *object, const struct ft_event *event)
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

json_t *
json_hex(uint64_t value)
{
	char hex[24];

	snprintf(hex, sizeof(hex), "0x%llx", (unsigned long long)value);
	return json_string(hex);
}

json_t *
json_pids(const pid_t *pids, size_t count)
{
	json_t *array = json_array();
	size_t i;

	for (i = 0; i < count; i++)
		json_array_append_new(array, json_integer(pids[i]));
	return array;
}

json_t *
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

void
json_add_hang_report(json_t *object, const struct ft_hang_report *report)
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
		json_add_status(peer, report->peer_status);
		json_object_set_new(peer, "end",
				    json_seconds(report->peer_end_ns));
		json_object_set_new(object, "peer", peer);
	}
}
