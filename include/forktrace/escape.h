/*
 * Escaping of strings that come from the traced programs (argv, names,
 * paths).  They are untrusted: on a terminal they could move the cursor or
 * change colours, and they need not be valid UTF-8.
 */
#ifndef FORKTRACE_ESCAPE_H
#define FORKTRACE_ESCAPE_H

#include <stdbool.h>
#include <stddef.h>

#include "forktrace/strbuf.h"

/* Returns the length of the valid UTF-8 sequence at s, or 0 if invalid. */
size_t utf8_sequence_length(const unsigned char *s, size_t len);

bool utf8_is_valid(const char *s, size_t len);

/*
 * Appends s to sb with every control character, C1 control,
 * bidirectional formatting character and invalid UTF-8 byte replaced by
 * C-style escapes (\n, \t, \e, \xHH) and every backslash doubled.  The
 * result is printable and can neither drive a terminal nor reorder the
 * text around it.
 */
void escape_for_terminal(struct strbuf *sb, const char *s, size_t len);

/*
 * Appends s as one shell word: unchanged when it contains only safe
 * characters, otherwise in single quotes, with its bytes escaped for the
 * terminal.  An empty word becomes ''.
 */
void escape_word(struct strbuf *sb, const char *s, size_t len);

/*
 * Appends a NUL-separated argument vector as shell words, joined by spaces,
 * stopping near max_width columns with "..." (0 for no limit).
 */
void escape_args(struct strbuf *sb, const char *args, size_t len,
		 size_t max_width);

/*
 * Returns the columns that a terminal gives text written by the functions
 * above: one a character, two for a wide one (as in CJK scripts), none
 * for a combining mark.
 */
size_t text_columns(const char *s, size_t len);

/*
 * Returns the columns of the longest run of whole characters at the start
 * of s that fits in max_columns, and stores its length in *bytes.
 */
size_t text_prefix_columns(const char *s, size_t len, size_t max_columns,
			   size_t *bytes);

/*
 * Returns s escaped for the terminal, for forktrace's own messages: a
 * program name or a path may hold bytes that drive a terminal.  The text
 * stays valid until the fourth call after this one.
 */
const char *message_text(const char *s);

#endif
