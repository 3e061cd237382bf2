/*
 * Fuzz target for tracer/escape.c.  The first two bytes set escape_args()'s
 * width; the rest is the untrusted string, in a buffer of its exact size.
 * Every result must be printable, valid UTF-8 without C1 controls, and
 * escape_args() must keep to its width.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "forktrace/escape.h"
#include "forktrace/strbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Aborts unless the bytes could not drive a terminal. */
static void
check_printable(const struct strbuf *sb)
{
	const unsigned char *p = (const unsigned char *)sb->buf;
	size_t i;

	if (!sb->len)
		return;
	if (!utf8_is_valid(sb->buf, sb->len))
		abort();
	for (i = 0; i < sb->len; i++) {
		if (p[i] < 0x20 || p[i] == 0x7f)
			abort();
		if (p[i] == 0xc2 && i + 1 < sb->len && p[i + 1] >= 0x80 &&
		    p[i + 1] <= 0x9f)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strbuf sb = STRBUF_INIT;
	size_t width, len;
	char *s;

	if (size < 2)
		return 0;
	width = (size_t)data[0] | (size_t)(data[1] & 1) << 8;
	len = size - 2;
	s = malloc(len ? len : 1);
	if (!s)
		return 0;
	memcpy(s, data + 2, len);

	utf8_is_valid(s, len);
	escape_for_terminal(&sb, s, len);
	check_printable(&sb);

	strbuf_reset(&sb);
	escape_word(&sb, s, len);
	check_printable(&sb);

	strbuf_reset(&sb);
	escape_args(&sb, s, len, width);
	check_printable(&sb);
	/* The width counts terminal columns: a character may take two. */
	if (width && text_columns(sb.buf, sb.len) > (width > 3 ? width : 3))
		abort();

	strbuf_release(&sb);
	free(s);
	return 0;
}
