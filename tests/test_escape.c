/* Unit tests of the UTF-8 checks and the escaping of untrusted strings. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "forktrace/escape.h"
#include "forktrace/strbuf.h"

/* A byte string with its length, so that cases may hold NUL bytes. */
struct bytes_case {
	const char *bytes;
	size_t len;
	size_t expected;
};

#define BYTES(s) s, sizeof(s) - 1

static void
check_sequence_lengths(const struct bytes_case *cases, size_t count)
{
	size_t i;

	for (i = 0; i < count; i++) {
		const unsigned char *s = (const unsigned char *)cases[i].bytes;
		size_t n = utf8_sequence_length(s, cases[i].len);

		if (n != cases[i].expected)
			print_message("case %zu: first byte 0x%02x, len %zu\n",
				      i, s[0], cases[i].len);
		assert_int_equal(n, cases[i].expected);
	}
}

static void
escape_utf8_length_ascii_is_one(void **state)
{
	static const struct bytes_case cases[] = {
		{ BYTES("A"), 1 },    { BYTES("~"), 1 },  { "\0", 1, 1 },
		{ BYTES("\x7f"), 1 }, { BYTES("ab"), 1 },
	};

	(void)state;
	check_sequence_lengths(cases, sizeof(cases) / sizeof(cases[0]));
}

static void
escape_utf8_length_valid_multibyte(void **state)
{
	static const struct bytes_case cases[] = {
		{ BYTES("\xc2\x80"), 2 }, /* U+0080, the first 2-byte */
		{ BYTES("\xc3\xa9"), 2 }, /* U+00E9 */
		{ BYTES("\xdf\xbf"), 2 }, /* U+07FF, the last 2-byte */
		{ BYTES("\xe0\xa0\x80"), 3 }, /* U+0800, the first 3-byte */
		{ BYTES("\xed\x9f\xbf"), 3 }, /* U+D7FF, below surrogates */
		{ BYTES("\xee\x80\x80"), 3 }, /* U+E000, above surrogates */
		{ BYTES("\xef\xbf\xbf"), 3 }, /* U+FFFF */
		{ BYTES("\xf0\x90\x80\x80"), 4 }, /* U+10000 */
		{ BYTES("\xf0\x9f\x98\x80"), 4 }, /* U+1F600 */
		{ BYTES("\xf4\x8f\xbf\xbf"), 4 }, /* U+10FFFF, the maximum */
		{ BYTES("\xc3\xa9z"), 2 }, /* followed by more text */
	};

	(void)state;
	check_sequence_lengths(cases, sizeof(cases) / sizeof(cases[0]));
}

static void
escape_utf8_length_rejects_overlong_forms(void **state)
{
	static const struct bytes_case cases[] = {
		{ BYTES("\xc0\x80"), 0 }, /* NUL in two bytes */
		{ BYTES("\xc0\xaf"), 0 }, /* '/' in two bytes */
		{ BYTES("\xc1\xbf"), 0 },
		{ BYTES("\xe0\x80\x80"), 0 },
		{ BYTES("\xe0\x9f\xbf"), 0 }, /* U+07FF in three bytes */
		{ BYTES("\xf0\x80\x80\x80"), 0 },
		{ BYTES("\xf0\x8f\xbf\xbf"), 0 }, /* U+FFFF in four bytes */
	};

	(void)state;
	check_sequence_lengths(cases, sizeof(cases) / sizeof(cases[0]));
}

static void
escape_utf8_length_rejects_surrogates(void **state)
{
	static const struct bytes_case cases[] = {
		{ BYTES("\xed\xa0\x80"), 0 }, /* U+D800 */
		{ BYTES("\xed\xaf\xbf"), 0 }, /* U+DBFF */
		{ BYTES("\xed\xb0\x80"), 0 }, /* U+DC00 */
		{ BYTES("\xed\xbf\xbf"), 0 }, /* U+DFFF */
	};

	(void)state;
	check_sequence_lengths(cases, sizeof(cases) / sizeof(cases[0]));
}

static void
escape_utf8_length_rejects_above_max(void **state)
{
	static const struct bytes_case cases[] = {
		{ BYTES("\xf4\x90\x80\x80"), 0 }, /* U+110000 */
		{ BYTES("\xf4\xbf\xbf\xbf"), 0 },
		{ BYTES("\xf5\x80\x80\x80"), 0 },
		{ BYTES("\xf7\xbf\xbf\xbf"), 0 },
		{ BYTES("\xf8\x88\x80\x80\x80"), 0 }, /* old 5-byte form */
		{ BYTES("\xfc\x84\x80\x80\x80\x80"), 0 }, /* old 6-byte */
		{ BYTES("\xfe"), 0 },
		{ BYTES("\xff"), 0 },
	};

	(void)state;
	check_sequence_lengths(cases, sizeof(cases) / sizeof(cases[0]));
}

static void
escape_utf8_length_rejects_truncated(void **state)
{
	static const struct bytes_case cases[] = {
		/* The buffer ends inside the sequence. */
		{ "\xc3\xa9", 1, 0 },
		{ "\xe2\x82\xac", 1, 0 },
		{ "\xe2\x82\xac", 2, 0 },
		{ "\xf0\x9f\x98\x80", 3, 0 },
		/* A byte that is not a continuation cuts it short. */
		{ BYTES("\xc3\x41"), 0 },
		{ BYTES("\xe2\x28\xa1"), 0 },
		{ BYTES("\xe2\x82\x28"), 0 },
		{ BYTES("\xf0\x9f\x98\x41"), 0 },
		{ BYTES("\xc3\xc3\xa9"), 0 },
	};

	(void)state;
	check_sequence_lengths(cases, sizeof(cases) / sizeof(cases[0]));
}

static void
escape_utf8_length_rejects_lone_continuation(void **state)
{
	static const struct bytes_case cases[] = {
		{ BYTES("\x80"), 0 },	  { BYTES("\x8f"), 0 },
		{ BYTES("\xa9"), 0 },	  { BYTES("\xbf"), 0 },
		{ BYTES("\x80\x80"), 0 },
	};

	(void)state;
	check_sequence_lengths(cases, sizeof(cases) / sizeof(cases[0]));
}

static void
escape_utf8_valid_accepts_good_text(void **state)
{
	(void)state;
	assert_true(utf8_is_valid("", 0));
	assert_true(utf8_is_valid(BYTES("plain ascii")));
	assert_true(utf8_is_valid(BYTES("h\xc3\xa9llo w\xc3\xb6rld")));
	assert_true(utf8_is_valid(BYTES("\xe2\x82\xac 5")));
	assert_true(utf8_is_valid(BYTES("\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf")));
	assert_true(utf8_is_valid("a\0b", 3));
	assert_true(utf8_is_valid(BYTES("\x01\x1b[31m\x7f")));
}

static void
escape_utf8_valid_rejects_bad_text(void **state)
{
	(void)state;
	assert_false(utf8_is_valid(BYTES("abc\xff")));
	assert_false(utf8_is_valid(BYTES("\x80"
					 "abc")));
	assert_false(utf8_is_valid(BYTES("ab\xc3")));
	assert_false(utf8_is_valid(BYTES("a\xed\xa0\x80z")));
	assert_false(utf8_is_valid(BYTES("\xc0\xaf")));
	assert_false(utf8_is_valid(BYTES("\xf4\x90\x80\x80")));
	/* The length cuts a sequence that the bytes would complete. */
	assert_false(utf8_is_valid("x\xc3\xa9", 2));
}

/* Escapes len bytes of s for the terminal and checks the result. */
static void
check_terminal(const char *s, size_t len, const char *expected)
{
	struct strbuf sb = STRBUF_INIT;

	escape_for_terminal(&sb, s, len);
	assert_string_equal(strbuf_str(&sb), expected);
	assert_int_equal(sb.len, strlen(expected));
	strbuf_release(&sb);
}

static void
escape_terminal_named_escapes(void **state)
{
	(void)state;
	check_terminal(BYTES("a\nb"), "a\\nb");
	check_terminal(BYTES("a\tb"), "a\\tb");
	check_terminal(BYTES("a\rb"), "a\\rb");
	check_terminal(BYTES("a\033b"), "a\\eb");
	check_terminal(BYTES("\n\n"), "\\n\\n");
}

static void
escape_terminal_control_bytes_as_hex(void **state)
{
	unsigned c;

	(void)state;
	for (c = 0; c < 0x20; c++) {
		char in = (char)c, expected[8];

		if (c == '\n' || c == '\t' || c == '\r' || c == 0x1b)
			continue;
		snprintf(expected, sizeof(expected), "\\x%02x", c);
		check_terminal(&in, 1, expected);
	}
	check_terminal("a\0b", 3, "a\\x00b");
	check_terminal(BYTES("\a\b\v\f"), "\\x07\\x08\\x0b\\x0c");
}

static void
escape_terminal_del_as_hex(void **state)
{
	(void)state;
	check_terminal(BYTES("\x7f"), "\\x7f");
	check_terminal(BYTES("a\x7f"
			     "b"),
		       "a\\x7fb");
}

static void
escape_terminal_c1_controls_as_two_bytes(void **state)
{
	unsigned c;

	(void)state;
	for (c = 0x80; c <= 0x9f; c++) {
		char in[2] = { '\xc2', (char)c }, expected[16];

		snprintf(expected, sizeof(expected), "\\xc2\\x%02x", c);
		check_terminal(in, 2, expected);
	}
	/* U+00A0 follows the C1 range and is printable. */
	check_terminal(BYTES("\xc2\xa0"), "\xc2\xa0");
	/* CSI (U+009B) would start a terminal sequence without ESC. */
	check_terminal(BYTES("\xc2\x9b"
			     "31m"),
		       "\\xc2\\x9b31m");
}

/* Bidirectional controls would reorder the text around them on screen. */
static void
escape_terminal_bidi_controls_escaped(void **state)
{
	(void)state;
	/* U+202E RIGHT-TO-LEFT OVERRIDE */
	check_terminal(BYTES("a\xe2\x80\xae"
			     "b"),
		       "a\\xe2\\x80\\xaeb");
	/* U+2066 LEFT-TO-RIGHT ISOLATE and U+200F RIGHT-TO-LEFT MARK */
	check_terminal(BYTES("\xe2\x81\xa6\xe2\x80\x8f"),
		       "\\xe2\\x81\\xa6\\xe2\\x80\\x8f");
	/* U+061C ARABIC LETTER MARK */
	check_terminal(BYTES("\xd8\x9c"), "\\xd8\\x9c");
	/* U+2010 HYPHEN, next to them, is shown. */
	check_terminal(BYTES("\xe2\x80\x90"), "\xe2\x80\x90");
}

static void
escape_terminal_backslash_doubled(void **state)
{
	(void)state;
	check_terminal(BYTES("\\"), "\\\\");
	check_terminal(BYTES("a\\nb"), "a\\\\nb");
	check_terminal(BYTES("C:\\dir\\"), "C:\\\\dir\\\\");
}

static void
escape_terminal_invalid_bytes_keep_text(void **state)
{
	(void)state;
	check_terminal(BYTES("ok\xff\xc3\xa9\xc3"), "ok\\xff\xc3\xa9\\xc3");
	check_terminal(BYTES("\xe2\x82x"), "\\xe2\\x82x");
	check_terminal(BYTES("\xc0\xaf"), "\\xc0\\xaf");
	check_terminal(BYTES("<\xed\xa0\x80>"), "<\\xed\\xa0\\x80>");
	check_terminal(BYTES("\x80\xbf"), "\\x80\\xbf");
	check_terminal(BYTES("\xf4\x90\x80\x80!"), "\\xf4\\x90\\x80\\x80!");
	check_terminal(BYTES("\xe2\x82\xac\xff\xe2\x82\xac"),
		       "\xe2\x82\xac\\xff\xe2\x82\xac");
}

static void
escape_terminal_ansi_colour_loses_esc(void **state)
{
	static const char colour[] = "\033[31mred\033[0m";
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	escape_for_terminal(&sb, colour, sizeof(colour) - 1);
	assert_string_equal(strbuf_str(&sb), "\\e[31mred\\e[0m");
	assert_null(memchr(sb.buf, '\033', sb.len));
	strbuf_release(&sb);
}

static void
escape_terminal_printable_text_unchanged(void **state)
{
	(void)state;
	check_terminal(BYTES("hello, world ~!$'\""), "hello, world ~!$'\"");
	check_terminal(BYTES("h\xc3\xa9llo \xf0\x9f\x98\x80"),
		       "h\xc3\xa9llo \xf0\x9f\x98\x80");
	check_terminal("", 0, "");
}

static void
escape_terminal_appends_to_buffer(void **state)
{
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	strbuf_addstr(&sb, "name=");
	escape_for_terminal(&sb, BYTES("a\tb"));
	assert_string_equal(strbuf_str(&sb), "name=a\\tb");
	strbuf_release(&sb);
}

static void
check_word(const char *s, size_t len, const char *expected)
{
	struct strbuf sb = STRBUF_INIT;

	escape_word(&sb, s, len);
	assert_string_equal(strbuf_str(&sb), expected);
	strbuf_release(&sb);
}

static void
escape_word_safe_words_unchanged(void **state)
{
	static const char *const words[] = {
		"ls",  "-l",	       "--color=auto", "/usr/bin/env", "a.b_c",
		"x,y", "user@host:/p", "100%",	       "a+b",	       "^",
		"0",   "h\xc3\xa9llo", "\xe2\x82\xac"
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		check_word(words[i], strlen(words[i]), words[i]);
}

static void
escape_word_quotes_shell_metacharacters(void **state)
{
	static const char *const words[][2] = {
		{ "a b", "'a b'" },	{ "$HOME", "'$HOME'" },
		{ "a;b", "'a;b'" },	{ "a|b", "'a|b'" },
		{ "a&b", "'a&b'" },	{ "*", "'*'" },
		{ "?", "'?'" },		{ "(x)", "'(x)'" },
		{ "<in", "'<in'" },	{ ">out", "'>out'" },
		{ "`id`", "'`id`'" },	{ "\"q\"", "'\"q\"'" },
		{ "~", "'~'" },		{ "#c", "'#c'" },
		{ "!", "'!'" },		{ "{a,b}", "'{a,b}'" },
		{ "[x]", "'[x]'" },	{ " ", "' '" },
		{ "a\tb", "'a\\tb'" },	{ "a\nb", "'a\\nb'" },
		{ "a\\b", "'a\\\\b'" }, { "\033[2J", "'\\e[2J'" },
		{ "\xff", "'\\xff'" },	{ "a\xc3\xa9 b", "'a\xc3\xa9 b'" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		check_word(words[i][0], strlen(words[i][0]), words[i][1]);
}

static void
escape_word_quotes_c1_control(void **state)
{
	(void)state;
	check_word(BYTES("x\xc2\x85"), "'x\\xc2\\x85'");
	/* So is a bidirectional control. */
	check_word(BYTES("x\xe2\x80\xae"), "'x\\xe2\\x80\\xae'");
}

static void
escape_word_embedded_single_quote(void **state)
{
	(void)state;
	check_word(BYTES("it's"), "'it'\\''s'");
	check_word(BYTES("'"), "''\\'''");
	check_word(BYTES("a''b"), "'a'\\'''\\''b'");
	check_word(BYTES("it's a\n"), "'it'\\''s a\\n'");
}

static void
escape_word_empty_word_quoted(void **state)
{
	(void)state;
	check_word("", 0, "''");
}

static void
check_args(const char *args, size_t len, size_t max_width, const char *expected)
{
	struct strbuf sb = STRBUF_INIT;

	escape_args(&sb, args, len, max_width);
	assert_string_equal(strbuf_str(&sb), expected);
	strbuf_release(&sb);
}

static void
escape_args_joins_words_with_spaces(void **state)
{
	(void)state;
	check_args(BYTES("ls\0-l\0/tmp\0"), 0, "ls -l /tmp");
	check_args(BYTES("echo\0hello world\0\0"), 0, "echo 'hello world' ''");
	check_args(BYTES("sh\0-c\0echo $1\0"), 0, "sh -c 'echo $1'");
	check_args(BYTES("only\0"), 0, "only");
}

static void
escape_args_last_word_without_nul(void **state)
{
	(void)state;
	check_args(BYTES("a\0b"), 0, "a b");
}

static void
escape_args_empty_vectors(void **state)
{
	(void)state;
	check_args("", 0, 0, "");
	/* One empty argument. */
	check_args("\0", 1, 0, "''");
	check_args(BYTES("\0\0"), 0, "'' ''");
}

static void
escape_args_cut_ends_with_dots(void **state)
{
	static const char args[] = "aaaa\0bbbb\0cccc\0";

	(void)state;
	check_args(args, sizeof(args) - 1, 10, "aaaa bb...");
	check_args(args, sizeof(args) - 1, 13, "aaaa bbbb ...");
	check_args(args, sizeof(args) - 1, 4, "a...");
}

static void
escape_args_exact_fit_not_cut(void **state)
{
	static const char args[] = "aaaa\0bbbb\0cccc\0";

	(void)state;
	check_args(args, sizeof(args) - 1, 14, "aaaa bbbb cccc");
	check_args(args, sizeof(args) - 1, 15, "aaaa bbbb cccc");
}

/* The width is in terminal columns: one a letter, two a wide emoji. */
static void
escape_args_cut_keeps_utf8_whole(void **state)
{
	/* Seven 2-byte e-acute letters and three 4-byte emoji. */
	static const char acute[] = "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
				    "\xc3\xa9\xc3\xa9";
	static const char emoji[] = "\xf0\x9f\x98\x80\xf0\x9f\x98\x80"
				    "\xf0\x9f\x98\x80";

	(void)state;
	check_args(acute, sizeof(acute) - 1, 7, acute);
	check_args(acute, sizeof(acute) - 1, 6, "\xc3\xa9\xc3\xa9\xc3\xa9...");
	check_args(emoji, sizeof(emoji) - 1, 6, emoji);
	check_args(emoji, sizeof(emoji) - 1, 5, "\xf0\x9f\x98\x80...");
	/* One column before the dots has no room for a 2-column emoji. */
	check_args(emoji, sizeof(emoji) - 1, 4, "...");
}

static void
text_columns_of_characters(void **state)
{
	(void)state;
	assert_int_equal(text_columns("abc", 3), 3);
	/* e-acute: 2 bytes, 1 column. */
	assert_int_equal(text_columns("caf\xc3\xa9", 5), 4);
	/* Two CJK ideographs: 3 bytes and 2 columns each. */
	assert_int_equal(text_columns("\xe6\x97\xa5\xe6\x9c\xac", 6), 4);
	/* e and a combining acute accent: one column. */
	assert_int_equal(text_columns("e\xcc\x81", 3), 1);
	/* A byte that is not UTF-8 counts one column.  Callers measure
	 * escaped text, which has no such byte left. */
	assert_int_equal(text_columns("\xff", 1), 1);
}

static void
text_prefix_columns_whole_characters(void **state)
{
	size_t bytes = 99;

	(void)state;
	assert_int_equal(text_prefix_columns("ab\xe6\x97\xa5"
					     "c",
					     6, 3, &bytes),
			 2);
	assert_int_equal(bytes, 2);
	assert_int_equal(text_prefix_columns("ab\xe6\x97\xa5"
					     "c",
					     6, 4, &bytes),
			 4);
	assert_int_equal(bytes, 5);
	assert_int_equal(text_prefix_columns("abc", 3, 0, &bytes), 0);
	assert_int_equal(bytes, 0);
}

static void
escape_args_every_width_stays_valid(void **state)
{
	static const char args[] = "x\xc3\xa9y\0\xe2\x82\xac\xe2\x82\xac\0"
				   "\xf0\x9f\x98\x80z\0a b\xc3\xa9\0";
	struct strbuf full = STRBUF_INIT;
	size_t width;

	(void)state;
	escape_args(&full, args, sizeof(args) - 1, 0);
	for (width = 4; width < text_columns(full.buf, full.len); width++) {
		struct strbuf sb = STRBUF_INIT;

		escape_args(&sb, args, sizeof(args) - 1, width);
		if (text_columns(sb.buf, sb.len) > width ||
		    !utf8_is_valid(sb.buf, sb.len))
			print_message("width %zu: %s\n", width, sb.buf);
		assert_true(text_columns(sb.buf, sb.len) <= width);
		assert_true(utf8_is_valid(sb.buf, sb.len));
		assert_int_equal(memcmp(sb.buf + sb.len - 3, "...", 3), 0);
		/* What precedes the dots is the start of the whole line. */
		assert_int_equal(memcmp(sb.buf, full.buf, sb.len - 3), 0);
		strbuf_release(&sb);
	}
	strbuf_release(&full);
}

static void
escape_args_zero_width_no_limit(void **state)
{
	char args[2001];
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	memset(args, 'x', sizeof(args) - 1);
	args[sizeof(args) - 1] = '\0';
	escape_args(&sb, args, sizeof(args), 0);
	assert_int_equal(sb.len, 2000);
	assert_null(strstr(strbuf_str(&sb), "..."));
	strbuf_release(&sb);
}

static void
escape_args_width_counts_from_append(void **state)
{
	static const char args[] = "aaaa\0bbbb\0cccc\0";
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	strbuf_addstr(&sb, "cmd: ");
	escape_args(&sb, args, sizeof(args) - 1, 10);
	assert_string_equal(strbuf_str(&sb), "cmd: aaaa bb...");
	strbuf_release(&sb);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(escape_utf8_length_ascii_is_one),
		cmocka_unit_test(escape_utf8_length_valid_multibyte),
		cmocka_unit_test(escape_utf8_length_rejects_overlong_forms),
		cmocka_unit_test(escape_utf8_length_rejects_surrogates),
		cmocka_unit_test(escape_utf8_length_rejects_above_max),
		cmocka_unit_test(escape_utf8_length_rejects_truncated),
		cmocka_unit_test(escape_utf8_length_rejects_lone_continuation),
		cmocka_unit_test(escape_utf8_valid_accepts_good_text),
		cmocka_unit_test(escape_utf8_valid_rejects_bad_text),
		cmocka_unit_test(escape_terminal_named_escapes),
		cmocka_unit_test(escape_terminal_control_bytes_as_hex),
		cmocka_unit_test(escape_terminal_del_as_hex),
		cmocka_unit_test(escape_terminal_c1_controls_as_two_bytes),
		cmocka_unit_test(escape_terminal_bidi_controls_escaped),
		cmocka_unit_test(escape_terminal_backslash_doubled),
		cmocka_unit_test(escape_terminal_invalid_bytes_keep_text),
		cmocka_unit_test(escape_terminal_ansi_colour_loses_esc),
		cmocka_unit_test(escape_terminal_printable_text_unchanged),
		cmocka_unit_test(escape_terminal_appends_to_buffer),
		cmocka_unit_test(escape_word_safe_words_unchanged),
		cmocka_unit_test(escape_word_quotes_shell_metacharacters),
		cmocka_unit_test(escape_word_quotes_c1_control),
		cmocka_unit_test(escape_word_embedded_single_quote),
		cmocka_unit_test(escape_word_empty_word_quoted),
		cmocka_unit_test(escape_args_joins_words_with_spaces),
		cmocka_unit_test(escape_args_last_word_without_nul),
		cmocka_unit_test(escape_args_empty_vectors),
		cmocka_unit_test(escape_args_cut_ends_with_dots),
		cmocka_unit_test(escape_args_exact_fit_not_cut),
		cmocka_unit_test(escape_args_cut_keeps_utf8_whole),
		cmocka_unit_test(text_columns_of_characters),
		cmocka_unit_test(text_prefix_columns_whole_characters),
		cmocka_unit_test(escape_args_every_width_stays_valid),
		cmocka_unit_test(escape_args_zero_width_no_limit),
		cmocka_unit_test(escape_args_width_counts_from_append),
	};

	return cmocka_run_group_tests_name("escape", tests, NULL, NULL);
}
