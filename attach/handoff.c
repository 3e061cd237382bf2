/* Splitting --on-pause commands, running them, and watching paused children. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "forktrace/handoff.h"
#include "forktrace/procfs.h"
#include "forktrace/strbuf.h"
#include "forktrace/xmalloc.h"

extern char **environ;

void
handoff_free_words(char **words)
{
	size_t i;

	for (i = 0; words && words[i]; i++)
		free(words[i]);
	free(words);
}

static void
push_word(char ***words, size_t *count, size_t *capacity, struct strbuf *sb)
{
	if (*count + 2 > *capacity)
		*words = xgrow(*words, capacity, sizeof(**words));
	(*words)[(*count)++] = xstrdup(strbuf_str(sb));
	(*words)[*count] = NULL;
	strbuf_reset(sb);
}

char **
handoff_split_words(const char *line, const char **why)
{
	struct strbuf sb = STRBUF_INIT;
	char **words = NULL;
	size_t count = 0, capacity = 0;
	bool in_word = false;
	const char *p = line;

	while (*p) {
		if (*p == ' ' || *p == '\t' || *p == '\n') {
			if (in_word)
				push_word(&words, &count, &capacity, &sb);
			in_word = false;
			p++;
			continue;
		}
		in_word = true;
		if (*p == '\\' && p[1]) {
			strbuf_addch(&sb, p[1]);
			p += 2;
		} else if (*p == '\'' || *p == '"') {
			char quote = *p++;

			while (*p && *p != quote) {
				/* Inside double quotes, \ quotes " and \. */
				if (quote == '"' && *p == '\\' &&
				    (p[1] == '"' || p[1] == '\\'))
					p++;
				strbuf_addch(&sb, *p++);
			}
			if (!*p) {
				*why = quote == '\''
					       ? "a single quote is not closed"
					       : "a double quote is not closed";
				strbuf_release(&sb);
				handoff_free_words(words);
				return NULL;
			}
			p++;
		} else {
			strbuf_addch(&sb, *p++);
		}
	}
	if (in_word)
		push_word(&words, &count, &capacity, &sb);
	strbuf_release(&sb);
	if (!count) {
		*why = "the command is empty";
		return NULL;
	}
	return words;
}

char **
handoff_substitute(char *const *words, pid_t pid, pid_t ppid, const char *comm)
{
	char pid_text[16], ppid_text[16];
	size_t count = 0, i;
	char **result;

	snprintf(pid_text, sizeof(pid_text), "%d", (int)pid);
	snprintf(ppid_text, sizeof(ppid_text), "%d", (int)ppid);
	while (words[count])
		count++;
	result = xcalloc(count + 1, sizeof(*result));

	for (i = 0; i < count; i++) {
		struct strbuf sb = STRBUF_INIT;
		const char *p = words[i];

		while (*p) {
			if (!strncmp(p, "{pid}", 5)) {
				strbuf_addstr(&sb, pid_text);
				p += 5;
			} else if (!strncmp(p, "{ppid}", 6)) {
				strbuf_addstr(&sb, ppid_text);
				p += 6;
			} else if (!strncmp(p, "{comm}", 6)) {
				strbuf_addstr(&sb, comm);
				p += 6;
			} else {
				strbuf_addch(&sb, *p++);
			}
		}
		result[i] = xstrdup(strbuf_str(&sb));
		strbuf_release(&sb);
	}
	return result;
}

pid_t
handoff_spawn(char *const *argv)
{
	posix_spawn_file_actions_t actions;
	posix_spawnattr_t attr;
	sigset_t none;
	pid_t pid;
	int err;

	posix_spawn_file_actions_init(&actions);
	posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null",
					 O_RDONLY, 0);
	/* The command starts with no signal blocked, whatever forktrace blocks.
	 */
	posix_spawnattr_init(&attr);
	sigemptyset(&none);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
	err = posix_spawnp(&pid, argv[0], &actions, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&actions);
	posix_spawnattr_destroy(&attr);
	if (err) {
		errno = err;
		return -1;
	}
	return pid;
}

void
handoff_gdb_command(pid_t pid, char *buf, size_t size)
{
	snprintf(buf, size, "gdb -p %d -ex 'handle SIGCONT nostop noprint'",
		 (int)pid);
}

int
handoff_read_state(pid_t pid, struct handoff_state *state)
{
	char path[64], *text, *line;
	size_t len;
	long tracer = 0;
	int err;

	memset(state, 0, sizeof(*state));
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	err = procfs_read_file(path, &text, &len);
	if (err == -ENOENT || err == -ESRCH) {
		state->gone = true;
		return 0;
	}
	if (err)
		return err;

	line = strstr(text, "\nState:\t");
	state->stopped = line && line[8] == 'T';
	/* A zombie has ended, even if it is not reaped yet. */
	if (line && (line[8] == 'Z' || line[8] == 'X'))
		state->gone = true;
	if (procfs_status_field(text, len, "TracerPid", &tracer) &&
	    tracer > 0) {
		state->tracer = (pid_t)tracer;
		procfs_read_comm(state->tracer, state->tracer_comm);
	}
	free(text);
	return 0;
}
