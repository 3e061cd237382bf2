/* Escaping of untrusted strings for the terminal. */
#include <locale.h>
#include <string.h>
#include <wchar.h>

#include "forktrace/escape.h"

/*
 * Returns the length of the valid UTF-8 sequence at s, or 0 if invalid,
 * and stores its code point in *code_point.
 */
static size_t
utf8_decode(const unsigned char *s, size_t len, unsigned long *code_point)
{
	unsigned char c = s[0];
	size_t n, i;
	unsigned long cp;

	if (c < 0x80) {
		*code_point = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (len < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates and code points past U+10FFFF. */
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	*code_point = cp;
	return n;
}

size_t
utf8_sequence_length(const unsigned char *s, size_t len)
{
	unsigned long code_point;

	return s[0] < 0x80 ? 1 : utf8_decode(s, len, &code_point);
}

bool
utf8_is_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		size_t n = utf8_sequence_length(p + i, len - i);

		if (!n)
			return false;
		i += n;
	}
	return true;
}

/*
 * Returns true for the n-byte character at s when a terminal could obey
 * it rather than show it: a C1 control (U+0080..U+009F), or a
 * bidirectional formatting character, which reorders the text around it
 * (U+061C, U+200E, U+200F, U+202A..U+202E, U+2066..U+2069).
 */
static bool
is_terminal_control(const unsigned char *s, size_t n)
{
	unsigned long cp = 0;

	if (n == 2 && s[0] == 0xc2 && s[1] >= 0x80 && s[1] <= 0x9f)
		return true;
	if (n < 2 || !utf8_decode(s, n, &cp))
		return false;
	return cp == 0x061c || cp == 0x200e || cp == 0x200f ||
	       (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

static void
add_hex_escape(struct strbuf *sb, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";
	char esc[4] = { '\\', 'x', hex[c >> 4], hex[c & 15] };

	strbuf_add(sb, esc, sizeof(esc));
}

void
escape_for_terminal(struct strbuf *sb, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		unsigned char c = p[i];
		size_t n, run = i;

		/* A run of printable ASCII other than '\\' goes out whole. */
		while (run < len && p[run] >= 0x20 && p[run] < 0x7f &&
		       p[run] != '\\')
			run++;
		if (run > i) {
			strbuf_add(sb, p + i, run - i);
			i = run;
			continue;
		}
		switch (c) {
		case '\\':
			strbuf_add(sb, "\\\\", 2);
			i++;
			continue;
		case '\n':
			strbuf_add(sb, "\\n", 2);
			i++;
			continue;
		case '\t':
			strbuf_add(sb, "\\t", 2);
			i++;
			continue;
		case '\r':
			strbuf_add(sb, "\\r", 2);
			i++;
			continue;
		case 0x1b:
			strbuf_add(sb, "\\e", 2);
			i++;
			continue;
		}
		if (c < 0x20 || c == 0x7f) {
			add_hex_escape(sb, c);
			i++;
			continue;
		}
		n = utf8_sequence_length(p + i, len - i);
		if (!n || is_terminal_control(p + i, n)) {
			/* Escape the bad byte and resume at the next one. */
			add_hex_escape(sb, c);
			i++;
			continue;
		}
		strbuf_add(sb, p + i, n);
		i += n;
	}
}

static bool
is_safe_ascii(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || (c && strchr("-_./:=+,@%^", c));
}

/*
 * Returns true when s can be shown bare: safe ASCII and printable UTF-8,
 * which escape_for_terminal() leaves unchanged.
 */
static bool
is_safe_word(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	if (!len)
		return false;
	while (i < len) {
		size_t n;

		if (p[i] < 0x80) {
			if (!is_safe_ascii(p[i]))
				return false;
			i++;
			continue;
		}
		n = utf8_sequence_length(p + i, len - i);
		if (!n || is_terminal_control(p + i, n))
			return false;
		i += n;
	}
	return true;
}

void
escape_word(struct strbuf *sb, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i, start;

	if (is_safe_word(s, len)) {
		strbuf_add(sb, s, len);
		return;
	}

	strbuf_addch(sb, '\'');
	for (start = i = 0; i < len; i++) {
		if (p[i] != '\'')
			continue;
		escape_for_terminal(sb, s + start, i - start);
		strbuf_add(sb, "'\\''", 4);
		start = i + 1;
	}
	escape_for_terminal(sb, s + start, len - start);
	strbuf_addch(sb, '\'');
}

void
escape_args(struct strbuf *sb, const char *args, size_t len, size_t max_width)
{
	size_t start = sb->len;
	size_t i = 0;
	bool first = true;

	/* The kernel's cmdline ends each argument with a NUL. */
	while (i < len) {
		const char *word = args + i;
		size_t n = strnlen(word, len - i);

		if (!first)
			strbuf_addch(sb, ' ');
		first = false;
		escape_word(sb, word, n);
		i += n + 1;

		if (max_width && text_columns(sb->buf + start,
					      sb->len - start) > max_width) {
			size_t cut;

			/* Whole characters that leave room for the dots. */
			text_prefix_columns(sb->buf + start, sb->len - start,
					    max_width > 3 ? max_width - 3 : 0,
					    &cut);
			cut += start;
			sb->len = cut;
			sb->buf[cut] = '\0';
			strbuf_addstr(sb, "...");
			return;
		}
	}
}

/*
 * Returns the byte length of the character at s, 1 for a byte that is not
 * valid UTF-8, and stores the columns it takes on a terminal in *columns.
 * Call it with the C.UTF-8 locale in use, or none (NULL) to count one
 * column a character.
 */
static size_t
next_character(const char *s, size_t len, locale_t utf8, size_t *columns)
{
	unsigned long code_point;
	size_t n = utf8_decode((const unsigned char *)s, len, &code_point);
	int width;

	*columns = 1;
	if (!n)
		return 1;
	if (utf8 && code_point >= 0x80) {
		width = wcwidth((wchar_t)code_point);
		if (width >= 0)
			*columns = (size_t)width;
	}
	return n;
}

/*
 * Returns the C.UTF-8 locale, which glibc has built in since 2.35, for
 * wcwidth(); NULL where it is missing.
 */
static locale_t
utf8_locale(void)
{
	static locale_t utf8;
	static bool tried;

	if (!tried) {
		tried = true;
		utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
	}
	return utf8;
}

size_t
text_prefix_columns(const char *s, size_t len, size_t max_columns,
		    size_t *bytes)
{
	locale_t utf8 = NULL, saved = (locale_t)0;
	size_t columns = 0, i = 0;

	while (i < len) {
		size_t width = 1, n = 1;

		/* ASCII, the common case, needs no locale. */
		if ((unsigned char)s[i] >= 0x80) {
			if (!utf8 && utf8_locale()) {
				utf8 = utf8_locale();
				saved = uselocale(utf8);
			}
			n = next_character(s + i, len - i, utf8, &width);
		}
		if (columns + width > max_columns)
			break;
		columns += width;
		i += n;
	}
	if (utf8)
		uselocale(saved);
	if (bytes)
		*bytes = i;
	return columns;
}

size_t
text_columns(const char *s, size_t len)
{
	return text_prefix_columns(s, len, (size_t)-1, NULL);
}

const char *
message_text(const char *s)
{
	static struct strbuf texts[4];
	static unsigned next;
	struct strbuf *sb = &texts[next++ % 4];

	strbuf_reset(sb);
	escape_for_terminal(sb, s, strlen(s));
	return strbuf_str(sb);
}
