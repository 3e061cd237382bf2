/* A pid-keyed hash map with open addressing and linear probing. */
#include <stdint.h>
#include <stdlib.h>

#include "forktrace/pidmap.h"
#include "forktrace/xmalloc.h"

#define SLOT_EMPTY   0
#define SLOT_DELETED (-1)

static size_t
hash_pid(pid_t key, size_t capacity)
{
	/* Fibonacci hashing spreads the consecutive pids of a fork loop. */
	uint32_t h = (uint32_t)key * 2654435769u;

	return (size_t)h & (capacity - 1);
}

static struct pidmap_slot *
find_slot(const struct pidmap *map, pid_t key)
{
	size_t i;

	if (!map->capacity)
		return NULL;
	for (i = hash_pid(key, map->capacity);;
	     i = (i + 1) & (map->capacity - 1)) {
		struct pidmap_slot *slot = &map->slots[i];

		if (slot->key == key)
			return slot;
		if (slot->key == SLOT_EMPTY)
			return NULL;
	}
}

/* Returns a power of two with room for count entries at a quarter full. */
static size_t
capacity_for(size_t count)
{
	size_t capacity = 16;

	while (capacity < count * 4)
		capacity *= 2;
	return capacity;
}

static void
rehash(struct pidmap *map, size_t capacity)
{
	struct pidmap_slot *old = map->slots;
	size_t old_capacity = map->capacity;
	size_t i;

	map->slots = xcalloc(capacity, sizeof(*map->slots));
	map->capacity = capacity;
	map->count = 0;
	map->used = 0;
	for (i = 0; i < old_capacity; i++)
		if (old[i].key > 0)
			pidmap_put(map, old[i].key, old[i].value);
	free(old);
}

void *
pidmap_get(const struct pidmap *map, pid_t key)
{
	struct pidmap_slot *slot = find_slot(map, key);

	return slot ? slot->value : NULL;
}

void
pidmap_put(struct pidmap *map, pid_t key, void *value)
{
	struct pidmap_slot *slot = find_slot(map, key);
	size_t i;

	if (slot) {
		slot->value = value;
		return;
	}

	/* Keep at most half the slots in use, tombstones included. */
	if ((map->used + 1) * 2 > map->capacity)
		rehash(map, capacity_for(map->count + 1));

	for (i = hash_pid(key, map->capacity); map->slots[i].key > 0;
	     i = (i + 1) & (map->capacity - 1))
		;
	if (map->slots[i].key == SLOT_EMPTY)
		map->used++;
	map->slots[i].key = key;
	map->slots[i].value = value;
	map->count++;
}

void *
pidmap_remove(struct pidmap *map, pid_t key)
{
	struct pidmap_slot *slot = find_slot(map, key);
	void *value;

	if (!slot)
		return NULL;
	value = slot->value;
	slot->key = SLOT_DELETED;
	slot->value = NULL;
	map->count--;
	return value;
}

void
pidmap_free(struct pidmap *map)
{
	free(map->slots);
	map->slots = NULL;
	map->capacity = 0;
	map->count = 0;
	map->used = 0;
}

void
pidmap_each(struct pidmap *map, void (*fn)(pid_t, void *, void *), void *data)
{
	size_t i;

	for (i = 0; i < map->capacity; i++)
		if (map->slots[i].key > 0)
			fn(map->slots[i].key, map->slots[i].value, data);
}
