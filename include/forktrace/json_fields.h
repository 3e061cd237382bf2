/*
 * JSON fields that the JSON Lines output and the Chrome trace share, built
 * with jansson.  Every string from the traced family goes through
 * json_untrusted(), so that no byte is lost and jansson never rejects it.
 */
#ifndef FORKTRACE_JSON_FIELDS_H
#define FORKTRACE_JSON_FIELDS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "forktrace/event.h"
#include "forktrace/hang.h"

/* Returns seconds since the start, rounded to the microsecond. */
json_t *json_seconds(uint64_t ns);

/*
 * Encodes a string from the traced family without loss: a JSON string when
 * it is valid UTF-8, otherwise {"hex": "..."} with every byte in hex.
 */
json_t *json_untrusted(const char *s, size_t len);
json_t *json_untrusted_str(const char *s);

/* Returns a NUL-separated argument vector as an array of strings. */
json_t *json_args(const char *args, size_t len);

/* Returns "0x..." for a number. */
json_t *json_hex(uint64_t value);
json_t *json_pids(const pid_t *pids, size_t count);

/* Adds exit_code, or signal and core_dumped, for a wait status. */
void json_add_status(json_t *object, int status);

/* Adds signal, signo, code, sender, sender_uid and addr of a signal event. */
void json_add_signal_fields(json_t *object, const struct ft_event *event);

/* Adds at, note, attach_command and resume_command of a pause event. */
void json_add_pause_fields(json_t *object, const struct ft_event *event);

/* Returns what the report's thread waits on, as an object. */
json_t *json_wait(const struct ft_hang_report *report);

/*
 * Adds the fields of a hang report, all but its threads: deadlock, cause,
 * message, blocked_for, thread, waits_on, evidence, related, owner, peer.
 */
void json_add_hang_report(json_t *object, const struct ft_hang_report *report);

#endif
