/* Unit tests of the pid-keyed hash map. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "forktrace/pidmap.h"

/* The kernel's largest pid_max (PID_MAX_LIMIT on 64-bit Linux). */
#define PID_LIMIT 4194304

#define KEY_COUNT 10000

/* Distinct non-NULL values, each the address of one byte of this array. */
static char values[2 * KEY_COUNT];

static void *
value_of(size_t i)
{
	return &values[i];
}

static bool
is_power_of_two(size_t n)
{
	return n && !(n & (n - 1));
}

static void
pidmap_empty_map_finds_nothing(void **state)
{
	struct pidmap map = PIDMAP_INIT;

	(void)state;
	assert_null(pidmap_get(&map, 1));
	assert_null(pidmap_remove(&map, 1));
	assert_int_equal(map.count, 0);
	assert_int_equal(map.capacity, 0);
	pidmap_free(&map);
}

static void
pidmap_put_get_remove_one(void **state)
{
	struct pidmap map = PIDMAP_INIT;

	(void)state;
	pidmap_put(&map, 42, value_of(1));
	assert_ptr_equal(pidmap_get(&map, 42), value_of(1));
	assert_int_equal(map.count, 1);
	assert_true(is_power_of_two(map.capacity));
	assert_null(pidmap_get(&map, 43));
	assert_null(pidmap_get(&map, 41));

	assert_ptr_equal(pidmap_remove(&map, 42), value_of(1));
	assert_null(pidmap_get(&map, 42));
	assert_int_equal(map.count, 0);
	assert_null(pidmap_remove(&map, 42));
	assert_null(pidmap_remove(&map, 7));
	assert_int_equal(map.count, 0);
	pidmap_free(&map);
}

static void
pidmap_put_replaces_value(void **state)
{
	struct pidmap map = PIDMAP_INIT;

	(void)state;
	pidmap_put(&map, 42, value_of(1));
	pidmap_put(&map, 42, value_of(2));
	assert_ptr_equal(pidmap_get(&map, 42), value_of(2));
	assert_int_equal(map.count, 1);
	assert_ptr_equal(pidmap_remove(&map, 42), value_of(2));
	assert_null(pidmap_get(&map, 42));
	pidmap_free(&map);
}

static void
pidmap_large_keys_stored(void **state)
{
	static const pid_t keys[] = {
		1, 2, 300, 32768, PID_LIMIT - 1, PID_LIMIT, 0x7fffffff
	};
	struct pidmap map = PIDMAP_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		pidmap_put(&map, keys[i], value_of(i));
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		assert_ptr_equal(pidmap_get(&map, keys[i]), value_of(i));
	assert_int_equal(map.count, sizeof(keys) / sizeof(keys[0]));
	pidmap_free(&map);
}

static void
pidmap_removal_keeps_probe_chain(void **state)
{
	/* Keys 16 apart share their probe chain in a table of 16 slots. */
	static const pid_t keys[] = { 1, 17, 33, 49 };
	struct pidmap map = PIDMAP_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < 4; i++)
		pidmap_put(&map, keys[i], value_of(i));
	assert_ptr_equal(pidmap_remove(&map, 17), value_of(1));
	/* The keys placed after the removed one are still found. */
	assert_ptr_equal(pidmap_get(&map, 1), value_of(0));
	assert_null(pidmap_get(&map, 17));
	assert_ptr_equal(pidmap_get(&map, 33), value_of(2));
	assert_ptr_equal(pidmap_get(&map, 49), value_of(3));
	/* Putting a key again that is still present replaces it. */
	pidmap_put(&map, 49, value_of(4));
	assert_ptr_equal(pidmap_get(&map, 49), value_of(4));
	assert_int_equal(map.count, 3);
	/* A removed key comes back. */
	pidmap_put(&map, 17, value_of(5));
	assert_ptr_equal(pidmap_get(&map, 17), value_of(5));
	assert_int_equal(map.count, 4);
	/* No key is stored twice, so one removal leaves it absent. */
	assert_ptr_equal(pidmap_remove(&map, 49), value_of(4));
	assert_null(pidmap_get(&map, 49));
	assert_ptr_equal(pidmap_remove(&map, 17), value_of(5));
	assert_null(pidmap_get(&map, 17));
	assert_int_equal(map.count, 2);
	pidmap_free(&map);
}

static void
pidmap_consecutive_pids_half_removed(void **state)
{
	struct pidmap map = PIDMAP_INIT;
	const pid_t base = 30000;
	size_t i;

	(void)state;
	for (i = 0; i < KEY_COUNT; i++)
		pidmap_put(&map, base + (pid_t)i, value_of(i));
	assert_int_equal(map.count, KEY_COUNT);
	assert_true(is_power_of_two(map.capacity));
	for (i = 0; i < KEY_COUNT; i++)
		assert_ptr_equal(pidmap_get(&map, base + (pid_t)i),
				 value_of(i));
	assert_null(pidmap_get(&map, base - 1));
	assert_null(pidmap_get(&map, base + KEY_COUNT));

	for (i = 0; i < KEY_COUNT; i += 2)
		assert_ptr_equal(pidmap_remove(&map, base + (pid_t)i),
				 value_of(i));
	assert_int_equal(map.count, KEY_COUNT / 2);
	for (i = 0; i < KEY_COUNT; i++) {
		void *expected = i % 2 ? value_of(i) : NULL;

		assert_ptr_equal(pidmap_get(&map, base + (pid_t)i), expected);
	}

	/* Put the removed keys back, over their tombstones. */
	for (i = 0; i < KEY_COUNT; i += 2)
		pidmap_put(&map, base + (pid_t)i, value_of(KEY_COUNT + i));
	assert_int_equal(map.count, KEY_COUNT);
	for (i = 0; i < KEY_COUNT; i++) {
		void *expected = i % 2 ? value_of(i) : value_of(KEY_COUNT + i);

		assert_ptr_equal(pidmap_get(&map, base + (pid_t)i), expected);
	}
	pidmap_free(&map);
}

/* A linear congruential generator, so that every run uses the same keys. */
static uint32_t
next_random(uint32_t *seed)
{
	*seed = *seed * 1664525u + 1013904223u;
	return *seed;
}

static void
pidmap_random_pids_half_removed(void **state)
{
	static pid_t keys[KEY_COUNT];
	struct pidmap map = PIDMAP_INIT;
	uint32_t seed = 12345;
	size_t i, n = 0;

	(void)state;
	while (n < KEY_COUNT) {
		pid_t key = (pid_t)(next_random(&seed) % PID_LIMIT) + 1;

		if (pidmap_get(&map, key))
			continue;
		keys[n] = key;
		pidmap_put(&map, key, value_of(n));
		n++;
	}
	assert_int_equal(map.count, KEY_COUNT);
	for (i = 0; i < KEY_COUNT; i++)
		assert_ptr_equal(pidmap_get(&map, keys[i]), value_of(i));

	for (i = 0; i < KEY_COUNT; i += 2)
		assert_ptr_equal(pidmap_remove(&map, keys[i]), value_of(i));
	assert_int_equal(map.count, KEY_COUNT / 2);
	for (i = 0; i < KEY_COUNT; i++) {
		void *expected = i % 2 ? value_of(i) : NULL;

		assert_ptr_equal(pidmap_get(&map, keys[i]), expected);
	}

	for (i = 0; i < KEY_COUNT; i += 2)
		pidmap_put(&map, keys[i], value_of(KEY_COUNT + i));
	assert_int_equal(map.count, KEY_COUNT);
	for (i = 0; i < KEY_COUNT; i++) {
		void *expected = i % 2 ? value_of(i) : value_of(KEY_COUNT + i);

		assert_ptr_equal(pidmap_get(&map, keys[i]), expected);
	}
	pidmap_free(&map);
}

static void
pidmap_growth_after_removals(void **state)
{
	struct pidmap map = PIDMAP_INIT;
	pid_t key;

	(void)state;
	/*
	 * A rehash after removals must keep the capacity a power of two,
	 * because hash_pid() and the probe step mask with capacity - 1.  A
	 * table of 20 slots made the put of key 103 below loop for ever.
	 */
	for (key = 1; key <= 8; key++)
		pidmap_put(&map, key, value_of((size_t)key));
	for (key = 1; key <= 3; key++)
		pidmap_remove(&map, key);
	pidmap_put(&map, 100, value_of(100));
	assert_true(is_power_of_two(map.capacity));
	for (key = 101; key <= 110; key++)
		pidmap_put(&map, key, value_of((size_t)key));
	for (key = 4; key <= 8; key++)
		assert_ptr_equal(pidmap_get(&map, key), value_of((size_t)key));
	for (key = 100; key <= 110; key++)
		assert_ptr_equal(pidmap_get(&map, key), value_of((size_t)key));
	assert_int_equal(map.count, 16);
	pidmap_free(&map);
}

static void
pidmap_sliding_window_of_pids(void **state)
{
	/* A fork loop: each new child's pid is put, the oldest removed. */
	const pid_t first = 1000, window = 5;
	struct pidmap map = PIDMAP_INIT;
	pid_t key, live;

	(void)state;
	for (key = first; key < first + 1000; key++) {
		pidmap_put(&map, key, value_of((size_t)(key - first)));
		if (key - first >= window)
			pidmap_remove(&map, key - window);
		if (!is_power_of_two(map.capacity))
			print_message("capacity %zu after key %d\n",
				      map.capacity, (int)key);
		assert_true(is_power_of_two(map.capacity));
		for (live = key; live > key - window && live >= first; live--)
			assert_ptr_equal(pidmap_get(&map, live),
					 value_of((size_t)(live - first)));
	}
	assert_int_equal(map.count, window);
	pidmap_free(&map);
}

/* The calls that pidmap_each() made, and whether the callback removes. */
struct visit_log {
	struct pidmap *map;
	unsigned visits[KEY_COUNT + 1];
	size_t total;
	bool remove_visited;
	bool value_mismatch;
};

static void
record_visit(pid_t key, void *value, void *data)
{
	struct visit_log *log = data;

	if (key < 1 || key > KEY_COUNT || value != value_of((size_t)key)) {
		log->value_mismatch = true;
		return;
	}
	log->visits[key]++;
	log->total++;
	if (log->remove_visited)
		pidmap_remove(log->map, key);
}

static void
pidmap_each_visits_live_once(void **state)
{
	static struct visit_log log;
	struct pidmap map = PIDMAP_INIT;
	pid_t key;

	(void)state;
	memset(&log, 0, sizeof(log));
	log.map = &map;
	for (key = 1; key <= 1000; key++)
		pidmap_put(&map, key, value_of((size_t)key));
	for (key = 3; key <= 1000; key += 3)
		pidmap_remove(&map, key);

	pidmap_each(&map, record_visit, &log);
	assert_false(log.value_mismatch);
	assert_int_equal(log.total, map.count);
	for (key = 1; key <= 1000; key++) {
		unsigned expected = key % 3 ? 1 : 0;

		if (log.visits[key] != expected)
			print_message("key %d visited %u times\n", (int)key,
				      log.visits[key]);
		assert_int_equal(log.visits[key], expected);
	}
	pidmap_free(&map);
}

static void
pidmap_each_removes_visited_entry(void **state)
{
	static struct visit_log log;
	struct pidmap map = PIDMAP_INIT;
	pid_t key;

	(void)state;
	memset(&log, 0, sizeof(log));
	log.map = &map;
	log.remove_visited = true;
	for (key = 1; key <= KEY_COUNT; key++)
		pidmap_put(&map, key, value_of((size_t)key));

	pidmap_each(&map, record_visit, &log);
	assert_false(log.value_mismatch);
	assert_int_equal(log.total, KEY_COUNT);
	assert_int_equal(map.count, 0);
	for (key = 1; key <= KEY_COUNT; key++) {
		assert_int_equal(log.visits[key], 1);
		assert_null(pidmap_get(&map, key));
	}
	/* The emptied map takes entries again. */
	pidmap_put(&map, 5, value_of(5));
	assert_ptr_equal(pidmap_get(&map, 5), value_of(5));
	assert_int_equal(map.count, 1);
	pidmap_free(&map);
}

static void
count_call(pid_t key, void *value, void *data)
{
	(void)key;
	(void)value;
	(*(unsigned *)data)++;
}

static void
pidmap_each_on_empty_map(void **state)
{
	struct pidmap map = PIDMAP_INIT;
	unsigned calls = 0;

	(void)state;
	pidmap_each(&map, count_call, &calls);
	assert_int_equal(calls, 0);
	pidmap_put(&map, 9, value_of(9));
	pidmap_remove(&map, 9);
	pidmap_each(&map, count_call, &calls);
	assert_int_equal(calls, 0);
	pidmap_free(&map);
}

static void
pidmap_free_allows_reuse(void **state)
{
	struct pidmap map = PIDMAP_INIT;

	(void)state;
	pidmap_put(&map, 1, value_of(1));
	pidmap_put(&map, 2, value_of(2));
	pidmap_free(&map);
	assert_null(map.slots);
	assert_int_equal(map.capacity, 0);
	assert_int_equal(map.count, 0);
	assert_int_equal(map.used, 0);
	assert_null(pidmap_get(&map, 1));

	pidmap_put(&map, 2, value_of(3));
	assert_ptr_equal(pidmap_get(&map, 2), value_of(3));
	assert_null(pidmap_get(&map, 1));
	pidmap_free(&map);
	/* A second free of an emptied map is harmless. */
	pidmap_free(&map);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pidmap_empty_map_finds_nothing),
		cmocka_unit_test(pidmap_put_get_remove_one),
		cmocka_unit_test(pidmap_put_replaces_value),
		cmocka_unit_test(pidmap_large_keys_stored),
		cmocka_unit_test(pidmap_removal_keeps_probe_chain),
		cmocka_unit_test(pidmap_consecutive_pids_half_removed),
		cmocka_unit_test(pidmap_random_pids_half_removed),
		cmocka_unit_test(pidmap_growth_after_removals),
		cmocka_unit_test(pidmap_sliding_window_of_pids),
		cmocka_unit_test(pidmap_each_visits_live_once),
		cmocka_unit_test(pidmap_each_removes_visited_entry),
		cmocka_unit_test(pidmap_each_on_empty_map),
		cmocka_unit_test(pidmap_free_allows_reuse),
	};

	return cmocka_run_group_tests_name("pidmap", tests, NULL, NULL);
}
