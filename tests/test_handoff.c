/* Unit tests of the --on-pause command: splitting and substitution. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "forktrace/handoff.h"

static size_t
word_count(char **words)
{
	size_t n = 0;

	while (words[n])
		n++;
	return n;
}

static void
split_plain_words(void **state)
{
	const char *why = NULL;
	char **words =
		handoff_split_words("  tmux new-window\tgdb -p {pid} ", &why);

	(void)state;
	assert_non_null(words);
	assert_int_equal(word_count(words), 5);
	assert_string_equal(words[0], "tmux");
	assert_string_equal(words[1], "new-window");
	assert_string_equal(words[2], "gdb");
	assert_string_equal(words[3], "-p");
	assert_string_equal(words[4], "{pid}");
	handoff_free_words(words);
}

static void
split_quotes_and_backslashes(void **state)
{
	const char *why = NULL;
	char **words = handoff_split_words(
		"a 'b c' \"d \\\"e\\\" f\" g\\ h 'x'\"y\"z ''", &why);

	(void)state;
	assert_non_null(words);
	assert_int_equal(word_count(words), 6);
	assert_string_equal(words[0], "a");
	assert_string_equal(words[1], "b c");
	assert_string_equal(words[2], "d \"e\" f");
	assert_string_equal(words[3], "g h");
	assert_string_equal(words[4], "xyz");
	assert_string_equal(words[5], "");
	handoff_free_words(words);
}

static void
split_rejects_open_quote(void **state)
{
	const char *why = NULL;

	(void)state;
	assert_null(handoff_split_words("gdb 'unclosed", &why));
	assert_string_equal(why, "a single quote is not closed");
	assert_null(handoff_split_words("gdb \"unclosed", &why));
	assert_string_equal(why, "a double quote is not closed");
	assert_null(handoff_split_words("   ", &why));
	assert_string_equal(why, "the command is empty");
}

static void
substitute_inside_words(void **state)
{
	const char *why = NULL;
	char **words = handoff_split_words(
		"run --pid={pid} {ppid}:{comm} {unknown} {pid}{pid}", &why);
	char **result;

	(void)state;
	assert_non_null(words);
	result = handoff_substitute(words, 4711, 42, "worker");
	assert_int_equal(word_count(result), 5);
	assert_string_equal(result[0], "run");
	assert_string_equal(result[1], "--pid=4711");
	assert_string_equal(result[2], "42:worker");
	assert_string_equal(result[3], "{unknown}");
	assert_string_equal(result[4], "47114711");
	handoff_free_words(result);
	handoff_free_words(words);
}

static void
substitute_hostile_comm_one_word(void **state)
{
	const char *why = NULL;
	char **words = handoff_split_words("log {comm}", &why);
	char **result;

	(void)state;
	result = handoff_substitute(words, 1, 2, "a b;$(rm x)'\"\n");
	/* The name stays one word, byte for byte: nothing re-splits it. */
	assert_int_equal(word_count(result), 2);
	assert_string_equal(result[1], "a b;$(rm x)'\"\n");
	handoff_free_words(result);
	handoff_free_words(words);
}

static void
gdb_command_for_pid(void **state)
{
	char command[128];

	(void)state;
	handoff_gdb_command(4711, command, sizeof(command));
	assert_string_equal(command,
			    "gdb -p 4711 -ex 'handle SIGCONT nostop noprint'");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(split_plain_words),
		cmocka_unit_test(split_quotes_and_backslashes),
		cmocka_unit_test(split_rejects_open_quote),
		cmocka_unit_test(substitute_inside_words),
		cmocka_unit_test(substitute_hostile_comm_one_word),
		cmocka_unit_test(gdb_command_for_pid),
	};

	return cmocka_run_group_tests_name("handoff", tests, NULL, NULL);
}
